"""Task and stall lanes laid out for a view give one cell a pixel for sub-pixel boxes; each cell is its first box.

The flame item built zoomed-out copies of a day's 10^5 task pieces at every lay-out (45-72 ms a replay
playhead); now build_lanes hands it, per lane, the boxes at least a pixel wide and one cell per pixel
column of narrower ones. A cell must answer as the box it stands for: its tooltip, label, colour and
the span a click selects; a highlighted task outlines every cell holding one of its boxes; no box in
the view is left uncovered, and no lane has more than a few boxes a pixel.
"""

from __future__ import annotations

import random

import numpy as np

from pyrometer.core.analysis.lanes import build_lanes
from pyrometer.core.analysis.task_lanes import TaskLanes
from pyrometer.core.model import (
    TASK_DELAYED,
    TASK_RUNNING,
    BlockingEvent,
    LoopInfo,
    Profile,
    TaskInfo,
)


def _profile() -> Profile:
    rng = random.Random(7)
    p = Profile()
    p.ensure_thread(1, "MainThread")
    p.loops[0] = LoopInfo(0, 1)
    p.intern_stack_path([p.intern_frame("main", "app.py", 1)])
    t = 0.0
    spans = []
    for tid in range(1, 3001):
        t += rng.expovariate(30.0)
        end = t + (rng.expovariate(20.0) if rng.random() < 0.97 else rng.uniform(2.0, 8.0))
        p.tasks[tid] = TaskInfo(tid, None, f"req-{tid}", "handle()", created=t, ended=end, state=rng.choice(("done", "failed")))
        p.task_log.append(tid)
        if rng.random() < 0.6:
            spans.append((tid, rng.choice((TASK_RUNNING, TASK_DELAYED)), t, min(end, t + 0.01)))
    p.add_task_spans(np.array([s[0] for s in spans], np.int64), np.array([s[1] for s in spans], np.int8),
                     np.array([s[2] for s in spans]), np.array([s[3] for s in spans]))
    for i in range(400):
        p.blocking.append(BlockingEvent(start=i * 0.25 + 0.01, duration=0.002 if i % 3 else 0.6, loop=0, thread=1, stack=0))
    return p


def _lane(lanes, lane: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.flatnonzero(lanes.arrays()[2] == lane)


def test_each_cell_answers_as_the_box_it_stands_for() -> None:
    p = _profile()
    end = max(float(tk.ended or 0.0) for tk in p.tasks.values())
    view, pixels = (10.0, end - 10.0), 400
    every = build_lanes(p, None, 5, None, end, TaskLanes())  # every box, as the lanes were handed over before
    shown = build_lanes(p, None, 5, None, end, TaskLanes(), view=view, pixels=pixels)
    assert shown.kinds == every.kinds and shown.kinds.count("task") == 6  # five rows and the overflow row
    px = (view[1] - view[0]) / pixels
    wanted = frozenset(range(5, 3000, 9))
    mask = shown.task_mask(wanted)
    task_of = {}  # (lane, box) of `every` -> task, from its task rows
    for first, tasks in every.task_boxes:
        for i, tid in enumerate(tasks.tolist()):
            task_of[first + i] = tid
    merged = 0
    for lane, kind in enumerate(shown.kinds):
        if kind == "thread":
            continue
        got, all_boxes = _lane(shown, lane), _lane(every, lane)
        gx, gw = shown.arrays()[0][got], shown.arrays()[1][got]
        ex, ew = every.arrays()[0][all_boxes], every.arrays()[1][all_boxes]
        assert len(got) <= 3 * pixels  # at most a few boxes a pixel, whatever the lane holds
        # every box of the lane in the view lies in a cell: the last one starting at or before it
        in_view = np.flatnonzero((ex + ew >= view[0]) & (ex <= view[1]))
        cell_of = np.searchsorted(gx, ex[in_view], "right") - 1
        assert (cell_of >= 0).all() and (ex[in_view] + ew[in_view] <= gx[cell_of] + gw[cell_of] + 1e-12).all()
        merged += int((np.bincount(cell_of) > 1).sum())
        for c, box in enumerate(got.tolist()):
            j = int(all_boxes[int(np.searchsorted(ex, gx[c], "left"))])  # the box it stands for: its start
            assert shown.arrays()[3][box] == every.arrays()[3][j]
            assert shown.labels[box] == every.labels[j]
            assert shown.tip(box) == every.tip(j)
            assert shown.box_span(box) == (float(every.arrays()[0][j]), float(every.arrays()[0][j] + every.arrays()[1][j]))
            if gw[c] >= px:  # a box a pixel wide or more is drawn as it is
                assert gw[c] == every.arrays()[1][j] or np.flatnonzero(cell_of == c).size > 1
        if kind == "task" and lane in {int(shown.arrays()[2][f]) for f, _t in shown.task_boxes}:
            # outlined: the cells holding a box of a highlighted task, and no others
            want = np.zeros(len(got), bool)
            for k, c in zip(in_view.tolist(), cell_of.tolist(), strict=True):
                want[c] |= task_of.get(int(all_boxes[k]), -1) in wanted
            assert np.array_equal(mask[got], want), lane
    assert merged > 500  # sub-pixel boxes were merged into cells, in task rows and the stalls lane
    assert len(shown.arrays()[0]) < len(every.arrays()[0]) / 2
