"""Event-loop pane: lag numbers, histogram, blocking list, stack of the selected event, range jump."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from pyrometer.app.document import Document
from pyrometer.app.panes.event_loop import EventLoopPane
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
    assert x is not None and len(x) == 100 and float(np.max(y)) == pytest.approx(0.6)


def test_blocking_list_and_stack(pane: EventLoopPane) -> None:
    t = pane.table
    assert t.rowCount() == 2
    assert [t.item(0, c).text() for c in range(4)] == ["0:01.750", "250.0 ms", "sleep", "MainThread"]
    assert t.item(1, 2).text() == "crunch"
    selected: list[int] = []
    pane.doc.functionSelected.connect(selected.append)
    pane.select_event(1)
    items = [pane.stack_list.item(i).text() for i in range(pane.stack_list.count())]
    assert items == ["crunch (/srv/work.py:12)", "main (/srv/app.py:5)"]  # innermost first
    assert "600.0 ms" in pane.stack_title.text() and "Task.__step" in pane.stack_title.text()
    assert pane.doc.range == pytest.approx((7.4, 8.06))  # the stall plus a margin for its probe
    assert selected == [pane.doc.profile.func_name.index("crunch")]
    # the range change refreshes the pane: the list (whole session) and the selection survive
    pane.refresh()
    assert t.rowCount() == 2 and pane.selected_event() is pane.events[1]
    assert "<b>1</b>" in pane.stat_labels["blocking"].text()  # only one starts in the range
    assert "600.0 ms" in pane.stat_labels["max"].text()  # the probe that measured it is in range
    assert pane.range_region.isVisible()


def test_playhead_limits_what_is_shown(pane: EventLoopPane) -> None:
    pane.doc.set_playhead(5.0)
    pane.refresh()
    assert pane.table.rowCount() == 1
    assert "250.0 ms" in pane.stat_labels["max"].text()
    x, _ = pane.lag_curve.getData()
    assert x is not None and len(x) == 50


def test_click_on_marker_selects_event(pane: EventLoopPane, qtbot) -> None:  # type: ignore[no-untyped-def]
    pane.lag_plot.setXRange(0, 10, padding=0)
    pane.lag_plot.setYRange(0, 0.7, padding=0)
    qtbot.wait(10)
    vb = pane.lag_plot.getViewBox()
    scene_pt = vb.mapViewToScene(QtCore.QPointF(1.75, 0.25))
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
    first_item = pane.table.item(0, 2)
    p = pane.doc.profile
    p.blocking.append(BlockingEvent(start=9.0, duration=0.4, loop=0, thread=1, stack=p.blocking[0].stack))
    pane.doc.set_range(None, None)
    pane.refresh()
    assert pane.table.rowCount() == 3
    assert pane.table.item(0, 2) is first_item  # not rebuilt
    assert pane.table.item(2, 0).text() == "0:09.000" and pane.table.item(2, 2).text() == "sleep"
    assert pane.selected_event() is pane.events[0]
