"""Time-ordered views of one thread: stack-chart spans and on/off-CPU activity.

A span is one function at one depth over consecutive samples whose stacks
share the function path down to that depth. A sample stands for
[time, time + weight) when weights are seconds — for the agent's samples
(time - weight, time]: the agent weighs a sample by the time since its
thread's previous one; for sample counts it lasts until the thread's next
sample (the last one: the median interval).

Activity runs (the timeline's lanes) are kept per thread and extended with
only the new samples, so a live refresh costs what arrived since the last one.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from pyrometer.core.analysis._nodes import node_table
from pyrometer.core.analysis.cpu_level import cpu_level, cpu_levels
from pyrometer.core.analysis.selection import Selection, sample_indices
from pyrometer.core.columns import ColumnTable
from pyrometer.core.model import UNIT_SECONDS, Profile


@dataclass
class Spans:
    """Spans sorted by (start, depth); depth 0 is the outermost frame."""

    start: np.ndarray  # float64 seconds
    end: np.ndarray  # float64 seconds
    depth: np.ndarray  # int32
    func: np.ndarray  # int32

    def __len__(self) -> int:
        return len(self.start)


def _no_spans() -> Spans:
    z = np.zeros(0)
    zi = np.zeros(0, np.int32)
    return Spans(z, z.copy(), zi, zi.copy())


_COLUMNS = ("time", "cpu", "weight")  # gathered per thread along with the row numbers
_ROW_DTYPES = {"rows": np.int64, **{c: np.float64 for c in _COLUMNS}}


class _ThreadRows:
    """Each thread's sample rows (and their time, cpu, weight), extended with only the new rows.

    Samples are append-only and time-sorted, so a thread's rows only ever gain
    a tail; scanning and gathering all samples per thread on every live refresh
    cost O(samples x threads).
    """

    def __init__(self) -> None:
        self.n = 0
        self.check = (0.0, 0, 0)  # (time, thread, stack) of the last indexed row: detects a re-sorted table
        self.buf: dict[int, ColumnTable] = {}
        self.runs: dict[int, _Runs] = {}  # activity runs per thread, over the indexed rows
        self.views: dict[int, dict[str, np.ndarray]] = {}  # per thread: the columns' filled part

    def _fingerprint(self, profile: Profile, i: int) -> tuple[float, int, int]:
        s = profile.samples
        return float(s["time"][i]), int(s["thread"][i]), int(s["stack"][i])

    def columns(self, profile: Profile, thread: int) -> dict[str, np.ndarray]:
        """Views of the thread's "rows", "time", "cpu" and "weight" (float64), in time order."""
        table = self.buf.get(thread)
        if table is None:
            return {"rows": np.zeros(0, np.int64), **{c: np.zeros(0) for c in _COLUMNS}}
        views = self.views.get(thread)
        if views is None or len(views["rows"]) != len(table):
            views = self.views[thread] = {c: table[c] for c in _ROW_DTYPES}
        return views

    def update(self, profile: Profile) -> _ThreadRows:
        """Index the rows appended since the last call (all again if the table was rewritten)."""
        n = len(profile.samples)
        if n < self.n or (self.n and self._fingerprint(profile, self.n - 1) != self.check):
            self.__init__()  # type: ignore[misc]
        if n > self.n:
            new = profile.samples["thread"][self.n : n]
            lo, hi = int(new.min()), int(new.max())
            # thread ids are small (the agent numbers them): a 16-bit key sorts by radix, ~7x faster
            key = (new - lo).astype(np.uint16) if hi - lo < 1 << 16 else new
            order = np.argsort(key, kind="stable")
            by_thread = new[order]
            bounds = [0, *(np.flatnonzero(by_thread[1:] != by_thread[:-1]) + 1).tolist(), len(order)]
            # gather each column once for all threads, then hand every thread its slice
            cols = {"rows": order.astype(np.int64) + self.n}
            for c in _COLUMNS:
                cols[c] = profile.samples[c][self.n : n][order].astype(np.float64)
            if profile.unit == UNIT_SECONDS and profile.samples_end_spans:
                cols["time"] -= cols["weight"]  # the agent's sample ends its span: lanes start it there
            for a, b in pairwise(bounds):
                thread = int(by_thread[a])
                table = self.buf.get(thread)
                if table is None:
                    table = self.buf[thread] = ColumnTable(_ROW_DTYPES)
                table.extend(**{c: v[a:b] for c, v in cols.items()})
            self.n = n
            self.check = self._fingerprint(profile, n - 1)
        return self


def _row_cache(profile: Profile) -> _ThreadRows:
    """The thread index, kept on the profile and extended when its generation moves."""
    return profile.cached("thread_rows", lambda: _ThreadRows().update(profile), lambda rows: rows.update(profile))


