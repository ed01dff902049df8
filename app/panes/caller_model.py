"""A small table model of (function, weight, samples) rows: callers or callees of one function."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from pyrometer.app import fmt
from pyrometer.app.panes.model_roles import ALIGN as _ALIGN
from pyrometer.app.panes.model_roles import DISPLAY as _DISPLAY
from pyrometer.app.panes.model_roles import FUNC_ID as _FUNC_ID
from pyrometer.app.panes.model_roles import RIGHT as _RIGHT
from pyrometer.app.panes.model_roles import Index as _Index

COLUMNS = ("Function", "Time", "%", "Samples", "Calls")





class CallerCalleeModel(QAbstractTableModel):
    """Rows (func, weight, samples), already sorted by weight (as callers_callees returns them)."""

    def __init__(self, heading: str, parent: Any = None) -> None:
        super().__init__(parent)
        self.heading = heading
        self._rows: list[tuple[int, float, int]] = []
        self._names: list[str] = []
        self._unit = "seconds"
        self._total = 1.0
        self._calls: dict[int, int] = {}

    def set_rows(
        self, rows: list[tuple[int, float, int]], names: list[str], unit: str, total: float, calls: dict[int, int] | None = None
    ) -> None:
        """`calls`: exact calls per edge (trace mode); the Calls column is empty without them."""
        self.beginResetModel()
        self._calls = dict(calls or {})
        self._rows = [(int(f), float(w), int(s)) for f, w, s in rows]
        self._names, self._unit, self._total = names, unit, (total or 1.0)
        self.endResetModel()

    def func_at(self, row: int) -> int:
        return self._rows[row][0] if 0 <= row < len(self._rows) else -1

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(COLUMNS):
            return self.heading if section == 0 else COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = 0) -> Any:
        role = int(role)  # compare ints: PySide enum comparisons dominate the cost of data()
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        func, weight, samples = self._rows[index.row()]
        col = index.column()
        if role == _DISPLAY:
            if col == 0:
                return self._names[func] if 0 <= func < len(self._names) else "?"
            if col == 1:
                return fmt.weight(weight, self._unit)
            if col == 2:
                return fmt.percent(weight / self._total)
            if col == 3:
                return fmt.count(samples)
            if col == 4:
                n = self._calls.get(func)
                return "–" if n is None else fmt.count(n)
        if role == _FUNC_ID:
            return func
        if role == _ALIGN and col > 0:
            return _RIGHT
        return None
