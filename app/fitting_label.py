"""A hint label that gives way item by item: "drag: select range · wheel: zoom · …".

The timeline's gesture hint yields its room to the counts and legends on a 1366 px
screen; a plain QLabel was cut mid-word ("wheel: zoor"), which reads as a rendering bug.
This one shows the leading items that fit whole, an ellipsis for the rest, and all of
them in its tooltip.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

SEPARATOR = " · "


class ItemsHint(QtWidgets.QLabel):
    """A QLabel over `items` joined by " · ", trimmed to whole items at its current width."""

    def __init__(self, items: list[str], parent: QtWidgets.QWidget | None = None) -> None:
        self._items = list(items)
        self._full = SEPARATOR.join(self._items)
        super().__init__(self._full, parent)
        self.setToolTip(self._full)
        self.setMinimumWidth(1)  # whole when there is room (its size hint), fewer items when there is not

    def sizeHint(self) -> QtCore.QSize:  # the full text's size, whatever is shown now
        hint = super().sizeHint()
        hint.setWidth(self.fontMetrics().horizontalAdvance(self._full) + 2 * self.margin() + 4)
        return hint

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self.setText(self.fitting(self.width()))

    def fitting(self, width: int) -> str:
        """The leading whole items that fit in `width` pixels (then " · …"), or all of them."""
        metrics = self.fontMetrics()
        room = width - 2 * self.margin() - 4
        if metrics.horizontalAdvance(self._full) <= room:
            return self._full
        for n in range(len(self._items) - 1, 0, -1):
            text = SEPARATOR.join(self._items[:n]) + SEPARATOR + "…"
            if metrics.horizontalAdvance(text) <= room:
                return text
        return "…"
