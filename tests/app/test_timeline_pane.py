"""Timeline pane: lanes from a hand-built profile, drag-to-select range, clear, playhead."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6 import QtCore, QtGui, QtWidgets
from qt_windows import show_pane
from timeline_profile import make_profile

from pyrometer.app.document import Document
from pyrometer.app.panes.timeline import PALETTE, TimelinePane
from pyrometer.app.prefix_scatter import PrefixScatter
from pyrometer.core.analysis.lane_palette import ON_CPU, WAITING
from pyrometer.core.model import Profile


@pytest.fixture
def pane(qtbot):  # type: ignore[no-untyped-def]
    pane = show_pane(qtbot, TimelinePane(Document(make_profile())), 1000, 420)
    QtWidgets.QApplication.processEvents()
    return pane


def to_widget(pane: TimelinePane, vb, t: float, y: float) -> QtCore.QPoint:  # type: ignore[no-untyped-def]
    scene = vb.mapViewToScene(QtCore.QPointF(t, y))
    return pane.graphics.mapFromScene(scene)


def drag(widget: QtWidgets.QWidget, a: QtCore.QPoint, b: QtCore.QPoint) -> None:
    """A real press-move-release sequence (QTest.mouseMove carries no button state)."""
    left = QtCore.Qt.MouseButton.LeftButton
    none = QtCore.Qt.KeyboardModifier.NoModifier

    def send(kind: QtCore.QEvent.Type, pos: QtCore.QPoint, buttons: QtCore.Qt.MouseButton) -> None:
        p = QtCore.QPointF(pos)
        g = QtCore.QPointF(widget.mapToGlobal(pos))
        button = left if kind != QtCore.QEvent.Type.MouseMove else QtCore.Qt.MouseButton.NoButton
        QtWidgets.QApplication.sendEvent(widget, QtGui.QMouseEvent(kind, p, p, g, button, buttons, none))

    send(QtCore.QEvent.Type.MouseButtonPress, a, left)
    for k in range(1, 6):
        time.sleep(0.012)  # pyqtgraph's scene drops mouse moves faster than its rate limit
        pos = QtCore.QPoint(a.x() + (b.x() - a.x()) * k // 5, a.y() + (b.y() - a.y()) * k // 5)
        send(QtCore.QEvent.Type.MouseMove, pos, left)
    send(QtCore.QEvent.Type.MouseButtonRelease, b, QtCore.Qt.MouseButton.NoButton)


def test_lanes_and_colours(pane: TimelinePane) -> None:
    assert pane.lanes.names == ["MainThread", "worker-1", "loop blocked", "tasks", ""]
    assert pane.lanes.heights[0] > pane.lanes.heights[2] > pane.lanes.heights[3]  # threads read best
    x, _w, row, _c = pane.lanes.arrays()
    assert len(x) == 2 + 1 + 1 + 2  # two main segments, one worker, one blocking, two tasks
    img = pane.grab().toImage()

    def colour_at(t: float, lane: int) -> QtGui.QColor:
        pt = pane.graphics.mapTo(pane, to_widget(pane, pane.lane_vb, t, pane.lanes.lane_center(lane) + 0.2))
        return img.pixelColor(pt)

    assert colour_at(0.3, 0).rgb() == PALETTE[ON_CPU].rgb()
    assert colour_at(1.5, 0).rgb() == PALETTE[WAITING].rgb()
    assert colour_at(1.5, 1).rgb() == PALETTE[ON_CPU].rgb()
    assert "blocked" in pane._tooltip(int(np.flatnonzero(row == 2)[0]))
    assert "3 blocking" not in pane.info.text() and "1 blocking event ·" in pane.info.text()


def test_drag_selects_range_and_esc_clears(pane: TimelinePane, qtbot) -> None:  # type: ignore[no-untyped-def]
    got: list[object] = []
    pane.doc.rangeChanged.connect(got.append)
    a = to_widget(pane, pane.lane_vb, 0.5, pane.lanes.lane_center(0))
    b = to_widget(pane, pane.lane_vb, 1.5, pane.lanes.lane_center(0))
    drag(pane.graphics.viewport(), a, b)
    assert pane.doc.range is not None
    t0, t1 = pane.doc.range
    assert t0 == pytest.approx(0.5, abs=0.02) and t1 == pytest.approx(1.5, abs=0.02)
    assert len(got) == 1 and all(r.isVisible() for r in pane.regions)
    assert pane.range_label.text().startswith("selected 0:00.") and "(1.00 s)" in pane.range_label.text()
    assert pane.clear_button.isEnabled()
    # dragging on the lag plot works too
    drag(pane.graphics.viewport(), to_widget(pane, pane.lag_vb, 0.2, 0.001), to_widget(pane, pane.lag_vb, 0.4, 0.001))
    assert pane.doc.range == pytest.approx((0.2, 0.4), abs=0.02)
    pane.graphics.setFocus()
    qtbot.keyClick(pane.graphics, QtCore.Qt.Key.Key_Escape)
    assert pane.doc.range is None
    assert not any(r.isVisible() for r in pane.regions)
    assert not pane.clear_button.isEnabled()


def test_clear_button_and_task_click(pane: TimelinePane, qtbot) -> None:  # type: ignore[no-untyped-def]
    _x, _w, row, _c = pane.lanes.arrays()
    task = int(np.flatnonzero(row == 4)[0])  # "fetch" sits on the second task row
    assert "fetch" in pane._tooltip(task)
    pane._box_clicked(task)
    assert pane.doc.range == pytest.approx((0.2, 0.9))
    qtbot.mouseClick(pane.clear_button, QtCore.Qt.MouseButton.LeftButton)
    assert pane.doc.range is None


def test_playhead_line_and_live_growth(pane: TimelinePane) -> None:
    pane.doc.set_playhead(1.2)
    pane.refresh()
    assert all(line.isVisible() and line.value() == pytest.approx(1.2) for line in pane.playheads)
    x, w, row, _ = pane.lanes.arrays()
    assert float((x + w)[row == 1].max()) <= 1.2 + 1e-9
    pane.doc.set_playhead(None)
    pane.refresh()
    assert not any(line.isVisible() for line in pane.playheads)
    # the profile grows (live): a full view follows the new end
    p = pane.doc.profile
    s = int(p.samples["stack"][0])
    p.add_samples(np.array([3.0]), np.array([2], np.int32), np.array([s]), weight=0.01, cpu=0.01)
    pane.refresh()
    assert pane.lane_vb.viewRange()[0][1] >= 3.0


def test_thread_filter_hides_other_lanes(pane: TimelinePane) -> None:
    pane.doc.set_threads(frozenset({2}))
    pane.refresh()
    assert pane.lanes.names[0] == "worker-1" and "MainThread" not in pane.lanes.names


def test_deterministic_profile_has_no_timeline(qtbot) -> None:  # type: ignore[no-untyped-def]
    p = make_profile()
    p.blocking.clear()
    p.tasks.clear()
    p.lag.truncate(0)
    p.meta["deterministic"] = True  # as the cProfile/yappi/callgrind importers mark it
    pane = TimelinePane(Document(p))
    qtbot.addWidget(pane)
    pane.refresh()
    assert pane.stack.currentWidget() is pane.empty
    assert "deterministic" in pane.empty.text()


def test_many_threads_scroll_instead_of_squeezing(qtbot) -> None:  # type: ignore[no-untyped-def]
    p = Profile()
    f = p.intern_frame("work", "/srv/app.py", 3, 1)
    s = p.intern_stack_path([f])
    n_threads = 40
    t = np.repeat(np.arange(50) * 0.01, n_threads)
    th = np.tile(np.arange(n_threads), 50).astype(np.int32)
    for i in range(n_threads):
        p.ensure_thread(i, f"worker-{i}")
    p.add_samples(t, th, np.full(len(t), s), weight=0.01, cpu=0.01)
    p.finish()
    pane = show_pane(qtbot, TimelinePane(Document(p)), 900, 400)
    y0, y1 = pane.lane_vb.viewRange()[1]
    assert y0 == pytest.approx(0.0) and y1 < 40  # not all 40 lanes squeezed in
    assert pane.lane_vb.height() / (y1 - y0) >= 17.9  # each lane keeps ≥ MIN_LANE_PX
    pane.resize(900, 1400)  # taller: more lanes fit, still none squeezed
    QtWidgets.QApplication.processEvents()
    z0, z1 = pane.lane_vb.viewRange()[1]
    assert z1 - z0 > y1 - y0
    assert pane.lane_vb.height() / (z1 - z0) >= 17.9


def test_live_tasks_keep_their_rows_and_pending_bars_follow_the_end(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Tasks arriving through the wire (task_log) are placed once; a finish recolours, never moves."""
    import json

    from pyrometer.core.agent import wire
    from pyrometer.core.analysis.lane_palette import T_DONE, T_PENDING
    from pyrometer.core.formats.recording import apply_message

    p = make_profile()
    p.tasks.clear()
    pane = TimelinePane(Document(p))
    qtbot.addWidget(pane)
    pane.resize(1000, 420)

    def boxes() -> dict[str, tuple[float, float, int, int]]:
        x, w, row, color = pane.lanes.arrays()
        out = {}
        for b in np.flatnonzero(np.asarray(pane.lanes.kinds)[row] == "task"):
            out[pane.lanes.labels[int(b)]] = (float(x[b]), float(x[b] + w[b]), int(row[b]), int(color[b]))
        return out

    apply_message(p, wire.TASKS_CREATED, json.dumps([{"id": 1, "t": 0.1, "name": "a"}, {"id": 2, "t": 0.3, "name": "b"}]).encode())
    pane.refresh()
    first = boxes()
    assert first["a"][3] == T_PENDING and first["a"][1] == pytest.approx(p.duration())
    apply_message(p, wire.TASKS_FINISHED, json.dumps([{"id": 2, "t": 0.6, "state": "done"}]).encode())
    apply_message(p, wire.TASKS_CREATED, json.dumps([{"id": 3, "t": 0.7, "name": "c"}]).encode())
    s = int(p.samples["stack"][0])
    p.add_samples(np.array([3.0]), np.array([2], np.int32), np.array([s]), weight=0.01, cpu=0.01)
    pane.refresh()
    later = boxes()
    assert later["a"][:1] + later["a"][2:] == first["a"][:1] + first["a"][2:]  # same start, row, colour
    assert later["a"][1] == pytest.approx(p.duration())  # the pending bar reaches the new end
    assert later["b"][1] == pytest.approx(0.6) and later["b"][2] == first["b"][2] and later["b"][3] == T_DONE
    assert later["c"][2] == first["b"][2]  # c starts after b ended: b's row is free again
    box_b = next(b for b in range(len(pane.lanes.labels)) if pane.lanes.labels[b] == "b")
    assert "(done)" in pane._tooltip(box_b) and "task b" in pane._tooltip(box_b)


