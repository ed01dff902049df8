"""The flame graph pane: a FlameGraphItem over the call tree of the document's selection.

The pane owns the view state a user builds up (zoom path, search text, colour
mode, order, orientation) and keeps it across refreshes, so a live, growing
profile does not throw the user out of the box they zoomed into. The
comparison baseline is the document's (shared with the Compare pane).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from pyrometer.app.document import Document
from pyrometer.app.flame_colors import (
    DIFF_LEVELS,
    NEW_PATH_COLOR,
    UNCHANGED_BELOW,
    diff_colors,
    diff_palette,
    heat_colors,
    heat_palette,
    package_colors,
    package_legend,
    package_palette,
    path_diff_colors,
)
from pyrometer.app.flame_item import FlameGraphItem, FlameViewBox, union_length
from pyrometer.app.panes.base import (
    Pane,
    add_function_actions,
    by_task_action,
    content_or_placeholder,
    is_task_frame,
    on_escape,
    path_for_actions,
    rows_above,
    update_by_task_action,
)
from pyrometer.app.plot_theme import restyle
from pyrometer.core import fmt
from pyrometer.core.analysis.display_names import display_names
from pyrometer.core.analysis.task_stacks import frame_location
from pyrometer.core.model import Profile

if TYPE_CHECKING:
    from pyrometer.core.analysis.calltree import CallTree
    from pyrometer.core.analysis.diff import NodePathDiff
    from pyrometer.core.analysis.flame import FlameLayout

COLOR_PACKAGE = "package"
COLOR_HEAT = "heat"
COLOR_DIFF = "diff"


class _BoxNames(Sequence[str]):
    """Box labels without a list of 10^5 strings: the function name of box i, on demand."""

    def __init__(self, names: list[str], box_func: np.ndarray) -> None:
        self._names = names
        self._func = box_func

    def __len__(self) -> int:
        return len(self._func)

    def __getitem__(self, i: int) -> str:  # type: ignore[override]
        return self._names[int(self._func[i])]


def _short_path(path: str) -> str:
    parts = path.replace("\\", "/").rsplit("/", 2)
    return "/".join(parts[-2:])


class FlamePane(Pane):
    """Flame graph / icicle of the selected range, with zoom, search and colour modes."""

    pane_id = "flame_graph"
    from_preview = True  # the whole session from a recording's index, as a full read shows it
    title = "Flame graph"

    def __init__(self, doc: Document, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(doc, parent)
        self.tree: CallTree | None = None
        self.layout_: FlameLayout | None = None
        self._profile: Profile | None = None
        self._box_func = np.zeros(0, np.int32)
        self._node_box = np.zeros(0, np.int64)
        self._zoom_path: tuple[int, ...] | None = None
        self._given_deltas: np.ndarray | None = None  # set_function_deltas: wins over the document's baseline
        self._given_name = ""
        self._deltas: np.ndarray | None = None  # per function, while colouring by given deltas
        self._path_diff: NodePathDiff | None = None  # per call-tree node, while colouring against the baseline
        self.match_count = 0
        self.match_share = 0.0

        # ---- toolbar
        self.search_edit = QtWidgets.QLineEdit()
        self.search_edit.setPlaceholderText("Search functions or files…  (Ctrl+F)")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textChanged.connect(self._apply_search)
        # wide enough to read what is typed (it was squeezed to ~100 px by the buttons beside it)
        self.search_edit.setMinimumWidth(self.fontMetrics().horizontalAdvance("Search functions or files…") + 30)
        self.match_label = QtWidgets.QLabel("")
        self.match_label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.color_combo = QtWidgets.QComboBox()
        self.color_combo.addItem("Colour: package", COLOR_PACKAGE)
        self.color_combo.addItem("Colour: self-time heat", COLOR_HEAT)
        self.color_combo.addItem("Colour: difference", COLOR_DIFF)
        self.color_combo.setToolTip("How boxes are coloured")
        self.color_combo.currentIndexChanged.connect(self._apply_colors)
        self.order_combo = QtWidgets.QComboBox()
        self.order_combo.addItem("Left-heavy", "left-heavy")
        self.order_combo.addItem("Alphabetical", "alphabetical")
        self.order_combo.setToolTip("Order of sibling frames")
        self.order_combo.currentIndexChanged.connect(self._relayout)
        self.icicle_check = QtWidgets.QToolButton()
        self.icicle_check.setText("Icicle")
        self.icicle_check.setCheckable(True)
        self.icicle_check.setChecked(True)
        self.icicle_check.setToolTip("Top-down icicle (root at the top); off = flame graph (root at the bottom)")
        self.icicle_check.toggled.connect(self.set_icicle)
        self.reset_button = QtWidgets.QToolButton()
        self.reset_button.setText("Reset zoom")
        self.reset_button.setToolTip("Show the whole graph (Esc)")
        self.reset_button.clicked.connect(self.reset_zoom)
        self.compare_button = QtWidgets.QToolButton()
        self.compare_button.setText("Compare…")
        self.compare_button.setToolTip("Colour by the difference to a baseline profile file (also in the Compare pane)")
        self.compare_button.clicked.connect(self._choose_baseline)
        doc.baselineChanged.connect(self._baseline_changed)
        self.by_task_action = by_task_action(self)
        doc.byTaskChanged.connect(lambda _on: self._set_palette_mode(str(self.color_combo.currentData())))
        self.by_task_button = QtWidgets.QToolButton()
        self.by_task_button.setDefaultAction(self.by_task_action)

        bar = QtWidgets.QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(self.search_edit, 3)
        bar.addWidget(self.match_label, 2)
        bar.addWidget(self.color_combo)
        bar.addWidget(self.order_combo)
        bar.addWidget(self.icicle_check)
        bar.addWidget(self.by_task_button)
        bar.addWidget(self.reset_button)
        bar.addWidget(self.compare_button)

        self.crumbs = QtWidgets.QLabel()
        self.crumbs.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.crumbs.linkActivated.connect(self._crumb_clicked)
        self.crumbs.setToolTip("Zoom path: click a frame to zoom back out to it")
        # a long zoom path must not widen the pane (the dock grew, squeezed Functions and stayed wide):
        # the label takes the width it is given and elides by clipping
        self.crumbs.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.legend = QtWidgets.QLabel()
        self.legend.setTextFormat(QtCore.Qt.TextFormat.RichText)
        info = QtWidgets.QHBoxLayout()
        info.setContentsMargins(6, 0, 6, 0)
        info.addWidget(self.crumbs, 1)
        info.addWidget(self.legend)

        # ---- graph
        self.view = pg.GraphicsView()
        self.view.setBackground(self.palette().color(QtGui.QPalette.ColorRole.Base))
        self.view.setToolTip(
            "wheel: zoom · drag: pan · double-click: zoom to a frame · Esc: reset\n"
            "Shift+wheel: scroll rows · right-click: focus, merge, collapse…"
        )
        self.view_box = FlameViewBox(icicle=True)
        self.view.setCentralItem(self.view_box)
        self.item = FlameGraphItem()
        self.item.tooltip_fn = self.tooltip
        self.view_box.addItem(self.item)
        self.item.boxClicked.connect(self._box_clicked)
        self.item.boxDoubleClicked.connect(self.zoom_to_box)
        self.item.boxContextMenu.connect(self._context_menu)
        self.item.boxHovered.connect(self._hovered)
        self.view_box.sigRangeChangedManually.connect(self._manual_zoom)
        self.stack, self.empty = content_or_placeholder(self.view, "No samples in this range")

        rows_above(self, [bar, info], self.stack)

        # Ctrl+F is the window's Find action, which calls focus_search() on the focused pane
        # (a second Ctrl+F shortcut here would make both ambiguous and neither would fire).
        on_escape(self, self._escape)
        doc.functionSelected.connect(self._show_selected)
        self._set_palette_mode(COLOR_PACKAGE)
        if doc.baseline is not None:  # a document already compared with a baseline
            self._baseline_changed()
        self._update_crumbs()

    # ------------------------------------------------------------------ Pane API
    def refresh(self) -> None:
        """Recompute the tree and layout for the document's range; keep zoom and search."""
        from pyrometer.core.analysis.calltree import call_tree

        prev_full = self._is_full_view()
        prev_range = self.view_box.viewRange()[0]
        prev_total = self.layout_.total if self.layout_ is not None else 0.0
        update_by_task_action(self.by_task_action, self.doc)
        profile = self.doc.tree_profile()
        self._profile = profile
        self.tree = call_tree(profile, self.doc.selection())
        self._relayout(keep=(prev_full, prev_range, prev_total))

    def focus_search(self) -> bool:
        self.search_edit.setFocus(QtCore.Qt.FocusReason.ShortcutFocusReason)
        self.search_edit.selectAll()
        return True

    def export_widget(self) -> QtWidgets.QWidget | None:
        return self.view

    def changeEvent(self, event: QtCore.QEvent) -> None:
        if event.type() == QtCore.QEvent.Type.PaletteChange:
            restyle(self.palette(), [self.view])
        super().changeEvent(event)

    # ------------------------------------------------------------------ public helpers
    def set_baseline(self, profile: Profile | None, name: str = "") -> None:
        """Compare against `profile` (differential colouring) or stop comparing: the document's baseline."""
        self.doc.set_baseline(profile, name)

    def _baseline_changed(self) -> None:
        """The document's baseline changed (here, in the Compare pane or from --baseline): recolour."""
        self._given_deltas = None
        self._given_name = ""
        if self.doc.baseline is not None:
            self.color_combo.setCurrentIndex(self.color_combo.findData(COLOR_DIFF))
        elif self.color_combo.currentData() == COLOR_DIFF:
            self.color_combo.setCurrentIndex(0)
        # Compare… toggles: its text says what a click will do
        self.compare_button.setText("Stop comparing" if self.doc.baseline is not None else "Compare…")
        self._apply_colors()

    def _baseline_label(self) -> str:
        return (self._given_name if self._given_deltas is not None else self.doc.baseline_name) or "baseline"

    def set_function_deltas(self, deltas: np.ndarray | None, name: str = "") -> None:
        """Differential colouring from given per-function deltas (index = function id of this
        document's profile; e.g. mapped from `diff_functions(...).delta`). None stops it."""
        self._given_name = name
        self._given_deltas = None if deltas is None else np.asarray(deltas, np.float64)
        wanted = COLOR_DIFF if deltas is not None else COLOR_PACKAGE
        self.color_combo.setCurrentIndex(self.color_combo.findData(wanted))
        self._apply_colors()

    def set_icicle(self, on: bool) -> None:
        self.view_box.invertY(bool(on))
        if self.icicle_check.isChecked() != on:
            self.icicle_check.setChecked(on)

    def search(self, text: str) -> tuple[int, float]:
        """Highlight boxes whose function name contains `text`; (matches, share of total)."""
        self.search_edit.setText(text)
        return self.match_count, self.match_share

    def zoom_to_box(self, box: int) -> None:
        """Zoom x to one box and remember its call path (breadcrumbs; survives refreshes)."""
        if box < 0 or self.layout_ is None or self.tree is None:
            return
        self._zoom_path = tuple(int(f) for f in self.tree.path(int(self.layout_.node[box])))
        self._show_box(box)
        self._update_crumbs()

    def reset_zoom(self) -> None:
        self._zoom_path = None
        self.view_box.reset_view()
        self._update_crumbs()

    def box_function(self, box: int) -> int:
        return int(self._box_func[box]) if 0 <= box < len(self._box_func) else -1

    # ------------------------------------------------------------------ layout
    def _relayout(self, *_args: Any, keep: tuple[bool, list[float], float] | None = None) -> None:
        if self.tree is None or self._profile is None:
            return
        from pyrometer.core.analysis.flame import flame_layout

        if keep is None:
            keep = (self._is_full_view(), self.view_box.viewRange()[0], self.layout_.total if self.layout_ else 0.0)
        order = str(self.order_combo.currentData())
        layout = flame_layout(self.tree, order=order, profile=self._profile)  # type: ignore[arg-type]
        self.layout_ = layout
        n = len(layout.x)
        self._box_func = np.asarray(layout.func, np.int32)
        self._node_box = np.full(self.tree.node_count, -1, np.int64)
        self._node_box[np.asarray(layout.node, np.int64)] = np.arange(n)
        names = display_names(self._profile)
        labels = _BoxNames(names, self._box_func)
        self.stack.setCurrentWidget(self.view if n and layout.total > 0 else self.empty)
        parent_node = np.asarray(self.tree.parent, np.int64)[np.asarray(layout.node, np.int64)]
        parent_box = self._node_box[np.maximum(parent_node, 0)]  # node 0 (the root) has no box: -1
        self.item.set_boxes(layout.x, layout.width, layout.depth, self._colors_for_boxes(), labels, parent=parent_box)
        rows = int(np.max(layout.depth)) + 1 if n else 1
        self.view_box.set_extent(0.0, float(layout.total) if layout.total > 0 else 1.0, rows)
        self._restore_view(*keep)
        self._apply_search()
        self._show_selected(self.doc.selected_function)

    def _is_full_view(self) -> bool:
        if self.layout_ is None or self.layout_.total <= 0:
            return True
        x0, x1 = self.view_box.viewRange()[0]
        total = self.layout_.total
        return x0 <= total * 1e-6 and x1 >= total * (1 - 1e-6)

    def _restore_view(self, was_full: bool, prev_range: list[float], prev_total: float) -> None:
        total = self.layout_.total if self.layout_ is not None else 0.0
        if self._zoom_path is not None:
            box = self._find_path(self._zoom_path)
            if box >= 0:
                self._show_box(box)
                self._update_crumbs()
                return
            self._zoom_path = None
            self._update_crumbs()
        if was_full or prev_total <= 0 or total <= 0:
            self.view_box.setXRange(0.0, max(total, 1e-12), padding=0.0)
        else:  # the user wheel-zoomed: keep the same fraction of the (grown) total
            f0, f1 = prev_range[0] / prev_total, prev_range[1] / prev_total
            self.view_box.setXRange(f0 * total, f1 * total, padding=0.0)

    def _find_path(self, path: tuple[int, ...]) -> int:
        if self.tree is None:
            return -1
        node = self.tree.find(path)
        return int(self._node_box[node]) if node > 0 else -1

    def _show_box(self, box: int) -> None:
        assert self.layout_ is not None
        x = float(self.layout_.x[box])
        w = float(self.layout_.width[box])
        self.view_box.setXRange(x, x + max(w, self.layout_.total * 1e-7), padding=0.0)

    def _update_crumbs(self) -> None:
        names = display_names(self._profile) if self._profile is not None else []
        parts = ['<a href="-1" style="text-decoration:none">All</a>']
        path = self._zoom_path or ()
        for k, f in enumerate(path):
            label = names[f] if f < len(names) else "?"
            label = label if len(label) <= 40 else label[:39] + "…"
            label = label.replace("&", "&amp;").replace("<", "&lt;")
            if k == len(path) - 1:
                parts.append(f"<b>{label}</b>")
            else:
                parts.append(f'<a href="{k}" style="text-decoration:none">{label}</a>')
        if len(parts) > 8:
            parts = [*parts[:2], "…", *parts[-5:]]
        self.crumbs.setText(" › ".join(parts))

    def _crumb_clicked(self, href: str) -> None:
        k = int(href)
        if k < 0 or self._zoom_path is None:
            self.reset_zoom()
            return
        box = self._find_path(self._zoom_path[: k + 1])
        if box >= 0:
            self.zoom_to_box(box)

    def _manual_zoom(self, *_args: Any) -> None:
        """Wheel/drag moved away from the zoomed frame: the breadcrumbs no longer describe the view."""
        if self._zoom_path is not None:
            self._zoom_path = None
            self._update_crumbs()

    def _escape(self) -> None:
        if self.search_edit.hasFocus() and self.search_edit.text():
            self.search_edit.clear()
            return
        self.reset_zoom()

    # ------------------------------------------------------------------ colours
    def _set_palette_mode(self, mode: str) -> None:
        if mode == COLOR_HEAT:
            self.item.set_palette(heat_palette())
            self.legend.setText("<span style='color:#888'>pale = no self time · red = hottest</span>")
        elif mode == COLOR_DIFF:
            self.item.set_palette(diff_palette())
            base = html.escape(self._baseline_label())
            new = "#{:02x}{:02x}{:02x}".format(*NEW_PATH_COLOR)
            self.legend.setText(
                f"<span style='color:#3060c0'>■</span> faster "
                f"<span style='color:#d03020'>■</span> slower than {base}"
                + (f" <span style='color:{new}'>■</span> new call path" if self._given_deltas is None else "")
                if self.doc.baseline is not None or self._given_deltas is not None
                else "<span style='color:#888'>no baseline: use Compare…</span>"
            )
        else:
            self.item.set_palette(package_palette())
            self.legend.setText(
                " ".join(f"<span style='color:{c.name()}'>■</span> {label}" for label, c in package_legend(self.doc.by_task))
            )

    def _func_colors(self) -> np.ndarray:
        profile = self._profile
        assert profile is not None
        mode = self.color_combo.currentData()
        if mode == COLOR_HEAT and self.tree is not None:
            tree = self.tree
            func = np.asarray(tree.func)[1:]
            self_w = np.asarray(tree.self_weight, np.float64)[1:]
            ok = func >= 0
            per_func = np.bincount(func[ok], weights=self_w[ok], minlength=len(profile.func_name))
            return heat_colors(per_func)
        self._deltas = None
        if mode == COLOR_DIFF:
            if self._given_deltas is not None:
                deltas = np.zeros(len(profile.func_name))
                k = min(len(deltas), len(self._given_deltas))
                deltas[:k] = self._given_deltas[:k]
            else:
                return np.full(len(profile.func_name), DIFF_LEVELS, np.int32)  # neutral: nothing to compare with
            self._deltas = deltas
            return diff_colors(deltas)
        return package_colors(profile)

    def _colors_for_boxes(self) -> np.ndarray:
        self._path_diff = None
        if self._profile is None or len(self._box_func) == 0:
            return np.zeros(len(self._box_func), np.int32)
        baseline = self.doc.baseline
        if (
            self.color_combo.currentData() == COLOR_DIFF
            and self._given_deltas is None
            and baseline is not None
            and self.tree is not None
            and self.layout_ is not None
        ):
            # a box is a call path: `burn` under `burn_main` and under `other` change apart. The baseline is
            # cut as this run is viewed (transform, on-CPU, by task), or its paths would not be these paths
            from pyrometer.core.analysis.diff import diff_tree_paths
            from pyrometer.core.analysis.transforms import map_transform, view_of

            doc = self.doc
            base_view = view_of(baseline, map_transform(doc.transform, doc.profile, baseline), doc.on_cpu_only, doc.by_task)
            self._deltas = None
            self._path_diff = diff_tree_paths(base_view, self._profile, self.tree)
            colors = path_diff_colors(self._path_diff.delta, self._path_diff.is_new)
            return colors[np.asarray(self.layout_.node, np.int64)]
        return self._func_colors()[self._box_func]

    def _apply_colors(self, *_args: Any) -> None:
        mode = str(self.color_combo.currentData())
        self._set_palette_mode(mode)
        if self.layout_ is not None and len(self._box_func):
            self.item.set_colors(self._colors_for_boxes())

    def _choose_baseline(self) -> None:
        """Compare…: pick a file, read off the GUI thread by the document (the Compare pane shows it too)."""
        if self.doc.baseline is not None:
            self.doc.set_baseline(None)
            return
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Compare with baseline profile")
        if path:
            self.doc.load_baseline(path, self)

    # ------------------------------------------------------------------ search
    def _apply_search(self, *_args: Any) -> None:
        text = self.search_edit.text().strip().lower()
        if not text or self._profile is None or self.layout_ is None:
            self.item.set_highlight(None)
            self.match_count, self.match_share = 0, 0.0
            self.match_label.setText("")
            return
        p = self._profile
        # the name, or the file's last two path parts ("json/encoder.py" matches "json")
        func_match = np.fromiter(
            (text in n.lower() or text in _short_path(f).lower() for n, f in zip(p.func_name, p.func_file, strict=True)),
            bool,
            len(p.func_name),
        )
        mask = func_match[self._box_func] if len(self._box_func) else np.zeros(0, bool)
        self.item.set_highlight(mask)
        x = np.asarray(self.layout_.x)[mask]
        w = np.asarray(self.layout_.width)[mask]
        total = float(self.layout_.total)
        self.match_count = int(mask.sum())
        self.match_share = union_length(x, x + w) / total if total > 0 else 0.0
        self.match_label.setText(
            f"{self.match_count:,} matches · {fmt.percent(self.match_share)} of total"
            if self.match_count
            else "no match"
        )

    # ------------------------------------------------------------------ interaction
    def tooltip(self, box: int) -> str:
        if self.tree is None or self.layout_ is None or self._profile is None or box < 0:
            return ""
        p = self._profile
        node = int(self.layout_.node[box])
        func = int(self._box_func[box])
        total = float(self.layout_.total) or 1.0
        self_w = float(self.tree.self_weight[node])
        tot_w = float(self.tree.total_weight[node])
        name = display_names(p)[func].replace("&", "&amp;").replace("<", "&lt;")
        where = frame_location(p.func_file[func], p.func_line[func]).replace("<", "&lt;")
        return (
            f"<b>{name}</b><br>{where}<br>"
            f"total {fmt.weight(tot_w, p.unit)} ({fmt.percent(tot_w / total)})<br>"
            f"self {fmt.weight(self_w, p.unit)} ({fmt.percent(self_w / total)})<br>"
            f"{int(self.tree.count[node]):,} samples"
            + self._delta_text(func, node)
        )

    def _delta_text(self, func: int, node: int) -> str:
        d_path = self._path_diff
        if d_path is not None and 0 < node < len(d_path) and d_path.compared[node]:
            base = html.escape(self._baseline_label())
            now = fmt.percent(float(d_path.new_frac[node]))
            if d_path.is_new[node]:
                return f"<br>this call path: {now} of the total; new: {base} never ran it"
            d = float(d_path.delta[node])
            d = 0.0 if abs(d) < UNCHANGED_BELOW else d  # as the colour: neutral
            what = "slower" if d > 0 else ("faster" if d < 0 else "unchanged")
            was = fmt.percent(float(d_path.base_frac[node]))
            return f"<br>this call path: {now} of the total, {was} in {base}: {d * 100:+.1f} points ({what})"
        if d_path is not None or self._deltas is None or func >= len(self._deltas):
            return ""
        d = float(self._deltas[func])
        what = "slower" if d > 0 else ("faster" if d < 0 else "unchanged")
        base = html.escape(self._baseline_label())
        return f"<br>{d * 100:+.1f} points of self time vs {base} ({what})"

    def _hovered(self, box: int) -> None:
        """Mark every box of the hovered function (where else is it called from?)."""
        func = self.box_function(box)
        self.item.set_hover_mask(self._box_func == func if func >= 0 else None)

    def _box_clicked(self, box: int) -> None:
        func = self.box_function(box)
        if not is_task_frame(self.doc, func):  # a task box is no function the other panes know
            self.doc.select_function(func)

    def _show_selected(self, func: int) -> None:
        if len(self._box_func) == 0:
            return
        self.item.set_outline(self._box_func == func if func >= 0 else None)

    def _context_menu(self, box: int, pos: QtCore.QPoint) -> None:
        menu = QtWidgets.QMenu(self)
        func = self.box_function(box)
        if is_task_frame(self.doc, func):
            func = -1
        if box >= 0:
            menu.addAction("Zoom to this frame", lambda: self.zoom_to_box(box))
        menu.addAction("Reset zoom", self.reset_zoom)
        menu.addSeparator()
        path = None
        if box >= 0 and self.tree is not None and self.layout_ is not None:
            path = tuple(int(f) for f in self.tree.path(int(self.layout_.node[box])))
        add_function_actions(menu, self.doc, func, path_for_actions(self.doc, path))
        menu.popup(pos)