def _thread_columns(profile: Profile, thread: int, sel: Selection | None) -> dict[str, np.ndarray]:
    """The thread's samples in the selection's time range: "rows", "time", "cpu", "weight"."""
    base = Selection(sel.t0, sel.t1, None) if sel is not None else None
    idx = sample_indices(profile, base)
    if not profile.samples_sorted:  # not yet finished: no index to extend
        rows = np.arange(len(profile.samples))[idx]
        rows = rows[profile.samples["thread"][rows] == thread]
        return {"rows": rows, **{c: profile.samples[c][rows].astype(np.float64) for c in _COLUMNS}}
    cols = _row_cache(profile).columns(profile, thread)
    if sel is None or (sel.t0 is None and sel.t1 is None):
        return cols
    assert isinstance(idx, slice)
    lo, hi = (int(i) for i in np.searchsorted(cols["rows"], (idx.start, idx.stop)))
    return {c: a[lo:hi] for c, a in cols.items()}


def _thread_rows(profile: Profile, thread: int, sel: Selection | None) -> np.ndarray:
    return _thread_columns(profile, thread, sel)["rows"]


def _sample_ends(profile: Profile, rows: np.ndarray) -> np.ndarray:
    t = profile.samples["time"][rows]
    # a timeless file's sample times are its weights summed in file order: a sample ends at time + weight
    # (the median gap made the last one up: 40 for a stack counted 20 times)
    exact = profile.unit == UNIT_SECONDS or not profile.has_time
    return _ends(profile, t, profile.samples["weight"][rows] if exact else None)


