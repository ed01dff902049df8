"""The timeline pane: per-thread activity lanes, blocking events, task lifespans and the lag curve.

Lanes are drawn by one FlameGraphItem (rows = lanes, boxes = segments), so a
thread with 10^5 samples costs what the flame graph costs: culled to the view,
sub-pixel segments merged, one drawRects per colour. The lanes themselves
(`pyrometer.core.analysis.lanes.build_lanes`) are built without Qt and
extended incrementally, so a live refresh does not rescan the session.
Dragging across either
plot selects a time range for every pane (`Document.set_range`); Esc or the
Clear button removes it. In replay a vertical line marks the playhead.
"""

from __future__ import annotations

import math
from html import escape as esc
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from pyrometer.app.document import Document
from pyrometer.app.fitting_label import ItemsHint
from pyrometer.app.flame_item import FlameGraphItem
from pyrometer.app.panes.base import Pane, content_or_placeholder
from pyrometer.app.plot_theme import restyle
from pyrometer.app.prefix_scatter import PrefixScatter
from pyrometer.app.short_axis import ShortAxis
from pyrometer.app.time_axis import TimeAxis
from pyrometer.core import fmt
from pyrometer.core.analysis.asyncio_own import profile_asyncio_own
from pyrometer.core.analysis.cpu_level import LEVEL_NAME, ON_SHARE, PARTLY_SHARE
from pyrometer.core.analysis.lane_palette import (
    ACTIVE,
    ACTIVE_NAME,
    BLOCKING,
    LANE_COLORS,
    LEVEL_OF_COLOR,
    task_legend_html,
    thread_legend_html,
)
from pyrometer.core.analysis.lanes import (
    BLOCKING_H,
    MAX_TASK_ROWS,
    TASK_H,
    THREAD_H,
    Lanes,
    build_lanes,
)
from pyrometer.core.analysis.lod import cpu_in_span, lag_curve
from pyrometer.core.analysis.task_lanes import TaskLanes

PALETTE = tuple(QtGui.QColor(*rgb) for rgb in LANE_COLORS)
MIN_LANE_PX = 18.0  # a thread lane shorter than this is hard to read: show fewer task rows
# a short pane (1366x768) lets lanes shrink to this rather than leave the stalls lane and the task rows out of the
# first view (threads alone filled it: the demo's tasks were out of sight until scrolled)
TIGHT_LANE_PX = 11.0
LAG_MIN_PX = 55.0  # the lag plot never shrinks below this (its axis and two tick labels)
AXIS_PX, AXIS_MAX_PX = 110, 220  # the lane labels' column: wider for long thread names, up to the maximum
LABEL_SLACK_PX = 8.0  # what pyqtgraph's text rect adds to a label's advance (its bounding box is a little larger)


class TimelineViewBox(pg.ViewBox):
    """x-only zoom; left-drag selects a time range, Shift/middle-drag pans."""

    sigRangeSelected = QtCore.Signal(float, float)
    sigSelecting = QtCore.Signal(float, float)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(enableMenu=False, **kwargs)
        self.setMouseEnabled(x=True, y=False)

    def wheelEvent(self, ev: Any, axis: Any = None) -> None:
        """Wheel zooms time; Shift+wheel scrolls lanes when there are more than fit."""
        if ev.modifiers() & QtCore.Qt.KeyboardModifier.ShiftModifier:
            ev.accept()
            step = -ev.delta() / 120.0 * 1.0  # one thread lane per notch
            self.translateBy(y=step if self.yInverted() else -step)
            return
        super().wheelEvent(ev, axis)

    def mouseDragEvent(self, ev: Any, axis: Any = None) -> None:
        pan = ev.button() == QtCore.Qt.MouseButton.MiddleButton or (
            ev.button() == QtCore.Qt.MouseButton.LeftButton
            and bool(ev.modifiers() & QtCore.Qt.KeyboardModifier.ShiftModifier)
        )
        if pan:
            ev.accept()
            a = self.mapToView(ev.lastPos())
            b = self.mapToView(ev.pos())
            self._resetTarget()
            self.translateBy(x=a.x() - b.x())
            return
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        t0 = self.mapToView(ev.buttonDownPos()).x()
        t1 = self.mapToView(ev.pos()).x()
        lo, hi = min(t0, t1), max(t0, t1)
        if ev.isFinish():
            self.sigRangeSelected.emit(lo, hi)
        else:
            self.sigSelecting.emit(lo, hi)


