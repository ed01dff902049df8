"""The keys that move a replay's playhead, as a video player's do, and "Go to time".

Bare keys (arrows, Home/End, Page Up/Down, comma/period) are also what a table,
a tree, a text box or a drop-down uses to move within itself, so they step the
replay only when the focus is elsewhere (a plot, the seek bar, a pane's
background): a focused widget that uses the key keeps it. With Alt held the same
keys step the replay from anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QKeyCombination, QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QInputDialog,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

if TYPE_CHECKING:
    from pyrometer.app.replay import ReplayBar

MINUTE = 60.0
STEPS: tuple[tuple[str, str, Callable[[ReplayBar], None]], ...] = (
    # key, what it does (the menu and F1 say it), the move
    (",", "Back one sampling interval", lambda bar: bar.step_frames(-1)),
    (".", "Forward one sampling interval", lambda bar: bar.step_frames(1)),
    ("Left", "Back 1 s", lambda bar: bar.step(-1.0)),
    ("Right", "Forward 1 s", lambda bar: bar.step(1.0)),
    ("Shift+Left", "Back 1 min", lambda bar: bar.step(-MINUTE)),
    ("Shift+Right", "Forward 1 min", lambda bar: bar.step(MINUTE)),
    ("PgUp", "Back a tenth of the recording", lambda bar: bar.step(-bar.duration() / 10)),
    ("PgDown", "Forward a tenth of the recording", lambda bar: bar.step(bar.duration() / 10)),
    ("Home", "To the start", lambda bar: bar.seek(0.0)),
    ("End", "To the end", lambda bar: bar.seek(None)),
)
GO_TO_KEY = "Ctrl+G"
SHORTCUT_LINES = (  # for F1's list
    (", / .", "Replay: step back / forward one sampling interval (a frame)"),
    ("Left / Right", "Replay: back / forward 1 s"),
    ("Shift+Left / Shift+Right", "Replay: back / forward 1 min"),
    ("PgUp / PgDown", "Replay: back / forward a tenth of the recording"),
    ("Home / End", "Replay: to the start / the end"),
    ("Alt+key", "The replay keys above while a table, tree or text box has the focus (it keeps the bare keys)"),
    (GO_TO_KEY, "Replay: go to a time (1:02:03, 90 s, 50%, +10s, or a clock time @14:05)"),
)

_TEXT_INPUTS = (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox)
_COMBO_KEYS = {Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Home, Qt.Key.Key_End, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown}


def keeps_key(widget: QObject | None, event: QKeyEvent) -> bool:
    """Whether the focused `widget` uses this key itself (so a bare replay key must not take it)."""
    if not isinstance(widget, QWidget) or event.modifiers() & Qt.KeyboardModifier.AltModifier:
        return False
    if isinstance(widget, (*_TEXT_INPUTS, QAbstractItemView)):
        return True  # moves the cursor or the current row, or types (a table's type-to-find too)
    if isinstance(widget, QComboBox):
        return widget.isEditable() or Qt.Key(event.key()) in _COMBO_KEYS or bool(event.text().strip())
    return False


class ReplayKeys(QObject):
    """The step actions (in a menu, window-wide) and the filter that leaves tables and text boxes their keys."""

    def __init__(self, window: QWidget, menu: QMenu, current_bar: Callable[[], ReplayBar | None]) -> None:
        super().__init__(window)
        self.window = window
        self.current_bar = current_bar
        self.keys: set[str] = set()  # the bindings, bare and with Alt, as QKeySequence.toString() says them
        self.actions: list[QAction] = []
        sub = menu.addMenu("&Replay position")
        for key, text, move in STEPS:
            seq = QKeySequence(key)
            act = sub.addAction(text)
            act.setShortcuts([seq, QKeySequence(f"Alt+{key}")])
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(lambda _c=False, mv=move: self._move(mv))
            self.keys.update({seq.toString(), QKeySequence(f"Alt+{key}").toString()})
            self.actions.append(act)
        sub.addSeparator()
        self.go_to_action = sub.addAction("&Go to time…")
        self.go_to_action.setShortcut(QKeySequence(GO_TO_KEY))
        self.go_to_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.go_to_action.triggered.connect(self.go_to)
        self.actions.append(self.go_to_action)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def _move(self, move: Callable[[ReplayBar], None]) -> None:
        bar = self.current_bar()
        if bar is not None:
            move(bar)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Qt asks the focused widget first (ShortcutOverride): accepting it there gives it the key, not our action.
        # So does a tab with nothing to replay (a live session, a profile without time, a preview still loading).
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            pressed = QKeySequence(QKeyCombination(mods, Qt.Key(event.key()))).toString()
            if pressed in self.keys and (keeps_key(watched, event) or not self._replaying()):
                event.accept()
        return False

    def _replaying(self) -> bool:
        bar = self.current_bar()
        return bar is not None and bar.ready()

    def go_to(self) -> QInputDialog | None:
        """Ask for a time and move the playhead there (the bar's dialog: clicking its time opens it too)."""
        bar = self.current_bar()
        return bar.ask_time() if bar is not None else None
