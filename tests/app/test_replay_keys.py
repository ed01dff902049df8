"""Replay of a two-hour recording from the keyboard, as a video player's: steps of a sampling interval,
a second, a minute, a tenth; start and end; "Go to time"; without taking a table's or a text box's keys.

Before, only Space did anything: stepping meant dragging a slider whose 10,000 steps are 7.5 s each on a
day-long recording, and a window-wide arrow key would have taken the tables' own navigation.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from long_replay import HOURS, START_WALL, long_profile
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit
from qt_windows import open_window, private_settings

from pyrometer.app.document import Document
from pyrometer.app.main_window import MainWindow
from pyrometer.app.replay import ReplayBar
from pyrometer.app.session_view import SessionView
from pyrometer.core import fmt

ALT = Qt.KeyboardModifier.AltModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def win(qtbot, qapp, tmp_path) -> MainWindow:
    private_settings(tmp_path)
    return open_window(qtbot, 1366, 768)


def open_long(qtbot, win: MainWindow) -> tuple[SessionView, ReplayBar]:
    view = win.add_document(Document(long_profile(), "day.pyro"))
    qtbot.waitExposed(win)
    view.refresh_visible()
    assert view.replay_bar is not None
    return view, view.replay_bar


def focus(qtbot, win: MainWindow, widget) -> None:
    win.activateWindow()
    widget.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget)


def test_keys_step_the_playhead_from_a_plot(qtbot, win) -> None:
    view, bar = open_long(qtbot, win)
    duration = bar.duration()
    assert duration == pytest.approx(HOURS * 3600)
    flame = view.pane("flame_graph")
    focus(qtbot, win, flame)
    doc = view.doc
    steps = [
        (Qt.Key.Key_Home, Qt.KeyboardModifier.NoModifier, 0.0),
        (Qt.Key.Key_Right, Qt.KeyboardModifier.NoModifier, 1.0),
        (Qt.Key.Key_Period, Qt.KeyboardModifier.NoModifier, 1.5),  # one sampling interval
        (Qt.Key.Key_Right, SHIFT, 61.5),
        (Qt.Key.Key_Comma, Qt.KeyboardModifier.NoModifier, 61.0),
        (Qt.Key.Key_Left, Qt.KeyboardModifier.NoModifier, 60.0),
        (Qt.Key.Key_PageDown, Qt.KeyboardModifier.NoModifier, 60.0 + duration / 10),
        (Qt.Key.Key_PageUp, Qt.KeyboardModifier.NoModifier, 60.0),
        (Qt.Key.Key_Left, SHIFT, 0.0),
        (Qt.Key.Key_Left, Qt.KeyboardModifier.NoModifier, 0.0),  # stops at the start
        (Qt.Key.Key_End, Qt.KeyboardModifier.NoModifier, None),  # the end: everything
        (Qt.Key.Key_Left, Qt.KeyboardModifier.NoModifier, duration - 1.0),
        (Qt.Key.Key_Right, SHIFT, None),  # past the end is the end
    ]
    for key, mods, want in steps:
        QTest.keyClick(flame, key, mods)
        if want is None:
            assert doc.playhead is None, (key, mods)
        else:
            assert doc.playhead == pytest.approx(want), (key, mods)
    assert bar.slider.value() == bar.slider.maximum()


def test_a_focused_table_keeps_its_arrows_and_alt_steps_from_there(qtbot, win) -> None:
    view, bar = open_long(qtbot, win)
    bar.seek(100.0)
    table = view.pane("functions").view
    focus(qtbot, win, table)
    model = table.model()
    table.setCurrentIndex(model.index(0, 0))
    QTest.keyClick(table, Qt.Key.Key_Down)
    assert table.currentIndex().row() == 1 and view.doc.playhead == 100.0
    QTest.keyClick(table, Qt.Key.Key_Right)
    QTest.keyClick(table, Qt.Key.Key_End)
    QTest.keyClick(table, Qt.Key.Key_Period)
    assert view.doc.playhead == 100.0
    assert table.currentIndex().column() > 0  # Right and End moved along the row, as in any table
    QTest.keyClick(table, Qt.Key.Key_Right, ALT)
    assert view.doc.playhead == pytest.approx(101.0)
    QTest.keyClick(table, Qt.Key.Key_Home, ALT)
    assert view.doc.playhead == 0.0


def test_a_search_box_keeps_its_keys(qtbot, win) -> None:
    view, bar = open_long(qtbot, win)
    bar.seek(100.0)
    box = view.pane("flame_graph").findChild(QLineEdit)
    assert box is not None
    focus(qtbot, win, box)
    QTest.keyClicks(box, "a,b.")
    QTest.keyClick(box, Qt.Key.Key_Home)
    QTest.keyClick(box, Qt.Key.Key_Right)
    assert box.text() == "a,b." and box.cursorPosition() == 1
    assert view.doc.playhead == 100.0


def test_clicking_a_speed_leaves_the_keys_to_the_replay(qtbot, win) -> None:
    """A drop-down that took the focus on a click would turn End into 'the last speed'."""
    view, bar = open_long(qtbot, win)
    before = bar.speed.currentIndex()
    qtbot.mouseClick(bar.speed, Qt.MouseButton.LeftButton)
    bar.speed.hidePopup()
    assert QApplication.focusWidget() is not bar.speed
    bar.seek(10.0)
    QTest.keyClick(QApplication.focusWidget() or win, Qt.Key.Key_End)
    assert view.doc.playhead is None and bar.speed.currentIndex() == before


def go_to(qtbot, win: MainWindow, text: str) -> QInputDialog:
    QTest.keyClick(win.focusWidget() or win, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    dialog = win.findChild(QInputDialog)
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    dialog.setTextValue(text)
    dialog.accept()
    return dialog


def test_go_to_a_time_into_the_session_or_a_clock_time(qtbot, win) -> None:
    view, bar = open_long(qtbot, win)
    focus(qtbot, win, view.pane("flame_graph"))
    go_to(qtbot, win, "1:02:03.5")
    assert view.doc.playhead == pytest.approx(3723.5)
    go_to(qtbot, win, "+10 s")
    assert view.doc.playhead == pytest.approx(3733.5)
    go_to(qtbot, win, "@00:15")  # the recording started at 23:30: a quarter past midnight is 45 min in
    assert view.doc.playhead == pytest.approx(45 * 60)
    go_to(qtbot, win, "50%")
    assert view.doc.playhead == pytest.approx(bar.duration() / 2)
    dialog = go_to(qtbot, win, "3h")  # after the end: asked again, saying why; the playhead stays
    qtbot.waitUntil(dialog.isVisible)
    assert "after the end" in dialog.labelText()
    assert view.doc.playhead == pytest.approx(bar.duration() / 2)
    dialog.reject()


def test_the_time_label_says_hours_and_the_clock_of_day(qtbot, qapp, tmp_path) -> None:
    private_settings(tmp_path)
    bar = ReplayBar(Document(long_profile(), "day.pyro"))
    qtbot.addWidget(bar)
    bar.seek(3600.0 + 30 * 60)  # 01:00 the next day
    clock = datetime.fromtimestamp(START_WALL + 5400).strftime("%a %H:%M:%S")  # over midnight: with the weekday
    assert bar.time_label.text() == f"1:30:00.000 / 2:00:00.000  ·  {clock}"


def test_the_seek_bar_says_where_a_click_would_go(qtbot, qapp, tmp_path) -> None:
    """Its 10,000 steps are 0.72 s here (7.5 s on a day): the pointer says the time before the click."""
    private_settings(tmp_path)
    bar = ReplayBar(Document(long_profile(), "day.pyro"))
    qtbot.addWidget(bar)
    bar.resize(1000, 40)
    bar.show()
    qtbot.waitExposed(bar)
    slider = bar.slider
    x = slider.width() // 2
    value = slider.value_at(x)
    t = value / slider.maximum() * bar.duration()
    assert abs(t - bar.duration() / 2) < 0.02 * bar.duration()
    said = slider.hover_text(value)
    assert said.startswith(fmt.clock(t)) and datetime.fromtimestamp(START_WALL + t).strftime("%H:%M:%S") in said
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(x, slider.height() // 2))
    assert bar.doc.playhead == pytest.approx(t)  # the click went where the pointer said


def test_without_a_replay_the_keys_stay_with_the_focused_widget(qtbot, win, tmp_path) -> None:
    """A profile without time has no replay: its tables and views keep Home, End, the arrows (Alt+ too)."""
    path = tmp_path / "p.collapsed"
    path.write_text("main;work 3\nmain;wait 1\n")
    from pyrometer.core.formats.registry import load_profile

    view = win.add_document(Document(load_profile(path), path))
    qtbot.waitExposed(win)
    assert view.replay_bar is None
    flame = view.pane("flame_graph")
    focus(qtbot, win, flame)
    seen: list[int] = []
    flame.keyPressEvent = lambda ev: seen.append(ev.key()) if ev.key() != Qt.Key.Key_Alt else None  # type: ignore[method-assign]
    QTest.keyClick(flame, Qt.Key.Key_End)
    QTest.keyClick(flame, Qt.Key.Key_Left, ALT)
    assert seen == [Qt.Key.Key_End, Qt.Key.Key_Left]


def test_clicking_the_time_asks_for_a_time(qtbot, win) -> None:
    view, bar = open_long(qtbot, win)
    bar.seek(600.0)
    qtbot.mouseClick(bar.time_label, Qt.MouseButton.LeftButton)
    dialog = win.findChild(QInputDialog)
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.textValue() == "10:00.000"  # starts from the playhead
    dialog.setTextValue("-30s")
    dialog.accept()
    assert view.doc.playhead == pytest.approx(570.0)
