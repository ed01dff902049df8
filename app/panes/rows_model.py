"""Base of the table models whose rows are an ordered, filtered, top-N subset of numpy columns.

The Functions and Compare tables both keep an index array `_rows` into their
source columns; filtering, limiting and sorting rebuild it (`_rebuild`, each
subclass's own), and a sort keeps the selection on the same source rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from pyrometer.app.panes.model_roles import Index as _Index


class RowsTableModel(QAbstractTableModel):
    """`_rows` = source rows shown, in order; subclasses set COLUMNS and implement `_rebuild`."""

    COLUMNS: tuple[str, ...] = ()

    def __init__(self, sort_column: int, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows = np.zeros(0, np.int64)
        self._matching = 0
        self._filter = ""
        self._top_n = 0
        self._sort_column = sort_column
        self._sort_order = Qt.SortOrder.DescendingOrder

    def _rebuild(self) -> None:  # pragma: no cover - abstract
        """Recompute `_rows` and `_matching` from the source, filter, sort and top-N."""
        raise NotImplementedError

    def _row_funcs(self) -> np.ndarray | None:  # pragma: no cover - abstract
        """Function id of every source row (-1: none in this profile); None without a source."""
        raise NotImplementedError

    def func_at(self, row: int) -> int:
        """Function id of a displayed row (-1: out of range, or no function of this profile)."""
        funcs = self._row_funcs()
        if funcs is None or not 0 <= row < len(self._rows):
            return -1
        return int(funcs[self._rows[row]])

    def row_of_func(self, func: int) -> int:
        """Displayed row of a function, -1 if it is not shown."""
        funcs = self._row_funcs()
        if funcs is None or func < 0:
            return -1
        hits = np.flatnonzero(funcs[self._rows] == func)
        return int(hits[0]) if len(hits) else -1

    def _reset(self) -> None:
        self.beginResetModel()
        self._rebuild()
        self.endResetModel()

    def set_filter(self, text: str) -> None:
        if text == self._filter:
            return
        self._filter = text
        self._reset()

    def set_top_n(self, n: int) -> None:
        if n == self._top_n:
            return
        self._top_n = max(0, int(n))
        self._reset()

    def total_matching(self) -> int:
        """How many rows pass the filter (before top-N)."""
        return self._matching

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.COLUMNS):
            return
        self.layoutAboutToBeChanged.emit()
        old_rows = self._rows.copy()
        persistent = self.persistentIndexList()
        self._sort_column, self._sort_order = column, order
        self._rebuild()
        # keep persistent indexes (the selection) on the same source rows
        pos = {int(r): k for k, r in enumerate(self._rows.tolist())}
        new_list = []
        for idx in persistent:
            old = int(old_rows[idx.row()]) if 0 <= idx.row() < len(old_rows) else -1
            k = pos.get(old, -1)
            new_list.append(self.index(k, idx.column()) if k >= 0 else QModelIndex())
        self.changePersistentIndexList(persistent, new_list)
        self.layoutChanged.emit()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)
