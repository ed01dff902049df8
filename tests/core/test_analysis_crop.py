"""An exported range keeps the task stretches and await snapshots that lie in it (they were dropped)."""

from __future__ import annotations

import numpy as np

from pyrometer.core.analysis.crop import crop
from pyrometer.core.model import TASK_DELAYED, TASK_RUNNING, Profile, TaskInfo


def _profile() -> Profile:
    p = Profile()
    p.add_frame_definitions([(0, "a.py", 1, "main", 1)])
    p.add_stack_definitions(0, np.array([-1], np.int32), np.array([0], np.int32))
    p.add_samples(
        np.array([0.1, 0.5, 0.9]), np.zeros(3, np.int32), np.zeros(3, np.int32), np.full(3, 7, np.int32),
        np.full(3, 0.1, np.float32), np.full(3, -1.0, np.float32),
    )  # fmt: skip
    p.tasks = {7: TaskInfo(7, None, "req", "handle", created=0.0, ended=1.0, state="done"),
               8: TaskInfo(8, None, "early", "other", created=0.0, ended=0.2, state="done")}  # fmt: skip
    p.task_log = [7, 8]
    p.add_task_spans(
        np.array([7, 7, 8], np.int32), np.array([TASK_RUNNING, TASK_DELAYED, TASK_RUNNING], np.int8),
        np.array([0.3, 0.55, 0.05]), np.array([0.45, 0.8, 0.15]),
    )  # fmt: skip
    p.add_awaits(0.2, np.array([7], np.int32), np.array([0], np.int32))
    p.add_awaits(0.6, np.array([7], np.int32), np.array([0], np.int32))
    p.finish()
    return p


def test_a_range_keeps_its_task_stretches_cut_at_its_edges_and_its_await_snapshots() -> None:
    part = crop(_profile(), 0.4, 0.7)
    spans = part.task_spans
    assert spans["task"].tolist() == [7, 7]  # task 8's stretch lies before the range
    assert spans["state"].tolist() == [TASK_RUNNING, TASK_DELAYED]
    assert np.allclose(spans["start"], [0.4, 0.55]) and np.allclose(spans["end"], [0.45, 0.7])
    assert part.awaits["time"].tolist() == [0.6]
