"""The "Go to time" dialog of a replay: a time into the session, a share, a step from here, or a clock time.

What the text means is core/time_text.py's; this asks for it, says why a text
names no time (and asks again), and moves the bar's playhead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QInputDialog, QWidget

from pyrometer.core import fmt
from pyrometer.core.time_text import HELP, parse_time

if TYPE_CHECKING:
    from pyrometer.app.replay import ReplayBar


class GoToTime(QInputDialog):
    """Window-modal; one per replay bar, opened again with the playhead's time each time."""

    def __init__(self, bar: ReplayBar, parent: QWidget | None = None) -> None:
        super().__init__(parent or bar.window())
        self.bar = bar
        self.setWindowTitle("Go to time")
        self.setInputMode(QInputDialog.InputMode.TextInput)
        self.textValueSelected.connect(self._went_to)

    def ask(self) -> None:
        self.setTextValue(fmt.clock(self.bar.position()))
        self.setLabelText(self._help())
        self.open()

    def _help(self) -> str:
        bar = self.bar
        first, last = bar.clock_of_day(0.0), bar.clock_of_day(bar.duration())
        ran = ""
        if first is not None and last is not None:
            day = "%a " if first.date() != last.date() else ""
            ran = f"\nThe recording ran {first.strftime(day + '%H:%M:%S')} – {last.strftime(day + '%H:%M:%S')}."
        return f"{HELP}\n{ran}\nIt is {fmt.clock(bar.duration())} long."

    def _went_to(self, text: str) -> None:
        bar = self.bar
        start = bar.doc.profile.meta.get("start_wall")
        try:
            t = parse_time(text, now=bar.position(), duration=bar.duration(),
                           start_wall=float(start) if isinstance(start, int | float) and start > 0 else None)
        except ValueError as err:
            self.setLabelText(f"{err}.\n\n{self._help()}")
            self.open()
            return
        bar.seek(t)
