"""Event-loop pane: lag numbers, histogram, blocking list, stack of the selected event, range and timeline jump,
and a layout that follows the pane's shape."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from pyrometer.app.document import Document
from pyrometer.app.panes.event_loop import EventLoopPane
from pyrometer.core import fmt
from pyrometer.core.analysis.stall_asof import duration_at
from pyrometer.core.model import BlockingEvent, LoopInfo, Profile


def make_profile() -> Profile:
    """100 lag probes (1 ms, except 3 big ones) and two blocking events with real stacks."""
    p = Profile()
    p.ensure_thread(1, "MainThread")
    p.loops[0] = LoopInfo(0, 1, "asyncio main loop")
    t = np.arange(100) * 0.1
    lag = np.full(100, 0.001, np.float32)
    lag[[20, 50, 80]] = [0.25, 0.03, 0.6]
    p.add_lag(t, np.zeros(100, np.int32), lag)
    main = p.intern_frame("main", "/srv/app.py", 5, 1)
    handler = p.intern_frame("handler", "/srv/app.py", 30, 25)
    sleep = p.intern_frame("sleep", "<built-in>", 0, 0)
    crunch = p.intern_frame("crunch", "/srv/work.py", 12, 10)
    s1 = p.intern_stack_path([main, handler, sleep])
    s2 = p.intern_stack_path([main, crunch])
    p.blocking.append(BlockingEvent(start=1.75, duration=0.25, loop=0, thread=1, stack=s1))
    p.blocking.append(BlockingEvent(start=7.4, duration=0.6, loop=0, thread=1, stack=s2, callback="Task.__step"))
    return p


@pytest.fixture
def pane(qtbot):  # type: ignore[no-untyped-def]
    pane = EventLoopPane(Document(make_profile()))
    qtbot.addWidget(pane)
    pane.resize(1000, 600)
    pane.show()
    qtbot.waitExposed(pane)
    pane.refresh()
    return pane


def test_lag_numbers_and_histogram(pane: EventLoopPane) -> None:
    assert "100" in pane.stat_labels["probes"].text()
    assert "1.0 ms" in pane.stat_labels["p50"].text()
    assert "600.0 ms" in pane.stat_labels["max"].text()
    assert "<b>2</b>" in pane.stat_labels["blocking"].text()
    heights = pane.hist_bars.opts["height"]
    assert float(np.sum(heights)) == 100.0
    x, y = pane.lag_curve.getData()
    assert x is not None and len(x) == 100 and float(np.max(y)) == pytest.approx(600.0)  # ms


def test_blocking_list_and_stack(pane: EventLoopPane) -> None:
    t = pane.table
    assert t.rowCount() == 2
    assert [t.item(0, c).text() for c in range(4)] == ["0:01.750", "250.0 ms", "sleep", "MainThread"]
    assert t.item(1, 2).text() == "crunch"
    selected: list[int] = []
    pane.doc.functionSelected.connect(selected.append)
    pane.select_event(1)
    items = [pane.stack_list.item(i).text() for i in range(pane.stack_list.count())]
    assert items == ["crunch (work.py:12)", "main (app.py:5)"]  # innermost first, short file names
    assert pane.stack_list.item(0).toolTip() == "crunch (/srv/work.py:12)"  # the full path on hover
    assert "600.0 ms" in pane.stack_title.text() and "Task.__step" in pane.stack_title.text()
    assert pane.doc.range == pytest.approx((7.4, 8.06))  # the stall plus a margin for its probe
    assert selected == [pane.doc.profile.func_name.index("crunch")]
    # the range change refreshes the pane: the list and the numbers stay the whole session's
    pane.refresh()
    assert t.rowCount() == 2 and pane.selected_event() is pane.events[1]
    assert "<b>2</b>" in pane.stat_labels["blocking"].text()
    assert "100" in pane.stat_labels["probes"].text() and "1.0 ms" in pane.stat_labels["p50"].text()
    assert float(np.sum(pane.hist_bars.opts["height"])) == 100.0  # not a one-probe histogram
    # ... and the range is said, with its own (honest) numbers and a way back
    assert pane.range_region.isVisible() and pane.range_box.isVisible()
    text = pane.range_label.text()
    assert "600.0 ms stall at 0:07.400" in text and "7 probes," in text and "1 blocking" in text
    assert "p50" not in text  # 7 probes make no percentiles
    assert pane.hist_range_bars.isVisible() and float(np.sum(pane.hist_range_bars.opts["height"])) == 7.0
    pane.clear_range_button.click()
    assert pane.doc.range is None
    pane.refresh()
    assert not pane.range_box.isVisible() and not pane.hist_range_bars.isVisible()
    assert pane.selected_event() is pane.events[1]  # the stack stays on screen


def test_a_longer_range_gets_its_own_percentiles(pane: EventLoopPane) -> None:
    pane.doc.set_range(0.0, 5.0)
    pane.refresh()
    text = pane.range_label.text()
    assert "0:00.000 – 0:05.000" in text and "50 probes" in text and "p50" in text and "1 blocking" in text
    assert "100" in pane.stat_labels["probes"].text()  # the session line is unchanged
    assert float(np.sum(pane.hist_range_bars.opts["height"])) == 50.0


def test_a_range_inside_a_stall_counts_that_stall(pane: EventLoopPane) -> None:
    pane.doc.set_range(7.5, 7.7)  # inside the 600 ms stall that starts at 7.4 s
    pane.refresh()
    assert "1 blocking" in pane.range_label.text()


def test_sorting_by_duration_keeps_rows_tied_to_their_events(pane: EventLoopPane) -> None:
    pane.table.sortByColumn(1, QtCore.Qt.SortOrder.DescendingOrder)
    assert pane.table.item(0, 1).text() == "600.0 ms"  # by value, not by text ("250.0" > "600.0" is false either way)
    pane.table.selectRow(0)
    assert pane.selected_event() is pane.events[1]
    pane.select_event(0)
    assert pane.table.currentRow() == 1 and pane.selected_event() is pane.events[0]


def test_playhead_limits_what_is_shown(pane: EventLoopPane) -> None:
    pane.doc.set_playhead(5.0)
    pane.refresh()
    assert pane.table.rowCount() == 1
    assert "250.0 ms" in pane.stat_labels["max"].text()
    x, _ = pane.lag_curve.getData()
    assert x is not None and len(x) == 50


def test_click_on_marker_selects_event(pane: EventLoopPane, qtbot) -> None:  # type: ignore[no-untyped-def]
    pane.lag_plot.setXRange(0, 10, padding=0)
    pane.lag_plot.setYRange(0, 700, padding=0)
    qtbot.wait(10)
    vb = pane.lag_plot.getViewBox()
    scene_pt = vb.mapViewToScene(QtCore.QPointF(1.75, 250.0))
    pos = pane.lag_plot.mapFromScene(scene_pt)
    qtbot.mouseClick(pane.lag_plot.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)
    assert pane.selected_event() is pane.events[0]


def test_profile_without_loop_says_so(qtbot) -> None:  # type: ignore[no-untyped-def]
    pane = EventLoopPane(Document(Profile()))
    qtbot.addWidget(pane)
    pane.refresh()
    assert pane.stack.currentWidget() is pane.empty
    assert "–" in pane.stat_labels["p99"].text()


def test_live_appends_keep_rows_and_selection(pane: EventLoopPane) -> None:
    pane.select_event(0)
    resets: list[int] = []
    inserted: list[tuple[int, int]] = []
    pane.stalls.modelReset.connect(lambda: resets.append(1))
    pane.stalls.rowsInserted.connect(lambda _parent, a, b: inserted.append((a, b)))
    p = pane.doc.profile
    p.blocking.append(BlockingEvent(start=9.0, duration=0.4, loop=0, thread=1, stack=p.blocking[0].stack))
    pane.doc.set_range(None, None)
    pane.refresh()
    assert pane.table.rowCount() == 3
    assert resets == [] and inserted == [(2, 2)]  # not rebuilt: the new stall's row added
    assert pane.table.item(2, 0).text() == "0:09.000" and pane.table.item(2, 2).text() == "sleep"
    assert pane.selected_event() is pane.events[0]


@pytest.mark.parametrize("size", [(1440, 190), (1440, 130), (1200, 260)])
def test_wide_short_pane_puts_plots_and_lists_side_by_side(pane: EventLoopPane, qtbot, size) -> None:  # type: ignore[no-untyped-def]
    pane.resize(*size)
    qtbot.wait(20)
    assert pane.is_wide and pane._main.orientation() == QtCore.Qt.Orientation.Horizontal
    parts = [pane.lag_plot, pane.table, pane.stack_list]
    if pane.hist_plot.isVisible():
        parts.insert(1, pane.hist_plot)
    xs = [w.mapTo(pane, QtCore.QPoint(0, 0)).x() for w in parts]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)  # left to right, none on top of another
    visible_rows = pane.table.viewport().height() // pane.table.rowHeight(0)
    assert visible_rows >= min(3, pane.table.rowCount())
    _assert_axis_titles_fit(pane)


@pytest.mark.parametrize("width", [1366, 1440, 1920])
def test_the_blocking_function_stays_readable_in_a_wide_short_pane(pane: EventLoopPane, qtbot, width) -> None:  # type: ignore[no-untyped-def]
    """At 1366 px the list got ~390 px and five columns: the function was cut to "unctio" / "leg..."."""
    pane.resize(width, 190)
    qtbot.wait(20)
    assert pane.is_wide
    assert pane.table.columnWidth(2) >= 120, [pane.table.columnWidth(c) for c in range(5)]
    assert not pane.table.isColumnHidden(4)  # the blocking task is the column that stays


def test_tall_pane_stacks_plots_over_lists(pane: EventLoopPane, qtbot) -> None:  # type: ignore[no-untyped-def]
    pane.resize(700, 800)
    qtbot.wait(20)
    assert not pane.is_wide and pane._main.orientation() == QtCore.Qt.Orientation.Vertical
    assert pane.hist_plot.isVisible()
    assert pane.lag_plot.mapTo(pane, QtCore.QPoint(0, 0)).y() < pane.table.mapTo(pane, QtCore.QPoint(0, 0)).y()
    for axis in (pane.lag_plot.getAxis("left"), pane.lag_plot.getAxis("bottom"), pane.hist_plot.getAxis("bottom")):
        assert axis.label.isVisible()
    _assert_axis_titles_fit(pane)


def test_small_pane_drops_the_histogram_and_thins_its_ticks(pane: EventLoopPane, qtbot) -> None:  # type: ignore[no-untyped-def]
    pane.resize(1440, 200)  # wide first: stacked, the pane could not be this short
    qtbot.wait(20)
    pane.resize(1440, 110)
    qtbot.wait(20)
    assert pane.height() == 110 and not pane.hist_plot.isVisible()
    pane.resize(760, 700)
    qtbot.wait(20)
    assert pane.hist_plot.isVisible()
    ticks = pane.hist_plot.getAxis("bottom")._tickLevels[0]
    vb = pane.hist_plot.getViewBox()
    xs = [vb.mapViewToScene(QtCore.QPointF(x, 0)).x() for x, _ in ticks]
    assert min(np.diff(xs)) >= 30  # tick labels do not run into each other


def _assert_axis_titles_fit(pane: EventLoopPane) -> None:
    """A vertical axis title is shown only when the axis is long enough for all of it ("lag (m" is worse than none)."""
    for plot in (pane.lag_plot, pane.hist_plot):
        if not plot.isVisible():
            continue
        axis = plot.getAxis("left")
        if axis.label.isVisible():
            assert axis.label.boundingRect().width() <= axis.boundingRect().height()


def test_selecting_a_stall_moves_the_timeline_view(qtbot) -> None:  # type: ignore[no-untyped-def]
    from pyrometer.app.session_view import SessionView

    view = SessionView(Document(make_profile()))
    qtbot.addWidget(view)
    view.resize(1400, 900)
    view.show()
    qtbot.waitExposed(view)
    view.refresh_visible(force=True)
    timeline = view.pane("Timeline")
    loop = view.pane("Event loop")
    assert isinstance(loop, EventLoopPane) and timeline is not None
    x0, x1 = timeline.lane_vb.viewRange()[0]  # type: ignore[attr-defined]
    assert x0 <= 0.5 and x1 >= 9.5  # whole session
    loop.select_event(1)  # 7.4 s, 600 ms
    view.refresh_visible(force=True)  # the range change refreshes the timeline: it must keep the jump
    x0, x1 = timeline.lane_vb.viewRange()[0]  # type: ignore[attr-defined]
    assert x0 <= 7.4 and x1 >= 8.0 and x1 - x0 < 6.0
    assert view.doc.range == pytest.approx((7.4, 8.06))
    assert timeline.regions[0].isVisible()  # type: ignore[attr-defined]


def test_short_frame_labels_keep_the_package_of_an_init_file() -> None:
    from pyrometer.app.panes.event_loop import short_frame_label

    p = Profile()
    a = p.intern_frame("get", "/usr/lib/python3/site-packages/requests/__init__.py", 40, 38)
    b = p.intern_frame("run", "C:\\work\\svc\\jobs.py", 7, 1)
    c = p.intern_frame("<module>", "<string>", 1, 1)
    assert short_frame_label(p, a) == "get (requests/__init__.py:40)"
    assert short_frame_label(p, b) == "run (jobs.py:7)"
    assert short_frame_label(p, c) == "<module> (<string>:1)"


def test_range_line_joins_the_numbers_only_when_both_fit(pane: EventLoopPane, qtbot) -> None:  # type: ignore[no-untyped-def]
    def same_line() -> bool:
        qtbot.wait(10)
        a = pane.range_box.mapTo(pane, QtCore.QPoint(0, 0)).y()
        b = pane.stat_labels["p50"].mapTo(pane, QtCore.QPoint(0, 0)).y()
        return abs(a - b) < pane.stat_labels["p50"].height()

    pane.resize(1800, 200)  # wide and short: every pixel of height counts
    qtbot.wait(10)
    pane.select_event(1)
    pane.refresh()
    assert pane.range_box.isVisible() and same_line()
    pane.resize(1000, 200)  # still wide, but the two lines no longer fit side by side
    assert pane.is_wide and not same_line()
    labels = [pane.scope_label, *pane.stat_labels.values(), pane.range_label]
    assert all(w.width() >= w.sizeHint().width() for w in labels if w.isVisible())  # nothing clipped


def test_selecting_a_stall_asks_the_document_to_show_its_time(qtbot) -> None:  # type: ignore[no-untyped-def]
    """The event-loop pane asks through the document; it never looks the timeline up (it works alone)."""
    doc = Document(make_profile())
    loop = EventLoopPane(doc)
    qtbot.addWidget(loop)
    loop.refresh()
    with qtbot.waitSignal(doc.timeRequested) as asked:
        loop.select_event(1)
    assert asked.args == pytest.approx([7.4, 8.06])


def test_panes_never_look_each_other_up() -> None:
    """No pane module finds another pane (by title, through its parents): they meet in the Document."""
    import pathlib

    import pyrometer.app.panes as panes

    for path in pathlib.Path(panes.__file__).parent.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for habit in (".pane(", "parentWidget()", "SessionView"):
            assert habit not in text, f"{path.name} uses {habit}"


def test_the_header_above_a_long_stalls_stack_is_not_cut_off(qtbot) -> None:  # type: ignore[no-untyped-def]
    p = make_profile()
    long_callback = "<Handle Task.__step(<Future pending cb=[Task.task_wakeup()]>) created at /srv/app.py:30>"
    p.blocking[1].callback = long_callback
    pane = EventLoopPane(Document(p))
    qtbot.addWidget(pane)
    pane.resize(900, 420)
    pane.show()
    qtbot.waitExposed(pane)
    pane.refresh()
    width = pane.width()
    pane.select_event(1)
    qtbot.wait(50)
    title = pane.stack_title
    assert pane.width() == width  # a long header does not widen the pane
    shown = QtGui.QTextDocument()
    shown.setHtml(title.text())
    text = shown.toPlainText()
    assert text.startswith("Blocked 600.0 ms at 0:07.400 — <Handle Task.__step") and text.endswith("…")
    assert title.fontMetrics().horizontalAdvance(text) <= title.width()  # all of it on screen
    assert title.toolTip() == long_callback


def _many_stalls(n: int, first: float = 10.0, seed: int = 5) -> Profile:
    p = make_profile()
    stack = p.blocking[0].stack
    durations = np.random.default_rng(seed).uniform(0.05, 0.9, n)
    p.blocking[:] = [BlockingEvent(start=first + i, duration=float(d), loop=0, thread=1, stack=stack) for i, d in enumerate(durations)]
    return p


def _shown(pane: EventLoopPane) -> list[BlockingEvent]:
    return [pane.events[pane._row_event(r)] for r in range(pane.table.rowCount())]


def test_thousands_of_stalls_are_listed_at_once_and_sorted_by_any_column(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A day's blocking events are a model over the stalls: listed in one refresh (a QTableWidget was filled a
    batch of rows per turn, 1-2 s for a day's 16k), sorted by start as the header says, then by any column."""
    p = _many_stalls(1017)
    pane = EventLoopPane(Document(p))
    qtbot.addWidget(pane)
    pane.resize(1000, 600)
    pane.show()
    pane.refresh()
    assert pane.table.rowCount() == 1017
    assert pane.table.item(1016, 1) is not None and pane.table.item(1017, 1) is None
    starts = [e.start for e in _shown(pane)]
    assert starts == sorted(starts)  # sorted by start, as the header says
    pane.table.sortByColumn(1, QtCore.Qt.SortOrder.DescendingOrder)
    worst = pane.events[pane._row_event(0)]
    assert worst.duration == max(e.duration for e in p.blocking)
    assert [e.duration for e in _shown(pane)] == sorted((e.duration for e in p.blocking), reverse=True)
    assert pane.table.item(0, 1).text() == fmt.seconds(worst.duration)
    pane.table.selectRow(0)
    assert pane.selected_event() is worst
    pane.table.sortByColumn(0, QtCore.Qt.SortOrder.AscendingOrder)  # the selection follows its stall
    assert pane.selected_event() is worst and pane.table.currentRow() == pane.events.index(worst)
    pane.table.sortByColumn(1, QtCore.Qt.SortOrder.DescendingOrder)
    q = _many_stalls(600, first=5.0, seed=9)
    pane.doc.set_detail(q)  # a new profile in the same document, as a recording's detail arrives: sorted as the header says
    pane.refresh()
    assert [e.duration for e in _shown(pane)] == sorted((e.duration for e in q.blocking), reverse=True)


