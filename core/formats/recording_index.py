"""The index of a `.pyro` recording: per-chunk sample aggregates and everything but the samples.

A day of a service is tens of millions of samples; `stats` and a window's
first frame need only their sums. The index (message type INDEX, the last
frame of a cleanly closed recording; docs/format.md) holds:

- per chunk of about a million samples (a byte range of whole frames): its
  offset, rows, first and last sample time, and for each (thread, stack) seen
  in it the sample count and the sums of weight and known CPU seconds;
- the *shell* of the profile, as ordinary frames in a few large batches:
  metadata, functions, frames, stacks, threads, loops, every lag probe,
  blocking events, tasks, call statistics, telemetry, notices and the end;
- what reading the indexed part reported (problems, rejected values), and
  the few sample facts `stats` shows (end of the last span, weight spread).

Task spans, await snapshots and console output stay only in the stream.
A recording without one (torn, written before the index existed, or by the
agent's own file sink) gets it built by one streaming pass that keeps no
sample, and cached under $PYROMETER_HOME (or the user's cache directory),
keyed by the file's path, size and modification time: never beside the file.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from pyrometer.core.agent import wire
from pyrometer.core.agent.tasks import PARENT_UNRECORDED
from pyrometer.core.analysis.lod import ActivityIndex, LagIndex
from pyrometer.core.analysis.loop import LagStats, _loops_of_threads
from pyrometer.core.columns import ColumnTable
from pyrometer.core.formats.recording import (
    _READ_BLOCK,
    _SPAN_ROW_BYTES,
    ReadReport,
    RecordingReader,
    _batch_rows,
    apply_message,
    func_stats_to_json,
    stall_steps_json,
    task_sampling_json,
)
from pyrometer.core.model import Profile

if TYPE_CHECKING:
    from pyrometer.core.formats.index_range import RangeSums

INDEX_VERSION = 2  # 2: lag figures in the header instead of every probe in the shell
CHUNK_ROWS = 1 << 20  # samples per chunk (a chunk ends at the first frame boundary past this)
LOOKS_SAMPLED_ROWS = 100_000  # summary.looks_sampled judges the first this many weights
_TAIL = struct.Struct("<I")  # the payload's last 4 bytes: its own length, so the frame is found from the file's end
_SHELL_CHUNK = 65536
_KEY = struct.Struct("<qq")  # size, mtime_ns of the file a cached index describes
_CHUNK_ARRAYS = {"chunk_offset": "<i8", "chunk_row": "<i8", "chunk_t0": "<f8", "chunk_t1": "<f8", "pair_start": "<i8"}
_PAIR_ARRAYS = {
    "pair_thread": "<i4", "pair_stack": "<i4", "pair_count": "<i8", "pair_weight": "<f8", "pair_cpu": "<f8",
    "pair_t_max": "<f8",
}
# the timeline's per-pixel summaries of the whole session (lod.ActivityIndex, lod.LagIndex), optional: an
# index written before them has none (its recording's timeline then waits for the samples); readers that
# do not know them skip them
_OVERVIEW_ARRAYS = {
    "act_thread": "<i4", "act_count": "<i4", "act_on": "<f8", "act_depth": "<i4", "act_gap": "<f8",
    "lag_low": "<f8", "lag_high": "<f8",
}
# a short session fills few of the summaries' 2^14 buckets per thread (a 0.3 s run: 29 of them, 448 KB stored
# whole): those stored as their non-empty cells when that is smaller, by the index array named here (header
# "sparse": {index array: length of the whole arrays}); the empty cells hold these values
# per chunk, the earliest and latest lag probe in its bytes (inf/-inf: none), and where each LAG frame
# starts (file order), optional: with the header's "weight_max" they let `stats --from/--to` read only
# the chunks a range needs and only the lag frames of the rest (index_range.py); an index without them
# is built again for a range
_RANGE_ARRAYS = {"chunk_lag_t0": "<f8", "chunk_lag_t1": "<f8", "lag_frame_offset": "<i8"}
_SPARSE_CELLS = {"act_cell": ("act_count", "act_on"), "lag_cell": ("lag_low", "lag_high")}
_EMPTY = {"act_count": 0.0, "act_on": 0.0, "lag_low": np.inf, "lag_high": -np.inf}


@dataclass
class RecordingIndex:
    """Aggregates of a recording's samples per chunk, and the shell of its profile (see module doc)."""

    covers: int  # the index describes the frames in bytes [16, covers)
    samples: int
    lag: int
    time_sorted: bool
    t_max: float  # latest sample time (nan without samples)
    span_end: float  # latest sample time + weight (nan without samples)
    weight_p10: float  # 10th/90th percentile of the first LOOKS_SAMPLED_ROWS weights (nan without samples)
    weight_p90: float
    report: dict[str, Any]
    functions: list[list[Any]]  # [name, file, firstline] in function id order
    arrays: dict[str, np.ndarray]
    shell: bytes | memoryview  # frames that rebuild everything but the samples and lag probes
    lag_t_max: float = float("nan")  # latest lag probe (nan without)
    spans: int = 0  # task spans (rows of TASK_SPANS batches)
    # analysis.loop.lag_stats of every probe ("all") and of each thread's loops (thread id as text)
    lag_stats: dict[str, dict[str, float]] = field(default_factory=dict)
    # headers of the timeline's summaries ({"activity": ..., "lag": ...}; arrays in _OVERVIEW_ARRAYS), {} when absent
    overview: dict[str, dict[str, Any]] = field(default_factory=dict)
    known_kinds: int = 0  # the highest message type its builder knew (0: written before this was kept)
    weight_max: float = float("nan")  # the largest sample weight (selection.max_weight; nan: none, or not kept)
    exact_weights: bool | None = None  # whether samples carry float64 weights (EXACT_SAMPLES); None: not kept

    @property
    def stale(self) -> bool:
        """Built by a reader that skipped messages this one reads (one before exact_samples, type 23, summed
        a saved import's float32 weights): its sums are not the file's, so it is built again."""
        return int(self.report.get("skipped_unknown") or 0) > 0 and self.known_kinds < max(wire.NAMES)

    @property
    def ranges(self) -> bool:
        """Whether it can answer a time range (index_range.py): where each chunk's lag probes lie, and
        how far a sample's span reaches."""
        return (all(k in self.arrays for k in _RANGE_ARRAYS) and (self.samples == 0 or self.weight_max >= 0)
                and self.exact_weights is not None)

    @property
    def chunks(self) -> int:
        return len(self.arrays["chunk_t0"])

    # ------------------------------------------------------------ encoding
    def encode(self) -> bytes:
        """The INDEX payload: u32 n, JSON header (n bytes), arrays, shell frames, u32 payload length."""
        arrays = {**{k: np.ascontiguousarray(self.arrays[k], dt) for k, dt in _CHUNK_ARRAYS.items()},
                  **{k: np.ascontiguousarray(self.arrays[k], dt) for k, dt in _PAIR_ARRAYS.items()}}
        sparse: dict[str, int] = {}
        if self.overview:
            overview = {k: np.ascontiguousarray(self.arrays[k], dt) for k, dt in _OVERVIEW_ARRAYS.items()}
            sparse = _store_sparse(overview)
            arrays.update(overview)
        if self.ranges:
            arrays.update({k: np.ascontiguousarray(self.arrays[k], dt) for k, dt in _RANGE_ARRAYS.items()})
        layout: dict[str, list[Any]] = {}
        offset = 0
        for name, arr in arrays.items():
            layout[name] = [arr.dtype.str, len(arr), offset]
            offset += arr.nbytes
        head = {
            "version": INDEX_VERSION, "covers": self.covers, "samples": self.samples, "lag": self.lag,
            "time_sorted": self.time_sorted, "t_max": _num(self.t_max), "span_end": _num(self.span_end),
            "weight_p10": _num(self.weight_p10), "weight_p90": _num(self.weight_p90), "report": self.report,
            "functions": self.functions, "lag_t_max": _num(self.lag_t_max), "lag_stats": self.lag_stats,
            # stored by cell, the summaries go under a key readers before cells do not know: they see
            # no overview (as in an index written before it) and compute it from the samples
            "spans": self.spans, **({"overview": {}, "overview_cells": self.overview, "sparse": sparse} if sparse
                                    else {"overview": self.overview}),
            "arrays": layout, "arrays_bytes": offset, "shell_bytes": len(self.shell), "known_kinds": self.known_kinds,
            "weight_max": _num(self.weight_max), "exact_weights": self.exact_weights,
        }
        text = json.dumps(head, separators=(",", ":")).encode("utf-8")
        body = b"".join([_TAIL.pack(len(text)), text, *(a.tobytes() for a in arrays.values()), self.shell])
        return body + _TAIL.pack(len(body) + _TAIL.size)

    @classmethod
    def decode(cls, payload: bytes | memoryview) -> RecordingIndex:
        """Parse an INDEX payload; ValueError when it is not one this version understands."""
        buf = memoryview(payload)
        if len(buf) < 8 or _TAIL.unpack_from(buf, len(buf) - 4)[0] != len(buf):
            raise ValueError("index payload has the wrong size")
        n = _TAIL.unpack_from(buf, 0)[0]
        try:
            head = json.loads(bytes(buf[4 : 4 + n]).decode("utf-8"))
        except (UnicodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"index header: {exc}") from exc
        if not isinstance(head, dict) or head.get("version") != INDEX_VERSION:
            raise ValueError("index of another version")
        base = 4 + n
        arrays = {}
        overview = head.get("overview") or head.get("overview_cells") or {}
        sparse = head.get("sparse") or {}
        ranges = tuple(_RANGE_ARRAYS) if all(k in head["arrays"] for k in _RANGE_ARRAYS) else ()
        for name in (*_CHUNK_ARRAYS, *_PAIR_ARRAYS, *(_OVERVIEW_ARRAYS if overview else ()), *sparse, *ranges):
            dt, count, offset = head["arrays"][name]
            start = base + int(offset)
            arr = np.frombuffer(buf, np.dtype(dt), int(count), start) if count else np.zeros(0, np.dtype(dt))
            arrays[name] = arr
        _load_sparse(arrays, sparse)
        shell_at = base + int(head["arrays_bytes"])
        shell = buf[shell_at : shell_at + int(head["shell_bytes"])]  # a view: lag alone is 16 bytes a probe
        if shell_at + len(shell) + 4 != len(buf):
            raise ValueError("index payload has the wrong size")
        k = len(arrays["chunk_t0"])
        if any(len(arrays[a]) != k + 1 for a in ("chunk_offset", "chunk_row", "pair_start")):
            raise ValueError("index chunks disagree")
        if k and int(arrays["pair_start"][-1]) != len(arrays["pair_stack"]):
            raise ValueError("index pairs disagree")
        return cls(
            covers=int(head["covers"]), samples=int(head["samples"]), lag=int(head["lag"]),
            time_sorted=bool(head["time_sorted"]), t_max=_float(head["t_max"]), span_end=_float(head["span_end"]),
            weight_p10=_float(head["weight_p10"]), weight_p90=_float(head["weight_p90"]),
            report=dict(head["report"]), functions=list(head["functions"]), arrays=arrays, shell=shell,
            lag_t_max=_float(head["lag_t_max"]), lag_stats=dict(head["lag_stats"]), spans=int(head.get("spans", 0)),
            overview=dict(overview), known_kinds=int(head.get("known_kinds") or 0),
            weight_max=_float(head.get("weight_max")), exact_weights=head.get("exact_weights"),
        )

    # ------------------------------------------------------------ using it
    def shell_profile(self, deferred: list[tuple[int, bytes]] | None = None) -> Profile:
        """Everything the recording says but its samples (functions, stacks, lag, tasks, ...).

        Function ids are those of a full read (functions are interned in the
        same order), so tables sort ties identically. Given `deferred`, the task
        batches go there undecoded instead (`stats` counts them: task_counts),
        unless the function table needs every task (trace mode's task wall/call).
        """
        profile = Profile()
        for name, file, firstline in self.functions:
            profile.intern_function(str(name), str(file), int(firstline))
        buf = memoryview(self.shell)
        pos = 0
        while pos + wire.FRAME_HEADER_SIZE <= len(buf):
            length, kind, _flags, _crc = wire.FRAME_HEADER.unpack_from(buf, pos)
            start = pos + wire.FRAME_HEADER_SIZE
            if deferred is not None and kind in _TASK_BATCHES:
                deferred.append((kind, bytes(buf[start : start + length])))
            else:
                apply_message(profile, kind, buf[start : start + length])
            pos = start + length
        if deferred and profile.func_stats is not None:
            for kind, payload in deferred:
                apply_message(profile, kind, payload)
            deferred.clear()
        return profile

    def stack_sums(
        self, threads: frozenset[int] | None, n_stacks: int, chunks: slice | None = None, value: str = "pair_weight"
    ) -> tuple[np.ndarray, np.ndarray]:
        """(weight, count) per stack id + 1, as analysis.aggregate.stack_sums gives, over the whole
        recording or over whole chunks `chunks` (a range's inside: see `chunks_within`).
        `value` "pair_cpu" sums the known CPU seconds instead of the weight."""
        a = self.arrays
        lo, hi = 0, len(a["pair_stack"])
        if chunks is not None:
            first, stop, _ = chunks.indices(self.chunks)
            lo, hi = int(a["pair_start"][first]), int(a["pair_start"][max(first, stop)])
        stack, thread = a["pair_stack"][lo:hi], a["pair_thread"][lo:hi]
        keep = slice(None) if threads is None else np.isin(thread, np.fromiter(threads, np.int64, len(threads)))
        shifted = stack[keep].astype(np.intp) + 1
        weight = np.bincount(shifted, weights=a[value][lo:hi][keep], minlength=n_stacks + 1)
        count = np.bincount(shifted, weights=a["pair_count"][lo:hi][keep], minlength=n_stacks + 1)
        return weight, np.rint(count).astype(np.int64)

    def chunks_within(self, t0: float, t1: float) -> slice:
        """The chunks whose samples all lie in [t0, t1): summed from the index, the rest of a range
        (its edges, rows chunk_row[k]..) is read from the file."""
        a = self.arrays
        first = int(np.searchsorted(a["chunk_t0"], t0, side="left"))
        stop = int(np.searchsorted(a["chunk_t1"], t1, side="left"))
        return slice(first, max(first, stop))

    def thread_counts(self) -> dict[int, int]:
        """Samples per thread id (threads with none are left out)."""
        a = self.arrays
        thread = a["pair_thread"]
        if not len(thread):
            return {}
        low, high = int(thread.min()), int(thread.max())
        if high - low < 1 << 16:  # vectorised (10^6 pairs at 100M samples): thread ids are small
            counts = np.bincount(thread - low, weights=a["pair_count"], minlength=high - low + 1)  # exact below 2^53
            return {low + i: int(n) for i, n in enumerate(np.rint(counts).tolist()) if n}
        out: dict[int, int] = {}
        for tid, n in zip(thread.tolist(), a["pair_count"].tolist(), strict=True):
            out[tid] = out.get(tid, 0) + n
        return {k: v for k, v in out.items() if v}

    def summary_profile(self, deferred: list[tuple[int, bytes]] | None = None) -> Profile:
        """The shell plus one row per (thread, stack) pair (its latest time, summed weight and CPU).

        Not a profile to analyse by rows (counts and weights live in the
        index): it gives `stats` the shape it checks (has samples, which
        threads) while IndexedSamples supplies every number.
        """
        profile = self.shell_profile(deferred)
        a = self.arrays
        if len(a["pair_stack"]):
            thread, stack, t = a["pair_thread"], a["pair_stack"], a["pair_t_max"]
            key = thread.astype(np.int64) * (profile.stack_count + 2) + stack + 1
            _, first = np.unique(key, return_index=True)
            order = first[np.argsort(t[first], kind="stable")]
            profile.add_samples(t[order], thread[order], stack[order], None,
                                a["pair_weight"][order], a["pair_cpu"][order].astype(np.float32))
        profile.finish()
        return profile


