"""A pane around a table of functions: its selection and the document's follow each other.

Shared by the Functions and Compare panes: picking a row selects that
function everywhere, a function selected elsewhere is shown (and scrolled
to), double-click opens its source and right-click offers the function's
actions (focus, merge, ...).
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QMenu,
    QTableView,
    QWidget,
)

from pyrometer.app.document import Document
from pyrometer.app.panes.base import Pane, add_function_actions
from pyrometer.app.panes.rows_model import RowsTableModel


class FunctionTablePane(Pane):
    """Subclasses create `self.model`, then `_build_view` makes `self.view` over it."""

    model: RowsTableModel
    view: QTableView

    def __init__(self, doc: Document, parent: QWidget | None = None) -> None:
        super().__init__(doc, parent)
        self._syncing = False  # set while we move the view's selection ourselves
        self._own_pick = False  # set while a row picked in this table goes to the document

    def _build_view(self, sort_column: int) -> QTableView:
        """The table over `self.model`: sortable, one selected row, compact rows, stretched last column."""
        view = self.view = QTableView(self)
        view.setModel(self.model)
        view.setSortingEnabled(True)
        view.sortByColumn(sort_column, Qt.SortOrder.DescendingOrder)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setAlternatingRowColors(False)
        view.setShowGrid(False)
        view.setWordWrap(False)
        view.verticalHeader().setVisible(False)
        view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = view.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # a click must select the row under the pointer: Qt's auto-scroll moved a half-visible
        # clicked row into view while the button was down, and the next tiny drag selected the
        # row that had slid under the pointer. Keyboard moves still scroll (_on_current).
        view.setAutoScroll(False)
        self._connect_view()
        return view

    def _connect_view(self) -> None:
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.selectionModel().currentRowChanged.connect(self._on_current)
        self.view.doubleClicked.connect(self._open_source)
        self.doc.functionSelected.connect(self._show_selected)

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._syncing or not current.isValid():
            return
        func = self.model.func_at(current.row())
        if QApplication.mouseButtons() == Qt.MouseButton.NoButton:
            self.view.scrollTo(current)  # arrow keys: follow the current row (a click leaves the rows still)
        if func >= 0:  # e.g. a function only the Compare pane's baseline has
            self._own_pick = True  # the row is already where the user picked it: do not scroll
            try:
                self.doc.select_function(func)
            finally:
                self._own_pick = False

    def _open_source(self, index: QModelIndex) -> None:
        func = self.model.func_at(index.row())
        if func >= 0:
            self.doc.select_function(func)
            self.doc.request_pane("source")

    def _show_selected(self, func: int, scroll_to: bool = True) -> None:
        if self._own_pick:
            return  # our own pick coming back from the document
        row = self.model.row_of_func(func)
        sel = self.view.selectionModel()
        was = self._syncing
        self._syncing = True
        try:
            if row < 0:
                sel.clearSelection()
                return
            idx = self.model.index(row, 0)
            if sel.currentIndex().row() != row or not sel.isSelected(idx):
                sel.setCurrentIndex(
                    idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
                )
            if scroll_to:
                self.view.scrollTo(idx)
        finally:
            self._syncing = was

    def _context_menu(self, pos: QPoint) -> None:
        idx = self.view.indexAt(pos)
        func = self.model.func_at(idx.row()) if idx.isValid() else -1
        menu = QMenu(self)
        add_function_actions(menu, self.doc, func)
        menu.exec(self.view.viewport().mapToGlobal(pos))