@pytest.mark.parametrize(("column", "order"), [(0, "Ascending"), (0, "Descending"), (1, "Descending"), (2, "Ascending")])
def test_a_playhead_move_adds_or_removes_rows_and_keeps_the_selection(qtbot, column: int, order: str) -> None:  # type: ignore[no-untyped-def]
    """A replay's stalls are a prefix of the session's: a playhead move inserts or removes the rows that entered
    or left it (every row was filled again at each move), under any sort; the list is what sorting the prefix
    lists, and a selected stall still in it stays selected, without selecting it again (its range, the
    timeline's jump)."""
    p = _many_stalls(300)
    doc = Document(p)
    pane = EventLoopPane(doc)
    qtbot.addWidget(pane)
    pane.resize(1000, 600)
    pane.show()
    sort_order = getattr(QtCore.Qt.SortOrder, f"{order}Order")
    pane.table.sortByColumn(column, sort_order)
    doc.set_playhead(150.0)
    pane.refresh()
    assert pane.table.rowCount() == 140
    pane.select_event(100)
    chosen = pane.events[100]
    resets: list[int] = []
    selections: list[int] = []
    functions: list[int] = []
    doc.functionSelected.connect(functions.append)
    pane.stalls.modelReset.connect(lambda: resets.append(1))
    doc.timeRequested.connect(lambda *_a: selections.append(1))  # (the timeline's view jumped onto the stall)
    ranges: list[object] = []
    doc.rangeChanged.connect(ranges.append)

    def key(e: BlockingEvent, playhead: float) -> object:  # (a stall going on at the playhead: as far as it got)
        return (e.start, duration_at(e, playhead), e.start)[column]

    for playhead in (151.5, 152.5, 180.0, 141.0, 111.0, 400.0, 110.5):
        doc.set_playhead(playhead)
        pane.refresh()
        want = sorted((e for e in p.blocking if e.start < playhead), key=lambda e: key(e, playhead), reverse=order == "Descending")
        assert len(_shown(pane)) == len(want) and all(a is b for a, b in zip(_shown(pane), want, strict=True)), playhead
        assert pane.selected_event() is chosen
    assert selections == [] and ranges == [] and functions == []
    assert len(resets) == (0 if column == 0 else 2)  # (another sort: the two moves of over FEW_CHANGES stalls)
    doc.set_playhead(100.0)  # the selected stall leaves the list: nothing is selected
    pane.refresh()
    assert pane.table.rowCount() == 90 and pane.selected_event() is None


