"""Task rows packed on a worker (TaskLanes with `on_ready`) are the rows packed on the caller's thread.

A day's 150k tasks took 0.2-0.3 s of one GUI turn to pack when a huge recording's detail arrived, and again
at each replay playhead; the pane now has them packed on a worker and draws them when it says so.
"""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest

from pyrometer.core.agent import wire
from pyrometer.core.analysis import task_lanes
from pyrometer.core.analysis.lanes import build_lanes
from pyrometer.core.analysis.task_lanes import TaskLanes, TaskPacker
from pyrometer.core.analysis.task_rows_at import PackingAt
from pyrometer.core.formats.recording import apply_message
from pyrometer.core.model import Profile


class Stream:
    """Bursts of task creations (some arriving late), finishes in any order, some tasks never ending."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.next_id = 1
        self.now = 0.0
        self.running: list[tuple[int, float]] = []

    def step(self, p: Profile) -> None:
        rng = self.rng
        self.now += rng.uniform(0.05, 0.3)
        new: list[tuple[float, int]] = []
        ends: list[tuple[float, int, int]] = []
        for _ in range(rng.randint(0, 25)):
            tid, self.next_id = self.next_id, self.next_id + 1
            t = self.now - rng.uniform(0.0, 0.5)
            new.append((t, tid))
            if rng.random() < 0.2:
                ends.append((t + rng.uniform(0.0, 0.05), tid, 0))
            elif rng.random() < 0.9:
                self.running.append((tid, t))
        keep = []
        for tid, t in self.running:
            if rng.random() < 0.4:
                ends.append((max(t, self.now - rng.uniform(0.0, 0.1)), tid, rng.choice([0, 0, 1, 2])))
            else:
                keep.append((tid, t))
        self.running = keep
        spans = [(t, tid) for t, tid in new if rng.random() < 0.7]  # a running stretch at the start of most
        if spans:
            frame = wire.task_spans_frame([t for t, _ in spans], [t + rng.uniform(0.001, 0.05) for t, _ in spans],
                                          [tid for _, tid in spans], [rng.choice([0, 1]) for _ in spans])
            apply_message(p, wire.TASK_SPANS, memoryview(frame)[wire.FRAME_HEADER_SIZE:])
        for frame in (  # (no empty batches: the agent sends none)
            wire.tasks_new_frame([t for t, _ in new], [i for _, i in new], [-1] * len(new), [0] * len(new),
                                 [f"task-{i}" for _, i in new], ["work"] * len(new)),
            wire.tasks_end_frame([t for t, _, _ in ends], [i for _, i, _ in ends], *([[float("nan")] * len(ends)] * 4),
                                 [s for _, _, s in ends], [""] * len(ends)),
        )[0 if new else 1 : 2 if ends else 1]:
            kind = wire.FRAME_HEADER.unpack_from(frame, 0)[1]
            apply_message(p, kind, memoryview(frame)[wire.FRAME_HEADER_SIZE:])


def _drawn(p: TaskPacker | PackingAt) -> tuple[object, ...]:
    """What the timeline draws of a packing: each row's tasks and boxes, the overflow row."""
    rows = tuple((tuple(int(i) for i in r.ids), r.x.tolist(), r.w.tolist(), r.color.tolist()) for r in p.rows)
    ov = p.overflow()
    return rows, p.hidden, ov.start.tolist(), ov.stop.tolist(), ov.count.tolist()


def _rows(p: TaskPacker) -> tuple[object, ...]:
    """`_drawn` and the packer's own state (where each task is, the rows' ends, the log read)."""
    return _drawn(p), tuple(r.end for r in p.rows), sorted(p.where.items()), p.seen


def _stream_profile(steps: int = 120) -> tuple[Profile, float]:
    p = Profile()
    stream = Stream(11)
    for _ in range(steps):
        stream.step(p)
    return p, stream.now


