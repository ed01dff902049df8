"""A program without an event loop (threads only, a crash, an attach) still gets a time axis on the
timeline: it lived on the lag plot, which is hidden without a loop, and the hidden plot kept its row."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from PySide6 import QtWidgets
from timeline_profile import make_profile

from pyrometer.app.document import Document
from pyrometer.app.panes.timeline import TimelinePane
from pyrometer.core.formats.recording import read_recording
from pyrometer.core.model import Profile

THREADS = """
import threading, time
def work():
    end = time.perf_counter() + 0.3
    while time.perf_counter() < end:
        pass
ts = [threading.Thread(target=work, name=f"worker-{i}") for i in range(2)]
for t in ts: t.start()
for t in ts: t.join()
"""


@pytest.fixture(scope="module")
def threads_only(tmp_path_factory: pytest.TempPathFactory) -> Profile:
    d = tmp_path_factory.mktemp("no_loop")
    (d / "prog.py").write_text(THREADS)
    proc = subprocess.run(
        [sys.executable, "-m", "pyrometer", "record", "--no-history", "-o", str(d / "x.pyro"), "--", str(d / "prog.py")],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    profile, report = read_recording(d / "x.pyro")
    assert report.clean, report.problems
    return profile


def shown(qtbot: Any, profile: Profile, height: int) -> TimelinePane:
    pane = TimelinePane(Document(profile))
    qtbot.addWidget(pane)
    pane.resize(1000, height)
    pane.show()
    qtbot.waitExposed(pane)
    pane.refresh()
    for _ in range(3):
        QtWidgets.QApplication.processEvents()
    return pane


def test_threads_only_get_a_time_axis_under_the_lanes(qtbot: Any, threads_only: Profile) -> None:
    assert not len(threads_only.lag) and not threads_only.loops and len(threads_only.threads) == 3
    pane = shown(qtbot, threads_only, 160)
    assert not pane.lag_plot.isVisible()
    axis = pane.lane_plot.getAxis("bottom")
    assert axis.isVisible() and axis.geometry().height() > 20
    assert "time" in axis.labelText
    lo, hi = pane.lane_vb.viewRange()[0]
    assert lo <= 0.01 and hi >= threads_only.duration() * 0.98  # the axis spans the run
    assert pane.lag_plot.geometry().height() == 0  # the hidden lag plot leaves its room to the lanes
    y0, y1 = pane.lane_vb.viewRange()[1]
    assert y1 - y0 >= pane._lanes_height - 1e-6, "every thread lane in view"


def test_with_a_loop_the_time_axis_stays_on_the_lag_plot(qtbot: Any) -> None:
    pane = shown(qtbot, make_profile(), 300)
    assert pane.lag_plot.isVisible() and pane.lag_plot.geometry().height() > 40
    assert not pane.lane_plot.getAxis("bottom").isVisible()
