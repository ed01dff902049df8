"""Qt item model over a CallTree (top-down or inverted); node ids are the internal ids.

Sibling order (by total, descending) and each node's row under its parent are
computed once per tree with numpy, so `index()`/`parent()` are O(1) and a
100,000-node tree costs nothing until rows are expanded.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt
from PySide6.QtGui import QColor

from pyrometer.app.panes.model_roles import ALIGN as _ALIGN
from pyrometer.app.panes.model_roles import BACKGROUND as _BACKGROUND
from pyrometer.app.panes.model_roles import DISPLAY as _DISPLAY
from pyrometer.app.panes.model_roles import FUNC_ID as _FUNC_ID
from pyrometer.app.panes.model_roles import LEFT as _LEFT
from pyrometer.app.panes.model_roles import RIGHT as _RIGHT
from pyrometer.app.panes.model_roles import TOOLTIP as _TOOLTIP
from pyrometer.app.panes.model_roles import Index as _Index
from pyrometer.core import fmt
from pyrometer.core.analysis.calltree import CallTree
from pyrometer.core.analysis.task_stacks import frame_location

COLUMNS = ("Function", "Total", "Total %", "Self", "Self %", "Samples", "Location")
COL_FUNCTION, COL_TOTAL, COL_TOTAL_PCT, COL_SELF, COL_SELF_PCT, COL_SAMPLES, COL_LOCATION = range(7)
NODE_ID_ROLE = Qt.ItemDataRole.UserRole + 2


_NODE_ID = int(NODE_ID_ROLE)



class CallTreeModel(QAbstractItemModel):
    """Tree rows = call-tree nodes; the synthetic root (node 0) is the invisible root."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._tree: CallTree | None = None
        self._names: list[str] = []
        self._files: list[str] = []
        self._lines: list[int] = []
        self._unit = "seconds"
        self._order = np.zeros(0, np.int64)  # non-root nodes sorted by (parent, -total)
        self._start = np.zeros(1, np.int64)  # per node: first position of its children in _order
        self._nchild = np.zeros(1, np.int64)
        self._row = np.zeros(1, np.int64)  # per node: row under its parent
        self._heat = QColor(230, 90, 40)

    def set_tree(self, tree: CallTree | None, names: list[str], files: list[str], lines: list[int], unit: str) -> None:
        self.beginResetModel()
        self._tree = tree
        self._names, self._files, self._lines, self._unit = names, files, lines, unit
        self._index_tree()
        self.endResetModel()

    def set_heat_color(self, color: QColor) -> None:
        self._heat = QColor(color)

    @property
    def tree(self) -> CallTree | None:
        return self._tree

    def _index_tree(self) -> None:
        t = self._tree
        n = 0 if t is None else int(t.node_count)
        if t is None or n <= 1:
            self._order = np.zeros(0, np.int64)
            self._start = np.zeros(max(n, 1), np.int64)
            self._nchild = np.zeros(max(n, 1), np.int64)
            self._row = np.zeros(max(n, 1), np.int64)
            return
        nodes = np.arange(1, n)
        parents = t.parent[1:n].astype(np.int64)
        order = nodes[np.lexsort((-t.total_weight[1:n], parents))]
        sorted_parents = t.parent[order].astype(np.int64)
        self._order = order
        self._nchild = np.bincount(sorted_parents, minlength=n).astype(np.int64)
        self._start = np.concatenate(([0], np.cumsum(self._nchild)[:-1])).astype(np.int64)
        row = np.zeros(n, np.int64)
        row[order] = np.arange(len(order)) - self._start[sorted_parents]
        self._row = row

    # ------------------------------------------------------------ helpers
    def node_of(self, index: _Index) -> int:
        """Call-tree node id of an index; 0 (the root) for the invalid index."""
        return int(index.internalId()) if index.isValid() else 0

    def index_of_node(self, node: int, column: int = 0) -> QModelIndex:
        if self._tree is None or node <= 0 or node >= int(self._tree.node_count):
            return QModelIndex()
        return self.createIndex(int(self._row[node]), column, int(node))

    def child_nodes(self, node: int) -> np.ndarray:
        """Children of a node in display order (hottest first)."""
        s = int(self._start[node])
        return self._order[s : s + int(self._nchild[node])]

    def hottest_path(self, min_fraction: float = 0.0) -> list[int]:
        """Nodes from the top level down, always following the hottest child."""
        t = self._tree
        out: list[int] = []
        if t is None or int(t.node_count) <= 1:
            return out
        node = 0
        floor = float(t.total) * min_fraction
        while True:
            kids = self.child_nodes(node)
            if not len(kids):
                break
            node = int(kids[0])
            if float(t.total_weight[node]) < floor:
                break
            out.append(node)
        return out

    def find_path(self, funcs: tuple[int, ...]) -> int:
        """Node reached by following function ids from the root; -1 if absent."""
        t = self._tree
        if t is None:
            return -1
        node = 0
        for f in funcs:
            kids = self.child_nodes(node)
            hit = kids[t.func[kids] == f]
            if not len(hit):
                return -1
            node = int(hit[0])
        return node

    def path_of(self, node: int) -> tuple[int, ...]:
        t = self._tree
        if t is None or node <= 0:
            return ()
        return tuple(int(f) for f in t.path(node))

    # ------------------------------------------------------------ Qt API
    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if self._tree is None or column < 0 or column >= len(COLUMNS) or row < 0:
            return QModelIndex()
        pnode = self.node_of(parent)
        if row >= int(self._nchild[pnode]):
            return QModelIndex()
        node = int(self._order[int(self._start[pnode]) + row])
        return self.createIndex(row, column, node)

    def parent(self, index: _Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid() or self._tree is None:
            return QModelIndex()
        pnode = int(self._tree.parent[int(index.internalId())])
        if pnode <= 0:
            return QModelIndex()
        return self.createIndex(int(self._row[pnode]), 0, pnode)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        if self._tree is None:
            return 0
        if parent.isValid() and parent.column() != 0:
            return 0
        return int(self._nchild[self.node_of(parent)])

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return len(COLUMNS)

    def hasChildren(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return self.rowCount(parent) > 0

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(COLUMNS):
            if self._tree is not None and self._tree.inverted and section == COL_FUNCTION:
                return "Function (callers below)"
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = 0) -> Any:
        role = int(role)  # compare ints: PySide enum comparisons dominate the cost of data()
        t = self._tree
        if t is None or not index.isValid():
            return None
        node = int(index.internalId())
        col = index.column()
        func = int(t.func[node])
        if role == _DISPLAY:
            total = float(t.total) or 1.0
            if col == COL_FUNCTION:
                return self._names[func] if func >= 0 else "[root]"
            if col == COL_TOTAL:
                return fmt.weight(float(t.total_weight[node]), self._unit)
            if col == COL_TOTAL_PCT:
                return fmt.percent(float(t.total_weight[node]) / total)
            if col == COL_SELF:
                return fmt.weight(float(t.self_weight[node]), self._unit)
            if col == COL_SELF_PCT:
                return fmt.percent(float(t.self_weight[node]) / total)
            if col == COL_SAMPLES:
                return fmt.count(int(t.count[node]))
            if col == COL_LOCATION:
                return frame_location(self._files[func], self._lines[func]) if func >= 0 else ""
            return None
        if role == _FUNC_ID:
            return func
        if role == _NODE_ID:
            return node
        if role == _ALIGN:
            if col in (COL_FUNCTION, COL_LOCATION):
                return _LEFT
            return _RIGHT
        if role == _BACKGROUND and col in (COL_TOTAL, COL_TOTAL_PCT, COL_SELF, COL_SELF_PCT):
            value = float(t.total_weight[node] if col in (COL_TOTAL, COL_TOTAL_PCT) else t.self_weight[node])
            frac = value / (float(t.total) or 1.0)
            if frac <= 0.005:
                return None
            c = QColor(self._heat)
            c.setAlpha(int(25 + 170 * min(1.0, frac)))
            return c
        if role == _TOOLTIP and func >= 0:
            return f"{self._names[func]}\n{frame_location(self._files[func], self._lines[func])}"
        return None
