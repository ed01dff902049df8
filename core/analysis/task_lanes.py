"""Task rows of the timeline, packed incrementally from `Profile.task_log`.

Re-packing every task on each live refresh cost ~3 ms per 1,000 tasks, so a
demo left running for minutes stalled the GUI. A `TaskPacker` keeps each
placed task's row and, per row, the end of its last task; an update reads only
the log entries it has not seen: new tasks go (in (created, id) order) into
the first row that is free at their start, ended tasks get their stop and
state. Placed tasks never move, so rows do not reshuffle while watching.
Tasks that fit in no row are kept as intervals for the grey overflow row.

A full rebuild (the detail of a huge recording arriving) packs every task:
~2 us each, 0.3 s for a day's 150k. Given an `on_ready` callback, TaskLanes
does those of more than BACKGROUND_TASKS tasks on a worker thread (from a
snapshot of the tasks dict) and answers with the rows it has meanwhile;
`packing` says the answer is not the one asked for yet. A replay playhead
packs nothing: its rows are the session's packing cut at it (task_rows_at).

Pure numpy/Python (no Qt) so it can be tested on its own.
"""

from __future__ import annotations

import gc
import math
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from pyrometer.core.analysis.lane_palette import T_DONE, TASK_COLOR
from pyrometer.core.analysis.task_states import RowCuts
from pyrometer.core.columns import ColumnTable
from pyrometer.core.model import Profile, TaskInfo

if TYPE_CHECKING:
    from pyrometer.core.analysis.task_rows_at import PackingAt, SessionRows

MIN_W = 1e-9  # a zero-length task still gets a box
BACKGROUND_TASKS = 20_000  # a rebuild of more tasks than this (> ~40 ms) runs on a worker when TaskLanes may
BUSY = math.inf  # a row whose last task is pending


class TaskRow:
    """One row's boxes: start, width and colour columns plus the task ids, in placement order."""

    def __init__(self) -> None:
        self.boxes = ColumnTable({"x": np.float64, "w": np.float64, "color": np.int32}, capacity=16)
        self.ids: list[int] = []
        self.names: list[str] = []
        self.ends: list[float] = []  # each task's own end (BUSY while pending): rows_at tells which ended by a playhead
        self.end = 0.0  # end of the last task placed here (BUSY while it is pending)
        self._queued: tuple[list[float], list[float], list[int]] = ([], [], [])  # added, not yet in `boxes`

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, x: float, w: float, color: int) -> None:
        """Queue one box (moved into the columns in one batch when they are next read)."""
        qx, qw, qc = self._queued
        qx.append(x)
        qw.append(w)
        qc.append(color)

    def _flushed(self) -> ColumnTable:
        qx, qw, qc = self._queued
        if qx:
            self.boxes.extend(x=np.asarray(qx, np.float64), w=np.asarray(qw, np.float64), color=np.asarray(qc, np.int32))
            self._queued = ([], [], [])
        return self.boxes

    @property
    def x(self) -> np.ndarray:
        return self._flushed()["x"]

    @property
    def w(self) -> np.ndarray:
        return self._flushed()["w"]

    @property
    def color(self) -> np.ndarray:
        return self._flushed()["color"]


@dataclass
class Overflow:
    """Merged lifespans of the tasks that did not fit, with how many tasks each covers."""

    start: np.ndarray
    stop: np.ndarray
    count: np.ndarray


