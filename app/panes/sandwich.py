"""Sandwich pane: the selected function with all its callers above and its callees below,
merged across the whole tree (speedscope's Sandwich view).

Both halves are flame graphs painted by the flame graph's item: the callers
grow upwards from the function (who called it, and who called them), the
callees downwards. Clicking a frame selects that function everywhere, and
the sandwich re-centres on it.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from pyrometer.app.document import Document
from pyrometer.app.flame_colors import package_colors, package_palette
from pyrometer.app.flame_item import FlameGraphItem, FlameViewBox
from pyrometer.app.panes.base import Pane, add_function_actions, content_or_placeholder
from pyrometer.core import fmt
from pyrometer.core.analysis.calltree import CallTree
from pyrometer.core.analysis.display_names import display_names
from pyrometer.core.analysis.flame import FlameLayout, flame_layout
from pyrometer.core.analysis.sandwich import Sandwich, sandwich


def _root(tree: CallTree) -> int:
    """The function's node: the synthetic root's only child (0 when the function did not run)."""
    if tree.node_count <= 1:
        return 0
    kids = tree.children(0)
    return int(kids[0]) if len(kids) else 0


class _Half:
    """One flame graph of the sandwich (callers or callees) and what its boxes stand for."""

    def __init__(self, pane: SandwichPane, icicle: bool, tip: str) -> None:
        self.pane = pane
        self.view = pg.GraphicsView()
        self.view.setToolTip(tip)
        self.view_box = FlameViewBox(icicle=icicle)
        self.view.setCentralItem(self.view_box)
        self.item = FlameGraphItem()
        self.item.set_palette(package_palette())
        self.item.tooltip_fn = self.tooltip
        self.view_box.addItem(self.item)
        self.tree: CallTree | None = None
        self.layout: FlameLayout | None = None
        self.item.boxClicked.connect(lambda box: self.pane.pick(self.func_of(box)))
        self.item.boxContextMenu.connect(lambda box, pos: self.pane.context_menu(self.func_of(box), pos))

    def func_of(self, box: int) -> int:
        return int(self.layout.func[box]) if self.layout is not None and 0 <= box < len(self.layout.func) else -1

    def show(self, tree: CallTree, colors: np.ndarray, names: list[str], selected: int) -> None:
        layout = flame_layout(tree, order="left-heavy")
        self.tree, self.layout = tree, layout
        n = len(layout.x)
        funcs = np.asarray(layout.func, np.int32)
        node_box = np.full(tree.node_count, -1, np.int64)
        node_box[np.asarray(layout.node, np.int64)] = np.arange(n)
        parent = node_box[np.maximum(np.asarray(tree.parent, np.int64)[np.asarray(layout.node, np.int64)], 0)]
        box_colors = colors[funcs] if n and len(colors) else np.zeros(n, np.int32)
        self.item.set_boxes(layout.x, layout.width, layout.depth, box_colors, [names[f] for f in funcs.tolist()], parent=parent)
        self.item.set_outline(funcs == selected if n else None)
        rows = int(layout.depth.max()) + 1 if n else 1
        self.view_box.set_extent(0.0, float(layout.total) if layout.total > 0 else 1.0, rows)
        self.view_box.reset_view()

    def tooltip(self, box: int) -> str:
        if self.layout is None or self.tree is None or not 0 <= box < len(self.layout.x):
            return ""
        p = self.pane.doc.view_profile()
        func = self.func_of(box)
        node = int(self.layout.node[box])
        total = float(self.tree.total_weight[node])
        whole = self.pane.result.total if self.pane.result is not None else 0.0
        name = html.escape(display_names(p)[func])
        where = html.escape(fmt.file_line(p.func_file[func], p.func_line[func]))
        share = f" ({fmt.percent(total / whole)} of the selection)" if whole > 0 else ""
        return f"<b>{name}</b><br>{where}<br>{fmt.weight(total, p.unit)}{share}"


class SandwichPane(Pane):
    """Callers above, callees below the selected function."""

    pane_id = "sandwich"
    title = "Sandwich"

    def __init__(self, doc: Document, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(doc, parent)
        self.result: Sandwich | None = None
        self.header = QtWidgets.QLabel("")
        self.header.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.header.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.callers = _Half(self, icicle=False, tip="Callers: who called it (and who called them), merged across the tree")
        self.callees = _Half(self, icicle=True, tip="Callees: what it called, merged across the tree")
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        for title, half in (("Callers ↑", self.callers), ("Callees ↓", self.callees)):
            box = QtWidgets.QWidget()
            lay = QtWidgets.QVBoxLayout(box)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.setSpacing(0)
            label = QtWidgets.QLabel(f" {title}")
            label.setStyleSheet("color: gray")
            lay.addWidget(label)
            lay.addWidget(half.view, 1)
            split.addWidget(box)
        self.split = split
        self.stack, self.empty = content_or_placeholder(split, "Select a function to see its callers and callees")
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        lay.setSpacing(2)
        lay.addWidget(self.header)
        lay.addWidget(self.stack, 1)
        for half in (self.callers, self.callees):
            half.view.setBackground(self.palette().color(QtGui.QPalette.ColorRole.Base))
        doc.functionSelected.connect(lambda _f: self._selection_changed())

    def apply_theme(self) -> None:
        for half in (self.callers, self.callees):
            half.view.setBackground(self.palette().color(QtGui.QPalette.ColorRole.Base))

    def _selection_changed(self) -> None:
        self.seen_revision = -1  # the window refreshes us when visible (a hidden pane does no work)
        if self.on_screen():  # not only isVisible: behind the Functions tab it computed a transformed copy of every sample
            self.refresh()
            self.seen_revision = self.doc.revision

    def pick(self, func: int) -> None:
        if func >= 0:
            self.doc.select_function(func)

    def context_menu(self, func: int, pos: QtCore.QPoint) -> None:
        menu = QtWidgets.QMenu(self)
        add_function_actions(menu, self.doc, func)
        menu.popup(pos)

    def refresh(self) -> None:
        profile = self.doc.view_profile()
        func = self.doc.selected_function
        if func < 0 or func >= len(profile.func_name):
            self.result = None
            self.header.setText("")
            self.empty.setText("Select a function to see its callers and callees")
            self.stack.setCurrentWidget(self.empty)
            return
        result = sandwich(profile, func, self.doc.selection())
        self.result = result
        name = html.escape(display_names(profile)[func])
        root = _root(result.callees)
        total = float(result.callees.total_weight[root]) if root > 0 else 0.0
        if total <= 0:
            self.empty.setText(f"{display_names(profile)[func]} did not run in this range")
            self.header.setText("")
            self.stack.setCurrentWidget(self.empty)
            return
        own = float(result.callees.self_weight[root])
        share = f" ({fmt.percent(total / result.total)})" if result.total > 0 else ""
        self.header.setText(
            f"<b>{name}</b> — total {fmt.weight(total, profile.unit)}{share}, self {fmt.weight(own, profile.unit)} · "
            f"{fmt.plural(len(result.callers.children(_root(result.callers))), 'caller')}, "
            f"{fmt.plural(len(result.callees.children(root)), 'callee')}"
        )
        colors = package_colors(profile)
        names = display_names(profile)
        self.callers.show(result.callers, colors, names, func)
        self.callees.show(result.callees, colors, names, func)
        self.stack.setCurrentWidget(self.split)
