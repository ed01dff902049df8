"""What closing a recording with its index costs (issue 15): kept while writing vs read back at close.

Replays an existing `.pyro` (its frames before any index) through a real
`RecordingWriter` in writes of whole frames of about `--write-kb` each, as
the collector writes what one socket read brought, then times
`close(index=True)`:

  live    the writer keeps the index while it writes (`index=True`, what
          `pyrometer record` and the window do now): close appends it
  reread  a writer without it (what they did before): close reads the file back

and reports the time of the writes, of the close, the peak RSS of the
process (ru_maxrss) and whether the INDEX frame appended equals the one
`recording_index.index_frame` builds by reading the written file.

The window no longer pays this close on its GUI thread (issue 15): when the
stream ends, `Collector.close(background=True)` runs it on a worker with its
progress in the session bar, the file already whole and named; quitting
meanwhile abandons the index (the first open builds it). Its writer also
takes the lag probes and tasks from the live model at the end instead of
holding copies; this benchmark's writer has no model, so it keeps its own,
as `pyrometer record` does. At 30M samples the close took 3.5-3.8 s (2-5 s
under load); benchmarks/bench_live_session.py times it as the window runs it.

    .venv/bin/python benchmarks/bench_close_index.py /work/scale-data/scale-10M-f300-v2.pyro --mode live
    .venv/bin/python benchmarks/bench_close_index.py FILE --mode reread --out /tmp/copy.pyro
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from pyrometer.core.agent import wire
from pyrometer.core.capture.writer import RecordingWriter


def frame_groups(path: Path, write_bytes: int) -> Iterator[bytes]:
    """The file's frames after its header and before an INDEX frame, in runs of about `write_bytes`."""
    with open(path, "rb") as fh:
        if wire.parse_file_header(fh.read(wire.FILE_HEADER_SIZE)) is None:
            raise SystemExit(f"{path}: not a recording")
        buf = b""
        while True:
            more = fh.read(max(write_bytes, 1 << 20))
            buf += more
            pos = 0
            cut = 0
            while pos + wire.FRAME_HEADER_SIZE <= len(buf):
                length, kind = wire.FRAME_HEADER.unpack_from(buf, pos)[:2]
                if kind == wire.INDEX:
                    if pos > cut:
                        yield buf[cut:pos]
                    return
                end = pos + wire.FRAME_HEADER_SIZE + length
                if end > len(buf):
                    break
                pos = end
                if pos - cut >= write_bytes:
                    yield buf[cut:pos]
                    cut = pos
            if cut:
                buf = buf[cut:]
            if not more:
                if buf:
                    yield buf
                return


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", type=Path)
    ap.add_argument("--mode", choices=("live", "reread"), default="live")
    ap.add_argument("--out", type=Path, default=None, help="where to write (default: a file in $TMPDIR, removed)")
    ap.add_argument("--write-kb", type=int, default=256)
    ap.add_argument("--check", action="store_true", help="compare the appended index with one built by reading")
    args = ap.parse_args()
    out = args.out or Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-close-{os.getpid()}.pyro"
    try:
        started = time.perf_counter()
        writer = RecordingWriter(out, index=args.mode == "live")
        for data in frame_groups(args.source, args.write_kb << 10):
            writer.write_raw(data)
        size = writer.bytes_written
        wrote = time.perf_counter() - started
        t0 = time.perf_counter()
        writer.close(index=True)
        closed = time.perf_counter() - t0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        total = out.stat().st_size
        print(f"{args.mode}: {size / 1e6:.0f} MB written in {wrote:.2f} s, close(index=True) {closed:.2f} s, "
              f"index frame {(total - size) / 1e3:.0f} kB, peak RSS {rss:.0f} MiB ({rss * 2**20 / size:.2f}x the file)")
        if args.check:
            from pyrometer.core.formats.recording_index import index_frame

            with open(out, "rb") as fh:
                fh.seek(size)
                appended = fh.read()
            with open(out, "r+b") as fh:
                fh.truncate(size)  # as the writer saw it before its close
                built = index_frame(out, fh, size)
            same = built is not None and appended == built
            print(f"index appended == index built by reading the file: {same}")
            if not same:
                return 1
    finally:
        if args.out is None:
            out.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
