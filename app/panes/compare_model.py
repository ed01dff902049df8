"""Qt table model over a FunctionDiff: what got slower or faster than a baseline run.

Like the Functions model, rows are an index array into the diff's columns:
sorting, filtering and top-N permute it, `data()` formats one cell on demand.
Each row also knows the id of its function in *this* run's profile (-1 when
the function only exists in the baseline), so selecting a row can select the
function in every other pane.
"""

from __future__ import annotations

import math
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
from pyrometer.core.analysis.diff import FunctionDiff
from pyrometer.core.analysis.display_names import display_name
from pyrometer.core.model import UNIT_SECONDS

COLUMNS = (
    "Function",
    "Baseline %",
    "This run %",
    "Δ points",
    "Change",
    "Baseline self",
    "This run self",
    "Baseline total",
    "This run total",
    "File",
)
(
    COL_FUNCTION,
    COL_BASE_PCT,
    COL_NEW_PCT,
    COL_DELTA,
    COL_CHANGE,
    COL_BASE_SELF,
    COL_NEW_SELF,
    COL_BASE_TOTAL,
    COL_NEW_TOTAL,
    COL_FILE,
) = range(len(COLUMNS))
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
NOISE_SHARE = 0.001  # below 0.1% of a run in both, "Change" stays blank
_SORT = int(SORT_ROLE)
SLOWER = QColor(215, 50, 40)  # a bigger share of this run than of the baseline
FASTER = QColor(48, 96, 192)  # the flame graph's 'faster' blue (and red/blue reads for colour-blind users too)


def change_text(base: float, new: float, in_base: bool | None = None, in_new: bool | None = None) -> str:
    """Relative change of a share: "+85%", "−40%", "new", "gone" or "" (unchanged/absent).

    "new"/"gone" mean the function is missing from one run; one in both runs whose share
    is 0 in one (no self time: it only called others) rose "from 0" or fell by "−100%".
    `in_base`/`in_new` default to "has a share there"."""
    if base < NOISE_SHARE and new < NOISE_SHARE:
        return ""  # both shares tiny: a relative change of noise says nothing
    if base <= 0:
        return "from 0" if in_base else "new"
    if new <= 0:
        return "−100%" if in_new else "gone"
    rel = new / base - 1.0
    if abs(rel) < 0.0005:
        return "±0%"
    return f"{rel * 100:+.0f}%".replace("-", "−")


def points_text(delta: float) -> str:
    """A difference of two shares in percentage points, signed."""
    if not math.isfinite(delta):
        return "–"
    pts = delta * 100
    if abs(pts) < 0.05:
        return "0.0"
    return f"{pts:+.1f}".replace("-", "−")


