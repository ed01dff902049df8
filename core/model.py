"""The profile model: interned functions, frames and stacks plus numpy event columns.

One `Profile` holds everything a session, a recording or an imported file
says. Frames and stacks are interned once (a stack is `(parent_stack, frame)`,
a prefix tree as in the Firefox Profiler); samples, lag probes and await
snapshots are columns. Analyses (pyrometer.core.analysis) are pure functions
over a Profile and an optional time range / thread filter.

Identity of a *function* is (name, file, firstline); a *frame* is a function at
a line. Call trees aggregate by function; the Source pane uses frame lines.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np

from pyrometer.core.columns import ColumnTable

SAMPLE_DTYPES = {
    "time": np.float64,  # seconds since session start
    "thread": np.int32,  # thread id (Profile.threads)
    "stack": np.int32,  # stack id
    "task": np.int32,  # asyncio task id running on that thread, -1 if none
    "weight": np.float32,  # what the sample stands for, in Profile.unit; float64 in some profiles (EXACT_WEIGHT)
    "cpu": np.float32,  # CPU seconds of that thread since its last sample, -1 unknown; float64 with the weight
}
LAG_DTYPES = {"time": np.float64, "loop": np.int32, "lag": np.float32}
AWAIT_DTYPES = {"time": np.float64, "task": np.int32, "stack": np.int32}
# Stretches of a task's life: `state` TASK_RUNNING (a step held the loop) or TASK_DELAYED
# (ready, but the loop was busy elsewhere), from `start` to `end` seconds. Any part of the
# task's life (TaskInfo.created..ended) no span covers it spent waiting (suspended); the
# agent leaves out stretches under 1 ms (their time is still in TaskInfo's totals).
TASK_SPAN_DTYPES = {"task": np.int32, "state": np.int8, "start": np.float64, "end": np.float64}
TASK_RUNNING = 0
TASK_DELAYED = 1

STACK_DTYPES = {"parent": np.int32, "frame": np.int32}  # prefix tree: parent id < id, -1 is the root

_FINISH_STEP = 1 << 22  # rows per step of finish()'s pass over the samples

UNIT_SECONDS = "seconds"
UNIT_SAMPLES = "samples"

# The weight and cpu columns are float32 (4 bytes each a sample: a day's recording holds 10^7-10^8 samples,
# whose weights, sampling intervals, lose nothing that matters in float32's 24-bit mantissa). A profile whose
# source states weights or CPU times float32 cannot hold exactly (a collapsed count or a pprof value above
# 2^24, a decimal of seconds) stores both as float64 instead: Profile.add_samples widens them the first time
# such a value comes. Both, so that comparing a sample's CPU with its weight (on CPU when it covers half of
# it) is done at one precision, as it always was.
EXACT_COLUMNS = ("weight", "cpu")
EXACT_WEIGHT = np.dtype(np.float64)


def fits_float32(values: np.ndarray | float) -> bool:
    """Whether every value survives float32 storage unchanged (NaN and values beyond float32 do not)."""
    v = np.asarray(values)
    if v.dtype == np.float32:
        return True
    v = v.astype(np.float64, copy=False)
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.array_equal(v.astype(np.float32), v))


@dataclass
class ThreadInfo:
    id: int
    name: str
    native_id: int | None = None


@dataclass
class LoopInfo:
    id: int
    thread: int
    description: str = ""


@dataclass(frozen=True)
class StallStep:
    """One loop step that ran during a stall, with its own share of it (agent 0.2.3+).

    `start` (session seconds) and `duration` are the step's, timed by the agent's step
    hook; `task` is the task it stepped (-1: a plain callback, or a task the agent did
    not record), `name` the task's name or the callback's text, `stack` one the agent
    took while the step ran (-1: none).
    """

    start: float
    duration: float
    task: int
    name: str
    stack: int = -1

    def label(self) -> str:
        """`name [task]`, as the views name a blocker."""
        return f"{self.name} [{self.task}]" if self.task >= 0 else self.name


@dataclass
class BlockingEvent:
    """The loop did not tick for `duration` seconds from `start`; `stack` was running.

    Blame (recordings from agent 0.2 on; None = unknown, as in older recordings):
    `task_name` names the blocking task `task`; `await_chain` is `(task id, name)`
    of the blocking task first, then the task awaiting it, and so on up to the
    root; `delayed` lists `(task id, name, seconds)` for each task that was due to
    run during the stall and how long it waited past its due time (a task
    sleeping through the stall is not in it), most delayed first;
    `delayed_unrecorded` counts the delayed tasks the agent did not record (task
    sampling, agent 0.2.2+; None = the recording does not say).

    `steps` (agent 0.2.3+; None = not measured: an older recording, or per-task
    accounting was off) are the longest loop steps that ran during the stall, longest
    first, each with its own seconds: one iteration may run several blockers (two
    handlers of 0.3 s each), and `task`/`stack` then name the longest of them.
    """

    start: float
    duration: float
    loop: int
    thread: int
    stack: int
    task: int = -1
    callback: str = ""
    task_name: str | None = None
    await_chain: list[tuple[int, str]] | None = None
    delayed: list[tuple[int, str, float]] | None = None
    delayed_unrecorded: int | None = None
    steps: list[StallStep] | None = None


@dataclass(slots=True)  # a day of a service holds ~10^5-10^6 tasks: no per-instance __dict__
class TaskInfo:
    """One asyncio task: identity, lifetime and (when the agent measured them) its costs.

    The four seconds figures split the task's life (`ended - created`):
    `running_s` is wall time its steps held the loop, `waiting_s` time it was
    suspended awaiting something, `delayed_s` time it was ready to run but the
    loop was busy elsewhere; `cpu_s` is the CPU its steps used (<= running_s,
    give or take clock granularity). None means unknown (an older recording, a
    task still pending, or an agent that did not measure it), never 0.
    """

    id: int
    parent: int | None
    name: str
    coro: str
    loop: int = -1
    created: float | None = None
    ended: float | None = None
    state: str = "pending"  # pending | done | cancelled | failed
    exc: str | None = None
    cpu_s: float | None = None
    running_s: float | None = None
    waiting_s: float | None = None
    delayed_s: float | None = None
    parent_unrecorded: bool = False  # its parent was a task the agent's task sampling left unrecorded


@dataclass
class TaskSampling:
    """What the agent's task sampling left out on one loop, whole run so far (agent 0.2.2+).

    While a loop created tasks faster than the agent can record each cheaply, only
    1 in `every` new tasks was recorded in full; the others were counted exactly by
    coroutine (`unrecorded`). `recorded` is how many of the loop's tasks the agent
    recorded in full (the tasks in `Profile.tasks`, unless task events were lost),
    so `recorded + sum(unrecorded)` is every task the loop made. `periods` are
    [start, end (None: still sampling), every, tasks/s that started it] in session time.
    """

    loop: int
    t: float
    every: int
    recorded: int
    unrecorded: dict[str, int]
    periods: list[tuple[float, float | None, int, float]]

    @property
    def unrecorded_total(self) -> int:
        return sum(self.unrecorded.values())


@dataclass
class FuncStats:
    """Deterministic per-function statistics (yappi, cProfile, callgrind).

    Arrays are indexed by row; `func` maps each row to a function id of the
    profile. Edges say caller -> callee with the cost of that call path.
    """

    clock: str
    func: np.ndarray  # int32 function ids
    calls: np.ndarray  # int64 total calls
    prim_calls: np.ndarray  # int64 primitive (non-recursive) calls
    self_time: np.ndarray  # float64 seconds (or the source's cost unit)
    total_time: np.ndarray  # float64
    edge_caller: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    edge_callee: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    edge_calls: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    edge_self: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    edge_total: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    time: float = 0.0


class SampleSums(Protocol):
    """The samples of a profile whose rows are not read yet, as sums (a recording's index).

    A window shows a huge recording's first frame from these while its columns
    load (`Profile.summed`); they answer whole-session questions only.
    """

    def stack_sums(self, threads: frozenset[int] | None) -> tuple[np.ndarray, np.ndarray]:
        """(weight, count) per stack id + 1 over the whole session, as analysis.aggregate.stack_sums."""

    def count(self, threads: frozenset[int] | None = None) -> int:
        """How many samples (of these threads)."""

    def duration(self) -> float:
        """Profile.duration() of the profile once its samples are read."""

    def lag_count(self) -> int:
        """How many lag probes the profile has once read."""

    @property
    def overview(self) -> bool:
        """Whether the timeline's per-pixel summaries (lod.ActivityIndex, lod.LagIndex) came with the sums."""


class DetailPending(Exception):
    """An analysis needs sample rows that are not read yet (only `Profile.summed` is known)."""


T = TypeVar("T")
# tables and lists a derived view shares with its source until its maker replaces one
_SHARED_EVENTS = ("samples", "lag", "awaits", "threads", "loops", "blocking", "tasks", "task_log", "task_spans", "telemetry", "notices", "output", "task_awaiters", "task_sampling")


def unchanged(value: T) -> T:
    """The `update` of a cache entry that keeps itself current (it checks what it has seen)."""
    return value


class AnalysisCache:
    """What analyses derived from one profile (node tables, running sums, derived views).

    The one cache of the code base: it lives on the profile it describes, so it
    goes away with it, and every entry is keyed on the profile's generation.
    An entry is made once and brought up to date (`update`) when the
    generation moved since it was last read, so live growth costs only what
    arrived; without an `update` it is made again. Entries that depend on the sample rows' order (`rows=True`) are
    dropped when the rows are rewritten (sorted or replaced), not when rows are
    only appended.
    """

    def __init__(self) -> None:
        self._entries: dict[Hashable, tuple[int, Any, bool]] = {}

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def peek(self, key: Hashable) -> Any:
        """What is kept under `key` (of any generation; the caller checks it still holds), or None: for results
        worth using when already made and not worth making for one question (a replay's lag prefix)."""
        hit = self._entries.get(key)
        return None if hit is None else hit[1]

    def get(
        self,
        key: Hashable,
        generation: int,
        make: Callable[[], T],
        update: Callable[[T], T] | None = None,
        rows: bool = False,
    ) -> T:
        hit = self._entries.get(key)
        if hit is None:
            value = make()
        elif hit[0] != generation:
            value = make() if update is None else update(hit[1])
        else:
            return hit[1]  # type: ignore[no-any-return]
        self._entries[key] = (generation, value, rows)
        return value

    def drop_row_entries(self) -> None:
        """The sample rows were rewritten: forget what was computed from their positions."""
        self._entries = {k: v for k, v in self._entries.items() if not v[2]}


class Profile:
    """Everything known about one profiled run, append-only while live."""

    def __init__(self, unit: str = UNIT_SECONDS, source_format: str = "pyro") -> None:
        self.unit = unit
        self.source_format = source_format
        self.meta: dict[str, Any] = {}
        # functions
        self.func_name: list[str] = []
        self.func_file: list[str] = []
        self.func_line: list[int] = []
        self._func_index: dict[tuple[str, str, int], int] = {}
        # frames: function at a line
        self.frames = ColumnTable({"func": np.int32, "line": np.int32}, capacity=256)
        self._frame_index: dict[tuple[int, int], int] = {}
        # stacks: prefix tree of frames; parent id < id
        self.stacks = ColumnTable(STACK_DTYPES, capacity=1024)
        self._stack_index: dict[tuple[int, int], int] | None = {}
        self._stack_depth = np.zeros(0, np.int32)
        # events
        self.samples = ColumnTable(SAMPLE_DTYPES, capacity=4096)
        self.lag = ColumnTable(LAG_DTYPES, capacity=1024)
        self.awaits = ColumnTable(AWAIT_DTYPES, capacity=256)
        self.task_spans = ColumnTable(TASK_SPAN_DTYPES, capacity=256)  # see TASK_SPAN_DTYPES
        self.threads: dict[int, ThreadInfo] = {}
        self.loops: dict[int, LoopInfo] = {}
        self.blocking: list[BlockingEvent] = []
        self.tasks: dict[int, TaskInfo] = {}
        # (time, task, awaiter): a task the agent saw awaited by several tasks, each pair once
        self.task_awaiters: list[tuple[float, int, int]] = []
        # loop id -> what task sampling left unrecorded on it (the latest cumulative counts)
        self.task_sampling: dict[int, TaskSampling] = {}
        # ids of tasks as they are created or finish, in arrival order (a task may appear
        # twice): views that follow a live profile read it from where they stopped
        self.task_log: list[int] = []
        self.func_stats: FuncStats | None = None
        self.telemetry: dict[str, Any] = {}
        self.notices: list[dict[str, Any]] = []
        self.output: list[tuple[float, str, str]] = []
        self.end: dict[str, Any] | None = None
        self._samples_sorted = True
        # the sample table whose threads note_sample_threads has seen, and up to which row
        self._threads_seen: tuple[weakref.ref[ColumnTable] | None, int, int] = (None, 0, 0)  # table, its cuts, rows
        # duration()'s running maxima: (sample table, its cuts, rows seen, max of time + weight), (blocking list, events seen, max end)
        self._span_end_seen: tuple[weakref.ref[ColumnTable] | None, int, int, float] = (None, 0, 0, -np.inf)
        self._blocking_end_seen: tuple[int, int, float] = (0, 0, 0.0)
        self.generation = 0  # bumped on every change; caches key on it
        self.cache = AnalysisCache()
        self._source: Profile | None = None  # what a derived view was derived from
        self._follows_func_stats = False
        # the samples' sums while their rows are still being read (a huge recording opening: its index);
        # None once the rows are here (or for every profile that never had an index)
        self.summed: SampleSums | None = None

    # ---------------------------------------------------------------- deriving
    def derive(self, *, own_functions: bool = False, own_stacks: bool = False, func_stats: bool = True) -> Profile:
        """A view of this profile that shares every table it does not replace.

        The one way to make a filtered or transformed profile (on-CPU only,
        Transforms): the view starts with this profile's samples and tables,
        then its maker swaps in what differs with `set_samples`,
        `set_blocking` and `set_awaits`. `own_functions` gives it copies of
        the function and frame tables so it may intern more functions without
        touching this profile; `own_stacks` an empty stack table of its own;
        `func_stats=False` leaves out the exact call statistics (they describe
        all of the run, not a filtered part). Shared lists and tables keep
        following this profile while it grows.
        """
        view = Profile(unit=self.unit, source_format=self.source_format)
        if own_functions:
            view.func_name, view.func_file, view.func_line = list(self.func_name), list(self.func_file), list(self.func_line)
            view._func_index = dict(self._func_index)
            view.frames.extend(func=self.frames["func"], line=self.frames["line"])
            view._frame_index = dict(self._frame_index)
        else:
            view.func_name, view.func_file, view.func_line = self.func_name, self.func_file, self.func_line
            view._func_index = self._func_index
            view.frames = self.frames
            view._frame_index = self._frame_index
        if not own_stacks:
            view.stacks = self.stacks
            view._stack_index = None  # a view never interns stacks by hand; rebuilt lazily if it does
        for name in _SHARED_EVENTS:
            setattr(view, name, getattr(self, name))
        view._samples_sorted = self._samples_sorted
        view._source = self
        view._follows_func_stats = func_stats
        view._follow_source()
        return view

    def _follow_source(self) -> None:
        """Take again what the source replaces rather than appends to while live (the end, call statistics)."""
        src = self._source
        if src is None:
            return
        self.unit, self.source_format, self.meta, self.end = src.unit, src.source_format, src.meta, src.end
        self.func_stats = src.func_stats if self._follows_func_stats else None

    def set_samples(self, samples: ColumnTable, time_sorted: bool) -> None:
        """Replace the sample table (a derived view following its source, which it re-reads too)."""
        self.samples = samples
        self._samples_sorted = time_sorted
        self._follow_source()
        self.cache.drop_row_entries()
        self.generation += 1

    def set_blocking(self, blocking: list[BlockingEvent]) -> None:
        """Replace the blocking events (a transformed view: their stacks mapped into its own)."""
        self.blocking = blocking
        self.generation += 1

    def set_awaits(self, awaits: ColumnTable) -> None:
        """Replace the await snapshots (a transformed view: their stacks mapped into its own)."""
        self.awaits = awaits
        self.generation += 1

    def cached(self, key: Hashable, make: Callable[[], T], update: Callable[[T], T] | None = None, rows: bool = False) -> T:
        """An analysis result kept on this profile; see `AnalysisCache.get`."""
        return self.cache.get(key, self.generation, make, update, rows)

    # ---------------------------------------------------------------- interning
    def intern_function(self, name: str, file: str, firstline: int = 0) -> int:
        key = (name, file, int(firstline))
        fid = self._func_index.get(key)
        if fid is None:
            fid = len(self.func_name)
            self._func_index[key] = fid
            self.func_name.append(name)
            self.func_file.append(file)
            self.func_line.append(int(firstline))
            self.generation += 1
        return fid

    def intern_frame(self, name: str, file: str, line: int = 0, firstline: int | None = None) -> int:
        """Intern a frame; `line` is the executing line, `firstline` the def line."""
        func = self.intern_function(name, file, line if firstline is None else firstline)
        key = (func, int(line))
        fr = self._frame_index.get(key)
        if fr is None:
            fr = len(self.frames)
            self._frame_index[key] = fr
            self.frames.append(func=func, line=int(line))
            self.generation += 1
        return fr

    def add_frame_definition(self, frame_id: int, file: str, line: int, name: str, firstline: int) -> None:
        """Apply one FRAMES row from the stream (ids are dense and in order)."""
        self.add_frame_definitions([(frame_id, file, line, name, firstline)])

    def add_frame_definitions(self, rows: list[tuple[int, str, int, str, int]]) -> None:
        """Apply a FRAMES batch `[id, file, line, function, firstline]` in one column append."""
        first = len(self.frames)
        funcs: list[int] = []
        lines: list[int] = []
        for offset, (frame_id, file, line, name, firstline) in enumerate(rows):
            if int(frame_id) != first + offset:
                raise ValueError(f"frame id {frame_id} out of order (expected {first + offset})")
            func = self.intern_function(str(name), str(file), int(firstline))
            self._frame_index.setdefault((func, int(line)), first + offset)
            funcs.append(func)
            lines.append(int(line))
        self.frames.extend(func=np.asarray(funcs, np.int32), line=np.asarray(lines, np.int32))
        self.generation += 1

    def _stack_lookup(self) -> dict[tuple[int, int], int]:
        if self._stack_index is None:
            parents = self.stacks["parent"].tolist()
            frames = self.stacks["frame"].tolist()
            self._stack_index = {(p, f): i for i, (p, f) in enumerate(zip(parents, frames, strict=True))}
        return self._stack_index

    def intern_stack(self, parent: int, frame: int) -> int:
        """Intern a (parent stack, frame) pair; parent -1 is the root."""
        index = self._stack_lookup()
        key = (int(parent), int(frame))
        sid = index.get(key)
        if sid is None:
            sid = len(self.stacks)
            index[key] = sid
            self.stacks.append(parent=key[0], frame=key[1])
            self.generation += 1
        return sid

    def intern_stack_path(self, frames: list[int] | tuple[int, ...]) -> int:
        """Intern a whole stack given root-first frame ids; returns -1 for an empty stack."""
        sid = -1
        for fr in frames:
            sid = self.intern_stack(sid, fr)
        return sid

    def add_stack_definitions(self, first_id: int, parents: np.ndarray, frames: np.ndarray) -> None:
        """Apply a STACKS batch from the stream."""
        if first_id != len(self.stacks):
            raise ValueError(f"stack id {first_id} out of order (expected {len(self.stacks)})")
        n = len(parents)
        if n and (int(parents.max(initial=-1)) >= first_id + n or bool(np.any(parents >= np.arange(first_id, first_id + n)))):
            raise ValueError("stack parent must be defined before its child")
        if n and (int(frames.min()) < 0 or int(frames.max()) >= len(self.frames)):
            raise ValueError("stack refers to an undefined frame")
        self.stacks.extend(parent=parents, frame=frames)
        self._stack_index = None  # rebuilt lazily only if someone interns by hand
        self.generation += 1

    # ---------------------------------------------------------------- events
    def add_samples(
        self,
        time: np.ndarray,
        thread: np.ndarray,
        stack: np.ndarray,
        task: np.ndarray | None = None,
        weight: np.ndarray | float = 1.0,
        cpu: np.ndarray | float = -1.0,
    ) -> None:
        """Append a batch of samples (validated: stacks must exist).

        Weights or CPU times float32 cannot hold exactly widen this profile's weight and cpu columns to
        float64 (EXACT_COLUMNS) first, so every figure a file states is kept as it said; float32 values
        (the agent's) cost nothing.
        """
        time = np.asarray(time, np.float64)
        n = len(time)
        if n == 0:
            return
        stack = np.asarray(stack, np.int32)
        if int(stack.min()) < -1 or int(stack.max()) >= len(self.stacks):
            raise ValueError("sample refers to an undefined stack")
        if len(self.samples) and time[0] < self.samples["time"][-1]:
            self._samples_sorted = False
        elif n > 1 and bool(np.any(np.diff(time) < 0)):
            self._samples_sorted = False
        if not self.exact_weights and not (fits_float32(weight) and fits_float32(cpu)):
            for name in EXACT_COLUMNS:
                self.samples.widen(name, EXACT_WEIGHT)
        self.samples.extend(
            time=time,
            thread=np.broadcast_to(np.asarray(thread, np.int32), (n,)),
            stack=stack,
            task=np.broadcast_to(np.asarray(-1 if task is None else task, np.int32), (n,)),
            weight=np.broadcast_to(np.asarray(weight, self.samples.storage("weight").dtype), (n,)),
            cpu=np.broadcast_to(np.asarray(cpu, self.samples.storage("cpu").dtype), (n,)),
        )
        self.generation += 1

    def bulk_samples_added(self, time_sorted: bool) -> None:
        """A reader wrote validated rows straight into `samples` (ColumnTable.adopt): note their order."""
        if not time_sorted:
            self._samples_sorted = False
        self.generation += 1

    def add_lag(self, time: np.ndarray, loop: np.ndarray, lag: np.ndarray) -> None:
        self.lag.extend(time=time, loop=loop, lag=lag)
        self.generation += 1

    def add_awaits(self, t: float, tasks: np.ndarray, stacks: np.ndarray) -> None:
        self.awaits.extend(time=np.full(len(tasks), t), task=tasks, stack=stacks)
        self.generation += 1

    def add_task_spans(self, task: np.ndarray, state: np.ndarray, start: np.ndarray, end: np.ndarray) -> None:
        """Append running / delayed stretches of tasks (TASK_SPAN_DTYPES), in arrival order."""
        self.task_spans.extend(task=task, state=state, start=start, end=end)
        self.generation += 1

    def ensure_thread(self, thread_id: int, name: str | None = None) -> ThreadInfo:
        info = self.threads.get(thread_id)
        if info is None:
            info = ThreadInfo(thread_id, name or f"thread {thread_id}")
            self.threads[thread_id] = info
        elif name:
            info.name = name
        return info

    def finish(self) -> None:
        """Make imported data ready for analysis: samples sorted by time."""
        if not self._samples_sorted:
            order = np.argsort(self.samples["time"], kind="stable")
            self.samples.take(order)
            self._samples_sorted = True
            self.cache.drop_row_entries()
        self.note_sample_threads()
        self.generation += 1

    def note_sample_threads(self) -> None:
        """Make sure every thread a sample names is in `threads`, looking only at rows not seen before.

        A live session calls it as rows arrive, so its finish() at the end does not pass over a
        day's 30M rows on the GUI thread (0.2-0.4 s).
        """
        table = self.samples
        ref, cuts, done = self._threads_seen
        start = done if ref is not None and ref() is table and cuts == table.cuts and done <= len(table) else 0
        threads = table["thread"][start:]
        if len(threads):
            # bincount, not np.unique: numpy 2.x's unique imports numpy.ma (~20 ms per process)
            low, high = int(threads.min()), int(threads.max())
            if high - low < 1 << 16:
                seen = np.zeros(high - low + 1, np.int64)
                for at in range(0, len(threads), _FINISH_STEP):  # in steps: a temporary per row of 10^7 rows is 80 MB
                    seen += np.bincount(threads[at : at + _FINISH_STEP] - low, minlength=len(seen))
                    self.samples.release(start + at, start + at + _FINISH_STEP)  # rows of a spilled column go back to its file
                present = (np.flatnonzero(seen) + low).tolist()
            else:
                present = sorted(set(threads.tolist()))
            for tid in present:
                self.ensure_thread(int(tid))
        self._threads_seen = (weakref.ref(table), table.cuts, start + len(threads))

    # ---------------------------------------------------------------- derived
    @property
    def samples_sorted(self) -> bool:
        """Whether the samples are in time order (importers may append out of order until `finish`)."""
        return self._samples_sorted

    @property
    def exact_weights(self) -> bool:
        """Whether weights and CPU times are stored as float64 (EXACT_COLUMNS): the source stated some float32 cannot hold."""
        return self.samples.storage("weight").dtype == EXACT_WEIGHT

    @property
    def has_time(self) -> bool:
        """False when the source gave no timestamps (collapsed stacks, speedscope in
        sample units): sample times are then only an order, not seconds."""
        return not self.meta.get("timeless", False)

    @property
    def samples_end_spans(self) -> bool:
        """True when a sample's time ends the span its weight stands for: the agent weighs a
        sample by the time since its thread's previous one. Imported files start it there."""
        return "agent_version" in self.meta

    @property
    def sample_count(self) -> int:
        """How many samples: rows, or while only their sums are known (`summed`), the count they sum."""
        if self.summed is not None and not len(self.samples):
            return self.summed.count()
        return len(self.samples)

    @property
    def stack_count(self) -> int:
        return len(self.stacks)

    def stack_depths(self) -> np.ndarray:
        """Depth of each stack (1 for a root frame), computed incrementally."""
        n = len(self.stacks)
        have = len(self._stack_depth)
        if have < n:
            depth = np.empty(n, np.int32)
            depth[:have] = self._stack_depth
            parents = self.stacks["parent"]
            for sid in range(have, n):
                p = int(parents[sid])
                depth[sid] = 1 if p < 0 else depth[p] + 1
            self._stack_depth = depth
        return self._stack_depth[:n]

    def stack_frames(self, stack: int) -> list[int]:
        """Frame ids of a stack, root first."""
        out: list[int] = []
        parents = self.stacks["parent"]
        frames = self.stacks["frame"]
        while stack >= 0:
            out.append(int(frames[stack]))
            stack = int(parents[stack])
        out.reverse()
        return out

    def frame_func(self, frame: int) -> int:
        return int(self.frames["func"][frame])

    def frame_label(self, frame: int) -> str:
        """`function (file:line)` as shown in stacks."""
        func = self.frame_func(frame)
        return f"{self.func_name[func]} ({self.func_file[func]}:{int(self.frames['line'][frame])})"

    def duration(self) -> float:
        """Seconds covered by the profile (samples, lag, blocking, tasks, end)."""
        if self.summed is not None and not len(self.samples):
            return self.summed.duration()
        ends = [0.0]
        if len(self.samples):
            t = self.samples["time"]
            ends.append(float(t[-1]) if self._samples_sorted else float(t.max()))  # sorted: O(1), live refreshes ask often
            # the agent's weight is the time *before* its sample; imported formats put it after
            if self.unit == UNIT_SECONDS and not self.samples_end_spans:
                ends.append(self._sample_span_end())
        if len(self.lag):
            ends.append(self._lag_end())
        ends.append(self._blocking_end())
        if self.end and isinstance(self.end.get("t"), (int, float)):
            ends.append(float(self.end["t"]))
        if self.func_stats is not None and not len(self.samples):
            ends.append(float(self.func_stats.total_time.max(initial=0.0)))
        return max(ends)

    def _sample_span_end(self) -> float:
        """max(time + weight) over the samples, looking only at rows not seen before: live refreshes ask
        several times each, and a pass over a day's 30M rows (with a 240 MB temporary) cost ~6 ms a time."""
        table = self.samples
        ref, cuts, done, top = self._span_end_seen
        if ref is None or ref() is not table or cuts != table.cuts or done > len(table):
            done, top = 0, -np.inf
        n = len(table)
        for at in range(done, n, _FINISH_STEP):  # in steps: no temporary per row of the whole table
            b = min(n, at + _FINISH_STEP)
            top = max(top, float((table["time"][at:b] + table["weight"][at:b]).max()))
        self._span_end_seen = (weakref.ref(table), table.cuts, n, top)
        return top

    def _blocking_end(self) -> float:
        """The latest end of a stall (0 without any), over the events not seen before."""
        events = self.blocking
        key, done, top = self._blocking_end_seen
        if key != id(events) or done > len(events):
            done, top = 0, 0.0
        for b in events[done:]:
            top = max(top, b.start + b.duration)
        self._blocking_end_seen = (id(events), len(events), top)
        return top

    def _lag_end(self) -> float:
        """The latest lag probe's time, extended with new probes only (a day has millions)."""
        times = self.lag["time"]
        n = len(times)

        def update(prev: tuple[int, float]) -> tuple[int, float]:
            done, end = prev
            if done > n:
                return n, float(times.max())
            return n, max(end, float(times[done:n].max())) if done < n else end

        return self.cached("lag_end", lambda: (n, float(times.max())), update)[1]

    def model_bytes(self) -> int:
        """Allocated bytes of all numpy columns (the figure the benchmark reports)."""
        tables = (self.samples, self.frames, self.stacks, self.lag, self.awaits, self.task_spans)
        return sum(t.nbytes() for t in tables) + self._stack_depth.nbytes
