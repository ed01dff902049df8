"""The event-loop pane: lag over time, percentiles, a histogram and the blocking events.

The lag curve and the blocking list cover the whole session up to the
playhead (so the user can click through every blocking event); the
percentiles and histogram describe the selected range. Selecting a blocking
event shows the stack that blocked and moves the document range onto it.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from pyrometer.app import fmt
from pyrometer.app.document import Document
from pyrometer.app.panes.base import Pane, content_or_placeholder
from pyrometer.app.plot_theme import restyle
from pyrometer.core.analysis.loop import (
    blocking_events,
    innermost_frame,
    lag_stats,
    lag_values,
    stack_labels,
)
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.model import BlockingEvent, Profile

BLOCK_COLUMNS = ("Start", "Duration", "Function", "Thread")
LAG_PEN = pg.mkPen(QtGui.QColor(40, 110, 200), width=1.5)
BLOCK_BRUSH = pg.mkBrush(QtGui.QColor(215, 50, 40, 220))
SELECTED_BRUSH = pg.mkBrush(QtGui.QColor(255, 200, 0, 255))


def blocking_function(profile: Profile, event: BlockingEvent) -> tuple[str, int]:
    """(label, function id) of the innermost frame that was running, or the callback text."""
    frame = innermost_frame(profile, event.stack)
    if frame < 0:
        return (event.callback or "?"), -1
    func = profile.frame_func(frame)
    return profile.func_name[func], func


def _ms_label(seconds: float) -> str:
    if not np.isfinite(seconds):
        return "∞"
    ms = seconds * 1000.0
    return f"{ms:g}" if ms >= 1 else f"{ms:.1f}"


class EventLoopPane(Pane):
    """Loop lag (plot, p50/p95/p99/max, histogram) and blocking events with their stacks."""

    title = "Event loop"
    area = "bottom"

    def __init__(self, doc: Document, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(doc, parent)
        self.events: list[BlockingEvent] = []
        self._events_key: tuple[Any, ...] | None = None
        self._events_profile = 0  # id() of the profile the table rows belong to

        # ---- numbers
        self.stat_labels: dict[str, QtWidgets.QLabel] = {}
        stats = QtWidgets.QHBoxLayout()
        stats.setContentsMargins(6, 2, 6, 2)
        stats.setSpacing(18)
        self.scope_label = QtWidgets.QLabel()
        stats.addWidget(self.scope_label)
        for key, tip in (
            ("probes", "Lag probes in the selected range"),
            ("p50", "Median loop lag"),
            ("p95", "95th percentile of loop lag"),
            ("p99", "99th percentile of loop lag"),
            ("max", "Worst loop lag"),
            ("blocking", "Blocking events (loop stalled) in the selected range"),
        ):
            label = QtWidgets.QLabel()
            label.setToolTip(tip)
            label.setTextFormat(QtCore.Qt.TextFormat.RichText)
            self.stat_labels[key] = label
            stats.addWidget(label)
        stats.addStretch(1)

        # ---- lag over time
        self.lag_plot = pg.PlotWidget()
        self.lag_plot.setBackground(self.palette().color(QtGui.QPalette.ColorRole.Base))
        self.lag_plot.setLabel("left", "lag", units="s")
        self.lag_plot.setLabel("bottom", "time", units="s")
        self.lag_plot.showGrid(x=True, y=True, alpha=0.2)
        self.lag_plot.setMouseEnabled(x=True, y=False)
        self.lag_plot.setMenuEnabled(False)
        self.lag_curve = pg.PlotDataItem(pen=LAG_PEN)
        self.lag_curve.setDownsampling(auto=True, method="peak")
        self.lag_curve.setClipToView(True)
        self.lag_plot.addItem(self.lag_curve)
        self.block_markers = pg.ScatterPlotItem(size=9, symbol="t", brush=BLOCK_BRUSH, pen=None)
        self.block_markers.setToolTip("Blocking events (click a row in the list to inspect one)")
        self.lag_plot.addItem(self.block_markers)
        self.range_region = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(80, 140, 230, 40))
        self.range_region.setZValue(-10)
        self.range_region.hide()
        self.lag_plot.addItem(self.range_region)
        self.block_markers.sigClicked.connect(self._marker_clicked)

        # ---- histogram
        self.hist_plot = pg.PlotWidget()
        self.hist_plot.setBackground(self.palette().color(QtGui.QPalette.ColorRole.Base))
        self.hist_plot.setLabel("bottom", "lag (ms)")
        self.hist_plot.setLabel("left", "probes")
        self.hist_plot.setMouseEnabled(x=False, y=False)
        self.hist_plot.setMenuEnabled(False)
        self.hist_plot.hideButtons()
        self.hist_bars = pg.BarGraphItem(x=[], height=[], width=0.85, brush=pg.mkBrush(70, 130, 200))
        self.hist_plot.addItem(self.hist_bars)

        # ---- blocking events + stack
        self.table = QtWidgets.QTableWidget(0, len(BLOCK_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(BLOCK_COLUMNS))
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 90)
        self.table.setColumnWidth(1, 90)
        self.table.setColumnWidth(2, 240)
        self.table.itemSelectionChanged.connect(self._event_selected)
        self.stack_list = QtWidgets.QListWidget()
        self.stack_list.setToolTip("Stack that blocked the loop, innermost frame first")
        self.stack_title = QtWidgets.QLabel("Select a blocking event to see its stack")
        stack_box = QtWidgets.QWidget()
        sl = QtWidgets.QVBoxLayout(stack_box)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(self.stack_title)
        sl.addWidget(self.stack_list, 1)
        self.blocking_title = QtWidgets.QLabel("<b>Blocking events</b>")
        table_box = QtWidgets.QWidget()
        tl = QtWidgets.QVBoxLayout(table_box)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.blocking_title)
        tl.addWidget(self.table, 1)

        top = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        top.addWidget(self.lag_plot)
        top.addWidget(self.hist_plot)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 1)
        bottom = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        bottom.addWidget(table_box)
        bottom.addWidget(stack_box)
        bottom.setStretchFactor(0, 1)
        bottom.setStretchFactor(1, 1)
        main = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        main.addWidget(top)
        main.addWidget(bottom)
        self.stack, self.empty = content_or_placeholder(main, "No event loop was observed in this profile")
        self._main = main

        self._restyle()
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(stats)
        lay.addWidget(self.stack, 1)

    # ------------------------------------------------------------------ Pane API
    def export_widget(self) -> QtWidgets.QWidget | None:
        return self.lag_plot

    def changeEvent(self, event: QtCore.QEvent) -> None:
        if event.type() == QtCore.QEvent.Type.PaletteChange:
            self._restyle()
        super().changeEvent(event)

    def _restyle(self) -> None:
        plots = [self.lag_plot.getPlotItem(), self.hist_plot.getPlotItem()]
        restyle(self.palette(), [self.lag_plot, self.hist_plot], plots)

    def refresh(self) -> None:
        profile = self.doc.profile
        playhead = self.doc.playhead
        has_loop = bool(len(profile.lag) or profile.blocking or profile.loops)
        self.stack.setCurrentWidget(self._main if has_loop else self.empty)
        sel = self.doc.selection()
        self.scope_label.setText(
            f"<b>Range {fmt.clock(sel.t0)} – {fmt.clock(sel.t1)}</b>" if self.doc.range is not None else "<b>Whole session</b>"
        )
        stats = lag_stats(profile, sel)
        self._show_stats(stats.probes, stats.p50, stats.p95, stats.p99, stats.max)
        self._show_histogram(stats.hist_edges, stats.hist_counts)

        upto = Selection(t0=None, t1=playhead, threads=self.doc.threads)
        t, lag = lag_values(profile, upto)
        self.lag_curve.setData(t, lag)
        events = blocking_events(profile, upto)
        in_range = [e for e in events if (sel.t0 is None or e.start >= sel.t0) and (sel.t1 is None or e.start < sel.t1)]
        worst = max((e.duration for e in in_range), default=0.0)
        self.stat_labels["blocking"].setText(
            f"blocking: <b>{len(in_range)}</b>" + (f" (worst {fmt.seconds(worst)})" if in_range else "")
        )
        self._show_events(profile, events)
        rng = self.doc.range
        if rng is None:
            self.range_region.hide()
        else:
            self.range_region.setRegion(rng)
            self.range_region.show()

    # ------------------------------------------------------------------ parts
    def _show_stats(self, probes: int, p50: float, p95: float, p99: float, worst: float) -> None:
        self.stat_labels["probes"].setText(f"probes: <b>{probes:,}</b>")
        for key, value in (("p50", p50), ("p95", p95), ("p99", p99), ("max", worst)):
            text = fmt.seconds(value) if probes else "–"
            color = "#c02818" if probes and value >= 0.1 else ("#c08010" if probes and value >= 0.01 else "")
            style = f" style='color:{color}'" if color else ""
            self.stat_labels[key].setText(f"{key}: <b{style}>{text}</b>")

    def _show_histogram(self, edges: np.ndarray, counts: np.ndarray) -> None:
        n = len(counts)
        nonzero = np.flatnonzero(counts)
        last = int(nonzero[-1]) + 1 if len(nonzero) else min(n, 8)
        last = max(last, min(n, 8))  # keep a sensible minimum span
        x = np.arange(last, dtype=float)
        self.hist_bars.setOpts(x=x, height=counts[:last].astype(float), width=0.85)
        step = 1 if last <= 10 else 2
        ticks = [(i - 0.5, _ms_label(float(edges[i]))) for i in range(0, last + 1, step)]
        self.hist_plot.getAxis("bottom").setTicks([ticks, []])
        self.hist_plot.setXRange(-0.6, last - 0.4, padding=0.0)
        top = float(counts[:last].max(initial=0))
        self.hist_plot.setYRange(0.0, max(top * 1.1, 1.0), padding=0.0)

    def _show_events(self, profile: Profile, events: list[BlockingEvent]) -> None:
        key = (id(profile), len(events), tuple((e.start, e.duration, e.stack) for e in events[-3:]))
        self.block_markers.setData(
            x=[e.start for e in events],
            y=[e.duration for e in events],
            data=list(range(len(events))),
        )
        if key == self._events_key:
            self._paint_markers()
            return  # unchanged: keep the user's selection and scroll position
        self._events_key = key
        old = self.events
        # live sessions only append: keep the rows we have and add the new ones
        same_prefix = (
            self._events_profile == id(profile)
            and len(old) <= len(events)
            and all(a is b for a, b in zip(old, events[: len(old)], strict=True))
        )
        first_new = len(old) if same_prefix else 0
        self._events_profile = id(profile)
        self.events = events
        self.blocking_title.setText(f"<b>Blocking events</b> ({len(events):,})")
        selected = self.selected_event() if not same_prefix else None
        self.table.blockSignals(True)
        self.table.setRowCount(len(events))
        for row in range(first_new, len(events)):
            ev = events[row]
            func_label, _ = blocking_function(profile, ev)
            thread = profile.threads.get(ev.thread)
            values = (
                fmt.clock(ev.start),
                fmt.seconds(ev.duration),
                func_label,
                thread.name if thread is not None else str(ev.thread),
            )
            for col, value in enumerate(values):
                item = QtWidgets.QTableWidgetItem(value)
                if col < 2:
                    item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
                if col == 1 and ev.duration >= 0.1:
                    item.setForeground(QtGui.QBrush(QtGui.QColor(192, 40, 24)))
                self.table.setItem(row, col, item)
        if selected is not None and any(e is selected for e in events):
            self.table.selectRow(next(i for i, e in enumerate(events) if e is selected))
        self.table.blockSignals(False)
        self._paint_markers()

    def _paint_markers(self) -> None:
        ev = self.selected_event()
        if self.events:
            self.block_markers.setBrush([SELECTED_BRUSH if e is ev else BLOCK_BRUSH for e in self.events])

    def selected_event(self) -> BlockingEvent | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        r = rows[0].row()
        return self.events[r] if 0 <= r < len(self.events) else None

    def select_event(self, row: int) -> None:
        """Select blocking event `row` (as a click in the list would)."""
        self.table.selectRow(row)

    def _marker_clicked(self, _item: Any, points: Any, *_args: Any) -> None:
        if len(points):
            self.select_event(int(points[0].data()))

    def _event_selected(self) -> None:
        ev = self.selected_event()
        self.stack_list.clear()
        if ev is None:
            self.stack_title.setText("Select a blocking event to see its stack")
            return
        profile = self.doc.profile
        labels = stack_labels(profile, ev.stack)
        self.stack_title.setText(
            f"<b>Blocked {fmt.seconds(ev.duration)}</b> at {fmt.clock(ev.start)}"
            + (f" — {html.escape(ev.callback)}" if ev.callback.strip() else "")
        )
        if not labels:
            self.stack_list.addItem("(no Python stack recorded)")
        for i, text in enumerate(labels):
            item = QtWidgets.QListWidgetItem(text)
            if i == 0:
                f = item.font()
                f.setBold(True)
                item.setFont(f)
            self.stack_list.addItem(item)
        _, func = blocking_function(profile, ev)
        self._paint_markers()
        if func >= 0:
            self.doc.select_function(func)
        # a little past the end, so the lag probe that measured the stall is inside the range
        self.doc.set_range(ev.start, ev.start + ev.duration + max(ev.duration * 0.1, 0.01))
