"""Incremental task rows (`TaskPacker`): fed from a live profile's task_log, checked after every update."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from pyrometer.core.agent import wire
from pyrometer.core.analysis.lane_palette import T_PENDING, TASK_COLOR
from pyrometer.core.analysis.task_lanes import MIN_W, TaskLanes, TaskPacker
from pyrometer.core.formats.recording import apply_message
from pyrometer.core.model import Profile, TaskInfo


def send(p: Profile, kind: int, rows: list[dict[str, object]]) -> None:
    if rows:
        apply_message(p, kind, json.dumps(rows).encode())


class Stream:
    """A live task stream: bursts of creations (some out of order), finishes, some never finishing."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.next_id = 1
        self.now = 0.0
        self.running: list[tuple[int, float]] = []

    def step(self, p: Profile) -> None:
        rng = self.rng
        self.now += rng.uniform(0.05, 0.3)
        created: list[dict[str, object]] = []
        finished: list[dict[str, object]] = []
        for _ in range(rng.randint(0, 25)):
            tid, self.next_id = self.next_id, self.next_id + 1
            t = self.now - rng.uniform(0.0, 0.5)  # late arrivals: created before tasks already placed
            created.append({"id": tid, "t": t, "name": f"task-{tid}", "coro": "work()"})
            if rng.random() < 0.2:  # created and finished in the same batch
                finished.append({"id": tid, "t": t + rng.uniform(0.0, 0.05), "state": "done"})
            elif rng.random() < 0.9:  # the rest of these stay pending for good
                self.running.append((tid, t))
        rng.shuffle(self.running)
        keep = []
        for tid, t in self.running:
            if rng.random() < 0.4:
                state = rng.choice(["done", "done", "cancelled", "failed"])
                finished.append({"id": tid, "t": max(t, self.now - rng.uniform(0.0, 0.1)), "state": state})
            else:
                keep.append((tid, t))
        self.running = keep
        if rng.random() < 0.05:  # a finish for a task never announced (no creation time: not drawn)
            tid, self.next_id = self.next_id, self.next_id + 1
            finished.append({"id": tid, "t": self.now, "state": "done"})
        send(p, wire.TASKS_CREATED, created)
        send(p, wire.TASKS_FINISHED, finished)


def check(packer: TaskPacker, p: Profile, now: float) -> None:
    drawn = [tk for tk in p.tasks.values() if tk.created is not None]
    placed: list[int] = []
    for r in packer.rows:
        x, w, color = r.x.view(), r.w.view(), r.color.view()
        assert len(x) == len(w) == len(color) == len(r.ids) == len(r.names)
        order = np.argsort(x, kind="stable")
        ends = (x + w)[order]
        # (a) no two tasks of one row overlap
        assert np.all(x[order][1:] >= ends[:-1] - 1e-12)
        placed.extend(r.ids)
        # (c) stops and states as in the profile; pending bars reach now
        for i, tid in enumerate(r.ids):
            tk = p.tasks[tid]
            assert tk.created is not None and x[i] == pytest.approx(tk.created)
            if tk.ended is None:
                assert color[i] == T_PENDING
                assert x[i] + w[i] == pytest.approx(max(now, tk.created + MIN_W))
            else:
                assert color[i] == TASK_COLOR[tk.state]
                assert x[i] + w[i] == pytest.approx(max(tk.ended, tk.created + MIN_W))
    # (b) each drawn task placed exactly once, or counted in the overflow row
    assert len(placed) == len(set(placed))
    assert len(placed) + packer.hidden == len(drawn)
    over = packer.overflow()
    assert int(over.count.sum()) == packer.hidden
    assert np.all(over.start[1:] > over.stop[:-1])  # merged spans are disjoint
    hidden = {tid for tid, (slot, _) in packer.where.items() if slot < 0}
    assert hidden.isdisjoint(placed) and len(hidden) == packer.hidden
    for tid in hidden:  # every hidden lifespan lies inside one overflow span
        tk = p.tasks[tid]
        assert tk.created is not None
        j = int(np.searchsorted(over.start, tk.created, side="right")) - 1
        stop = now if tk.ended is None else tk.ended
        assert j >= 0 and over.stop[j] >= max(stop, tk.created) - 1e-9


@pytest.mark.parametrize("seed,max_rows", [(1, 3), (2, 12), (3, 40)])
def test_incremental_rows_stay_consistent_and_tasks_never_move(seed: int, max_rows: int) -> None:
    p = Profile()
    stream = Stream(seed)
    cache = TaskLanes()
    where: dict[int, tuple[int, int]] = {}
    packer = None
    for _ in range(150):
        stream.step(p)
        packer = cache.get(p, None, max_rows, stream.now)
        check(packer, p, stream.now)
        # (d) tasks never move between refreshes (same row, same slot in it)
        assert all(packer.where[tid] == pos for tid, pos in where.items())
        where = dict(packer.where)
    assert packer is not None and packer is cache.packer
    assert len(packer.rows) == min(max_rows, len(packer.rows)) and packer.rows
    if max_rows == 3:
        assert packer.hidden > 0  # the overflow path was exercised
    assert packer.seen == len(p.task_log)