_TASK_BATCHES = frozenset({wire.TASKS_NEW, wire.TASKS_END, wire.TASKS_CREATED, wire.TASKS_FINISHED})


def _store_sparse(arrays: dict[str, np.ndarray]) -> dict[str, int]:
    """Replace each group of overview arrays by its non-empty cells where that takes fewer bytes;
    {index array: whole length} of those replaced (the "sparse" header)."""
    out: dict[str, int] = {}
    for cell, names in _SPARSE_CELLS.items():
        whole = len(arrays[names[0]])
        used = np.zeros(whole, bool)
        for name in names:
            used |= arrays[name] != _EMPTY[name]  # NaN differs too: kept
        at = np.flatnonzero(used).astype("<i4" if whole < 1 << 31 else "<i8")
        per_cell = sum(arrays[name].itemsize for name in names)
        if len(at) * (per_cell + at.itemsize) >= whole * per_cell:
            continue
        for name in names:
            arrays[name] = np.ascontiguousarray(arrays[name][at])
        arrays[cell] = at
        out[cell] = whole
    return out


def _load_sparse(arrays: dict[str, np.ndarray], sparse: dict[str, Any]) -> None:
    """The whole overview arrays again from the cells `_store_sparse` kept (an index without any: as stored)."""
    for cell, whole in sparse.items():
        names = _SPARSE_CELLS.get(cell)
        if names is None:
            raise ValueError(f"index overview: unknown cell array {cell!r}")
        at = arrays.pop(cell)
        if len(at) and (int(at.min()) < 0 or int(at.max()) >= int(whole)):
            raise ValueError("index overview: a cell outside its arrays")
        for name in names:
            if len(arrays[name]) != len(at):
                raise ValueError("index overview: cells and values disagree")
            full = np.full(int(whole), _EMPTY[name], arrays[name].dtype)
            full[at] = arrays[name]
            arrays[name] = full