@pytest.mark.parametrize("t1", [None, 5.0, 17.5])
def test_a_worker_packs_the_rows_the_caller_would(monkeypatch: pytest.MonkeyPatch, t1: float | None) -> None:
    monkeypatch.setattr(task_lanes, "BACKGROUND_TASKS", 10)
    p, now = _stream_profile()
    assert len(p.tasks) > 500
    ready = threading.Event()
    lanes = TaskLanes(on_ready=ready.set)
    first = lanes.get(p, t1, 6, now)
    assert lanes.packing and not first.rows  # nothing packed yet: no rows rather than wrong ones
    assert ready.wait(10) and lanes.wait(10)
    got = lanes.get(p, t1, 6, now)
    assert not lanes.packing
    want = TaskPacker(6, t1)
    want.rebuild(p, now if t1 is None else t1)
    if t1 is None:
        assert isinstance(got, TaskPacker) and _rows(got) == _rows(want)
    else:  # the session's packing (the worker's) cut at t1
        assert isinstance(got, PackingAt) and _drawn(got) == _drawn(want)
    assert lanes.get(p, t1, 6, now) is got  # kept: asked again, nothing is packed again


def test_a_moved_playhead_packs_nothing_once_the_session_is_packed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker packs the session once; each playhead after is the session's rows cut at it, at once."""
    monkeypatch.setattr(task_lanes, "BACKGROUND_TASKS", 10)
    p, now = _stream_profile()
    lanes = TaskLanes(on_ready=lambda: None)
    assert not lanes.get(p, 10.0, 6, now).rows and lanes.packing  # the first time: packed on the worker
    assert lanes.wait(10)
    at_10 = lanes.get(p, 10.0, 6, now)
    assert not lanes.packing and at_10.rows
    session = lanes.packer
    for t1 in (20.0, 3.0, 10.0):
        got = lanes.get(p, t1, 6, now)
        assert not lanes.packing and lanes._worker is None and lanes.packer is session
        want = TaskPacker(6, t1)
        want.rebuild(p, t1)
        assert _drawn(got) == _drawn(want)


def test_a_live_session_adding_tasks_while_the_worker_packs_loses_none(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker packs a copy of the tasks taken with the log's length; the next refresh reads the log from there."""
    monkeypatch.setattr(task_lanes, "BACKGROUND_TASKS", 10)
    p = Profile()
    stream = Stream(3)
    for _ in range(80):
        stream.step(p)
    lanes = TaskLanes(on_ready=lambda: None)
    lanes.get(p, None, 8, stream.now)
    for _ in range(40):  # the session goes on meanwhile
        stream.step(p)
    assert lanes.wait(10)
    got = lanes.get(p, None, 8, stream.now)
    assert not lanes.packing and got.seen == len(p.task_log)
    placed = {tid for tid in got.where} | got.skipped
    assert placed == set(p.tasks)
    start = {tid: float(p.tasks[tid].created) for tid in got.where if p.tasks[tid].created is not None}
    for slot, row in enumerate(got.rows):
        x = row.x
        assert np.array_equal(x, [start[tid] for tid in row.ids]), slot
        assert bool((np.diff(x) >= 0).all())


def test_without_on_ready_every_rebuild_is_done_by_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(task_lanes, "BACKGROUND_TASKS", 10)
    p, now = _stream_profile(40)
    lanes = TaskLanes()
    got = lanes.get(p, 3.0, 4, now)
    assert not lanes.packing and got.rows


@pytest.mark.parametrize("t1", [None, 12.0])
def test_lanes_drawn_from_a_workers_rows_are_the_lanes_drawn_in_place(monkeypatch: pytest.MonkeyPatch, t1: float | None) -> None:
    """Drawn (boxes cut by the tasks' running/delayed stretches, labels), a worker's rows are the rows packed in place."""
    monkeypatch.setattr(task_lanes, "BACKGROUND_TASKS", 10)
    p, now = _stream_profile()
    assert len(p.task_spans) > 100
    worker = TaskLanes(on_ready=lambda: None)
    build_lanes(p, t1, 6, None, now, worker)
    assert worker.packing and worker.wait(10)
    drawn = build_lanes(p, t1, 6, None, now, worker)
    in_place = build_lanes(p, t1, 6, None, now, TaskLanes())
    assert drawn.names == in_place.names and drawn.kinds == in_place.kinds
    for a, b in zip(drawn.arrays(), in_place.arrays(), strict=True):
        assert np.array_equal(a, b)
    assert list(drawn.labels) == list(in_place.labels)
