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


def test_parent_rows_followed_live_find_parents_that_arrive_late() -> None:
    """Live, a task's parent may be named before it is known (its creation in a later batch), and a task
    whose end came first is filled in with its parent later: the rows looked up as they change equal
    the rows of columns built from scratch at every step."""
    p = Profile()
    rng = random.Random(15)
    for step in range(300):
        for _ in range(rng.randint(0, 4)):
            tid = len(p.tasks) + 1
            parent = rng.choice([None, max(1, tid - rng.randint(1, 5)), tid + rng.randint(1, 4)])  # earlier, or not yet known
            p.tasks[tid] = TaskInfo(tid, parent, f"t{tid}", "c()", created=float(step))
            p.task_log.append(tid)
        if rng.random() < 0.2:  # an end before its creation: a placeholder, filled (with a parent) a step later
            tid = len(p.tasks) + 1
            p.tasks[tid] = TaskInfo(tid, None, "", "", ended=float(step))
            p.task_log.append(tid)
        for t in p.tasks.values():
            if t.created is None and t.ended is not None and t.ended < step and rng.random() < 0.5:
                t.parent, t.name, t.coro, t.created = rng.randint(1, len(p.tasks) + 3), "late", "c()", float(step)
                p.task_log.append(t.id)
        p.generation += 1
        got = task_columns(p).parent_rows()
        assert np.array_equal(got, TaskColumns().rebuild(p).parent_rows()), step
    assert (got >= 0).sum() > 200 and (got < 0).sum() > 50
