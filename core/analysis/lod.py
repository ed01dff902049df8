"""Level-of-detail summaries for the views of time: what one pixel of a huge session shows.

A day of a service is ~30 million samples; the timeline and the stack chart
cannot lay out one box per run of samples (millions of them) on every
refresh, and need not: a 1500-pixel view shows 1500 columns. So:

- `ActivityIndex` keeps, per thread and per time bucket, the sample count and
  how many of them were on CPU. It is built once in chunks (no copy of a
  sample column), kept on the profile, extended with only the new samples of
  a live session, and coarsened by merging bucket pairs when the session
  outgrows its buckets, so its size stays bounded (at most MAX_CELLS cells).
- `activity_boxes` answers a view [x0, x1) at a pixel width from those
  buckets while a bucket is narrower than a pixel; zoomed further in, from
  the samples in view binned per pixel, and exactly (the runs the timeline
  always drew) once they are few.
- `stack_chart_view` gives the stack chart's spans of the samples in view
  exactly while they are few; past that, one representative sample per
  thread per pixel column (the first one in the column) stands for it.

Work per view is O(pixels x threads) or O(samples in view), never O(session).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from pyrometer.core.analysis._nodes import node_table
from pyrometer.core.analysis.cpu_level import cpu_shares, share_levels
from pyrometer.core.analysis.probe_rows import ProbeTimeRanges, probe_time_ranges
from pyrometer.core.analysis.selection import max_weight
from pyrometer.core.model import UNIT_SECONDS, Profile, unchanged

BASE_BUCKETS = 1 << 14  # buckets per thread at most; a longer session doubles the bucket width
MAX_CELLS = 1 << 22  # threads x buckets at most (32k threads get 128 buckets each)
CHUNK = 1 << 20  # samples per pass when indexing (bounded temporary memory)
EXACT_ROWS = 400_000  # samples in view up to which the stack chart is exact
# a thread lane: its exact runs up to this many samples in view (a few a pixel; 400k of them made ~10^6
# runs: a replay playhead early in a day's session laid the timeline out in 0.1-1 s), then per pixel
EXACT_LANE_ROWS = 60_000
BIN_ROWS = 500_000  # up to this many samples in view (~20 ms, ~50 ms read from disk) a lane finer than the index bins them
DENSE_BIN_CELLS_PER_SAMPLE = 4  # binning counts in a table of every thread x column while it has at most this many cells a sample
MIN_WIDTH = 1e-6  # the narrowest bucket, seconds
# bucket widths are WIDTH_BASE x a power of two, the narrowest whose buckets cover the session so far:
# so the index is the same however its samples arrived (a live feed, a full read, a recording's index)
WIDTH_BASE = 2.0**-20
GAP_SAMPLES = 2049  # a thread's typical interval is the median gap of its first this many samples


def first_width(last: float, buckets: int) -> float:
    """The narrowest WIDTH_BASE x 2^k whose `buckets` buckets cover [0, last]."""
    width = WIDTH_BASE
    while last >= width * buckets:
        width *= 2
    return width


def sample_starts(profile: Profile, lo: int, hi: int) -> np.ndarray:
    """Where samples lo..hi-1 begin on the time axis (the agent's sample ends its span), float64."""
    t = profile.samples["time"][lo:hi]
    if profile.unit == UNIT_SECONDS and profile.samples_end_spans:
        return np.maximum(t - profile.samples["weight"][lo:hi], 0.0)
    return np.asarray(t, np.float64)


def on_cpu_shares(profile: Profile, lo: int, hi: int) -> np.ndarray:
    """Each sample's on-CPU share of its span in [0, 1] (unknown CPU: 1), as the lanes judge it.

    For sample counts (no span in seconds) a known positive CPU time counts as wholly on CPU.
    """
    cpu = profile.samples["cpu"][lo:hi]
    if profile.unit == UNIT_SECONDS:
        return cpu_shares(cpu, profile.samples["weight"][lo:hi])
    return ((cpu < 0) | (cpu > 0)).astype(np.float64)


class ActivityIndex:
    """Sample count and summed on-CPU share per (thread, bucket of `width` seconds), bucket b = [b*width, (b+1)*width).

    `on` sums each sample's share of its span on CPU (a sample half on CPU adds 0.5), so a
    column's mean share tells on CPU, partly on CPU (sharing the GIL) and waiting apart.
    """

    def __init__(self) -> None:
        self.n = 0  # samples indexed
        self.check: tuple[float, int] | None = None  # (time, thread) of the last indexed sample
        self.width = 0.0
        self.rows: dict[int, int] = {}  # thread id -> row
        self.count = np.zeros((0, BASE_BUCKETS), np.int32)
        self.on = np.zeros((0, BASE_BUCKETS), np.float32)
        self.max_depth = np.zeros(0, np.int32)  # per row: the deepest stack the thread had
        self.gap: dict[int, float] = {}  # per thread: its typical sample interval (median of its first gaps)
        self._firsts: dict[int, np.ndarray] = {}  # per thread: the starts of its first GAP_SAMPLES samples
        self.binned: tuple[tuple[Any, ...], dict[int, tuple[np.ndarray, float, np.ndarray, np.ndarray]]] | None = None  # binned_activity's last

    @property
    def buckets(self) -> int:
        return int(self.count.shape[1])

    def _fingerprint(self, profile: Profile, i: int) -> tuple[float, int]:
        return float(profile.samples["time"][i]), int(profile.samples["thread"][i])

    def update(self, profile: Profile) -> ActivityIndex:
        """Index the samples appended since the last call (all again if the rows were rewritten)."""
        n = len(profile.samples)
        if n < self.n or (self.n and self._fingerprint(profile, self.n - 1) != self.check):
            self.__init__()  # type: ignore[misc]
        self.add_rows(profile, self.n, n)
        return self

    def add_rows(self, profile: Profile, lo: int, hi: int) -> None:
        """Index rows [lo, hi) of the profile's samples as the next samples of the session (a recording's
        index builder feeds each block it reads, then drops it)."""
        for at in range(lo, hi, CHUNK):
            self._add(profile, at, min(hi, at + CHUNK))
        if hi > lo:
            self.n += hi - lo
            self.check = self._fingerprint(profile, hi - 1)

    def _add(self, profile: Profile, lo: int, hi: int) -> None:
        start = sample_starts(profile, lo, hi)
        thread = profile.samples["thread"][lo:hi]
        share = on_cpu_shares(profile, lo, hi)
        last = float(start.max()) if len(start) else 0.0
        if self.width == 0.0:  # the first batch: the narrowest width covering it (coarsened as the session grows)
            self.width = first_width(last, self.buckets)
        low_id, high_id = int(thread.min()), int(thread.max())
        if high_id - low_id < 1 << 16:  # bincount, not np.unique (a sort): thread ids are small
            present = (np.flatnonzero(np.bincount(thread - low_id)) + low_id).tolist()
        else:
            present = np.unique(thread).tolist()
        new = [int(tid) for tid in present if tid not in self.rows]
        if new:  # new threads get rows, all at once (a row at a time copied the table per thread: 32k threads, 90 s)
            self._add_rows(new)
        missing = [tid for tid in present if len(self._firsts.get(tid, ())) < GAP_SAMPLES]
        if missing:  # their typical interval, from their first samples (the lanes' rule), over batches
            if len(missing) <= 16:
                firsts = {tid: start[thread == tid][:GAP_SAMPLES] for tid in missing}
            else:
                order = np.argsort(thread, kind="stable")
                by = thread[order]
                cuts = np.searchsorted(by, missing)
                firsts = {tid: start[order[c : c + GAP_SAMPLES]][by[c : c + GAP_SAMPLES] == tid]
                          for tid, c in zip(missing, cuts.tolist(), strict=True)}
            for tid, more in firsts.items():
                have = self._firsts.get(int(tid))
                mine = (more if have is None else np.concatenate((have, more)))[:GAP_SAMPLES].copy()
                self._firsts[int(tid)] = mine
                if len(mine) > 1:
                    med = float(np.median(np.diff(mine)))
                    self.gap[int(tid)] = med if med > 0 else 0.001
        while last >= self.width * self.buckets:
            self._coarsen()
        rows = self._rows_of(thread, low_id, high_id)
        b = np.minimum((start / self.width).astype(np.int64), self.buckets - 1)
        key = rows * self.buckets + b
        depths = np.concatenate(([0], profile.stack_depths()))  # shifted: the empty stack (-1) has none
        depth = depths[profile.samples["stack"][lo:hi].astype(np.intp) + 1]
        most = int(depths.max(initial=0)) + 1
        if most * len(self.rows) <= MAX_CELLS:  # per thread, which depths occur: the largest is its deepest
            seen = np.bincount(rows * most + depth, minlength=most * len(self.rows)).reshape(len(self.rows), most)
            deepest = most - 1 - np.argmax(seen[:, ::-1] > 0, axis=1)
            np.maximum(self.max_depth, np.where(seen.any(axis=1), deepest, 0).astype(np.int32), out=self.max_depth)
        else:
            np.maximum.at(self.max_depth, rows, depth)
        cells = self.count.size
        self.count += np.bincount(key, minlength=cells).reshape(self.count.shape).astype(np.int32)
        self.on += np.bincount(key, weights=share, minlength=cells).reshape(self.on.shape).astype(np.float32)

    def _rows_of(self, thread: np.ndarray, low_id: int, high_id: int) -> np.ndarray:
        """The index row of each sample's thread."""
        if high_id - low_id < 1 << 16:
            table = np.zeros(high_id - low_id + 1, np.int64)
            for tid, r in self.rows.items():
                if low_id <= tid <= high_id:
                    table[tid - low_id] = r
            return table[thread - low_id]
        ids = np.fromiter(self.rows, np.int64, len(self.rows))
        order = np.argsort(ids)
        row_of_id = np.fromiter(self.rows.values(), np.int64, len(self.rows))[order]
        return row_of_id[np.searchsorted(ids[order], thread)]

    def _add_rows(self, tids: list[int]) -> None:
        for tid in tids:
            self.rows[tid] = len(self.rows)
        while (len(self.rows)) * self.buckets > MAX_CELLS and self.buckets > 1:
            self._coarsen(shrink=True)
        k = len(tids)
        self.count = np.vstack((self.count, np.zeros((k, self.buckets), np.int32)))
        self.on = np.vstack((self.on, np.zeros((k, self.buckets), self.on.dtype)))
        self.max_depth = np.concatenate((self.max_depth, np.zeros(k, np.int32)))

    def _coarsen(self, shrink: bool = False) -> None:
        """Merge bucket pairs: twice the width (`shrink`: half as many buckets, else as many, the later half empty)."""
        rows, nb = self.count.shape
        merged_c = self.count.reshape(rows, nb // 2, 2).sum(axis=2, dtype=np.int32)
        merged_o = self.on.reshape(rows, nb // 2, 2).sum(axis=2, dtype=np.float32)
        if shrink:
            self.count, self.on = merged_c, merged_o
        else:
            self.count = np.concatenate((merged_c, np.zeros_like(merged_c)), axis=1)
            self.on = np.concatenate((merged_o, np.zeros_like(merged_o)), axis=1)
        self.width *= 2

    def to_arrays(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(header, arrays) `from_arrays` makes this index again from: a recording's index stores them,
        so a huge recording's timeline is drawn before its samples are read."""
        tids = list(self.rows)  # in row order
        head = {"n": self.n, "width": self.width, "buckets": self.buckets}
        return head, {
            "act_thread": np.asarray(tids, np.int32), "act_count": self.count.ravel(), "act_on": self.on.ravel(),
            "act_depth": self.max_depth, "act_gap": np.asarray([self.gap.get(t, np.nan) for t in tids], np.float64),
        }

    @classmethod
    def from_arrays(cls, head: dict[str, Any], arrays: dict[str, np.ndarray]) -> ActivityIndex:
        """The index `to_arrays` described (it follows no profile: the samples it counted are not read)."""
        out = cls()
        tids = arrays["act_thread"].tolist()
        buckets = int(head["buckets"])
        out.n, out.width = int(head["n"]), float(head["width"])
        out.rows = {int(t): r for r, t in enumerate(tids)}
        out.count = np.array(arrays["act_count"], np.int32).reshape(len(tids), buckets)
        out.on = np.array(arrays["act_on"], out.on.dtype).reshape(len(tids), buckets)  # stored as f8: any on-CPU measure
        out.max_depth = np.array(arrays["act_depth"], np.int32)
        out.gap = {int(t): float(g) for t, g in zip(tids, arrays["act_gap"].tolist(), strict=True) if g == g}
        return out

    def depth_of(self, tid: int) -> int:
        """The deepest stack of the thread so far (0: none)."""
        r = self.rows.get(tid)
        return 0 if r is None else int(self.max_depth[r])

    def thread_row(self, tid: int) -> tuple[np.ndarray, np.ndarray] | None:
        r = self.rows.get(tid)
        return None if r is None else (self.count[r], self.on[r])


def is_preview(profile: Profile) -> bool:
    """A recording's preview (index_preview): the samples' sums and these indexes, no rows yet."""
    return profile.summed is not None and not len(profile.samples)


def activity_index(profile: Profile) -> ActivityIndex:
    """The profile's activity index, extended when it grew (kept on the profile; a preview's is its index's)."""
    if is_preview(profile):
        return profile.cached("activity_index", ActivityIndex, unchanged)
    return profile.cached("activity_index", lambda: ActivityIndex().update(profile), lambda ix: ix.update(profile), rows=True)


@dataclass
class ActivityBoxes:
    """One thread lane in a view: (start, width, CPU level) boxes and whether they are exact runs (`cpu_level`)."""

    start: np.ndarray
    width: np.ndarray
    on: np.ndarray
    exact: bool


def _merge_runs(start: np.ndarray, width: np.ndarray, on: np.ndarray) -> ActivityBoxes:
    """Join neighbouring columns in the same state (touching) into one box."""
    if len(start) == 0:
        return ActivityBoxes(start, width, on, False)
    end = start + width
    brk = np.ones(len(start), bool)
    brk[1:] = (on[1:] != on[:-1]) | (start[1:] > end[:-1] * (1 + 1e-12) + 1e-12)
    first = np.flatnonzero(brk)
    last = np.append(first[1:], len(start)) - 1
    return ActivityBoxes(start[first], end[last] - start[first], on[first], False)


def bucketed_activity(index: ActivityIndex, tid: int, x0: float, x1: float, pixels: int) -> ActivityBoxes:
    """Columns of whole index buckets (about one per pixel) over [x0, x1): sampled ones, at the level of their mean share."""
    got = index.thread_row(tid)
    if got is None or index.width <= 0:
        z = np.zeros(0)
        return ActivityBoxes(z, z.copy(), np.zeros(0, np.int8), False)
    count, on = got
    bw = index.width
    i0 = max(0, int(np.floor(x0 / bw)))
    i1 = min(index.buckets, max(i0 + 1, int(np.ceil(x1 / bw))))
    k = max(1, (i1 - i0) // max(1, pixels))
    starts = np.arange(i0, i1, k)
    c = np.add.reduceat(count[i0:i1], starts - i0)
    o = np.add.reduceat(on[i0:i1], starts - i0)
    keep = c > 0
    s = starts[keep]
    return _columns(s * bw, np.minimum(s + k, i1) * bw, c[keep], o[keep], 3 * index.gap.get(tid, 0.0))


def _columns(x: np.ndarray, end: np.ndarray, count: np.ndarray, on: np.ndarray, reach: float) -> ActivityBoxes:
    """Sampled columns [x, end) at the level of their mean on-CPU share, merged where they agree."""
    # a sample lasts until the thread's next one, up to three typical intervals (as the exact runs)
    if len(x) > 1 and reach > 0:
        fill = x[1:] - end[:-1] <= reach
        end[:-1] = np.where(fill, x[1:], end[:-1])
    return _merge_runs(x, end - x, share_levels(on / count))


def binned_activity(profile: Profile, tid: int, lo: int, hi: int, x0: float, x1: float, px: float) -> ActivityBoxes:
    """Columns under a pixel (`px` seconds) wide, a power of two seconds from 0, of the thread's samples in rows
    [lo, hi) that begin in [x0, x1): a view the index's buckets are too coarse for, with too many samples for runs.

    Every thread's columns are counted in one pass over the rows (one per thread cost 4x) and kept for the
    other lanes of the same lay-out.
    """
    index = activity_index(profile)
    key = (len(profile.samples), profile.generation, lo, hi, x0, x1, px)
    hit = index.binned
    if hit is None or hit[0] != key:
        hit = index.binned = (key, _bin_threads(profile, index, lo, hi, x0, x1, px))
    got = hit[1].get(tid)
    if got is None:
        z = np.zeros(0)
        return ActivityBoxes(z, z.copy(), np.zeros(0, np.int8), False)
    x, grid, count, on = got
    return _columns(x, x + grid, count, on, 3 * index.gap.get(tid, 0.0))


def _bin_threads(
    profile: Profile, index: ActivityIndex, lo: int, hi: int, x0: float, x1: float, px: float
) -> dict[int, tuple[np.ndarray, float, np.ndarray, np.ndarray]]:
    """Per thread (of the index): (column starts, column width, samples, summed on-CPU share) of its sampled columns."""
    t = sample_starts(profile, lo, hi)
    share = on_cpu_shares(profile, lo, hi)
    thread = profile.samples["thread"][lo:hi]
    inside = (t >= x0) & (t < x1)
    if not inside.all():  # (a playhead's view from 0: all of them, nothing to gather)
        t, share, thread = t[inside], share[inside], thread[inside]
    if not len(t) or not index.rows:
        return {}
    grid = 2.0 ** math.floor(math.log2(px))  # (a pan keeps the columns where they were)
    col = np.floor(t / grid).astype(np.int64)
    c0 = int(col.min())
    cols = int(col.max()) - c0 + 1
    row = index._rows_of(thread, int(thread.min()), int(thread.max()))
    key = row * cols + (col - c0)
    if len(index.rows) * cols <= DENSE_BIN_CELLS_PER_SAMPLE * len(key):  # a table of every (thread, column)
        count = np.bincount(key, minlength=len(index.rows) * cols)
        pair = np.flatnonzero(count)
        count, on = count[pair], np.bincount(key, weights=share, minlength=len(index.rows) * cols)[pair]
    else:  # only the pairs that occur (sorting costs ~35 ms at 200k samples; the table took 1.2 GB at 32,000 threads)
        pair, which = np.unique(key, return_inverse=True)
        count = np.bincount(which, minlength=len(pair))
        on = np.bincount(which, weights=share, minlength=len(pair))
    pair_row, pair_col = np.divmod(pair, cols)
    start = (pair_col + c0) * grid
    cut = np.flatnonzero(np.diff(pair_row)) + 1
    tid_of_row = list(index.rows)  # (rows are numbered in the order threads were met)
    return {
        tid_of_row[pair_row[a]]: (start[a:b], grid, count[a:b], on[a:b])
        for a, b in zip([0, *cut.tolist()], [*cut.tolist(), len(pair)], strict=True)
    }


def view_rows(profile: Profile, x0: float, x1: float) -> tuple[int, int]:
    """Global sample rows [lo, hi) whose span can overlap [x0, x1) (samples are time-sorted)."""
    times = profile.samples["time"]
    reach = max_weight(profile) if profile.unit == UNIT_SECONDS else 0.0
    if profile.samples_end_spans:
        lo, hi = np.searchsorted(times, (x0, x1 + reach), side="left")
    else:
        lo, hi = np.searchsorted(times, (x0 - reach, x1), side="left")
    return int(lo), int(hi)


def cpu_in_span(profile: Profile, tid: int, x0: float, x1: float) -> tuple[float, float] | None:
    """(CPU seconds, sampled seconds) of the thread's samples that begin in [x0, x1), None without CPU times.

    What a thread box's tooltip states: the measured share behind its colour.
    """
    if profile.unit != UNIT_SECONDS or not profile.samples_sorted:
        return None
    lo, hi = view_rows(profile, x0, x1)
    rows = lo + np.flatnonzero(profile.samples["thread"][lo:hi] == tid)
    start = profile.samples["time"][rows].astype(np.float64)
    if profile.samples_end_spans:
        start = np.maximum(start - profile.samples["weight"][rows], 0.0)
    rows = rows[(start >= x0) & (start < x1)]
    cpu = profile.samples["cpu"][rows].astype(np.float64)
    known = cpu >= 0
    if not known.any():
        return None
    return float(cpu[known].sum()), float(profile.samples["weight"][rows][known].astype(np.float64).sum())


def exact_activity(profile: Profile, tid: int, lo: int, hi: int) -> ActivityBoxes:
    """The thread's runs of samples at the same CPU level, over global rows [lo, hi) (the timeline's exact lanes)."""
    from pyrometer.core.analysis.spans import _on_cpu, _runs_from

    rows = lo + np.flatnonzero(profile.samples["thread"][lo:hi] == tid)
    if not len(rows):
        z = np.zeros(0)
        return ActivityBoxes(z, z.copy(), np.zeros(0, np.int8), True)
    t = profile.samples["time"][rows].astype(np.float64)
    w = profile.samples["weight"][rows].astype(np.float64)
    if profile.unit == UNIT_SECONDS and profile.samples_end_spans:
        t = t - w
    gap = activity_index(profile).gap.get(tid, 0.01)
    on = _on_cpu(profile, {"time": t, "cpu": profile.samples["cpu"][rows].astype(np.float64), "weight": w}, gap)
    _first, start, end, state = _runs_from(t, on, gap)
    return ActivityBoxes(start, end - start, state, True)


def activity_boxes(profile: Profile, tid: int, x0: float, x1: float, pixels: int, t1: float | None = None) -> ActivityBoxes:
    """A thread's lane over the view [x0, x1) at `pixels` columns: its exact runs while the view holds few
    samples, else the index's buckets while one is under a pixel, else its samples binned per pixel (and,
    past BIN_ROWS of them, the index's buckets a few pixels wide)."""
    px = (x1 - x0) / max(pixels, 1)  # a pixel of the view (before the playhead cuts it)
    if t1 is not None:
        x1 = min(x1, t1)
    if x1 <= x0 or not (len(profile.samples) or is_preview(profile)):
        z = np.zeros(0)
        return ActivityBoxes(z, z.copy(), np.zeros(0, np.int8), True)
    index = activity_index(profile)
    if not len(profile.samples):  # a recording's preview: its index's buckets are all there is yet
        return bucketed_activity(index, tid, x0, x1 if t1 is None else min(x1, t1), pixels)
    lo, hi = view_rows(profile, x0, x1)
    fine = (x1 - x0) / max(index.width, MIN_WIDTH) >= pixels  # the index has a bucket a pixel or finer
    many = hi - lo > min(EXACT_ROWS, EXACT_LANE_ROWS)
    if many and (fine or hi - lo > BIN_ROWS):  # (past BIN_ROWS, buckets a few pixels wide: binning would cost more)
        boxes = bucketed_activity(index, tid, x0, x1, pixels)
    else:
        if t1 is not None:
            hi = min(hi, int(np.searchsorted(profile.samples["time"], t1, side="right")))
        boxes = binned_activity(profile, tid, lo, hi, x0, x1, px) if many else exact_activity(profile, tid, lo, hi)
    if t1 is not None and len(boxes.start):  # a replay shows nothing past its playhead
        keep = boxes.start < t1
        boxes = ActivityBoxes(boxes.start[keep], np.minimum(boxes.width[keep], t1 - boxes.start[keep]), boxes.on[keep], boxes.exact)
    return boxes


# ---------------------------------------------------------------- stack chart


@dataclass
class ViewSpans:
    """A thread's stack-chart spans in a view; `exact` False when one sample stands for each pixel column."""

    start: np.ndarray
    end: np.ndarray
    depth: np.ndarray
    func: np.ndarray
    exact: bool

    def __len__(self) -> int:
        return len(self.start)


def spans_of_nodes(nodes: np.ndarray, t0: np.ndarray, t1: np.ndarray, parent: np.ndarray, func: np.ndarray,
                   depth: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(start, end, depth, func) of the spans over consecutive items at call-tree `nodes` (0: no stack)."""
    from pyrometer.core.analysis.spans import merge_node_runs

    return merge_node_runs(nodes, t0, t1, parent, func, depth)


def _representatives(profile: Profile, x0: float, x1: float, pixels: int, tids: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Edges of `pixels` columns over [x0, x1) and, per thread and column, the row of its first sample there (-1: none).

    Only a window of rows after each column's first is looked at (bounded work); a thread
    sampled rarely among many may be missed in a column it has a sample in, deep in it.
    """
    times = profile.samples["time"]
    edges = np.linspace(x0, x1, pixels + 1)
    g = np.searchsorted(times, edges, side="left")
    window = int(min(1024, 16 + 8 * len(tids)))
    idx = g[:-1, None] + np.arange(window)[None, :]
    valid = idx < g[1:, None]
    idx = np.where(valid, idx, 0)
    thr = np.where(valid, profile.samples["thread"][np.minimum(idx, max(0, len(times) - 1))], np.iinfo(np.int32).min)
    out = np.full((len(tids), pixels), -1, np.int64)
    for i, tid in enumerate(tids):
        match = thr == tid
        has = match.any(axis=1)
        first = match.argmax(axis=1)
        out[i] = np.where(has, idx[np.arange(pixels), first], -1)
    return edges, out


def stack_chart_view(profile: Profile, tids: list[int], x0: float, x1: float, pixels: int) -> list[ViewSpans]:
    """Each thread's spans over the view [x0, x1): exact for up to EXACT_ROWS samples in view, else one per column."""
    table = node_table(profile)
    parent, func, depth = table.arrays()
    s2n = table.stack_to_node()
    lo, hi = view_rows(profile, x0, x1)
    out: list[ViewSpans] = []
    if hi - lo <= EXACT_ROWS:
        thread = profile.samples["thread"][lo:hi]
        for tid in tids:
            rows = lo + np.flatnonzero(thread == tid)
            t = profile.samples["time"][rows].astype(np.float64)
            if profile.unit == UNIT_SECONDS or not profile.has_time:  # a timeless file's times are its weights summed
                w = profile.samples["weight"][rows].astype(np.float64)
                a, b = (t - w, t) if profile.samples_end_spans else (t, t + w)
            else:
                a = t
                b = np.append(t[1:], t[-1] + (float(np.median(np.diff(t))) if len(t) > 1 else 0.0)) if len(t) else t
            nodes = s2n[profile.samples["stack"][rows].astype(np.intp) + 1]
            out.append(ViewSpans(*spans_of_nodes(nodes, a, b, parent, func, depth), exact=True))
        return out
    edges, reps = _representatives(profile, x0, x1, pixels, tids)
    stacks = profile.samples["stack"]
    for i, _tid in enumerate(tids):
        r = reps[i]
        nodes = np.where(r >= 0, s2n[stacks[np.maximum(r, 0)].astype(np.intp) + 1], 0)
        out.append(ViewSpans(*spans_of_nodes(nodes, edges[:-1], edges[1:], parent, func, depth), exact=False))
    return out


# ---------------------------------------------------------------- loop lag curve


class LagIndex:
    """Smallest and largest lag per time bucket (all loops), extended as probes arrive, coarsened as the session grows."""

    def __init__(self) -> None:
        self.n = 0
        self.check: tuple[float, float] | None = None
        self.width = 0.0
        self.low = np.full(BASE_BUCKETS, np.inf)
        self.high = np.full(BASE_BUCKETS, -np.inf)
        self.sorted = True  # the probes' times are in order (one loop always; several usually)

    def update(self, profile: Profile) -> LagIndex:
        lag = profile.lag
        n = len(lag)
        if n < self.n or (self.n and (float(lag["time"][self.n - 1]), float(lag["lag"][self.n - 1])) != self.check):
            self.__init__()  # type: ignore[misc]
        for lo in range(self.n, n, CHUNK):
            hi = min(n, lo + CHUNK)
            t = lag["time"][lo:hi]
            v = lag["lag"][lo:hi].astype(np.float64)
            if (lo and t[0] < lag["time"][lo - 1]) or bool(np.any(np.diff(t) < 0)):
                self.sorted = False
            last = float(t.max())
            if self.width == 0.0:
                self.width = first_width(last, BASE_BUCKETS)
            while last >= self.width * BASE_BUCKETS:
                self.low = np.concatenate((self.low.reshape(-1, 2).min(axis=1), np.full(BASE_BUCKETS // 2, np.inf)))
                self.high = np.concatenate((self.high.reshape(-1, 2).max(axis=1), np.full(BASE_BUCKETS // 2, -np.inf)))
                self.width *= 2
            b = np.clip((t / self.width).astype(np.int64), 0, BASE_BUCKETS - 1)
            steps = np.diff(b)
            if bool((steps >= 0).all()):  # in time order (nearly always): one reduceat per run of a bucket
                heads = np.concatenate(([0], np.flatnonzero(steps) + 1))
                at = b[heads]
                self.low[at] = np.minimum(self.low[at], np.minimum.reduceat(v, heads))
                self.high[at] = np.maximum(self.high[at], np.maximum.reduceat(v, heads))
            else:
                np.minimum.at(self.low, b, v)
                np.maximum.at(self.high, b, v)
        if n > self.n:
            self.n = n
            self.check = (float(lag["time"][n - 1]), float(lag["lag"][n - 1]))
        return self


    def to_arrays(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(header, arrays) `from_arrays` makes this index again from (see ActivityIndex.to_arrays)."""
        return {"n": self.n, "width": self.width, "sorted": self.sorted}, {"lag_low": self.low, "lag_high": self.high}

    @classmethod
    def from_arrays(cls, head: dict[str, Any], arrays: dict[str, np.ndarray]) -> LagIndex:
        out = cls()
        out.n, out.width, out.sorted = int(head["n"]), float(head["width"]), bool(head["sorted"])
        out.low, out.high = np.array(arrays["lag_low"], np.float64), np.array(arrays["lag_high"], np.float64)
        return out


def lag_index(profile: Profile) -> LagIndex:
    if is_preview(profile):  # the recording's index's (index_preview), no probe read yet
        return profile.cached("lag_index", LagIndex, unchanged)
    return profile.cached("lag_index", lambda: LagIndex().update(profile), lambda ix: ix.update(profile))


def lag_curve(profile: Profile, x0: float, x1: float, pixels: int, t1: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(time, lag) points drawing the lag curve over [x0, x1) at `pixels` columns.

    Every probe while there are at most a few per pixel; past that the lowest and
    highest lag of each column (of the index's buckets when they are under a pixel,
    else of the probes in view), so a spike is never averaged away.
    """
    if t1 is not None:
        x1 = min(x1, t1)
    lag = profile.lag
    times = lag["time"]
    if x1 <= x0 or not (len(times) or is_preview(profile)):
        return np.zeros(0), np.zeros(0)
    index = lag_index(profile)
    bw = index.width
    if not len(times):  # a recording's preview: the index's buckets
        if bw <= 0 or not index.n:
            return np.zeros(0), np.zeros(0)
        return _bucket_curve(index, x0, x1, pixels)
    if index.sorted:
        lo, hi = (int(i) for i in np.searchsorted(times, (x0, x1), side="left"))
        few = hi - lo <= 4 * pixels
    else:
        few = len(times) <= 4 * pixels
    if not few and (x1 - x0) / max(bw, MIN_WIDTH) >= pixels:  # buckets under a pixel: the index's
        if t1 is None:
            return _bucket_curve(index, x0, x1, pixels)
        # a replay's playhead: every probe before it was read per frame (millions; argsorted when a little
        # out of order, as an agent's batches of several loops are: 0.1-0.2 s a curve at 7.5M probes)
        return _bucket_curve_until(index, times, lag["lag"], x0, x1, pixels, probe_time_ranges(profile))
    if index.sorted:
        lo, hi = max(0, lo - 1), min(len(times), hi + 1)  # one probe either side: the line leaves the view
        t = times[lo:hi]
        v = lag["lag"][lo:hi]
    else:  # probes a little out of order (the agent's batches): the view's (read by chunk of rows), sorted
        rows = probe_time_ranges(profile).rows_between(times, x0, x1)
        rows = rows[np.argsort(times[rows], kind="stable")]
        t, v = times[rows], lag["lag"][rows]
    if t1 is not None:  # as lag_values: a replay's playhead ends the range [0, t1)
        v, t = v[t < t1], t[t < t1]
    if len(t) <= 4 * pixels:
        return t, v.astype(np.float64)
    edges = np.unique(np.searchsorted(t, np.linspace(t[0], t[-1], pixels + 1)[:-1], side="left"))
    low = np.minimum.reduceat(v, edges).astype(np.float64)
    high = np.maximum.reduceat(v, edges).astype(np.float64)
    ends = np.append(edges[1:], len(t)) - 1
    mid = (t[edges] + t[ends]) / 2
    return np.repeat(mid, 2), np.column_stack((low, high)).ravel()


def _bucket_curve_until(
    index: LagIndex, times: np.ndarray, values: np.ndarray, x0: float, t1: float, pixels: int,
    ranges: ProbeTimeRanges | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """_bucket_curve of [x0, t1) under a replay playhead t1: the index's buckets before the one holding t1,
    whose probes after t1 are not the replay's, so its probes before t1 are read from the rows (time order;
    out of it, only the chunks of rows `ranges` says can hold them: O(pixels + those probes) a frame)."""
    bw = index.width
    cut = min(BASE_BUCKETS - 1, int(t1 / bw))  # the bucket of t1, as LagIndex.update assigns a probe's
    t, v = _bucket_curve(index, x0, t1, pixels, stop=cut)
    start = max(x0, (cut - 1) * bw)
    if index.sorted:
        a, b = (int(i) for i in np.searchsorted(times, (start, t1), side="left"))
        rows_t, rows_v = times[a:b], values[a:b]
    else:  # out of time order: the chunks of rows that can hold them, no sort
        near = ranges.rows_between(times, start, t1) if ranges is not None else np.flatnonzero((times >= start) & (times < t1))
        rows_t, rows_v = times[near], values[near]
    mine = np.clip((rows_t / bw).astype(np.int64), 0, BASE_BUCKETS - 1) >= cut  # (the rest are in the buckets)
    tail_t, tail_v = rows_t[mine], rows_v[mine]
    if not len(tail_t):
        return t, v
    mid = (float(tail_t.min()) + float(tail_t.max())) / 2
    return np.concatenate((t, [mid, mid])), np.concatenate((v, [float(tail_v.min()), float(tail_v.max())]))


def _bucket_curve(
    index: LagIndex, x0: float, x1: float, pixels: int, stop: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The lowest and highest lag of the index's buckets per column of [x0, x1) (buckets before `stop`)."""
    bw = index.width
    i0, i1 = max(0, int(x0 / bw)), min(BASE_BUCKETS, int(np.ceil(x1 / bw)))
    if stop is not None:
        i1 = min(i1, stop)
    if i1 <= i0:
        return np.zeros(0), np.zeros(0)
    k = max(1, (i1 - i0) // pixels)
    starts = np.arange(i0, i1, k)
    low = np.minimum.reduceat(index.low[i0:i1], starts - i0)
    high = np.maximum.reduceat(index.high[i0:i1], starts - i0)
    ok = np.isfinite(low)
    mid = ((starts + np.minimum(k, i1 - starts) / 2) * bw)[ok]  # (the last column may hold fewer buckets)
    return np.repeat(mid, 2), np.column_stack((low[ok], high[ok])).ravel()
