"""Stack chart pane: boxes per thread over time, zoom/pan in step with the timeline through the
Document, selection and range shared with the other panes."""

from __future__ import annotations

import pytest
from hand_profiles import work_idle_profile
from PySide6 import QtCore, QtWidgets
from qt_windows import show_pane

from pyrometer.app.document import Document
from pyrometer.app.panes.stack_chart import StackChartPane
from pyrometer.app.panes.timeline import TimelinePane
from pyrometer.core.model import Profile


def make_profile() -> Profile:
    """MainThread: main>work for 0.5 s then main>idle for 0.5 s (10 ms samples); worker: loop for 0.3 s."""
    return work_idle_profile(half=50, loop=30)


@pytest.fixture
def pane(qtbot):  # type: ignore[no-untyped-def]
    pane = show_pane(qtbot, StackChartPane(Document(make_profile())), 900, 400)
    QtWidgets.QApplication.processEvents()
    return pane


def _box(pane: StackChartPane, name: str) -> int:
    names = pane.doc.profile.func_name
    return next(i for i, f in enumerate(pane.boxes.func.tolist()) if f >= 0 and names[f] == name)


def _click(pane: StackChartPane, box: int, double: bool = False) -> None:
    rect = pane.item.box_rect(box)
    scene = pane.view_box.mapViewToScene(rect.center())
    pos = pane.plot.mapFromScene(scene)
    from PySide6.QtTest import QTest

    left, vp = QtCore.Qt.MouseButton.LeftButton, pane.plot.viewport()
    QTest.mousePress(vp, left, pos=pos)
    QTest.mouseRelease(vp, left, pos=pos)
    if double:  # pyqtgraph sees a double click as press, release, double-click, release
        QTest.mouseDClick(vp, left, pos=pos)
        QTest.mouseRelease(vp, left, pos=pos)


def test_title_id_and_what_it_paints(pane: StackChartPane) -> None:
    assert (pane.title, pane.pane_id) == ("Stack chart", "stack_chart")
    assert [b.name for b in pane.boxes.bands] == ["MainThread", "worker"]
    work = _box(pane, "work")
    assert float(pane.boxes.x[work]) == pytest.approx(0.0) and float(pane.boxes.width[work]) == pytest.approx(0.5)
    img = pane.plot.grab().toImage()
    assert img.width() > 0
    pane.plot.grab()  # paint once
    assert pane.item.last_paint_count > 0  # the flame item drew culled batches


def test_click_selects_the_function_everywhere_and_outlines_it(pane: StackChartPane, qtbot) -> None:  # type: ignore[no-untyped-def]
    idle = _box(pane, "idle")
    _click(pane, idle)
    assert pane.doc.selected_function == pane.doc.profile.func_name.index("idle")
    assert pane.item._outline is not None and int(pane.item._outline.sum()) == 1


def test_zoom_and_pan_follow_the_timeline_through_the_document(qtbot) -> None:  # type: ignore[no-untyped-def]
    doc = Document(make_profile())
    chart = StackChartPane(doc)
    timeline = TimelinePane(doc)
    for w in (chart, timeline):
        qtbot.addWidget(w)
        w.resize(900, 300)
        w.show()
        w.refresh()
    timeline.lane_vb.setXRange(0.2, 0.4, padding=0.0)  # the user zooms the timeline
    x0, x1 = chart.view_box.viewRange()[0]
    assert (x0, x1) == pytest.approx((0.2, 0.4), abs=1e-6)
    chart.view_box.setXRange(0.6, 0.9, padding=0.0)  # ... and pans the stack chart
    x0, x1 = timeline.lane_vb.viewRange()[0]
    assert (x0, x1) == pytest.approx((0.6, 0.9), abs=1e-6)
    chart.refresh()  # a refresh keeps the shared view
    assert chart.view_box.viewRange()[0] == pytest.approx([0.6, 0.9], abs=1e-6)


def test_double_click_zooms_and_the_range_is_shown(pane: StackChartPane, qtbot) -> None:  # type: ignore[no-untyped-def]
    work = _box(pane, "work")
    _click(pane, work, double=True)
    x0, x1 = pane.view_box.viewRange()[0]
    assert x0 == pytest.approx(0.0, abs=0.011) and x1 == pytest.approx(0.51, abs=0.011)
    assert pane.doc.time_view is not None and pane.doc.time_view[1] == pytest.approx(x1)
    pane.doc.set_range(0.1, 0.2)
    assert pane.region.isVisible() and pane.region.getRegion() == pytest.approx((0.1, 0.2))
    pane.doc.clear_range()
    assert not pane.region.isVisible()


def test_thread_filter_and_playhead(pane: StackChartPane) -> None:
    pane.doc.set_threads(frozenset({2}))
    pane.refresh()
    assert [b.name for b in pane.boxes.bands] == ["worker"]
    pane.doc.set_threads(None)
    pane.doc.set_playhead(0.25)
    pane.refresh()
    names = {pane.doc.profile.func_name[f] for f in pane.boxes.func.tolist() if f >= 0}
    assert "idle" not in names and "work" in names


def test_a_profile_without_samples_says_so(qtbot) -> None:  # type: ignore[no-untyped-def]
    pane = StackChartPane(Document(Profile()))
    qtbot.addWidget(pane)
    pane.refresh()
    assert pane.stack.currentWidget() is pane.empty
