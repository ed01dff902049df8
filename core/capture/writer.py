"""Append-only, crash-safe writer of `.pyro` recordings (no numpy: the recorder stays light)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from pyrometer.core.agent import wire

TYPE_CHECKING = False  # typing is not imported on `pyrometer record`'s start-up path
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, BinaryIO

FLUSH_INTERVAL_S = 0.25


class RecordingWriter:
    """Append frames to a recording.

    Live writers are unbuffered: every received batch reaches the OS at once,
    so a concurrent reader (or a crash of this process) loses nothing that was
    written. That costs one write call per agent batch (at most ~20/s). Bulk
    writers (saving an imported profile) pass `live=False` to buffer.
    """

    def __init__(
        self, path: str | os.PathLike[str], write_header: bool = True, live: bool = True, index: bool = False,
        model: Any = None,
    ) -> None:
        self.path = Path(path)
        self._model = model  # a live Profile fed the same frames (recording_index.LiveIndexer's model)
        # index=True: the index is kept while writing (recording_index.LiveIndexer, created at the first
        # frame: numpy is not imported before the target starts) and `close(index=True)` only appends it
        self._index_live = index
        self._index_requested = index
        self._indexer: Any = None
        self._unindexed = bytearray()
        self.index_abandoned = False  # set from any thread: a close in progress appends no index (see abandon_index)
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
        if self._index_live:
            self._index_feed(data)
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

    def _index_feed(self, data: bytes) -> None:
        """Hand written bytes to the live index; if it cannot follow, the recording is indexed on first open."""
        try:
            if self._indexer is None:
                if self.bytes_written <= wire.FILE_HEADER_SIZE:
                    self._unindexed += data  # the header: numpy is imported once frames come
                    return
                from pyrometer.core.formats.recording_index import LiveIndexer

                self._indexer = LiveIndexer(self.path, self._model)
                data, self._unindexed = bytes(self._unindexed) + data, bytearray()
            self._indexer.feed(data)
        except Exception:  # the index only saves a read on first open: the recording goes on without it
            self._index_live = False
            self._indexer = None

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

    def close(self, index: bool = False, progress: Callable[[float], None] | None = None) -> None:
        """Close the file; with `index`, first append the index of what it holds (docs/format.md, INDEX).

        `progress` is told the fraction of the index done (from the closing thread). Everything
        recorded is on disk before the index is made: a close that never ends (the process quit)
        leaves a whole recording without an index, which its first open builds.
        """
        if self._fh is not None:
            self.flush()
            if index:
                self._append_index(progress)
            self._fh.close()
            self._fh = None

    def abandon_index(self) -> None:
        """Any thread: a close that is making the index stops short of appending it (the app is quitting)."""
        self.index_abandoned = True

    def _append_index(self, progress: Callable[[float], None] | None = None) -> None:
        """Append the index: the one kept while writing, else (a writer made without `index`) read the
        frames back once. A recording without one still opens (its index is then built on first open),
        so any failure here only costs that."""
        assert self._fh is not None
        if self.bytes_written <= wire.FILE_HEADER_SIZE:
            return  # nothing recorded: an empty recording stays empty (the collector then keeps an older file)
        try:
            if self._index_requested:
                indexer, self._indexer, self._index_live = self._indexer, None, False
                data = None if indexer is None else _kept_index(indexer, self.bytes_written, progress)
            else:
                # numpy is imported only now, at the end: `pyrometer record` starts light
                from pyrometer.core.formats.recording_index import index_frame

                data = index_frame(self.path, self._fh, self.bytes_written)
            self._fh.seek(0, os.SEEK_END)
            if data is not None and self._fh.tell() == self.bytes_written and not self.index_abandoned:
                self.write_raw(data)
                self.flush()
        except (OSError, ValueError, MemoryError, ImportError):
            pass

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _kept_index(indexer: Any, size: int, progress: Callable[[float], None] | None = None) -> bytes | None:
    """The live index's frame; None (the index is then built on first open) whatever went wrong with it."""
    try:
        data: bytes | None = indexer.index_frame(size, progress)
    except Exception:  # closing must never fail for the index's sake: the recording is whole without it
        return None
    return data