def _num(x: float) -> float | None:
    return None if x != x else float(x)


def _float(x: Any) -> float:
    return float("nan") if x is None else float(x)


# ---------------------------------------------------------------- building
class _PairSums:
    """Sample count, weight and CPU sums per (thread, stack) of rows fed in batches."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []
        self.rows = 0

    def add(self, thread: np.ndarray, stack: np.ndarray, time: np.ndarray, weight: np.ndarray, cpu: np.ndarray) -> None:
        if not len(thread):
            return
        key = (thread.astype(np.int64) << 32) | (stack.astype(np.int64) + 1)
        uniq, inv = np.unique(key, return_inverse=True)
        m = len(uniq)
        count = np.bincount(inv, minlength=m).astype(np.int64)
        wsum = np.bincount(inv, weights=weight, minlength=m)
        known = cpu >= 0
        csum = np.bincount(inv[known], weights=cpu[known], minlength=m)
        tmax = np.full(m, -np.inf)
        np.maximum.at(tmax, inv, time)
        self.parts.append((uniq, count, wsum, csum, tmax))
        self.rows += len(thread)
        if len(self.parts) > 16:
            self.parts = [self._merged()]

    def _merged(self) -> tuple[np.ndarray, ...]:
        if len(self.parts) == 1:
            return self.parts[0]
        keys = np.concatenate([p[0] for p in self.parts])
        uniq, inv = np.unique(keys, return_inverse=True)
        m = len(uniq)
        count = np.bincount(inv, weights=np.concatenate([p[1] for p in self.parts]), minlength=m)
        wsum = np.bincount(inv, weights=np.concatenate([p[2] for p in self.parts]), minlength=m)
        csum = np.bincount(inv, weights=np.concatenate([p[3] for p in self.parts]), minlength=m)
        tmax = np.full(m, -np.inf)
        np.maximum.at(tmax, inv, np.concatenate([p[4] for p in self.parts]))
        return uniq, np.rint(count).astype(np.int64), wsum, csum, tmax

    def take(self) -> tuple[np.ndarray, ...]:
        """(thread, stack, count, weight, cpu, t_max) per pair, then start over."""
        if not self.parts:
            z = np.zeros(0)
            return (np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int64), z, z, z)
        key, count, wsum, csum, tmax = self._merged()
        self.parts = []
        self.rows = 0
        return ((key >> 32).astype(np.int32), ((key & 0xFFFFFFFF) - 1).astype(np.int32), count, wsum, csum, tmax)


class IndexBuilder(RecordingReader):
    """Reads a recording once, keeping no sample: each block's rows are summed into chunks, then dropped."""

    def __init__(self, path: str | os.PathLike[str], fh: BinaryIO | None = None) -> None:
        super().__init__(path, fh=fh)
        self._pairs = _PairSums()
        self._chunks: list[tuple[int, int, float, float]] = []  # offset, first row, t0, t1
        self._chunk_pairs: list[tuple[np.ndarray, ...]] = []
        self._chunk_start = wire.FILE_HEADER_SIZE
        self._chunk_row = 0
        self._chunk_t: list[float] = [np.inf, -np.inf]
        self._rows = 0
        self._sorted = True
        self._last_t = -np.inf
        self._first_weights: list[np.ndarray] = []
        self._first_count = 0
        self._t_max = -np.inf
        self._span_end = -np.inf
        self._span_rows = 0
        self._activity = ActivityIndex()  # the timeline's per-pixel summary, fed each block before it is dropped
        self._weight_max = -np.inf
        self._exact = False
        self._lag_seen = 0  # lag rows whose times are in the chunk's bounds already
        self._chunk_lag: list[float] = [np.inf, -np.inf]
        self._chunk_lags: list[tuple[float, float]] = []
        self._lag_frames: list[int] = []  # byte offset of each LAG frame

    def _stage_samples(self, buf: memoryview, start: int, length: int, where: int) -> str | None:
        if self._pairs.rows + (self._samples.n - self._samples.committed if self._samples else 0) >= CHUNK_ROWS:
            self._after_block()  # the chunk is full: close it before this frame
            self._close_chunk(where)
        return super()._stage_samples(buf, start, length, where)

    def _after_block(self) -> None:
        """Validate what was staged, add it to the chunk's sums and drop the rows."""
        self._commit()
        lag_t = self.profile.lag["time"]
        if len(lag_t) > self._lag_seen:
            fresh = lag_t[self._lag_seen :]
            self._chunk_lag = [min(self._chunk_lag[0], float(fresh.min())), max(self._chunk_lag[1], float(fresh.max()))]
            self._lag_seen = len(lag_t)
        del lag_t
        samples = self.profile.samples
        n = len(samples)
        if not n:
            return
        t, w = samples["time"], samples["weight"]
        self._pairs.add(samples["thread"], samples["stack"], t, w, samples["cpu"])
        if self._sorted and (t[0] < self._last_t or bool((t[1:] < t[:-1]).any())):
            self._sorted = False
        self._last_t = float(t[-1])
        self._chunk_t[0] = min(self._chunk_t[0], float(t.min()))
        self._chunk_t[1] = max(self._chunk_t[1], float(t.max()))
        self._t_max = max(self._t_max, float(t.max()))
        self._span_end = max(self._span_end, float((t + w).max()))
        self._weight_max = max(self._weight_max, float(w.max()))
        self._exact = self._exact or w.dtype == np.float64
        if self._first_count < LOOKS_SAMPLED_ROWS:
            take = w[: LOOKS_SAMPLED_ROWS - self._first_count].copy()
            self._first_weights.append(take)
            self._first_count += len(take)
        self._rows += n
        del t, w
        if self._sorted:  # (out of order, a full read sorts the samples and indexes them itself)
            self._activity.add_rows(self.profile, 0, n)
        samples.truncate(0)
        assert self._samples is not None
        self._samples.committed = self._samples.n = 0

    def _close_chunk(self, end_offset: int) -> None:
        if not self._pairs.rows:
            return
        self._chunks.append((self._chunk_start, self._chunk_row, self._chunk_t[0], self._chunk_t[1]))
        self._chunk_pairs.append(self._pairs.take())
        self._chunk_lags.append((self._chunk_lag[0], self._chunk_lag[1]))
        self._chunk_lag = [np.inf, -np.inf]
        self._chunk_start = end_offset
        self._chunk_row = self._rows
        self._chunk_t = [np.inf, -np.inf]

    def _stage_lag(self, buf: memoryview, start: int, length: int) -> str | None:
        why = super()._stage_lag(buf, start, length)
        if why is None:  # (`_offset` is where `buf` starts while its frames are applied)
            self._lag_frames.append(self._offset + start - wire.FRAME_HEADER_SIZE)
        return why

    def _stage_spans(self, buf: memoryview, start: int, length: int) -> str | None:
        """Task spans are only counted (the index keeps no span): 21 bytes a row less to hold."""
        n, why = _batch_rows(buf, start, length, _SPAN_ROW_BYTES)
        if why is None:
            self._span_rows += n
        return why

    def _apply_frames(self, buf: memoryview, on_frame: Callable[[int, memoryview], None] | None) -> tuple[int, int, str | None]:
        out = super()._apply_frames(buf, on_frame)
        self._after_block()
        return out

    def build(self, progress: Callable[[float], None] | None = None) -> RecordingIndex:
        self.poll(progress=progress)
        report = self.finish_index()
        return self._index(report)

    def finish_index(self) -> ReadReport:
        """Like finish(), without sorting samples it no longer holds."""
        report = self.finish()
        self._after_block()
        self._close_chunk(self._offset)
        return report

    def _index(self, report: ReadReport) -> RecordingIndex:
        chunks = self._chunks
        parts = self._chunk_pairs
        arrays: dict[str, np.ndarray] = {
            "chunk_offset": np.asarray([c[0] for c in chunks] + [self._offset], np.int64),
            "chunk_row": np.asarray([c[1] for c in chunks] + [self._rows], np.int64),
            "chunk_t0": np.asarray([c[2] for c in chunks], np.float64),
            "chunk_t1": np.asarray([c[3] for c in chunks], np.float64),
            "pair_start": np.concatenate(([0], np.cumsum([len(p[0]) for p in parts], dtype=np.int64))).astype(np.int64),
            "chunk_lag_t0": np.asarray([c[0] for c in self._chunk_lags], np.float64),
            "chunk_lag_t1": np.asarray([c[1] for c in self._chunk_lags], np.float64),
            "lag_frame_offset": np.asarray(self._lag_frames, np.int64),
        }
        for i, name in enumerate(_PAIR_ARRAYS):
            dt = np.dtype(_PAIR_ARRAYS[name])
            arrays[name] = np.concatenate([p[i] for p in parts]).astype(dt) if parts else np.zeros(0, dt)
        weights = np.concatenate(self._first_weights) if self._first_weights else np.zeros(0, np.float32)
        p10, p90 = (float(v) for v in np.percentile(weights, [10, 90])) if len(weights) else (float("nan"),) * 2
        profile = self.profile
        threads = set(profile.threads) | {lp.thread for lp in profile.loops.values()}
        threads |= {int(t) for p in parts for t in np.unique(p[0]).tolist()}
        lag_stats = _lag_figures_per_thread(profile, sorted(threads))
        overview: dict[str, dict[str, Any]] = {}
        if self._sorted:
            act_head, act_arrays = self._activity.to_arrays()
            lag_head, lag_arrays = LagIndex().update(profile).to_arrays()
            overview = {"activity": act_head, "lag": lag_head}
            arrays.update(act_arrays)
            arrays.update(lag_arrays)
        return RecordingIndex(
            covers=self._offset, samples=self._rows, lag=len(profile.lag), time_sorted=self._sorted,
            t_max=self._t_max if self._rows else float("nan"), span_end=self._span_end if self._rows else float("nan"),
            weight_p10=p10, weight_p90=p90,
            report={"frames": report.frames, "dropped_bytes": report.dropped_bytes,
                    "skipped_unknown": report.skipped_unknown, "problems": list(report.problems)},
            functions=[[n, f, ln] for n, f, ln in zip(profile.func_name, profile.func_file, profile.func_line, strict=True)],
            arrays=arrays, shell=b"".join(shell_frames(profile)),
            lag_t_max=float(profile.lag["time"].max()) if len(profile.lag) else float("nan"), lag_stats=lag_stats,
            spans=self._span_rows, overview=overview, known_kinds=max(wire.NAMES),
            weight_max=self._weight_max if self._rows else float("nan"), exact_weights=self._exact,
        )


