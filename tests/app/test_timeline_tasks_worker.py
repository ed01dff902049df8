"""Timeline pane: a day's task rows are packed on a worker and drawn when done, the same rows as packed in place."""

from __future__ import annotations

import numpy as np
from qt_windows import show_pane
from timeline_profile import make_profile

from pyrometer.app.document import Document
from pyrometer.app.panes.timeline import TimelinePane
from pyrometer.core.analysis import task_lanes
from pyrometer.core.model import Profile, TaskInfo


def _with_tasks(n: int) -> Profile:
    p = make_profile()
    rng = np.random.default_rng(3)
    end = p.duration()
    for i, (t0, dt) in enumerate(zip(rng.uniform(0, end, n).tolist(), rng.uniform(0, end / 20, n).tolist(), strict=True)):
        tid = 1000 + i
        p.tasks[tid] = TaskInfo(tid, None, f"job-{i}", "work()", 0, t0, t0 + dt if i % 9 else None, "done" if i % 9 else "pending")
    return p


def _drawn(pane: TimelinePane) -> tuple[list[str], list[list[float]]]:
    x, w, row, color = pane.lanes.arrays()
    return list(pane.lanes.names), [np.asarray(a, np.float64).tolist() for a in (x, w, row, color)]


def test_task_rows_packed_on_a_worker_are_the_rows_packed_in_place(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(task_lanes, "BACKGROUND_TASKS", 50)
    worker = show_pane(qtbot, TimelinePane(Document(_with_tasks(400))), 1000, 420)
    assert worker._task_lanes.packing and "placing them" in worker.info.text()  # no rows yet, and it says so
    assert worker._task_lanes.wait(10)
    qtbot.waitUntil(lambda: not worker._task_lanes.packing, timeout=10_000)  # the pane drew them when told
    assert "placing them" not in worker.info.text()
    monkeypatch.setattr(task_lanes, "BACKGROUND_TASKS", 10**9)
    in_place = show_pane(qtbot, TimelinePane(Document(_with_tasks(400))), 1000, 420)
    assert not in_place._task_lanes.packing
    assert worker._task_lanes.packer is not None and worker._task_lanes.packer.rows
    assert _drawn(worker) == _drawn(in_place)
    assert sum(1 for n in in_place.lanes.names if n == "") >= 1  # task rows are there to compare
