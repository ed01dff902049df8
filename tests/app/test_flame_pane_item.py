"""FlameGraphItem on its own: painting, culling, merging, hit-testing (no Document needed)."""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6 import QtCore, QtGui
from qt_windows import double_click

from pyrometer.app.flame_item import FlameGraphItem, FlameViewBox, union_length

RED = QtGui.QColor(220, 40, 40)
GREEN = QtGui.QColor(40, 200, 60)
BLUE = QtGui.QColor(40, 80, 220)
WHITE = QtGui.QColor(255, 255, 255)


def _render(view: pg.GraphicsView, w: int = 800, h: int = 400) -> QtGui.QImage:
    img = QtGui.QImage(w, h, QtGui.QImage.Format.Format_RGB32)
    img.fill(WHITE)
    painter = QtGui.QPainter(img)
    view.render(painter)
    painter.end()
    return img


VB = TypeVar("VB", bound=pg.ViewBox)


def _flame_view(qtbot: Any, vb: VB, w: int, h: int, white: bool = False) -> tuple[pg.GraphicsView, VB, FlameGraphItem]:
    """A w x h GraphicsView (white background if asked) whose view box `vb` holds one empty FlameGraphItem."""
    view = pg.GraphicsView()
    if white:
        view.setBackground(WHITE)
    view.setCentralItem(vb)
    item = FlameGraphItem()
    vb.addItem(item)
    qtbot.addWidget(view)
    view.resize(w, h)
    return view, vb, item


def _close(c: QtGui.QColor, want: QtGui.QColor, tol: int = 12) -> bool:
    return abs(c.red() - want.red()) <= tol and abs(c.green() - want.green()) <= tol and abs(c.blue() - want.blue()) <= tol


@pytest.fixture
def graph(qtbot):  # type: ignore[no-untyped-def]
    view, vb, item = _flame_view(qtbot, FlameViewBox(icicle=True), 800, 400, white=True)
    # root [0,10) red; children [0,6) green and [6,10) blue; grandchild of green [0,3) blue
    x = np.array([6.0, 0.0, 0.0, 0.0])  # deliberately not sorted: the item sorts
    w = np.array([4.0, 10.0, 6.0, 3.0])
    d = np.array([1, 0, 1, 2])
    color = np.array([2, 0, 1, 2])
    item.set_boxes(x, w, d, color, ["blue_child", "root", "green_child", "grandchild"])
    item.set_palette([RED, GREEN, BLUE])
    vb.set_extent(0.0, 10.0, 3)
    view.show()
    qtbot.waitExposed(view)
    vb.reset_view()
    return view, vb, item


def _pixel_of(vb: FlameViewBox, view: pg.GraphicsView, x: float, y: float) -> QtCore.QPoint:
    scene_pt = vb.mapViewToScene(QtCore.QPointF(x, y))
    return view.mapFromScene(scene_pt)


def test_paints_boxes_in_their_colours(graph) -> None:  # type: ignore[no-untyped-def]
    view, vb, item = graph
    img = _render(view)
    # box centres: sample off the text (lower-right part of each box)
    assert _close(img.pixelColor(_pixel_of(vb, view, 9.5, 0.8)), RED)
    assert _close(img.pixelColor(_pixel_of(vb, view, 5.5, 1.8)), GREEN)
    assert _close(img.pixelColor(_pixel_of(vb, view, 9.5, 1.8)), BLUE)
    assert _close(img.pixelColor(_pixel_of(vb, view, 2.5, 2.8)), BLUE)
    # nothing under the green child's right part at depth 2, nor below
    assert _close(img.pixelColor(_pixel_of(vb, view, 5.0, 2.5)), WHITE)
    assert _close(img.pixelColor(_pixel_of(vb, view, 5.0, 4.5)), WHITE)
    # icicle: the root row is at the top of the view
    assert _pixel_of(vb, view, 5.0, 0.5).y() < _pixel_of(vb, view, 5.0, 1.5).y()
    assert item.last_paint_count == 4


def test_hit_testing(graph) -> None:  # type: ignore[no-untyped-def]
    _view, _vb, item = graph
    assert item.box_at(5.0, 0.5) == 1  # caller's index of the root
    assert item.box_at(0.1, 1.2) == 2
    assert item.box_at(6.0, 1.9) == 0  # left edge belongs to the box
    assert item.box_at(2.99, 2.5) == 3
    assert item.box_at(3.0, 2.5) == -1
    assert item.box_at(5.0, 3.5) == -1
    assert item.box_at(11.0, 0.5) == -1
    assert item.box_at(5.0, -0.5) == -1
    r = item.box_rect(0)
    assert (r.x(), r.y(), r.width(), r.height()) == (6.0, 1.0, 4.0, 1.0)
    assert item.boundingRect() == QtCore.QRectF(0.0, 0.0, 10.0, 3.0)


