"""A time range of a huge recording from its index: whole chunks summed there, edges read from the file.

`stats --from/--to` on a day's recording read every sample (46 s, 1.2x the
file in memory) to sum a range the index holds nearly all of. Here the
chunks whose samples lie wholly inside the range's unclipped part come from
the index's per-chunk sums; only the chunks within one sample span
(`weight_max`) of an edge are read from the file, and their samples go
through the same reader, validation and clipping as a full read, split at
the same rows (selection.overlap_window, aggregate._range_sums), so every
sum is the full read's. Lag probes are read from the chunks whose probes
(the index keeps each chunk's earliest and latest) can lie in the range,
in file order, so the percentiles see the same values in the same order.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from pyrometer.core.agent import wire
from pyrometer.core.analysis.cpu_time import CpuTime, _cpu_of_rows
from pyrometer.core.analysis.loop import LagStats, lag_stats
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.formats.recording import RecordingReader
from pyrometer.core.model import Profile

_SHELL_KINDS = frozenset(wire.NAMES) - {wire.SAMPLES, wire.LAG, wire.EXACT_SAMPLES}
_LAG_ROW = 16  # f8 time, i4 loop, f4 lag (recording._LAG_ROW_BYTES)
_LAG_CRC = zlib.crc32(struct.pack("<HH", wire.LAG, 0))  # a LAG frame's checksum runs on over its payload from this


class _Window:
    """A read-only file handle that ends at `stop` (a chunk's end): the reader sees no byte past it."""

    def __init__(self, fh: BinaryIO, stop: int) -> None:
        self._fh = fh
        self._stop = stop

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def read(self, n: int = -1) -> bytes:
        left = max(0, self._stop - self._fh.tell())
        return self._fh.read(left if n < 0 else min(n, left))

    def fileno(self) -> int:
        return self._fh.fileno()


class _ChunkReader(RecordingReader):
    """Reads chunks of frames into a profile that holds the shell's stacks; `samples` False stages
    only the lag probes (a chunk inside the range, summed from the index)."""

    def __init__(self, path: Path, fh: BinaryIO, profile: Profile, expected: tuple[int, int]) -> None:
        super().__init__(path, profile=profile, fh=fh)
        self.skip_kinds = _SHELL_KINDS  # the shell holds them: only samples and lag are read
        self.expected_rows = (expected[0], expected[1], 0)
        self.samples = True
        self.trusted = False  # every frame's checksum was checked when the index was built (no problems reported)
        self.lag_frames = np.zeros(0, np.int64)  # where each LAG frame starts (the index's lag_frame_offset)
        self._buffer = bytearray()

    def _stage_samples(self, buf: memoryview, start: int, length: int, where: int) -> str | None:
        if self.samples:
            return super()._stage_samples(buf, start, length, where)
        self._exact_next = None  # (an EXACT_SAMPLES frame for these skipped rows)
        return None

    def _stage_spans(self, buf: memoryview, start: int, length: int) -> str | None:
        return None

    def read_chunk(self, fh: BinaryIO, start: int, stop: int, samples: bool) -> None:
        if not samples and self.trusted and self._lag_only(fh, start, stop):
            return
        self._fh = _Window(fh, stop)  # type: ignore[assignment]
        self._offset = start
        self.samples = samples
        self.poll()

    def _lag_only(self, fh: BinaryIO, start: int, stop: int) -> bool:
        """Stage a chunk's lag probes from its LAG frames alone, found by the index's offsets (the
        samples, ~90% of the bytes, are the index's): the chunk's bytes read, each frame's checksum checked,
        the rows gathered in one pass per chunk. False (nothing kept) at anything a full read would
        have to resync over; the caller then reads the chunk as the reader does."""
        offsets = self.lag_frames[np.searchsorted(self.lag_frames, start) : np.searchsorted(self.lag_frames, stop)]
        if not len(offsets):
            return True
        if self._lag is None:
            self._reserve(os.fstat(fh.fileno()).st_size)
        st = self._lag
        assert st is not None
        base = int(offsets[0])
        size = stop - base
        if len(self._buffer) < size:
            self._buffer = bytearray(size)  # one buffer for every chunk: its pages are touched once
        fh.seek(base)
        if fh.readinto(memoryview(self._buffer)[:size]) != size:  # type: ignore[attr-defined]
            return False
        return self._gather_lag(memoryview(self._buffer)[:size], [int(o) - base for o in offsets.tolist()], st)

    def _gather_lag(self, view: memoryview, frames: list[int], st: Any) -> bool:
        unpack, header, crc32 = wire.FRAME_HEADER.unpack_from, wire.FRAME_HEADER_SIZE, zlib.crc32
        seed = _LAG_CRC
        starts: list[int] = []
        counts: list[int] = []
        end = len(view)
        try:
            for pos in frames:
                if pos + header > end:
                    return False
                length, kind, flags, crc = unpack(view, pos)
                at = pos + header
                if kind != wire.LAG or flags or length < 8 or at + length > end or crc32(view[at : at + length], seed) != crc:
                    return False
                n = int.from_bytes(view[at : at + 4], "little")
                if length != 8 + _LAG_ROW * n:
                    return False
                starts.append(at + 8)
                counts.append(n)
            total = sum(counts)
            if total:
                raw = np.frombuffer(view, np.uint8)
                ns = np.asarray(counts, np.int64)
                first = np.asarray(starts, np.int64)
                frame = np.repeat(np.arange(len(ns)), ns)
                row = np.arange(total) - np.repeat(np.cumsum(ns) - ns, ns)
                at0, n_of = first[frame], ns[frame]
                st.room(total)
                r, e = st.n, st.n + total
                for name, dtype, offset, size in (("time", "<f8", at0 + 8 * row, 8),
                                                  ("loop", "<i4", at0 + 8 * n_of + 4 * row, 4),
                                                  ("lag", "<f4", at0 + 12 * n_of + 4 * row, 4)):
                    st.arrays[name][r:e] = raw[offset[:, None] + np.arange(size)].reshape(-1).view(dtype)
                st.n = e
                del raw
        finally:
            view.release()
        self._commit()
        return True


def _bare_profile(shell: Profile) -> Profile:
    """A profile with the shell's metadata and stacks and no rows: what the samples refer to."""
    out = Profile()
    out.meta = dict(shell.meta)
    out.unit = shell.unit
    out.stacks = shell.stacks
    out.threads = shell.threads
    out.loops = shell.loops
    return out


@dataclass
class RangeRead:
    """The range [t0, t1)'s edges: `profile` holds the edge chunks' samples and the range's chunks' lag
    probes; the index's chunks `inner` lie wholly in the unclipped part of the range."""

    sel: Selection
    profile: Profile
    inner: slice
    reach: float
    read_chunks: int  # chunks whose samples were read (for tests and benchmarks)


def read_range(path: str | os.PathLike[str], index: Any, shell: Profile, t0: float | None, t1: float | None) -> RangeRead:
    """Read what [t0, t1) needs beyond the index (see module doc). `index`: a RecordingIndex with `ranges`."""
    a = index.arrays
    reach = float(index.weight_max) if index.samples else 0.0
    lo_t = -np.inf if t0 is None else t0
    hi_t = np.inf if t1 is None else t1
    c0, c1 = a["chunk_t0"], a["chunk_t1"]
    if shell.samples_end_spans:  # spans (t - w, t]: rows with t in [t0, t0 + reach] or [t1, t1 + reach] are cut
        edges = ((lo_t, lo_t + reach), (hi_t, hi_t + reach))
        inside_lo, inside_hi = lo_t + reach, hi_t
    else:  # [t, t + w): t in [t0 - reach, t0] or [t1 - reach, t1]
        edges = ((lo_t - reach, lo_t), (hi_t - reach, hi_t))
        inside_lo, inside_hi = lo_t, hi_t - reach
    near = np.zeros(len(c0), bool)
    for e0, e1 in edges:
        near |= (c1 >= e0) & (c0 <= e1)
    whole = ~near & (c0 >= inside_lo) & (c1 < inside_hi)
    # the unclipped middle is contiguous: its whole chunks, between the edge chunks
    ks = np.flatnonzero(whole)
    inner = slice(int(ks[0]), int(ks[-1]) + 1) if len(ks) else slice(0, 0)
    lag_near = (a["chunk_lag_t1"] >= lo_t) & (a["chunk_lag_t0"] < hi_t)
    profile = _bare_profile(shell)
    offsets, rows = a["chunk_offset"], a["chunk_row"]
    wanted = np.flatnonzero(near | lag_near)
    sample_rows = int(sum(int(rows[k + 1] - rows[k]) for k in np.flatnonzero(near).tolist()))
    with open(path, "rb") as fh:
        reader = _ChunkReader(Path(path), fh, profile, (sample_rows, index.lag))
        reader.trusted = not index.report.get("problems") and not index.report.get("dropped_bytes")
        reader.lag_frames = a["lag_frame_offset"]
        for k in wanted.tolist():
            reader.read_chunk(fh, int(offsets[k]), int(offsets[k + 1]), bool(near[k]))
    profile.finish()
    return RangeRead(Selection(t0, t1), profile, inner, reach, int(near.sum()))


class RangeSums:
    """The figures `stats` takes from the samples, for a range: the index's whole chunks plus the
    edges' rows, added in the order aggregate._range_sums adds them (sums equal to the bit)."""

    def __init__(self, index: Any, read: RangeRead, n_stacks: int) -> None:
        self.index = index
        self.read = read
        self.n = n_stacks + 1
        p = read.profile
        times = p.samples["time"]
        sel = read.sel
        t0 = -np.inf if sel.t0 is None else sel.t0
        t1 = np.inf if sel.t1 is None else sel.t1
        reach = read.reach
        # selection.overlap_window and aggregate._range_sums with the whole recording's reach
        if p.samples_end_spans:
            lo, hi = int(np.searchsorted(times, t0, side="right")), int(np.searchsorted(times, t1 + reach, side="left"))
            a, b = (int(x) for x in np.searchsorted(times, (t0 + reach, t1), side="left"))
        else:
            lo, hi = int(np.searchsorted(times, t0 - reach, side="left")), int(np.searchsorted(times, t1, side="left"))
            a, b = (int(x) for x in np.searchsorted(times, (t0, t1 - reach), side="left"))
        a, b = max(a, lo), min(b, hi)
        self.split = b > a  # else every overlapping row is clipped, in one pass
        if not self.split:
            a = b = lo
        self.rows = (lo, a, b, hi)
        self._overlap: tuple[np.ndarray, np.ndarray] | None = None
        self._threads: dict[int, int] | None = None

    def _clipped(self, r0: int, r1: int) -> tuple[np.ndarray, np.ndarray]:
        from pyrometer.core.analysis.selection import clip_rows

        return clip_rows(self.read.profile, self.read.sel, r0, r1)

    def _mine(self, rows: np.ndarray, threads: frozenset[int] | None) -> np.ndarray:
        """Which of these read rows are of `threads` (all when None)."""
        if threads is None:
            return np.ones(len(rows), bool)
        return np.isin(self.read.profile.samples["thread"][rows], np.fromiter(threads, np.int64, len(threads)))

    def stack_sums(self, threads: frozenset[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """aggregate.stack_sums of the range (of `threads`: aggregate._thread_range_sums)."""
        p, n = self.read.profile, self.n
        lo, a, b, hi = self.rows
        weight, count = self.index.stack_sums(threads, n - 1, self.read.inner)
        weight, count = weight.astype(np.float64), count.astype(np.int64)
        if b > a:
            middle = np.arange(a, b)
            middle = middle[self._mine(middle, threads)]
            shifted = p.samples["stack"][middle].astype(np.intp) + 1
            weight = weight + np.bincount(shifted, weights=p.samples["weight"][middle], minlength=n)
            count = count + np.bincount(shifted, minlength=n)
        for r0, r1 in ((lo, a), (b, hi)):
            if r1 > r0:
                rows, w = self._clipped(r0, r1)
                mine = self._mine(rows, threads)
                shifted = p.samples["stack"][rows[mine]].astype(np.intp) + 1
                weight += np.bincount(shifted, weights=w[mine], minlength=n)
                count += np.bincount(shifted, minlength=n)
        return weight, count

    def _overlapping(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows, clipped weights) of the read rows that overlap the range, as selection.clipped_samples."""
        if self._overlap is None:
            lo, _a, _b, hi = self.rows
            self._overlap = self._clipped(lo, hi)
        return self._overlap

    def thread_counts(self) -> dict[int, int]:
        """Samples overlapping the range per thread (summary.thread_rows' counts)."""
        if self._threads is None:
            self._threads = self._thread_counts()
        return dict(self._threads)

    def _thread_counts(self) -> dict[int, int]:
        ix = self.index.arrays
        out: dict[int, int] = {}
        inner = self.read.inner
        if inner.stop > inner.start:
            lo, hi = int(ix["pair_start"][inner.start]), int(ix["pair_start"][inner.stop])
            for tid, c in zip(ix["pair_thread"][lo:hi].tolist(), ix["pair_count"][lo:hi].tolist(), strict=True):
                out[tid] = out.get(tid, 0) + int(c)
        rows, _ = self._overlapping()
        ids, n = np.unique(self.read.profile.samples["thread"][rows], return_counts=True)
        for tid, c in zip(ids.tolist(), n.tolist(), strict=True):
            out[tid] = out.get(tid, 0) + int(c)
        return {k: v for k, v in out.items() if v}

    def count(self, threads: frozenset[int] | None = None) -> int:
        return sum(n for tid, n in self.thread_counts().items() if threads is None or tid in threads)

    def cpu(self, threads: frozenset[int] | None = None) -> CpuTime:
        """analysis.cpu_time of the range (of `threads`): the index's known CPU of whole chunks, the edges' clipped."""
        ix = self.index.arrays
        per_stack, count = self.index.stack_sums(threads, self.n - 1, self.read.inner, value="pair_cpu")
        per_thread: dict[int, float] = {}
        inner = self.read.inner
        if inner.stop > inner.start:
            lo, hi = int(ix["pair_start"][inner.start]), int(ix["pair_start"][inner.stop])
            for tid, c in zip(ix["pair_thread"][lo:hi].tolist(), ix["pair_cpu"][lo:hi].tolist(), strict=True):
                if threads is None or tid in threads:
                    per_thread[tid] = per_thread.get(tid, 0.0) + c
        rows, clipped = self._overlapping()
        mine = self._mine(rows, threads)
        rows, clipped = rows[mine], clipped[mine]
        edge = _cpu_of_rows(self.read.profile, rows, clipped, self.n)
        for tid, v in edge.per_thread.items():
            per_thread[tid] = per_thread.get(tid, 0.0) + v
        per_stack = per_stack + edge.per_stack
        return CpuTime(float(per_stack.sum()), per_thread, per_stack, count + edge.count_per_stack, 0, 0)

    def lag_stats(self, threads: frozenset[int] | None) -> LagStats:
        """analysis.loop.lag_stats of the range's probes (all of them are in the read profile)."""
        return lag_stats(self.read.profile, Selection(self.read.sel.t0, self.read.sel.t1, threads))


def add_range_fields(path: str | os.PathLike[str], index: Any) -> bool:
    """Give an index written before ranges (`index.ranges` False) its range fields from one walk over the
    frames' headers: the samples' largest weight and each LAG frame's place and times, not a rebuild (the
    30M recording: ~15 s to build again). Only for an index whose builder read every frame cleanly (no
    problem reported: every weight it summed is the frame's); False (untouched) otherwise, or when a frame
    is not what that build read."""
    report = index.report
    if report.get("problems") or report.get("dropped_bytes") or report.get("skipped_unknown") or not index.time_sorted:
        return False
    a = index.arrays
    chunk_offset = a["chunk_offset"]
    k = len(a["chunk_t0"])
    lag_t0, lag_t1 = np.full(k, np.inf), np.full(k, -np.inf)
    offsets: list[int] = []
    top = -np.inf
    exact_ends = -1  # where the SAMPLES frame an EXACT_SAMPLES frame stands for starts
    unpack, header = wire.FRAME_HEADER.unpack_from, wire.FRAME_HEADER_SIZE
    samples, lag, exact = wire.SAMPLES, wire.LAG, wire.EXACT_SAMPLES
    block = bytearray(4 << 20)
    with open(path, "rb") as fh:
        at = wire.FILE_HEADER_SIZE
        while at < index.covers:
            fh.seek(at)
            got = fh.readinto(block)
            view = memoryview(block)[: min(got, index.covers - at)]
            pos = 0
            while pos + header <= len(view):
                length, kind, _flags, _crc = unpack(view, pos)
                start = pos + header
                if length > wire.MAX_PAYLOAD:
                    return False
                if start + length > len(view):
                    break
                where = at + pos
                if kind == samples and length >= 8:
                    n = int.from_bytes(view[start : start + 4], "little")
                    if n and where != exact_ends:
                        top = max(top, float(np.frombuffer(view, "<f4", n, start + 8 + 20 * n).max()))
                elif kind == exact and length >= 8:
                    n = int.from_bytes(view[start : start + 4], "little")
                    if n:
                        top = max(top, float(np.frombuffer(view, "<f8", n, start + 8).max()))
                    exact_ends = where + header + length
                elif kind == lag and length >= 8:
                    n = int.from_bytes(view[start : start + 4], "little")
                    if n:
                        times = np.frombuffer(view, "<f8", n, start + 8)
                        c = int(np.searchsorted(chunk_offset, where, side="right")) - 1
                        if 0 <= c < k:
                            lag_t0[c] = min(lag_t0[c], float(times.min()))
                            lag_t1[c] = max(lag_t1[c], float(times.max()))
                    offsets.append(where)
                pos = start + length
            view.release()
            if pos == 0:
                return False  # a frame larger than a block (never in a recording the agent writes): rebuild
            at += pos
    if len(offsets) and not k:
        return False
    index.arrays = {**a, "chunk_lag_t0": lag_t0, "chunk_lag_t1": lag_t1, "lag_frame_offset": np.asarray(offsets, np.int64)}
    index.weight_max = top if index.samples else float("nan")
    index.exact_weights = exact_ends >= 0
    return True
