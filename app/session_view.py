"""One open document as a set of dock panes (a nested QMainWindow shown in a tab).

The view owns the refresh throttle: when the document changes it schedules a
tick at most ~10 times a second; each tick refreshes only panes whose dock is
visible and whose last seen revision is stale. Hidden panes do no work, and an
idle session runs no timer at all.
"""

from __future__ import annotations

import importlib
import time
import traceback
from collections.abc import Iterator
from html import escape as esc
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, Qt, QTimer
from PySide6.QtGui import QMouseEvent, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QLabel,
    QMainWindow,
    QPushButton,
    QTabBar,
    QToolBar,
    QWidget,
)

from pyrometer.app.document import Document
from pyrometer.app.panes.base import Pane, describe_transform
from pyrometer.core.agent.session import CHILD_PROCESSES

if TYPE_CHECKING:
    from pyrometer.app.live import LiveSession
    from pyrometer.app.live_state import LiveState
    from pyrometer.app.replay import ReplayBar

# module, class; order = View menu order
PANE_MODULES: tuple[tuple[str, str], ...] = (
    ("pyrometer.app.panes.functions", "FunctionsPane"),
    ("pyrometer.app.panes.call_tree", "CallTreePane"),
    ("pyrometer.app.panes.sandwich", "SandwichPane"),
    ("pyrometer.app.panes.flame", "FlamePane"),
    ("pyrometer.app.panes.timeline", "TimelinePane"),
    ("pyrometer.app.panes.stack_chart", "StackChartPane"),
    ("pyrometer.app.panes.event_loop", "EventLoopPane"),
    ("pyrometer.app.panes.tasks", "TasksPane"),
    ("pyrometer.app.panes.source", "SourcePane"),
    ("pyrometer.app.panes.session", "SessionPane"),
    ("pyrometer.app.panes.console", "ConsolePane"),
    ("pyrometer.app.panes.compare", "ComparePane"),
    ("pyrometer.app.panes.history", "HistoryPane"),
)
REFRESH_INTERVAL_S = 0.1  # at most ~10 refreshes a second
REFRESH_ORDER = {"flame_graph": 0, "functions": 1, "call_tree": 2}  # pane ids: what a user looks at first paints first
COST_FACTOR = 5.0  # a pane is refreshed at most every COST_FACTOR x its last refresh time
STEP_YIELD_MAX_MS = 16  # between two panes of a tick the GUI thread is left free this long at most
TIMELINE_SHARE = 0.36  # of the view height, by default (Qt gives the top area less than asked)
TIMELINE_SHARE_NO_LOOP = 0.26  # thread lanes only (no lag curve, stalls or tasks), and the time axis under them
BOTTOM_SHARE_NO_LOOP = 0.36  # the Stack chart in front: stacks need rows
BOTTOM_SHARE = 0.24
MAX_GROWTH_INTERVAL_S = 1.0
IDLE_INTERVAL_S = 2.0  # growth-only refreshes while the target is idle (all new samples off-CPU)  # a live model that only grows a little is redrawn at least this often
GROWTH_PACE_S = 0.05  # growth-only refresh interval = this / fraction grown (10% new -> 0.5 s)
LAYOUT_KEY = "layout/state"
LAYOUT_VERSION = 4  # 4: Stack chart and Sandwich panes (a layout saved without them is not restored)


def pane_classes() -> list[type[Pane]]:
    """Every pane class, in View menu order (a pane that does not import is a bug: it raises)."""
    out: list[type[Pane]] = []
    for mod_name, cls_name in PANE_MODULES:
        cls = getattr(importlib.import_module(mod_name), cls_name)
        assert issubclass(cls, Pane), f"{mod_name}.{cls_name} is not a Pane"
        out.append(cls)
    ids = [cls.pane_id for cls in out]
    assert len(set(ids)) == len(ids), f"pane ids must be unique: {ids}"
    return out


def find_pane_class(key: str) -> type[Pane] | None:
    """The pane class with this id or title (any case), or None."""
    return next((cls for cls in pane_classes() if cls.answers_to(key)), None)


