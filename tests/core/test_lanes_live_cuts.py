"""A live timeline's task rows, cut a little at each refresh, equal the rows cut whole.

`RowCuts` keeps the pieces of every box but a row's last and cuts only new boxes (a day's tasks were
all cut again on each live refresh). Here a session creates and ends tasks, records running and
delayed stretches (some only after the task's end, as a late batch brings them), and after each
step the lanes built with the kept pieces must equal, box for box, label for label and tooltip for
tooltip (stalls too: appended as they come, named once their stack arrives), the lanes of the same
packer rows cut whole by `cut_row` with every stall listed again; and the stretches, merged into the
sorted ones as they arrive (`spans_by_task_since`), must equal them sorted whole.
"""

from __future__ import annotations

import random

import numpy as np

from pyrometer.core.analysis.lanes import build_lanes
from pyrometer.core.analysis.task_lanes import TaskLanes
from pyrometer.core.analysis.task_states import RowCuts, spans_by_task
from pyrometer.core.model import (
    TASK_DELAYED,
    TASK_RUNNING,
    BlockingEvent,
    LoopInfo,
    Profile,
    TaskInfo,
)


def _session_step(p: Profile, rng: random.Random, now: float, alive: list[int], late: list[list[int]], next_id: list[int]) -> None:
    """One live batch at `now`: new tasks, stretches of running ones, some ends (the last stretch of a few
    arrives three batches later, when newer boxes follow theirs in the row)."""
    for _ in range(rng.randint(0, 6)):
        tid = next_id[0]
        next_id[0] += 1
        p.tasks[tid] = TaskInfo(tid, None, f"task-{tid}", "work()", created=now - rng.random() * 0.05)
        p.task_log.append(tid)
        alive.append(tid)
    spans = [(tid, now - 0.04 + rng.random() * 0.01) for tid in alive if rng.random() < 0.5]
    # a late batch: its stretch began before stretches of the task already recorded (rows out of order)
    spans += [(tid, p.tasks[tid].created + 0.0005) for tid in late.pop(0)]  # type: ignore[operator]
    late.append([])
    if spans:
        ids = np.array([s[0] for s in spans], np.int64)
        start = np.array([s[1] for s in spans])
        state = np.array([rng.choice((TASK_RUNNING, TASK_DELAYED)) for _ in spans], np.int8)
        p.add_task_spans(ids, state, start, start + 0.001 + 0.003 * rng.random())
    if rng.random() < 0.4:  # a stall: mostly after the last one, now and then from before it (a late batch);
        # its stack sometimes arrives a batch later (named "?" until then)
        start = now - 0.02 if rng.random() < 0.85 else now - 1.0 * rng.random()
        stack = len(p.stacks) if rng.random() < 0.3 else rng.randrange(len(p.stacks))
        p.blocking.append(BlockingEvent(start=start, duration=0.01, loop=0, thread=1, stack=stack))
    if rng.random() < 0.3:
        p.intern_stack_path([p.intern_frame(f"f{len(p.stacks)}", "app.py", 1)])
    for tid in [t for t in alive if rng.random() < 0.3]:
        alive.remove(tid)
        p.tasks[tid].ended, p.tasks[tid].state = now, rng.choice(("done", "cancelled", "failed"))
        p.task_log.append(tid)
        if rng.random() < 0.3:
            late[-1].append(tid)
    p.generation += 1


def _lanes_equal(a, b) -> None:  # type: ignore[no-untyped-def]
    for got, want in zip(a.arrays(), b.arrays(), strict=True):
        assert np.array_equal(got, want)
    assert len(a.labels) == len(b.labels) and list(a.labels) == list(b.labels)
    kinds = np.asarray(a.kinds)[a.arrays()[2]]
    for box in np.flatnonzero(kinds == "task").tolist():
        assert a.tip(box) == b.tip(box), box
    assert [(f, t.tolist()) for f, t in a.task_boxes] == [(f, t.tolist()) for f, t in b.task_boxes]


def test_rows_cut_a_little_at_a_time_equal_rows_cut_whole() -> None:
    rng = random.Random(15)
    p = Profile()
    p.ensure_thread(1, "MainThread")
    p.loops[0] = LoopInfo(0, 1)
    p.intern_stack_path([p.intern_frame("main", "app.py", 1)])
    kept, whole = TaskLanes(), TaskLanes()
    alive: list[int] = []
    late: list[list[int]] = [[], [], []]
    next_id = [1]
    cut_pieces = 0
    for step in range(1, 120):
        now = step * 0.05
        _session_step(p, rng, now, alive, late, next_id)
        whole.cuts = RowCuts()  # the same packer rows, every box cut again, every stall listed and named again
        whole.blocking = None
        a = build_lanes(p, None, 4, None, now, kept)
        b = build_lanes(p, None, 4, None, now, whole)
        _lanes_equal(a, b)
        for merged, sorted_whole in zip(kept.spans or (), spans_by_task(p), strict=True):  # merged as they came, or sorted whole
            assert np.array_equal(merged, sorted_whole)
        cut_pieces = max(cut_pieces, sum(len(t) for _f, t in a.task_boxes) - sum(len(r) for r in kept.packer.rows))  # type: ignore[union-attr]
    assert kept.packer is not None and sum(len(r) for r in kept.packer.rows) > 100 and kept.packer.hidden > 0
    assert cut_pieces > 100  # boxes were cut into pieces (stretches), in rows that kept growing
    assert kept.spans is not None and len(kept.spans[0]) > 500
    assert kept.blocking is not None and len(kept.blocking[3]) > 30 and "?" not in kept.blocking[3][:-3]  # named once known