FIT_PADDING = 0.01  # "Fit" shows the session with this share of it as a margin (the view may not start before 0)


def fitted_view(duration: float) -> tuple[float, float]:
    """The x range `TimelinePane.fit` shows: padded on both sides, then moved right of 0 by the view's limits."""
    pad = duration * FIT_PADDING
    return 0.0, duration + 2 * pad


class TimelinePane(Pane):
    """Threads, blocking and tasks over time, with the loop-lag curve below; drag to select a range."""

    pane_id = "timeline"
    from_preview = True  # a recording's index holds the per-pixel activity and lag of the whole session

    def can_show(self) -> bool:
        """A preview without those summaries (an index written before them) waits for the samples."""
        summed = self.doc.profile.summed
        return super().can_show() and (not self.doc.detail_pending or (summed is not None and summed.overview))
    title = "Timeline"
    tasksPacked = QtCore.Signal()  # a worker packed the task rows asked for (emitted from its thread)

    def __init__(self, doc: Document, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(doc, parent)
        self.lanes = Lanes()
        self._duration = 0.0
        self._lanes_height = 1.0
        self._task_rows = -1  # task rows the last refresh had room for
        # task rows placed so far (a live refresh adds only new tasks); packing a day's tasks again (the detail
        # arrived, the playhead moved) runs on a worker, whose rows are drawn when it is done
        self._task_lanes = TaskLanes(on_ready=self.tasksPacked.emit)
        self.tasksPacked.connect(self._tasks_packed, QtCore.Qt.ConnectionType.QueuedConnection)
        self._ticks: list[tuple[float, str]] | None = None  # axis labels and markers last set (skip if unchanged)
        self._lag_shown = np.zeros(0)
        self._laid_out: tuple[float, float, int] | None = None  # the view (x0, x1, pixels) the lanes were made for
        # a zoom or pan lays the thread lanes out again for the new view (a huge session is summarised per pixel)
        self._relayout_timer = QtCore.QTimer(self)
        self._relayout_timer.setSingleShot(True)
        self._relayout_timer.setInterval(30)
        self._relayout_timer.timeout.connect(self._relayout)

        self.clear_button = QtWidgets.QToolButton()
        self.clear_button.setText("Clear selection")
        self.clear_button.setToolTip("Show the whole session again (Esc)")
        self.clear_button.clicked.connect(self.clear_selection)
        self.fit_button = QtWidgets.QToolButton()
        self.fit_button.setText("Fit")
        self.fit_button.setToolTip("Zoom out to the whole session")
        self.fit_button.clicked.connect(self.fit)
        self.info = QtWidgets.QLabel()
        # the gestures' hint gives way (whole items only, all of them in its tooltip and F1) so the pane never
        # forces the window wider than the screen: at 1366 px the counts, legend and hint do not all fit on one line
        hint = ItemsHint(["drag: select range", "wheel: zoom", "shift-drag: pan", "shift-wheel: scroll lanes"])
        hint.setStyleSheet("color: gray")
        self.hint = hint
        bar = QtWidgets.QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        self.range_label = QtWidgets.QLabel()
        self.range_label.setStyleSheet("color: rgb(40, 100, 200)")
        bar.addWidget(self.info)
        self.thread_legend = QtWidgets.QLabel(thread_legend_html())
        self.thread_legend.setToolTip(
            f"Thread lanes by the share of each stretch spent on CPU (the samples' CPU time over their span):\n"
            f"on CPU = at least {ON_SHARE:.0%}; partly on CPU = {PARTLY_SHARE:.0%} to {ON_SHARE:.0%}, e.g. a thread\n"
            f"sharing the GIL or a core with others; waiting = under {PARTLY_SHARE:.0%} (sleeping, blocked on I/O,\n"
            "a lock or the GIL). Hover a stretch for its measured CPU share. A file that records no CPU time\n"
            "(a trace, py-spy's output) has its sampled stretches drawn as active: on or off CPU is unknown."
        )
        bar.addWidget(self.thread_legend)
        self.task_legend = QtWidgets.QLabel()
        self.task_legend.setToolTip(
            "Task bars by state: running = its steps held the loop; delayed = ready to run (its timer or future had\n"
            "fired) but the loop was busy elsewhere; waiting = suspended, awaiting something (the bar's own colour:\n"
            "blue pending, green done, orange cancelled, red failed); grey: the tasks that got no row of their own,\n"
            "summed up in the last row (+N: how many are alive there). Outlined: the tasks the selected stall delayed."
        )
        self.task_legend.hide()
        bar.addWidget(self.task_legend)
        bar.addWidget(self.range_label, 1)
        bar.addWidget(hint)
        bar.addWidget(self.fit_button)
        bar.addWidget(self.clear_button)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(self.palette().color(QtGui.QPalette.ColorRole.Base))
        self.lane_vb = TimelineViewBox(invertY=True)
        self.lane_plot = self.graphics.addPlot(row=0, col=0, viewBox=self.lane_vb, axisItems={"bottom": TimeAxis("bottom")})
        self.lag_vb = TimelineViewBox()
        # its labels thin out in a short strip (pyqtgraph printed "100" over "200" at 1366x768)
        self.lag_plot = self.graphics.addPlot(row=1, col=0, viewBox=self.lag_vb, axisItems={"left": ShortAxis("left"), "bottom": TimeAxis("bottom")})
        self.graphics.ci.layout.setRowStretchFactor(0, 3)
        self.graphics.ci.layout.setRowStretchFactor(1, 1)
        self.lag_plot.setXLink(self.lane_plot)
        self.lane_plot.hideButtons()
        self.lag_plot.hideButtons()
        self.lane_plot.setLabel("bottom", "time", units="s")  # shown only while the lag plot (which carries it) is hidden
        self.lane_plot.hideAxis("bottom")
        self.lag_plot.setLabel("left", "loop lag", units="s")
        self.lag_plot.setLabel("bottom", "time", units="s")
        self.lag_plot.showGrid(x=True, y=True, alpha=0.15)
        for plot in (self.lane_plot, self.lag_plot):
            plot.getAxis("left").setWidth(AXIS_PX)
        self.item = FlameGraphItem()
        self.item.set_palette(list(PALETTE))
        self.item.tooltip_fn = self._tooltip
        self.item.boxClicked.connect(self._box_clicked)
        self.item.boxDoubleClicked.connect(self._box_double_clicked)
        self.lane_plot.addItem(self.item)
        self.lag_curve = pg.PlotDataItem(pen=pg.mkPen(QtGui.QColor(40, 110, 200), width=1.2))
        self.lag_curve.setDownsampling(auto=True, method="peak")
        self.lag_curve.setClipToView(True)
        self.lag_plot.addItem(self.lag_curve)
        self.block_markers = PrefixScatter(size=8, symbol="t", brush=pg.mkBrush(PALETTE[BLOCKING]), pen=None)
        self.lag_plot.addItem(self.block_markers)
        self.regions: list[pg.LinearRegionItem] = []
        self.playheads: list[pg.InfiniteLine] = []
        for plot in (self.lane_plot, self.lag_plot):
            region = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(80, 140, 230, 50))
            region.setZValue(10)
            region.hide()
            plot.addItem(region, ignoreBounds=True)
            self.regions.append(region)
            line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(QtGui.QColor(230, 120, 0), width=2))
            line.setZValue(20)
            line.hide()
            plot.addItem(line, ignoreBounds=True)
            self.playheads.append(line)
        restyle(self.palette(), [self.graphics], [self.lane_plot, self.lag_plot])
        self.lane_vb.sigResized.connect(self._resized)
        for vb in (self.lane_vb, self.lag_vb):
            vb.sigSelecting.connect(self._show_region)
            vb.sigRangeSelected.connect(self._range_selected)

        self.stack, self.empty = content_or_placeholder(self.graphics, "Nothing recorded over time in this profile")
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(bar)
        lay.addWidget(self.stack, 1)

        sc = QtGui.QShortcut(QtGui.QKeySequence(QtCore.Qt.Key.Key_Escape), self)
        sc.setContext(QtCore.Qt.ShortcutContext.WidgetWithChildrenShortcut)
        sc.activated.connect(self.clear_selection)
        doc.rangeChanged.connect(self._range_changed)
        doc.rangeChanged.connect(self._range_cleared)
        # zoom and pan in step with the other views of time, through the document
        self.lane_vb.sigXRangeChanged.connect(self._publish_time_view)
        self.lane_vb.sigXRangeChanged.connect(lambda *_a: self._relayout_timer.start())
        doc.timeViewChanged.connect(self._follow_time_view)
        doc.timeRequested.connect(self.show_time)
        doc.highlightedTasksChanged.connect(self._outline_tasks)

    # ------------------------------------------------------------------ Pane API
    def export_widget(self) -> QtWidgets.QWidget | None:
        return self.graphics

    def changeEvent(self, event: QtCore.QEvent) -> None:
        if event.type() == QtCore.QEvent.Type.PaletteChange:
            restyle(self.palette(), [self.graphics], [self.lane_plot, self.lag_plot])
        super().changeEvent(event)

    def _fitting_labels(self, ticks: list[tuple[float, str]]) -> list[tuple[float, str]]:
        """Lane names elided in the middle to the axis' width: pyqtgraph draws no tick label that
        does not fit, so a pool's "Thread-2 (_handle_workers)" lane had no label at all."""
        axis = self.lane_plot.getAxis("left")
        metrics = QtGui.QFontMetricsF(axis.style.get("tickFont") or QtGui.QFont())
        spare = axis.style["tickTextOffset"][0] + LABEL_SLACK_PX
        widest = max((metrics.horizontalAdvance(name) for _y, name in ticks), default=0.0)
        width = min(max(AXIS_PX, math.ceil(widest + spare)), AXIS_MAX_PX)  # wider for long names, up to a limit
        if width != int(axis.width()):
            for plot in (self.lane_plot, self.lag_plot):  # both: their time axes stay aligned
                plot.getAxis("left").setWidth(width)
        room = width - spare
        middle = QtCore.Qt.TextElideMode.ElideMiddle
        return [(y, name if metrics.horizontalAdvance(name) <= room else metrics.elidedText(name, middle, room)) for y, name in ticks]

    def refresh(self) -> None:
        profile = self.doc.profile
        playhead = self.doc.playhead
        was_full = self._is_full_view()
        prev = self.lane_vb.viewRange()[0]
        self._share_height()  # threads may have appeared (live) since the last resize
        self._task_rows = self._task_rows_that_fit(len(profile.threads))
        duration = profile.duration() if playhead is None else playhead
        # the view the fit below shows: laid out for (0, duration), the lanes were built a second time
        # for the padded view by the relayout the fit started (in the paint after every live refresh)
        view = fitted_view(max(duration, 1e-6)) if was_full else (max(0.0, prev[0]), prev[1])
        x = self._lay_out(view, duration)
        height = max(float(sum(self.lanes.heights)), 1.0)
        ticks = self.lanes.ticks()
        if ticks != self._ticks:  # the same lanes as last time (live growth): keep the axis as it is
            self._ticks = ticks
            self.lane_plot.getAxis("left").setTicks([self._fitting_labels(ticks), []])
        self._lanes_height = height
        self._fit_lanes()
        t = self._lag_shown if len(self._lag_shown) else profile.lag["time"]  # the curve in view, or any probe
        # the stalls up to the playhead, as the blocking lane has them (a prefix of the session's, time-sorted):
        # only the markers that changed are set (every stall before the playhead was listed and set: ~50 ms a day's)
        self.block_markers.mark(*self.lanes.stalls)
        has_lag = bool(len(t) or self.block_markers.shown)
        if has_lag != self.lag_plot.isVisible():
            self.lag_plot.setVisible(has_lag)
            self._share_height()
        self.lane_plot.showAxis("bottom", not has_lag)  # no event loop: the time axis goes under the lanes
        self._duration = max(duration, 1e-6)
        for vb in (self.lane_vb, self.lag_vb):
            vb.setLimits(xMin=0.0, xMax=self._duration * (1 + 2 * FIT_PADDING))
        if was_full:
            self.fit()
        else:
            self.lane_vb.setXRange(prev[0], prev[1], padding=0.0)
        self.stack.setCurrentWidget(self.graphics if len(x) or len(t) else self.empty)
        self.empty.setText(
            "A deterministic profile (call statistics) has no timeline"
            if profile.meta.get("deterministic")
            else "Nothing recorded over time in this profile"
        )
        for line in self.playheads:
            line.setVisible(playhead is not None)
            if playhead is not None:
                line.setValue(playhead)
        self._range_changed(self.doc.range)
        # the program's tasks: asyncio.run's own shutdown steps are not among them
        own = len(profile_asyncio_own(profile)) if profile.tasks else 0
        tasks = "tasks: loading detail…" if self.doc.detail_pending else fmt.plural(len(profile.tasks) - own, "task")
        if self._task_lanes.packing:
            tasks += " (placing them…)"
        self.info.setText(
            f"{fmt.plural(len(profile.threads), 'thread')} · {fmt.plural(self.block_markers.shown, 'blocking event')} · {tasks}"
        )

    def _tasks_packed(self) -> None:
        """Draw the task rows a worker packed (now if on screen, else when next shown)."""
        if not self.stale_while_hidden():
            self.refresh()

    def _pixels(self) -> int:
        return max(200, int(self.lane_vb.width()) or 1500)

    def _lay_out(self, view: tuple[float, float], duration: float) -> np.ndarray:
        """Build the lanes for the view [x0, x1) at the pane's pixel width and hand them to the item."""
        profile = self.doc.profile
        playhead = self.doc.playhead
        pixels = self._pixels()
        self.lanes = build_lanes(
            profile, playhead, self._task_rows, self.doc.threads, duration if playhead is None else None, self._task_lanes,
            view=view, pixels=pixels,
        )
        self._laid_out = (view[0], view[1], pixels)
        x, w, row, color = self.lanes.arrays()
        self.item.set_boxes(x, w, row, color, self.lanes.labels, np.asarray(self.lanes.heights))
        self._outline_tasks()
        in_view = (x + w >= view[0]) & (x <= view[1])  # the legends name the colours the view shows, no others
        shown = color[in_view]  # colours are small palette indexes: counted, not hashed (np.unique: ~10 ms a day's boxes)
        drawn = set(np.flatnonzero(np.bincount(shown[shown >= 0])).tolist()) if len(shown) else set()
        self.task_legend.setText(task_legend_html(drawn, self.lanes.hidden_tasks))
        self.task_legend.setVisible(bool(self.task_legend.text()))
        self.thread_legend.setText(thread_legend_html(drawn))
        self.thread_legend.setVisible(bool(self.thread_legend.text()))
        t, lag = lag_curve(profile, view[0], view[1], pixels, playhead)  # at most two points a pixel
        if len(t) or len(self._lag_shown):
            self.lag_curve.setData(t, lag)
            self._lag_shown = t
        return x

    def _relayout(self) -> None:
        """The view moved: summarise the thread lanes for what it shows now (when it shows something else)."""
        if self._laid_out is None:
            return
        if self.stale_while_hidden():
            return
        x0, x1 = self.lane_vb.viewRange()[0]
        a, b, px = self._laid_out
        tol = 0.25 * (b - a) / max(px, 1)  # under a quarter pixel: the same picture
        if abs(x0 - a) <= tol and abs(x1 - b) <= tol and px == self._pixels():
            return
        playhead = self.doc.playhead
        self._lay_out((max(0.0, x0), x1), self.doc.profile.duration() if playhead is None else playhead)

    def _outline_tasks(self, *_args: object) -> None:
        """Outline the boxes of the document's highlighted tasks (the ones a selected stall delayed)."""
        ids = self.doc.highlighted_tasks
        self.item.set_outline(self.lanes.task_mask(ids) if ids else None)

    # ------------------------------------------------------------------ view
    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._share_height()

    def _share_height(self) -> None:
        """In a short pane the lag plot gives way so every thread lane (and two task rows) stays readable.

        At 1366x768 the timeline dock is ~180 px: with the plain 3:1 split the lag plot's axes took
        so much that the third of three threads was cut off.
        """
        if not self.lag_plot.isVisible():  # no event loop: a hidden plot still held its row's height
            self.lag_plot.setMaximumHeight(0)
            return
        threads = max(1, len(self.doc.profile.threads))
        lanes_px = (threads * THREAD_H + BLOCKING_H + 2 * TASK_H) * MIN_LANE_PX + 8
        room = self.graphics.height() - lanes_px
        self.lag_plot.setMaximumHeight(max(LAG_MIN_PX, min(room, self.graphics.height() / 4 + 40)))

    def _resized(self) -> None:
        """A new height: rebuild when a different number of task rows fits, else just refit."""
        if self._task_rows >= 0 and self._task_rows_that_fit(len(self.doc.profile.threads)) != self._task_rows:
            self.refresh()
        else:
            self._fit_lanes()

    def _fit_lanes(self) -> None:
        """Show as many lanes as stay ≥ MIN_LANE_PX tall; Shift+wheel scrolls the rest.

        When that would leave the stalls lane or the first two task rows below the view, and they all fit
        at TIGHT_LANE_PX, the lanes shrink to show them: the first view has every kind of lane in it.
        """
        height = self._lanes_height
        px = self.lane_vb.height()
        shown = min(height, px / MIN_LANE_PX) if px > 0 else height
        first_view = min(height, self._first_view_units())
        if px > 0 and shown < first_view <= px / TIGHT_LANE_PX:
            shown = first_view
        y0 = min(max(self.lane_vb.viewRange()[1][0], 0.0), height - shown) if shown < height else 0.0
        self.lane_vb.setLimits(yMin=0.0, yMax=height, minYRange=shown, maxYRange=shown)
        self.lane_vb.setYRange(y0, y0 + shown, padding=0.0)

    def _first_view_units(self) -> float:
        """Plot units from the top through the second task row: the threads, the stalls lane, two task rows."""
        total, task_rows = 0.0, 0
        for kind, h in zip(self.lanes.kinds, self.lanes.heights, strict=True):
            total += h
            task_rows += kind == "task"
            if task_rows == 2:
                break
        return total

    def _task_rows_that_fit(self, threads: int) -> int:
        """As many task rows as leave every thread lane ≥ MIN_LANE_PX tall in the current height."""
        px = self.lane_vb.height()
        if px <= 0:
            return MAX_TASK_ROWS
        units = px / MIN_LANE_PX - threads * THREAD_H - BLOCKING_H
        return int(min(MAX_TASK_ROWS, max(2, units // TASK_H)))

    def fit(self) -> None:
        self.lane_vb.setXRange(0.0, self._duration, padding=FIT_PADDING)

    def _is_full_view(self) -> bool:
        if self._duration <= 0:
            return True
        x0, x1 = self.lane_vb.viewRange()[0]
        return x0 <= self._duration * 0.02 and x1 >= self._duration * 0.98

    def _publish_time_view(self, _vb: object = None, rng: object = None) -> None:
        x0, x1 = self.lane_vb.viewRange()[0]
        self.doc.set_time_view(x0, x1)

    def _follow_time_view(self, span: object) -> None:
        if not isinstance(span, tuple):
            return
        x0, x1 = self.lane_vb.viewRange()[0]
        if abs(x0 - span[0]) > 1e-9 or abs(x1 - span[1]) > 1e-9:
            self.lane_vb.setXRange(span[0], span[1], padding=0.0)

    def clear_selection(self) -> None:
        self.doc.set_range(None, None)

    def _range_cleared(self, rng: object) -> None:
        """Clearing the range shows the whole session again (a zoomed live view stayed zoomed)."""
        if rng is None and self._duration > 0:
            self.fit()

    def _show_region(self, t0: float, t1: float) -> None:
        for region in self.regions:
            region.setRegion((t0, t1))
            region.show()

    def _range_selected(self, t0: float, t1: float) -> None:
        t0, t1 = max(t0, 0.0), max(t1, 0.0)
        px = self.lane_vb.viewPixelSize()[0]
        if t1 - t0 < 2 * px:  # a click, not a drag
            self._range_changed(self.doc.range)
            return
        self.doc.set_range(t0, t1)

    def _range_changed(self, rng: object) -> None:
        if rng is None:
            for region in self.regions:
                region.hide()
            self.clear_button.setEnabled(False)
            self.range_label.setText("")
            return
        assert isinstance(rng, tuple)
        t0, t1 = float(rng[0]), float(rng[1])
        self._show_region(t0, t1)
        self.clear_button.setEnabled(True)
        self.range_label.setText(f"selected {fmt.clock(t0)} – {fmt.clock(t1)} ({fmt.seconds(t1 - t0)})")

    # ------------------------------------------------------------------ boxes
    def _tooltip(self, box: int) -> str:
        tip = self.lanes.tip(box)
        if tip is not None:
            return tip
        x, w, lane, color = self.lanes.arrays()
        if not 0 <= box < len(x):
            return ""
        a, b = float(x[box]), float(w[box])
        state = ACTIVE_NAME if int(color[box]) == ACTIVE else LEVEL_NAME[LEVEL_OF_COLOR.get(int(color[box]), 0)]
        name = esc(self.lanes.names[int(lane[box])])
        tip = f"<b>{name}</b>: {state}<br>{fmt.clock(a)} – {fmt.clock(a + b)} ({fmt.seconds(b)})"
        tid = self.lanes.thread_of.get(int(lane[box]))
        measured = None if tid is None else cpu_in_span(self.doc.profile, tid, a, a + b)
        if measured is not None and measured[1] > 0:
            cpu, span = measured
            tip += f"<br>CPU {fmt.seconds(cpu)} of {fmt.seconds(span)} sampled ({cpu / span:.0%} on CPU)"
        return tip

    def _box_span(self, box: int) -> tuple[float, float]:
        return self.lanes.box_span(box)

    def _box_clicked(self, box: int) -> None:
        """Clicking a blocking event or a task selects its time span."""
        if box < 0 or self.lanes.kind(box) == "thread":
            return
        self.doc.set_range(*self._box_span(box))

    def _box_double_clicked(self, box: int) -> None:
        if box < 0:
            return
        a, b = self._box_span(box)
        pad = (b - a) * 0.05
        self.lane_vb.setXRange(a - pad, b + pad, padding=0.0)

    def show_time(self, t0: float, t1: float) -> None:
        """Move the view (not the document's range) onto [t0, t1], with context either side.

        Any pane asks for it through `Document.request_time` (the event-loop pane: "jump to the stall").
        """
        span = max(t1 - t0, 1e-3)
        pad = max(span * 3.0, 0.5)
        a, b = max(0.0, t0 - pad), t1 + pad
        if self._duration > 0:
            b = min(b, self._duration * (1 + 2 * FIT_PADDING))
        self.lane_vb.setXRange(a, max(b, a + span), padding=0.0)

