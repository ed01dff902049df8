"""Task rows at a replay playhead, cut from the session's packing, are the rows a fresh packing up to it gives.

A moved playhead used to pack every task created by then again (0.3 s for a day's 150k, on a worker
whose rows came with a second lay-out of the timeline). task_rows_at cuts the session's packing at the
playhead instead; here, for many playheads (random ones, each task's start and end, before the first
task, after the last) over sessions with rows full (an overflow row), tasks pending for good, zero-length
tasks, tasks created in the same instant, and running / delayed stretches (some running past the
playhead, some recorded after their task ended), every row's boxes, colours, owners, labels and
pieces, and the overflow row, must equal TaskPacker(max_rows, t1).rebuild + cut_row at that playhead.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from pyrometer.core.analysis.lanes import build_lanes
from pyrometer.core.analysis.loop import blocking_events
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.analysis.task_lanes import TaskLanes, TaskPacker
from pyrometer.core.analysis.task_rows_at import PackingAt, SessionRows
from pyrometer.core.analysis.task_states import cut_row, spans_by_task
from pyrometer.core.model import TASK_DELAYED, TASK_RUNNING, BlockingEvent, Profile, TaskInfo


def _session(seed: int, n: int = 700) -> Profile:
    """Bursts of requests (as bench_scale writes them: exponential lives), a few long-lived and never-ending
    tasks, zero-length ones, and stretches: a running step at the start of most, delayed ones here and there."""
    rng = random.Random(seed)
    p = Profile()
    t = 0.0
    ids: list[int] = []
    for tid in range(1, n + 1):
        t += rng.expovariate(40.0) if rng.random() < 0.9 else 0.0  # some created in the same instant
        kind = rng.random()
        if kind < 0.04:
            ended, state = None, "pending"  # pending for good
        elif kind < 0.08:
            ended, state = t, "done"  # zero-length
        else:
            ended = t + (rng.expovariate(4.0) if rng.random() < 0.95 else rng.uniform(5.0, 15.0))
            state = rng.choice(("done", "done", "done", "cancelled", "failed", "pending"))  # "pending" ended: drawn done
        p.tasks[tid] = TaskInfo(tid, None, f"request-{tid}", "handle()", created=t, ended=ended, state=state)
        p.task_log.append(tid)
        ids.append(tid)
    p.tasks[n + 1] = TaskInfo(n + 1, None, "no-start", "x()", created=None)  # known, never drawn
    p.task_log.append(n + 1)
    rows: list[tuple[int, int, float, float]] = []
    for tid in ids:
        tk = p.tasks[tid]
        assert tk.created is not None
        end = tk.ended if tk.ended is not None else tk.created + 20.0
        if rng.random() < 0.75:  # a running step at its start
            rows.append((tid, TASK_RUNNING, tk.created, min(end, tk.created + rng.uniform(0.001, 0.05))))
        a = tk.created
        while rng.random() < 0.4 and a < end:  # more steps, delayed ones before some of them
            a += rng.uniform(0.01, 0.3)
            b = a + rng.uniform(0.001, 0.1)
            rows.append((tid, rng.choice((TASK_RUNNING, TASK_DELAYED)), a, b))
            a = b
    rng.shuffle(rows)  # arrival order is not time order (late batches)
    arr = np.array([(r[0], r[1]) for r in rows], np.int64)
    times = np.array([(r[2], r[3]) for r in rows], np.float64)
    p.add_task_spans(arr[:, 0], arr[:, 1].astype(np.int8), times[:, 0], times[:, 1])
    return p


def _playheads(p: Profile, rng: random.Random) -> list[float]:
    starts = sorted(float(tk.created) for tk in p.tasks.values() if tk.created is not None)
    ends = [float(tk.ended) for tk in p.tasks.values() if tk.ended is not None]
    edges = [starts[0] - 1.0, starts[0], starts[-1], max(ends) + 1.0, max(ends)]
    return edges + rng.sample(starts, 25) + rng.sample(ends, 25) + [rng.uniform(0.0, max(ends)) for _ in range(25)]


def _fresh(p: Profile, max_rows: int, t1: float) -> tuple[TaskPacker, list[object]]:
    packer = TaskPacker(max_rows, t1)
    packer.rebuild(p, t1)
    spans = spans_by_task(p)
    return packer, [cut_row(np.asarray(r.ids, np.int64), r.x, r.w, r.color, spans) for r in packer.rows]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and np.array_equal(a, b)


def check_equal(got: PackingAt, p: Profile, max_rows: int, t1: float) -> None:
    want, want_pieces = _fresh(p, max_rows, t1)
    assert len(got.rows) == len(want.rows), t1
    spans = spans_by_task(p)
    for slot, (r, w) in enumerate(zip(got.rows, want.rows, strict=True)):
        assert r.ids.tolist() == w.ids, (t1, slot)
        assert list(r.names) == w.names
        for a, b in ((r.x, w.x), (r.w, w.w), (r.color, w.color)):
            assert _same(a, b), (t1, slot)
        pg, pw = got.pieces(slot, spans), want_pieces[slot]
        assert pg.cut == pw.cut, (t1, slot)  # type: ignore[attr-defined]
        for name in ("x", "w", "color", "owner", "state"):
            assert _same(getattr(pg, name), getattr(pw, name)), (t1, slot, name)
    assert got.hidden == want.hidden
    og, ow = got.overflow(), want.overflow()
    for a, b in ((og.start, ow.start), (og.stop, ow.stop), (og.count, ow.count)):
        assert _same(a, b), t1


@pytest.mark.parametrize(("seed", "max_rows", "n"), [(1, 6, 700), (2, 12, 700), (3, 3, 700), (4, 40, 250)])
def test_rows_cut_from_the_session_equal_a_fresh_packing_at_each_playhead(seed: int, max_rows: int, n: int) -> None:
    p = _session(seed, n)
    whole = TaskPacker(max_rows, None)
    whole.rebuild(p, 100.0)
    assert whole.one_pass
    session = SessionRows(whole)
    rng = random.Random(seed)
    overflowed = pending_cut = 0
    for t1 in _playheads(p, rng):
        at = session.at(t1)
        check_equal(at, p, max_rows, t1)
        overflowed += at.hidden > 0
        pending_cut += any(at._pending_last)
    assert pending_cut > 20  # rows whose last task was still running at the playhead
    if max_rows < 10:
        assert overflowed > 20  # and an overflow row


def test_the_lanes_drawn_at_a_playhead_equal_the_lanes_of_a_fresh_packing() -> None:
    """Through build_lanes (what the timeline draws): boxes, labels, tooltips and task owners."""
    p = _session(5, 400)
    rng = random.Random(5)
    for i in range(60):  # stalls out of time order, two at the same instant, some at a playhead below
        start = rng.choice((rng.uniform(0.0, 12.0), 3.0))
        p.blocking.append(BlockingEvent(start=start, duration=0.05 + i * 0.001, loop=0, thread=1, stack=-1))
    lanes = TaskLanes()
    build_lanes(p, None, 5, None, 30.0, lanes)  # the session's packing, as when the recording was opened
    session = lanes.packer
    for t1 in [3.0, *_playheads(p, random.Random(5))[::4]]:
        got = build_lanes(p, t1, 5, None, None, lanes)
        assert lanes.packer is session and isinstance(lanes.get(p, t1, 5, t1), PackingAt)  # nothing packed again
        fresh = TaskLanes()
        fresh._sizes = (id(p.tasks), -1, -1)  # "the tasks grew": the old path, packing up to t1
        want = build_lanes(p, t1, 5, None, None, fresh)
        assert isinstance(fresh.packer, TaskPacker) and fresh.packer.t1 == t1
        for a, b in zip(got.arrays(), want.arrays(), strict=True):
            assert _same(a, b)
        stalls = blocking_events(p, Selection(t1=t1))  # the stalls before the playhead, listed anew
        assert got.stalls[0].tolist() == [e.start for e in stalls] and got.stalls[1].tolist() == [e.duration for e in stalls]
        assert list(got.labels) == list(want.labels)
        assert [(f, t.tolist()) for f, t in got.task_boxes] == [(f, t.tolist()) for f, t in want.task_boxes]
        kinds = np.asarray(got.kinds)[got.arrays()[2]]
        for box in np.flatnonzero(kinds == "task").tolist():
            assert got.tip(box) == want.tip(box)


def test_a_live_session_replayed_while_it_grows_packs_up_to_the_playhead() -> None:
    """Tasks added since the last refresh: the rows are packed again up to t1 (the session's packing is stale)."""
    p = _session(6, 200)
    lanes = TaskLanes()
    lanes.get(p, 3.0, 4, 3.0)
    tid = max(p.tasks) + 1
    p.tasks[tid] = TaskInfo(tid, None, "late", "x()", created=1.0, ended=2.0, state="done")
    p.task_log.append(tid)
    got = lanes.get(p, 3.0, 4, 3.0)
    assert isinstance(got, TaskPacker) and got.t1 == 3.0 and tid in got.where
    again = lanes.get(p, 3.5, 4, 3.5)  # no growth since: the session's packing (of every task, the late one too)
    assert isinstance(again, PackingAt)
    check_equal(again, p, 4, 3.5)
