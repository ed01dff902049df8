"""The timeline pane: per-thread activity lanes, blocking events, task lifespans and the lag curve.

Lanes are drawn by one FlameGraphItem (rows = lanes, boxes = segments), so a
thread with 10^5 samples costs what the flame graph costs: culled to the view,
sub-pixel segments merged, one drawRects per colour. A thread's activity runs
come from `pyrometer.core.analysis.spans.activity_runs`, which keeps them and
looks only at new samples, so a live refresh does not rescan the session.
Task rows come from `pyrometer.app.task_lanes`, which follows `Profile.task_log`
and places only new tasks (placed ones never move).
Dragging across either
plot selects a time range for every pane (`Document.set_range`); Esc or the
Clear button removes it. In replay a vertical line marks the playhead.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from html import escape as esc
from typing import Any, overload

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from pyrometer.app import fmt
from pyrometer.app.document import Document
from pyrometer.app.flame_item import FlameGraphItem
from pyrometer.app.panes.base import Pane, content_or_placeholder
from pyrometer.app.plot_theme import restyle
from pyrometer.app.task_lanes import TASK_COLOR, Overflow, TaskLanes, TaskPacker
from pyrometer.core.analysis.loop import blocking_events, lag_values
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.analysis.spans import activity_runs
from pyrometer.core.model import Profile

ON_CPU, WAITING, BLOCKING, T_PENDING, T_DONE, T_CANCELLED, T_FAILED, T_OVERFLOW = range(8)
PALETTE = (
    QtGui.QColor(58, 166, 87),  # on CPU
    QtGui.QColor(201, 211, 223),  # waiting / off CPU
    QtGui.QColor(214, 48, 39),  # loop blocked
    QtGui.QColor(86, 140, 214),  # task pending
    QtGui.QColor(150, 190, 150),  # task done
    QtGui.QColor(232, 160, 60),  # task cancelled
    QtGui.QColor(220, 80, 80),  # task failed
    QtGui.QColor(175, 175, 175),  # tasks that did not fit in the rows
)
STATE_OF_COLOR = {c: s for s, c in TASK_COLOR.items()}
MAX_TASK_ROWS = 12
THREAD_H, BLOCKING_H, TASK_H = 1.0, 0.8, 0.5  # lane heights (thread lanes are the ones to read)
MIN_LANE_PX = 18.0  # a thread lane shorter than this is hard to read: show fewer task rows


class LaneLabels(Sequence[str]):
    """Box labels, looked up lazily: thread lanes (most boxes) have none, so none are stored."""

    def __init__(self) -> None:
        self._first: list[int] = [0]  # first box of each part, then the total
        self._parts: list[list[str] | None] = []

    def append(self, labels: list[str] | None, count: int) -> None:
        self._parts.append(labels)
        self._first.append(self._first[-1] + count)

    def __len__(self) -> int:
        return self._first[-1]

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        i = index + len(self) if index < 0 else index
        if not 0 <= i < len(self):
            raise IndexError(index)
        part = bisect_right(self._first, i) - 1
        labels = self._parts[part]
        return "" if labels is None else labels[i - self._first[part]]


@dataclass
class Lanes:
    """Boxes of every lane plus what a tooltip needs, built from one profile snapshot."""

    x: list[np.ndarray] = field(default_factory=list)
    width: list[np.ndarray] = field(default_factory=list)
    row: list[np.ndarray] = field(default_factory=list)
    color: list[np.ndarray] = field(default_factory=list)
    labels: LaneLabels = field(default_factory=LaneLabels)
    # box -> tooltip (or a function making it: thousands of task boxes, hovered one at a time)
    tips: dict[int, str | Callable[[], str]] = field(default_factory=dict)
    kinds: list[str] = field(default_factory=list)  # per lane: "thread", "blocking", "task"
    names: list[str] = field(default_factory=list)  # per lane
    heights: list[float] = field(default_factory=list)  # per lane, plot units
    hidden_tasks: int = 0
    # (first box, box count, index in lane -> tooltip): lanes whose tips are made on hover
    tip_fns: list[tuple[int, int, Callable[[int], str]]] = field(default_factory=list)
    _arrays: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
    _boxes: int = 0  # boxes added so far (summing the lanes on every add was quadratic: 32k threads 62 s)

    def add(
        self,
        row: int,
        x: np.ndarray,
        w: np.ndarray,
        color: np.ndarray,
        labels: list[str] | None,
        tips: Sequence[str | Callable[[], str]] | Callable[[int], str] | None,
    ) -> None:
        """Append one lane's boxes; thread lanes pass no labels/tips (built on hover: 10^5 segments).

        `tips` may be a function of the box's index in the lane (task rows: no per-box storage).
        """
        first = self._boxes
        self._boxes += len(x)
        self._arrays = None
        self.x.append(np.asarray(x, np.float64))
        self.width.append(np.asarray(w, np.float64))
        self.row.append(np.full(len(x), row, np.int32))
        self.color.append(np.asarray(color, np.int32))
        self.labels.append(labels, len(x))
        if callable(tips):
            self.tip_fns.append((first, len(x), tips))
        elif tips is not None:
            self.tips.update((first + i, t) for i, t in enumerate(tips))

    def tip(self, box: int) -> str | None:
        """The tooltip of a blocking or task box (None for thread boxes)."""
        tip = self.tips.get(box)
        if tip is None:
            for first, count, fn in self.tip_fns:
                if first <= box < first + count:
                    return fn(box - first)
        return tip() if callable(tip) else tip

    def kind(self, box: int) -> str:
        return self.kinds[int(self.arrays()[2][box])]

    def lane_y(self) -> np.ndarray:
        """Top of each lane (plot units)."""
        return np.concatenate(([0.0], np.cumsum(self.heights)[:-1])) if self.heights else np.zeros(0)

    def lane_center(self, lane: int) -> float:
        return float(self.lane_y()[lane] + self.heights[lane] / 2)

    def ticks(self) -> list[tuple[float, str]]:
        """Axis labels: one per thread/blocking lane, one in the middle of all task rows."""
        y = self.lane_y()  # once: per lane it made 32k threads quadratic
        centers = (y + np.asarray(self.heights) / 2).tolist()
        out = [(centers[i], name) for i, (name, kind) in enumerate(zip(self.names, self.kinds, strict=True)) if kind != "task"]
        task_rows = [i for i, kind in enumerate(self.kinds) if kind == "task"]
        if task_rows:
            top, bottom = y[task_rows[0]], y[task_rows[-1]] + self.heights[task_rows[-1]]
            out.append(((top + bottom) / 2, "tasks"))
        return out

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(x, width, lane, colour) of every box, concatenated once."""
        if self._arrays is None:
            if not self.x:
                z = np.zeros(0)
                self._arrays = (z, z, np.zeros(0, np.int32), np.zeros(0, np.int32))
            else:
                self._arrays = (
                    np.concatenate(self.x),
                    np.concatenate(self.width),
                    np.concatenate(self.row),
                    np.concatenate(self.color),
                )
        return self._arrays