def _settle_plots(pane: QWidget) -> None:
    """Apply the pane's new plot ranges now, not in the next paint.

    pyqtgraph defers auto-ranging and view transforms to the moment before a
    paint; applying them there dirties the scene again, so every refresh cost
    two paints of each plot - and the second one landed in whatever window
    repaint came next, on top of other panes' paints.
    """
    import pyqtgraph as pg

    for view in pane.findChildren(pg.GraphicsView):
        scene = view.scene()
        if scene is not None and view.isVisible():
            scene.prepareForPaint()


class SessionView(QMainWindow):
    """Dock panes over one Document, plus the transform banner and (for recordings) the replay bar."""

    def __init__(self, doc: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowFlags(Qt.WindowType.Widget)
        self.doc = doc
        doc.setParent(self)
        self.setDockNestingEnabled(True)
        self.setDockOptions(
            QMainWindow.DockOption.AllowTabbedDocks
            | QMainWindow.DockOption.AllowNestedDocks
            | QMainWindow.DockOption.AnimatedDocks
        )
        self.panes: list[Pane] = []
        self._on_screen: dict[str, bool] = {}  # per pane: dock shown and, when tabbed, the current tab
        self.docks: dict[str, QDockWidget] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._tick)
        self._queue: list[Pane] = []  # stale panes still to refresh in this tick, one per event-loop turn
        # the next pane of a tick runs from a QTimer, not QTimer.singleShot(0): that one is a posted
        # event, and a chain of them runs before any due timer, so panes ran back to back
        self._step_timer = QTimer(self)
        self._step_timer.setSingleShot(True)
        self._step_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._step_timer.timeout.connect(self._step)
        self._cost: dict[str, float] = {}  # seconds the last refresh of each pane took
        self._last_refresh: dict[str, float] = {}
        self._last_tick = 0.0
        self._tick_revision = -1
        self._tick_samples = 0
        self.replay_bar: ReplayBar | None = None
        self.pane_errors: list[str] = []  # panes that failed to start: the window shows these to the user
        self.live_bar: QToolBar | None = None  # a live session's state, Stop and Detach (add_live_bar)
        self.live_state_label: QLabel | None = None
        self._build_toolbar()
        for cls in pane_classes():
            try:
                pane = cls(doc, self)
            except Exception as exc:  # the other panes still work; the user is told (MainWindow.add_document)
                traceback.print_exc()
                self.pane_errors.append(f"The {cls.title} pane failed to start: {type(exc).__name__}: {exc}")
                continue
            dock = QDockWidget(pane.title, self)
            dock.setObjectName("dock_" + pane.objectName())
            dock.setWidget(pane)
            dock.setFeatures(
                QDockWidget.DockWidgetFeature.DockWidgetMovable
                | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                | QDockWidget.DockWidgetFeature.DockWidgetClosable
            )
            name = pane.objectName()
            dock.installEventFilter(self)  # double-click on the title bar: maximise / restore
            dock.visibilityChanged.connect(lambda visible, n=name: self._on_dock_visibility(n, visible))
            self.panes.append(pane)
            self.docks[pane.objectName()] = dock
        self._shown_once = False
        self._settled = False  # the first lay-out after the first show has run (tabs raised before it are raised again)
        self._maximised: QByteArray | None = None  # the layout to restore while one pane fills the view
        # a saved layout is restored onto docks that were only added, never tabified: restoring
        # over the default layout left its tab bars on screen, over the view filter's toolbar
        self._restored = self._restore_saved_layout()
        if not self._restored:
            self.default_layout()
        if self._timeless():
            timeline = self.pane("timeline")
            if timeline is not None:  # no time axis (call statistics, collapsed stacks): give the room to the rest
                self.docks[timeline.objectName()].hide()
        doc.changed.connect(self.schedule_refresh)
        doc.detailProgress.connect(self._on_detail_progress)
        doc.detailLoaded.connect(self._on_detail_loaded)
        doc.paneRequested.connect(self.show_pane)
        doc.transformChanged.connect(lambda _t: self._update_banner())
        self._add_replay_bar()
        self._update_banner()
        self.schedule_refresh()

    def _add_replay_bar(self) -> None:
        """A recording's replay bar (while a preview's samples are read, disabled and saying how far that is)."""
        doc = self.doc
        if self.replay_bar is None and not doc.is_live and doc.profile.sample_count and not self._timeless():
            from pyrometer.app.replay import ReplayBar

            bar = ReplayBar(doc, self)
            self.replay_bar = bar
            self.addToolBar(Qt.ToolBarArea.BottomToolBarArea, bar)

    def _on_detail_progress(self, _fraction: float) -> None:
        """The covered panes follow how much of the samples is read."""
        text = self.doc.pending_text()
        for pane in self.panes:
            if pane.pending_text() is not None:
                pane.show_pending(text)

    def _on_detail_loaded(self) -> None:
        self._cpu_known = False
        self._add_replay_bar()
        self._update_threads()

    # ------------------------------------------------------------ toolbar
    def _build_toolbar(self) -> None:
        bar = QToolBar("View filter", self)
        bar.setObjectName("view_filter_bar")
        bar.setMovable(False)
        bar.addWidget(QLabel(" Threads: ", bar))
        self.thread_combo = QComboBox(bar)
        self.thread_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.thread_combo.setToolTip("Show samples of all threads or of one thread")
        self.thread_combo.activated.connect(self._on_thread)
        bar.addWidget(self.thread_combo)
        self.cpu_check = QCheckBox("On-CPU only", bar)
        self.cpu_check.setToolTip(
            "Count only samples where the thread was running, not waiting (sleep, locks, I/O, select)"
        )
        self.cpu_check.toggled.connect(self.doc.set_on_cpu_only)
        self.cpu_check_action = bar.addWidget(self.cpu_check)
        self.range_label = QLabel("", bar)
        bar.addWidget(self.range_label)
        self.clear_range_button = QPushButton("Clear range", bar)
        self.clear_range_button.setToolTip("Show the whole session again (Esc in the timeline)")
        self.clear_range_button.clicked.connect(self.doc.clear_range)
        self.clear_range_action = bar.addWidget(self.clear_range_button)
        self.banner = QLabel("", bar)
        bar.addWidget(self.banner)
        self.reset_transform_button = QPushButton("Reset transforms", bar)
        self.reset_transform_button.clicked.connect(lambda: self.doc.set_transform(None))
        self.reset_transform_action = bar.addWidget(self.reset_transform_button)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.filter_bar = bar
        self.doc.rangeChanged.connect(lambda _r: self._update_range())
        self._thread_ids: list[int] = []
        self._cpu_known = False
        self.cpu_check_action.setVisible(False)
        self._update_threads()
        self._update_range()

    def add_live_bar(self, session: LiveSession) -> None:
        """State, Stop and Detach of this view's live session; says clearly when the program has ended."""
        from pyrometer.app.live_state import Phase

        bar = QToolBar("Live session", self)
        bar.setObjectName("live_bar")
        bar.setMovable(False)
        state = QLabel("", bar)
        state.setTextFormat(Qt.TextFormat.RichText)
        stop = QPushButton("Stop", bar)
        stop.setToolTip("End the program (SIGINT, then SIGTERM); everything recorded so far is kept")
        detach = QPushButton("Detach", bar)
        detach.setToolTip("Stop profiling and let the program run on")
        stop.clicked.connect(session.stop)
        detach.clicked.connect(session.detach)
        bar.addWidget(state)
        # the agent says when the program starts Python child processes: their work is not in this profile
        self.children_label = QLabel("", bar)
        self.children_label.setStyleSheet("color: rgb(180, 90, 0)")
        children_action = bar.addWidget(self.children_label)
        children_action.setVisible(False)

        def noticed(note: dict[str, Any]) -> None:
            if note.get("kind") == CHILD_PROCESSES and not children_action.isVisible():
                self.children_label.setText(" ⚠ Child processes are not profiled ")
                self.children_label.setToolTip(
                    f"{note.get('message', '')}\nTheir CPU and time do not appear here; profile a worker on its own "
                    "(pyrometer attach PID) to see inside it."
                )
                children_action.setVisible(True)

        session.noticed.connect(noticed)
        for note in list(self.doc.profile.notices):
            noticed(note)
        # once the stream ends the recording's index is appended on a worker (seconds for a day's
        # session): its progress shows here, and the window stays usable meanwhile
        self.finishing_label = QLabel("", bar)
        self.finishing_label.setToolTip(
            "The recording is complete on disk; its index (what lets it open in seconds) is being appended"
        )
        finishing_action = bar.addWidget(self.finishing_label)
        finishing_action.setVisible(False)

        def finishing(fraction: float) -> None:
            self.finishing_label.setText(f" · writing the recording's index… {100 * fraction:.0f}% ")
            finishing_action.setVisible(fraction < 1.0)

        session.recordingProgress.connect(finishing)
        bar.addSeparator()
        stop_action = bar.addWidget(stop)
        detach_action = bar.addWidget(detach)
        # a row of its own above the view filter: with a range and a transform shown, one shared
        # row pushed Stop and Detach behind the » overflow button
        self.insertToolBar(self.filter_bar, bar)
        self.insertToolBarBreak(self.filter_bar)
        self.live_bar = bar
        self.stop_button, self.detach_button = stop, detach
        self.live_state_label = state
        self._ended = False

        def update(now: LiveState) -> None:
            running = now.running
            stop_action.setVisible(running and not session.attached)
            detach_action.setVisible(running)
            if running:
                if session.keep_path is not None:
                    state.setText(f"<b>● Live</b> — {now.text()} · recording to {esc(str(session.keep_path))}")
                else:
                    state.setText(f"<b>● Live</b> — {now.text()} · recording to a temporary file (File › Save recording keeps it)")
            elif now.phase is Phase.FAILED:
                state.setText("<b>Profiling failed</b> — see the message in the status bar")
            else:
                head, detail = now.headline()
                if now.phase is Phase.DETACHED and session.attached:
                    detail = "the program keeps running"
                if session.keep_path is not None:  # `run --save`: it is already written there
                    state.setText(f"<b>■ {head}</b> ({detail}). Everything recorded is saved in "
                                  f"{esc(str(session.keep_path))}.")
                else:
                    state.setText(f"<b>■ {head}</b> ({detail}). Everything recorded is kept; "
                                  "File › Save recording writes it to a .pyro file.")
                win = self.window()
                if isinstance(win, QMainWindow) and win is not self:
                    win.statusBar().showMessage(f"{self.doc.title}: {now.text()}", 15000)
                if not self._ended:  # the last refresh: every pane shows the final counts now
                    self._ended = True
                    self.doc.touch()
                    self.refresh_visible()

        session.stateChanged.connect(update)
        update(session.state)

    def _update_threads(self) -> None:
        from pyrometer.core.analysis.on_cpu import has_cpu_info

        if not self.cpu_check_action.isVisible() and not self._cpu_known:
            self._cpu_known = has_cpu_info(self.doc.profile)
            self.cpu_check_action.setVisible(self._cpu_known)
        threads = sorted(self.doc.profile.threads.values(), key=lambda t: t.id)
        ids = [t.id for t in threads]
        if ids == self._thread_ids:
            return
        self._thread_ids = ids
        current = self.doc.threads
        self.thread_combo.clear()
        self.thread_combo.addItem(f"All ({len(ids)})", None)
        for t in threads:
            self.thread_combo.addItem(t.name, t.id)
        if current is not None and len(current) == 1:
            k = self.thread_combo.findData(next(iter(current)))
            self.thread_combo.setCurrentIndex(max(0, k))

    def _on_thread(self, index: int) -> None:
        tid = self.thread_combo.itemData(index)
        self.doc.set_threads(None if tid is None else frozenset({int(tid)}))

    def _update_range(self) -> None:
        from pyrometer.core import fmt

        r = self.doc.range
        self.range_label.setText("" if r is None else f" Range {fmt.clock(r[0])} – {fmt.clock(r[1])} ")
        self.clear_range_action.setVisible(r is not None)

    def _update_banner(self) -> None:
        text = describe_transform(self.doc)
        self.banner.setText(f" Transform: {text} " if text else "")
        self.reset_transform_action.setVisible(bool(text))

    # ------------------------------------------------------------ layout
    def default_layout(self) -> None:
        """Functions + call tree left, flame graph right, timeline on top, the rest tabbed below."""
        for each in self.docks.values():
            each.setFloating(False)
            each.show()
            self.removeDockWidget(each)
        by_id = {d.widget().pane_id: d for d in self.docks.values()}  # type: ignore[attr-defined]

        def dock(name: str) -> QDockWidget | None:
            return by_id.get(name)

        placed: set[str] = set()

        def put(name: str, area: Qt.DockWidgetArea) -> QDockWidget | None:
            d = dock(name)
            if d is not None:
                self.addDockWidget(area, d)
                d.show()
                placed.add(name)
            return d

        left = Qt.DockWidgetArea.LeftDockWidgetArea
        right = Qt.DockWidgetArea.RightDockWidgetArea
        top = Qt.DockWidgetArea.TopDockWidgetArea
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        timeline = put("timeline", top)
        functions = put("functions", left)
        flame = put("flame_graph", right)
        call_tree = put("call_tree", left)
        sandwich = put("sandwich", left)
        for tab in (call_tree, sandwich):
            if functions is not None and tab is not None:
                self.tabifyDockWidget(functions, tab)
        if functions is not None:
            functions.raise_()
        first_bottom: QDockWidget | None = None

        def to_bottom_tabs(d: QDockWidget) -> None:
            nonlocal first_bottom
            if first_bottom is None:
                self.addDockWidget(bottom, d)
                first_bottom = d
            else:
                self.tabifyDockWidget(first_bottom, d)
            d.show()

        for name in ("event_loop", "stack_chart", "tasks", "source", "session", "console"):
            d = dock(name)
            if d is None:
                continue
            to_bottom_tabs(d)
            placed.add(name)
        for pane_id, d in by_id.items():  # anything else goes to the bottom tabs
            if pane_id not in placed:
                to_bottom_tabs(d)
        front = first_bottom
        if not self.has_event_loop():
            # no event loop in this profile: its pane would be empty; show stacks over time, or the source
            shown = [d for d in (dock("stack_chart"), dock("source")) if d is not None]
            front = next((d for d in shown if not d.widget().shows_nothing()), front)  # type: ignore[attr-defined]
        if front is not None:
            front.raise_()
        self._size_plan = (timeline, functions, flame, front)
        self._apply_sizes()

    def has_event_loop(self) -> bool:
        """A live session (it may start one), or a profile with lag probes, stalls or tasks."""
        p = self.doc.profile
        return self.doc.is_live or bool(len(p.lag)) or bool(p.blocking) or bool(p.tasks)

    def _apply_sizes(self) -> None:
        """Default dock sizes (only meaningful once the view has its real geometry)."""
        timeline, functions, flame, bottom = self._size_plan
        if bottom is not None:
            bottom.raise_()  # a tab raised before the window was shown stays behind the first one
        w, h = max(self.width(), 600), max(self.height(), 400)
        sides = [d for d in (functions, flame) if d is not None]
        if len(sides) == 2:
            self.resizeDocks(sides, [int(w * 0.42), int(w * 0.58)], Qt.Orientation.Horizontal)
        if timeline is None or timeline.isHidden():
            if bottom is not None:  # no time axis: the bottom tabs get their share, the middle the rest
                self.resizeDocks([flame or functions or bottom], [int(h * (1 - BOTTOM_SHARE))], Qt.Orientation.Vertical)
            return
        rows = [d for d in (timeline, functions or flame, bottom) if d is not None and not d.isHidden()]
        # without an event loop the timeline is thread lanes only: it needs less height
        loop = self.has_event_loop()
        timeline_share = TIMELINE_SHARE if loop else TIMELINE_SHARE_NO_LOOP
        bottom_share = BOTTOM_SHARE if loop else BOTTOM_SHARE_NO_LOOP
        want = {id(timeline): int(h * timeline_share), id(bottom): int(h * bottom_share)}
        if len(rows) >= 2:
            self.resizeDocks(rows, [want.get(id(d), int(h * (1 - timeline_share - bottom_share))) for d in rows], Qt.Orientation.Vertical)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            QTimer.singleShot(0, self._settle)

    def _settle(self) -> None:
        """Once shown with real geometry: the default sizes (or, over a restored layout, useful tabs in front)."""
        if self._restored:
            self._front_useful_tabs()
            if self._timeless():
                self._timeless_room_to_the_middle()
        else:
            self._apply_sizes()
        self._settled = True

    def _timeless_room_to_the_middle(self) -> None:
        """A saved layout was made with a timeline on top; hiding it here let Qt hand its height
        to the bottom tabs (an empty Source pane got more room than the flame graph). The middle
        takes what it takes in the default layout without a time axis; the layout saved stays
        the user's (a timeless view never saves its own)."""
        docks = [self.docks[p.objectName()] for p in (self.pane("flame_graph"), self.pane("functions")) if p is not None]
        middle = next((d for d in docks if d.isVisible() and not d.isFloating()), None)
        if middle is not None:
            h = max(self.height(), 400)
            self.resizeDocks([middle], [int(h * (1 - BOTTOM_SHARE))], Qt.Orientation.Vertical)

    def _front_useful_tabs(self) -> None:
        """A restored layout may raise a tab with nothing to show here (Compare was in front in a window
        that had a baseline; this one has none): raise the pane this profile opens on instead."""
        by_title = {self.docks[p.objectName()].windowTitle(): p for p in self.panes}
        preferred: tuple[str, ...] = ("event_loop",) if self.has_event_loop() else ()
        preferred += ("stack_chart", "source")
        for bar in self.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly):
            raised = by_title.get(bar.tabText(bar.currentIndex()))
            if not bar.isVisible() or raised is None or not raised.shows_nothing():
                continue
            tabs = [by_title[bar.tabText(i)] for i in range(bar.count()) if bar.tabText(i) in by_title]
            useful = [p for p in tabs if not p.shows_nothing()]
            front = next((p for key in preferred for p in useful if p.pane_id == key), useful[0] if useful else None)
            if front is not None:
                self.docks[front.objectName()].raise_()

    # ------------------------------------------------------------ maximise
    @property
    def maximised(self) -> Pane | None:
        """The pane that fills the view, or None."""
        if self._maximised is None:
            return None
        return next((p for p in self.panes if not self.docks[p.objectName()].isHidden()), None)

    def toggle_maximised(self, pane: Pane | None = None) -> None:
        """Let one pane fill the view (the focused one by default), or put the layout back."""
        if self._maximised is not None:
            state, self._maximised = self._maximised, None
            self.restoreState(state, LAYOUT_VERSION)
            self.schedule_refresh()
            return
        pane = pane or self.current_pane() or self._pane_under_pointer()
        if pane is None:
            return
        self._maximised = self.saveState(LAYOUT_VERSION)
        target = self.docks[pane.objectName()]
        target.setFloating(False)
        for d in self.docks.values():
            d.setVisible(d is target)
        target.raise_()
        self.schedule_refresh()

    def _pane_under_pointer(self) -> Pane | None:
        from PySide6.QtGui import QCursor
        from PySide6.QtWidgets import QApplication

        w = QApplication.widgetAt(QCursor.pos())
        while w is not None and not isinstance(w, Pane):
            w = w.parentWidget()
        return w if isinstance(w, Pane) and w in self.panes else None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseButtonDblClick and isinstance(watched, QDockWidget):
            inner = watched.widget()
            if isinstance(inner, Pane) and isinstance(event, QMouseEvent) and event.position().y() < inner.geometry().top():
                self.toggle_maximised(inner)  # the title bar (Qt would float the dock instead)
                return True
        return super().eventFilter(watched, event)

    def reset_layout(self) -> None:
        self._maximised = None
        self.default_layout()
        self.schedule_refresh()

    def _timeless(self) -> bool:
        """The profile has no time axis (call statistics, collapsed stacks, sampled speedscope)."""
        return bool(self.doc.profile.meta.get("deterministic")) or not self.doc.profile.has_time

    def save_layout(self) -> None:
        if self._maximised is not None:
            self.toggle_maximised()  # keep the layout, not one pane alone
        if self._timeless():
            return  # its layout hides the timeline; keep the user's layout for sampled profiles
        QSettings().setValue(LAYOUT_KEY, self.saveState(LAYOUT_VERSION))

    def _restore_saved_layout(self) -> bool:
        """Put every dock in the window untabbed, then apply the saved layout; False if there is none."""
        state = QSettings().value(LAYOUT_KEY)
        if not (isinstance(state, QByteArray | bytes) and state):
            return False
        for each in self.docks.values():
            self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, each)
        if self.restore_layout():
            self._size_plan = (None, None, None, None)
            return True
        for each in self.docks.values():
            self.removeDockWidget(each)
        return False

    def restore_layout(self) -> bool:
        state = QSettings().value(LAYOUT_KEY)
        if isinstance(state, QByteArray | bytes) and state:
            return bool(self.restoreState(QByteArray(state), LAYOUT_VERSION))
        return False

    # ------------------------------------------------------------ refresh
    def schedule_refresh(self, soon: bool = False) -> None:
        """Refresh soon: ≤ 10×/s for view changes; for pure live growth, pace by how much is new.

        A long live session grows by a tiny fraction per batch; redrawing every
        pane 10×/s for that costs CPU and shows nothing new, so growth-only
        changes are paced by the fraction that is new: at a steady rate the
        interval is about sqrt(GROWTH_PACE_S × session age), i.e. ~5 Hz in the
        first second, ~1.4 Hz after 10 s and 1 Hz from ~20 s on.
        """
        interval = REFRESH_INTERVAL_S
        if soon:
            pass  # a pane came to the front stale: the user is looking at it now
        elif self.doc.playing:
            pass  # replay ticks: 10 Hz, slow panes paced per their cost in _tick
        elif self.doc.view_revision <= self._tick_revision:  # nothing but growth since the last tick
            n = max(1, self.doc.profile.sample_count)
            grown = (n - self._tick_samples) / n
            interval = MAX_GROWTH_INTERVAL_S if grown <= 0 else min(MAX_GROWTH_INTERVAL_S, max(REFRESH_INTERVAL_S, GROWTH_PACE_S / grown))
            if self._target_idle():
                interval = IDLE_INTERVAL_S
        wait = interval - (time.monotonic() - self._last_tick)
        ms = max(0, int(wait * 1000))
        if self._timer.isActive():
            if self._timer.remainingTime() <= ms:
                return
            self._timer.stop()
        self._timer.start(ms)

    def _target_idle(self) -> bool:
        """True when every sample since the last refresh was off-CPU (the program is waiting).

        Then the picture only accumulates waiting time, so a slower redraw loses nothing.
        """
        samples = self.doc.profile.samples
        n = len(samples)
        if n <= self._tick_samples:
            return True
        start = max(self._tick_samples, n - 20000)
        cpu = samples["cpu"][start:n]
        weight = samples["weight"][start:n]
        known = cpu >= 0
        return bool(known.all()) and bool((cpu < 0.5 * weight).all())

    def _on_dock_visibility(self, name: str, visible: bool) -> None:
        # Qt emits this when a dock is shown/hidden and when its tab becomes (non-)current
        self._on_screen[name] = visible
        if visible:  # a tab brought to the front waited up to IDLE_INTERVAL_S (2 s) for its first refresh
            self.schedule_refresh(soon=True)

    def visible_panes(self) -> Iterator[Pane]:
        for pane in self.panes:
            if self._on_screen.get(pane.objectName(), True) and pane.on_screen():
                yield pane

    def _begin_tick(self) -> None:
        self._last_tick = time.monotonic()
        self._tick_revision = self.doc.revision
        self._tick_samples = self.doc.profile.sample_count
        self._update_threads()

    def _tick(self) -> None:
        """Timer tick: refresh stale visible panes one per event-loop turn, so input and
        painting get in between and the longest GUI stall is one pane's refresh, not the sum."""
        view_changed = self.doc.view_revision > self._tick_revision  # the user changed something: no pacing
        self._begin_tick()
        now = time.monotonic()
        stale = [p for p in self.visible_panes() if p.seen_revision != self.doc.revision]
        # while the model only grows, a pane whose refresh is slow is refreshed less often
        # (each pane's duty cycle <= 1/COST_FACTOR), so a heavy pane cannot monopolise the GUI
        due = [
            p for p in stale
            if view_changed or now - self._last_refresh.get(p.objectName(), 0.0) >= COST_FACTOR * self._cost.get(p.objectName(), 0.0)
        ]
        later = [COST_FACTOR * self._cost[p.objectName()] - (now - self._last_refresh[p.objectName()]) for p in stale if p not in due]
        if later:
            self._timer.start(max(10, int(min(later) * 1000)))
        # the pane drawn longest ago first: while a replay's playhead is dragged every tick finds every pane
        # stale again, and a fixed order (the panes a user looks at first) restarted at each tick never reached
        # the last ones (the Tasks pane drew nothing until the drag ended); a first frame keeps REFRESH_ORDER
        due.sort(key=lambda p: (self._last_refresh.get(p.objectName(), 0.0), REFRESH_ORDER.get(p.pane_id, len(REFRESH_ORDER))))
        self._queue = due
        self._step()

    def _step(self) -> None:
        while self._queue:
            pane = self._queue.pop(0)
            if pane.seen_revision == self.doc.revision or not pane.isVisible():
                continue
            self._refresh_pane(pane)
            if self._queue:
                # yield as long as that refresh worked (at most a frame): whatever else is due - input,
                # painting, other timers - runs before the next pane, so a burst is one pane's refresh
                self._step_timer.start(min(int(self._cost[pane.objectName()] * 1000), STEP_YIELD_MAX_MS))
            return

    def _refresh_pane(self, pane: Pane) -> None:
        pane.seen_revision = self.doc.revision
        start = time.monotonic()
        if not pane.can_show():  # a recording's preview this pane cannot draw from: say so, never draw it wrong
            pane.show_pending(self.doc.pending_text())
            self._cost[pane.objectName()] = 0.0
            self._last_refresh[pane.objectName()] = time.monotonic()
            return
        pane.show_pending(None)
        try:
            pane.refresh()
            _settle_plots(pane)
        except Exception as exc:  # keep the window alive; say which pane failed
            import traceback

            traceback.print_exc()
            win = self.window()
            if isinstance(win, QMainWindow):
                win.statusBar().showMessage(f"{pane.title}: {type(exc).__name__}: {exc}", 8000)
        end = time.monotonic()
        self._cost[pane.objectName()] = end - start
        self._last_refresh[pane.objectName()] = end

    def refresh_visible(self, force: bool = False) -> int:
        """Refresh stale visible panes (all panes with force) now, synchronously; returns how many."""
        self._begin_tick()
        self._queue = []
        self._step_timer.stop()
        n = 0
        for pane in list(self.visible_panes()) if not force else self.panes:
            if force or pane.seen_revision != self.doc.revision:
                self._refresh_pane(pane)
                n += 1
        return n

    def current_pane(self) -> Pane | None:
        """The pane that has keyboard focus (or the first visible one)."""
        w: QWidget | None = self.focusWidget()
        while w is not None:
            if isinstance(w, Pane):
                return w
            w = w.parentWidget()
        return None

    def pane(self, key: str) -> Pane | None:
        """The pane with this id ("flame_graph") or title ("Flame graph"), in any case."""
        return next((p for p in self.panes if p.answers_to(key)), None)

    def show_pane(self, key: str) -> Pane | None:
        """Show and raise the pane with this id or title (Document.request_pane lands here)."""
        p = self.pane(key)
        if p is not None:
            dock = self.docks[p.objectName()]
            dock.show()
            dock.raise_()
            if not self._settled:  # raised again once shown and laid out (a tab raised before that stays behind)
                timeline, functions, flame, _front = self._size_plan
                self._size_plan = (timeline, functions, flame, dock)
        return p