def test_clear_range_zooms_a_live_timeline_out_to_the_whole_session(qtbot) -> None:  # type: ignore[no-untyped-def]
    doc = Document(make_profile(), is_live=True)
    pane = TimelinePane(doc)
    qtbot.addWidget(pane)
    pane.resize(1000, 420)
    pane.show()
    pane.refresh()
    doc.set_range(0.2, 0.4)
    doc.request_time(0.2, 0.4)  # e.g. "jump to the stall": the view zooms in
    pane.refresh()
    assert pane.lane_vb.viewRange()[0][1] < 0.9 * pane._duration
    doc.clear_range()
    p = doc.profile  # the program runs on
    p.add_samples(np.array([3.0]), np.array([2], np.int32), np.array([int(p.samples["stack"][0])]), weight=0.01, cpu=0.01)
    pane.refresh()
    x0, x1 = pane.lane_vb.viewRange()[0]
    assert x0 <= 0.05 and x1 >= 3.0


def test_header_counts_are_in_the_right_number(qtbot) -> None:  # type: ignore[no-untyped-def]
    p = Profile()
    s = p.intern_stack_path([p.intern_frame("main", "a.py", 1)])
    p.ensure_thread(1, "MainThread")
    p.add_samples(np.array([0.0, 0.1]), np.array([1, 1], np.int32), np.array([s, s]), weight=0.1)
    p.finish()
    pane = TimelinePane(Document(p))
    qtbot.addWidget(pane)
    pane.refresh()
    assert pane.info.text().startswith("1 thread · 0 blocking events · 0 tasks")