def activity_segments(profile: Profile, thread: int, t1: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, width, on_cpu) runs of consecutive samples in the same state (core: `activity_runs`).

    A sample lasts until the thread's next sample, but at most three typical
    intervals: a long gap means the thread was not sampled (e.g. idle in C).
    The runs are extended incrementally, so a live refresh pays for new samples only.
    """
    return activity_runs(profile, thread, t1)


def build_lanes(
    profile: Profile,
    t1: float | None,
    max_task_rows: int = MAX_TASK_ROWS,
    threads: frozenset[int] | None = None,
    duration: float | None = None,
    task_lanes: TaskLanes | None = None,
) -> Lanes:
    """Thread activity lanes (only `threads` when given), a blocking lane and packed task lanes, up to t1.

    `duration` is profile.duration() when the caller has it (it scans every sample).
    `task_lanes` is the caller's packer cache: given, a live refresh places only new tasks.
    """
    lanes = Lanes()
    row = 0
    shown = sorted(profile.threads.values(), key=lambda th: th.id)
    if profile.meta.get("deterministic"):
        shown = []  # samples synthesized from call statistics: their "times" are not a timeline
    if threads is not None:
        shown = [th for th in shown if th.id in threads]
    for th in shown:
        x, w, on = activity_segments(profile, th.id, t1)
        if len(x) == 0:
            continue
        lanes.add(row, x, w, np.where(on, ON_CPU, WAITING), None, None)
        lanes.kinds.append("thread")
        lanes.names.append(th.name)
        lanes.heights.append(THREAD_H)
        row += 1
    events = blocking_events(profile, Selection(t1=t1))
    if events or len(profile.lag):
        from pyrometer.app.panes.event_loop import blocking_function

        names = [blocking_function(profile, e)[0] for e in events]
        lanes.add(
            row,
            np.array([e.start for e in events]),
            np.array([e.duration for e in events]),
            np.full(len(events), BLOCKING),
            names,
            [f"<b>loop blocked {fmt.seconds(e.duration)}</b> at {fmt.clock(e.start)}<br>in {esc(n)}" for e, n in zip(events, names, strict=True)],
        )
        lanes.kinds.append("blocking")
        lanes.names.append("loop blocked")
        lanes.heights.append(BLOCKING_H)
        row += 1
    end_of = t1 if t1 is not None else (profile.duration() if duration is None else duration)
    packer = (task_lanes or TaskLanes()).get(profile, t1, max_task_rows, end_of)
    for slot, r in enumerate(packer.rows):
        lanes.add(row + slot, r.x.view(), r.w.view(), r.color.view(), r.names, partial(_row_tip, packer, slot))
        lanes.kinds.append("task")
        lanes.names.append("tasks" if slot == 0 else "")
        lanes.heights.append(TASK_H)
    lanes.hidden_tasks = packer.hidden
    if packer.hidden:
        _add_overflow_row(lanes, row + len(packer.rows), packer.overflow())
    return lanes


def _row_tip(packer: TaskPacker, slot: int, index: int) -> str:
    """A task box's tooltip, made on hover (rows hold thousands of tasks)."""
    r = packer.rows[slot]
    tk = packer.tasks[r.ids[index]] if packer.tasks is not None else None
    start, stop = float(r.x.data[index]), float(r.x.data[index] + r.w.data[index])
    state = STATE_OF_COLOR.get(int(r.color.data[index]), "done")
    return _task_tip(r.names[index], tk.coro if tk is not None else "", state, start, stop)