def test_a_live_session_sorted_by_duration_inserts_new_stalls_where_they_sort(qtbot) -> None:  # type: ignore[no-untyped-def]
    p = _many_stalls(50)
    pane = EventLoopPane(Document(p))
    qtbot.addWidget(pane)
    pane.show()
    pane.refresh()
    pane.table.sortByColumn(1, QtCore.Qt.SortOrder.DescendingOrder)
    resets: list[int] = []
    pane.stalls.modelReset.connect(lambda: resets.append(1))
    stack = p.blocking[0].stack
    p.blocking.extend(BlockingEvent(start=100.0 + i, duration=d, loop=0, thread=1, stack=stack) for i, d in enumerate((2.0, 0.01, 0.5)))
    pane.refresh()
    assert resets == []
    assert [e.duration for e in _shown(pane)] == sorted((e.duration for e in p.blocking), reverse=True)
    assert pane.table.item(0, 1).text() == "2.00 s" or pane.table.item(0, 1).text() == fmt.seconds(2.0)


def test_a_playhead_move_shows_the_markers_before_it_without_setting_them_again(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The session's stall markers are set once; a playhead move only hides those after it (setting them again
    styled every marker again, 10-30 ms a move at a day's 12k stalls): not drawn, not clickable, not in the
    plot's bounds."""
    from pyrometer.app.prefix_scatter import PrefixScatter

    p = _many_stalls(300)
    p.blocking.append(BlockingEvent(start=400.0, duration=5.0, loop=0, thread=1, stack=p.blocking[0].stack))
    doc = Document(p)
    pane = EventLoopPane(doc)
    qtbot.addWidget(pane)
    pane.resize(1000, 600)
    pane.show()
    doc.set_playhead(150.0)
    pane.refresh()
    set_again: list[int] = []
    real = PrefixScatter.setData
    monkeypatch.setattr(PrefixScatter, "setData", lambda self, *a, **k: set_again.append(1) or real(self, *a, **k))
    markers = pane.block_markers
    for playhead in (150.5, 200.0, 120.0, 500.0, 60.0):
        doc.set_playhead(playhead)
        pane.refresh()
        shown = sum(e.start < playhead for e in p.blocking)
        assert markers.shown == shown and int(markers.data["visible"].sum()) == shown
        assert pane._blocking_summary == (shown, max(e.duration for e in p.blocking if e.start < playhead))
        ys = [e.duration * 1000.0 for e in p.blocking if e.start < playhead]
        low, high = markers.dataBounds(1)
        assert low <= min(ys) and max(ys) <= high < (5000.0 if playhead < 400 else 1e9)
    assert set_again == []  # (the markers were set once, before the moves)
    pane.lag_plot.setXRange(0, 420, padding=0)
    pane.lag_plot.setYRange(0, 6000, padding=0)
    qtbot.wait(10)
    vb = pane.lag_plot.getViewBox()
    pos = pane.lag_plot.mapFromScene(vb.mapViewToScene(QtCore.QPointF(400.0, 5000.0)))
    qtbot.mouseClick(pane.lag_plot.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)
    assert pane.selected_event() is None  # the stall after the playhead has no marker to click
    doc.set_playhead(None)
    pane.refresh()
    qtbot.mouseClick(pane.lag_plot.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)
    assert pane.selected_event() is p.blocking[-1]
    p.blocking.append(BlockingEvent(start=450.0, duration=7.5, loop=0, thread=1, stack=p.blocking[0].stack))  # live
    pane.refresh()
    assert markers.shown == len(p.blocking) == len(markers.data) and pane._blocking_summary == (len(p.blocking), 7.5)


def test_keys_move_through_the_stalls_and_copy_the_cell(pane: EventLoopPane, qtbot) -> None:  # type: ignore[no-untyped-def]
    """The list is a table view over a model: arrow keys select the next stall (its stack, range and timeline
    jump follow) and Ctrl+C copies the current cell's text, as in any table."""
    pane.select_event(0)
    pane.table.setFocus()
    qtbot.keyClick(pane.table, QtCore.Qt.Key.Key_Down)
    assert pane.selected_event() is pane.events[1]
    assert pane.doc.range == pytest.approx((7.4, 8.06)) and "crunch" in pane.stack_list.item(0).text()
    qtbot.keyClick(pane.table, QtCore.Qt.Key.Key_Right)
    qtbot.keyClick(pane.table, QtCore.Qt.Key.Key_C, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert QtGui.QGuiApplication.clipboard().text() == "600.0 ms"
    qtbot.keyClick(pane.table, QtCore.Qt.Key.Key_Up)
    assert pane.selected_event() is pane.events[0] and pane.doc.range == pytest.approx((1.75, 2.025))


def test_a_stalls_context_menu_copies_it_and_its_stack(pane: EventLoopPane) -> None:
    menu = pane.stall_menu(1)
    assert menu is not None and pane.stall_menu(2) is None
    actions = {a.text(): a for a in menu.actions() if a.text()}
    assert "Focus on “crunch”" in actions  # the blocking function's actions, as in the other panes
    actions["Copy row"].trigger()
    assert QtGui.QGuiApplication.clipboard().text() == "0:07.400\t600.0 ms\tcrunch\tMainThread\t"
    actions["Copy stack"].trigger()
    assert QtGui.QGuiApplication.clipboard().text() == "crunch (/srv/work.py:12)\nmain (/srv/app.py:5)"
    pane.table.sortByColumn(1, QtCore.Qt.SortOrder.AscendingOrder)  # rows, not stalls: the shorter one first now
    first = {a.text(): a for a in pane.stall_menu(0).actions() if a.text()}  # type: ignore[union-attr]
    first["Copy row"].trigger()
    assert QtGui.QGuiApplication.clipboard().text().startswith("0:01.750\t250.0 ms\tsleep")
