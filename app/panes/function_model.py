"""Qt table model over a FunctionTable: sort, filter and top-N done on numpy index arrays.

The model never copies the table into Python objects: `data()` formats one
cell from the arrays on demand, and sorting/filtering just permute a row
index array — a 50,000-function table sorts in milliseconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from pyrometer.app.panes.model_roles import ALIGN as _ALIGN
from pyrometer.app.panes.model_roles import BACKGROUND as _BACKGROUND
from pyrometer.app.panes.model_roles import DISPLAY as _DISPLAY
from pyrometer.app.panes.model_roles import FUNC_ID as _FUNC_ID
from pyrometer.app.panes.model_roles import LEFT as _LEFT
from pyrometer.app.panes.model_roles import RIGHT as _RIGHT
from pyrometer.app.panes.model_roles import TOOLTIP as _TOOLTIP
from pyrometer.app.panes.model_roles import Index as _Index
from pyrometer.app.panes.rows_model import RowsTableModel
from pyrometer.core import fmt
from pyrometer.core.analysis.functions import FunctionTable

COLUMNS: tuple[str, ...] = ("Function", "Self", "Self %", "Total", "Total %", "Samples", "Calls", "Per call", "Location")
COLUMNS += ("Traced self", "Traced total", "Wall/call (tasks)")  # trace mode's exact columns (hidden otherwise)
COL_FUNCTION, COL_SELF, COL_SELF_PCT, COL_TOTAL, COL_TOTAL_PCT, COL_SAMPLES, COL_CALLS, COL_PER_CALL, COL_LOCATION = range(9)
COL_TRACED_SELF, COL_TRACED_TOTAL, COL_TASK_WALL = range(9, 12)
TRACE_COLUMNS = (COL_TRACED_SELF, COL_TRACED_TOTAL, COL_TASK_WALL)
HEAT_COLUMNS = (COL_SELF, COL_SELF_PCT, COL_TOTAL, COL_TOTAL_PCT)
SORT_ROLE = Qt.ItemDataRole.UserRole + 2


_SORT = int(SORT_ROLE)



class FunctionTableModel(RowsTableModel):
    """Rows = functions of a FunctionTable, in the chosen order, filtered, limited to top N."""

    COLUMNS = COLUMNS

    def __init__(self, parent: Any = None) -> None:
        super().__init__(COL_SELF, parent)
        self._table: FunctionTable | None = None
        self._names: list[str] = []
        self._files: list[str] = []
        self._lines: list[int] = []
        self._unit = "seconds"
        self._heat_max = (1.0, 1.0)
        self._heat = QColor(230, 90, 40)

    # ------------------------------------------------------------ feeding
    def set_table(
        self, table: FunctionTable | None, names: list[str], files: list[str], lines: list[int], unit: str
    ) -> None:
        self._table = table
        self._names, self._files, self._lines, self._unit = names, files, lines, unit
        self._reset()

    def set_heat_color(self, color: QColor) -> None:
        self._heat = QColor(color)

    @property
    def table(self) -> FunctionTable | None:
        return self._table

    def _key(self, column: int) -> np.ndarray | None:
        t = self._table
        if t is None:
            return None
        if column == COL_FUNCTION:
            names = [self._names[f].lower() for f in t.func.tolist()]
            return np.argsort(np.argsort(np.asarray(names, dtype=object), kind="stable"), kind="stable")
        if column == COL_LOCATION:
            locs = [f"{self._files[f]}:{self._lines[f]:08d}" for f in t.func.tolist()]
            return np.argsort(np.argsort(np.asarray(locs, dtype=object), kind="stable"), kind="stable")
        return {
            COL_SELF: t.self_weight,
            COL_SELF_PCT: t.self_weight,
            COL_TOTAL: t.total_weight,
            COL_TOTAL_PCT: t.total_weight,
            COL_SAMPLES: t.samples,
            COL_CALLS: t.calls,
            COL_PER_CALL: np.nan_to_num(t.per_call, nan=-1.0),
            COL_TRACED_SELF: _or_unknown(t.traced_self, len(t.func)),
            COL_TRACED_TOTAL: _or_unknown(t.traced_total, len(t.func)),
            COL_TASK_WALL: _or_unknown(t.task_wall_per_call, len(t.func)),
        }.get(column)

    def _rebuild(self) -> None:
        t = self._table
        if t is None or len(t.func) == 0:
            self._rows = np.zeros(0, np.int64)
            self._matching = 0
            return
        rows = np.arange(len(t.func))
        if self._filter:
            needle = self._filter.lower()
            funcs = t.func.tolist()
            keep = [needle in self._names[f].lower() or needle in self._files[f].lower() for f in funcs]
            rows = rows[np.asarray(keep, bool)]
        key = self._key(self._sort_column)
        if key is not None and len(rows):
            order = np.argsort(key[rows], kind="stable")
            if self._sort_order == Qt.SortOrder.DescendingOrder:
                # stable descending: reverse of ascending on reversed input keeps ties in table order
                rev = rows[::-1]
                order = np.argsort(-key[rev].astype(np.float64), kind="stable")
                rows = rev[order]
            else:
                rows = rows[order]
        self._matching = len(rows)
        if self._top_n:
            rows = rows[: self._top_n]
        self._rows = rows
        self._heat_max = (
            float(t.self_weight.max(initial=0.0)) or 1.0,
            float(t.total_weight.max(initial=0.0)) or 1.0,
        )

    # ------------------------------------------------------------ Qt API
    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                clock = self._table.trace_clock if self._table is not None else None
                if clock and section in (COL_TRACED_SELF, COL_TRACED_TOTAL, COL_PER_CALL):  # say which clock
                    names = {COL_TRACED_SELF: "self", COL_TRACED_TOTAL: "total", COL_PER_CALL: "/call"}
                    return f"{clock.upper()} {names[section]}".replace(" /", "/")
                return COLUMNS[section]
            if role == Qt.ItemDataRole.ToolTipRole:
                return _HEADER_TIPS[section]
        return None

    def _row_funcs(self) -> np.ndarray | None:
        return None if self._table is None else self._table.func

    def data(self, index: _Index, role: int = 0) -> Any:
        role = int(role)  # compare ints: PySide enum comparisons dominate the cost of data()
        t = self._table
        if t is None or not index.isValid():
            return None
        row, col = index.row(), index.column()
        if not (0 <= row < len(self._rows) and 0 <= col < len(COLUMNS)):
            return None
        i = int(self._rows[row])
        func = int(t.func[i])
        if role == _DISPLAY:
            return self._display(t, i, func, col)
        if role == _FUNC_ID:
            return func
        if role == _SORT:
            key = self._key(col)
            return None if key is None else float(key[i])
        if role == _ALIGN:
            if col in (COL_FUNCTION, COL_LOCATION):
                return _LEFT
            return _RIGHT
        if role == _BACKGROUND and col in HEAT_COLUMNS:
            value = float(t.self_weight[i]) if col in (COL_SELF, COL_SELF_PCT) else float(t.total_weight[i])
            peak = self._heat_max[0] if col in (COL_SELF, COL_SELF_PCT) else self._heat_max[1]
            frac = max(0.0, min(1.0, value / peak))
            if frac <= 0.005:
                return None
            c = QColor(self._heat)
            c.setAlpha(int(25 + 170 * frac))
            return c
        if role == _TOOLTIP:
            return f"{self._names[func]}\n{fmt.file_line(self._files[func], self._lines[func])}"
        return None

    def _display(self, t: FunctionTable, i: int, func: int, col: int) -> str:
        if col == COL_FUNCTION:
            return self._names[func]
        if col == COL_SELF:
            return fmt.weight(float(t.self_weight[i]), self._unit)
        if col == COL_SELF_PCT:
            return fmt.percent(float(t.self_weight[i]) / t.total if t.total else float("nan"))
        if col == COL_TOTAL:
            return fmt.weight(float(t.total_weight[i]), self._unit)
        if col == COL_TOTAL_PCT:
            return fmt.percent(float(t.total_weight[i]) / t.total if t.total else float("nan"))
        if col == COL_SAMPLES:
            return fmt.count(int(t.samples[i]))
        if col == COL_CALLS:
            return fmt.count(int(t.calls[i]))
        if col == COL_PER_CALL:
            return fmt.weight(float(t.per_call[i]), self._unit)  # in Ir for callgrind, not seconds
        if col == COL_LOCATION:
            return fmt.file_line(self._files[func], self._lines[func])
        if col in TRACE_COLUMNS:
            values = {COL_TRACED_SELF: t.traced_self, COL_TRACED_TOTAL: t.traced_total, COL_TASK_WALL: t.task_wall_per_call}[col]
            v = float(values[i]) if values is not None else float("nan")
            return fmt.seconds(v) if np.isfinite(v) else "–"
        return ""


_HEADER_TIPS = (
    "Function (qualified name)",
    "Time spent in the function itself",
    "Self as a share of all samples in the selection",
    "Time spent in the function and everything it called",
    "Total as a share of all samples in the selection",
    "Samples with the function anywhere on the stack",
    "Number of calls (deterministic profiles and trace mode only)",
    "Total time per call where calls are known (trace mode: in the trace clock, CPU by default)",
    "File and first line of the function",
    "Exact self time from trace mode, in the trace clock (CPU by default: time the function really ran)",
    "Exact total time from trace mode, in the trace clock (CPU by default)",
    "Wall time per call with awaits included: created to ended of the finished tasks running this coroutine",
)


def _or_unknown(values: np.ndarray | None, n: int) -> np.ndarray:
    """A sort key: the values, with unknown (nan or absent) below every known one."""
    return np.full(n, -1.0) if values is None else np.nan_to_num(values, nan=-1.0)