def _lag_figures_per_thread(profile: Profile, threads: list[int]) -> dict[str, dict[str, float]]:
    """What `stats` shows of analysis.loop.lag_stats, for the whole run ("all") and each thread's loops.

    The same values in the same order as lag_stats takes them (every probe as
    recorded; a thread's in time order), so the same figures to the last bit,
    but put in time order once, not once per thread, and without the histogram:
    a day's 7.5M probes took 1.4 s of a recording's close.
    """
    lag = profile.lag
    values = lag["lag"].astype(np.float64)
    out: dict[str, dict[str, float]] = {"all": {}}  # filled last: its percentiles may then reorder `values` in place
    times = lag["time"]
    order = np.argsort(times, kind="stable") if _out_of_order(times) else None
    loops = lag["loop"] if order is None else lag["loop"][order]
    thread_of = _thread_of_probes(profile, loops)
    in_time = values if order is None else values[order]
    del order  # each temporary goes as soon as it is used: a day's 7.5M probes made ~300 MB of the close's peak
    # every probe on one thread's loops (the common case): that thread's probes are all of them, in time order
    one = None if thread_of is None or not len(thread_of) or not bool((thread_of == thread_of[0]).all()) else int(thread_of[0])
    for tid in threads:
        if not profile.loops:
            mine = in_time
        elif one is not None:
            mine = in_time if tid == one else in_time[:0]
        elif thread_of is not None:
            mine = in_time[thread_of == tid]
        else:
            mine = in_time[np.isin(loops, _loops_of_threads(profile, frozenset([tid])))]
        # with `one`, its thread is the only reader of all of in_time, which may then be reordered unless it is `values`
        out[str(tid)] = _lag_figures(mine, own=mine is not in_time or (one is not None and in_time is not values))
    del thread_of, loops, in_time
    out["all"] = _lag_figures(values, own=True)
    return out


