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

import numpy as np

from pyrometer.core.columns import ColumnTable, reserve_column

__all__ = ["ReservedColumns", "reserve_column"]




class ReservedColumns:
    """Scratch rows after a ColumnTable's filled prefix, committed to it in bulk.

    `grid` names 4-byte columns (name, dtype as sent) that follow each other in a frame's payload:
    they are stored as the rows of one (k, capacity) block, so a frame's k
    columns arrive in one slice assignment (`self.grid[:, r:e]`). A grid column
    the table stores wider (float64 weights: model.EXACT_WEIGHT) has an array of
    its own; `fill_wide` converts the grid's rows into it after each frame.
    """

    def __init__(self, table: ColumnTable, rows: int, grid: tuple[tuple[str, str], ...] = (), spill: bool = False) -> None:
        self.table = table
        self.spill = spill  # big columns in files of their own (columns.spill_column), released as committed
        self.arrays: dict[str, np.ndarray] = {}
        self.grid_names = tuple(name for name, _ in grid)
        self._grid_sent = {name: np.dtype(dtype) for name, dtype in grid}
        self.grid: np.ndarray | None = None
        self.wide: dict[str, np.ndarray] = {}  # grid rows (as sent) of the columns the table stores wider
        self.committed = 0
        self.n = 0
        self._capacity = 0
        self._attach(rows)

    def _allocate(self, cap: int) -> dict[str, np.ndarray]:
        self._capacity = cap
        arrays = {}
        if self.grid_names:
            block = reserve_column(cap * len(self.grid_names), np.dtype(np.uint32), self.spill).reshape(len(self.grid_names), cap)
            self.grid = block
            self.wide = {}
            for i, name in enumerate(self.grid_names):
                sent = block[i].view(self._grid_sent[name])
                if self.table.storage(name).dtype == sent.dtype:
                    arrays[name] = sent
                else:
                    self.wide[name] = sent
        for name in self.table.names:
            if name not in arrays:
                arrays[name] = reserve_column(cap, self.table.storage(name).dtype, self.spill)
        return arrays

    def _attach(self, rows: int) -> None:
        """Reserve room for `rows` more rows after what the table holds now (copying that once)."""
        have = len(self.table)
        cap = have + max(int(rows), 1024)
        arrays = self._allocate(cap)
        for name, arr in arrays.items():
            if have:
                arr[:have] = self.table.col(name)
        self.arrays = arrays
        self.committed = self.n = have

    @property
    def capacity(self) -> int:
        return self._capacity

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
        old = self.arrays
        self.arrays = self._allocate(cap)
        for name, arr in self.arrays.items():
            arr[: self.n] = old[name][: self.n]

    def fill_wide(self, r: int, e: int) -> None:
        """Rows [r, e) of the columns stored wider than sent, from the grid rows a frame just filled."""
        for name, sent in self.wide.items():
            self.arrays[name][r:e] = sent[r:e]

    def widen(self, name: str, dtype: np.dtype) -> None:
        """Store grid column `name` as `dtype` from now on, here and in the table (rows so far converted once)."""
        old = self.arrays[name]
        new = reserve_column(self._capacity, np.dtype(dtype), self.spill)
        new[: self.n] = old[: self.n]
        self.wide[name] = old
        self.arrays[name] = new
        self.table.widen(name, dtype, storage=new)

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
