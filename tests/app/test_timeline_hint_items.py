"""The timeline's gesture hint gives way by whole items, never mid-word.

At 1366 px with the demo's legends the hint read "drag: select range · wheel: zoor",
cut by the Fit button: it looked like a rendering bug. It shows the items that fit
whole, then "…", and all of them in its tooltip.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtWidgets
from qt_windows import show_pane

from pyrometer.app.document import Document
from pyrometer.app.panes.timeline import TimelinePane
from pyrometer.core.formats.registry import load_profile

ITEMS = ["drag: select range", "wheel: zoom", "shift-drag: pan", "shift-wheel: scroll lanes"]


def _hint(qtbot, tmp_path: Path, width: int) -> QtWidgets.QLabel:  # type: ignore[no-untyped-def]
    path = tmp_path / "p.collapsed"
    path.write_text("main;work 3\n")
    pane = show_pane(qtbot, TimelinePane(Document(load_profile(path))), width, 300)
    QtWidgets.QApplication.processEvents()
    (hint,) = [label for label in pane.findChildren(QtWidgets.QLabel) if label.toolTip() == " · ".join(ITEMS)]
    return hint


def test_a_narrow_pane_shows_whole_items_then_an_ellipsis(qtbot, tmp_path: Path) -> None:
    hint = _hint(qtbot, tmp_path, 560)
    text = hint.text()
    assert text != " · ".join(ITEMS) and text.endswith("…"), text
    shown = [part for part in text.split(" · ") if part != "…"]
    assert shown == ITEMS[: len(shown)], text  # whole items, in order
    assert hint.fontMetrics().horizontalAdvance(text) <= hint.width(), (text, hint.width())


def test_a_wide_pane_shows_the_whole_hint(qtbot, tmp_path: Path) -> None:
    assert _hint(qtbot, tmp_path, 1900).text() == " · ".join(ITEMS)
