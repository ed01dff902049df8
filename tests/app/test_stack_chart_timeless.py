"""Stack chart of a profile without timestamps: never an invented "time (s)" axis.

A pstats / callgrind file keeps costs per function, not when calls happened: the pane says so
instead of drawing its cost layout over a time axis. A collapsed-stacks file keeps stacks with
counts in file order: the x axis is those counts added up (each box as wide as its count, the
last one too), labelled as such.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cprofile_files import write_cprofile
from hand_profiles import work_idle_profile
from PySide6 import QtWidgets
from qt_windows import show_pane

from pyrometer.app.document import Document
from pyrometer.app.panes.stack_chart import StackChartPane
from pyrometer.core.formats.registry import load_profile
from pyrometer.core.model import Profile

COLLAPSED = "main;work;compute 60\nmain;work 20\nmain;idle 20\n"


def chart(qtbot: Any, profile: Profile) -> StackChartPane:
    pane = show_pane(qtbot, StackChartPane(Document(profile)), 900, 400)
    QtWidgets.QApplication.processEvents()
    return pane


def x_label(pane: StackChartPane) -> str:
    return str(pane.plot.getPlotItem().getAxis("bottom").labelText)


def test_a_pstats_profile_gets_no_stack_chart_but_says_why(qtbot: Any, tmp_path: Path) -> None:
    pane = chart(qtbot, load_profile(write_cprofile(tmp_path / "p.prof")))
    assert pane.stack.currentWidget() is pane.empty
    assert "call-statistics" in pane.empty.text() and "flame graph" in pane.empty.text()
    assert pane.empty.isVisible()
    assert not pane.fit_button.isVisible()  # nothing to zoom, nor a colour legend for boxes not drawn


def test_collapsed_stacks_are_laid_out_by_count_in_file_order(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "p.collapsed"
    path.write_text(COLLAPSED)
    pane = chart(qtbot, load_profile(path))
    assert pane.stack.currentWidget() is pane.plot
    label = x_label(pane)
    assert "time" not in label.split(",")[0] and "samples" in label and not pane.plot.getPlotItem().getAxis("bottom").labelUnits and "file's order" in label
    assert "not time" in pane.info.text()
    names = pane.doc.profile.func_name
    width = {names[f]: float(w) for f, w in zip(pane.boxes.func.tolist(), pane.boxes.width.tolist(), strict=True) if f >= 0}
    start = {names[f]: float(x) for f, x in zip(pane.boxes.func.tolist(), pane.boxes.x.tolist(), strict=True) if f >= 0}
    # the file's own counts: compute 60, work 60 + 20, idle 20 (the last line, not a guessed gap)
    assert width == {"main": 100.0, "work": 80.0, "compute": 60.0, "idle": 20.0}
    assert start["idle"] == 80.0
    assert pane.view_box.viewRange()[0][1] >= 100.0  # the whole file in view
    assert "no timestamps" in pane.tooltip(next(i for i, f in enumerate(pane.boxes.func.tolist()) if f >= 0 and names[f] == "idle"))


def test_a_profile_with_timestamps_keeps_its_time_axis(qtbot: Any) -> None:
    pane = chart(qtbot, work_idle_profile(half=50, loop=30))
    axis = pane.plot.getPlotItem().getAxis("bottom")
    assert (axis.labelText, axis.labelUnits) == ("time", "s")