def test_zoom_culls_and_search_dims(graph) -> None:  # type: ignore[no-untyped-def]
    view, vb, item = graph
    vb.setXRange(6.5, 9.5, padding=0.0)
    img = _render(view)
    # only root and blue child intersect [6.5, 9.5]
    assert item.last_paint_count == 2
    assert _close(img.pixelColor(_pixel_of(vb, view, 9.0, 1.8)), BLUE)
    item.set_highlight(np.array([False, True, False, False]))  # only the root matches
    img = _render(view)
    c = img.pixelColor(_pixel_of(vb, view, 9.0, 1.8))
    assert not _close(c, BLUE) and abs(c.red() - c.blue()) < 10  # greyed out
    assert _close(img.pixelColor(_pixel_of(vb, view, 9.0, 0.8)), RED)


def test_flame_orientation_puts_root_at_bottom(graph) -> None:  # type: ignore[no-untyped-def]
    view, vb, _item = graph
    vb.invertY(False)
    assert _pixel_of(vb, view, 5.0, 0.5).y() > _pixel_of(vb, view, 5.0, 1.5).y()
    img = _render(view)
    assert _close(img.pixelColor(_pixel_of(vb, view, 9.5, 0.8)), RED)


def test_sub_pixel_boxes_are_merged(qtbot) -> None:  # type: ignore[no-untyped-def]
    view, vb, item = _flame_view(qtbot, FlameViewBox(), 400, 200)
    n = 50_000  # 50k boxes in one row across ~400 px
    x = np.arange(n, dtype=float)
    item.set_boxes(x, np.ones(n), np.zeros(n, np.int32), np.arange(n) % 3, ["f"] * n)
    item.set_palette([RED, GREEN, BLUE])
    vb.set_extent(0.0, float(n), 1)
    view.show()
    qtbot.waitExposed(view)
    vb.reset_view()
    img = _render(view, 400, 200)
    assert 0 < item.last_paint_count <= 420
    # zoomed so each box is wide again: every visible box is drawn individually
    vb.setXRange(100.0, 120.0, padding=0.0)
    _render(view, 400, 200)
    assert 19 <= item.last_paint_count <= 22
    assert not img.isNull()


def test_union_length_counts_nested_matches_once() -> None:
    start = np.array([0.0, 1.0, 5.0, 5.5])
    end = np.array([4.0, 2.0, 6.0, 7.0])
    assert union_length(start, end) == pytest.approx(6.0)
    assert union_length(np.zeros(0), np.zeros(0)) == 0.0


def test_clicks_emit_box_indices(graph, qtbot) -> None:  # type: ignore[no-untyped-def]
    view, vb, item = graph
    clicked: list[int] = []
    doubled: list[int] = []
    item.boxClicked.connect(clicked.append)
    item.boxDoubleClicked.connect(doubled.append)
    pos = _pixel_of(vb, view, 8.0, 1.5)
    qtbot.mouseClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)
    assert clicked == [0]
    double_click(qtbot, view.viewport(), _pixel_of(vb, view, 1.0, 2.5))
    assert doubled == [3]


def test_custom_row_heights(qtbot) -> None:  # type: ignore[no-untyped-def]
    view, vb, item = _flame_view(qtbot, pg.ViewBox(invertY=True), 400, 300, white=True)
    # rows of height 2, 0.5, 1 → row tops 0, 2, 2.5
    item.set_boxes(np.array([0.0, 0.0, 5.0]), np.array([10.0, 5.0, 5.0]), np.array([0, 1, 2]), np.array([0, 1, 2]), ["a", "b", "c"], np.array([2.0, 0.5, 1.0]))
    item.set_palette([RED, GREEN, BLUE])
    assert item.boundingRect().height() == pytest.approx(3.5)
    assert item.box_at(1.0, 1.9) == 0
    assert item.box_at(1.0, 2.2) == 1
    assert item.box_at(6.0, 2.2) == -1
    assert item.box_at(6.0, 3.0) == 2
    assert item.box_at(6.0, 3.6) == -1
    r = item.box_rect(2)
    assert (r.y(), r.height()) == (2.5, 1.0)
    vb.setRange(xRange=(0, 10), yRange=(0, 3.5), padding=0)
    view.show()
    qtbot.waitExposed(view)
    img = _render(view, 400, 300)
    assert _close(img.pixelColor(_pixel_of(vb, view, 9.0, 1.5)), RED)
    assert _close(img.pixelColor(_pixel_of(vb, view, 2.0, 2.3)), GREEN)
    assert _close(img.pixelColor(_pixel_of(vb, view, 8.0, 3.2)), BLUE)
    assert _close(img.pixelColor(_pixel_of(vb, view, 8.0, 2.3)), WHITE)


