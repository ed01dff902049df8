"""Stack chart pane: each thread's stacks over time (speedscope's Time Order, the Firefox
Profiler's Stack Chart).

The boxes come from core (`stack_chart_boxes`) and are painted by the flame
graph's item, which culls to the view and fills one colour per draw call.
Zoom and pan follow the other views of time through the Document's time view;
the selected function is outlined and the document's range is shaded.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from pyrometer.app.document import Document
from pyrometer.app.flame_colors import package_colors, package_legend, package_palette
from pyrometer.app.flame_item import FlameGraphItem, FlameViewBox
from pyrometer.app.panes.base import (
    Pane,
    add_function_actions,
    content_or_placeholder,
    on_escape,
    rows_above,
)
from pyrometer.app.plot_theme import restyle
from pyrometer.app.time_axis import TimeAxis
from pyrometer.core import fmt
from pyrometer.core.analysis.display_names import display_names
from pyrometer.core.analysis.stack_chart import THREAD_ROW, StackChartBoxes, stack_chart_boxes
from pyrometer.core.model import UNIT_SECONDS, Profile

THREAD_COLOR = QtGui.QColor(205, 210, 218)  # the name row of each thread
NO_SAMPLES = "No samples over time in this profile"
CALL_STATISTICS = (
    "A call-statistics profile (cProfile/pstats, callgrind) keeps how long each function ran,\n"
    "not when or in which order: there is no stack chart to draw. The flame graph and the call tree show its stacks."
)


class StackChartPane(Pane):
    """Stacks over time, one band per thread; wheel zooms, drag pans, in step with the timeline."""

    pane_id = "stack_chart"
    title = "Stack chart"

    def __init__(self, doc: Document, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(doc, parent)
        self.boxes = StackChartBoxes(np.zeros(0), np.zeros(0), np.zeros(0, np.int32), np.zeros(0, np.int32))
        self._names: list[str] = []
        self._duration = 0.0
        self._following = False  # set while we apply the document's time view (do not echo it back)
        self._laid_out: tuple[float, float, int] | None = None  # the view (x0, x1, pixels) the boxes were made for
        # a zoom or pan lays the boxes out again for the new view (a huge session is drawn per pixel)
        self._relayout_timer = QtCore.QTimer(self)
        self._relayout_timer.setSingleShot(True)
        self._relayout_timer.setInterval(30)
        self._relayout_timer.timeout.connect(self._relayout)

        self.info = QtWidgets.QLabel("")
        hint = QtWidgets.QLabel("wheel: zoom · drag: pan · shift-wheel: scroll to the other threads · double-click: zoom to a frame · Esc: show all")
        hint.setStyleSheet("color: gray")
        hint.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.fit_button = QtWidgets.QToolButton()
        self.fit_button.setText("Fit")
        self.fit_button.setToolTip("Zoom out to the whole session (Esc)")
        self.fit_button.clicked.connect(self.fit)
        legend = QtWidgets.QLabel(
            " ".join(f'<span style="color:{c.name()}">■</span> {html.escape(label)}' for label, c in package_legend())
        )
        bar = QtWidgets.QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.setSpacing(12)
        bar.addWidget(self.info)
        bar.addWidget(hint, 1)
        bar.addWidget(legend)
        bar.addWidget(self.fit_button)
        self._chart_controls = (hint, legend, self.fit_button)  # hidden when there is no chart to draw

        self.view_box = FlameViewBox(icicle=True)
        self.plot = pg.PlotWidget(viewBox=self.view_box, axisItems={"bottom": TimeAxis("bottom")})
        self.plot.setBackground(self.palette().color(QtGui.QPalette.ColorRole.Base))
        item = self.plot.getPlotItem()
        item.hideAxis("left")
        item.setLabel("bottom", "time", units="s")  # "time (ms)" when zoomed in, not "time (s) (x0.001)"
        item.hideButtons()
        item.setMenuEnabled(False)
        self.item = FlameGraphItem()
        self.item.tooltip_fn = self.tooltip
        self.item.set_palette([*package_palette(), THREAD_COLOR])
        self.view_box.addItem(self.item)
        self.region = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(80, 140, 230, 40))
        self.region.setZValue(10)
        self.region.hide()
        self.view_box.addItem(self.region, ignoreBounds=True)
        restyle(self.palette(), [self.plot], [item])
        self.item.boxClicked.connect(self._box_clicked)
        self.item.boxDoubleClicked.connect(self.zoom_to_box)
        self.item.boxContextMenu.connect(self._context_menu)
        self.view_box.sigXRangeChanged.connect(self._publish_time_view)
        self.view_box.sigXRangeChanged.connect(lambda *_a: self._relayout_timer.start())
        self.stack, self.empty = content_or_placeholder(self.plot, NO_SAMPLES)
        self.empty.setWordWrap(True)

        rows_above(self, [bar], self.stack)

        on_escape(self, self.fit)
        doc.functionSelected.connect(lambda _f: self._outline_selected())
        doc.rangeChanged.connect(self._show_range)
        doc.timeViewChanged.connect(self._follow_time_view)

    # ------------------------------------------------------------------ Pane API
    def shows_nothing(self) -> bool:
        p = self.doc.profile
        return bool(p.meta.get("deterministic")) or not (self.doc.is_live or len(p.samples))

    def export_widget(self) -> QtWidgets.QWidget | None:
        return self.plot

    def apply_theme(self) -> None:
        self.plot.setBackground(self.palette().color(QtGui.QPalette.ColorRole.Base))
        restyle(self.palette(), [self.plot], [self.plot.getPlotItem()])

    def refresh(self) -> None:
        profile = self.doc.view_profile()
        if profile.meta.get("deterministic"):  # its "samples" are a layout of costs, in no real order
            self.boxes = stack_chart_boxes(profile, frozenset())
            self.empty.setText(CALL_STATISTICS)
            self.stack.setCurrentWidget(self.empty)
            self.info.setText("")
            for w in self._chart_controls:
                w.hide()
            return
        self.empty.setText(NO_SAMPLES)
        playhead = self.doc.playhead
        self._duration = max(self.doc.duration() if playhead is None else playhead, 1e-9)
        samples = profile.samples
        if not profile.has_time and len(samples):  # the x axis is the samples' weights summed in file order
            self._duration = max(self._duration, float((samples["time"] + samples["weight"]).max()))
        axis = self.plot.getPlotItem().getAxis("bottom")
        axis.enableAutoSIPrefix(profile.has_time)  # counts of samples take no SI prefix
        axis.setLabel(self.x_label(profile), units="s" if profile.has_time else None)
        span = self.doc.time_view
        self._lay_out((0.0, self._duration) if span is None else span)
        self._outline_selected()
        self._show_range(self.doc.range)
        if span is None:
            self._following = True
            try:
                self.fit()
            finally:
                self._following = False
        else:
            self._follow_time_view(span)

    @staticmethod
    def x_label(profile: Profile) -> str:
        """What the x axis is: time, or (a file without timestamps) the samples' weights in file order."""
        if profile.has_time:
            return "time"  # in seconds (the axis adds the unit, with its SI prefix)
        what = "sampled seconds" if profile.unit == UNIT_SECONDS else profile.unit
        return f"{what}, added up in the file's order (no timestamps: not time)"

    def _pixels(self) -> int:
        return max(200, int(self.view_box.width()) or 1500)

    def _relayout(self) -> None:
        """The view moved: lay out the boxes of what it shows now (when it shows something else)."""
        if self.seen_revision < 0:
            return
        if self.stale_while_hidden():
            return
        x0, x1 = self.view_box.viewRange()[0]
        if self._laid_out is not None:
            a, b, px = self._laid_out
            tol = 0.25 * (b - a) / max(px, 1)  # under a quarter pixel: the same picture
            if abs(x0 - a) <= tol and abs(x1 - b) <= tol and px == self._pixels():
                return
        self._lay_out((x0, x1))
        self._outline_selected()

    def _lay_out(self, view: tuple[float, float]) -> None:
        """Boxes for the view [x0, x1): only what it shows, at the pane's pixel width."""
        profile = self.doc.view_profile()
        playhead = self.doc.playhead
        pixels = self._pixels()
        x0, x1 = max(0.0, view[0]), max(view[0], view[1])
        boxes = stack_chart_boxes(profile, self.doc.threads, playhead, self._duration, view=(x0, x1), pixels=pixels)
        self._laid_out = (x0, x1, pixels)
        self.boxes = boxes
        names = display_names(profile)
        thread_color = len(package_palette())
        colors = package_colors(profile)
        func = boxes.func
        is_thread = func == THREAD_ROW
        box_color = np.where(is_thread, thread_color, colors[np.maximum(func, 0)] if len(colors) else 0)
        band_name = {b.first_row: b.name for b in boxes.bands}
        self._names = [band_name.get(int(r), "") if f == THREAD_ROW else names[f] for f, r in zip(func.tolist(), boxes.row.tolist(), strict=True)]
        keep = self.view_box.viewRange()
        self._following = True  # new limits may clamp the view: that is not a zoom to share
        try:
            self.item.set_boxes(boxes.x, boxes.width, boxes.row, box_color, self._names)
            self.view_box.set_extent(0.0, self._duration * 1.01, boxes.rows)
            if self._laid_out is not None and self.seen_revision >= 0:
                self.view_box.setXRange(keep[0][0], keep[0][1], padding=0.0)
        finally:
            self._following = False
        self.stack.setCurrentWidget(self.plot if len(boxes) else self.empty)
        self.info.setText(fmt.plural(len(boxes.bands), "thread") + ("" if profile.has_time else " · no timestamps: not time"))

    # ------------------------------------------------------------------ view of time
    def fit(self) -> None:
        self.view_box.setXRange(0.0, self._duration, padding=0.0)

    def _publish_time_view(self, _vb: object = None, _rng: object = None) -> None:
        if self._following or not len(self.boxes) or not self.isVisible():
            return  # our own refresh, or a hidden pane's geometry: not the user's zoom
        x0, x1 = self.view_box.viewRange()[0]
        self.doc.set_time_view(x0, x1)

    def _follow_time_view(self, span: object) -> None:
        if not isinstance(span, tuple):
            return
        x0, x1 = self.view_box.viewRange()[0]
        if abs(x0 - span[0]) <= 1e-9 and abs(x1 - span[1]) <= 1e-9:
            return
        self._following = True
        try:
            self.view_box.setXRange(span[0], span[1], padding=0.0)
        finally:
            self._following = False

    def zoom_to_box(self, box: int) -> None:
        if box < 0:
            return
        a, b = float(self.boxes.x[box]), float(self.boxes.x[box] + self.boxes.width[box])
        pad = (b - a) * 0.02
        self.view_box.setXRange(a - pad, b + pad, padding=0.0)

    # ------------------------------------------------------------------ selection, range
    def box_function(self, box: int) -> int:
        return int(self.boxes.func[box]) if 0 <= box < len(self.boxes) else -1

    def _box_clicked(self, box: int) -> None:
        func = self.box_function(box)
        if func >= 0:
            self.doc.select_function(func)

    def _outline_selected(self) -> None:
        sel = self.doc.selected_function
        self.item.set_outline(self.boxes.func == sel if sel >= 0 and len(self.boxes) else None)

    def _show_range(self, rng: object) -> None:
        if isinstance(rng, tuple):
            self.region.setRegion((float(rng[0]), float(rng[1])))
            self.region.show()
        else:
            self.region.hide()

    def _context_menu(self, box: int, pos: QtCore.QPoint) -> None:
        menu = QtWidgets.QMenu(self)
        func = self.box_function(box)
        if box >= 0:
            a, b = float(self.boxes.x[box]), float(self.boxes.x[box] + self.boxes.width[box])
            menu.addAction("Zoom to this frame", lambda: self.zoom_to_box(box))
            menu.addAction("Select this span as the range", lambda: self.doc.set_range(a, b))
        menu.addAction("Show the whole session", self.fit)
        menu.addSeparator()
        add_function_actions(menu, self.doc, func)
        menu.popup(pos)

    def tooltip(self, box: int) -> str:
        if not 0 <= box < len(self.boxes):
            return ""
        a = float(self.boxes.x[box])
        w = float(self.boxes.width[box])
        band = self.boxes.band_of_row(int(self.boxes.row[box]))
        thread = html.escape(band.name) if band is not None else ""
        func = self.box_function(box)
        if func < 0:
            return f"<b>{thread}</b>"
        p = self.doc.view_profile()
        name = html.escape(display_names(p)[func])
        where = html.escape(fmt.file_line(p.func_file[func], p.func_line[func]))
        if not p.has_time:
            amount = fmt.seconds(w) if p.unit == UNIT_SECONDS else f"{w:,.6g} {p.unit}"
            return f"<b>{name}</b><br>{where}<br>{thread}: {amount} (the file has no timestamps)"
        return f"<b>{name}</b><br>{where}<br>{thread}: {fmt.clock(a)} – {fmt.clock(a + w)} ({fmt.seconds(w)})"
