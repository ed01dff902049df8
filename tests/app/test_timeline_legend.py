"""The timeline header's task legend names every colour the task bars are drawn in (no more, no less).

A user found orange (cancelled) and red (failed) bars with no legend entry, and a header saying
"summarised in the grey row" while the row in view was green. Each colour drawn for a task must have
its swatch; none that is not drawn may have one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6 import QtWidgets
from qt_windows import show_pane
from timeline_profile import make_profile

from pyrometer.app.document import Document
from pyrometer.app.panes.timeline import TimelinePane
from pyrometer.core.analysis.lane_palette import (
    LANE_COLORS,
    T_CANCELLED,
    T_DELAYED,
    T_DONE,
    T_FAILED,
    T_OVERFLOW,
    T_PENDING,
    T_RUNNING,
)
from pyrometer.core.model import TASK_RUNNING, Profile, TaskInfo

TASK_COLOURS = (T_PENDING, T_DONE, T_CANCELLED, T_FAILED, T_OVERFLOW, T_RUNNING, T_DELAYED)


def swatch(index: int) -> str:
    r, g, b = LANE_COLORS[index]
    return f"rgb({r},{g},{b})"


def shown(qtbot: Any, profile: Profile) -> TimelinePane:
    pane = show_pane(qtbot, TimelinePane(Document(profile)), 1000, 420)
    QtWidgets.QApplication.processEvents()
    return pane


def check_legend_matches_drawing(pane: TimelinePane) -> set[int]:
    _x, _w, _row, color = pane.lanes.arrays()
    drawn = set(np.unique(color).tolist()) & set(TASK_COLOURS)
    text = pane.task_legend.text()
    assert pane.task_legend.isVisibleTo(pane) == bool(drawn)
    for index in TASK_COLOURS:
        assert (swatch(index) in text) == (index in drawn), (index, text)
    return drawn


def test_cancelled_and_failed_bars_have_their_swatch_without_task_stretches(qtbot: Any) -> None:
    p = make_profile()  # an older recording: no per-task stretches
    p.tasks[3] = TaskInfo(3, 1, "ticker", "tick()", created=0.1, ended=1.5, state="cancelled")
    p.tasks[4] = TaskInfo(4, 1, "bad", "handle()", created=0.3, ended=0.6, state="failed")
    pane = shown(qtbot, p)
    assert check_legend_matches_drawing(pane) == {T_PENDING, T_DONE, T_CANCELLED, T_FAILED}
    text = pane.task_legend.text()
    for word in ("pending", "done", "cancelled", "failed"):
        assert word in text


def test_the_grey_row_is_in_the_legend_when_tasks_overflow(qtbot: Any) -> None:
    p = make_profile()
    for i in range(3, 203):  # far more tasks than rows
        p.tasks[i] = TaskInfo(i, 1, f"w{i}", "waiter()", created=0.05, ended=1.9, state="cancelled")
    ids = np.arange(3, 203, dtype=np.int32)
    p.add_task_spans(ids, np.full(len(ids), TASK_RUNNING, np.int8), np.full(len(ids), 0.1), np.full(len(ids), 0.12))
    p.finish()
    pane = shown(qtbot, p)
    drawn = check_legend_matches_drawing(pane)
    assert {T_OVERFLOW, T_RUNNING, T_CANCELLED} <= drawn
    hidden = pane.lanes.hidden_tasks
    assert hidden > 0 and f"{hidden:,} more" in pane.task_legend.text()
    assert "grey row" not in pane.info.text()  # the legend's grey swatch says it, beside the others
