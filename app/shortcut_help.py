"""Help › Keyboard and mouse (F1): the keys and mouse actions in a dialog that fits a laptop's screen.

A QMessageBox is about 400 px wide, so each line wrapped two or three times and
the list grew taller than a 768 px screen, its OK button off the bottom. This
dialog is wide, two columns (keys | mouse) and scrolls when the screen is small.
"""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

Lines = tuple[tuple[str, str], ...]
WIDTH = 900


def _rows(pairs: Lines) -> str:
    return "".join(f"<tr><td style='white-space:nowrap'><b>{escape(k)}</b>&nbsp;&nbsp;</td><td>{escape(v)}</td></tr>" for k, v in pairs)


def shortcut_html(keys: Lines, mouse: Lines) -> str:
    return (
        "<table width='100%'><tr>"
        f"<td valign='top' width='58%'><h4>Keys</h4><table>{_rows(keys)}</table></td>"
        f"<td valign='top'>&nbsp;&nbsp;&nbsp;</td><td valign='top'><h4>Mouse</h4><table>{_rows(mouse)}</table></td>"
        "</tr></table>"
    )


class ShortcutHelp(QDialog):
    """Keys and mouse actions, sized to the screen (a scroll bar when it is small)."""

    def __init__(self, parent: QWidget | None, keys: Lines, mouse: Lines) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard and mouse")
        self.browser = QTextBrowser(self)
        self.browser.setHtml(shortcut_html(keys, mouse))
        self.browser.setFrameShape(QTextBrowser.Shape.NoFrame)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        screen = (parent.screen() if parent is not None else self.screen()).availableGeometry()
        width = min(WIDTH, screen.width() - 40)
        measure = self.browser.document().clone(self)  # the browser re-lays its own out at its current (tiny) width
        measure.setTextWidth(width - 40)
        height = int(measure.size().height()) + buttons.sizeHint().height() + 60
        self.resize(width, min(height, screen.height() - 60))

    def text(self) -> str:
        return self.browser.toPlainText()
