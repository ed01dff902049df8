"""Source pane: the selected function's file with per-line sample costs, when the file is readable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pyrometer.app.document import Document
from pyrometer.app.panes.base import Pane
from pyrometer.app.panes.model_roles import (  # plain ints: data() is hot
    ALIGN,
    BACKGROUND,
    DISPLAY,
    RIGHT,
    TOOLTIP,
    Index,
)
from pyrometer.core import fmt
from pyrometer.core.analysis.display_names import display_names
from pyrometer.core.analysis.identity import BUILTIN_FILE, file_key
from pyrometer.core.analysis.line_costs import LineCosts, line_costs
from pyrometer.core.analysis.selection import clipped_samples

COLUMNS = ("Line", "Self", "Total", "Source")
MAX_FILE_BYTES = 4 * 1024 * 1024


class SourceModel(QAbstractTableModel):
    """Rows = lines of one file; cost columns from LineCosts; the function's own lines highlighted."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._text: list[str] = []
        self._self = np.zeros(0)
        self._total = np.zeros(0)
        self._sum = 1.0
        self._unit = "seconds"
        self._peak = 1.0
        self._heat = QColor(230, 90, 40)

    def set_source(self, text: list[str], costs: LineCosts | None, unit: str) -> None:
        self.beginResetModel()
        self._text = text
        n = len(text)
        self._self = np.zeros(n)
        self._total = np.zeros(n)
        self._unit = unit
        if costs is not None and len(costs.lines):
            ok = (costs.lines >= 1) & (costs.lines <= n)
            idx = costs.lines[ok] - 1
            self._self[idx] = costs.self_weight[ok]
            self._total[idx] = costs.total_weight[ok]
            self._sum = costs.total or 1.0
        self._peak = float(self._total.max(initial=0.0)) or 1.0
        self.endResetModel()

    def hottest_row(self) -> int:
        return int(self._total.argmax()) if len(self._total) and self._total.max() > 0 else -1

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._text)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(COLUMNS):
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = 0) -> Any:
        role = int(role)  # compare ints: PySide enum comparisons dominate the cost of data()
        if not index.isValid() or not 0 <= index.row() < len(self._text):
            return None
        r, c = index.row(), index.column()
        if role == DISPLAY:
            if c == 0:
                return str(r + 1)
            if c == 1:
                return fmt.weight(float(self._self[r]), self._unit) if self._self[r] > 0 else ""
            if c == 2:
                return fmt.weight(float(self._total[r]), self._unit) if self._total[r] > 0 else ""
            if c == 3:
                return self._text[r].expandtabs(4)
        if role == TOOLTIP and c in (1, 2) and self._total[r] > 0:
            return (
                f"self {fmt.percent(float(self._self[r]) / self._sum)}, "
                f"total {fmt.percent(float(self._total[r]) / self._sum)} of the selection"
            )
        if role == ALIGN and c < 3:
            return RIGHT
        if role == BACKGROUND and c in (1, 2) and self._total[r] > 0:
            v = float(self._self[r] if c == 1 else self._total[r]) / self._peak
            if v <= 0.005:
                return None
            col = QColor(self._heat)
            col.setAlpha(int(25 + 170 * min(1.0, v)))
            return col
        return None


class SourcePane(Pane):
    pane_id = "source"
    title = "Source"

    def __init__(self, doc: Document, parent: QWidget | None = None) -> None:
        super().__init__(doc, parent)
        self.model = SourceModel(self)
        self.header = QLabel("Select a function to see its source with per-line costs.", self)
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.view = QTableView(self)
        self.view.setModel(self.model)
        self.view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 2)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        h = self.view.horizontalHeader()
        h.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        h.resizeSection(0, 52)
        h.resizeSection(1, 76)
        h.resizeSection(2, 76)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.header)
        lay.addWidget(self.view, 1)
        self._shown: tuple[int, str] | None = None
        self._lines_cache: tuple[str, list[str] | None] = ("", None)
        doc.functionSelected.connect(lambda _f: self._maybe_refresh())

    def _maybe_refresh(self) -> None:
        if self.on_screen():
            self.refresh()
            self.seen_revision = self.doc.revision
        else:
            self.seen_revision = -1  # stale: the window refreshes us when our tab is shown

    def _read(self, path: str) -> list[str] | None:
        if self._lines_cache[0] == path:
            return self._lines_cache[1]
        text: list[str] | None = None
        p = Path(path)
        try:
            if p.is_file() and p.stat().st_size <= MAX_FILE_BYTES:
                text = p.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            text = None
        self._lines_cache = (path, text)
        return text

    def refresh(self) -> None:
        func = self.doc.selected_function
        profile = self.doc.view_profile()
        if func < 0 or func >= len(profile.func_name):
            self.header.setText("Select a function to see its source with per-line costs.")
            self.model.set_source([], None, profile.unit)
            self._shown = None
            return
        path = profile.func_file[func]
        text = self._read(path)
        name = display_names(profile)[func]
        if text is None:
            self.header.setText(f"<b>{_esc(name)}</b> — {_no_source(path)}")
            self.model.set_source([], None, profile.unit)
            self._shown = None
            return
        rows, weights = clipped_samples(profile, self.doc.selection())  # weights cut at the range's edges
        costs = line_costs(profile, func, rows, weights)
        self.header.setText(f"<b>{_esc(name)}</b> — <code>{_esc(path)}</code>:{profile.func_line[func]}")
        scroll = self.view.verticalScrollBar().value()
        self.model.set_source(text, costs, profile.unit)
        if self._shown != (func, path):
            self._shown = (func, path)
            # the def line near the top (a little context above), the hottest line selected
            top = max(0, profile.func_line[func] - 3)
            row = self.model.hottest_row()
            if row >= 0:
                self.view.selectRow(row)
            self.view.scrollTo(self.model.index(min(top, max(0, self.model.rowCount() - 1)), 0), QAbstractItemView.ScrollHint.PositionAtTop)
        else:
            self.view.verticalScrollBar().setValue(scroll)


def _no_source(path: str) -> str:
    """Why there is no source to show: a built-in has none, a pseudo-file is no file
    ('cannot read ~' said neither), a real path could not be read."""
    if file_key(path) == BUILTIN_FILE:
        return "a built-in (C) function: no Python source" if path else "no source file in the profile"
    if path.startswith("<"):
        return f"no source file (<code>{_esc(path)}</code>)"
    return f"source not available: cannot read <code>{_esc(path)}</code>"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
