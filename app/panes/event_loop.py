"""The event-loop pane: lag over time, percentiles, a histogram and the blocking events.

Everything in the pane describes the whole session up to the playhead, so the
numbers stay meaningful while the user clicks through stalls. A selected time
range is shown on top of that (its own line with a Clear button, its probes
highlighted in the histogram), never instead of it: a range is often one
stall, whose single probe makes a degenerate histogram. Selecting a blocking
event shows the stack that blocked, selects the stall's time range (so the
flame graph shows what ran during it) and moves the timeline's view onto it.

The pane lays itself out by shape: plots above the lists when it is tall, all
four side by side when it is wide and short (the default bottom dock), with
axis labels and the histogram dropped when there is no room for them.
"""

from __future__ import annotations

import bisect
import html
import math
import operator
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from pyrometer.app.document import Document
from pyrometer.app.panes.base import Pane, add_function_actions, content_or_placeholder
from pyrometer.app.panes.stall_model import (
    BLOCK_COLUMNS,
    EVENT_ROLE,
    SORT_ROLE,
    StallTable,
    StallTableModel,
    blocking_task_label,
)
from pyrometer.app.plot_theme import restyle
from pyrometer.app.prefix_scatter import PrefixScatter
from pyrometer.app.time_axis import TimeAxis
from pyrometer.core import fmt
from pyrometer.core.analysis.lod import lag_curve
from pyrometer.core.analysis.loop import (
    blocking_events,
    blocking_function,
    event_range,
    lag_stats,
    lag_values,
    stack_labels,
)
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.analysis.stall_asof import duration_at, event_at, ongoing_at, worst_at
from pyrometer.core.analysis.stall_steps import several_steps
from pyrometer.core.model import BlockingEvent, Profile

LAG_PEN = pg.mkPen(QtGui.QColor(40, 110, 200), width=1.5)
BLOCK_BRUSH = pg.mkBrush(QtGui.QColor(215, 50, 40, 220))
SELECTED_BRUSH = pg.mkBrush(QtGui.QColor(255, 200, 0, 255))
HIST_BRUSH = pg.mkBrush(70, 130, 200)
HIST_DIM_BRUSH = pg.mkBrush(70, 130, 200, 70)  # the session's bars behind a range's
HIST_RANGE_BRUSH = pg.mkBrush(30, 90, 200)
RANGE_COLOR = "rgb(40, 100, 200)"

WIDE_RATIO = 2.6  # width / height from which plots and lists sit side by side
MIN_PERCENTILE_PROBES = 20  # fewer probes in a range: show count and max, not percentiles
HIST_MIN_W = 170  # px the histogram needs to be worth showing
HIST_MIN_H = 80
TICK_LABEL_PX = 34  # room one histogram tick label needs
COMPACT_W = 840  # narrower than this, the numbers' line drops its title, the probe count and the worst stall
__all__ = ["BLOCK_COLUMNS", "EVENT_ROLE", "SORT_ROLE", "EventLoopPane", "blocking_task_label", "short_frame_label"]


def short_frame_label(profile: Profile, frame: int) -> str:
    """`function (file.py:line)` with the file's last path part (its package too for __init__/__main__).

    Full paths make a stack unreadable in a narrow column; the tooltip keeps them.
    """
    func = profile.frame_func(frame)
    parts = profile.func_file[func].replace("\\", "/").split("/")
    name = "/".join(parts[-2:]) if len(parts) > 1 and parts[-1] in ("__init__.py", "__main__.py") else parts[-1]
    return f"{profile.func_name[func]} ({name}:{int(profile.frames['line'][frame])})"


def _ms_label(seconds: float) -> str:
    if not np.isfinite(seconds):
        return "∞"
    ms = seconds * 1000.0
    return f"{ms:g}" if ms >= 1 else f"{ms:.1f}"


LIVE_EXACT_PROBES = 1_000_000  # a live session's lag percentiles are exact up to this many probes


