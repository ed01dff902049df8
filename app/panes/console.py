"""Console pane: the launched program's stdout/stderr, appended incrementally."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFontDatabase, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QVBoxLayout, QWidget

from pyrometer.app.document import Document
from pyrometer.app.panes.base import Pane

MAX_BLOCKS = 20000


class ConsolePane(Pane):
    pane_id = "console"
    title = "Console"

    def __init__(self, doc: Document, parent: QWidget | None = None) -> None:
        super().__init__(doc, parent)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(MAX_BLOCKS)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setPlaceholderText("The program's output (stdout and stderr) appears here for launched sessions.")
        self._shown = 0
        self._end_shown = False
        self._note = QTextCharFormat()
        self._note.setForeground(QColor(128, 128, 128))
        self._stderr = QTextCharFormat()
        self._stderr.setForeground(QColor(220, 70, 60))
        self._stdout = QTextCharFormat()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.text)

    def refresh(self) -> None:
        out = self.doc.profile.output
        if len(out) < self._shown:  # a new profile replaced the old one
            self.text.clear()
            self._shown = 0
        end = self.doc.profile.end if self.doc.is_live else None
        if len(out) == self._shown and (end is None or self._end_shown):
            return
        bar = self.text.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        cursor = QTextCursor(self.text.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        for _t, stream, chunk in out[self._shown :]:
            cursor.insertText(chunk, self._stderr if stream == "stderr" else self._stdout)
        self._shown = len(out)
        if end is not None and not self._end_shown:
            self._end_shown = True
            status = end.get("exit_status")
            if str(end.get("reason") or "exit") == "exit":
                tail = f" with exit status {status}" if status is not None else ""
                cursor.insertText(f"\n— the program ended{tail} —\n", self._note)
            else:
                cursor.insertText(f"\n— profiling stopped ({end.get('reason')}) —\n", self._note)
        if at_end:
            bar.setValue(bar.maximum())