def test_zoomed_out_levels_look_like_the_full_data(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A flat lane of 200k alternating segments: the coarse levels paint (almost) the same image."""
    view, vb, item = _flame_view(qtbot, pg.ViewBox(invertY=True), 600, 200, white=True)
    rng = np.random.default_rng(3)
    n = 200_000
    w = rng.uniform(0.2, 1.0, n)
    x = np.concatenate(([0.0], np.cumsum(w)[:-1]))
    row = np.repeat(np.arange(4), n // 4)
    x = x - np.repeat(x[:: n // 4], n // 4)  # each row starts at 0
    color = (rng.random(n) < 0.3).astype(np.int32)  # mostly green with red bursts
    color[(x > 20_000) & (x < 25_000)] = 0  # a long all-red stretch must stay visible
    item.set_boxes(x, w, row, color, [""] * n)
    item.set_palette([RED, GREEN])
    assert len(item._levels) >= 2
    vb.setRange(xRange=(0, float((x + w).max())), yRange=(0, 4), padding=0)
    view.show()
    qtbot.waitExposed(view)
    coarse = _render(view, 600, 200)
    coarse_rects = item.last_paint_count
    item._levels = []
    item.update()
    full = _render(view, 600, 200)
    assert coarse_rects < 5_000
    differing = sum(
        coarse.pixelColor(px, py) != full.pixelColor(px, py) for px in range(0, 600, 3) for py in range(0, 200, 5)
    )
    assert differing / (200 * 40) < 0.1
    # the all-red stretch (x 20k–25k) is red in the coarse image too
    pt = _pixel_of(vb, view, 22_500.0, 0.5)
    assert _close(coarse.pixelColor(pt), RED)


def _wheel(widget, pos: QtCore.QPoint, notches: int, mods=QtCore.Qt.KeyboardModifier.NoModifier) -> None:  # type: ignore[no-untyped-def]
    from PySide6 import QtWidgets

    p = QtCore.QPointF(pos)
    ev = QtGui.QWheelEvent(
        p, QtCore.QPointF(widget.mapToGlobal(pos)), QtCore.QPoint(0, 0), QtCore.QPoint(0, 120 * notches),
        QtCore.Qt.MouseButton.NoButton, mods, QtCore.Qt.ScrollPhase.NoScrollPhase, False,
    )
    QtWidgets.QApplication.sendEvent(widget, ev)


def test_wheel_zooms_x_and_shift_wheel_scrolls_rows(qtbot) -> None:  # type: ignore[no-untyped-def]
    view, vb, item = _flame_view(qtbot, FlameViewBox(icicle=True), 400, 200)  # 10 rows of ROW_PX visible
    depth = np.arange(40)
    item.set_boxes(np.zeros(40), np.full(40, 10.0), depth, np.zeros(40, np.int32), ["f"] * 40)
    vb.set_extent(0.0, 10.0, 40)
    view.show()
    qtbot.waitExposed(view)
    vb.reset_view()
    (x0, x1), (y0, y1) = vb.viewRange()
    assert (x0, x1) == pytest.approx((0.0, 10.0)) and y0 == pytest.approx(0.0)
    centre = view.mapFromScene(vb.mapViewToScene(QtCore.QPointF(5.0, 2.0)))
    _wheel(view.viewport(), centre, 2)  # zoom in around x = 5
    (x0, x1), (ny0, ny1) = vb.viewRange()
    assert x1 - x0 < 9.0 and x0 < 5.0 < x1
    assert (ny0, ny1) == pytest.approx((y0, y1))  # rows untouched
    _wheel(view.viewport(), centre, -2, QtCore.Qt.KeyboardModifier.ShiftModifier)  # scroll down: deeper rows
    _, (sy0, sy1) = vb.viewRange()
    assert sy0 == pytest.approx(6.0) and sy1 - sy0 == pytest.approx(y1 - y0)


def test_hover_mask_outlines_without_recomputing_geometry(graph) -> None:  # type: ignore[no-untyped-def]
    view, vb, item = graph
    edge = _pixel_of(vb, view, 6.0, 1.5)
    edge.setX(edge.x() + 1)  # just inside the blue child's left edge, where the outline goes
    before = _render(view).pixelColor(edge)
    geom = item._geom
    item.set_hover_mask(np.array([True, False, False, False]))  # the blue child
    after = _render(view)
    assert item._geom is geom  # cached geometry reused
    assert _close(before, BLUE) and not _close(after.pixelColor(edge), BLUE)
    assert _close(after.pixelColor(_pixel_of(vb, view, 9.5, 1.8)), BLUE)  # inside unchanged
    item.set_hover_mask(None)
    assert _close(_render(view).pixelColor(edge), BLUE)
