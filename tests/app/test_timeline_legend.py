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
    ON_CPU,
    PARTLY_CPU,
    T_CANCELLED,
    T_DELAYED,
    T_DONE,
    T_FAILED,
    T_OVERFLOW,
    T_PENDING,
    T_RUNNING,
    WAITING,
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


def test_threads_sharing_a_cpu_have_their_own_colour_legend_and_measured_share(qtbot: Any) -> None:
    """A thread on CPU 45% of each interval (sharing the GIL) is drawn "partly on CPU", not grey, and says so."""
    p = Profile()
    p.ensure_thread(1, "shares-the-gil")
    s = p.intern_stack_path([p.intern_frame("spin", "/srv/app.py", 3, 1)])
    t = np.arange(1, 201) * 0.01
    p.add_samples(t, np.ones(200, np.int32), np.full(200, s), weight=0.01, cpu=np.full(200, 0.0045, np.float32))
    p.finish()
    pane = shown(qtbot, p)
    _x, _w, row, color = pane.lanes.arrays()
    assert set(color[row == 0].tolist()) == {PARTLY_CPU}
    legend = pane.thread_legend.text()
    assert pane.thread_legend.isVisibleTo(pane)
    assert swatch(PARTLY_CPU) in legend
    for index in (ON_CPU, WAITING):  # nothing is drawn fully on or off CPU: no swatch for them
        assert swatch(index) not in legend
    assert "partly on CPU" in legend and "GIL" in pane.thread_legend.toolTip()
    tip = pane._tooltip(int(np.flatnonzero(row == 0)[0]))
    assert "partly on CPU" in tip and "(45% on CPU)" in tip, tip


def test_thread_legend_names_only_the_states_in_view(qtbot: Any) -> None:
    """Threads fully on CPU or waiting, none partly: the legend has no "partly on CPU" (a new user looked for it)."""
    pane = shown(qtbot, make_profile())  # MainThread on CPU then waiting, worker on CPU: never partly
    _x, _w, row, color = pane.lanes.arrays()
    thread_rows = [i for i, kind in enumerate(pane.lanes.kinds) if kind == "thread"]
    drawn = set(color[np.isin(row, thread_rows)].tolist())
    assert drawn == {ON_CPU, WAITING}
    legend = pane.thread_legend.text()
    assert swatch(ON_CPU) in legend and swatch(WAITING) in legend
    assert swatch(PARTLY_CPU) not in legend and "partly" not in legend, legend
    # zoomed into the first second, where both threads are on CPU: only "on CPU" is in view
    pane.lane_vb.setXRange(0.05, 0.8, padding=0.0)
    pane._relayout()
    legend = pane.thread_legend.text()
    assert swatch(ON_CPU) in legend and swatch(WAITING) not in legend, legend