def test_a_short_pane_shows_every_thread_lane_and_the_lag_plot_gives_way(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A 1366x768 window gives the timeline ~180 px: the lag plot's 1/4 share cut off the third of three threads."""
    p = make_profile()
    p.ensure_thread(3, "worker-2")
    p.add_samples(np.arange(100) * 0.02, np.full(100, 3, np.int32), np.full(100, int(p.samples["stack"][0])), weight=0.02, cpu=0.02)
    p.finish()
    pane = show_pane(qtbot, TimelinePane(Document(p)), 1366, 180)
    QtWidgets.QApplication.processEvents()
    y0, y1 = pane.lane_vb.viewRange()[1]
    assert y0 == pytest.approx(0.0) and y1 >= 3.0, (y0, y1)  # three thread lanes, each THREAD_H tall, in view
    assert pane.lag_plot.isVisible() and pane.lag_plot.height() >= 50  # still there, smaller


@pytest.mark.parametrize("max_lag", [0.25, 0.3, 1.0])
def test_a_short_lag_strip_prints_its_labels_apart(qtbot, max_lag: float) -> None:  # type: ignore[no-untyped-def]
    """At 1366x768 the lag strip is ~20 px: pyqtgraph printed "100" over "200" (the demo's live timeline)."""
    p = make_profile()
    p.ensure_thread(3, "worker-2")
    p.add_samples(np.arange(100) * 0.02, np.full(100, 3, np.int32), np.full(100, int(p.samples["stack"][0])), weight=0.02, cpu=0.02)
    p.add_lag(np.arange(20) * 0.1 + 0.05, np.zeros(20, np.int32), np.linspace(0, max_lag, 20).astype(np.float32))
    p.finish()
    pane = show_pane(qtbot, TimelinePane(Document(p)), 1366, 180)
    QtWidgets.QApplication.processEvents()
    assert pane.lag_vb.height() < 30  # the short strip this is about
    picture = QtGui.QPicture()
    painter = QtGui.QPainter(picture)
    _axis, _ticks, texts = pane.lag_plot.getAxis("left").generateDrawSpecs(painter)
    painter.end()
    rects = sorted((r.top(), r.bottom()) for r, _flags, _text in texts)
    assert rects, "the strip shows its scale"
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(rects)), [(t, r.top(), r.bottom()) for r, _f, t in texts]


