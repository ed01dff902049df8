"""Write the hostile profile files of issue 11 into a directory (small, made in about a second).

Each file targets one failure seen in the field: stacks deep enough to expose
quadratic work, decompression bombs, names that carry terminal escapes,
absurd numbers, a bit flip in a recording's first frame, damaged gzip, a
sparse multi-gigabyte recording. `MANIFEST` says what every command should
do with each file:

- ``open``: exit 0 within the time bound, nothing lost;
- ``warn``: exit 0 with one ``warning:`` line (the loader kept what it could);
- ``refuse``: exit 2 with one clean line on stderr.

The suite runs every command over them (tests/core/test_hostile_files.py);
`tools/hostile_table.py` prints the tried / clean / traceback / hang table.
Usage: ``python tools/make_hostile.py DIR``.
"""

from __future__ import annotations

import gzip
import json
import marshal
import struct
import sys
import zlib
from pathlib import Path

DEEP = 100_000  # a stack this deep must open in <= 5 s
THREADS = 32_000
BOMB_BYTES = (1 << 30) + (64 << 20)  # just past the 1 GiB expansion bound
EVIL = "evil\x1b]0;pwned\x07\x1b[2J\r\n\x00|forged row"  # retitle, clear screen, forge a line

# name -> what the commands should do; see the module docstring
MANIFEST: dict[str, str] = {
    "deep_evented.speedscope.json": "open",
    "deep_sampled.speedscope.json": "open",
    "deep_nested.trace.json.gz": "open",
    "deep_begin_end.trace.json": "open",
    "deep.collapsed": "open",
    "deep.pyro": "open",
    "threads32k.pyro": "open",
    "bomb.json.gz": "refuse",
    "bomb.collapsed.gz": "refuse",
    "bomb.callgrind.gz": "refuse",
    "sparse2g.pyro": "warn",
    "escapes.speedscope.json": "open",
    "escapes.collapsed": "open",
    "escapes.callgrind": "open",
    "escapes.prof": "open",
    "escapes.pyro": "open",
    "overflow.callgrind": "refuse",
    "absurd.pyro": "warn",
    "bitflip_first_frame.pyro": "warn",
    "garbage_gzip.json.gz": "refuse",
    "truncated_gzip.json.gz": "refuse",
    "header_only_gzip.collapsed.gz": "refuse",
}

# what the one line of a refusal must say (besides the file's name)
REASONS: dict[str, str] = {
    "bomb.json.gz": "expands beyond",
    "bomb.collapsed.gz": "expands beyond",
    "bomb.callgrind.gz": "expands beyond",
    "garbage_gzip.json.gz": "gzip",
    "truncated_gzip.json.gz": "gzip",
    "header_only_gzip.collapsed.gz": "gzip",
}

# --- the .pyro stream, written here so the script does not depend on the code under test
_FILE_HEADER = struct.pack("<8sHHI", b"PYROMETR", 1, 16, 0)
META, FRAMES, STACKS, THREADS_KIND, SAMPLES, LAG, END = 1, 2, 3, 4, 5, 6, 13


def _frame(kind: int, payload: bytes) -> bytes:
    crc = zlib.crc32(payload, zlib.crc32(struct.pack("<HH", kind, 0))) & 0xFFFFFFFF
    return struct.pack("<IHHI", len(payload), kind, 0, crc) + payload


def _json_frame(kind: int, obj: object) -> bytes:
    return _frame(kind, json.dumps(obj, separators=(",", ":")).encode())


def _stacks(parents: list[int], frames: list[int]) -> bytes:
    n = len(parents)
    return _frame(STACKS, struct.pack(f"<II{n}i{n}i", n, 0, *parents, *frames))


def _samples(rows: list[tuple[float, int, int, float]]) -> bytes:
    n = len(rows)
    times = [r[0] for r in rows]
    threads = [r[1] for r in rows]
    stacks = [r[2] for r in rows]
    weights = [r[3] for r in rows]
    return _frame(
        SAMPLES,
        struct.pack(f"<II{n}d{n}i{n}i{n}i{n}f{n}f", n, 0, *times, *threads, *stacks, *([-1] * n), *weights, *([-1.0] * n)),
    )