def test_a_refresh_reads_only_the_new_log_entries() -> None:
    """The live path extends the same packer; unchanged input changes nothing."""
    p = Profile()
    stream = Stream(7)
    cache = TaskLanes()
    for _ in range(20):
        stream.step(p)
    first = cache.get(p, None, 12, stream.now)
    snapshot = {tid: pos for tid, pos in first.where.items()}
    assert cache.get(p, None, 12, stream.now) is first and first.where == snapshot
    stream.step(p)
    assert cache.get(p, None, 12, stream.now) is first  # extended, not rebuilt
    assert cache.get(p, None, 5, stream.now) is not first  # fewer rows fit: packed again


def test_finish_before_creation_is_drawn_once_created() -> None:
    p = Profile()
    send(p, wire.TASKS_FINISHED, [{"id": 5, "t": 1.0, "state": "done"}])
    cache = TaskLanes()
    packer = cache.get(p, None, 4, 1.0)
    assert not packer.rows and packer.hidden == 0 and 5 in packer.skipped
    send(p, wire.TASKS_CREATED, [{"id": 5, "t": 0.5, "name": "late"}])
    packer = cache.get(p, None, 4, 2.0)
    assert packer.rows and packer.rows[0].ids == [5]
    check(packer, p, 2.0)


def test_hand_built_tasks_without_a_log_are_packed_from_scratch() -> None:
    """Importers and tests fill profile.tasks without task_log: the packer must not miss them."""
    p = Profile()
    p.tasks[1] = TaskInfo(1, None, "a", "a()", created=0.0, ended=1.0, state="done")
    p.tasks[2] = TaskInfo(2, None, "b", "b()", created=0.5)
    cache = TaskLanes()
    packer = cache.get(p, None, 4, 2.0)
    check(packer, p, 2.0)
    assert [r.ids for r in packer.rows] == [[1], [2]]
    p.tasks[3] = TaskInfo(3, None, "c", "c()", created=1.5, ended=1.8, state="failed")
    packer = cache.get(p, None, 4, 2.0)
    check(packer, p, 2.0)
    assert [r.ids for r in packer.rows] == [[1, 3], [2]]


def _box_of(packer: object, tid: int) -> tuple[object, int]:
    """(row, index) of a task's box (rows at a playhead keep no `where` of their own)."""
    for r in packer.rows:  # type: ignore[attr-defined]
        ids = list(r.ids)
        if tid in ids:
            return r, ids.index(tid)
    raise KeyError(tid)


def test_replay_shows_tasks_as_of_the_playhead_and_is_cached() -> None:
    p = Profile()
    send(p, wire.TASKS_CREATED, [{"id": 1, "t": 0.0}, {"id": 2, "t": 1.0}, {"id": 3, "t": 3.0}])
    send(p, wire.TASKS_FINISHED, [{"id": 1, "t": 2.0, "state": "cancelled"}])
    cache = TaskLanes()
    at = cache.get(p, 1.5, 4, 1.5)
    assert sorted(tid for r in at.rows for tid in r.ids) == [1, 2]  # task 3 not created yet
    r, i = _box_of(at, 1)
    assert r.color[i] == T_PENDING and r.x[i] + r.w[i] == pytest.approx(1.5)  # ends after t1
    assert cache.get(p, 1.5, 4, 1.5) is at  # same picture: nothing redone
    later = cache.get(p, 2.5, 4, 2.5)
    assert later is not at
    r, i = _box_of(later, 1)
    assert r.color[i] == TASK_COLOR["cancelled"] and r.x[i] + r.w[i] == pytest.approx(2.0)


def test_a_row_is_free_again_once_its_last_task_ended() -> None:
    """One task after another, each in its own refresh, share the first row; a pending one keeps it busy."""
    p = Profile()
    cache = TaskLanes()
    for k in range(5):
        send(p, wire.TASKS_CREATED, [{"id": k, "t": float(k)}])
        cache.get(p, None, 4, k + 0.5)
        send(p, wire.TASKS_FINISHED, [{"id": k, "t": k + 0.9, "state": "done"}])
        if k % 2:  # else the finish is read in the same refresh as the next creation
            cache.get(p, None, 4, k + 0.95)
    send(p, wire.TASKS_CREATED, [{"id": 10, "t": 5.0}])  # never finishes
    send(p, wire.TASKS_CREATED, [{"id": 11, "t": 6.0}])
    packer = cache.get(p, None, 4, 7.0)
    assert [r.ids for r in packer.rows] == [[0, 1, 2, 3, 4, 10], [11]]
    check(packer, p, 7.0)


def test_a_full_set_of_rows_takes_a_task_again_when_one_frees() -> None:
    p = Profile()
    cache = TaskLanes()
    send(p, wire.TASKS_CREATED, [{"id": 1, "t": 0.0}, {"id": 2, "t": 0.1}, {"id": 3, "t": 0.5}])
    packer = cache.get(p, None, 2, 0.6)
    assert [r.ids for r in packer.rows] == [[1], [2]] and packer.hidden == 1
    send(p, wire.TASKS_FINISHED, [{"id": 2, "t": 1.0, "state": "done"}])
    send(p, wire.TASKS_CREATED, [{"id": 4, "t": 0.8}, {"id": 5, "t": 1.2}])
    packer = cache.get(p, None, 2, 1.5)
    assert [r.ids for r in packer.rows] == [[1], [2, 5]] and packer.hidden == 2
    check(packer, p, 1.5)