@pytest.mark.parametrize("height", [165, 180])
def test_a_short_pane_shows_the_stalls_and_task_lanes_in_its_first_view(qtbot, height: int) -> None:  # type: ignore[no-untyped-def]
    """The demo at 1366x768 (a ~165 px timeline pane) showed only its three thread lanes: the loop-blocked
    lane and the task rows were below the view until scrolled. The lanes shrink (not below TIGHT_LANE_PX)
    so that the first view has threads, stalls and two task rows; a tall pane keeps its lane heights."""
    from pyrometer.app.panes.timeline import MIN_LANE_PX, TIGHT_LANE_PX

    p = make_profile()
    p.ensure_thread(3, "worker-2")
    p.add_samples(np.arange(100) * 0.02, np.full(100, 3, np.int32), np.full(100, int(p.samples["stack"][0])), weight=0.02, cpu=0.02)
    p.finish()
    pane = show_pane(qtbot, TimelinePane(Document(p)), 1366, height)
    QtWidgets.QApplication.processEvents()
    kinds, tops = pane.lanes.kinds, pane.lanes.lane_y()
    task_rows = [i for i, k in enumerate(kinds) if k == "task"]
    assert "blocking" in kinds and len(task_rows) >= 2
    second_task_bottom = float(tops[task_rows[1]] + pane.lanes.heights[task_rows[1]])
    y0, y1 = pane.lane_vb.viewRange()[1]
    assert y0 == pytest.approx(0.0) and y1 >= second_task_bottom - 1e-9, (y0, y1, kinds)
    px_per_unit = pane.lane_vb.height() / (y1 - y0)
    assert TIGHT_LANE_PX - 1e-6 <= px_per_unit < MIN_LANE_PX  # squeezed, but no thinner than readable
    # a tall pane: lanes at their readable height as before
    pane.resize(1366, 600)
    QtWidgets.QApplication.processEvents()
    y0, y1 = pane.lane_vb.viewRange()[1]
    assert pane.lane_vb.height() / (y1 - y0) >= MIN_LANE_PX