def _task_tip(name: str, coro: str, state: str, start: float, stop: float) -> str:
    return f"<b>task {esc(name)}</b> ({state})<br>{esc(coro)}<br>{fmt.clock(start)} – {fmt.clock(stop)} ({fmt.seconds(stop - start)})"


def _overflow_tip(over: Overflow, i: int) -> str:
    """Made on hover: a long session has thousands of overflow spans."""
    c, a, b = int(over.count[i]), float(over.start[i]), float(over.stop[i])
    return (
        f"<b>{c:,} more task{'s' if c > 1 else ''}</b> alive here that did not fit<br>"
        f"{fmt.clock(a)} – {fmt.clock(b)} (all are in the Tasks pane)"
    )


def _add_overflow_row(lanes: Lanes, row: int, over: Overflow) -> None:
    """One row for the tasks that did not fit: the union of their lifespans, with a count each."""
    x = over.start
    w = over.stop - over.start
    labels = [f"+{c:,}" for c in over.count.tolist()]
    lanes.add(row, x, w, np.full(len(x), T_OVERFLOW), labels, partial(_overflow_tip, over))
    lanes.kinds.append("task")
    lanes.names.append("")
    lanes.heights.append(TASK_H)


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


class TimelinePane(Pane):
    """Threads, blocking and tasks over time, with the loop-lag curve below; drag to select a range."""

    title = "Timeline"
    area = "top"

    def __init__(self, doc: Document, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(doc, parent)
        self.lanes = Lanes()
        self._duration = 0.0
        self._lanes_height = 1.0
        self._task_rows = -1  # task rows the last refresh had room for
        self._task_lanes = TaskLanes()  # task rows placed so far (a live refresh adds only new tasks)
        self._ticks: list[tuple[float, str]] | None = None  # axis labels and markers last set (skip if unchanged)
        self._marks: list[tuple[float, float]] = []
        self._lag_shown = np.zeros(0)

        self.clear_button = QtWidgets.QToolButton()
        self.clear_button.setText("Clear selection")
        self.clear_button.setToolTip("Show the whole session again (Esc)")
        self.clear_button.clicked.connect(self.clear_selection)
        self.fit_button = QtWidgets.QToolButton()
        self.fit_button.setText("Fit")
        self.fit_button.setToolTip("Zoom out to the whole session")
        self.fit_button.clicked.connect(self.fit)
        self.info = QtWidgets.QLabel()
        hint = QtWidgets.QLabel("drag: select range · wheel: zoom · shift-drag: pan · shift-wheel: scroll lanes")
        hint.setStyleSheet("color: gray")
        bar = QtWidgets.QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        self.range_label = QtWidgets.QLabel()
        self.range_label.setStyleSheet("color: rgb(40, 100, 200)")
        bar.addWidget(self.info)
        bar.addWidget(self.range_label, 1)
        bar.addWidget(hint)
        bar.addWidget(self.fit_button)
        bar.addWidget(self.clear_button)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(self.palette().color(QtGui.QPalette.ColorRole.Base))
        self.lane_vb = TimelineViewBox(invertY=True)
        self.lane_plot = self.graphics.addPlot(row=0, col=0, viewBox=self.lane_vb)
        self.lag_vb = TimelineViewBox()
        self.lag_plot = self.graphics.addPlot(row=1, col=0, viewBox=self.lag_vb)
        self.graphics.ci.layout.setRowStretchFactor(0, 3)
        self.graphics.ci.layout.setRowStretchFactor(1, 1)
        self.lag_plot.setXLink(self.lane_plot)
        self.lane_plot.hideButtons()
        self.lag_plot.hideButtons()
        self.lane_plot.hideAxis("bottom")
        self.lag_plot.setLabel("left", "loop lag", units="s")
        self.lag_plot.setLabel("bottom", "time", units="s")
        self.lag_plot.showGrid(x=True, y=True, alpha=0.15)
        for plot in (self.lane_plot, self.lag_plot):
            plot.getAxis("left").setWidth(110)
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
        self.block_markers = pg.ScatterPlotItem(size=8, symbol="t", brush=pg.mkBrush(PALETTE[BLOCKING]), pen=None)
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

    # ------------------------------------------------------------------ Pane API
    def export_widget(self) -> QtWidgets.QWidget | None:
        return self.graphics

    def changeEvent(self, event: QtCore.QEvent) -> None:
        if event.type() == QtCore.QEvent.Type.PaletteChange:
            restyle(self.palette(), [self.graphics], [self.lane_plot, self.lag_plot])
        super().changeEvent(event)

    def refresh(self) -> None:
        profile = self.doc.profile
        playhead = self.doc.playhead
        was_full = self._is_full_view()
        prev = self.lane_vb.viewRange()[0]
        self._task_rows = self._task_rows_that_fit(len(profile.threads))
        duration = profile.duration() if playhead is None else playhead
        self.lanes = build_lanes(
            profile, playhead, self._task_rows, self.doc.threads, duration if playhead is None else None, self._task_lanes
        )
        x, w, row, color = self.lanes.arrays()
        self.item.set_boxes(x, w, row, color, self.lanes.labels, np.asarray(self.lanes.heights))
        height = max(float(sum(self.lanes.heights)), 1.0)
        ticks = self.lanes.ticks()
        if ticks != self._ticks:  # the same lanes as last time (live growth): keep the axis as it is
            self._ticks = ticks
            self.lane_plot.getAxis("left").setTicks([ticks, []])
        self._lanes_height = height
        self._fit_lanes()
        t, lag = lag_values(profile, Selection(t1=playhead))
        if len(t) or len(self._lag_shown):
            self.lag_curve.setData(t, lag)
            self._lag_shown = t
        events = blocking_events(profile, Selection(t1=playhead))
        marks = [(e.start, e.duration) for e in events]
        if marks != self._marks:
            self._marks = marks
            self.block_markers.setData(x=[m[0] for m in marks], y=[m[1] for m in marks])
        self.lag_plot.setVisible(bool(len(t) or events))
        self._duration = max(duration, 1e-6)
        for vb in (self.lane_vb, self.lag_vb):
            vb.setLimits(xMin=0.0, xMax=self._duration * 1.02)
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
        extra = f" · {self.lanes.hidden_tasks:,} more tasks summarised in the grey row" if self.lanes.hidden_tasks else ""
        self.info.setText(f"{len(profile.threads)} threads · {len(events)} blocking events · {len(profile.tasks)} tasks{extra}")

    # ------------------------------------------------------------------ view
    def _resized(self) -> None:
        """A new height: rebuild when a different number of task rows fits, else just refit."""
        if self._task_rows >= 0 and self._task_rows_that_fit(len(self.doc.profile.threads)) != self._task_rows:
            self.refresh()
        else:
            self._fit_lanes()

    def _fit_lanes(self) -> None:
        """Show as many lanes as stay ≥ MIN_LANE_PX tall; Shift+wheel scrolls the rest."""
        height = self._lanes_height
        px = self.lane_vb.height()
        shown = min(height, px / MIN_LANE_PX) if px > 0 else height
        y0 = min(max(self.lane_vb.viewRange()[1][0], 0.0), height - shown) if shown < height else 0.0
        self.lane_vb.setLimits(yMin=0.0, yMax=height, minYRange=shown, maxYRange=shown)
        self.lane_vb.setYRange(y0, y0 + shown, padding=0.0)

    def _task_rows_that_fit(self, threads: int) -> int:
        """As many task rows as leave every thread lane ≥ MIN_LANE_PX tall in the current height."""
        px = self.lane_vb.height()
        if px <= 0:
            return MAX_TASK_ROWS
        units = px / MIN_LANE_PX - threads * THREAD_H - BLOCKING_H
        return int(min(MAX_TASK_ROWS, max(2, units // TASK_H)))

    def fit(self) -> None:
        self.lane_vb.setXRange(0.0, self._duration, padding=0.01)

    def _is_full_view(self) -> bool:
        if self._duration <= 0:
            return True
        x0, x1 = self.lane_vb.viewRange()[0]
        return x0 <= self._duration * 0.02 and x1 >= self._duration * 0.98

    def clear_selection(self) -> None:
        self.doc.set_range(None, None)

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
        state = "on CPU" if int(color[box]) == ON_CPU else "waiting (off CPU)"
        name = esc(self.lanes.names[int(lane[box])])
        return f"<b>{name}</b>: {state}<br>{fmt.clock(a)} – {fmt.clock(a + b)} ({fmt.seconds(b)})"

    def _box_span(self, box: int) -> tuple[float, float]:
        x, w, _, _ = self.lanes.arrays()
        return float(x[box]), float(x[box] + w[box])

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

        The event-loop pane calls this when a blocking event is selected ("jump to it").
        """
        span = max(t1 - t0, 1e-3)
        pad = max(span * 3.0, 0.5)
        a, b = max(0.0, t0 - pad), t1 + pad
        if self._duration > 0:
            b = min(b, self._duration * 1.02)
        self.lane_vb.setXRange(a, max(b, a + span), padding=0.0)