class TaskPacker:
    """Task rows for one profile, extended from `profile.task_log` on each `update`.

    With `t1` set (replay) the packer shows the tasks as they were at t1; it is
    then built once per (log length, t1) by the caller and not extended.
    """

    def __init__(self, max_rows: int, t1: float | None = None) -> None:
        self.max_rows = max_rows
        self.t1 = t1
        self.rows: list[TaskRow] = []
        self.where: dict[int, tuple[int, int]] = {}  # task id -> (row, index) ; row -1: overflow
        self.pending: dict[int, tuple[int, int]] = {}  # placed tasks still running (bars grow to now)
        self.skipped: set[int] = set()  # known tasks without a creation time (not drawn)
        # tasks that fit in no row: start and stop (BUSY while pending); plain lists: a day's 150k tasks
        # appended one by one cost 1.6 s as one-row ColumnTable appends
        self._hidden_start: list[float] = []
        self._hidden_stop: list[float] = []
        self._hidden_ended: list[float] = []  # each hidden task's own end (BUSY while pending), for rows_at
        # the same as arrays, extended as the lists grow (converting a day's 10^5 of them took ~95 ms a
        # refresh), and the stops set since (a hidden task that ended)
        self._start_arr = np.zeros(0)
        self._stop_arr = np.zeros(0)
        self._stops_changed: list[int] = []
        self.seen = 0  # task_log entries consumed
        self.tasks: dict[int, TaskInfo] | None = None  # the dict we follow (shared by transform views)
        self.now = 0.0
        self._min_end = -BUSY  # earliest row end once all rows exist: a task starting before it fits in no row
        self.session: SessionRows | None = None  # these rows as task_rows_at reads them, made by a worker that packed them
        # packed by one rebuild and not updated since with new log entries: the rows a fresh rebuild would pack,
        # which rows_at cuts at any playhead (an update that reads new entries places them as they come instead)
        self.one_pass = False

    # ------------------------------------------------------------------ feeding
    def covers(self, profile: Profile) -> bool:
        """Whether `update` can extend this packer to `profile` (else build a new one)."""
        tasks: dict[int, TaskInfo] = profile.tasks
        known = len(self.where) + len(self.skipped)
        return self.tasks is tasks and self.seen <= len(profile.task_log) and known <= len(tasks)

    def update(self, profile: Profile, now: float) -> bool:
        """Consume the unseen log entries; False when the tasks dict holds tasks the log never named.

        (Profiles built by hand or by importers fill `tasks` without a log; the caller
        then packs from scratch with `rebuild`.)
        """
        if self.tasks is None:
            self.tasks = profile.tasks
        log = profile.task_log
        fresh = log[self.seen :]
        self.seen = len(log)
        if fresh:
            self.one_pass = False
        self._apply(profile.tasks, fresh, now)
        return len(self.where) + len(self.skipped) == len(profile.tasks)

    def rebuild(self, profile: Profile, now: float) -> None:
        """Pack every task of `profile` (empty packer), then follow its log from its current end."""
        self.rebuild_from(profile.tasks, profile.tasks, len(profile.task_log), now)

    def rebuild_from(self, tasks: dict[int, TaskInfo], snapshot: dict[int, TaskInfo], seen: int, now: float) -> None:
        """`rebuild` from a copy of the tasks dict taken when the log was `seen` entries long (on a worker
        thread: a live session may add tasks meanwhile; `update` then takes the log on from `seen`)."""
        self.tasks = tasks
        self.seen = seen
        self.one_pass = not self.where and not self.skipped
        self._apply(snapshot, snapshot.keys(), now)

    def _apply(self, tasks: dict[int, TaskInfo], ids: Iterable[int], now: float) -> None:
        self.now = now
        new: dict[int, TaskInfo] = {}
        ended: set[int] = set()
        t1 = self.t1
        for tid in ids:
            if tid in self.where:
                if tid in self.pending:
                    ended.add(tid)
                continue
            tk = tasks.get(tid)
            if tk is None:
                continue
            if tk.created is None:
                self.skipped.add(tid)
            elif t1 is None or tk.created <= t1:
                self.skipped.discard(tid)
                new[tid] = tk
        for tid in ended:  # first: a row freed by a finish can take a new task
            self._finish(tid, tasks[tid])
        for tk in sorted(new.values(), key=lambda tk: (tk.created or 0.0, tk.id)):
            self._place(tk)
        self._grow_pending(now)

    def _ended(self, tk: TaskInfo) -> tuple[bool, float, str]:
        """(ended by t1, stop if so, state as of t1)."""
        ended = tk.ended is not None and (self.t1 is None or tk.ended <= self.t1)
        if not ended or tk.ended is None:
            return False, BUSY, "pending"
        state = "done" if tk.state == "pending" else tk.state
        return True, float(tk.ended), state

    def _place(self, tk: TaskInfo) -> None:
        start = float(tk.created or 0.0)
        ended, stop, state = self._ended(tk)
        end = max(stop, start + MIN_W)
        slot = -1
        if start >= self._min_end:  # else every row is busy (skips the scan when most tasks overflow)
            slot = next((i for i, r in enumerate(self.rows) if r.end <= start), -1)
        if slot < 0 and len(self.rows) < self.max_rows:
            self.rows.append(TaskRow())
            slot = len(self.rows) - 1
        if slot < 0:
            i = len(self._hidden_start)
            self._hidden_start.append(start)
            self._hidden_stop.append(end)
            self._hidden_ended.append(stop)
            self.where[tk.id] = (-1, i)
        else:
            row = self.rows[slot]
            i = len(row)
            row.add(start, end - start if ended else MIN_W, TASK_COLOR.get(state, T_DONE))
            row.ids.append(tk.id)
            row.names.append(tk.name)
            row.ends.append(stop)
            old, row.end = row.end, end
            self.where[tk.id] = (slot, i)
            if len(self.rows) == self.max_rows and (old <= self._min_end or self._min_end == -BUSY):
                # the rows just filled up, or the earliest end moved up
                self._min_end = min(r.end for r in self.rows)
        if not ended:
            self.pending[tk.id] = self.where[tk.id]

    def _finish(self, tid: int, tk: TaskInfo) -> None:
        ended, stop, state = self._ended(tk)
        if not ended:
            return
        slot, i = self.pending.pop(tid)
        if slot < 0:
            self._hidden_stop[i] = max(stop, self._hidden_start[i] + MIN_W)
            self._hidden_ended[i] = stop
            self._stops_changed.append(i)
            return
        row = self.rows[slot]
        row.ends[i] = stop
        start = float(row.x[i])
        end = max(stop, start + MIN_W)
        row.w[i] = end - start
        row.color[i] = TASK_COLOR.get(state, T_DONE)
        if i == len(row) - 1:
            row.end = end
            if len(self.rows) == self.max_rows:
                self._min_end = min(self._min_end, end)

    def _grow_pending(self, now: float) -> None:
        """Pending bars reach `now` (or t1): only they are rewritten, not every box."""
        for slot, i in self.pending.values():
            if slot >= 0:
                row = self.rows[slot]
                row.w[i] = max(now - row.x[i], MIN_W)

    # ------------------------------------------------------------------ reading
    @property
    def hidden(self) -> int:
        return len(self._hidden_start)

    def overflow(self) -> Overflow:
        """Union of the hidden tasks' lifespans (pending ones up to now), with a count per span."""
        n = len(self._hidden_start)
        if n == 0:
            z = np.zeros(0)
            return Overflow(z, z, np.zeros(0, np.int64))
        start, hid_stop = self._hidden_arrays()
        stop = np.where(np.isinf(hid_stop), np.maximum(self.now, start + MIN_W), hid_stop)
        order = np.argsort(start, kind="stable")
        a, b = start[order], stop[order]
        reach = np.maximum.accumulate(b)
        first = np.ones(n, bool)
        first[1:] = a[1:] > reach[:-1]
        heads = np.flatnonzero(first)
        ends = np.append(heads[1:], n) - 1
        return Overflow(a[heads], reach[ends], np.diff(np.append(heads, n)))

    def _hidden_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(start, stop) of the hidden tasks as arrays, brought up to date with the lists."""
        have, n = len(self._start_arr), len(self._hidden_start)
        if have < n:
            self._start_arr = np.concatenate((self._start_arr, np.asarray(self._hidden_start[have:], np.float64)))
            self._stop_arr = np.concatenate((self._stop_arr, np.asarray(self._hidden_stop[have:], np.float64)))
        if self._stops_changed:
            changed = [i for i in self._stops_changed if i < have]  # rows appended since were copied whole
            if changed:
                self._stop_arr[changed] = [self._hidden_stop[i] for i in changed]
            self._stops_changed = []
        return self._start_arr, self._stop_arr

    def task_of(self, slot: int, index: int) -> int:
        return self.rows[slot].ids[index]


class TaskLanes:
    """The pane's packer: extended while live; at a replay playhead, the session's packing cut at it.

    The rows at a playhead t1 are the rows of the session's packing cut at t1 (task_rows_at), so a
    moved playhead packs nothing. Only where the tasks grew since the last call (a live session
    replayed while it records) are they packed again up to t1, as before: the session's packing
    would be stale at every refresh, and packing it again costs more than packing up to t1.
    """

    def __init__(self, on_ready: Callable[[], None] | None = None) -> None:
        self.packer: TaskPacker | None = None
        # given: rebuilds of > BACKGROUND_TASKS tasks run on a worker, which calls this (from its thread) when done
        self.on_ready = on_ready
        self.packing = False  # the last `get` answered with other rows than it was asked for (a rebuild is running)
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._built: tuple[tuple[object, ...], TaskPacker] | None = None  # a worker's result, not yet taken
        self._failed: tuple[object, ...] | None = None  # what a worker could not pack
        self._key: tuple[int, int, float | None, int] | None = None
        self.spans_key: tuple[int, int, int] | None = None  # (id of the spans table, its cuts, rows) the sorted spans below are of
        self.spans: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None  # task_states.spans_by_task
        self.blocking: tuple[Any, ...] | None = None  # lanes._blocking_lane's last answer, with its key
        self._ids: dict[int, tuple[list[int], np.ndarray]] = {}  # id of a row's ids list -> (it, as an array)
        self.cuts = RowCuts()  # each row's pieces so far (a live refresh cuts only new boxes)
        self._sizes: tuple[int, int, int] | None = None  # (id, length) of the tasks dict and the log's length at the last get
        self._session: SessionRows | None = None  # the session's packing as columns (of `packer`, when it is one pass)
        self._at: PackingAt | None = None  # the rows cut at the last playhead

    def ids_array(self, ids: list[int]) -> np.ndarray:
        """A packer row's task ids as an array, extended with what was appended since the last refresh
        (rows only grow while live; converting every row's thousands of ids took ~35 ms a refresh)."""
        hit = self._ids.get(id(ids))
        if hit is not None and hit[0] is ids and len(hit[1]) <= len(ids):
            arr = hit[1]
            if len(arr) < len(ids):
                arr = np.concatenate((arr, np.asarray(ids[len(arr) :], np.int64)))
        else:
            arr = np.asarray(ids, np.int64)
        self._ids[id(ids)] = (ids, arr)
        return arr

    def get(self, profile: Profile, t1: float | None, max_rows: int, now: float) -> TaskPacker | PackingAt:
        """The packed rows for `profile` as of t1 (None: live, up to `now`)."""
        sizes = (id(profile.tasks), len(profile.tasks), len(profile.task_log))
        was, self._sizes = self._sizes, sizes
        if t1 is not None and not (was is not None and was[0] == sizes[0] and was != sizes):
            return self._cut_at(profile, t1, max_rows, now)
        p = self.packer
        key = (len(profile.task_log), len(profile.tasks), t1, max_rows)
        if p is not None and p.max_rows == max_rows and p.t1 == t1 and p.tasks is profile.tasks:
            if t1 is None and p.covers(profile) and p.update(profile, now):
                self._key = key
                return p
            if t1 is not None and key == self._key:
                return p  # replay at the same playhead over the same tasks: nothing to do
        if self.on_ready is not None and len(profile.tasks) > BACKGROUND_TASKS and self._failed != (id(profile.tasks), key):
            return self._in_background(profile, t1, max_rows, now, key)
        self.packing = False
        p = TaskPacker(max_rows, t1)
        p.rebuild(profile, now if t1 is None else t1)
        self._adopt(p, key)
        return p

    def _cut_at(self, profile: Profile, t1: float, max_rows: int, now: float) -> TaskPacker | PackingAt:
        """The session's rows cut at t1; while a worker still packs the session, the last rows cut (or none)."""
        from pyrometer.core.analysis.task_rows_at import SessionRows

        whole = self._whole(profile, max_rows, now)
        at = self._at
        if whole is None:
            if at is not None and at.tasks is profile.tasks and at.max_rows == max_rows:
                return at
            return TaskPacker(max_rows, t1)
        if at is not None and at.session.packer is whole and at.t1 == t1:
            return at
        if self._session is None or self._session.packer is not whole:
            self._session = whole.session if whole.session is not None else SessionRows(whole)
            self._session.cuts = self.cuts  # the pieces its rows were drawn with (none played), reused
        self._at = at = self._session.at(t1)
        return at

    def _whole(self, profile: Profile, max_rows: int, now: float) -> TaskPacker | None:
        """A one-pass packing of every task of `profile` (None while a worker packs it)."""
        p = self.packer
        if (p is not None and p.t1 is None and p.one_pass and p.max_rows == max_rows and p.tasks is profile.tasks
                and p.seen == len(profile.task_log) and len(p.where) + len(p.skipped) == len(profile.tasks)):
            self.packing = False
            return p
        key = (len(profile.task_log), len(profile.tasks), None, max_rows)
        if self.on_ready is not None and len(profile.tasks) > BACKGROUND_TASKS and self._failed != (id(profile.tasks), key):
            got = self._in_background(profile, None, max_rows, now, key)
            return None if self.packing or not got.one_pass else got
        self.packing = False
        p = TaskPacker(max_rows, None)
        p.rebuild(profile, now)
        self._adopt(p, key)
        return p

    def _adopt(self, p: TaskPacker, key: tuple[int, int, float | None, int]) -> None:
        self.packer, self._key = p, key
        self._ids = {}  # the rows are new lists
        self.cuts = RowCuts()  # the new rows' cuts (a worker-built packer's too)

    def _in_background(
        self, profile: Profile, t1: float | None, max_rows: int, now: float, key: tuple[int, int, float | None, int]
    ) -> TaskPacker:
        """The packer asked for when a worker has built it; else start one (one at a time) and answer with
        the rows of the last packer of these tasks (an earlier playhead) or none."""
        want = (id(profile.tasks), key)
        with self._lock:
            built, self._built = self._built, None
            running = self._worker is not None
        if built is not None and built[1].tasks is profile.tasks:
            done = built[1]
            self._adopt(done, built[0][1])  # type: ignore[arg-type]
            live = t1 is None and done.t1 is None and done.max_rows == max_rows
            if built[0] == want or (live and done.covers(profile) and done.update(profile, now)):
                self._key = key  # (live: the tasks that came meanwhile are placed from the log, as on any refresh)
                self.packing = False
                return done
        if not running:
            snapshot = dict(profile.tasks)  # here, on the caller's thread: a live session may add tasks meanwhile
            worker = threading.Thread(
                target=self._build, args=(want, profile.tasks, snapshot, len(profile.task_log), max_rows, t1,
                                          now if t1 is None else t1),
                name="task-packer", daemon=True,
            )
            with self._lock:
                self._worker = worker
            worker.start()
        self.packing = True
        p = self.packer
        if p is not None and p.tasks is profile.tasks and p.max_rows == max_rows:
            return p
        return TaskPacker(max_rows, t1)

    def _build(self, want: tuple[object, ...], tasks: dict[int, TaskInfo], snapshot: dict[int, TaskInfo], seen: int,
               max_rows: int, t1: float | None, now: float) -> None:
        p = TaskPacker(max_rows, t1)
        collecting = gc.isenabled()
        gc.disable()  # its ~10^5 new tuples set off collections of every object, which stop the GUI thread too
        try:
            p.rebuild_from(tasks, snapshot, seen, now)
            if t1 is None:  # what a replay playhead cuts (a loaded recording's): made here, not in the first scrub
                from pyrometer.core.analysis.task_rows_at import SessionRows

                p.session = SessionRows(p)
        except Exception:  # packed again on the caller's thread, where the error is reported as any refresh's
            with self._lock:
                self._failed, self._worker = want, None
        else:
            with self._lock:
                self._built, self._worker = (want, p), None
        finally:
            if collecting:
                gc.enable()
        if self.on_ready is not None:
            try:
                self.on_ready()
            except RuntimeError:  # its receiver is gone (a window closed while this packed): nobody waits
                pass

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a running rebuild (tests, benchmarks); False if it is still running."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
        return self._worker is None