class _HeadAndTailLabel(QtWidgets.QLabel):
    """"<b>Blocked 600 ms</b> at 0:07.400 — callback": the head always shows; a long callback is
    elided to the width given (the whole line was cut off, and it widened the pane), in full as the tooltip."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self._parts = ("", text, "")
        self._layout_text()

    def set_parts(self, bold: str, plain: str, tail: str) -> None:
        self._parts = (bold, plain, tail)
        self.setToolTip(tail)
        self._layout_text()

    def plain_text(self) -> str:
        bold, plain, tail = self._parts
        return bold + plain + (f" — {tail}" if tail else "")

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._layout_text()

    def _layout_text(self) -> None:
        bold, plain, tail = self._parts
        head = f"<b>{html.escape(bold)}</b>{html.escape(plain)}" if bold else html.escape(plain)
        if tail:
            bold_font = QtGui.QFont(self.font())
            bold_font.setBold(True)
            used = QtGui.QFontMetrics(bold_font).horizontalAdvance(bold) + self.fontMetrics().horizontalAdvance(plain + " — ")
            room = max(0, self.width() - used - 4)
            shown = self.fontMetrics().elidedText(tail, QtCore.Qt.TextElideMode.ElideRight, room)
            head += f" — {html.escape(shown)}" if shown else ""
        self.setText(head)


class EventLoopPane(Pane):
    """Loop lag (plot, p50/p95/p99/max, histogram) and blocking events with their stacks."""

    pane_id = "event_loop"
    title = "Event loop"

    def __init__(self, doc: Document, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(doc, parent)
        self.events: list[BlockingEvent] = []  # the stalls listed, in time order (the model's)
        self._markers_shown: tuple[int, int, int] | None = None  # (profile id, stalls, last one's id) listed
        self._marked: tuple[int, frozenset[int] | None, list[BlockingEvent]] | None = None  # markers' (profile, threads, stalls)
        self._session_worst = np.zeros(0)  # the longest stall of the marked stalls up to each one (time order)
        self._session_starts = np.zeros(0)  # the marked stalls' starts and durations (the worst as of a playhead)
        self._session_durations = np.zeros(0)
        self._shown_event: BlockingEvent | None = None  # the stall whose stack and blame are shown
        self._hist_shown: tuple[np.ndarray, int] | None = None  # (edges, bars) last drawn, for re-ticking on resize
        self._wide: bool | None = None
        self._blocking_summary = (0, 0.0)  # (events, worst duration) for the numbers' line
        self._range_inline = False  # the range line sits at the end of the numbers' line (else below it)

        # ---- numbers: the session (always), then the selected range (when there is one)
        self.stat_labels: dict[str, QtWidgets.QLabel] = {}
        stats = QtWidgets.QHBoxLayout()
        stats.setContentsMargins(6, 2, 6, 0)
        stats.setSpacing(18)
        self.scope_label = QtWidgets.QLabel()
        stats.addWidget(self.scope_label)
        for key, tip in (
            ("probes", "Lag probes so far"),
            ("p50", "Median loop lag"),
            ("p95", "95th percentile of loop lag"),
            ("p99", "99th percentile of loop lag"),
            ("max", "Worst loop lag"),
            ("blocking", "Blocking events (loop stalled)"),
        ):
            label = QtWidgets.QLabel()
            label.setToolTip(tip)
            label.setTextFormat(QtCore.Qt.TextFormat.RichText)
            label.setMinimumWidth(1)  # a narrow floating dock clips the line rather than being forced wider
            self.stat_labels[key] = label
            stats.addWidget(label)
        stats.addStretch(1)
        self._stats_row = stats

        self.range_label = QtWidgets.QLabel()
        self.range_label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.range_label.setToolTip(
            "The time range every pane shows (selected in the timeline or by selecting a blocking event); "
            "its probes are the dark bars in the histogram"
        )
        self.clear_range_button = QtWidgets.QToolButton()
        self.clear_range_button.setText("Clear range")
        self.clear_range_button.setToolTip("Show the whole session again in every pane (Esc in the timeline)")
        self.clear_range_button.clicked.connect(self.doc.clear_range)
        self.range_box = QtWidgets.QWidget()
        rl = QtWidgets.QHBoxLayout(self.range_box)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.setSpacing(8)
        rl.addWidget(self.range_label)
        rl.addWidget(self.clear_range_button)
        self.range_box.hide()
        self._range_row = QtWidgets.QHBoxLayout()
        self._range_row.setContentsMargins(6, 0, 6, 0)
        self._range_row.addWidget(self.range_box)
        self._range_row.addStretch(1)

        # ---- lag over time
        self.lag_plot = pg.PlotWidget(axisItems={"bottom": TimeAxis("bottom")})
        self.lag_plot.setBackground(self.palette().color(QtGui.QPalette.ColorRole.Base))
        # lag is plotted in ms (not seconds with an SI-prefixed title): the ticks keep their unit when the
        # title has to go; time stays in plain seconds for the same reason, or reads as a clock (h:mm:ss) from
        # 100 s on (a day's ticks said 10000, 20000)
        self.lag_plot.setLabel("left", "lag (ms)")
        self.lag_plot.setLabel("bottom", "time", units="s")
        self.lag_plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.lag_plot.showGrid(x=True, y=True, alpha=0.2)
        self.lag_plot.setMouseEnabled(x=True, y=False)
        self.lag_plot.setMenuEnabled(False)
        self.lag_plot.setMinimumSize(160, 60)
        self.lag_curve = pg.PlotDataItem(pen=LAG_PEN)
        self.lag_curve.setDownsampling(auto=True, method="peak")
        self.lag_curve.setClipToView(True)
        self.lag_plot.addItem(self.lag_curve)
        self._lag_view: tuple[float, float, int] | None = None  # the view (x0, x1, pixels) the curve was drawn for
        self._lag_timer = QtCore.QTimer(self)
        self._lag_timer.setSingleShot(True)
        self._lag_timer.setInterval(30)
        self._lag_timer.timeout.connect(self._lag_view_moved)
        self.lag_plot.getViewBox().sigXRangeChanged.connect(lambda *_a: self._lag_timer.start())
        self.block_markers = PrefixScatter(size=9, symbol="t", brush=BLOCK_BRUSH, pen=None)  # the session's; a replay's first
        self.block_markers.setToolTip("Blocking events (click one, or a row in the list, to inspect it)")
        self.lag_plot.addItem(self.block_markers)
        # the selected stall's marker, drawn over the others (recolouring a day's 12k markers took ~20 ms a frame)
        self.selected_marker = pg.ScatterPlotItem(size=9, symbol="t", brush=SELECTED_BRUSH, pen=None)
        self.selected_marker.setAcceptedMouseButtons(QtCore.Qt.MouseButton.NoButton)
        self.lag_plot.addItem(self.selected_marker)
        # at a playhead inside a stall: that stall's marker (and those after it) as high as it had got by then
        self._ongoing_from = -1  # the first marker drawn by ongoing_markers (-1: none)
        self._blame_ongoing = False  # the blame shown is of a stall going on at the playhead
        self.ongoing_markers = pg.ScatterPlotItem(size=9, symbol="t", brush=BLOCK_BRUSH, pen=None)
        self.ongoing_markers.sigClicked.connect(self._ongoing_marker_clicked)
        self.lag_plot.addItem(self.ongoing_markers)
        self.range_region = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(80, 140, 230, 40))
        self.range_region.setZValue(-10)
        self.range_region.hide()
        self.lag_plot.addItem(self.range_region)
        self.block_markers.sigClicked.connect(self._marker_clicked)

        # ---- histogram: the session's probes, a selected range's on top
        self.hist_plot = pg.PlotWidget()
        self.hist_plot.setBackground(self.palette().color(QtGui.QPalette.ColorRole.Base))
        self.hist_plot.setLabel("bottom", "lag (ms)")
        self.hist_plot.setLabel("left", "probes")
        self.hist_plot.setMouseEnabled(x=False, y=False)
        self.hist_plot.setMenuEnabled(False)
        self.hist_plot.hideButtons()
        self.hist_plot.setToolTip("Lag probes per lag bin (log scale); dark bars: the selected range's probes")
        self.hist_bars = pg.BarGraphItem(x=[], height=[], width=0.85, brush=HIST_BRUSH)
        self.hist_plot.addItem(self.hist_bars)
        self.hist_range_bars = pg.BarGraphItem(x=[], height=[], width=0.55, brush=HIST_RANGE_BRUSH)
        self.hist_range_bars.hide()
        self.hist_plot.addItem(self.hist_range_bars)

        # ---- blocking events + stack
        self.stalls = StallTableModel(self)
        self.table = StallTable(self.stalls)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        row_h = self.table.fontMetrics().height() + 6  # compact rows: a short dock still lists several
        self.table.verticalHeader().setMinimumSectionSize(row_h)
        self.table.verticalHeader().setDefaultSectionSize(row_h)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(2, QtWidgets.QHeaderView.ResizeMode.Stretch)  # the function gets the room
        header.setMinimumSectionSize(40)
        self.table.setWordWrap(False)
        self.table.sortByColumn(0, QtCore.Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.setToolTip("Click a header to sort (Duration: the worst stalls first)")
        self.table.selectionModel().selectionChanged.connect(self._event_selected)
        self.table.setContextMenuPolicy(QtCore.Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        doc.rangeChanged.connect(self._select_by_range)  # a stall chosen elsewhere (Tasks › By coroutine)
        self.stack_list = QtWidgets.QListWidget()
        self.stack_list.setToolTip("Stack that blocked the loop, innermost frame first")
        self.stack_list.setUniformItemSizes(True)
        self.stack_title = _HeadAndTailLabel("Select a blocking event to see its stack")
        stack_box = QtWidgets.QWidget()
        sl = QtWidgets.QVBoxLayout(stack_box)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(self.stack_title)
        sl.addWidget(self.stack_list, 1)
        self.blame_tree = QtWidgets.QTreeWidget()  # who blocked (await chain) and whom it delayed
        self.blame_tree.setHeaderLabels(["Task", "Delay"])
        self.blame_tree.setRootIsDecorated(True)
        self.blame_tree.setUniformRowHeights(True)
        self.blame_tree.setToolTip(
            "Await chain: the task that blocked the loop first, then the task awaiting it, up to the root.\n"
            "Delayed: each task that was due to run during the stall, and how long it waited past its due time\n"
            "(highlighted in the Tasks pane and the timeline)."
        )
        self.blame_tree.header().setStretchLastSection(False)
        self.blame_tree.header().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.blame_tree.hide()
        sl.addWidget(self.blame_tree, 1)
        self.blocking_title = QtWidgets.QLabel("<b>Blocking events</b>")
        table_box = QtWidgets.QWidget()
        tl = QtWidgets.QVBoxLayout(table_box)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.blocking_title)
        tl.addWidget(self.table, 1)
        for box in (table_box, stack_box):
            box.setMinimumWidth(160)

        # plots | lists: stacked when the pane is tall, side by side when it is wide (see _arrange)
        self._plots = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        self._plots.addWidget(self.lag_plot)
        self._plots.addWidget(self.hist_plot)
        self._lists = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        self._lists.addWidget(table_box)
        self._lists.addWidget(stack_box)
        main = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        main.addWidget(self._plots)
        main.addWidget(self._lists)
        for split in (self._plots, self._lists, main):
            split.setChildrenCollapsible(False)
        self.stack, self.empty = content_or_placeholder(main, "No event loop was observed in this profile")
        self._main = main

        self._restyle()
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(stats)
        lay.addLayout(self._range_row)
        lay.addWidget(self.stack, 1)
        self.lag_plot.installEventFilter(self)
        self.hist_plot.installEventFilter(self)
        self._arrange()

    # ------------------------------------------------------------------ Pane API
    def shows_nothing(self) -> bool:
        p = self.doc.profile
        return not self.doc.is_live and not (len(p.lag) or p.blocking or p.loops)

    def export_widget(self) -> QtWidgets.QWidget | None:
        return self.lag_plot

    def changeEvent(self, event: QtCore.QEvent) -> None:
        if event.type() == QtCore.QEvent.Type.PaletteChange:
            self._restyle()
        super().changeEvent(event)

    def _restyle(self) -> None:
        plots = [self.lag_plot.getPlotItem(), self.hist_plot.getPlotItem()]
        restyle(self.palette(), [self.lag_plot, self.hist_plot], plots)

    # ------------------------------------------------------------------ layout by shape
    @property
    def is_wide(self) -> bool:
        """True when plots and lists sit side by side (a wide, short pane)."""
        return bool(self._wide)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange()

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.Resize and watched in (self.lag_plot, self.hist_plot):
            self._fit_axes()
        return super().eventFilter(watched, event)

    def _arrange(self) -> None:
        """Pick the side-by-side or stacked arrangement for the pane's shape; drop the histogram when cramped."""
        w, h = max(self.width(), 1), max(self.height(), 1)
        wide = w >= WIDE_RATIO * h
        if wide != self._wide:
            self._wide = wide
            horizontal, vertical = QtCore.Qt.Orientation.Horizontal, QtCore.Qt.Orientation.Vertical
            self._main.setOrientation(horizontal if wide else vertical)
            if wide:  # lag | histogram | blocking events | stack
                self._main.setSizes([int(w * 0.47), int(w * 0.53)])
                self._plots.setSizes([int(w * 0.33), int(w * 0.14)])
                self._lists.setSizes([int(w * 0.28), int(w * 0.25)])
                widths = (72, 72, 150, 90, 110)
            else:
                self._main.setSizes([int(h * 0.55), int(h * 0.45)])
                self._plots.setSizes([int(w * 0.75), int(w * 0.25)])
                self._lists.setSizes([int(w * 0.5), int(w * 0.5)])
                widths = (90, 90, 240, 120, 150)
            for col, px in enumerate(widths):
                self.table.setColumnWidth(col, px)
            self.blocking_title.setVisible(not wide)  # wide: the numbers' line already counts them; a row more fits
        compact = w < COMPACT_W
        self.scope_label.setVisible(not compact)
        self.stat_labels["probes"].setVisible(not compact)
        self._stats_row.setSpacing(10 if compact else 18)
        self._show_blocking_count()
        self._place_range_box()
        table_w = w * 0.28 if wide else w * 0.5
        # the thread is nearly always the main thread: it gives way first, so the function keeps >= ~130 px
        self.table.setColumnHidden(3, table_w < 500)
        plots_w = w * 0.47 if wide else w
        plots_h = h - 40 if wide else h * 0.55
        self.hist_plot.setVisible(plots_w * 0.28 >= HIST_MIN_W and plots_h >= HIST_MIN_H)

    def _place_range_box(self) -> None:
        """The range line joins the numbers' line when the pane is short and there is room for both."""
        numbers = [self.scope_label, *self.stat_labels.values()]
        needed = sum(w.sizeHint().width() for w in numbers if not w.isHidden())
        needed += self.range_box.sizeHint().width() + self._stats_row.spacing() * len(numbers) + 12
        inline = bool(self._wide) and needed <= self.width()
        if inline == self._range_inline:
            return
        self._range_inline = inline
        if inline:
            self._range_row.removeWidget(self.range_box)
            self._stats_row.addWidget(self.range_box)
        else:
            self._stats_row.removeWidget(self.range_box)
            self._range_row.insertWidget(0, self.range_box)

    def _fit_axes(self) -> None:
        """Axis titles only where they fit (a clipped "lag (m" reads worse than none); histogram ticks thinned."""
        h = self.lag_plot.height()
        show_time = h >= 140  # the tick values say it is time; the title is a luxury
        self.lag_plot.getAxis("bottom").showLabel(show_time)
        axis_len = h - (48 if show_time else 28)
        left = self.lag_plot.getAxis("left")
        title = "lag (ms)" if axis_len >= 64 else "ms"
        if left.labelText != title:
            self.lag_plot.setLabel("left", title)
            self._restyle()
        left.showLabel(axis_len >= 26)
        hh = self.hist_plot.height()
        show_lag = hh >= 110
        self.hist_plot.getAxis("bottom").showLabel(show_lag)
        self.hist_plot.getAxis("left").showLabel(hh - (48 if show_lag else 28) >= 64 and self.hist_plot.width() >= 180)
        self._tick_histogram()

    # ------------------------------------------------------------------ refresh
    def refresh(self) -> None:
        profile = self.doc.profile
        playhead = self.doc.playhead
        has_loop = bool(len(profile.lag) or profile.blocking or profile.loops)
        self.stack.setCurrentWidget(self._main if has_loop else self.empty)
        upto = Selection(t0=None, t1=playhead, threads=self.doc.threads)
        self.scope_label.setText("<b>Whole session</b>" if playhead is None else f"<b>Up to {fmt.clock(playhead)}</b>")
        # live: kept incrementally, percentiles from a fine histogram past a million probes (a day has 7.5M)
        session = lag_stats(profile, upto, approx_above=LIVE_EXACT_PROBES if self.doc.is_live else None)
        self._show_stats(session.probes, session.p50, session.p95, session.p99, session.max)

        self._show_lag_curve()
        events = blocking_events(profile, upto)
        self._show_events(profile, events)
        self._show_ongoing_markers(len(events), playhead)
        if playhead is not None and events:  # a stall going on at the playhead counts as far as it had got
            worst = worst_at(self._session_starts[: len(events)], self._session_durations[: len(events)], playhead)
        else:
            worst = float(self._session_worst[len(events) - 1]) if events else 0.0  # the longest of the first len(events)
        self._blocking_summary = (len(events), worst)
        self._show_blocking_count()
        range_counts = self._show_range(events, session.hist_edges)
        self._show_histogram(session.hist_edges, session.hist_counts, range_counts)

    # ------------------------------------------------------------------ parts
    def _show_lag_curve(self) -> None:
        """The lag curve over the plot's view, at most two points a pixel (a day holds millions of probes)."""
        profile = self.doc.profile
        playhead = self.doc.playhead
        if self.doc.threads is not None:  # one thread's loops: their probes (no summary per loop)
            t, lag = lag_values(profile, Selection(t0=None, t1=playhead, threads=self.doc.threads))
        else:
            x0, x1 = self.lag_plot.getViewBox().viewRange()[0]
            end = profile.duration() if playhead is None else playhead
            if self._lag_view is None or x1 - x0 >= 0.98 * end:
                x0, x1 = 0.0, end
            pixels = max(200, int(self.lag_plot.getViewBox().width()) or 1500)
            t, lag = lag_curve(profile, max(0.0, x0), x1, pixels, playhead)
            self._lag_view = (x0, x1, pixels)
        self.lag_curve.setData(t, lag * 1000.0)

    def _lag_view_moved(self) -> None:
        """Zoomed or panned: draw the curve for what the plot shows now (when it shows something else)."""
        if self._lag_view is None or not self.isVisible() or self.doc.threads is not None:
            return
        x0, x1 = self.lag_plot.getViewBox().viewRange()[0]
        a, b, px = self._lag_view
        tol = 0.25 * (b - a) / max(px, 1)
        if abs(x0 - a) > tol or abs(x1 - b) > tol:
            self._show_lag_curve()

    def _show_blocking_count(self) -> None:
        n, worst = self._blocking_summary
        roomy = self.width() >= COMPACT_W
        self.stat_labels["blocking"].setText(
            f"blocking: <b>{n}</b>" + (f" (worst {fmt.seconds(worst)})" if n and roomy else "")
        )

    def _show_stats(self, probes: int, p50: float, p95: float, p99: float, worst: float) -> None:
        self.stat_labels["probes"].setText(f"probes: <b>{probes:,}</b>")
        for key, value in (("p50", p50), ("p95", p95), ("p99", p99), ("max", worst)):
            self.stat_labels[key].setText(f"{key}: {_lag_html(value) if probes else '<b>–</b>'}")

    def _show_range(self, events: list[BlockingEvent], edges: np.ndarray) -> np.ndarray | None:
        """The range line (what the range is, its own numbers, Clear) and its histogram counts; None without one."""
        rng = self.doc.range
        if rng is None:
            self.range_region.hide()
            self.range_box.hide()
            return None
        self.range_region.setRegion(rng)
        self.range_region.show()
        sel = self.doc.selection()
        _, values = lag_values(self.doc.profile, sel)
        t0 = rng[0] if sel.t0 is None else sel.t0
        t1 = rng[1] if sel.t1 is None else sel.t1
        in_range = [e for e in events if e.start < t1 and (e.start + e.duration > t0 or e.start >= t0)]  # overlapping
        ev = self.selected_event()
        if ev is not None and np.allclose(event_range(ev), rng):
            so_far = " so far" if ongoing_at(ev, self.doc.playhead) else ""
            what = f"the {fmt.seconds(duration_at(ev, self.doc.playhead))}{so_far} stall at {fmt.clock(ev.start)}"
        else:
            what = f"{fmt.clock(rng[0])} – {fmt.clock(rng[1])} ({fmt.seconds(rng[1] - rng[0])})"
        n = len(values)
        if n == 0:
            numbers = "no lag probe in it"
        elif n < MIN_PERCENTILE_PROBES:  # too few for percentiles to mean anything
            numbers = f"{n} probe{'s' if n > 1 else ''}, max {_lag_html(float(values.max()))}"
        else:
            p50, p95, p99 = (float(v) for v in np.percentile(values, [50, 95, 99]))
            numbers = f"{fmt.plural(n, 'probe')} · p50 {_lag_html(p50)} · p95 {_lag_html(p95)} · p99 {_lag_html(p99)} · max {_lag_html(float(values.max()))}"
        blocking = f" · {len(in_range)} blocking" if in_range else ""
        self.range_label.setText(
            f"<span style='color:{RANGE_COLOR}'><b>Range:</b> {html.escape(what)}</span> — {numbers}{blocking}"
        )
        self.range_box.show()
        self._place_range_box()
        counts, _ = np.histogram(values, edges)
        return counts.astype(np.int64)

    def _show_histogram(self, edges: np.ndarray, counts: np.ndarray, range_counts: np.ndarray | None = None) -> None:
        n = len(counts)
        nonzero = np.flatnonzero(counts)
        last = int(nonzero[-1]) + 1 if len(nonzero) else min(n, 8)
        last = max(last, min(n, 8))  # keep a sensible minimum span
        x = np.arange(last, dtype=float)
        self.hist_bars.setOpts(
            x=x, height=counts[:last].astype(float), width=0.85, brush=HIST_BRUSH if range_counts is None else HIST_DIM_BRUSH
        )
        if range_counts is None:
            self.hist_range_bars.hide()
        else:
            self.hist_range_bars.setOpts(x=x, height=range_counts[:last].astype(float), width=0.55)
            self.hist_range_bars.show()
        self._hist_shown = (edges, last)
        self._tick_histogram()
        self.hist_plot.setXRange(-0.6, last - 0.4, padding=0.0)
        top = float(counts[:last].max(initial=0))
        self.hist_plot.setYRange(0.0, max(top * 1.1, 1.0), padding=0.0)

    def _tick_histogram(self) -> None:
        """Label every bin edge that has room (TICK_LABEL_PX each) at the histogram's current width."""
        if self._hist_shown is None:
            return
        edges, last = self._hist_shown
        px_per_bar = max(self.hist_plot.width() - 50, 1) / max(last, 1)  # ~50 px go to the left axis
        step = max(1, math.ceil(TICK_LABEL_PX / px_per_bar))
        ticks = [(i - 0.5, _ms_label(float(edges[i]))) for i in range(0, last + 1, step)]
        self.hist_plot.getAxis("bottom").setTicks([ticks, []])

    def _show_events(self, profile: Profile, events: list[BlockingEvent]) -> None:
        """List `events` (time order): a playhead move or a live session's new stalls add or remove rows at the
        list's end (rows are never filled again); the markers are set only when the stalls changed."""
        self.blocking_title.setText(f"<b>Blocking events</b> ({len(events):,})")
        key = (id(profile), len(events), id(events[-1]) if events else 0)
        changed = key != self._markers_shown
        if changed:
            self._markers_shown = key
            self._show_markers(profile, events)
        selected = self.selected_event()
        current = self.stalls.event_index(self.table.currentIndex().row())
        if current >= 0 and not (current < len(events) and events[current] is self.events[current]):
            leaving = self.events[current]
            if not any(e is leaving for e in events):  # (a single-selection view would select its neighbour instead)
                self.table.selectionModel().clear()
                selected = None
        reset = self.stalls.set_events(profile, events, self.doc.playhead)
        self.events = self.stalls.events
        if reset and selected is not None and any(e is selected for e in events):  # (the stall shown: no new range)
            self.select_event(next(i for i, e in enumerate(events) if e is selected))
        self._paint_markers()
        shown = self._shown_event
        if shown is not None and shown is self.selected_event():  # (the playhead moved: inside the stall, or past its end)
            self._show_stack_title(shown)
            playhead = self.doc.playhead
            if ongoing_at(shown, playhead) or self._blame_ongoing:
                self._show_blame(event_at(shown, playhead), ongoing_at(shown, playhead))
        if changed:
            self._select_by_range(self.doc.range)

    def _show_markers(self, profile: Profile, events: list[BlockingEvent]) -> None:
        """A marker per stall of the session (its stalls before a replay's playhead shown: `events` is their list),
        set when the session's stalls change (a live refresh set a day's thousands again ~10 times a second,
        ~30 ms each; a playhead move as much), extended when stalls were only added."""
        threads = self.doc.threads
        session = events if self.doc.playhead is None else blocking_events(profile, Selection(threads=threads))
        old = self._marked
        kept = old[2] if old is not None and old[:2] == (id(profile), threads) else []
        if kept and len(kept) <= len(session) and all(map(operator.is_, kept, session)):  # the same, or more
            if len(session) > len(kept):
                x, d = _starts_durations(session[len(kept) :])
                self.block_markers.add_points(x, d * 1000.0)  # ms, like the curve
                self._session_worst = np.concatenate(
                    (self._session_worst, np.maximum.accumulate(np.maximum(d, self._session_worst[-1])))
                )
                self._session_starts = np.concatenate((self._session_starts, x))
                self._session_durations = np.concatenate((self._session_durations, d))
        else:
            x, d = _starts_durations(session)
            self.block_markers.set_points(x, d * 1000.0)
            self._session_worst = np.maximum.accumulate(d) if len(d) else d
            self._session_starts, self._session_durations = x, d
        self._marked = (id(profile), threads, session)
        self.block_markers.show_first(len(events))

    def _show_stack_title(self, ev: BlockingEvent) -> None:
        """"Blocked 300.2 ms at …", or at a playhead inside the stall "Blocked 29.0 ms so far at …"."""
        playhead = self.doc.playhead
        so_far = " so far" if ongoing_at(ev, playhead) else ""
        self.stack_title.set_parts(f"Blocked {fmt.seconds(duration_at(ev, playhead))}{so_far}", f" at {fmt.clock(ev.start)}",
                                   ev.callback.strip())

    def _show_ongoing_markers(self, n: int, playhead: float | None) -> None:
        """Markers of the first `n` stalls as of the playhead: from the first one still going on then, drawn
        at the height it had reached (the session's markers stop before it), else the session's alone."""
        first = -1
        if playhead is not None and n:
            starts, durations = self._session_starts[:n], self._session_durations[:n]
            going = np.flatnonzero(starts + durations > playhead)
            first = int(going[0]) if len(going) else -1
        if first < 0 or playhead is None:
            if self._ongoing_from >= 0:
                self.ongoing_markers.setData(x=[], y=[])
                self.block_markers.show_first(n)
            self._ongoing_from = -1
            return
        self._ongoing_from = first
        self.block_markers.show_first(first)
        self.ongoing_markers.setData(x=starts[first:], y=np.minimum(durations[first:], playhead - starts[first:]) * 1000.0)

    def _paint_markers(self) -> None:
        """The selected stall's marker over the others."""
        ev = self.selected_event()
        if ev is None:
            self.selected_marker.setData(x=[], y=[])
        else:
            self.selected_marker.setData(x=[ev.start], y=[duration_at(ev, self.doc.playhead) * 1000.0])

    def _row_event(self, row: int) -> int:
        return self.stalls.event_index(row)

    def selected_event(self) -> BlockingEvent | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        index = self._row_event(rows[0].row())
        return self.events[index] if 0 <= index < len(self.events) else None

    def select_event(self, index: int) -> None:
        """Select blocking event `index` of `self.events` (time order), as a click in the list would."""
        row = self.stalls.row_of(index)
        if row >= 0:
            self.table.selectRow(row)
            self.table.scrollTo(self.stalls.index(row, 0))

    def _context_menu(self, pos: QtCore.QPoint) -> None:
        menu = self.stall_menu(self.table.indexAt(pos).row())
        if menu is not None:
            menu.exec(self.table.viewport().mapToGlobal(pos))

    def stall_menu(self, row: int) -> QtWidgets.QMenu | None:
        """The context menu of the stall on `row`: copy it or its stack, and the blocking function's actions."""
        index = self._row_event(row)
        if not 0 <= index < len(self.events):
            return None
        ev, profile = self.events[index], self.doc.profile
        clipboard = QtGui.QGuiApplication.clipboard()
        menu = QtWidgets.QMenu(self)
        row_text = "\t".join(self.stalls.text(index, col) for col in range(len(BLOCK_COLUMNS)))
        menu.addAction("Copy row", lambda: clipboard.setText(row_text))
        stack = "\n".join(stack_labels(profile, ev.stack)) or "(no Python stack recorded)"
        menu.addAction("Copy stack", lambda: clipboard.setText(stack))
        menu.addSeparator()
        add_function_actions(menu, self.doc, blocking_function(profile, ev)[1])
        return menu

    def _ongoing_marker_clicked(self, _item: Any, points: Any, *_args: Any) -> None:
        if len(points) and self._ongoing_from >= 0:
            self.select_event(self._ongoing_from + int(points[0].index()))

    def _marker_clicked(self, _item: Any, points: Any, *_args: Any) -> None:
        if len(points):
            self.select_event(int(points[0].index()))

    def _event_selected(self, *_args: Any) -> None:
        ev = self.selected_event()
        if ev is not None and ev is self._shown_event:
            self._paint_markers()  # the same stall (its row moved as rows came and went): its range stays as it is
            self._show_stack_title(ev)  # (the playhead moved inside it)
            return
        self._shown_event = ev
        self.stack_list.clear()
        playhead = self.doc.playhead
        self._show_blame(None if ev is None else event_at(ev, playhead), ev is not None and ongoing_at(ev, playhead))
        if ev is None:
            self.stack_title.set_parts("", "Select a blocking event to see its stack", "")
            self._paint_markers()
            self.doc.set_highlighted_tasks(None)
            return
        profile = self.doc.profile
        labels = stack_labels(profile, ev.stack)  # full paths, innermost first: the tooltips
        frames = list(reversed(profile.stack_frames(ev.stack))) if labels else []
        self._show_stack_title(ev)
        if not labels:
            self.stack_list.addItem("(no Python stack recorded)")
        for i, (frame, text) in enumerate(zip(frames, labels, strict=True)):
            item = QtWidgets.QListWidgetItem(short_frame_label(profile, frame))
            item.setToolTip(text)
            if i == 0:
                f = item.font()
                f.setBold(True)
                item.setFont(f)
            self.stack_list.addItem(item)
        _, func = blocking_function(profile, ev)
        self._paint_markers()
        self.doc.set_highlighted_tasks({tid for tid, _, _ in ev.delayed or ()})
        if func >= 0:
            self.doc.select_function(func)
        # every pane shows what ran during the stall (the range line says so and has Clear) ...
        t0, t1 = event_range(ev)
        self.doc.set_range(t0, t1)
        # ... and the timeline's view moves onto it, whatever it was zoomed to
        self.doc.request_time(t0, t1)


    def _select_by_range(self, rng: object) -> None:
        """When the document's range is exactly a stall's (another pane chose the stall), select that stall."""
        if not isinstance(rng, tuple):
            return
        current = self.selected_event()
        if current is not None and event_range(current) == rng:
            return
        events = self.events
        first = bisect.bisect_left(events, rng[0] - 1e-9, key=_start_of)  # a stall's range starts at its start
        for i in range(first, len(events)):
            a, b = event_range(events[i])
            if a > rng[0] + 1e-9:
                return
            if abs(a - rng[0]) <= 1e-9 and abs(b - rng[1]) <= 1e-9:
                self.select_event(i)
                return

    def _show_blame(self, ev: BlockingEvent | None, ongoing: bool = False) -> None:
        """The blocker's await chain (blocking task first, up to the root) and the tasks the stall delayed
        (`ongoing`: the stall as it stood at the playhead, still going on: who it delayed is not told yet)."""
        tree = self.blame_tree
        tree.clear()
        self._blame_ongoing = ongoing
        if ev is None or (ev.await_chain is None and ev.delayed is None and ev.task < 0 and not several_steps(ev) and not ongoing):
            tree.setVisible(ev is not None)
            if ev is not None:
                tree.addTopLevelItem(QtWidgets.QTreeWidgetItem(["(no task blame in this recording)", ""]))
            return
        tree.show()
        chain = list(ev.await_chain or ())
        if not chain and ev.task >= 0:
            chain = [(ev.task, ev.task_name or f"task {ev.task}")]
        head = QtWidgets.QTreeWidgetItem([f"Blocked by {chain[0][1]}" if chain else "Blocked outside any task", ""])
        for depth, (tid, name) in enumerate(chain):
            text = f"{name} [{tid}]" if depth == 0 else f"← awaited by {name} [{tid}]"
            QtWidgets.QTreeWidgetItem(head, [text, ""]).setToolTip(0, f"task {tid}: {name}")
        delayed = list(ev.delayed or ())
        unknown = ev.delayed is None
        title = "Delayed: not recorded" if unknown else f"Delayed {fmt.plural(len(delayed), 'task')}"
        if ongoing:
            title = "Delayed: told when the stall ends"
        late = QtWidgets.QTreeWidgetItem([title, ""])
        for tid, name, delay in delayed:
            item = QtWidgets.QTreeWidgetItem(late, [f"{name} [{tid}]", fmt.seconds(delay)])
            item.setTextAlignment(1, QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
            item.setToolTip(0, f"task {tid}: {name} was due during the stall and ran {fmt.seconds(delay)} late")
        if ev.delayed_unrecorded:  # tasks task sampling left unrecorded: counted, not named
            n = ev.delayed_unrecorded
            item = QtWidgets.QTreeWidgetItem(late, [f"+ {fmt.plural(n, 'task')} not recorded one by one", ""])
            item.setToolTip(0, "The loop created tasks too fast to record each (task sampling): these were due\n"
                               "during the stall too, but were only counted. Record with --every-task to name them.")
        tops = [head, late]
        steps = several_steps(ev)
        if steps:  # one loop iteration ran several blocking steps: each with its own share
            held = QtWidgets.QTreeWidgetItem([f"Held the loop: {fmt.plural(len(steps), 'step')}", ""])
            for step in steps:
                item = QtWidgets.QTreeWidgetItem(held, [step.label(), fmt.seconds(step.duration)])
                item.setTextAlignment(1, QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip(0, f"{step.label()} held the loop {fmt.seconds(step.duration)} of this stall")
            tops.insert(1, held)
        for top in tops:
            f = top.font(0)
            f.setBold(True)
            top.setFont(0, f)
            tree.addTopLevelItem(top)
            top.setExpanded(True)

    def blame_lines(self) -> list[str]:
        """The blame view as text, top to bottom (for tests and copying)."""
        out: list[str] = []
        for i in range(self.blame_tree.topLevelItemCount()):
            top = self.blame_tree.topLevelItem(i)
            if top is None:
                continue
            out.append(top.text(0))
            for j in range(top.childCount()):
                kid = top.child(j)
                if kid is not None:
                    out.append("  " + kid.text(0) + (" " + kid.text(1) if kid.text(1) else ""))
        return out


def _starts_durations(events: list[BlockingEvent]) -> tuple[np.ndarray, np.ndarray]:
    """The stalls' starts and durations (s)."""
    x = np.fromiter((e.start for e in events), np.float64, len(events))
    d = np.fromiter((e.duration for e in events), np.float64, len(events))
    return x, d


def _start_of(event: BlockingEvent) -> float:
    return event.start


def _lag_html(value: float) -> str:
    """A lag in bold, amber from 10 ms and red from 100 ms."""
    color = "#c02818" if value >= 0.1 else ("#c08010" if value >= 0.01 else "")
    style = f" style='color:{color}'" if color else ""
    return f"<b{style}>{fmt.seconds(value)}</b>"