def _out_of_order(times: np.ndarray, step: int = 1 << 20) -> bool:
    """Whether any time is less than the one before it, in steps (np.diff of a day's 7.5M probes was 60 MB at the close's peak)."""
    return any(bool((times[at + 1 : at + step + 1] < times[at : at + step][: len(times) - at - 1]).any())
               for at in range(0, len(times), step))


def _thread_of_probes(profile: Profile, loops: np.ndarray) -> np.ndarray | None:
    """The thread of each probe's loop, by a table lookup (np.isin per thread took 0.5 s at 7.5M probes);
    a probe of an unknown loop belongs to no thread. None when loop ids are too sparse for a table."""
    if not profile.loops or not len(loops):
        return None
    ids = np.fromiter(profile.loops.keys(), np.int64, len(profile.loops))
    hi = max(int(ids.max()), int(loops.max()))
    if int(ids.min()) < 0 or int(loops.min()) < 0 or hi >= 1 << 20:
        return None
    threads = np.fromiter((lp.thread for lp in profile.loops.values()), np.int64, len(ids))
    # int32 when the thread ids fit: a day's 7.5M probes, 30 MB less at the close's peak
    dt = np.int32 if len(threads) and int(threads.min()) > np.iinfo(np.int32).min and int(threads.max()) <= np.iinfo(np.int32).max else np.int64
    table = np.full(hi + 1, np.iinfo(dt).min, dt)
    table[ids] = threads
    return table[loops]


