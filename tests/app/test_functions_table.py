"""The Functions table under the mouse: a click selects the row under the pointer, scroll
resets when the rows change wholesale, and live growth does not reshuffle rows under the pointer."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QCursor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from qt_windows import open_window, private_settings

from pyrometer.app.document import Document
from pyrometer.app.main_window import MainWindow
from pyrometer.app.panes.base import merge_function
from pyrometer.app.panes.function_model import COL_FUNCTION
from pyrometer.core.formats.registry import load_profile

FUNCS = 40  # main;fNN with fNN's weight falling: the table sorted by self time is f00, f01, ...


@pytest.fixture
def window(qtbot, qapp, tmp_path):
    private_settings(tmp_path)
    return open_window(qtbot, 1366, 740)


def _profile(tmp_path: Path):
    path = tmp_path / "many.collapsed"
    path.write_text("".join(f"main;f{i:02d} {100 - i}\n" for i in range(FUNCS)))
    return load_profile(path)


def _functions(win: MainWindow, doc: Document):
    view = win.add_document(doc)
    for _ in range(3):
        QApplication.processEvents()
    view.refresh_visible()
    return view, view.pane("functions")


def _name(pane, row: int) -> str:
    return str(pane.model.data(pane.model.index(row, COL_FUNCTION)))


def test_clicking_the_half_visible_bottom_row_selects_that_row(qtbot, window, tmp_path):
    view, pane = _functions(window, Document(_profile(tmp_path), "many.collapsed"))
    table, port = pane.view, pane.view.viewport()
    view.doc.select_function(pane.model.func_at(0))
    view.refresh_visible()
    table.scrollToTop()
    row_h = table.rowHeight(0)
    y = (port.height() // row_h) * row_h + 3  # inside the first row that is cut by the bottom edge
    assert y < port.height(), "the table must end inside a row for this test"
    target = table.indexAt(QPoint(40, y)).row()
    wanted = _name(pane, target)
    QTest.mousePress(port, Qt.MouseButton.LeftButton, pos=QPoint(40, y))
    for _ in range(3):
        QApplication.processEvents()
    view.refresh_visible()
    QTest.mouseMove(port, QPoint(41, y))  # the hand moves a pixel while the button is down
    QTest.mouseRelease(port, Qt.MouseButton.LeftButton, pos=QPoint(41, y))
    view.refresh_visible()
    assert view.doc.function_label(view.doc.selected_function).startswith(wanted + " ")
    assert table.indexAt(QPoint(40, y)).row() == target  # the rows stayed where they were


def test_arrow_keys_still_scroll_to_the_current_row(qtbot, window, tmp_path):
    _view, pane = _functions(window, Document(_profile(tmp_path), "many.collapsed"))
    table = pane.view
    table.setFocus()
    table.setCurrentIndex(pane.model.index(0, 0))
    for _ in range(FUNCS - 5):
        QTest.keyClick(table, Qt.Key.Key_Down)
    current = table.currentIndex()
    assert current.row() == FUNCS - 5
    assert table.viewport().rect().intersects(table.visualRect(current))


def test_a_new_filter_or_transform_shows_the_top_rows(qtbot, window, tmp_path):
    view, pane = _functions(window, Document(_profile(tmp_path), "many.collapsed"))
    table = pane.view
    view.doc.select_function(pane.model.func_at(FUNCS - 1))
    view.refresh_visible()
    table.scrollToBottom()
    pane.filter_edit.setText("f0")  # f00..f09: the selected f39 is filtered out
    assert table.verticalScrollBar().value() == 0
    pane.filter_edit.setText("")
    view.doc.select_function(pane.model.func_at(2))
    table.scrollToBottom()
    assert table.verticalScrollBar().value() > 0
    merge_function(view.doc, pane.model.func_at(1))
    view.refresh_visible()
    assert table.verticalScrollBar().value() == 0


def test_a_transform_keeps_the_selected_row_in_view(qtbot, window, tmp_path):
    view, pane = _functions(window, Document(_profile(tmp_path), "many.collapsed"))
    table = pane.view
    view.doc.select_function(pane.model.func_at(20))
    view.refresh_visible()
    table.scrollToBottom()
    merge_function(view.doc, pane.model.func_at(1))
    view.refresh_visible()
    row = pane.model.row_of_func(view.doc.selected_function)
    assert table.viewport().rect().intersects(table.visualRect(pane.model.index(row, 0)))


def test_live_growth_does_not_move_rows_under_the_pointer(qtbot, window, tmp_path):
    profile = _profile(tmp_path)
    doc = Document(profile, None, is_live=True)
    view, pane = _functions(window, doc)
    before = [_name(pane, r) for r in range(5)]
    port = pane.view.viewport()
    QCursor.setPos(port.mapToGlobal(port.rect().center()))
    QTest.mouseMove(port, port.rect().center())
    assert pane.pointer_on_rows()
    # the program grows so that the last function becomes the hottest
    stack = int(profile.samples["stack"][-1])
    profile.add_samples([profile.samples["time"][-1] + 0.01] * 500, 0, [stack] * 500)
    doc.model_grew()
    view.refresh_visible()
    assert [_name(pane, r) for r in range(5)] == before  # held while the pointer is on the rows
    now = pane._clock()
    pane._clock = lambda: now + 2.5  # the pointer rested on the rows: live numbers are not frozen for good
    view.refresh_visible()
    assert _name(pane, 0) != before[0]
    pane._clock = lambda: now + 2.6
    QTest.mouseMove(port, port.rect().center() + QPoint(3, 0))  # it moves again: held again
    stack2 = int(profile.samples["stack"][0])
    profile.add_samples([profile.samples["time"][-1] + 0.01] * 2000, 0, [stack2] * 2000)
    doc.model_grew()
    moved = [_name(pane, r) for r in range(5)]
    view.refresh_visible()
    assert [_name(pane, r) for r in range(5)] == moved
    QCursor.setPos(window.mapToGlobal(QPoint(5, 5)))
    QTest.mouseMove(window, QPoint(5, 5))
    QApplication.processEvents()
    view.refresh_visible()
    assert _name(pane, 0) == profile.func_name[profile.frame_func(int(profile.stacks["frame"][stack2]))]  # shown once it leaves


def test_time_columns_fit_minutes_without_eliding(qtbot, window, tmp_path):
    from pyrometer.app.panes.function_model import COL_SELF, COL_TOTAL
    from pyrometer.core import fmt

    _view, pane = _functions(window, Document(_profile(tmp_path), "many.collapsed"))
    fm = pane.view.fontMetrics()
    for col in (COL_SELF, COL_TOTAL):
        assert pane.view.columnWidth(col) >= fm.horizontalAdvance(fmt.seconds(244.5)) + 8


def test_per_call_of_a_count_profile_is_in_its_unit_not_seconds(qtbot, window):
    """A callgrind file weighs instructions (Ir): 68,989 Ir over 4 calls is 17,247.25 Ir a call,
    which the column showed as "4 h 47 min" (every per-call value was formatted as seconds)."""
    from pyrometer.app.panes.function_model import COL_CALLS, COL_PER_CALL, COL_TOTAL

    path = Path(__file__).parents[1] / "fixtures" / "formats" / "callgrind.out.plain.gz"
    _view, pane = _functions(window, Document(load_profile(path), path.name))
    rows = {_name(pane, r): r for r in range(pane.model.rowCount())}
    row = rows["_dl_relocate_object"]
    text = lambda col: str(pane.model.data(pane.model.index(row, col)))  # noqa: E731
    assert (text(COL_TOTAL), text(COL_CALLS)) == ("68,989", "4")  # as callgrind_annotate counts them
    assert text(COL_PER_CALL) == "17,247.25"