class CompareTableModel(RowsTableModel):
    """Rows = functions of either run, in the chosen order, filtered, limited to top N."""

    COLUMNS = COLUMNS

    def __init__(self, parent: Any = None) -> None:
        super().__init__(COL_DELTA, parent)
        self._diff: FunctionDiff | None = None
        self._func = np.zeros(0, np.int64)  # per diff row: function id in this run's profile, -1 = absent
        self._units = (UNIT_SECONDS, UNIT_SECONDS)  # baseline's, this run's
        self._peak = 1.0

    # ------------------------------------------------------------ feeding
    def set_diff(self, diff: FunctionDiff | None, func_ids: np.ndarray | None = None, units: tuple[str, str] = (UNIT_SECONDS, UNIT_SECONDS)) -> None:
        """Show `diff`; `func_ids[i]` is row i's function id in this run's profile (-1: baseline only)."""
        self._diff = diff
        n = len(diff) if diff is not None else 0
        self._func = np.full(n, -1, np.int64) if func_ids is None else np.asarray(func_ids, np.int64)
        self._units = units
        self._reset()

    @property
    def diff(self) -> FunctionDiff | None:
        return self._diff

    def diff_row(self, row: int) -> int:
        """Index into the FunctionDiff columns of a displayed row (-1 if out of range)."""
        return int(self._rows[row]) if 0 <= row < len(self._rows) else -1

    def _row_funcs(self) -> np.ndarray:
        return self._func  # baseline-only functions are -1

    # ------------------------------------------------------------ ordering
    def _key(self, column: int) -> np.ndarray | None:
        d = self._diff
        if d is None:
            return None
        if column in (COL_FUNCTION, COL_FILE):
            texts = d.name if column == COL_FUNCTION else d.file
            keys = np.asarray([t.lower() for t in texts], dtype=object)
            return np.argsort(np.argsort(keys, kind="stable"), kind="stable").astype(np.float64)
        if column == COL_CHANGE:
            with np.errstate(divide="ignore", invalid="ignore"):
                rel = np.where(d.base_frac > 0, d.new_frac / np.where(d.base_frac > 0, d.base_frac, 1.0) - 1.0, np.inf)
            return np.where((d.base_frac < NOISE_SHARE) & (d.new_frac < NOISE_SHARE), 0.0, rel)
        return {
            COL_BASE_PCT: d.base_frac,
            COL_NEW_PCT: d.new_frac,
            COL_DELTA: np.abs(d.delta),  # by size: the biggest changes either way first, as diff_functions orders
            COL_BASE_SELF: d.base_self,
            COL_NEW_SELF: d.new_self,
            COL_BASE_TOTAL: d.base_total,
            COL_NEW_TOTAL: d.new_total,
        }.get(column)

    def _rebuild(self) -> None:
        d = self._diff
        if d is None or len(d) == 0:
            self._rows = np.zeros(0, np.int64)
            self._matching = 0
            self._peak = 1.0
            return
        rows = np.arange(len(d))
        if self._filter:
            needle = self._filter.lower()
            keep = [needle in n.lower() or needle in f.lower() for n, f in zip(d.name, d.file, strict=True)]
            rows = rows[np.asarray(keep, bool)]
        key = self._key(self._sort_column)
        if key is not None and len(rows):
            if self._sort_order == Qt.SortOrder.DescendingOrder:
                # stable descending keeps ties in the diff's own order (biggest change first)
                rows = rows[np.argsort(-key[rows].astype(np.float64), kind="stable")]
            else:
                rows = rows[np.argsort(key[rows].astype(np.float64), kind="stable")]
        self._matching = len(rows)
        if self._top_n:
            rows = rows[: self._top_n]
        self._rows = rows
        self._peak = float(np.abs(d.delta).max(initial=0.0)) or 1.0

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.ToolTipRole:
                by = self._diff.by if self._diff is not None else "self"
                return _HEADER_TIPS[section].format(by=by)
        return None

    def data(self, index: _Index, role: int = 0) -> Any:
        role = int(role)
        d = self._diff
        if d is None or not index.isValid():
            return None
        row, col = index.row(), index.column()
        if not (0 <= row < len(self._rows) and 0 <= col < len(COLUMNS)):
            return None
        i = int(self._rows[row])
        if role == _DISPLAY:
            return self._display(d, i, col)
        if role == _FUNC_ID:
            return int(self._func[i])
        if role == _SORT:
            key = self._key(col)
            return None if key is None else float(key[i])
        if role == _ALIGN:
            return _LEFT if col in (COL_FUNCTION, COL_FILE) else _RIGHT
        if role == _BACKGROUND:
            delta = float(d.delta[i])
            frac = min(1.0, abs(delta) / self._peak)
            if frac <= 0.01:
                return None
            c = QColor(SLOWER if delta > 0 else FASTER)
            # the Δ cell carries the full heat, the rest of the row a lighter wash of it
            c.setAlpha(int((40 + 170 * frac) if col in (COL_DELTA, COL_CHANGE) else (12 + 70 * frac)))
            return c
        if role == _TOOLTIP:
            return self._tooltip(d, i)
        return None

    def _display(self, d: FunctionDiff, i: int, col: int) -> str:
        base_unit, new_unit = self._units
        if col == COL_FUNCTION:
            return display_name(d.name[i], d.file[i])
        if col == COL_BASE_PCT:
            return fmt.percent(float(d.base_frac[i]))
        if col == COL_NEW_PCT:
            return fmt.percent(float(d.new_frac[i]))
        if col == COL_DELTA:
            return points_text(float(d.delta[i]))
        if col == COL_CHANGE:
            in_base = bool(d.base_total[i] > 0 or d.base_self[i] > 0)
            in_new = bool(d.new_total[i] > 0 or d.new_self[i] > 0)
            return change_text(float(d.base_frac[i]), float(d.new_frac[i]), in_base, in_new)
        if col == COL_BASE_SELF:
            return fmt.weight(float(d.base_self[i]), base_unit)
        if col == COL_NEW_SELF:
            return fmt.weight(float(d.new_self[i]), new_unit)
        if col == COL_BASE_TOTAL:
            return fmt.weight(float(d.base_total[i]), base_unit)
        if col == COL_NEW_TOTAL:
            return fmt.weight(float(d.new_total[i]), new_unit)
        if col == COL_FILE:
            return d.file[i]
        return ""

    def _tooltip(self, d: FunctionDiff, i: int) -> str:
        delta = float(d.delta[i])
        what = "slower (a bigger share)" if delta > 0 else ("faster (a smaller share)" if delta < 0 else "unchanged")
        where = "" if self._func[i] >= 0 else "\n(only in the baseline)"
        return (
            f"{display_name(d.name[i], d.file[i])}\n{d.file[i]}\n"
            f"{d.by}: {fmt.percent(float(d.base_frac[i]))} of the baseline → "
            f"{fmt.percent(float(d.new_frac[i]))} of this run: {points_text(delta)} points, {what}{where}"
        )


_HEADER_TIPS = (
    "Function (matched between the runs by name and file)",
    "The function's {by} time as a share of the baseline's total",
    "The function's {by} time as a share of this run's total",
    "This run % minus baseline %, in percentage points (red: slower, blue: faster); sorts by size",
    "Relative change of the share; 'new' / 'gone': the function is in one run only; 'from 0': its share was 0 (blank: under 0.1% in both)",
    "Time spent in the function itself, in the baseline",
    "Time spent in the function itself, in this run",
    "Time in the function and everything it called, in the baseline",
    "Time in the function and everything it called, in this run",
    "Source file of the function",
)