def _recording(funcs: list[str], parents: list[int], frames: list[int], samples: list[tuple[float, int, int, float]],
               threads: list[list[object]] | None = None, extra: bytes = b"") -> bytes:
    meta = {"pid": 1, "argv": ["hostile.py"], "start_wall": 0.0, "interval": 0.01, "unit": "seconds"}
    rows = [[i, "hostile.py", i + 1, name, i + 1] for i, name in enumerate(funcs)]
    return b"".join(
        [
            _FILE_HEADER,
            _json_frame(META, meta),
            _json_frame(FRAMES, rows),
            _json_frame(THREADS_KIND, threads if threads is not None else [[0, "MainThread", 100]]),
            _stacks(parents, frames),
            _samples(samples),
            extra,
            _json_frame(END, {"t": 1.0, "exit_status": 0, "reason": "exit"}),
        ]
    )


def _bomb(first: bytes, filler: bytes, total: int) -> bytes:
    """Concatenated gzip members (valid gzip) that expand to `total` bytes: ~1 KB per MB."""
    chunk = filler * ((1 << 20) // len(filler))
    member = gzip.compress(chunk, 9)
    return gzip.compress(first) + member * (total // len(chunk) + 1)


def build(out: Path, only: list[str] | None = None, deep: int = DEEP) -> dict[str, Path]:
    """Write every hostile file (or those named in `only`) into `out`; returns name -> path.

    `deep` is the depth of the deep stacks (the suite uses less than DEEP to stay quick).
    """
    DEEP = deep  # the module constant, overridden for this build
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    chain = list(range(-1, DEEP - 1))

    evented = {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": [{"name": f"f{i % 7}"} for i in range(7)]},
        "profiles": [{
            "type": "evented", "name": "deep", "unit": "milliseconds", "startValue": 0, "endValue": 2 * DEEP,
            "events": [{"type": "O", "at": i, "frame": i % 7} for i in range(DEEP)]
            + [{"type": "C", "at": DEEP + i, "frame": (DEEP - 1 - i) % 7} for i in range(DEEP)],
        }],
    }
    files["deep_evented.speedscope.json"] = json.dumps(evented, separators=(",", ":")).encode()
    sampled = {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": [{"name": f"g{i}"} for i in range(10)]},
        "profiles": [{
            "type": "sampled", "name": "deep", "unit": "milliseconds", "startValue": 0, "endValue": 2,
            "samples": [[i % 10 for i in range(DEEP)], [0, 1, 2]], "weights": [1, 1],
        }],
    }
    sampled["profiles"][0]["samples"] = [[i % 10 for i in range(DEEP)], [0, 1, 2]]  # type: ignore[index]
    files["deep_sampled.speedscope.json"] = json.dumps(sampled, separators=(",", ":")).encode()
    nested = [{"ph": "X", "name": f"n{i % 5}", "pid": 1, "tid": 1, "ts": i, "dur": 2 * (DEEP - i)} for i in range(DEEP)]
    files["deep_nested.trace.json.gz"] = gzip.compress(json.dumps({"traceEvents": nested}, separators=(",", ":")).encode())
    be = [{"ph": "B", "name": f"b{i % 3}", "pid": 1, "tid": 1, "ts": i} for i in range(DEEP)]
    be += [{"ph": "E", "pid": 1, "tid": 1, "ts": DEEP + i} for i in range(DEEP)]
    files["deep_begin_end.trace.json"] = json.dumps(be, separators=(",", ":")).encode()
    files["deep.collapsed"] = (";".join(f"c{i % 4}" for i in range(DEEP)) + " 5\nmain;other 3\n").encode()
    files["deep.pyro"] = _recording(
        [f"r{i}" for i in range(8)], chain, [i % 8 for i in range(DEEP)],
        [(0.01 * k, 0, DEEP - 1 - (k % 3), 0.01) for k in range(30)],
    )
    files["threads32k.pyro"] = _recording(
        ["main", "work"], [-1, 0], [0, 1], [(0.001 * k, k, 1, 0.01) for k in range(THREADS)],
        threads=[[k, f"worker-{k}", 1000 + k] for k in range(THREADS)],
    )

    files["bomb.json.gz"] = _bomb(b'{"traceEvents":[', b" ", BOMB_BYTES)
    files["bomb.collapsed.gz"] = _bomb(b"main;f 1\n", b"main;f 1\n", BOMB_BYTES)
    files["bomb.callgrind.gz"] = _bomb(b"# callgrind format\nevents: Ir\nfn=main\n", b"\n", BOMB_BYTES)

    good = _recording(["main", "work"], [-1, 0], [0, 1], [(0.01 * k, 0, k % 2, 0.01) for k in range(50)])
    files["sparse2g.pyro"] = good[:-40]  # a valid start, then a hole (made sparse below)

    files["escapes.speedscope.json"] = json.dumps({
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": [{"name": "main", "file": "ok.py"}, {"name": EVIL, "file": "x\x1b[31m.py", "line": 3}]},
        "profiles": [{"type": "sampled", "name": EVIL, "unit": "milliseconds", "startValue": 0, "endValue": 3,
                      "samples": [[0, 1], [0]], "weights": [2, 1]}],
    }).encode()
    files["escapes.collapsed"] = ("main;" + EVIL.replace("\n", "").replace("\r", "") + " 7\nmain 2\n").encode()
    files["escapes.callgrind"] = (
        "# callgrind format\nevents: Ir\nfl=\x1b]0;t\x07a.py\nfn=" + EVIL.replace("\n", "") + "\n1 100\n"
        "fn=main\n2 5\ncfn=" + EVIL.replace("\n", "") + "\ncalls=1 1\n2 100\n"
    ).encode()
    stats = {
        ("a.py", 1, "main"): (1, 1, 0.1, 0.5, {}),
        ("b\x1b[2J.py", 2, EVIL): (3, 3, 0.4, 0.4, {("a.py", 1, "main"): (3, 3, 0.4, 0.4)}),
    }
    files["escapes.prof"] = marshal.dumps(stats)
    files["escapes.pyro"] = _recording(
        ["main", EVIL], [-1, 0], [0, 1], [(0.01 * k, 0, k % 2, 0.01) for k in range(20)],
        threads=[[0, "Main\x1b[2JThread\r", 7]],
    )

    files["overflow.callgrind"] = ("# callgrind format\nevents: " + "9" * 400 + "ns\nfn=main\n1 5\n").encode()
    absurd = [(0.01, 0, 1, 0.01), (1e300, 0, 1, float("nan")), (float("inf"), 0, 1, 1e30), (0.02, 0, 1, -5.0)]
    lag = _frame(LAG, struct.pack("<II2d2i2f", 2, 0, 0.5, float("nan"), 0, 0, float("nan"), 1e30))
    files["absurd.pyro"] = _recording(["main", "work"], [-1, 0], [0, 1], absurd, extra=lag)

    flipped = bytearray(_recording(["main", "work"], [-1, 0], [0, 1], [(0.01 * k, 0, k % 2, 0.01) for k in range(197)]))
    flipped[16 + 12 + 5] ^= 0x04  # one bit inside META's payload: its CRC fails
    files["bitflip_first_frame.pyro"] = bytes(flipped)

    files["garbage_gzip.json.gz"] = b"\x1f\x8b" + bytes(range(7, 250))
    whole = gzip.compress(json.dumps({"traceEvents": nested[:2000]}).encode())
    files["truncated_gzip.json.gz"] = whole[: len(whole) // 2]
    files["header_only_gzip.collapsed.gz"] = gzip.compress(b"main;f 1\n" * 100)[:10]

    assert set(files) == set(MANIFEST), set(files) ^ set(MANIFEST)
    paths = {}
    for name, data in files.items():
        if only is not None and name not in only:
            continue
        path = out / name
        path.write_bytes(data)
        paths[name] = path
    if "sparse2g.pyro" in paths:
        with open(paths["sparse2g.pyro"], "r+b") as fh:
            fh.truncate(2 << 30)  # 2 GiB, all of it a hole after the valid start
    return paths


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_hostile.py DIR")
    for name, path in build(Path(sys.argv[1])).items():
        print(f"{MANIFEST[name]:7} {path.stat().st_size:>12} {path}")
