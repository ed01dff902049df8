"""Append-only, crash-safe writer of `.pyro` recordings (no numpy: the recorder stays light)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from pyrometer.core.agent import wire

TYPE_CHECKING = False  # typing is not imported on `pyrometer record`'s start-up path
if TYPE_CHECKING:
    from typing import Any, BinaryIO

FLUSH_INTERVAL_S = 0.25


class RecordingWriter:
    """Append frames to a recording.

    Live writers are unbuffered: every received batch reaches the OS at once,
    so a concurrent reader (or a crash of this process) loses nothing that was
    written. That costs one write call per agent batch (at most ~20/s). Bulk
    writers (saving an imported profile) pass `live=False` to buffer.
    """

    def __init__(self, path: str | os.PathLike[str], write_header: bool = True, live: bool = True) -> None:
        self.path = Path(path)
        # read and write: closing with an index reads the frames back through this handle
        self._fh: BinaryIO | None = open(self.path, "w+b", buffering=0 if live else 1 << 20)
        self._live = live
        self._last_flush = time.monotonic()
        self._dirty = False
        self.bytes_written = 0
        if write_header:
            self.write_raw(wire.file_header())
            self.flush()

    def write_raw(self, data: bytes) -> None:
        """Write already-framed bytes (the agent's stream, verbatim)."""
        if self._fh is None:
            raise ValueError("recording is closed")
        if self._live:
            self._write_whole(data)
        else:
            self._fh.write(data)
        self.bytes_written += len(data)
        self._dirty = True
        if time.monotonic() - self._last_flush >= FLUSH_INTERVAL_S:
            self.flush()

    def _write_whole(self, data: bytes) -> None:
        """Unbuffered writes may be short (a full disk); on failure cut the file back to its
        last whole frame, so what it holds is exactly what `bytes_written` counts."""
        assert self._fh is not None
        view = memoryview(data)
        done = 0
        try:
            while done < len(view):
                n = self._fh.write(view[done:])
                if not n:
                    raise OSError(28, os.strerror(28))  # ENOSPC: nothing could be written
                done += n
        except OSError:
            if done:
                try:
                    os.ftruncate(self._fh.fileno(), self.bytes_written)
                    self._fh.seek(self.bytes_written)
                except OSError:
                    pass
            raise

    def write(self, kind: int, payload: bytes) -> None:
        self.write_raw(wire.frame(kind, payload))

    def write_json(self, kind: int, obj: Any) -> None:
        self.write_raw(wire.json_frame(kind, obj))

    def flush(self) -> None:
        """Push buffered bytes to the OS so a reader (or a crash) sees them."""
        if self._fh is not None and self._dirty:
            self._fh.flush()
            self._dirty = False
        self._last_flush = time.monotonic()

    def close(self, index: bool = False) -> None:
        """Close the file; with `index`, first append the index of what it holds (docs/format.md, INDEX)."""
        if self._fh is not None:
            self.flush()
            if index:
                self._append_index()
            self._fh.close()
            self._fh = None

    def _append_index(self) -> None:
        """Read the frames back once and append their index; a recording without one still opens
        (its index is then built on first open), so any failure here only costs that."""
        assert self._fh is not None
        if self.bytes_written <= wire.FILE_HEADER_SIZE:
            return  # nothing recorded: an empty recording stays empty (the collector then keeps an older file)
        try:
            # numpy is imported only now, at the end: `pyrometer record` starts light
            from pyrometer.core.formats.recording_index import index_frame

            data = index_frame(self.path, self._fh, self.bytes_written)
            self._fh.seek(0, os.SEEK_END)
            if data is not None and self._fh.tell() == self.bytes_written:
                self.write_raw(data)
                self.flush()
        except (OSError, ValueError, MemoryError, ImportError):
            pass

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
