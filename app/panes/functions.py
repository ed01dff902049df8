"""Functions pane: the sortable, filterable per-function table with heat shading."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from pyrometer.app.document import Document
from pyrometer.app.panes.function_model import (
    COL_CALLS,
    COL_FUNCTION,
    COL_LOCATION,
    COL_PER_CALL,
    COL_SAMPLES,
    COL_SELF,
    COL_TOTAL,
    TRACE_COLUMNS,
    FunctionTableModel,
)
from pyrometer.app.panes.table_pane import FunctionTablePane
from pyrometer.core import fmt
from pyrometer.core.analysis.display_names import display_names
from pyrometer.core.analysis.functions import function_table

HOLD_S = 2.0  # live growth waits this long after the pointer last moved on the rows


class FunctionsPane(FunctionTablePane):
    pane_id = "functions"
    from_preview = True  # the whole session from a recording's index, as a full read shows it
    title = "Functions"
    model: FunctionTableModel

    def __init__(self, doc: Document, parent: QWidget | None = None) -> None:
        super().__init__(doc, parent)
        self.model = FunctionTableModel(self)
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter functions or files (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._on_filter)
        self.top_spin = QSpinBox(self)
        self.top_spin.setRange(0, 1_000_000)
        self.top_spin.setSingleStep(50)
        self.top_spin.setValue(500)
        self.top_spin.setSpecialValueText("all")
        self.top_spin.setPrefix("top ")
        self.top_spin.setToolTip("Show only the first N rows (0 = all)")
        self.top_spin.valueChanged.connect(self.model.set_top_n)
        self.model.set_top_n(500)
        self.count_label = QLabel(self)
        self._build_view(COL_SELF)
        header = self.view.horizontalHeader()
        header.resizeSection(COL_FUNCTION, 210)
        for col in range(1, COL_LOCATION):
            header.resizeSection(col, self._column_width(col))
        self.view.setToolTip("Double-click a function to see its source")

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.top_spin)
        bar.addWidget(self.count_label)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        lay.addLayout(bar)
        lay.addWidget(self.view, 1)
        self._auto_selected = False
        self._view_key: object = None  # (transform, on-CPU, threads) of the last refresh
        self._held = False  # live refreshes wait while the pointer is on the rows
        self._clock = time.monotonic  # injectable: tests move time on
        self._pointer_moved = -HOLD_S  # when the pointer last moved on the rows
        self.view.setMouseTracking(True)  # moves without a button reach the viewport
        self.view.viewport().installEventFilter(self)

    def _column_width(self, col: int) -> int:
        """Wide enough for the longest text the column shows ("88 min 88.8 s" was cut to "4 min 4...")."""
        widest = {COL_SELF: "88 min 88.8 s", COL_TOTAL: "88 min 88.8 s", COL_PER_CALL: "888.8 ms"}.get(col, "100.0%")
        title = str(self.model.headerData(col, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole) or "")
        fm = self.view.fontMetrics()
        return max(fm.horizontalAdvance(widest), fm.horizontalAdvance(title) + 16) + 14

    def pointer_on_rows(self) -> bool:
        """The mouse pointer is over the table's rows (the user may be about to click one)."""
        port = self.view.viewport()
        return port.isVisible() and port.rect().contains(port.mapFromGlobal(QCursor.pos()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view.viewport():
            kind = event.type()
            if kind in (QEvent.Type.MouseMove, QEvent.Type.Enter):
                self._pointer_moved = self._clock()
            elif kind == QEvent.Type.Leave and self._held:
                QTimer.singleShot(0, self._release)
        return super().eventFilter(watched, event)

    def _holding(self) -> bool:
        """The pointer is on the rows and moved there lately (a resting pointer does not freeze the table)."""
        return self.pointer_on_rows() and self._clock() - self._pointer_moved < HOLD_S

    def _release(self) -> None:
        """The pointer left the rows, or rested: show what live growth changed meanwhile."""
        if self._held and not self._holding():
            self._held = False
            self.seen_revision = self.doc.revision
            self.refresh()

    def refresh(self) -> None:
        growth_only = self.doc.view_revision < self.seen_revision and self._view_key is not None
        if self.doc.is_live and growth_only and self.model.rowCount() and self._holding():
            # live growth re-sorts the rows; under the pointer the row aimed at would move
            # before the click lands: hold this table until the pointer leaves or rests
            if not self._held:
                QTimer.singleShot(int(HOLD_S * 1000) + 50, self._release)
            self._held = True
            self.seen_revision = -1  # still stale: the window refreshes it again later
            return
        self._held = False
        profile = self.doc.view_profile()
        table = function_table(profile, self.doc.selection())
        scroll = self.view.verticalScrollBar().value()
        view_key = (self.doc.transform, self.doc.on_cpu_only, self.doc.threads)
        new_view = view_key != self._view_key  # another view of the profile: its top rows are news
        self._view_key = view_key
        self._syncing = True
        try:
            self.model.set_table(table, display_names(profile), profile.func_file, profile.func_line, profile.unit)
            self._show_selected(self.doc.selected_function, scroll_to=False)
        finally:
            self._syncing = False
        if new_view:
            self._scroll_to_top_keeping_selection()
        else:
            self.view.verticalScrollBar().setValue(scroll)
        self._update_count()
        has_calls = bool(len(table.calls)) and bool((table.calls >= 0).any())
        self._hide_column(COL_CALLS, not has_calls)  # sampled profiles know no call counts
        self._hide_column(COL_PER_CALL, not has_calls)
        for col in TRACE_COLUMNS:  # trace mode's exact figures, for the whole profile
            self._hide_column(col, table.trace_clock is None)
        self.model.headerDataChanged.emit(Qt.Orientation.Horizontal, COL_PER_CALL, TRACE_COLUMNS[-1])
        # a deterministic profile's "samples" are synthetic: its counts are the calls
        self._hide_column(COL_SAMPLES, bool(profile.meta.get("deterministic")))
        if self.doc.selected_function < 0 and not self.doc.is_live and self.model.rowCount() and not self._auto_selected:
            # a loaded profile opens with its hottest function selected, so Source and callers show something
            self._auto_selected = True
            self.doc.select_function(self.model.func_at(0))

    def _hide_column(self, column: int, hide: bool) -> None:
        """Hide or show a column when that changes: setting the same state again re-laid the header out
        and repainted the table (and, through the docks' layouts, most of the window) on every live refresh."""
        if self.view.isColumnHidden(column) != hide:
            self.view.setColumnHidden(column, hide)

    def _update_count(self) -> None:
        shown, matching = self.model.rowCount(), self.model.total_matching()
        self.count_label.setText(f"{shown:,} of {matching:,}" if shown < matching else fmt.plural(matching, "function"))

    def _on_filter(self, text: str) -> None:
        self.model.set_filter(text.strip())
        self._show_selected(self.doc.selected_function, scroll_to=False)
        self._scroll_to_top_keeping_selection()
        self._update_count()

    def _scroll_to_top_keeping_selection(self) -> None:
        """The rows changed wholesale (filter, transform): show the top, and the selected row if it is shown."""
        self.view.scrollToTop()
        row = self.model.row_of_func(self.doc.selected_function)
        if row >= 0:
            self.view.scrollTo(self.model.index(row, 0))

    def focus_search(self) -> bool:
        self.filter_edit.setFocus()
        self.filter_edit.selectAll()
        return True
