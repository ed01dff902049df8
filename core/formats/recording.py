"""The `.pyro` recording file: crash-safe append-only writer and a tolerant reader.

The file is the agent's event stream, framed and checksummed (see
pyrometer.core.agent.wire and docs/format.md). The reader skips a damaged
frame to the next valid one and keeps a torn tail's predecessors, saying what
it dropped; it reads a block at a time (holes of a sparse file are never read)
and can follow a file that is still being written.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from pyrometer.core.agent import wire
from pyrometer.core.agent.tasks import PARENT_UNRECORDED

# The writer lives in its own numpy-free module so `pyrometer record` starts fast.
from pyrometer.core.capture.writer import FLUSH_INTERVAL_S, RecordingWriter  # noqa: F401
from pyrometer.core.formats.bulk_columns import ReservedColumns
from pyrometer.core.model import (
    EXACT_COLUMNS,
    EXACT_WEIGHT,
    UNIT_SAMPLES,
    UNIT_SECONDS,
    BlockingEvent,
    FuncStats,
    LoopInfo,
    Profile,
    StallStep,
    TaskInfo,
    TaskSampling,
    fits_float32,
)


class RecordingError(Exception):
    """The file is not a readable recording at all (bad header, not a file)."""


@dataclass
class ReadReport:
    """What a read kept and what it had to drop."""

    frames: int = 0
    bytes_read: int = 0
    dropped_bytes: int = 0
    skipped_unknown: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.dropped_bytes and not self.problems


def _i32(buf: memoryview, offset: int, n: int) -> np.ndarray:
    return np.frombuffer(buf, "<i4", n, offset)


def _column_reader(payload: memoryview, specs: list[tuple[str, str]]) -> dict[str, np.ndarray]:
    """Slice packed columns after the 8-byte count header; validates sizes."""
    if len(payload) < 8:
        raise ValueError("batch too short")
    n = int(np.frombuffer(payload, "<u4", 1, 0)[0])
    need = 8 + n * sum(np.dtype(dt).itemsize for _, dt in specs)
    if need != len(payload):
        raise ValueError(f"batch of {n} rows has {len(payload)} bytes, expected {need}")
    out: dict[str, np.ndarray] = {}
    offset = 8
    for name, dt in specs:
        out[name] = np.frombuffer(payload, dt, n, offset)
        offset += n * np.dtype(dt).itemsize
    return out


_STRUCT_CODES = {"<f8": "d", "<i4": "i", "<u4": "I", "u1": "B"}
_STRUCT_SIZES = {"d": 8, "i": 4, "I": 4, "B": 1}


def _packed_with_strings(
    payload: memoryview, specs: list[tuple[str, str]], strings: tuple[str, ...]
) -> tuple[dict[str, tuple[Any, ...]], dict[str, list[str]]]:
    """Packed columns after the count header, then string columns (u32 lengths, UTF-8 bytes).

    Task batches are small (a few rows every 50 ms) and many, so columns are
    unpacked with `struct` into tuples: numpy's per-call cost is most of a small batch.
    """
    size = len(payload)
    if size < 8:
        raise ValueError("batch too short")
    n = _U32.unpack_from(payload, 0)[0]
    offset = 8
    out: dict[str, tuple[Any, ...]] = {}
    for name, dt in specs:
        code = _STRUCT_CODES[dt]
        step = n * _STRUCT_SIZES[code]
        if offset + step > size:
            raise ValueError(f"batch of {n} rows is truncated")
        out[name] = struct.unpack_from(f"<{n}{code}", payload, offset)
        offset += step
    texts: dict[str, list[str]] = {}
    for name in strings:
        if offset + 4 * n > size:
            raise ValueError(f"batch of {n} rows is truncated")
        lengths = struct.unpack_from(f"<{n}I", payload, offset)
        offset += 4 * n
        total = sum(lengths)
        if offset + total > size:
            raise ValueError(f"batch of {n} rows is truncated")
        raw = bytes(payload[offset : offset + total])
        ends = list(accumulate(lengths))
        if raw.isascii():  # one decode for the whole column: characters are bytes
            text = raw.decode("ascii")
            texts[name] = [text[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]
        else:
            texts[name] = [raw[a:b].decode("utf-8", "replace") for a, b in zip([0, *ends[:-1]], ends, strict=True)]
        offset += total
    if offset != size:
        raise ValueError(f"batch of {n} rows has {size} bytes, expected {offset}")
    return out, texts


_TASKS_NEW_SPECS = [("t", "<f8"), ("id", "<i4"), ("parent", "<i4"), ("loop", "<i4")]
_TASKS_END_SPECS = [
    ("t", "<f8"), ("id", "<i4"), ("cpu_s", "<f8"), ("running_s", "<f8"), ("waiting_s", "<f8"), ("delayed_s", "<f8"),
    ("state", "u1"),
]


def _or_none(values: tuple[float, ...]) -> list[float | None]:
    """A column of per-task figures, NaN (not measured) as None: one pass, no call per row (a day holds
    ~10^5-10^6 tasks, and an index's shell carries them all in one batch)."""
    return [None if v != v else v for v in values]


def _apply_tasks_new(profile: Profile, buf: memoryview) -> None:
    c, text = _packed_with_strings(buf, _TASKS_NEW_SPECS, ("name", "coro"))
    tasks = profile.tasks
    ids = c["id"]
    if len(ids) > 64 and len(set(ids)) == len(ids) and tasks.keys().isdisjoint(ids):
        # a batch of tasks not seen before (an index's shell holds every task of a day in one):
        # the loop below without its per-row lookups (0.30 s against 0.37 s for 150k tasks)
        parents = [None if p < 0 else p for p in c["parent"]]
        tasks.update(zip(ids, map(TaskInfo, ids, parents, text["name"], text["coro"], c["loop"], _or_none(c["t"])), strict=True))
        if PARENT_UNRECORDED in c["parent"]:
            for tid, parent in zip(ids, c["parent"], strict=True):
                if parent == PARENT_UNRECORDED:
                    tasks[tid].parent_unrecorded = True
        profile.task_log.extend(ids)
        return
    get = tasks.get
    for t, tid, parent, loop, name, coro in zip(
        _or_none(c["t"]), c["id"], c["parent"], c["loop"], text["name"], text["coro"], strict=True,
    ):
        info = get(tid)
        if info is None or info.created is not None:
            info = tasks[tid] = TaskInfo(tid, None if parent < 0 else parent, name, coro, loop, t)
        else:  # its end arrived first (events of one batch): keep what it said
            info.parent, info.name, info.coro, info.loop, info.created = (None if parent < 0 else parent, name, coro, loop, t)
        if parent == PARENT_UNRECORDED:
            info.parent_unrecorded = True
    profile.task_log.extend(c["id"])


def _apply_tasks_end(profile: Profile, buf: memoryview) -> None:
    c, text = _packed_with_strings(buf, _TASKS_END_SPECS, ("exc",))
    states = wire.TASK_STATES
    known = len(states)
    tasks = profile.tasks
    get = tasks.get
    for tid, ended, code, exc, cpu, running, waiting, delayed in zip(
        c["id"], _or_none(c["t"]), c["state"], text["exc"], _or_none(c["cpu_s"]), _or_none(c["running_s"]),
        _or_none(c["waiting_s"]), _or_none(c["delayed_s"]), strict=True,
    ):
        task = get(tid)
        if task is None:
            task = TaskInfo(tid, None, "", "")
            tasks[tid] = task
        task.ended = ended
        task.state = states[code] if code < known else "done"
        task.exc = exc or None
        task.cpu_s, task.running_s, task.waiting_s, task.delayed_s = cpu, running, waiting, delayed
    profile.task_log.extend(c["id"])


_TASK_SPAN_SPECS = [("start", "<f8"), ("end", "<f8"), ("task", "<i4"), ("state", "u1")]
_SAMPLE_SPECS = [("time", "<f8"), ("thread", "<i4"), ("stack", "<i4"), ("task", "<i4"), ("weight", "<f4"), ("cpu", "<f4")]
_LAG_SPECS = [("time", "<f8"), ("loop", "<i4"), ("lag", "<f4")]


def _as_int(value: Any, default: int = -1) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def stall_steps(rows: Any) -> list[StallStep] | None:
    """A BLOCKING frame's `steps` ([start, seconds, task, name, stack] each; absent before agent
    0.2.3: None); a row that is not five plausible values is left out."""
    if not isinstance(rows, list):
        return None
    out = []
    for row in rows:
        if not (isinstance(row, list) and len(row) >= 5 and isinstance(row[0], (int, float)) and isinstance(row[1], (int, float))):
            continue
        start, duration = float(row[0]), float(row[1])
        if abs(start) <= MAX_SECONDS and 0.0 <= duration <= MAX_SECONDS:
            out.append(StallStep(start, duration, _as_int(row[2]), str(row[3] or ""), _as_int(row[4])))
    return out


def stall_steps_json(steps: list[StallStep] | None) -> list[list[Any]] | None:
    """`steps` as a BLOCKING frame carries them (the agent's layout)."""
    return None if steps is None else [[s.start, s.duration, s.task, s.name, s.stack] for s in steps]


def _func_stats_from_json(profile: Profile, obj: dict[str, Any]) -> FuncStats:
    funcs = obj.get("funcs", [])
    ids = []
    for f in funcs:
        ids.append(profile.intern_function(str(f["name"]), str(f["file"]), _as_int(f.get("line"), 0)))
    key_to_row = {int(f["id"]): i for i, f in enumerate(funcs)}
    edges = [e for e in obj.get("edges", []) if int(e[0]) in key_to_row and int(e[1]) in key_to_row]
    return FuncStats(
        clock=str(obj.get("clock", "wall")),
        func=np.asarray(ids, np.int32),
        calls=np.asarray([int(f.get("calls", 0)) for f in funcs], np.int64),
        prim_calls=np.asarray([int(f.get("prim_calls", f.get("calls", 0))) for f in funcs], np.int64),
        self_time=np.asarray([float(f.get("self", 0.0)) for f in funcs], np.float64),
        total_time=np.asarray([float(f.get("total", 0.0)) for f in funcs], np.float64),
        edge_caller=np.asarray([ids[key_to_row[int(e[0])]] for e in edges], np.int32),
        edge_callee=np.asarray([ids[key_to_row[int(e[1])]] for e in edges], np.int32),
        edge_calls=np.asarray([int(e[2]) for e in edges], np.int64),
        edge_self=np.asarray([float(e[3]) for e in edges], np.float64),
        edge_total=np.asarray([float(e[4]) for e in edges], np.float64),
        time=float(obj.get("t", 0.0)),
    )


def func_stats_to_json(profile: Profile, stats: FuncStats) -> dict[str, Any]:
    """Inverse of the FUNC_STATS decoder (used when saving imported deterministic data)."""
    funcs = []
    for row, fid in enumerate(stats.func.tolist()):
        funcs.append(
            {
                "id": fid,
                "name": profile.func_name[fid],
                "file": profile.func_file[fid],
                "line": profile.func_line[fid],
                "calls": int(stats.calls[row]),
                "prim_calls": int(stats.prim_calls[row]),
                "self": float(stats.self_time[row]),
                "total": float(stats.total_time[row]),
            }
        )
    edges = [
        [int(a), int(b), int(c), float(s), float(t)]
        for a, b, c, s, t in zip(
            stats.edge_caller.tolist(),
            stats.edge_callee.tolist(),
            stats.edge_calls.tolist(),
            stats.edge_self.tolist(),
            stats.edge_total.tolist(),
            strict=True,
        )
    ]
    return {"t": stats.time, "clock": stats.clock, "funcs": funcs, "edges": edges}


MAX_SECONDS = 1e9  # ~30 years: a time, weight or duration beyond this is damage, not a measurement
MAX_COUNT = 2.0**53  # a weight in samples (a collapsed file's count) beyond this is not a count


def _max_sample_value(profile: Profile) -> float:
    """The largest plausible sample time or weight: seconds are bounded by MAX_SECONDS; in a profile of
    samples a weight is a count (a collapsed line's, a pprof value in bytes) and a time the counts before
    it, bounded by MAX_COUNT."""
    return MAX_COUNT if profile.unit == UNIT_SAMPLES else MAX_SECONDS


def _keep(c: dict[str, np.ndarray], good: np.ndarray, what: str, rejected: dict[str, int] | None) -> dict[str, np.ndarray]:
    """The rows of a column batch whose values are possible; counts the others under `what`."""
    if bool(good.all()):
        return c
    if rejected is not None:
        rejected[what] = rejected.get(what, 0) + int(len(good) - good.sum())
    return {name: col[good] for name, col in c.items()}


_CHECK_STEP = 1 << 20  # rows validated per step


def _rows_where(test: Callable[[int, int], np.ndarray], a: int, b: int) -> np.ndarray | None:
    """None when `test(lo, hi)` holds for every row of [a, b) (checked a step at a time, so the
    temporaries stay small), else the mask of the rows where it holds."""
    steps = range(a, b, _CHECK_STEP)
    if all(bool(test(lo, min(b, lo + _CHECK_STEP)).all()) for lo in steps):
        return None
    return np.concatenate([test(lo, min(b, lo + _CHECK_STEP)) for lo in steps])  # a damaged file: mask it all


def _plausible_seconds(x: np.ndarray, lowest: float = -MAX_SECONDS, highest: float = MAX_SECONDS) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.isfinite(x) & (x >= lowest) & (x <= highest)


def apply_message(
    profile: Profile, kind: int, payload: memoryview | bytes, rejected: dict[str, int] | None = None
) -> bool:
    """Apply one decoded frame to the profile. Returns False for unknown types.

    Raises ValueError (or KeyError/TypeError) on a payload that does not fit
    its type; the reader turns that into a reported, dropped frame. Rows with
    impossible values (NaN or huge times, negative weights: a checksum only
    proves the bytes are what was written) are left out and counted in `rejected`.
    """
    buf = memoryview(payload)
    if kind == wire.SAMPLES:
        c = _column_reader(buf, _SAMPLE_SPECS)
        top = _max_sample_value(profile)
        good = _plausible_seconds(c["time"], -top, top) & _plausible_seconds(c["weight"].astype(np.float64), 0.0, top)
        c = _keep(c, good, "samples with impossible times or weights", rejected)
        cpu = c["cpu"]
        if not bool(np.isfinite(cpu).all()) or bool((cpu > MAX_SECONDS).any()):
            cpu = np.where(np.isfinite(cpu) & (cpu <= MAX_SECONDS), cpu, np.float32(-1.0)).astype(np.float32)
        profile.add_samples(c["time"], c["thread"], c["stack"], c["task"], c["weight"], cpu)
    elif kind == wire.STACKS:
        if len(buf) < 8:
            raise ValueError("stack batch too short")
        n, first = (int(x) for x in np.frombuffer(buf, "<u4", 2, 0))
        if len(buf) != 8 + 8 * n:
            raise ValueError("stack batch has the wrong size")
        profile.add_stack_definitions(first, _i32(buf, 8, n), _i32(buf, 8 + 4 * n, n))
    elif kind == wire.FRAMES:
        profile.add_frame_definitions(wire.decode_json(bytes(buf)))
    elif kind == wire.LAG:
        c = _column_reader(buf, _LAG_SPECS)
        good = _plausible_seconds(c["time"]) & _plausible_seconds(c["lag"].astype(np.float64), 0.0)
        c = _keep(c, good, "lag probes with impossible values", rejected)
        profile.add_lag(c["time"], c["loop"], c["lag"])
    elif kind == wire.TASK_AWAIT:
        if len(buf) < 16:
            raise ValueError("await snapshot too short")
        t = float(np.frombuffer(buf, "<f8", 1, 0)[0])
        if not abs(t) <= MAX_SECONDS:  # also NaN
            raise ValueError(f"await snapshot at impossible time {t}")
        n = int(np.frombuffer(buf, "<u4", 1, 8)[0])
        if len(buf) != 16 + 8 * n:
            raise ValueError("await snapshot has the wrong size")
        profile.add_awaits(t, _i32(buf, 16, n), _i32(buf, 16 + 4 * n, n))
    elif kind == wire.BLOCKING:
        obj = wire.decode_json(bytes(buf))
        start, duration = float(obj["start"]), float(obj["duration"])
        if not (abs(start) <= MAX_SECONDS and 0.0 <= duration <= MAX_SECONDS):
            if rejected is not None:
                rejected["blocking events with impossible times"] = rejected.get("blocking events with impossible times", 0) + 1
        else:
            _apply_json(profile, kind, obj)
    elif kind == wire.TASKS_NEW:
        _apply_tasks_new(profile, buf)
        profile.generation += 1
    elif kind == wire.TASKS_END:
        _apply_tasks_end(profile, buf)
        profile.generation += 1
    elif kind == wire.TASK_SPANS:
        c = _column_reader(buf, _TASK_SPAN_SPECS)
        profile.add_task_spans(c["task"], c["state"], c["start"], c["end"])
    elif kind == wire.INDEX:
        pass  # a summary of the frames before it (recording_index): nothing a full read needs
    elif kind == wire.EXACT_SAMPLES:
        pass  # only RecordingReader pairs it with the samples frame after it; the agent's stream never has one
    elif kind in wire.NAMES:
        _apply_json(profile, kind, wire.decode_json(bytes(buf)))
    else:
        return False
    return True


def _apply_json(profile: Profile, kind: int, obj: Any) -> None:
    if kind == wire.META:
        profile.meta.update(obj)
        unit = obj.get("unit")
        if unit in (UNIT_SECONDS, UNIT_SAMPLES):
            profile.unit = unit
        if obj.get("source"):
            profile.source_format = str(obj["source"])
    elif kind == wire.THREADS:
        for row in obj:
            info = profile.ensure_thread(int(row[0]), str(row[1]))
            if len(row) > 2 and row[2] is not None:
                info.native_id = int(row[2])
    elif kind == wire.LOOPS:
        for row in obj:
            profile.loops[int(row[0])] = LoopInfo(int(row[0]), int(row[1]), str(row[2]) if len(row) > 2 else "")
    elif kind == wire.BLOCKING:
        profile.blocking.append(
            BlockingEvent(
                start=float(obj["start"]),
                duration=float(obj["duration"]),
                loop=_as_int(obj.get("loop")),
                thread=_as_int(obj.get("thread")),
                stack=_as_int(obj.get("stack")),
                task=_as_int(obj.get("task")),
                callback=str(obj.get("callback") or ""),
                task_name=None if obj.get("task_name") is None else str(obj["task_name"]),
                await_chain=None if obj.get("await_chain") is None else [
                    (int(row[0]), str(row[1])) for row in obj["await_chain"]
                ],
                delayed=None if obj.get("delayed") is None else [
                    (int(row[0]), str(row[1]), float(row[2])) for row in obj["delayed"]
                ],
                delayed_unrecorded=None if obj.get("delayed_unrecorded") is None else int(obj["delayed_unrecorded"]),
                steps=stall_steps(obj.get("steps")),
            )
        )
    elif kind == wire.TASKS_CREATED:
        for row in _rows(obj):
            tid = int(row["id"])
            parent = row.get("parent")
            profile.tasks[tid] = TaskInfo(
                id=tid,
                parent=None if parent is None or parent < 0 else int(parent),
                name=str(row.get("name", "")),
                coro=str(row.get("coro", "")),
                loop=_as_int(row.get("loop")),
                created=row.get("t"),
            )
            profile.task_log.append(tid)
    elif kind == wire.TASKS_FINISHED:
        for row in _rows(obj):
            task = profile.tasks.get(int(row["id"]))
            if task is None:
                task = TaskInfo(int(row["id"]), None, "", "")
                profile.tasks[task.id] = task
            task.ended = row.get("t")
            task.state = str(row.get("state", "done"))
            task.exc = row.get("exc")
            profile.task_log.append(task.id)
    elif kind == wire.FUNC_STATS:
        profile.func_stats = _func_stats_from_json(profile, obj)
    elif kind == wire.TELEMETRY:
        profile.telemetry.update(obj)
    elif kind == wire.END:
        profile.end = dict(obj)
    elif kind == wire.NOTICE:
        profile.notices.append(dict(obj))
    elif kind == wire.OUTPUT:
        profile.output.append((float(obj.get("t", 0.0)), str(obj.get("stream", "stdout")), str(obj.get("text", ""))))
    elif kind == wire.TASK_AWAITERS:
        profile.task_awaiters.extend((float(row[0]), int(row[1]), int(row[2])) for row in obj)
    elif kind == wire.TASK_SAMPLING:
        _apply_task_sampling(profile, obj)
    profile.generation += 1


def _apply_task_sampling(profile: Profile, obj: dict[str, Any]) -> None:
    """A loop's cumulative task-sampling counts: the latest (by time) wins."""
    unrecorded = {str(k): int(v) for k, v in dict(obj["unrecorded"]).items()}
    if any(v < 0 for v in unrecorded.values()) or int(obj["recorded"]) < 0:
        raise ValueError("negative task counts")
    periods = [
        (float(p[0]), None if p[1] is None else float(p[1]), int(p[2]), float(p[3])) for p in obj.get("periods") or []
    ]
    info = TaskSampling(int(obj["loop"]), float(obj["t"]), int(obj["every"]), int(obj["recorded"]), unrecorded, periods)
    old = profile.task_sampling.get(info.loop)
    if old is None or old.t <= info.t:
        profile.task_sampling[info.loop] = info


def task_sampling_json(info: TaskSampling) -> dict[str, Any]:
    """The TASK_SAMPLING object of one loop (what the agent sends; the writer and the index use it)."""
    return {
        "t": info.t, "loop": info.loop, "every": info.every, "recorded": info.recorded,
        "unrecorded": dict(info.unrecorded), "periods": [list(p) for p in info.periods],
    }


def _rows(obj: Any) -> list[dict[str, Any]]:
    """Task events as row dicts: a JSON list of rows (recordings before 0.2), or an
    object of equal-length columns (what the agent sends now, far cheaper to encode)."""
    if isinstance(obj, dict):
        cols = {k: v for k, v in obj.items() if isinstance(v, list)}
        n = len(cols.get("id", ()))
        if any(len(v) != n for v in cols.values()):
            raise ValueError("task columns have different lengths")
        return [{k: v[i] for k, v in cols.items()} for i in range(n)]
    if not isinstance(obj, list):
        raise ValueError("task events are neither rows nor columns")
    return obj


class RecordingReader:
    """Reads a recording into a Profile; `poll()` picks up frames appended since.

    Stops at the first frame that is torn (incomplete) or fails its CRC. While
    following a live file a torn tail is simply "not yet written"; `report`
    counts it as dropped only once `close()` (or a one-shot read) gives up.

    Samples and lag probes, nearly all of a long recording, are copied from
    their frames straight into reserved columns (bulk_columns) and validated
    once per `poll()`, vectorised; every other message goes through
    `apply_message` as it comes.
    """

    def __init__(
        self, path: str | os.PathLike[str], profile: Profile | None = None, fh: BinaryIO | None = None
    ) -> None:
        self.path = Path(path)
        self.profile = profile if profile is not None else Profile()
        self.report = ReadReport()
        self._offset = 0
        self._skipped = 0  # damaged bytes jumped over
        self._rejected: dict[str, int] = {}  # impossible values dropped while reading, by kind
        self._samples: ReservedColumns | None = None
        self._lag: ReservedColumns | None = None
        self._spans: ReservedColumns | None = None
        self._sample_frames: list[tuple[int, int, int, int, int]] = []  # row, rows, stacks then, offset, size
        # an EXACT_SAMPLES frame's (weight, cpu), for the SAMPLES frame starting at the byte offset given
        self._exact_next: tuple[int, np.ndarray, np.ndarray] | None = None
        self.expected_rows: tuple[int, int, int] | None = None  # (samples, lag probes, task spans) when an index says
        self.skip_kinds: frozenset[int] = frozenset()  # messages `profile` holds already (index_preview's shell)
        # a one-shot read of a huge file whose index said how many rows (`expected_rows`): its big columns go
        # in files of their own (columns.spill_column), committed and let go of every COMMIT_ROWS rows, so the
        # process holds the rows in use, not all of them (the page cache keeps the rest, and may drop it)
        self.spill = False
        self._owns_fh = fh is None  # a writer indexing its own file lends its handle (recording_index)
        try:
            self._fh: BinaryIO = open(self.path, "rb") if fh is None else fh
            self._fh.seek(0)
        except IsADirectoryError as exc:
            raise RecordingError(f"{self.path}: is a directory") from exc
        except OSError as exc:
            raise RecordingError(f"{self.path}: {exc.strerror or exc}") from exc
        head = self._fh.read(wire.FILE_HEADER_SIZE)
        version = wire.parse_file_header(head)
        if version is None:
            if self._owns_fh:
                self._fh.close()
            raise RecordingError(f"{self.path}: not a Pyrometer recording (bad header)")
        if version > wire.FORMAT_VERSION:
            self.report.problems.append(f"format version {version} is newer than {wire.FORMAT_VERSION}; unknown parts skipped")
        self._offset = wire.FILE_HEADER_SIZE

    def poll(
        self, on_frame: Callable[[int, memoryview], None] | None = None, progress: Callable[[float], None] | None = None
    ) -> int:
        """Read and apply all complete frames appended since the last call; returns their count.

        Reads a block at a time (a huge or sparse file is never read whole). A
        complete frame that fails its checksum or does not decode is skipped
        together with whatever follows it up to the next frame that is valid
        (length, known type, checksum), and the skip is reported. `progress`
        gets the fraction of the file read so far after each block.
        """
        count = 0
        size = os.fstat(self._fh.fileno()).st_size
        self._reserve(size)
        try:
            while True:
                self._fh.seek(self._offset)
                data = self._fh.read(_READ_BLOCK)
                if len(data) < wire.FRAME_HEADER_SIZE:
                    break
                length = wire.FRAME_HEADER.unpack_from(data, 0)[0]
                if length <= wire.MAX_PAYLOAD and wire.FRAME_HEADER_SIZE + length > len(data):
                    # one frame larger than the block: read exactly it (or find it torn)
                    data += self._fh.read(wire.FRAME_HEADER_SIZE + length - len(data))
                n, used, bad = self._apply_frames(memoryview(data), on_frame)
                count += n
                self._offset += used
                if self._spilling() and self._samples is not None and self._samples.n - self._samples.committed >= COMMIT_ROWS:
                    self._commit()
                if progress is not None and size:
                    progress(min(1.0, self._offset / size))
                if bad is not None:
                    if not self._resync(bad):
                        break
                elif not used:
                    break  # a torn tail, or a frame still being written
        finally:
            self._commit()
        self.report.frames += count
        self.report.bytes_read = self._offset
        return count

    def _spilling(self) -> bool:
        return self.spill and self.expected_rows is not None

    def _reserve(self, size: int) -> None:
        """Room for every sample and lag probe the unread part of the file can hold (address space only)."""
        left = max(0, size - self._offset)
        rows = (left // _SAMPLE_ROW_BYTES + 1, left // _LAG_ROW_BYTES + 1, left // _SPAN_ROW_BYTES + 1)
        if self.expected_rows is not None:  # an index said how many: reserve just that (room() grows past it)
            rows = (min(rows[0], self.expected_rows[0] + 1024), min(rows[1], self.expected_rows[1] + 1024),
                    min(rows[2], self.expected_rows[2] + 1024))
        if self._samples is None:
            spill = self._spilling()  # only with an index's counts: else the reservation is a guess from the file size
            self._samples = ReservedColumns(self.profile.samples, rows[0], grid=_SAMPLE_GRID, spill=spill)
            self._lag = ReservedColumns(self.profile.lag, rows[1], spill=spill)
            self._spans = ReservedColumns(self.profile.task_spans, rows[2], spill=spill)
        assert self._lag is not None and self._spans is not None
        self._samples.resume(rows[0])
        self._lag.resume(rows[1])
        self._spans.resume(rows[2])

    def _apply_frames(
        self, buf: memoryview, on_frame: Callable[[int, memoryview], None] | None
    ) -> tuple[int, int, str | None]:
        """Apply the whole frames at the start of buf: (count, bytes used, why the next one is bad)."""
        pos = 0
        count = 0
        end = len(buf)
        unpack = wire.FRAME_HEADER.unpack_from
        crc32 = zlib.crc32
        head_crc = _HEAD_CRC
        header = wire.FRAME_HEADER_SIZE
        samples, lag, spans = wire.SAMPLES, wire.LAG, wire.TASK_SPANS
        while pos + header <= end:
            length, kind, flags, crc = unpack(buf, pos)
            start = pos + header
            where = self._offset + pos
            if length > wire.MAX_PAYLOAD:
                return count, pos, f"frame at byte {where} claims {length} bytes"
            if start + length > end:
                break  # torn tail (or still being written)
            payload = buf[start : start + length]
            seed = head_crc.get(kind) if not flags else None
            if (crc32(payload, seed) if seed is not None else wire.frame_crc(kind, flags, payload)) != crc:  # type: ignore[arg-type]
                return count, pos, f"checksum mismatch in frame at byte {where}"
            if kind == samples:
                why = self._stage_samples(buf, start, length, where)
                if why is not None:
                    return count, pos, f"bad samples frame at byte {where}: {why}"
            elif kind == lag:
                why = self._stage_lag(buf, start, length)
                if why is not None:
                    return count, pos, f"bad lag frame at byte {where}: {why}"
            elif kind == spans:
                why = self._stage_spans(buf, start, length)
                if why is not None:
                    return count, pos, f"bad task_spans frame at byte {where}: {why}"
            elif kind == wire.EXACT_SAMPLES:
                n, why = _batch_rows(buf, start, length, 16)
                if why is not None:
                    return count, pos, f"bad exact_samples frame at byte {where}: {why}"
                exact = np.frombuffer(buf, "<f8", 2 * n, start + 8)
                self._exact_next = (where + header + length, exact[:n].copy(), exact[n:].copy())
            elif kind in self.skip_kinds:
                pass
            else:
                try:
                    known = apply_message(self.profile, kind, payload, self._rejected)
                except (ValueError, KeyError, TypeError, IndexError, AttributeError, OverflowError) as exc:
                    return count, pos, f"bad {wire.describe(kind)} frame at byte {where}: {exc}"
                if not known:
                    self.report.skipped_unknown += 1
            if on_frame is not None:
                on_frame(kind, payload)
            pos = start + length
            count += 1
        return count, pos, None

    def _stage_samples(self, buf: memoryview, start: int, length: int, where: int) -> str | None:
        """Copy a SAMPLES batch's columns into the reserved rows; why not, if its size is wrong."""
        n, why = _batch_rows(buf, start, length, _SAMPLE_ROW_BYTES)
        if why is not None or not n:
            return why
        st = self._samples
        assert st is not None and st.grid is not None
        st.room(n)
        r, e, p = st.n, st.n + n, start + 8
        st.arrays["time"][r:e] = np.frombuffer(buf, "<f8", n, p)
        st.grid[:, r:e] = np.frombuffer(buf, "<u4", 5 * n, p + 8 * n).reshape(5, n)  # thread .. cpu, as sent
        if st.wide:
            st.fill_wide(r, e)
        if self._exact_next is not None:
            self._exact_samples(st, r, e, where)
        st.n = e
        self._sample_frames.append((r, n, len(self.profile.stacks), where, length + wire.FRAME_HEADER_SIZE))
        return None

    def _exact_samples(self, st: ReservedColumns, r: int, e: int, where: int) -> None:
        """Put the exact weight and CPU of the EXACT_SAMPLES frame just before this SAMPLES frame in place.

        Their float32 values must be the frame's own (a frame for other rows is not taken); the first
        ones make the profile's weight and cpu columns float64 (model.EXACT_COLUMNS).
        """
        assert self._exact_next is not None
        ends_at, *exact = self._exact_next
        self._exact_next = None
        fits = ends_at == where and all(
            len(values) == e - r and np.array_equal(values.astype(np.float32), st.wide.get(name, st.arrays[name])[r:e])
            for name, values in zip(EXACT_COLUMNS, exact, strict=True)
        )
        if not fits:
            self.report.problems.append(f"exact_samples frame before byte {where} does not fit the samples after it; "
                                        "kept their float32 weights")
            return
        for name, values in zip(EXACT_COLUMNS, exact, strict=True):
            if name not in st.wide:
                st.widen(name, EXACT_WEIGHT)
            st.arrays[name][r:e] = values

    def _stage_lag(self, buf: memoryview, start: int, length: int) -> str | None:
        assert self._lag is not None
        return _stage_columns(self._lag, buf, start, length, _LAG_ROW_BYTES, _LAG_LAYOUT)

    def _stage_spans(self, buf: memoryview, start: int, length: int) -> str | None:
        assert self._spans is not None
        return _stage_columns(self._spans, buf, start, length, _SPAN_ROW_BYTES, _SPAN_LAYOUT)

    def _commit(self) -> None:
        """Validate the rows staged since the last commit (vectorised) and hand them to the profile."""
        if self._samples is not None and self._samples.n > self._samples.committed:
            self._commit_samples(self._samples)
        self._sample_frames = []
        lag = self._lag
        if lag is not None and lag.n > lag.committed:
            a0 = lag.committed
            t, v = lag.arrays["time"], lag.arrays["lag"]
            good = _rows_where(lambda a, b: _plausible_seconds(t[a:b]) & _plausible_seconds(v[a:b], 0.0), a0, lag.n)
            del t, v
            if good is not None:
                self._count_rejected("lag probes with impossible values", int(len(good) - good.sum()))
                lag.keep(good)
            lag.commit()
            self.profile.generation += 1
        spans = self._spans
        if spans is not None and spans.n > spans.committed:
            spans.commit()
            self.profile.generation += 1
        if self._spilling():  # what was staged and validated is the file's now: let it go from memory
            for table in (self.profile.samples, self.profile.lag, self.profile.task_spans):
                table.release()

    def _commit_samples(self, st: ReservedColumns) -> None:
        a0, n = st.committed, st.n
        arr = st.arrays
        frames = self._sample_frames
        good: np.ndarray | None = None
        stack = arr["stack"][a0:n]
        if frames and frames[0][0] == a0:
            starts = np.fromiter((f[0] - a0 for f in frames), np.int64, len(frames))
            limits = np.fromiter((f[2] for f in frames), np.int64, len(frames))
            bad = (np.maximum.reduceat(stack, starts) >= limits) | (np.minimum.reduceat(stack, starts) < -1)
            if bool(bad.any()):
                good = np.ones(n - a0, bool)
                for i in np.flatnonzero(bad).tolist():
                    row, rows, _, where, size = frames[i]
                    good[row - a0 : row - a0 + rows] = False
                    self.report.problems.append(
                        f"bad samples frame at byte {where}: sample refers to an undefined stack; "
                        f"skipped {size} damaged bytes to the next valid frame at byte {where + size}"
                    )
                    self.report.dropped_bytes += size
                    self._skipped += size
        del stack
        time, weight = arr["time"], arr["weight"]
        top = _max_sample_value(self.profile)
        plausible = _rows_where(
            lambda a, b: _plausible_seconds(time[a:b], -top, top) & _plausible_seconds(weight[a:b], 0.0, top), a0, n
        )
        if plausible is not None:
            odd_rows = ~plausible if good is None else ~plausible & good
            self._count_rejected("samples with impossible times or weights", int(odd_rows.sum()))
            good = plausible if good is None else good & plausible
        if good is not None:
            st.keep(good)
            del good
        n = st.n
        cpu = arr["cpu"]
        ordered = not (a0 and n > a0 and time[a0] < time[a0 - 1])
        for a in range(a0, n, _CHECK_STEP):  # in steps: a temporary per row of 10^7 rows is 10-80 MB
            b = min(n, a + _CHECK_STEP)
            with np.errstate(invalid="ignore"):
                odd = ~(np.isfinite(cpu[a:b]) & (cpu[a:b] <= MAX_SECONDS))
            if bool(odd.any()):
                cpu[a:b][odd] = np.float32(-1.0)
            if ordered and bool((time[a + 1 : b + 1 if b < n else n] < time[a : b if b < n else n - 1]).any()):
                ordered = False
        st.commit()
        self.profile.bulk_samples_added(ordered)

    def _count_rejected(self, what: str, n: int) -> None:
        if n:
            self._rejected[what] = self._rejected.get(what, 0) + n

    def _resync(self, why: str) -> bool:
        """Skip from the bad frame at self._offset to the next valid one; False if there is none yet."""
        found = _next_valid_frame(self._fh, self._offset + 1)
        if found is None:
            self._mark_corrupt(why)  # finish() counts the rest as dropped
            return False
        skipped = found - self._offset
        self.report.problems.append(f"{why}; skipped {skipped} damaged bytes to the next valid frame at byte {found}")
        self.report.dropped_bytes += skipped
        self._skipped += skipped
        self._offset = found
        return True

    def _mark_corrupt(self, why: str) -> None:
        if why not in self.report.problems:
            self.report.problems.append(why)

    def finish(self) -> ReadReport:
        """Stop following: a torn or damaged rest is skipped to any valid frame after it, else dropped."""
        size = os.fstat(self._fh.fileno()).st_size
        while self._offset < size:  # a frame that looks cut short may be a damaged length: look beyond
            found = _next_valid_frame(self._fh, self._offset + 1)
            if found is None:
                break
            self.report.problems.append(
                f"damaged frame at byte {self._offset}; skipped {found - self._offset} bytes to the next valid frame"
            )
            self._skipped += found - self._offset
            self._offset = found
            self.poll()
        rest = max(0, size - self._offset)
        self.report.dropped_bytes = self._skipped + rest
        if rest and not self.report.problems:
            self.report.problems.append(f"torn tail: last {rest} bytes are an incomplete frame")
        elif rest:
            self.report.problems.append(f"the last {rest} bytes hold no valid frame and were dropped")
        rejected = self._rejected
        if rejected:
            self.report.problems.append(
                "ignored impossible values: " + ", ".join(f"{n} {what}" for what, n in sorted(rejected.items()))
            )
        if self._owns_fh:
            self._fh.close()
        self.profile.finish()
        return self.report

    close = finish


COMMIT_ROWS = 1 << 21  # samples staged between two commits of a spilling reader (~56 MB of rows)
_READ_BLOCK = 4 << 20  # bytes read at a time; a frame larger than this is read on its own
_SAMPLE_ROW_BYTES = 28  # f8 time, i4 thread, stack, task, f4 weight, cpu
_LAG_ROW_BYTES = 16  # f8 time, i4 loop, f4 lag
_SAMPLE_GRID = (("thread", "<i4"), ("stack", "<i4"), ("task", "<i4"), ("weight", "<f4"), ("cpu", "<f4"))  # 4-byte columns after `time`, in wire order
_SPAN_ROW_BYTES = 21  # f8 start, f8 end, i4 task, u1 state
# (column, wire dtype) in a batch's payload order, each column n rows long
_LAG_LAYOUT = (("time", "<f8"), ("loop", "<i4"), ("lag", "<f4"))
_SPAN_LAYOUT = (("start", "<f8"), ("end", "<f8"), ("task", "<i4"), ("state", "u1"))
_U32 = struct.Struct("<I")


def _batch_rows(buf: memoryview, start: int, length: int, row_bytes: int) -> tuple[int, str | None]:
    """A packed batch's row count (its first 4 bytes), and why it is bad if its length does not match."""
    if length < 8:
        return 0, "batch too short"
    n = int(_U32.unpack_from(buf, start)[0])
    if length != 8 + row_bytes * n:
        return n, f"batch of {n} rows has {length} bytes, expected {8 + row_bytes * n}"
    return n, None


def _stage_columns(
    st: ReservedColumns, buf: memoryview, start: int, length: int, row_bytes: int, layout: tuple[tuple[str, str], ...]
) -> str | None:
    """Copy a packed batch's columns (one after another, as `layout` orders them) into the reserved rows."""
    n, why = _batch_rows(buf, start, length, row_bytes)
    if why is not None or not n:
        return why
    st.room(n)
    r, e, p = st.n, st.n + n, start + 8
    for name, dtype in layout:
        column = np.frombuffer(buf, dtype, n, p)
        st.arrays[name][r:e] = column
        p += column.nbytes
    st.n = e
    return None
# the CRC of a frame's type and zero flags, per known type: the checksum then runs on over the payload
_HEAD_CRC = {kind: zlib.crc32(struct.pack("<HH", kind, 0)) for kind in wire.NAMES}
_SCAN_BLOCK = 1 << 20


def _next_valid_frame(fh: BinaryIO, start: int) -> int | None:
    """Offset of the first valid frame (sane length, known type, zero flags, checksum) at or after start.

    Candidates are found with numpy a block at a time; holes of a sparse file
    are jumped over with SEEK_DATA, never read.
    """
    fd = fh.fileno()
    size = os.fstat(fd).st_size
    pos = start
    head = wire.FRAME_HEADER_SIZE
    max_kind = max(wire.NAMES)
    while pos + head <= size:
        if hasattr(os, "SEEK_DATA"):
            try:
                data_at = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:  # ENXIO: only a hole is left
                return None
            pos = max(pos, data_at - head + 1) if data_at > pos else pos
        fh.seek(pos)
        block = fh.read(_SCAN_BLOCK + head)
        if len(block) < head:
            return None
        b = np.frombuffer(block, np.uint8).astype(np.uint32)
        m = len(b) - head + 1
        kind = b[4:4 + m] | (b[5:5 + m] << 8)
        flags = b[6:6 + m] | (b[7:7 + m] << 8)
        length = b[0:m] | (b[1:1 + m] << 8) | (b[2:2 + m] << 16) | (b[3:3 + m] << 24)
        room = size - (pos + np.arange(m, dtype=np.int64)) - head
        ok = (kind >= 1) & (kind <= max_kind) & (flags == 0) & (length <= wire.MAX_PAYLOAD) & (length.astype(np.int64) <= room)
        for i in np.flatnonzero(ok).tolist():
            at = pos + i
            fh.seek(at)
            frame = fh.read(head + int(length[i]))
            n, k, f, crc = wire.FRAME_HEADER.unpack_from(frame, 0)
            if len(frame) == head + n and wire.frame_crc(k, f, frame[head:]) == crc:
                return at
        pos += m
    return None


def read_recording(
    path: str | os.PathLike[str], progress: Callable[[float], None] | None = None
) -> tuple[Profile, ReadReport]:
    """Read a whole recording; a damaged tail is reported, never fatal."""
    reader = RecordingReader(path)
    from pyrometer.core.formats.recording_index import read_index_frame  # it builds on this module

    index = read_index_frame(path)
    if index is not None:  # room for exactly the rows it counted
        reader.expected_rows = (index.samples, index.lag, index.spans)
        reader.spill = True
    reader.poll(progress=progress)
    report = reader.finish()
    return reader.profile, report


def iter_raw_frames(path: str | os.PathLike[str]) -> Iterator[tuple[int, bytes]]:
    """Yield (kind, payload) of every intact frame; for tools that copy streams."""
    data = Path(path).read_bytes()
    if wire.parse_file_header(data) is None:
        raise RecordingError(f"{path}: not a Pyrometer recording (bad header)")
    for kind, _flags, payload in wire.iter_frames(data):
        yield kind, payload


def profile_frames(profile: Profile, chunk: int = 65536) -> Iterator[bytes]:
    """Encode a whole Profile as stream frames (to save imported data as `.pyro`)."""
    meta = dict(profile.meta)
    meta.setdefault("source", profile.source_format)
    meta["unit"] = profile.unit
    yield wire.json_frame(wire.META, meta)
    rows = []
    funcs = profile.frames["func"].tolist()
    lines = profile.frames["line"].tolist()
    for fid, (func, line) in enumerate(zip(funcs, lines, strict=True)):
        rows.append([fid, profile.func_file[func], line, profile.func_name[func], profile.func_line[func]])
    for i in range(0, max(len(rows), 1), chunk):
        if rows:
            yield wire.json_frame(wire.FRAMES, rows[i : i + chunk])
    threads = [[t.id, t.name, t.native_id] for t in profile.threads.values()]
    if threads:
        yield wire.json_frame(wire.THREADS, threads)
    if profile.loops:
        yield wire.json_frame(wire.LOOPS, [[lp.id, lp.thread, lp.description] for lp in profile.loops.values()])
    parents = profile.stacks["parent"].astype("<i4")
    sframes = profile.stacks["frame"].astype("<i4")
    for i in range(0, len(parents), chunk):
        p = parents[i : i + chunk]
        head = np.array([len(p), i], "<u4").tobytes()
        yield wire.frame(wire.STACKS, head + p.tobytes() + sframes[i : i + chunk].tobytes())
    s = profile.samples
    exact = profile.exact_weights
    for i in range(0, len(s), chunk):
        sl = slice(i, i + chunk)
        n = len(s["time"][sl])
        if exact and not all(fits_float32(s[name][sl]) for name in EXACT_COLUMNS):  # exact beside the float32 all readers know
            yield wire.frame(wire.EXACT_SAMPLES, b"".join([np.array([n, 0], "<u4").tobytes()]
                                                         + [s[name][sl].astype("<f8").tobytes() for name in EXACT_COLUMNS]))
        payload = b"".join(
            [np.array([n, 0], "<u4").tobytes()]
            + [s[name][sl].astype(dt).tobytes() for name, dt in _SAMPLE_SPECS]
        )
        yield wire.frame(wire.SAMPLES, payload)
    lag = profile.lag
    for i in range(0, len(lag), chunk):
        sl = slice(i, i + chunk)
        n = len(lag["time"][sl])
        payload = b"".join([np.array([n, 0], "<u4").tobytes()] + [lag[name][sl].astype(dt).tobytes() for name, dt in _LAG_SPECS])
        yield wire.frame(wire.LAG, payload)
    for ev in profile.blocking:
        yield wire.json_frame(
            wire.BLOCKING,
            {"start": ev.start, "duration": ev.duration, "loop": ev.loop, "thread": ev.thread,
             "stack": ev.stack, "task": ev.task, "callback": ev.callback, "task_name": ev.task_name,
             "await_chain": None if ev.await_chain is None else [list(r) for r in ev.await_chain],
             "delayed": None if ev.delayed is None else [list(r) for r in ev.delayed],
             "delayed_unrecorded": ev.delayed_unrecorded, "steps": stall_steps_json(ev.steps)},
        )
    if profile.task_awaiters:
        yield wire.json_frame(wire.TASK_AWAITERS, [list(r) for r in profile.task_awaiters])
    for info in profile.task_sampling.values():
        yield wire.json_frame(wire.TASK_SAMPLING, task_sampling_json(info))
    if profile.tasks:
        tasks = list(profile.tasks.values())
        yield wire.tasks_new_frame(
            [t.created if t.created is not None else float("nan") for t in tasks], [t.id for t in tasks],
            [t.parent if t.parent is not None else PARENT_UNRECORDED if t.parent_unrecorded else -1 for t in tasks],
            [t.loop for t in tasks],
            [t.name for t in tasks], [t.coro for t in tasks],
        )
        ended = [t for t in tasks if t.state != "pending"]
        if ended:
            nan = float("nan")
            codes = {name: i for i, name in enumerate(wire.TASK_STATES)}
            yield wire.tasks_end_frame(
                [t.ended if t.ended is not None else nan for t in ended], [t.id for t in ended],
                [nan if t.cpu_s is None else t.cpu_s for t in ended],
                [nan if t.running_s is None else t.running_s for t in ended],
                [nan if t.waiting_s is None else t.waiting_s for t in ended],
                [nan if t.delayed_s is None else t.delayed_s for t in ended],
                [codes.get(t.state, 0) for t in ended], [t.exc or "" for t in ended],
            )
    spans = profile.task_spans
    for i in range(0, len(spans), chunk):
        sl = slice(i, i + chunk)
        yield wire.task_spans_frame(
            spans["start"][sl].tolist(), spans["end"][sl].tolist(), spans["task"][sl].tolist(),
            spans["state"][sl].tolist(),
        )
    aw = profile.awaits
    if len(aw):
        times = aw["time"]
        cuts = np.flatnonzero(np.diff(times)) + 1
        for a, b in zip(np.r_[0, cuts].tolist(), np.r_[cuts, len(times)].tolist(), strict=True):
            yield wire.task_await_frame(float(times[a]), aw["task"][a:b].tolist(), aw["stack"][a:b].tolist())
    if profile.func_stats is not None:
        yield wire.json_frame(wire.FUNC_STATS, func_stats_to_json(profile, profile.func_stats))
    for note in profile.notices:
        yield wire.json_frame(wire.NOTICE, note)
    for t, stream, text in profile.output:
        yield wire.json_frame(wire.OUTPUT, {"t": t, "stream": stream, "text": text})
    if profile.telemetry:
        yield wire.json_frame(wire.TELEMETRY, profile.telemetry)
    if profile.end is not None:
        yield wire.json_frame(wire.END, profile.end)


def write_profile(profile: Profile, path: str | os.PathLike[str]) -> None:
    """Save any Profile as a `.pyro` recording."""
    with RecordingWriter(path, live=False) as writer:
        for data in profile_frames(profile):
            writer.write_raw(data)
