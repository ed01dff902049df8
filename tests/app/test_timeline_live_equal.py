"""What a live timeline shows after many small refreshes equals what a new pane shows of the same profile.

A live refresh keeps the task rows' pieces, the sorted task stretches, the stalls lane and the own-task
answer it had, and adds only what is new (issue 15: each was redone over the whole session before).
Here a session grows batch by batch (samples, tasks with running and delayed stretches, some of them
arriving batches late, stalls whose stack comes later) and the pane refreshes after each batch; at the
end its boxes, colours, labels and task count must be those of a pane that computed everything at once.
Tasks end in the batch they start in, so packing them in batches or all at once gives the same rows.
"""

from __future__ import annotations

import random

import numpy as np
from PySide6 import QtWidgets
from qt_windows import show_pane

from pyrometer.app.document import Document
from pyrometer.app.panes.timeline import TimelinePane
from pyrometer.core.agent.tasks import ASYNCIO_OWN
from pyrometer.core.model import (
    TASK_DELAYED,
    TASK_RUNNING,
    AnalysisCache,
    BlockingEvent,
    LoopInfo,
    Profile,
    TaskInfo,
)


def _grow(p: Profile, rng: random.Random, step: int, late: list[list[tuple[int, float]]]) -> None:
    t0, t1 = step * 0.1, (step + 1) * 0.1
    p.intern_stack_path([p.intern_frame(f"work{step}", "/srv/app.py", step + 1)])  # (the last batch's stall's, maybe)
    ts = np.arange(t0, t1, 0.01)
    for tid_thread in (1, 2):
        cpu = np.where(rng.random() < 0.5, 0.01, 0.0)
        p.add_samples(ts + 0.01, np.full(len(ts), tid_thread, np.int32), np.full(len(ts), len(p.stacks) - 1),
                      weight=0.01, cpu=np.full(len(ts), cpu, np.float32))
    spans: list[tuple[int, int, float, float]] = [(tid, TASK_RUNNING, s, s + 0.002) for tid, s in late.pop(0)]
    late.append([])
    for _ in range(rng.randint(1, 5)):
        tid = len(p.tasks) + 1
        start = t0 + rng.random() * 0.05
        end = start + 0.01 + rng.random() * 0.04
        coro = ASYNCIO_OWN + "shutdown" if rng.random() < 0.05 else "handler()"  # (own: the task count leaves them out)
        p.tasks[tid] = TaskInfo(tid, rng.choice([None, *list(p.tasks)[-3:]]), f"task-{tid}", coro, created=start, ended=end,
                                state=rng.choice(("done", "failed", "cancelled")))
        p.task_log.extend((tid, tid))
        spans.append((tid, rng.choice((TASK_RUNNING, TASK_DELAYED)), start + 0.001, start + 0.004))
        if rng.random() < 0.3:
            late[-1].append((tid, start + 0.0002))  # a stretch from its first moment, two batches late
    p.add_task_spans(np.array([s[0] for s in spans], np.int64), np.array([s[1] for s in spans], np.int8),
                     np.array([s[2] for s in spans]), np.array([s[3] for s in spans]))
    if rng.random() < 0.4:  # a stall, its stack sometimes in the next batch
        stack = len(p.stacks) if rng.random() < 0.5 else 0
        p.blocking.append(BlockingEvent(start=t0 + 0.05, duration=0.03, loop=0, thread=1, stack=stack))
    p.generation += 1


def test_a_pane_refreshed_batch_by_batch_shows_what_a_new_pane_shows(qtbot) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(15)
    p = Profile()
    p.ensure_thread(1, "MainThread")
    p.ensure_thread(2, "worker")
    p.loops[0] = LoopInfo(0, 1)
    p.intern_stack_path([p.intern_frame("main", "/srv/app.py", 1)])
    live = show_pane(qtbot, TimelinePane(Document(p, is_live=True)), 1000, 420)
    late: list[list[tuple[int, float]]] = [[], []]
    for step in range(60):
        _grow(p, rng, step, late)
        live.doc.model_grew()
        live.refresh()
        QtWidgets.QApplication.processEvents()
    p.cache = AnalysisCache()  # the new pane computes everything again (analyses the live one kept are on the profile)
    whole = show_pane(qtbot, TimelinePane(Document(p, is_live=True)), 1000, 420)
    whole.refresh()
    QtWidgets.QApplication.processEvents()
    assert live.lane_vb.viewRange()[0] == whole.lane_vb.viewRange()[0]
    for got, want in zip(live.lanes.arrays(), whole.lanes.arrays(), strict=True):
        assert np.array_equal(got, want)
    assert list(live.lanes.labels) == list(whole.lanes.labels)
    assert live.lanes.names == whole.lanes.names and live.lanes.hidden_tasks == whole.lanes.hidden_tasks
    assert live.info.text() == whole.info.text()
    assert sum(t.coro.startswith(ASYNCIO_OWN) for t in p.tasks.values()) >= 3
    kinds = np.asarray(live.lanes.kinds)[live.lanes.arrays()[2]]
    assert (kinds == "task").sum() > 100 and (kinds == "blocking").sum() > 10
    assert all(live.lanes.tip(b) == whole.lanes.tip(b) for b in np.flatnonzero(kinds != "thread").tolist())