def _marked(markers: PrefixScatter) -> tuple[list[float], list[float]]:
    """(x, y) of the markers drawn (visible), in time order: the first `shown` of those held."""
    visible = markers.data["visible"]
    assert visible.tolist() == [i < markers.shown for i in range(len(visible))]
    return markers.data["x"][visible].tolist(), markers.data["y"][visible].tolist()


def test_live_stalls_are_added_to_the_markers_not_all_set_again(pane: TimelinePane) -> None:
    from pyrometer.core.model import BlockingEvent

    p = pane.doc.profile
    before, _ = _marked(pane.block_markers)
    p.blocking.append(BlockingEvent(start=1.8, duration=0.15, loop=0, thread=1, stack=0))
    pane.doc.model_grew()
    pane.refresh()
    xs, ys = _marked(pane.block_markers)
    assert pane.block_markers.points_set == 1 and xs == [*before, 1.8]  # the new stall only
    assert ys[-1] == pytest.approx(0.15)
    pane.doc.set_playhead(0.6)  # up to the playhead: fewer marks
    pane.refresh()
    assert _marked(pane.block_markers)[0] == [x for x in before if x < 0.6]


def test_a_moved_playhead_sets_no_marker_again(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A day's stalls: a playhead shows those before it and hides the others (setting every stall before it
    again restyled each: ~3 ms per 1,000 at every move); only a change that is not a prefix sets them anew."""
    plot = pg.PlotItem()
    marks = PrefixScatter(size=8, symbol="t", pen=None)
    plot.addItem(marks)
    x = np.arange(2000) * 0.5
    y = 0.05 + (np.arange(2000) % 7) * 0.01
    marks.mark(x, y)
    assert _marked(marks) == (x.tolist(), y.tolist()) and marks.points_set == 2000
    for t1 in (700.0, 100.0, 999.9, 0.0, 1000.0, 333.3):
        k = int(np.searchsorted(x, t1))
        marks.mark(x[:k], y[:k])
        assert _marked(marks) == (x[:k].tolist(), y[:k].tolist())
        assert marks.points_set == 0
    more = np.append(x, 1000.0), np.append(y, 0.5)  # a live stall after the others: only it is set
    marks.mark(*more)
    assert _marked(marks) == (more[0].tolist(), more[1].tolist()) and marks.points_set == 1
    y2 = y.copy()
    y2[1500] = 1.0  # a stall that changed (not only a prefix): drawn anew
    marks.mark(x, y2)
    assert _marked(marks) == (x.tolist(), y2.tolist())
    # the y range the plot autoscales to is the stalls shown only (hidden markers count in no autorange)
    vb = plot.getViewBox()
    marks.mark(x[:10], y[:10])
    vb.autoRange(padding=0.0)
    assert vb.viewRange()[1][1] <= float(y[:10].max()) + 0.05


def test_a_refresh_lays_the_lanes_out_once_for_the_view_it_shows(pane: TimelinePane, qtbot) -> None:  # type: ignore[no-untyped-def]
    """A live refresh lays the lanes out for the view its fit shows (padded); the range change the fit
    makes must not lay them out a second time in the paint after it (that doubled a live refresh's
    cost). The order of the refresh's calls stays (lay out, then fit): 9409fc3 fitted first and was
    reverted for a crash at exit that could not be reproduced since (see fitted_view)."""
    calls: list[tuple[float, float]] = []
    original = pane._lay_out

    def counted(view: tuple[float, float], duration: float):  # type: ignore[no-untyped-def]
        calls.append(view)
        return original(view, duration)

    pane._lay_out = counted  # type: ignore[method-assign]
    p = pane.doc.profile
    s = int(p.samples["stack"][0])
    p.add_samples(np.array([p.duration() + 0.5]), np.array([1], np.int32), np.array([s]), weight=0.01, cpu=0.01)
    pane.doc.model_grew()
    pane.refresh()
    qtbot.wait(120)  # the relayout timer (30 ms) and the paint
    assert len(calls) == 1
    _x0, x1 = pane.lane_vb.viewRange()[0]
    assert calls[0][1] == pytest.approx(x1) and x1 >= p.duration()
