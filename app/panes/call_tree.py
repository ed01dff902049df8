"""Call tree pane: top-down or inverted tree, hottest-path expansion, callers/callees of the selection."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QTableView,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from pyrometer.app.document import Document
from pyrometer.app.panes.base import (
    Pane,
    add_function_actions,
    by_task_action,
    is_task_frame,
    path_for_actions,
    update_by_task_action,
)
from pyrometer.app.panes.caller_model import CallerCalleeModel
from pyrometer.app.panes.tree_model import COL_FUNCTION, COL_LOCATION, CallTreeModel
from pyrometer.core.analysis.callers import callers_callees
from pyrometer.core.analysis.calltree import call_tree, inverted_tree
from pyrometer.core.analysis.display_names import display_names


class CallTreePane(Pane):
    pane_id = "call_tree"
    from_preview = True  # the whole session from a recording's index, as a full read shows it
    title = "Call tree"

    def __init__(self, doc: Document, parent: QWidget | None = None) -> None:
        super().__init__(doc, parent)
        self.inverted = False
        self.model = CallTreeModel(self)
        self.callers_model = CallerCalleeModel("Callers", self)
        self.callees_model = CallerCalleeModel("Callees", self)
        self._expanded: set[tuple[int, ...]] = set()
        self._syncing = False
        self._first_fill = True

        self.top_down_btn = QPushButton("Top-down", self)
        self.inverted_btn = QPushButton("Inverted", self)
        for b in (self.top_down_btn, self.inverted_btn):
            b.setCheckable(True)
        self.top_down_btn.setChecked(True)
        self.top_down_btn.setToolTip("Callers above callees: where time goes from the entry point down")
        self.inverted_btn.setToolTip("Bottom-up: functions that spend time themselves, with the paths that called them")
        group = QButtonGroup(self)
        group.setExclusive(True)
        group.addButton(self.top_down_btn)
        group.addButton(self.inverted_btn)
        self.inverted_btn.toggled.connect(self.set_inverted)
        self.hot_btn = QPushButton("Expand hottest path", self)
        self.hot_btn.clicked.connect(self.expand_hottest)
        self.collapse_btn = QPushButton("Collapse all", self)
        self.collapse_btn.clicked.connect(self._collapse_all)
        self.by_task_action = by_task_action(self)
        self.by_task_btn = QToolButton(self)
        self.by_task_btn.setDefaultAction(self.by_task_action)

        self.view = QTreeView(self)
        self.view.setModel(self.model)
        self.view.setUniformRowHeights(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setAllColumnsShowFocus(True)
        header = self.view.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.resizeSection(COL_FUNCTION, 340)
        for col in range(1, COL_LOCATION):
            header.resizeSection(col, 74)
        self.view.expanded.connect(lambda idx: self._expanded.add(self.model.path_of(self.model.node_of(idx))))
        self.view.collapsed.connect(lambda idx: self._expanded.discard(self.model.path_of(self.model.node_of(idx))))
        self.view.selectionModel().currentRowChanged.connect(self._on_current)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)

        self.callers_view = self._small_table(self.callers_model)
        self.callees_view = self._small_table(self.callees_model)
        self.cc_label = QLabel("Select a function to see its callers and callees.", self)
        self.cc_label.setWordWrap(True)
        cc = QWidget(self)
        cc_lay = QVBoxLayout(cc)
        cc_lay.setContentsMargins(0, 0, 0, 0)
        cc_lay.addWidget(self.cc_label)
        row = QSplitter(Qt.Orientation.Horizontal, cc)
        row.addWidget(self.callers_view)
        row.addWidget(self.callees_view)
        cc_lay.addWidget(row, 1)

        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.view)
        split.addWidget(cc)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setCollapsible(0, False)
        split.setCollapsible(1, False)
        # callers and callees keep room for a header and three rows (at a laptop's default size they had none)
        rows = self.callers_view.verticalHeader().defaultSectionSize()
        cc.setMinimumHeight(self.cc_label.sizeHint().height() + self.callers_view.horizontalHeader().sizeHint().height() + 3 * rows + 8)
        split.setSizes([600, 400])  # proportions: the tree gets the room, callers/callees a good strip
        self.split = split

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.top_down_btn)
        bar.addWidget(self.inverted_btn)
        bar.addSpacing(12)
        bar.addWidget(self.hot_btn)
        bar.addWidget(self.collapse_btn)
        bar.addSpacing(12)
        bar.addWidget(self.by_task_btn)
        bar.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        lay.addLayout(bar)
        lay.addWidget(split, 1)
        doc.functionSelected.connect(self._on_doc_selected)

    def _small_table(self, model: CallerCalleeModel) -> QTableView:
        v = QTableView(self)
        v.setModel(model)
        v.verticalHeader().setVisible(False)
        v.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        v.setShowGrid(False)
        v.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        v.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        v.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            v.horizontalHeader().setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        v.doubleClicked.connect(lambda idx, m=model: self.doc.select_function(m.func_at(idx.row())))
        v.setToolTip("Double-click to select that function")
        v.setMinimumHeight(40)  # let the splitter give the tree most of a short dock
        return v

    # ------------------------------------------------------------ refresh
    def refresh(self) -> None:
        update_by_task_action(self.by_task_action, self.doc)
        profile = self.doc.tree_profile()
        sel = self.doc.selection()
        tree = inverted_tree(profile, sel) if self.inverted else call_tree(profile, sel)
        current = self.model.node_of(self.view.currentIndex())
        current_path = self.model.path_of(current) if current > 0 else ()
        scroll = self.view.verticalScrollBar().value()
        self._syncing = True
        try:
            self.model.set_tree(tree, display_names(profile), profile.func_file, profile.func_line, profile.unit)
            if self._first_fill and int(tree.node_count) > 1:
                self._first_fill = False
                self.expand_hottest()
            else:
                self._restore_expanded()
            node = self.model.find_path(current_path) if current_path else -1
            if node > 0:
                self.view.selectionModel().setCurrentIndex(
                    self.model.index_of_node(node),
                    QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
                )
        finally:
            self._syncing = False
        self.view.verticalScrollBar().setValue(scroll)
        self._show_function(self.doc.selected_function, scroll=node <= 0)
        self._refresh_callers()

    def _restore_expanded(self) -> None:
        for path in sorted(self._expanded, key=len):
            node = self.model.find_path(path)
            if node > 0:
                self.view.setExpanded(self.model.index_of_node(node), True)

    def _refresh_callers(self) -> None:
        func = self.doc.selected_function
        profile = self.doc.tree_profile()
        if func < 0 or func >= len(profile.func_name):
            self.cc_label.setText("Select a function to see its callers and callees.")
            self.callers_model.set_rows([], display_names(profile), profile.unit, 1.0)
            self.callees_model.set_rows([], display_names(profile), profile.unit, 1.0)
            return
        cc = callers_callees(profile, func, self.doc.selection())
        total = float(self.model.tree.total) if self.model.tree is not None else 1.0
        self.cc_label.setText(f"Callers and callees of <b>{_html(display_names(profile)[func])}</b>")
        self.callers_model.set_rows(list(cc.callers), display_names(profile), profile.unit, total, cc.caller_calls)
        self.callees_model.set_rows(list(cc.callees), display_names(profile), profile.unit, total, cc.callee_calls)
        no_calls = not cc.caller_calls and not cc.callee_calls
        self.callers_view.setColumnHidden(4, no_calls)  # exact calls: trace mode only
        self.callees_view.setColumnHidden(4, no_calls)

    # ------------------------------------------------------------ actions
    def set_inverted(self, inverted: bool) -> None:
        if inverted == self.inverted:
            return
        self.inverted = inverted
        self._expanded.clear()
        self._first_fill = True
        self.refresh()

    def expand_hottest(self) -> None:
        path = self.model.hottest_path(min_fraction=0.01)
        last = QModelIndex()
        for node in path:
            idx = self.model.index_of_node(node)
            self.view.setExpanded(idx, True)
            last = idx
        if last.isValid():
            self.view.scrollTo(last)

    def _collapse_all(self) -> None:
        self._expanded.clear()
        self.view.collapseAll()

    def _on_current(self, current: QModelIndex, _prev: QModelIndex) -> None:
        if self._syncing or not current.isValid():
            return
        node = self.model.node_of(current)
        tree = self.model.tree
        if tree is not None and not is_task_frame(self.doc, int(tree.func[node])):  # a task row is no function
            self.doc.select_function(int(tree.func[node]))

    def _on_doc_selected(self, func: int) -> None:
        if not self.isVisible():
            return  # refresh() catches up when the pane is shown
        self._refresh_callers()
        self._show_function(func)

    def _show_function(self, func: int, scroll: bool = True) -> None:
        """Make the hottest node of `func` current (expanding its path) unless one already is."""
        tree = self.model.tree
        cur = self.model.node_of(self.view.currentIndex())
        if tree is None or func < 0 or (cur > 0 and int(tree.func[cur]) == func):
            return
        # select the hottest node of that function, expanding the path to it
        nodes = (tree.func[: int(tree.node_count)] == func).nonzero()[0]
        if not len(nodes):
            return
        node = int(nodes[tree.total_weight[nodes].argmax()])
        idx = self.model.index_of_node(node)
        parent = idx.parent()
        while parent.isValid():
            self.view.setExpanded(parent, True)
            parent = parent.parent()
        self._syncing = True
        try:
            self.view.selectionModel().setCurrentIndex(
                idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            )
            if scroll:
                self.view.scrollTo(idx)
        finally:
            self._syncing = False

    def _context_menu(self, pos: QPoint) -> None:
        idx = self.view.indexAt(pos)
        node = self.model.node_of(idx) if idx.isValid() else 0
        tree = self.model.tree
        func = int(tree.func[node]) if tree is not None and node > 0 else -1
        if is_task_frame(self.doc, func):
            func = -1
        path = self.model.path_of(node) if node > 0 and not self.inverted else None
        menu = QMenu(self)
        add_function_actions(menu, self.doc, func, path_for_actions(self.doc, path))
        menu.exec(self.view.viewport().mapToGlobal(pos))


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
