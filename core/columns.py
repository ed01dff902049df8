"""Growable numpy column tables: the storage behind every event kind in the model.

Columns grow by doubling so appending a batch is amortised O(batch); views of
the filled prefix are cheap and never copy. A live session's big columns may
instead live in files of their own that grow block by block (`ColumnTable.reserve(spill=True)`).
"""

from __future__ import annotations

import errno
import mmap
import os
import tempfile
import weakref
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt


def reserve_column(rows: int, dtype: np.dtype, spill: bool = False, grow: bool = False) -> np.ndarray:
    """An array of `rows` rows whose memory is committed only as it is written (falls back to numpy).

    `spill`: a big column (SPILL_MIN_BYTES or more) is backed by a file of its own (`spill_column`)
    when one can be made, so the rows it holds may leave memory (`release_rows`); `grow`: that
    file's blocks are allocated as rows come (`allocate_rows` before each write), not up front.
    """
    nbytes = max(int(rows) * dtype.itemsize, mmap.PAGESIZE)
    if spill and nbytes >= SPILL_MIN_BYTES:
        spilled = spill_column(int(rows), dtype, grow)
        if spilled is not None:
            return spilled
    try:
        buf = mmap.mmap(-1, nbytes)
    except (OSError, ValueError, OverflowError, MemoryError):
        return np.empty(rows, dtype)
    return np.frombuffer(buf, dtype, int(rows))


SPILL_MIN_BYTES = 8 << 20  # smaller columns stay in anonymous memory (a file per column would only cost)
_COPY_STEP = 1 << 20  # rows per step of moving a column
KEEP_ROWS = 1 << 16  # rows a growing spilled table keeps mapped behind the last ones written (0.5 MB of float64); what a
# reader mapped back before them is let go each time that many more rows came (at 100 Hz on 4 threads: 2.7 minutes)


ALLOCATE_MIN_BYTES = 1 << 20  # a growing column file takes disk blocks in steps of at least this (and of a quarter of what it has)


class ColumnFile(mmap.mmap):
    """A column's storage mapped from a disk file of its own (unlinked at once: it goes with the mapping).

    Its pages are the file's page cache: a page the program no longer maps
    (`release_rows`) stays readable from the cache, and under memory pressure
    the kernel writes it back and drops it instead of running out of memory.
    `allocated`: bytes from the start whose disk blocks exist (a write past
    them could meet a full disk as SIGBUS); `grow_fd`: the file, kept open
    while blocks are still to be allocated (-1 once all are).
    """

    allocated: int
    grow_fd: int


def spill_home() -> Path:
    """$PYROMETER_HOME/columns, else $XDG_CACHE_HOME/pyrometer/columns, else ~/.cache/pyrometer/columns:
    a disk, not /tmp (often RAM: tmpfs), where the page cache of a spilled column can be written back."""
    home = os.environ.get("PYROMETER_HOME")
    if home:
        return Path(home).expanduser() / "columns"
    cache = os.environ.get("XDG_CACHE_HOME")
    return (Path(cache).expanduser() if cache else Path.home() / ".cache") / "pyrometer" / "columns"


def spill_column(rows: int, dtype: np.dtype, grow: bool = False) -> np.ndarray | None:
    """A column of `rows` rows in a file-backed map, its blocks allocated up front (a full disk then says
    so here, instead of killing the program with SIGBUS on a write later); None when that is not possible.

    `grow`: the file only has the size (sparse) and its blocks are allocated as rows are written
    (`allocate_rows`, which says when the disk is full): a live column reserved for a day takes
    disk for the rows that came, and grows without moving a row.
    """
    if os.environ.get("PYROMETER_SPILL") == "0" or not hasattr(os, "posix_fallocate"):
        return None
    nbytes = max(rows * dtype.itemsize, mmap.PAGESIZE)
    try:
        home = spill_home()
        home.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="column-", dir=home)
    except OSError:
        return None
    keep_fd = False
    try:
        os.unlink(name)
        if grow:
            os.ftruncate(fd, nbytes)
        else:
            os.posix_fallocate(fd, 0, nbytes)
        buf = ColumnFile(fd, nbytes)
        # one page per fault: reading a few rows here and there (a binary search, a row per pixel) maps
        # those pages, not the 64 KB around each (fault-around) that would fill the memory back up
        buf.madvise(mmap.MADV_RANDOM)
        buf.allocated = 0 if grow else nbytes
        buf.grow_fd = fd if grow else -1
        if grow:
            weakref.finalize(buf, os.close, fd)
            keep_fd = True
    except (OSError, ValueError, OverflowError):
        return None
    finally:
        if not keep_fd:
            os.close(fd)
    return np.frombuffer(buf, dtype, rows)


