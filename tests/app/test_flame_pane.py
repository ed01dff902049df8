"""The flame graph pane over a real Document and hand-built Profile."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets
from qt_windows import double_click, show_pane

from pyrometer.app.document import Document
from pyrometer.app.flame_colors import NEW_PATH_COLOR, SHADES, package_palette
from pyrometer.app.panes.flame import FlamePane
from pyrometer.core.model import UNIT_SAMPLES, Profile


def make_profile() -> Profile:
    """main → work (6: compute 4 self, 2 self), main → idle (2), plus json.dumps under main (2).

    10 samples, unit = samples. Files: user code for main/work/compute/idle, stdlib for dumps.
    """
    p = Profile(unit=UNIT_SAMPLES)
    main = p.intern_frame("main", "/home/u/app.py", 10, 1)
    work = p.intern_frame("work", "/home/u/app.py", 20, 18)
    compute = p.intern_frame("compute", "/home/u/app.py", 30, 28)
    idle = p.intern_frame("idle", "/home/u/app.py", 40, 38)
    import json

    dumps = p.intern_frame("dumps", json.__file__, 231, 183)
    s_compute = p.intern_stack_path([main, work, compute])
    s_work = p.intern_stack_path([main, work])
    s_idle = p.intern_stack_path([main, idle])
    s_dumps = p.intern_stack_path([main, dumps])
    stacks = [s_compute] * 4 + [s_work] * 2 + [s_idle] * 2 + [s_dumps] * 2
    p.add_samples(np.arange(10) * 0.01, np.zeros(10, np.int32), np.array(stacks))
    p.finish()
    return p


def func_id(p: Profile, name: str) -> int:
    return p.func_name.index(name)


@pytest.fixture
def pane(qtbot):  # type: ignore[no-untyped-def]
    return show_pane(qtbot, FlamePane(Document(make_profile())), 900, 400)


def box_of(pane: FlamePane, name: str) -> int:
    f = func_id(pane.doc.profile, name)
    hits = np.flatnonzero(pane._box_func == f)
    assert len(hits) == 1
    return int(hits[0])


def box_pixel(pane: FlamePane, box: int, fx: float = 0.9, fy: float = 0.75) -> QtCore.QPoint:
    """Widget pixel inside a box (away from its label), in pane coordinates."""
    r = pane.item.box_rect(box)
    pt = QtCore.QPointF(r.x() + r.width() * fx, r.y() + r.height() * fy)
    scene = pane.view_box.mapViewToScene(pt)
    view_pt = pane.view.mapFromScene(scene)
    return pane.view.mapTo(pane, view_pt)


def test_layout_and_paint_colours(pane: FlamePane) -> None:
    layout = pane.layout_
    assert layout is not None and layout.total == pytest.approx(10.0)
    assert len(layout.x) == 5  # main, work, compute, idle, dumps
    img = pane.grab().toImage()
    palette = package_palette()
    # user-code boxes are drawn in the "your code" family, dumps (stdlib) in the stdlib family
    user = {palette[i].rgb() for i in range(SHADES)}
    stdlib = {palette[SHADES + i].rgb() for i in range(SHADES)}
    for name in ("main", "work", "compute", "idle"):
        assert img.pixelColor(box_pixel(pane, box_of(pane, name))).rgb() in user, name
    assert img.pixelColor(box_pixel(pane, box_of(pane, "dumps"))).rgb() in stdlib
    # widths: main spans everything, work 6/10
    assert layout.width[box_of(pane, "main")] == pytest.approx(10.0)
    assert layout.width[box_of(pane, "work")] == pytest.approx(6.0)


def test_left_heavy_and_alphabetical_orders(pane: FlamePane) -> None:
    pane.order_combo.setCurrentIndex(pane.order_combo.findData("left-heavy"))
    assert pane.layout_ is not None
    assert pane.layout_.x[box_of(pane, "work")] == pytest.approx(0.0)  # heaviest first
    pane.order_combo.setCurrentIndex(pane.order_combo.findData("alphabetical"))
    # dumps < idle < work
    xs = [pane.layout_.x[box_of(pane, n)] for n in ("dumps", "idle", "work")]
    assert xs == sorted(xs) and xs[0] == pytest.approx(0.0)


def test_hit_test_click_selects_function(pane: FlamePane, qtbot) -> None:  # type: ignore[no-untyped-def]
    b = box_of(pane, "compute")
    r = pane.item.box_rect(b)
    assert pane.item.box_at(r.center().x(), r.center().y()) == b
    got: list[int] = []
    pane.doc.functionSelected.connect(got.append)
    pos = pane.view.mapFrom(pane, box_pixel(pane, b, 0.5, 0.5))
    qtbot.mouseClick(pane.view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)
    assert got == [func_id(pane.doc.profile, "compute")]
    assert "compute" in pane.tooltip(b) and "app.py:28" in pane.tooltip(b)
    assert "40.0%" in pane.tooltip(b)


def test_zoom_breadcrumbs_and_reset(pane: FlamePane, qtbot) -> None:  # type: ignore[no-untyped-def]
    full = pane.view_box.viewRange()[0]
    assert full == pytest.approx([0.0, 10.0])
    b = box_of(pane, "idle")
    pane.zoom_to_box(b)
    x0, x1 = pane.view_box.viewRange()[0]
    assert (x0, x1) == pytest.approx((pane.layout_.x[b], pane.layout_.x[b] + 2.0))  # type: ignore[union-attr]
    assert "idle" in pane.crumbs.text() and "main" in pane.crumbs.text()
    # a live refresh with more samples keeps the zoom on the same call path
    p = pane.doc.profile
    p.add_samples(np.array([0.2, 0.21]), np.zeros(2, np.int32), np.array([p.samples["stack"][0]] * 2))
    pane.doc.model_grew()
    pane.refresh()
    b2 = box_of(pane, "idle")
    assert pane.view_box.viewRange()[0] == pytest.approx([pane.layout_.x[b2], pane.layout_.x[b2] + 2.0])  # type: ignore[union-attr]
    # a wheel/drag zoom leaves the frame: breadcrumbs cleared, refresh keeps the manual view
    vp = pane.view.viewport()
    centre = QtCore.QPointF(vp.width() / 2, 30)
    wheel = QtGui.QWheelEvent(
        centre, QtCore.QPointF(vp.mapToGlobal(centre.toPoint())), QtCore.QPoint(0, 0), QtCore.QPoint(0, 120),
        QtCore.Qt.MouseButton.NoButton, QtCore.Qt.KeyboardModifier.NoModifier, QtCore.Qt.ScrollPhase.NoScrollPhase, False,
    )
    QtWidgets.QApplication.sendEvent(vp, wheel)
    assert "idle" not in pane.crumbs.text()
    pane.zoom_to_box(b2)
    # Esc resets to the full (grown) total
    pane.view.setFocus()
    qtbot.keyClick(pane.view, QtCore.Qt.Key.Key_Escape)
    assert pane.view_box.viewRange()[0] == pytest.approx([0.0, 12.0])
    assert "idle" not in pane.crumbs.text()


def test_double_click_zooms(pane: FlamePane, qtbot) -> None:  # type: ignore[no-untyped-def]
    b = box_of(pane, "work")
    pos = pane.view.mapFrom(pane, box_pixel(pane, b, 0.5, 0.5))
    double_click(qtbot, pane.view.viewport(), pos)
    assert pane.view_box.viewRange()[0] == pytest.approx([pane.layout_.x[b], pane.layout_.x[b] + 6.0])  # type: ignore[union-attr]


def test_search_counts_matches_and_share(pane: FlamePane) -> None:
    count, share = pane.search("mpu")  # compute only
    assert (count, share) == (1, pytest.approx(0.4))
    count, share = pane.search("o")  # compute, work, and dumps by its file (json/__init__.py)
    assert count == 3
    assert share == pytest.approx(0.8)  # compute is nested in work: counted once
    assert "3 matches" in pane.match_label.text() and "80.0%" in pane.match_label.text()
    assert pane.search("json") == (1, pytest.approx(0.2))  # file match: json/__init__.py
    count, share = pane.search("DUMPS")
    assert (count, share) == (1, pytest.approx(0.2))
    assert pane.search("nothing-matches") == (0, 0.0)
    assert pane.search("") == (0, 0.0)


def test_heat_and_diff_colours(pane: FlamePane) -> None:
    pane.color_combo.setCurrentIndex(pane.color_combo.findData("heat"))
    img = pane.grab().toImage()
    hot = img.pixelColor(box_pixel(pane, box_of(pane, "compute")))
    cold = img.pixelColor(box_pixel(pane, box_of(pane, "main")))
    assert hot.hsvSaturation() > cold.hsvSaturation() + 80  # compute has the most self time
    # baseline: main → compute (1) and main → idle (9). Boxes are call paths: main → idle lost share
    # (blue); main → work → compute never ran in the baseline (the "new" colour); main is unchanged
    base = Profile(unit=UNIT_SAMPLES)
    main = base.intern_frame("main", "/home/u/app.py", 10, 1)
    compute = base.intern_frame("compute", "/home/u/app.py", 30, 28)
    idle = base.intern_frame("idle", "/home/u/app.py", 40, 38)
    stacks = [base.intern_stack_path([main, compute])] + [base.intern_stack_path([main, idle])] * 9
    base.add_samples(np.arange(10) * 0.01, np.zeros(10, np.int32), np.array(stacks))
    base.finish()
    pane.set_baseline(base, "base.pyro")
    assert pane.color_combo.currentData() == "diff"
    img = pane.grab().toImage()
    new = img.pixelColor(box_pixel(pane, box_of(pane, "compute")))
    blue = img.pixelColor(box_pixel(pane, box_of(pane, "idle")))
    same = img.pixelColor(box_pixel(pane, box_of(pane, "main")))
    assert (new.red(), new.green(), new.blue()) == NEW_PATH_COLOR
    assert blue.blue() > blue.red() + 60
    assert abs(same.red() - same.blue()) < 10
    assert "never ran it" in pane.tooltip(box_of(pane, "compute"))
    tip = pane.tooltip(box_of(pane, "idle"))
    assert "20.0% of the total, 90.0% in base.pyro: -70.0 points (faster)" in tip
    # deltas handed in directly (e.g. from the window's own diff): idle faster, the rest neutral
    deltas = np.zeros(len(pane.doc.profile.func_name))
    deltas[func_id(pane.doc.profile, "idle")] = -0.5
    pane.set_function_deltas(deltas, "other run")
    img = pane.grab().toImage()
    assert img.pixelColor(box_pixel(pane, box_of(pane, "idle"))).blue() > 150
    neutral = img.pixelColor(box_pixel(pane, box_of(pane, "compute")))
    assert abs(neutral.red() - neutral.blue()) < 10
    pane.set_function_deltas(None)
    assert pane.color_combo.currentData() == "package"


def test_icicle_toggle_and_range(pane: FlamePane) -> None:
    def y_of(name: str) -> int:
        return box_pixel(pane, box_of(pane, name), 0.5, 0.5).y()

    assert y_of("main") < y_of("work")  # icicle: root on top
    pane.icicle_check.setChecked(False)
    assert y_of("main") > y_of("work")  # flame: root at the bottom
    pane.doc.set_range(0.0, 0.04)  # only the 4 compute samples
    pane.refresh()
    assert pane.layout_ is not None and pane.layout_.total == pytest.approx(4.0)
    pane.doc.set_range(0.5, 0.6)  # nothing there
    pane.refresh()
    assert pane.stack.currentWidget() is pane.empty


def test_screenshot(pane: FlamePane, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pane.search("work")
    path = tmp_path / "flame.png"
    assert pane.grab().save(str(path))
    assert QtGui.QImage(str(path)).width() == pane.width()


def test_follows_a_dark_palette(pane: FlamePane) -> None:
    dark = QtGui.QPalette(pane.palette())
    dark.setColor(QtGui.QPalette.ColorRole.Base, QtGui.QColor(28, 30, 33))
    dark.setColor(QtGui.QPalette.ColorRole.Text, QtGui.QColor(230, 230, 230))
    pane.setPalette(dark)
    img = pane.grab().toImage()
    bottom_left = pane.view.mapTo(pane, QtCore.QPoint(5, pane.view.height() - 5))
    assert img.pixelColor(bottom_left).rgb() == QtGui.QColor(28, 30, 33).rgb()


def test_ctrl_f_is_left_to_the_window(pane: FlamePane) -> None:
    """The window's Find action (Ctrl+F) calls focus_search(); a second Ctrl+F shortcut in the
    pane would make both ambiguous inside it and neither would fire."""
    find = QtGui.QKeySequence(QtGui.QKeySequence.StandardKey.Find)
    own = [sc.key() for sc in pane.findChildren(QtGui.QShortcut)]
    assert find not in own
    assert QtGui.QKeySequence(QtCore.Qt.Key.Key_Escape) in own
    assert pane.focus_search() is True
    assert QtWidgets.QApplication.focusWidget() in (pane.search_edit, None)  # offscreen may have no active window
    assert pane.search_edit.selectedText() == pane.search_edit.text()


def test_zooming_into_a_deep_frame_does_not_widen_the_pane(qtbot) -> None:  # type: ignore[no-untyped-def]
    p = Profile(unit=UNIT_SAMPLES)
    frames = [p.intern_frame(f"a_rather_long_function_name_at_depth_{d:02d}", "/home/u/app.py", d, d) for d in range(12)]
    stack = p.intern_stack_path(frames)
    p.add_samples(np.arange(4) * 0.01, np.zeros(4, np.int32), np.array([stack] * 4))
    p.finish()
    pane = FlamePane(Document(p))
    qtbot.addWidget(pane)
    pane.resize(700, 400)
    pane.show()
    pane.refresh()
    before = pane.minimumSizeHint().width()
    deepest = int(np.argmax(pane.layout_.depth))
    pane.zoom_to_box(deepest)
    assert pane._zoom_path is not None and len(pane._zoom_path) == 12
    assert pane.minimumSizeHint().width() <= before  # a dock would have grown to fit the breadcrumbs
    assert pane.search_edit.minimumWidth() >= 150  # the search box stays readable in a narrow pane