def _ends(profile: Profile, t: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    if profile.unit == UNIT_SECONDS or weight is not None:
        assert weight is not None
        return t + weight
    if len(t) < 2:
        return t.copy()
    gaps = np.diff(t)
    last = float(np.median(gaps))
    return np.concatenate((t[1:], [t[-1] + last]))


def stack_chart(profile: Profile, thread: int, sel: Selection | None = None) -> Spans:
    """Spans of one thread's samples in the selection's time range."""
    rows = _thread_rows(profile, thread, sel)
    if not len(rows):
        return _no_spans()
    table = node_table(profile)
    parent, func, depth = table.arrays()
    s2n = table.stack_to_node()
    nodes = s2n[profile.samples["stack"][rows].astype(np.intp) + 1]
    t0 = profile.samples["time"][rows]
    t1 = _sample_ends(profile, rows)
    if profile.unit == UNIT_SECONDS and profile.samples_end_spans:  # the agent's sample ends its span
        t0, t1 = t0 - profile.samples["weight"][rows], t0.astype(np.float64)
    start, end, dep, fn = merge_node_runs(nodes, t0, t1, parent, func, depth)
    if not len(start):  # only empty stacks
        return _no_spans()
    return Spans(start, end, dep, fn)


def merge_node_runs(
    nodes: np.ndarray, t0: np.ndarray, t1: np.ndarray, parent: np.ndarray, func: np.ndarray, depth: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(start, end, depth, func) of the spans of consecutive items (samples, or pixel columns) at call-tree `nodes`.

    Item i covers [t0[i], t1[i]); node 0 (the root: no stack) breaks every span. Sorted by (start, depth).
    """
    if not len(nodes):
        z = np.zeros(0)
        zi = np.zeros(0, np.int32)
        return z, z.copy(), zi, zi.copy()
    # runs of samples with the very same function path become one segment first
    seg = np.ones(len(nodes), bool)
    seg[1:] = nodes[1:] != nodes[:-1]
    first = np.flatnonzero(seg)
    last = np.append(first[1:], len(nodes)) - 1
    bounds = np.column_stack((first, last + 1)).ravel()
    t1 = np.maximum.reduceat(np.append(t1, 0.0), bounds)[::2]
    t0 = t0[first]
    nodes = nodes[first]
    uniq, inv = np.unique(nodes, return_inverse=True)
    cur = uniq.astype(np.int64)
    udepth = depth[uniq]
    starts: list[np.ndarray] = []
    ends: list[np.ndarray] = []
    depths: list[np.ndarray] = []
    funcs: list[np.ndarray] = []
    t1_ext = np.append(t1, 0.0)
    for d in range(int(udepth.max(initial=0)), 0, -1):
        at = udepth >= d
        anc_u = np.where(at, cur, -1)
        cur = np.where(at, parent[cur], cur)
        anc = anc_u[inv]
        valid = anc >= 0
        if not valid.any():
            continue
        begin = valid.copy()
        begin[1:] &= ~(valid[:-1] & (anc[1:] == anc[:-1]))
        finish = valid.copy()
        finish[:-1] &= ~(valid[1:] & (anc[1:] == anc[:-1]))
        b = np.flatnonzero(begin)
        e = np.flatnonzero(finish)
        # a run ends at the latest end of its samples: max of t1 over [b, e]
        bounds = np.column_stack((b, e + 1)).ravel()
        starts.append(t0[b])
        ends.append(np.maximum.reduceat(t1_ext, bounds)[::2])
        depths.append(np.full(len(b), d - 1, np.int32))
        funcs.append(func[anc[b]])
    if not starts:  # only empty stacks
        z = np.zeros(0)
        zi = np.zeros(0, np.int32)
        return z, z.copy(), zi, zi.copy()
    start = np.concatenate(starts)
    end = np.concatenate(ends)
    dep = np.concatenate(depths)
    fn = np.concatenate(funcs).astype(np.int32)
    order = np.lexsort((dep, start))
    return start[order], end[order], dep[order], fn[order]


def thread_activity(profile: Profile, thread: int, sel: Selection | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(time, on_cpu) per sample of the thread: on CPU when cpu >= half the sample's span.

    Unknown CPU (negative) counts as on CPU. For sample-count profiles the
    span is the time until the thread's next sample.
    """
    cols = _thread_columns(profile, thread, sel)
    t, cpu = cols["time"], cols["cpu"]
    # in seconds the weight is the span (t + weight - t only adds rounding: a sample at exactly half flipped)
    span = cols["weight"].astype(np.float64) if profile.unit == UNIT_SECONDS else _ends(profile, t, None) - t
    on = (cpu < 0) | (cpu >= 0.5 * span)
    return t.copy(), on


# ---------------------------------------------------------------- activity runs (timeline lanes)

TYPICAL_GAPS = 2048  # a thread's typical sample interval is the median of its first gaps: fixed once known


def typical_gap(t: np.ndarray) -> float:
    """Median interval between a thread's first TYPICAL_GAPS + 1 samples (0.01 s for a single sample).

    Only the first gaps count, so the value stops changing after a few
    seconds of a live session and runs already built stay valid.
    """
    if len(t) < 2:
        return 0.01
    med = float(np.median(np.diff(t[: TYPICAL_GAPS + 1])))
    return med if med > 0 else 0.001


def _on_cpu(profile: Profile, cols: dict[str, np.ndarray], last_gap: float) -> np.ndarray:
    """Each sample's CPU level (`cpu_level.cpu_levels`: on CPU, partly, waiting) from cpu over its span.

    A sample's span is its weight (seconds) or the time to the thread's next
    sample (counts; the last one: `last_gap`), so only the last sample's value
    can change when samples are appended.
    """
    t, cpu = cols["time"], cols["cpu"]
    if profile.unit == UNIT_SECONDS:
        span = cols["weight"]
    else:
        span = np.empty_like(t)
        span[:-1] = np.diff(t)
        if len(t):
            span[-1] = last_gap
    return cpu_levels(cpu, span)


def _ends_capped(t: np.ndarray, gap: float) -> np.ndarray:
    """Each sample lasts until the next one, but at most 3 typical gaps (the last: one gap)."""
    ends = np.empty_like(t)
    ends[:-1] = np.minimum(t[1:], t[:-1] + 3 * gap)
    ends[-1] = t[-1] + gap
    return ends


def _breaks(t: np.ndarray, on: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """brk[i] for i >= 1 (relative to the arrays): a new run starts at sample i."""
    return (on[1:] != on[:-1]) | (t[1:] > ends[:-1] + 1e-12)


def _runs_from(t: np.ndarray, on: np.ndarray, gap: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(first sample, start, end, on) of each run over all of `t` (a run starts at index 0)."""
    ends = _ends_capped(t, gap)
    brk = np.ones(len(t), bool)
    brk[1:] = _breaks(t, on, ends)
    first = np.flatnonzero(brk)
    last = np.empty_like(first)
    last[:-1] = first[1:] - 1
    last[-1] = len(t) - 1
    return first, t[first], ends[last], on[first]


class _Runs:
    """One thread's closed activity runs, extended as samples arrive.

    A break before sample i depends on samples i-1, i and i+1 (the on-CPU
    test of a sample-count profile looks at the next sample), so every break
    up to the next-to-last sample is final: runs closed by such a break never
    change, and the run still open only needs its start remembered.
    """

    def __init__(self, gap: float) -> None:
        self.gap = gap
        # per closed run: its first sample, start, width and state
        self.closed = ColumnTable({"first": np.int64, "start": np.float64, "width": np.float64, "on": np.int8}, capacity=256)
        self.open_first = 0  # first sample of the open run
        self.scanned = 1  # breaks before samples < scanned are known (none inside the open run)

    def extend(self, profile: Profile, cols: dict[str, np.ndarray]) -> None:
        t = cols["time"]
        n = len(t)
        lo = self.scanned - 1  # breaks are found for samples [scanned, n - 2]
        if n - 2 < self.scanned:
            return
        part = {c: a[lo:n] for c, a in cols.items()}
        on = _on_cpu(profile, part, self.gap)
        tt = part["time"]
        ends = _ends_capped(tt, self.gap)
        brk = _breaks(tt, on, ends)[: n - 1 - self.scanned]  # sample lo + 1 + k, up to n - 2
        new = np.flatnonzero(brk) + lo + 1
        if len(new):
            firsts = np.concatenate(([self.open_first], new))
            last = new - 1
            closed = firsts[:-1]
            # the open run began before lo, but it has one state throughout: on[lo] is its state
            self.closed.extend(first=closed, start=t[closed], width=ends[last - lo] - t[closed], on=on[np.maximum(closed - lo, 0)])
            self.open_first = int(new[-1])
        self.scanned = n - 1

    def prefix(self, profile: Profile, cols: dict[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The runs of the thread's first n samples (n <= the samples extended over)."""
        k = len(self.closed)
        first = self.closed["first"]
        # closed run j ends at the first sample of run j + 1; it is final for n samples when that is <= n - 2
        if k == 0 or self.open_first <= n - 2:
            j = k
        else:
            j = int(np.searchsorted(first[1:k], n - 2, "right"))
        r = int(first[j]) if j < k else self.open_first  # first sample of the run that may still change
        q = max(r, n - 3)  # no break between r and q: only the last (at most three) samples need a look
        start, width, on = self._tail(profile, cols, r, q, n)
        out_start = np.empty(j + len(start))
        out_width = np.empty(j + len(start))
        out_on = np.empty(j + len(start), np.int8)
        out_start[:j], out_width[:j], out_on[:j] = self.closed["start"][:j], self.closed["width"][:j], self.closed["on"][:j]
        out_start[j:], out_width[j:], out_on[j:] = start, width, on
        return out_start, out_width, out_on

    def _tail(
        self, profile: Profile, cols: dict[str, np.ndarray], r: int, q: int, n: int
    ) -> tuple[list[float], list[float], list[int]]:
        """Runs over samples q..n-1 (at most three), the first one starting at sample r.

        Plain floats: for three samples numpy's per-call cost is most of the
        refresh; the arithmetic is the same IEEE double arithmetic as `_runs_from`.
        """
        t = cols["time"][q:n].tolist()
        cpu = cols["cpu"][q:n].tolist()
        gap = self.gap
        if profile.unit == UNIT_SECONDS:
            span = cols["weight"][q:n].tolist()
        else:
            span = [t[i + 1] - t[i] for i in range(len(t) - 1)] + [gap]
        on = [cpu_level(c, s) for c, s in zip(cpu, span, strict=True)]
        ends = [min(t[i + 1], t[i] + 3 * gap) for i in range(len(t) - 1)] + [t[-1] + gap]
        starts, widths, states = [], [], []
        first_t = float(cols["time"][r])
        first = 0
        for i in range(1, len(t) + 1):
            if i == len(t) or on[i] != on[i - 1] or t[i] > ends[i - 1] + 1e-12:
                begin = first_t if first == 0 else t[first]
                starts.append(begin)
                widths.append(ends[i - 1] - begin)
                states.append(on[first])
                first = i
        return starts, widths, states


def activity_runs(profile: Profile, thread: int, t1: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, width, CPU level) of the runs of consecutive samples of a thread at the same level, before t1.

    The level is `cpu_level`'s: on CPU, partly on CPU (e.g. sharing the GIL), or waiting.

    A sample lasts until the thread's next sample, but at most three typical
    intervals (`typical_gap`): a long gap means the thread was not sampled
    (e.g. idle in C). On a time-sorted profile the runs are kept and extended
    with new samples, and any t1 (a replay playhead) reads a prefix of them,
    so a refresh costs the new samples, not all of them.
    """
    sel = Selection(t1=t1) if t1 is not None else None
    cols = _thread_columns(profile, thread, sel)
    n = len(cols["time"])
    if n == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0, np.int8)
    if not profile.samples_sorted or n <= TYPICAL_GAPS + 1:  # no index yet, or the typical gap may still move
        gap = typical_gap(cols["time"])
        _first, start, end, on = _runs_from(cols["time"], _on_cpu(profile, cols, gap), gap)
        return start, end - start, on
    cache = _row_cache(profile)
    full = cols if sel is None else _thread_columns(profile, thread, None)
    runs = cache.runs.get(thread)
    if runs is None:
        runs = cache.runs[thread] = _Runs(typical_gap(full["time"]))
    runs.extend(profile, full)
    return runs.prefix(profile, full, n)