def _lag_figures(values: np.ndarray, own: bool = False) -> dict[str, float]:
    """analysis.loop.lag_stats's figures of these probe values (float64 seconds).

    `own`: the caller's copy, which the percentiles may reorder in place (no copy of 7.5M probes
    at the close's peak); the mean is taken before that, over the values in their order.
    """
    if not len(values):
        return {"probes": 0, "p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0, "mean": 0.0}
    top, mean = float(values.max()), float(values.mean())
    p50, p95, p99 = (float(v) for v in np.percentile(values, [50, 95, 99], overwrite_input=own))
    return {"probes": len(values), "p50": p50, "p95": p95, "p99": p99, "max": top, "mean": mean}


def shell_frames(profile: Profile) -> list[bytes]:
    """The profile without samples, lag probes, spans, await snapshots or output, as a few large frames."""
    out = [wire.json_frame(wire.META, profile.meta)] if profile.meta else []
    funcs = profile.frames["func"].tolist()
    lines = profile.frames["line"].tolist()
    rows = [[fid, profile.func_file[f], line, profile.func_name[f], profile.func_line[f]]
            for fid, (f, line) in enumerate(zip(funcs, lines, strict=True))]
    for i in range(0, len(rows), _SHELL_CHUNK):
        out.append(wire.json_frame(wire.FRAMES, rows[i : i + _SHELL_CHUNK]))
    if profile.threads:
        out.append(wire.json_frame(wire.THREADS, [[t.id, t.name, t.native_id] for t in profile.threads.values()]))
    if profile.loops:
        out.append(wire.json_frame(wire.LOOPS, [[lp.id, lp.thread, lp.description] for lp in profile.loops.values()]))
    parents, frames = profile.stacks["parent"].astype("<i4"), profile.stacks["frame"].astype("<i4")
    for i in range(0, len(parents), _SHELL_CHUNK):
        p = parents[i : i + _SHELL_CHUNK]
        out.append(wire.frame(wire.STACKS, struct.pack("<II", len(p), i) + p.tobytes() + frames[i : i + _SHELL_CHUNK].tobytes()))
    for ev in profile.blocking:
        out.append(wire.json_frame(wire.BLOCKING, {
            "start": ev.start, "duration": ev.duration, "loop": ev.loop, "thread": ev.thread, "stack": ev.stack,
            "task": ev.task, "callback": ev.callback, "task_name": ev.task_name,
            "await_chain": None if ev.await_chain is None else [list(r) for r in ev.await_chain],
            "delayed": None if ev.delayed is None else [list(r) for r in ev.delayed],
            "delayed_unrecorded": ev.delayed_unrecorded, "steps": stall_steps_json(ev.steps)}))
    if profile.task_awaiters:
        out.append(wire.json_frame(wire.TASK_AWAITERS, [list(r) for r in profile.task_awaiters]))
    for info in profile.task_sampling.values():
        out.append(wire.json_frame(wire.TASK_SAMPLING, task_sampling_json(info)))
    if profile.tasks:
        out.extend(_task_frames(profile))
    if profile.func_stats is not None:
        out.append(wire.json_frame(wire.FUNC_STATS, func_stats_to_json(profile, profile.func_stats)))
    for note in profile.notices:
        out.append(wire.json_frame(wire.NOTICE, note))
    if profile.telemetry:
        out.append(wire.json_frame(wire.TELEMETRY, profile.telemetry))
    if profile.end is not None:
        out.append(wire.json_frame(wire.END, profile.end))
    return out


def _task_frames(profile: Profile) -> list[bytes]:
    """Every task as one TASKS_NEW and one TASKS_END batch (NaN: unknown, as on the wire)."""
    nan = float("nan")
    tasks = list(profile.tasks.values())
    out = [wire.tasks_new_frame(
        [nan if t.created is None else t.created for t in tasks], [t.id for t in tasks],
        [t.parent if t.parent is not None else PARENT_UNRECORDED if t.parent_unrecorded else -1 for t in tasks],
        [t.loop for t in tasks],
        [t.name for t in tasks], [t.coro for t in tasks])]
    ended = [t for t in tasks if t.state != "pending" or t.ended is not None]
    if ended:
        codes = {name: i for i, name in enumerate(wire.TASK_STATES)}
        out.append(wire.tasks_end_frame(
            [nan if t.ended is None else t.ended for t in ended], [t.id for t in ended],
            [nan if t.cpu_s is None else t.cpu_s for t in ended], [nan if t.running_s is None else t.running_s for t in ended],
            [nan if t.waiting_s is None else t.waiting_s for t in ended], [nan if t.delayed_s is None else t.delayed_s for t in ended],
            [codes.get(t.state, 0) for t in ended], [t.exc or "" for t in ended]))
    return out


def build_index(
    path: str | os.PathLike[str], fh: BinaryIO | None = None, progress: Callable[[float], None] | None = None
) -> RecordingIndex:
    """Index a recording by reading it once (bounded memory: no sample is kept)."""
    return IndexBuilder(path, fh).build(progress)


def index_frame(path: str | os.PathLike[str], fh: BinaryIO, size: int) -> bytes | None:
    """The INDEX frame a writer appends to the `size` bytes it wrote (through its own handle `fh`);
    None when those bytes do not read back whole."""
    index = build_index(path, fh)
    if index.covers != size or index.report.get("problems"):
        return None
    return wire.frame(wire.INDEX, index.encode())


class LiveIndexer(IndexBuilder):
    """Indexes a recording from the bytes its writer writes, as it writes them (no re-read at close).

    The bytes are cut into the same blocks a read of the file would take
    (4 MB, a frame larger than that on its own), so the index is the one
    `build_index` gives for the finished file, sum for sum. At most one
    block waits here; rows are summed and dropped block by block. Anything
    it cannot follow (a frame that does not apply) makes it give up: the
    recording then gets its index built on first open, as a torn one does.
    """

    def __init__(self, path: str | os.PathLike[str], model: Profile | None = None) -> None:
        """`model`: a live profile that gets these same frames applied, in order (the window's). The
        indexer then keeps neither lag probes (counted and dropped block by block) nor tasks (their
        rows counted, the frames skipped) and takes both from the model at the end, once the stream
        is over and the model holds all of it: a day's 7.5M probes (114 MB) and 150k tasks (~80 MB of
        Python objects) were held twice. Its owner must not change them while `index_frame` runs;
        when the model's counts differ from the file's, no index is made (the first open builds it)."""
        super().__init__(path, fh=io.BytesIO(wire.file_header()))
        self._head = bytearray()  # the file header, until all of it went by
        self._pending = bytearray()
        self.failed: str | None = None
        self._model = model
        self._lag_rows = 0  # probes counted and dropped (with a model)
        self._task_rows = 0  # task events counted, their frames skipped (with a model)
        if model is not None:
            self.skip_kinds = frozenset((wire.TASKS_NEW, wire.TASKS_END))
        self._reserve(self._offset + _READ_BLOCK)

    def _after_block(self) -> None:
        super()._after_block()
        lag = self.profile.lag
        if self._model is not None and len(lag):
            self._lag_rows += len(lag)
            lag.truncate(0)
            assert self._lag is not None
            self._lag.committed = self._lag.n = 0
            self._lag_seen = 0

    def _count_tasks(self, kind: int, payload: memoryview) -> None:
        if kind in self.skip_kinds and len(payload) >= 4:
            self._task_rows += struct.unpack_from("<I", payload, 0)[0]  # a task batch's row count leads it

    def feed(self, data: bytes | memoryview) -> None:
        """The next bytes of the file (from its first byte on), exactly as written."""
        if self.failed is not None:
            return
        view = memoryview(data)
        if len(self._head) < wire.FILE_HEADER_SIZE:
            take = wire.FILE_HEADER_SIZE - len(self._head)
            self._head += view[:take]
            view = view[take:]
            if len(self._head) == wire.FILE_HEADER_SIZE and not self._check_header():
                return
        self._pending += view
        self._drain(final=False)

    def _check_header(self) -> bool:
        version = wire.parse_file_header(bytes(self._head))
        if version is None:
            self.failed = "not a Pyrometer recording (bad header)"
        elif version > wire.FORMAT_VERSION:
            self.report.problems.append(f"format version {version} is newer than {wire.FORMAT_VERSION}; unknown parts skipped")
        return self.failed is None

    def _drain(self, final: bool) -> None:
        """Apply whole blocks (at the end, whatever is left), as RecordingReader.poll reads them."""
        pending = self._pending
        while self.failed is None and (len(pending) >= _READ_BLOCK or (final and pending)):
            block = len(pending) if final and len(pending) < _READ_BLOCK else _READ_BLOCK
            if len(pending) >= wire.FRAME_HEADER_SIZE:
                length = wire.FRAME_HEADER.unpack_from(pending, 0)[0]
                if length <= wire.MAX_PAYLOAD and wire.FRAME_HEADER_SIZE + length > block:
                    block = wire.FRAME_HEADER_SIZE + length  # one frame larger than a block: on its own
                    if block > len(pending):
                        if final:
                            self.failed = "the last frame is incomplete"
                        return  # not all of it yet
            view = memoryview(pending)[:block]
            try:
                count, used, bad = self._apply_frames(view, None if self._model is None else self._count_tasks)
            finally:
                view.release()
            self.report.frames += count
            self._offset += used
            if bad is not None or not used:
                self.failed = bad or "bytes that are not a whole frame"
                return
            del pending[:used]

    def index_frame(self, size: int, progress: Callable[[float], None] | None = None) -> bytes | None:
        """The INDEX frame to append to the `size` bytes written; None when this indexer gave up.

        `progress` hears the fraction done at each step (a close on a worker shows it).
        """
        tell = progress or (lambda _f: None)
        tell(0.0)
        self._drain(final=True)
        if self.failed is not None or len(self._head) < wire.FILE_HEADER_SIZE:
            return None
        self._after_block()
        if self._rejected:  # a read reports the impossible values it dropped: such an index is not written
            return None
        self._close_chunk(self._offset)
        self.profile.finish()
        model = self._model
        if model is not None:
            if len(model.lag) != self._lag_rows or len(model.task_log) != self._task_rows:
                return None  # the model took other probes or tasks than the file holds: index it on first open
            source = model.lag
            frozen = ColumnTable({n: source.storage(n).dtype for n in source.names}, 1)
            # its first rows, in its storage (no copy): rows its owner might still append are not read
            frozen.adopt({n: source.storage(n) for n in source.names}, self._lag_rows)
            self.profile.lag = frozen
            self.profile.tasks = model.tasks  # read only, by this thread, from here on
        tell(0.15)  # measured at 10M samples: the last block ~10%, the index ~75%, its encoding the rest
        index = self._index(self.report)
        if model is not None:
            self.profile.lag.release()  # the model's probes, read once: a spilled column's rows go back to its file
        if index.covers != size or index.report.get("problems"):
            return None
        tell(0.9)
        data = wire.frame(wire.INDEX, index.encode())
        tell(1.0)
        return data


# ---------------------------------------------------------------- finding it
def read_index_frame(path: str | os.PathLike[str]) -> RecordingIndex | None:
    """The index written at the end of the file, if the last frame is one that covers all before it."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size < wire.FILE_HEADER_SIZE + wire.FRAME_HEADER_SIZE + 8:
                return None
            fh.seek(size - 4)
            n = _TAIL.unpack(fh.read(4))[0]
            at = size - wire.FRAME_HEADER_SIZE - n
            if n > wire.MAX_PAYLOAD or at < wire.FILE_HEADER_SIZE:
                return None
            fh.seek(at)
            data = fh.read(wire.FRAME_HEADER_SIZE + n)
    except OSError:
        return None
    length, kind, flags, crc = wire.FRAME_HEADER.unpack_from(data, 0)
    payload = memoryview(data)[wire.FRAME_HEADER_SIZE :]
    if kind != wire.INDEX or length != n or flags or wire.frame_crc(kind, flags, payload) != crc:  # type: ignore[arg-type]
        return None
    try:
        index = RecordingIndex.decode(payload)
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        del exc
        return None
    return index if index.covers == at else None


def cache_home() -> Path:
    """$PYROMETER_HOME/index-cache, else $XDG_CACHE_HOME/pyrometer/index, else ~/.cache/pyrometer/index."""
    home = os.environ.get("PYROMETER_HOME")
    if home:
        return Path(home).expanduser() / "index-cache"
    cache = os.environ.get("XDG_CACHE_HOME")
    return (Path(cache).expanduser() if cache else Path.home() / ".cache") / "pyrometer" / "index"


def _cache_file(path: Path) -> tuple[Path, bytes] | None:
    """Where the index of `path` is cached (one file per recording) and the key it must carry."""
    try:
        st = path.stat()
        real = os.path.realpath(path)
    except OSError:
        return None
    name = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return cache_home() / f"{name}.pyroidx", _KEY.pack(st.st_size, st.st_mtime_ns)


def read_cached_index(path: str | os.PathLike[str]) -> RecordingIndex | None:
    where = _cache_file(Path(path))
    if where is None:
        return None
    file, key = where
    try:
        data = file.read_bytes()
    except OSError:
        return None
    if data[: _KEY.size] != key or len(data) < _KEY.size + 4:
        return None
    body = memoryview(data)[_KEY.size + 4 :]
    if zlib.crc32(body) != _TAIL.unpack_from(data, _KEY.size)[0]:
        return None
    try:
        return RecordingIndex.decode(body)
    except (ValueError, KeyError, TypeError, IndexError):
        return None


def write_cached_index(path: str | os.PathLike[str], index: RecordingIndex) -> bool:
    """Cache an index built for `path`; False when the cache directory cannot be written (no harm done)."""
    where = _cache_file(Path(path))
    if where is None:
        return False
    file, key = where
    body = index.encode()
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(f"{file.name}.{os.getpid()}.tmp")
        tmp.write_bytes(key + _TAIL.pack(zlib.crc32(body)) + body)
        os.replace(tmp, file)
    except OSError:
        return False
    return True


def load_index(
    path: str | os.PathLike[str], build: bool = True, progress: Callable[[float], None] | None = None,
    ranges: bool = False,
) -> RecordingIndex | None:
    """The recording's index: its own last frame, else the cached one, else (build=True) built and cached.
    An index an older reader built while skipping messages this one reads (`stale`) is not used, nor,
    with `ranges`, one that cannot answer a time range (written before it could: given the range fields
    by one walk over the frames' headers, index_range.add_range_fields, else built again; then cached)."""
    index = read_index_frame(path)
    if index is not None and index.stale:
        index = None
    if index is not None and ranges and not index.ranges:  # one of a recording made before ranges
        cached = read_cached_index(path)
        if cached is not None and not cached.stale and cached.ranges:
            return cached
        from pyrometer.core.formats.index_range import add_range_fields

        if add_range_fields(path, index) and index.ranges:
            write_cached_index(path, index)  # (where none can be written, the walk is made again next time)
            return index
        index = None
    if index is None:
        index = read_cached_index(path)
        if index is not None and (index.stale or (ranges and not index.ranges)):
            index = None
    if index is None and build:
        index = build_index(path, progress=progress)
        write_cached_index(path, index)
    return index


# ---------------------------------------------------------------- stats from an index
class IndexedSamples:
    """What `stats` needs of the samples, from an index (summary.build_summary's `indexed`)."""

    def __init__(self, index: RecordingIndex, profile: Profile, task_batches: list[tuple[int, bytes]] | None = None) -> None:
        self.index = index
        self.profile = profile
        self._threads = index.thread_counts()
        self.task_batches = task_batches or []  # the shell's task batches, not applied to `profile` (open_for_stats)
        self.range: RangeSums | None = None  # a time range's figures (index_range.py), set by open_for_stats

    def tasks_profile(self) -> Profile:
        """`profile`'s tasks as a full read makes them: the deferred batches applied to a profile of their own."""
        if not self.task_batches:
            return self.profile
        holder = Profile()
        for kind, payload in self.task_batches:
            apply_message(holder, kind, memoryview(payload))
        return holder

    def stack_sums(self, threads: frozenset[int] | None) -> tuple[np.ndarray, np.ndarray]:
        if self.range is not None:
            return self.range.stack_sums(threads)
        return self.index.stack_sums(threads, self.profile.stack_count)

    @property
    def overview(self) -> bool:
        """Whether the index holds the timeline's summaries (activity per thread, lag per time bucket)."""
        return bool(self.index.overview)

    def lag_count(self) -> int:
        return self.index.lag

    def thread_counts(self) -> dict[int, int]:
        return dict(self._threads)

    def cpu_sums(self, threads: frozenset[int] | None) -> tuple[np.ndarray, np.ndarray, dict[int, float]]:
        """(known CPU seconds, samples) per stack id + 1, and CPU seconds per thread (analysis.cpu_time)."""
        if self.range is not None:
            got = self.range.cpu(threads)
            return got.per_stack, got.count_per_stack, got.per_thread
        per_stack, count = self.index.stack_sums(threads, self.profile.stack_count, value="pair_cpu")
        a = self.index.arrays
        ids, inverse = np.unique(a["pair_thread"], return_inverse=True)
        per_thread = dict(zip(ids.tolist(), np.bincount(inverse, weights=a["pair_cpu"]).tolist(), strict=True))
        return per_stack, count, per_thread

    def selected(self, threads: frozenset[int] | None = None) -> int:
        """Samples in the selection: the range's (overlapping it) when there is one, else `count`."""
        return self.range.count(threads) if self.range is not None else self.count(threads)

    def selected_thread_counts(self) -> dict[int, int]:
        """Samples per thread in the range (summary.thread_rows), else the whole run's."""
        return self.range.thread_counts() if self.range is not None else self.thread_counts()

    def count(self, threads: frozenset[int] | None = None) -> int:
        if threads is None:
            return self.index.samples
        return sum(n for tid, n in self._threads.items() if tid in threads)

    def duration(self) -> float:
        """Profile.duration() of the full profile: the shell's events and the samples' latest time / span."""
        profile, index = self.profile, self.index
        ends = [0.0]
        if index.samples:
            ends.append(index.t_max)
            if profile.unit == "seconds" and not profile.samples_end_spans:
                ends.append(index.span_end)
        if index.lag:
            ends.append(index.lag_t_max)
        ends.extend(b.start + b.duration for b in profile.blocking)
        if profile.end and isinstance(profile.end.get("t"), (int, float)):
            ends.append(float(profile.end["t"]))
        if profile.func_stats is not None and not index.samples:
            ends.append(float(profile.func_stats.total_time.max(initial=0.0)))
        return max(ends)

    def bounds(self) -> tuple[float, float]:
        """(start, end) of the run as commands.check_range_inside takes them from a full read."""
        t0 = self.index.arrays["chunk_t0"]
        return (min(0.0, float(t0.min())) if self.index.samples and len(t0) else 0.0), self.duration()

    def lag_stats(self, threads: frozenset[int] | None) -> LagStats:
        """analysis.loop.lag_stats (figures, no histogram) of the whole run or of one thread's loops."""
        if self.range is not None:
            return self.range.lag_stats(threads)
        figures = self.index.lag_stats.get("all" if threads is None else ",".join(str(t) for t in sorted(threads)))
        if figures is None:  # a thread the index has not seen runs no loop
            figures = {"probes": 0, "p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0, "mean": 0.0}
        return LagStats(int(figures["probes"]), float(figures["p50"]), float(figures["p95"]), float(figures["p99"]),
                        float(figures["max"]), np.zeros(0), np.zeros(0, np.int64), float(figures["mean"]))

    def looks_sampled(self) -> bool:
        """summary.looks_sampled over the first weights (kept as their 10th and 90th percentiles)."""
        if self.profile.unit != "seconds" or self.index.samples < 2:
            return False
        lo, hi = self.index.weight_p10, self.index.weight_p90
        return lo > 0 and hi / lo <= 1.5

    def notices(self, path: str) -> list[dict[str, Any]]:
        """The warning a full read would attach (pyro importer): what reading the file had to drop."""
        problems = self.index.report.get("problems") or []
        return [{"level": "warning", "message": f"{path}: " + "; ".join(problems)}] if problems else []


def open_for_stats(
    path: str | os.PathLike[str], progress: Callable[[float], None] | None = None, task_rows: bool = True,
    t_from: float | None = None, t_to: float | None = None,
) -> tuple[Profile, IndexedSamples] | None:
    """(profile shell with one row per thread and stack, its sample sums) from the index; None when
    the index cannot stand in for the samples (out of time order: a full read sorts them).
    `task_rows` False leaves the tasks undecoded in IndexedSamples.task_batches (the text form counts them).
    With `t_from`/`t_to` the sums are the range's (index_range.py: the edges' chunks read from the file);
    None also for a range of a recording without samples, or with float64 weights (an import saved as .pyro:
    summed per chunk, in another order, they would differ from a full read in the last digits; the agent's
    float32 weights sum exactly), or whose weights are counts."""
    ranged = t_from is not None or t_to is not None
    index = load_index(path, progress=progress, ranges=ranged)
    if index is None or not index.time_sorted or (ranged and not (index.ranges and index.samples)):
        return None
    batches: list[tuple[int, bytes]] | None = None if task_rows else []
    profile = index.summary_profile(batches)
    index.shell = b""  # applied: let the file's bytes go once the pair sums are copied out
    index.arrays = {name: arr.copy() for name, arr in index.arrays.items()}
    indexed = IndexedSamples(index, profile, batches)
    if ranged:
        if profile.unit != "seconds" or index.exact_weights:
            return None  # (float32 weights, the agent's, sum exactly in any order; float64 ones may not)
        start, end = indexed.bounds()
        if (t_from is not None and t_from >= end) or (t_to is not None and t_to <= start):
            return profile, indexed  # outside the run: the command says so (check_range_inside), nothing to read
        from pyrometer.core.formats.index_range import RangeSums, read_range

        indexed.range = RangeSums(index, read_range(path, index, profile, t_from, t_to), profile.stack_count)
    profile.notices.extend(indexed.notices(str(Path(path))))
    return profile, indexed
