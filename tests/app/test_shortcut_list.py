"""Help › Keyboard and mouse lists every key the window answers to.

F1 opened the list but was not in it, and Esc's line named the flame graph and the
timeline only, though the stack chart's own hint says "Esc: show all".
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from qt_windows import open_window, private_settings

from pyrometer.app.main_window import SHORTCUTS


def test_every_menu_shortcut_is_in_the_list(qtbot, qapp, tmp_path) -> None:
    private_settings(tmp_path)
    win = open_window(qtbot, 1366, 768)
    listed = {QKeySequence(each).toString() for keys, _what in SHORTCUTS for each in keys.split(" / ")}  # "Left / Right"
    missing = []
    for action in win.findChildren(QAction):
        keys = [seq.toString() for seq in action.shortcuts() if seq.toString()]
        if keys and not listed.intersection(keys):  # a standard key has several (Ctrl+F4, Ctrl+W): one listed will do
            missing.append(f"{' or '.join(keys)} ({action.text()})")
    assert missing == []


def test_esc_line_names_the_stack_chart() -> None:
    esc = dict(SHORTCUTS)["Esc"]
    assert "stack chart" in esc


def test_ctrl_w_closes_the_tab_and_ctrl_q_quits(qtbot, qapp, tmp_path) -> None:
    """The list says Ctrl+W and Ctrl+Q; only Ctrl+F4 closed a tab (setShortcut kept the first of
    the Close key's bindings) and Ctrl+Q did nothing where the platform gives Quit no key."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from pyrometer.app.document import Document
    from pyrometer.core.formats.registry import load_profile

    private_settings(tmp_path)
    win = open_window(qtbot, 1366, 768)
    path = tmp_path / "two.collapsed"
    path.write_text("main;work 3\nmain;wait 1\n")
    for _ in range(2):
        win.add_document(Document(load_profile(path), path.name))
    qtbot.waitExposed(win)
    assert win.tabs.count() == 2

    def press(key: Qt.Key) -> None:  # where a user's key goes: the focused widget of the active window
        win.activateWindow()
        win.tabs.setFocus()
        qtbot.waitUntil(lambda: win.tabs.hasFocus())
        QTest.keyClick(win.tabs, key, Qt.KeyboardModifier.ControlModifier)

    press(Qt.Key.Key_W)
    qtbot.waitUntil(lambda: win.tabs.count() == 1, timeout=3000)
    press(Qt.Key.Key_Q)
    qtbot.waitUntil(lambda: not win.isVisible(), timeout=3000)


def test_the_list_fits_a_laptop_screen(qtbot, qapp, tmp_path) -> None:
    """With the replay keys the message box was 400 x 974 px: on a 768 px screen its OK button was off the bottom."""
    private_settings(tmp_path)
    win = open_window(qtbot, 1366, 768)
    dialog = win.show_shortcuts()
    qtbot.waitExposed(dialog)
    screen = win.screen().availableGeometry()
    assert dialog.frameGeometry().height() <= screen.height() and dialog.width() <= screen.width()
    text = dialog.text()
    for keys, what in SHORTCUTS:
        assert keys in text and what in text
    bar = dialog.browser.verticalScrollBar()
    assert bar.maximum() == 0 or screen.height() < 800  # all of it at once where the screen allows
    dialog.close()
