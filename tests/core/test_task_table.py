"""Task columns followed through a live profile's task log equal columns built from scratch (issue 15)."""

from __future__ import annotations

import random

import numpy as np

from pyrometer.core.analysis.task_table import TaskColumns, task_columns
from pyrometer.core.model import Profile, TaskInfo


def test_columns_followed_live_are_the_columns_built_from_scratch() -> None:
    p = Profile()
    rng = random.Random(3)
    alive: list[int] = []
    for step in range(200):
        for _ in range(rng.randint(0, 5)):  # tasks created (children of recent ones, or top level)
            tid = len(p.tasks) + 1
            p.tasks[tid] = TaskInfo(tid, rng.choice([None, *alive[-3:]]), f"t{tid}", "c()", created=float(step))
            p.task_log.append(tid)
            alive.append(tid)
        for tid in rng.sample(alive, min(len(alive), rng.randint(0, 3))):  # tasks that end
            t = p.tasks[tid]
            t.ended, t.state, t.cpu_s, t.running_s = step + 0.5, rng.choice(["done", "failed", "cancelled"]), 0.1, 0.2
            p.task_log.append(tid)
            alive.remove(tid)
        p.generation += 1
        cols = task_columns(p)
        followed, built = cols.arrays(), TaskColumns().rebuild(p).arrays()
        for name, column in built.items():
            assert np.array_equal(followed[name], column, equal_nan=column.dtype.kind == "f"), (step, name)
        assert np.array_equal(cols.parent_rows(), TaskColumns().rebuild(p).parent_rows())
    assert task_columns(p) is cols
