"""Growable numpy column tables: the storage behind every event kind in the model.

Columns grow by doubling so appending a batch is amortised O(batch); views of
the filled prefix are cheap and never copy.
"""

from __future__ import annotations

import mmap
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt


def reserve_column(rows: int, dtype: np.dtype) -> np.ndarray:
    """An array of `rows` rows whose memory is committed only as it is written (falls back to numpy)."""
    nbytes = max(int(rows) * dtype.itemsize, mmap.PAGESIZE)
    try:
        buf = mmap.mmap(-1, nbytes)
    except (OSError, ValueError, OverflowError, MemoryError):
        return np.empty(rows, dtype)
    return np.frombuffer(buf, dtype, int(rows))


class ColumnTable:
    """A set of equally long numpy columns with amortised O(1) append."""

    def __init__(self, dtypes: Mapping[str, npt.DTypeLike], capacity: int = 1024) -> None:
        self._dtypes = {name: np.dtype(dt) for name, dt in dtypes.items()}
        self._data = {name: np.empty(capacity, dt) for name, dt in self._dtypes.items()}
        self._n = 0
        self.cuts = 0  # times rows were dropped (truncate): a reader that remembers "rows seen" starts over

    def __len__(self) -> int:
        return self._n

    @property
    def names(self) -> list[str]:
        return list(self._dtypes)

    @property
    def capacity(self) -> int:
        return len(next(iter(self._data.values())))

    def _reserve(self, needed: int) -> None:
        cap = self.capacity
        if needed <= cap:
            return
        while cap < needed:
            cap *= 2
        for name, old in self._data.items():
            new = np.empty(cap, old.dtype)
            new[: self._n] = old[: self._n]
            self._data[name] = new

    def reserve(self, rows: int) -> None:
        """Room for `rows` rows in address space only (a page exists once a row is written into it).

        A live table then grows to that size without a copy: doubling copies
        every row at each step and, while it copies, holds the old storage and
        the new one (a day's 30M samples peaked at 2x their 0.84 GB).
        """
        if rows <= self.capacity:
            return
        for name, old in self._data.items():
            new = reserve_column(rows, old.dtype)
            new[: self._n] = old[: self._n]
            self._data[name] = new

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
        for name, values in arrays.items():
            self._data[name][self._n : self._n + count] = values
        self._n += count

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

    def row_bytes(self) -> int:
        """Bytes of storage per row (without the doubling slack)."""
        return sum(dt.itemsize for dt in self._dtypes.values())

    def nbytes(self) -> int:
        """Bytes currently allocated, slack included."""
        return sum(a.nbytes for a in self._data.values())

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