def allocate_rows(arr: np.ndarray, rows: int) -> bool:
    """Make sure the disk blocks behind rows [0, rows) of a growing spilled column exist (a no-op for
    other arrays); False when the disk cannot give them (the rows must then go elsewhere)."""
    mm = _column_file(arr)
    if mm is None or mm.grow_fd < 0:
        return True
    return _allocate(mm, arr.ctypes.data - np.frombuffer(mm, np.uint8).ctypes.data + int(rows) * arr.strides[0])


def _allocate(mm: ColumnFile, need: int) -> bool:
    """Blocks for the first `need` bytes of a growing column file (in steps: a quarter more at least)."""
    if need <= mm.allocated:
        return True
    target = min(len(mm), max(need, mm.allocated + max(ALLOCATE_MIN_BYTES, mm.allocated // 4)))
    try:
        os.posix_fallocate(mm.grow_fd, mm.allocated, target - mm.allocated)
    except (OSError, ValueError):
        return False
    mm.allocated = target
    return True


def write_rows(arr: np.ndarray, at: int, values: np.ndarray) -> None:
    """`arr[at : at + len(values)] = values`; OSError when a growing spilled column's disk cannot take them.

    A growing spilled column's rows are written to its file (os.pwrite, into the page cache) rather
    than stored through the map: a store into a page the map does not hold yet reads that page in
    first (a major fault per 4 KB), which doubled a live session's time to apply what arrived.
    Written this way the rows do not even enter this process's memory until something reads them.
    """
    mm = _column_file(arr)
    if mm is None or mm.grow_fd < 0:
        arr[at : at + len(values)] = values
        return
    _write_file(mm, arr.ctypes.data - np.frombuffer(mm, np.uint8).ctypes.data + at * arr.strides[0], values, arr.dtype)


def _remapped(mm: ColumnFile, nbytes: int) -> ColumnFile | None:
    """The growing column file behind `mm` made `nbytes` long and mapped whole (its rows are the page
    cache's, so nothing moves); `mm` stays valid for the views still on it. None when that fails."""
    fd = -1
    try:
        fd = os.dup(mm.grow_fd)
        os.ftruncate(fd, nbytes)  # only the size: blocks are allocated as rows come, as before
        larger = ColumnFile(fd, nbytes)
        larger.madvise(mmap.MADV_RANDOM)
    except (OSError, ValueError, OverflowError):
        if fd >= 0:
            os.close(fd)
        return None
    larger.allocated = mm.allocated
    larger.grow_fd = fd
    weakref.finalize(larger, os.close, fd)
    return larger


def _write_file(mm: ColumnFile, offset: int, values: np.ndarray, dtype: np.dtype) -> None:
    """Values (as `dtype`) into a growing column file from byte `offset`, its blocks allocated first."""
    data = np.ascontiguousarray(values, dtype=dtype)
    if not _allocate(mm, offset + data.nbytes):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    view = memoryview(data.view(np.uint8).data)
    while len(view):
        done = os.pwrite(mm.grow_fd, view, offset)
        if done <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[done:]
        offset += done


def _column_file(arr: np.ndarray) -> ColumnFile | None:
    """The ColumnFile an array views, if any."""
    base = arr.base
    while base is not None and not isinstance(base, mmap.mmap):
        base = getattr(base, "base", None) if not isinstance(base, memoryview) else base.obj
    return base if isinstance(base, ColumnFile) else None


def _starts_file(arr: np.ndarray, mm: ColumnFile) -> bool:
    """Whether the array views its file from the first byte, row after row (as spill_column makes it)."""
    return arr.ctypes.data == np.frombuffer(mm, np.uint8).ctypes.data and arr.strides[0] == arr.itemsize


def is_spilled(arr: np.ndarray) -> bool:
    """Whether the array's rows live in a file-backed column (ColumnFile)."""
    return _column_file(arr) is not None


def release_rows(arr: np.ndarray, lo: int = 0, hi: int | None = None) -> None:
    """Unmap the whole pages of rows [lo, hi) of a spilled column from this process (no-op otherwise).

    The data stays in the file's page cache and comes back on the next read of those rows;
    meanwhile it is not this process's memory (the kernel may write it back and reuse it).
    """
    mm = _column_file(arr)
    if mm is None or arr.ndim != 1:
        return
    hi = len(arr) if hi is None else min(hi, len(arr))
    if hi <= lo:
        return
    start = np.frombuffer(mm, np.uint8).ctypes.data
    step = arr.strides[0]
    if step != arr.itemsize:
        return
    first = arr.ctypes.data - start + lo * step
    last = arr.ctypes.data - start + hi * step
    page = mmap.PAGESIZE
    first = -(-first // page) * page
    last = last // page * page
    if last > first:
        mm.madvise(mmap.MADV_DONTNEED, first, last - first)


class ColumnTable:
    """A set of equally long numpy columns with amortised O(1) append."""

    def __init__(self, dtypes: Mapping[str, npt.DTypeLike], capacity: int = 1024) -> None:
        self._dtypes = {name: np.dtype(dt) for name, dt in dtypes.items()}
        self._data = {name: np.empty(capacity, dt) for name, dt in self._dtypes.items()}
        self._n = 0
        self.cuts = 0  # times rows were dropped (truncate): a reader that remembers "rows seen" starts over
        # reserve(spill=True): columns in growing files (blocks allocated before each write); the rows
        # before `_release_mark` leave memory once `_keep_rows` more came after it
        self._growing = False
        self._files: dict[str, ColumnFile] = {}  # the growing columns' files (each column from the file's first byte)
        self._keep_rows = KEEP_ROWS
        self._release_mark = 0

    def __len__(self) -> int:
        return self._n

    @property
    def names(self) -> list[str]:
        return list(self._dtypes)

    @property
    def capacity(self) -> int:
        return len(next(iter(self._data.values())))

    @property
    def dtypes(self) -> dict[str, np.dtype]:
        """Each column's dtype now (a table made from another's rows takes these, not its maker's defaults)."""
        return dict(self._dtypes)

    def widen(self, name: str, dtype: npt.DTypeLike, storage: np.ndarray | None = None) -> None:
        """Store column `name` as `dtype` from now on, its rows converted (e.g. float32 weights made float64).

        `storage`: the new column's whole storage, its filled rows already converted (a bulk reader's
        scratch, ReservedColumns.widen); else a converted copy of the same capacity is made here.
        A widened column leaves a growing spilled file (it continues in memory).
        """
        new_dtype = np.dtype(dtype)
        if self._dtypes[name] == new_dtype:
            return
        if storage is None:
            storage = np.empty(self.capacity, new_dtype)
            storage[: self._n] = self._data[name][: self._n]
        elif storage.dtype != new_dtype or len(storage) < self._n:
            raise ValueError(f"column {name} cannot hold {self._n} rows of {new_dtype}")
        self._dtypes[name] = new_dtype
        self._data[name] = storage
        self._files.pop(name, None)
        self._growing = bool(self._files)

    def _reserve(self, needed: int) -> None:
        cap = self.capacity
        if needed <= cap:
            return
        while cap < needed:
            cap *= 2
        for name, old in self._data.items():
            mm = self._files.get(name)
            if mm is not None:  # past a spilled reservation: the same file made longer and mapped again, no row copied
                larger = _remapped(mm, cap * old.itemsize)
                if larger is not None:
                    self._files[name] = larger
                    self._data[name] = np.frombuffer(larger, old.dtype, cap)
                    continue
                self._files.pop(name)  # it cannot grow: this column continues in memory
            new = np.empty(cap, old.dtype)
            new[: self._n] = old[: self._n]
            self._data[name] = new
        self._growing = bool(self._files)

    def reserve(self, rows: int, spill: bool = False, keep_rows: int | None = None) -> None:
        """Room for `rows` rows in address space only (a page exists once a row is written into it).

        A live table then grows to that size without a copy: doubling copies
        every row at each step and, while it copies, holds the old storage and
        the new one (a day's 30M samples peaked at 2x their 0.84 GB).

        `spill`: big columns (columns.SPILL_MIN_BYTES) go into files of their own whose disk blocks
        are allocated as rows arrive, and all but the last `keep_rows` or so rows (KEEP_ROWS) leave
        this process's memory as more arrive (they stay in the page cache: a reader maps them back).
        A disk that cannot take more rows, or PYROMETER_SPILL=0, keeps the columns in memory.
        """
        if keep_rows is not None:
            self._keep_rows = max(1, int(keep_rows))
        if rows <= self.capacity:
            return
        self._move(rows, spill)

    def _move(self, rows: int, spill: bool) -> None:
        """New storage of `rows` rows per column (spilled ones growing, where they can be), the rows copied over."""
        data = {}
        for name, old in self._data.items():
            new = reserve_column(rows, old.dtype, spill=spill, grow=True)
            try:
                self._copy_rows(old, new)
            except OSError:  # the disk is full: this column in memory
                new = reserve_column(rows, old.dtype)
                self._copy_rows(old, new)
            data[name] = new
        self._data = data
        files = {name: _column_file(arr) for name, arr in data.items()}
        self._files = {name: mm for name, mm in files.items() if mm is not None and mm.grow_fd >= 0
                       and _starts_file(data[name], mm)}
        self._growing = bool(self._files)
        self._release_mark = self._n

    def _copy_rows(self, old: np.ndarray, new: np.ndarray) -> None:
        """The filled rows of `old` into `new`, in steps that let both go: never all rows in memory twice."""
        for at in range(0, self._n, _COPY_STEP):
            hi = min(self._n, at + _COPY_STEP)
            write_rows(new, at, old[at:hi])
            release_rows(old, at, hi)
            release_rows(new, at, hi)

    def _to_memory(self) -> None:
        """The disk is full: the columns continue in memory, every row kept."""
        self._move(self.capacity, spill=False)

    def extend(self, **columns: npt.ArrayLike) -> None:
        """Append a batch; every column must be given with the same length."""
        arrays = {name: np.asarray(columns[name]) for name in self._dtypes}
        sizes = {a.shape[0] if a.ndim else 1 for a in arrays.values()}
        if len(sizes) != 1:
            raise ValueError(f"columns of unequal length: {sorted(sizes)}")
        count = sizes.pop()
        if count == 0:
            return
        self._reserve(self._n + count)
        written = False
        if self._growing:
            try:
                for name, values in arrays.items():
                    mm = self._files.get(name)
                    if mm is None:
                        self._data[name][self._n : self._n + count] = values
                    else:  # columns.write_rows, without finding the file again for every batch
                        dtype = self._dtypes[name]
                        _write_file(mm, self._n * dtype.itemsize, values if values.ndim else np.broadcast_to(values, (count,)), dtype)
                written = True
            except OSError:  # the disk is full: every row so far into memory, this batch written there again
                self._to_memory()
        if not written:
            for name, values in arrays.items():
                self._data[name][self._n : self._n + count] = values
        self._n += count
        if self._growing and self._n - self._release_mark >= self._keep_rows:
            # the rows before the last mark leave memory; those since stay for readers of what just came
            self.release(0, self._release_mark)
            self._release_mark = self._n

    def append(self, **values: object) -> None:
        """Append one row (slow path for rare events)."""
        self.extend(**{k: np.asarray([v]) for k, v in values.items()})  # type: ignore[list-item]

    def col(self, name: str) -> np.ndarray:
        """A view of the filled part of one column.

        Writing through it changes those rows in place (a task row's end when the
        task finishes); an append may move the storage, so take a new view after it.
        """
        return self._data[name][: self._n]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.col(name)

    def take(self, order: np.ndarray) -> None:
        """Reorder all rows in place (used once to time-sort imported data; the owner drops what it derived)."""
        for name in self._dtypes:
            self._data[name][: self._n] = self._data[name][: self._n][order]

    def truncate(self, n: int) -> None:
        """Keep only the first n rows."""
        if n < self._n:
            self.cuts += 1
        self._n = min(self._n, max(0, n))
        self._release_mark = min(self._release_mark, self._n)

    def row_bytes(self) -> int:
        """Bytes of storage per row (without the doubling slack)."""
        return sum(dt.itemsize for dt in self._dtypes.values())

    def nbytes(self) -> int:
        """Bytes currently allocated, slack included."""
        return sum(a.nbytes for a in self._data.values())

    def release(self, lo: int = 0, hi: int | None = None) -> None:
        """Let rows [lo, hi) of spilled columns leave this process's memory (release_rows); a no-op for others."""
        for arr in self._data.values():
            release_rows(arr, lo, self._n if hi is None else min(hi, self._n))

    # ------------------------------------------------------------ bulk fill (readers of huge files)
    def storage(self, name: str) -> np.ndarray:
        """The whole storage of a column: rows past `len` are scratch a bulk reader may fill before `adopt`."""
        return self._data[name]

    def adopt(self, arrays: Mapping[str, np.ndarray], n: int) -> None:
        """Take `arrays` (one per column, at least n long, first n rows filled) as the storage.

        A reader that knows an upper bound of its rows fills address space
        reserved up front (pages exist only once written) instead of doubling
        and copying: the columns then peak at their final size, not 2-3x it.
        """
        if set(arrays) != set(self._dtypes):
            raise ValueError(f"columns {sorted(arrays)} are not {sorted(self._dtypes)}")
        for name, arr in arrays.items():
            if arr.dtype != self._dtypes[name] or arr.ndim != 1 or len(arr) < n:
                raise ValueError(f"column {name} cannot hold {n} rows of {self._dtypes[name]}")
        self._data = {name: arrays[name] for name in self._dtypes}
        self._n = n
        self._growing = False
        self._files = {}
