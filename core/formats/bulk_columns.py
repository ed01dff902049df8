"""Event columns a reader fills straight from a file's frames, in address space reserved up front.

A recording of a day holds tens of millions of samples. Growing columns by
doubling copies them over and over and peaks at 2-3x their size; here the
reader reserves room for as many rows as the file could hold (anonymous
memory maps: a page exists only once a row is written into it, so an
over-estimate costs address space, not memory), copies each frame's packed
columns into place with one slice assignment per column, and hands the
filled prefix to the model's ColumnTable. Validation runs once per read over
all new rows, vectorised, instead of once per frame.
"""

from __future__ import annotations

import mmap

import numpy as np

from pyrometer.core.columns import ColumnTable

_PAGE = mmap.PAGESIZE


def reserve_column(rows: int, dtype: np.dtype) -> np.ndarray:
    """An array of `rows` rows whose memory is committed only as it is written (falls back to numpy)."""
    nbytes = max(int(rows) * dtype.itemsize, _PAGE)
    try:
        buf = mmap.mmap(-1, nbytes)
    except (OSError, ValueError, OverflowError, MemoryError):
        return np.empty(rows, dtype)
    return np.frombuffer(buf, dtype, int(rows))


class ReservedColumns:
    """Scratch rows after a ColumnTable's filled prefix, committed to it in bulk."""

    def __init__(self, table: ColumnTable, rows: int) -> None:
        self.table = table
        self.arrays: dict[str, np.ndarray] = {}
        self.committed = 0
        self.n = 0
        self._attach(rows)

    def _attach(self, rows: int) -> None:
        """Reserve room for `rows` more rows after what the table holds now (copying that once)."""
        have = len(self.table)
        cap = have + max(int(rows), 1024)
        arrays = {}
        for name in self.table.names:
            dt = self.table.storage(name).dtype
            arr = reserve_column(cap, dt)
            if have:
                arr[:have] = self.table.col(name)
            arrays[name] = arr
        self.arrays = arrays
        self.committed = self.n = have

    @property
    def capacity(self) -> int:
        return len(next(iter(self.arrays.values())))

    def in_sync(self) -> bool:
        """False when someone else changed the table since the last commit (then `resume` re-attaches)."""
        if len(self.table) != self.committed:
            return False
        return self.committed == 0 or all(self.table.storage(name) is arr for name, arr in self.arrays.items())

    def resume(self, rows_hint: int) -> None:
        if not self.in_sync():
            self._attach(rows_hint)

    def room(self, more: int) -> None:
        """Make room for `more` scratch rows (a file that grew past the reservation: reserve again, copy once)."""
        if self.n + more <= self.capacity:
            return
        cap = max(2 * self.capacity, self.n + more)
        for name, old in self.arrays.items():
            arr = reserve_column(cap, old.dtype)
            arr[: self.n] = old[: self.n]
            self.arrays[name] = arr

    def keep(self, mask: np.ndarray) -> None:
        """Drop scratch rows (those after `committed`) where mask is False."""
        a = self.committed
        kept = int(mask.sum())
        for arr in self.arrays.values():
            arr[a : a + kept] = arr[a : self.n][mask]
        self.n = a + kept

    def commit(self) -> None:
        """The scratch rows become the table's rows."""
        self.table.adopt(self.arrays, self.n)
        self.committed = self.n
