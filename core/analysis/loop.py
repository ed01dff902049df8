"""Event-loop health: lag-probe statistics, blocking events and their stacks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyrometer.core.analysis.probe_rows import probe_time_ranges
from pyrometer.core.analysis.selection import Selection, time_slice
from pyrometer.core.model import BlockingEvent, Profile

# Histogram bin edges in seconds: 1-2-5 steps from 0.1 ms to 10 s; the last bin runs from
# 10 s to max(20 s, the largest lag) so that every edge stays finite (JSON, axis labels).
LAG_EDGES = np.array([0.0, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0])


def lag_edges(largest: float = 0.0) -> np.ndarray:
    """The histogram edges for lags up to `largest` seconds."""
    edges = LAG_EDGES.copy()
    edges[-1] = max(edges[-1], largest)
    return edges


@dataclass
class LagStats:
    """Lag-probe summary in seconds; all zeros when there are no probes."""

    probes: int
    p50: float
    p95: float
    p99: float
    max: float
    hist_edges: np.ndarray  # float64 seconds, len = len(hist_counts) + 1 (see LAG_EDGES)
    hist_counts: np.ndarray  # int64
    mean: float = 0.0


def _loops_of_threads(profile: Profile, threads: frozenset[int]) -> np.ndarray:
    return np.array([lid for lid, info in profile.loops.items() if info.thread in threads], np.int64)


def lag_values(profile: Profile, sel: Selection | None = None, loop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(time, lag seconds) of the probes in the selection, optionally of one loop."""
    lag = profile.lag
    times = lag["time"]
    t0, t1 = (sel.t0, sel.t1) if sel is not None else (None, None)
    if len(times) and not lag_in_time_order(profile):
        if t1 is not None:  # a range (a stall's, under a replay): the rows that can hold it, not all 7.5M sorted
            rows = probe_time_ranges(profile).rows_between(times, -np.inf if t0 is None else t0, t1)
            order = rows[np.argsort(times[rows], kind="stable")]
            t0 = t1 = None  # (what `order` holds is the range)
        else:
            order = np.argsort(times, kind="stable")
    else:
        order = None
    t = times if order is None else times[order]
    values = lag["lag"] if order is None else lag["lag"][order]
    loops = lag["loop"] if order is None else lag["loop"][order]
    sl = time_slice(t, t0, t1)
    t, values, loops = t[sl], values[sl], loops[sl]
    mask = None  # (no filter: no mask, and no copy of the times through one: a replay's [0, playhead] is millions)
    if loop is not None:
        mask = loops == loop
    if sel is not None and sel.threads is not None and profile.loops:
        on = np.isin(loops, _loops_of_threads(profile, sel.threads))
        mask = on if mask is None else mask & on
    if mask is None:
        return t, values.astype(np.float64)
    return t[mask], values[mask].astype(np.float64)


def lag_in_time_order(profile: Profile) -> bool:
    """Whether the lag probes are in time order: each probe checked once (a replay asked for every probe's
    order again at each playhead, a 60 MB pass at 7.5M probes), the new ones as a live session adds them."""

    def check(table_id: int, cuts: int, seen: int, in_order: bool) -> tuple[int, int, int, bool]:
        lag = profile.lag
        times = lag["time"]
        if table_id != id(lag) or cuts != lag.cuts or seen > len(times):
            seen, in_order = 0, True  # another table, or rows dropped since: every probe again
        if in_order and len(times) > seen:
            in_order = not bool(np.any(np.diff(times[max(0, seen - 1) :]) < 0))
        return id(lag), lag.cuts, len(times), in_order

    hit = profile.cached("lag_in_time_order", lambda: check(0, -1, 0, True), lambda hit: check(*hit))
    lag = profile.lag
    if hit[:3] != (id(lag), lag.cuts, len(lag)):  # rows added without a new generation (a profile built by hand)
        hit = check(*hit)
    return hit[3]


# A live session's whole-session lag figures are kept incrementally (a day has ~7.5M probes: recomputing
# them took ~0.6 s a refresh). Percentiles then come from a fine log histogram of FINE_BINS bins over
# 10^FINE_LOW..10^FINE_HIGH s (each 0.58% wide: a value is off by at most ~0.3%); below
# `approx_above` probes, and for files and the CLI, they are exact.
FINE_LOW, FINE_HIGH, FINE_BINS = -7.0, 3.0, 4000


class LagSummary:
    """Count, sum, largest, LAG_EDGES histogram and fine log histogram of every probe, extended with new ones."""

    def __init__(self) -> None:
        self.n = 0
        self.total = 0.0
        self.largest = -np.inf
        self.coarse = np.zeros(len(LAG_EDGES) - 1, np.int64)  # the last bin: everything from 10 s on
        self.fine = np.zeros(FINE_BINS + 2, np.int64)  # [0]: <= 10^FINE_LOW (and 0), [-1]: beyond 10^FINE_HIGH

    def update(self, profile: Profile) -> LagSummary:
        values = profile.lag["lag"]
        if len(values) < self.n:
            self.__init__()  # type: ignore[misc]
        v = values[self.n :].astype(np.float64)
        if len(v):
            self.n = len(values)
            self.total += float(v.sum())
            self.largest = max(self.largest, float(v.max()))
            ok = v >= 0  # np.histogram leaves negative values out
            bins = np.searchsorted(LAG_EDGES[:-1], v[ok], side="right") - 1
            self.coarse += np.bincount(bins, minlength=len(self.coarse))[: len(self.coarse)]
            logs = np.log10(np.maximum(v, 1e-300))
            fine = np.floor((logs - FINE_LOW) / (FINE_HIGH - FINE_LOW) * FINE_BINS).astype(np.int64) + 1
            self.fine += np.bincount(np.clip(fine, 0, FINE_BINS + 1), minlength=FINE_BINS + 2)
        return self

    def percentiles(self, qs: list[float]) -> list[float]:
        """Each q-th percentile as np.percentile interpolates it, between the values of ranks floor and ceil,
        each taken as the geometric middle of its fine bin (0 for the lowest bin)."""
        cum = np.cumsum(self.fine)
        step = (FINE_HIGH - FINE_LOW) / FINE_BINS

        def value(k: int) -> float:
            b = int(np.searchsorted(cum, k, side="right"))
            if b <= 0:
                return 0.0
            if b > FINE_BINS:
                return self.largest
            return min(10 ** (FINE_LOW + (b - 0.5) * step), self.largest)

        out = []
        for q in qs:
            rank = q / 100.0 * (self.n - 1)
            low = int(np.floor(rank))
            a, b = value(low), value(min(low + 1, self.n - 1))
            out.append(a + (rank - low) * (b - a))
        return out


def _summary_stats(profile: Profile, exact_up_to: int) -> LagStats:
    """Whole-session lag figures from the incremental summary (exact percentiles up to `exact_up_to` probes)."""
    summary: LagSummary = profile.cached("lag_summary", lambda: LagSummary().update(profile), lambda s: s.update(profile))
    edges = lag_edges(summary.largest if summary.n else 0.0)
    if not summary.n:
        return LagStats(0, 0.0, 0.0, 0.0, 0.0, edges, np.zeros(len(edges) - 1, np.int64))
    if summary.n <= exact_up_to:
        p50, p95, p99 = (float(v) for v in np.percentile(profile.lag["lag"].astype(np.float64), [50, 95, 99]))
    else:
        p50, p95, p99 = summary.percentiles([50, 95, 99])
    return LagStats(summary.n, p50, p95, p99, summary.largest, edges, summary.coarse.copy(), summary.total / summary.n)


def lag_stats(profile: Profile, sel: Selection | None = None, loop: int | None = None, approx_above: int | None = None) -> LagStats:
    """Percentiles, maximum and a histogram of loop lag in the selection.

    `approx_above` (a live view): for the whole session, kept incrementally, and past
    that many probes the percentiles come from the fine histogram (LagSummary).
    """
    whole = sel is None or (sel.t0 is None and sel.t1 is None and sel.threads is None)
    if whole and loop is None and approx_above is not None:
        return _summary_stats(profile, approx_above)
    if whole and loop is None:  # every probe: kept on the profile (a day has 7.5M; a window warms it off the GUI thread)
        return profile.cached("lag_stats_whole", lambda: _stats_of(profile.lag["lag"].astype(np.float64), own=True))
    if sel is not None and sel.t0 is None and sel.t1 is not None and sel.threads is None and loop is None:
        prefix = lag_prefix(profile, build=False)  # (built by a window's warm-up: a one-off query reads the probes)
        if prefix is not None:  # a replay's [0, playhead]: exact, without reading every probe before it
            return prefix.stats(probes_before(profile, sel.t1))
    _, values = lag_values(profile, sel, loop)
    return _stats_of(values, own=False)


def probes_before(profile: Profile, t1: float) -> int:
    """How many lag probes come before t1 (the first r in time order; ties at t1 left out, as time_slice):
    bisected when they are in time order, else from the chunks of rows that straddle t1 (probe_rows)."""
    times = profile.lag["time"]
    if lag_in_time_order(profile):
        return int(np.searchsorted(times, t1, side="left"))
    return probe_time_ranges(profile).count_before(times, t1)


def _stats_of(values: np.ndarray, own: bool) -> LagStats:
    """Figures and histogram of these lag values; `own`: a private copy the percentiles may reorder in place
    (np.percentile's copy of 7.5M probes was 60 MB more at the peak)."""
    edges = lag_edges(float(values.max()) if len(values) else 0.0)
    counts = _histogram(values, edges)
    if not len(values):
        return LagStats(0, 0.0, 0.0, 0.0, 0.0, edges, counts.astype(np.int64))
    top, mean = float(values.max()), float(values.mean())  # before the percentiles reorder `values`
    p50, p95, p99 = (float(v) for v in np.percentile(values, [50, 95, 99], overwrite_input=own))
    return LagStats(
        probes=len(values),
        p50=p50,
        p95=p95,
        p99=p99,
        max=top,
        hist_edges=edges,
        hist_counts=counts.astype(np.int64),
        mean=mean,
    )


def _histogram(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """np.histogram's counts (bins closed on the left, the last one on both sides) without sorting the values,
    in steps (the temporaries of 7.5M probes at once were ~150 MB)."""
    counts = np.zeros(len(edges) - 1, np.int64)
    for at in range(0, len(values), _HIST_STEP):
        part = values[at : at + _HIST_STEP]
        v = part[(part >= edges[0]) & (part <= edges[-1])]
        bins = np.searchsorted(edges, v, side="right") - 1
        bins[v == edges[-1]] = len(edges) - 2
        counts += np.bincount(bins, minlength=len(edges) - 1)[: len(edges) - 1]
    return counts


_HIST_STEP = 1 << 20


def blocking_events(profile: Profile, sel: Selection | None = None) -> list[BlockingEvent]:
    """Blocking events that overlap the selection (and are on its threads), in time order.

    A stall is the range's when any part of it lies in the range: a range drawn
    inside a stall lists that stall. Those starting before the selection's end are a
    prefix of the time-sorted stalls, kept on the profile (a replay asks at every frame).
    """
    t0 = None if sel is None else sel.t0
    t1 = None if sel is None else sel.t1
    threads = None if sel is None else sel.threads
    stalls, starts = sorted_blocking(profile)
    out = stalls[: len(stalls) if t1 is None else int(np.searchsorted(starts, t1, side="left"))]  # b.start < t1
    if t0 is None and threads is None:
        return out
    return [
        b
        for b in out
        if (t0 is None or b.start + b.duration > t0 or b.start >= t0) and (threads is None or b.thread in threads)
    ]


_Sorted = tuple[tuple[int, int, int], list[BlockingEvent], np.ndarray]


def sorted_blocking(profile: Profile) -> tuple[list[BlockingEvent], np.ndarray]:
    """The profile's blocking events sorted by start (stably: equal starts keep their order) and their starts
    as float64; kept, and extended by what a live session appends."""
    events = profile.blocking

    def key() -> tuple[int, int, int]:
        return id(events), len(events), id(events[-1]) if events else 0

    def make() -> _Sorted:
        stalls = sorted(events, key=_start_of)
        return key(), stalls, np.array([b.start for b in stalls], np.float64)

    def update(old: _Sorted) -> _Sorted:
        (list_id, n, last), stalls, starts = old
        if old[0] == key():
            return old
        if list_id != id(events) or n > len(events) or (n and id(events[n - 1]) != last):
            return make()  # another list, or events replaced: sorted again
        new = sorted(events[n:], key=_start_of)
        if stalls and new[0].start < stalls[-1].start:
            return make()
        return key(), stalls + new, np.concatenate((starts, np.array([b.start for b in new], np.float64)))

    hit: _Sorted = profile.cached("blocking_sorted", make, update)
    if hit[0] != key():  # events appended without a new generation (a profile built by hand)
        hit = update(hit)
    return hit[1], hit[2]


def _start_of(event: BlockingEvent) -> float:
    return event.start


def innermost_frame(profile: Profile, stack: int) -> int:
    """The frame that was executing in `stack` (no frame is skipped), or -1 for no stack."""
    if stack < 0 or stack >= len(profile.stacks):
        return -1
    return int(profile.stacks["frame"][stack])


def blocking_function(profile: Profile, event: BlockingEvent) -> tuple[str, int]:
    """(label, function id) of the innermost frame that was running, or the callback text."""
    frame = innermost_frame(profile, event.stack)
    if frame < 0:
        return (event.callback or "?"), -1
    func = profile.frame_func(frame)
    return profile.func_name[func], func


def stack_labels(profile: Profile, stack: int) -> list[str]:
    """`function (file:line)` for each frame, innermost first."""
    if stack < 0 or stack >= len(profile.stacks):
        return []
    return [profile.frame_label(fr) for fr in reversed(profile.stack_frames(stack))]


def event_range(event: BlockingEvent) -> tuple[float, float]:
    """The time range selecting a stall selects: a little past its end, so the probe that measured it is inside."""
    return event.start, event.start + event.duration + max(event.duration * 0.1, 0.01)


PREFIX_FROM = 200_000  # probes from which [0, playhead] figures come from a LagPrefix (below, reading them is quick)
PREFIX_BLOCK = 1 << 16
COUNTS_BYTES = 8 << 20  # LagPrefix.counts at most this big with its finer step (7.5M probes: 0.4 MB)


class LagPrefix:
    """Exact lag figures of the first r probes (time order) for any r, at a cost independent of r.

    A replay asks for [0, playhead] at every frame: reading the 7.5M probes of a day before the
    playhead, their percentiles and histogram took 150-290 ms a frame at 30M samples. Here the
    probes are sorted by value once, with each one's time rank; the k-th smallest of the first r
    is the k-th value of that order whose rank is under r, found by counts per block of 65,536.
    Those counts are kept for every multiple of the block in time too (`counts`), so that a
    playhead reads only the probes since the last multiple and the blocks it looks into (counting
    the first r in every block was a pass over all 7.5M ranks, ~60 ms a frame). Percentiles
    interpolate as np.percentile does (its "linear" method); the mean sums per block.
    """

    def __init__(self, values: np.ndarray, in_time_order: bool = True) -> None:
        """`values`: the lag values in time order (the column itself, or, when its probes were not in time
        order, an agent's batches of several loops, put in it stably as lag_values sorts them: `in_time_order`
        False)."""
        self.in_time_order = in_time_order
        order = np.argsort(values, kind="stable")
        self.n = len(values)
        self.rank = order.astype(np.int32)  # time rank of each probe, in value order
        self.sorted = values[order]  # the probes' values, ascending (float32 like the column)
        del order
        starts = np.arange(0, self.n, PREFIX_BLOCK)
        self.starts = starts
        blocks = len(starts)
        # the first probe of each value block but the first, as (value, time rank): the stable sort orders
        # probes by that pair, so a probe's block is how many of these it is not below
        self.bound_values = self.sorted[starts[1:]]
        self.bound_ranks = self.rank[starts[1:]].astype(np.int64)
        # counts[j, b]: how many probes of value block b are among the first j * step in time order (a step of
        # an eighth of a block while that table stays under COUNTS_BYTES: a playhead then reads < step probes)
        step = PREFIX_BLOCK // 8 if (self.n // max(1, PREFIX_BLOCK // 8) + 1) * blocks * 4 <= COUNTS_BYTES else PREFIX_BLOCK
        self.step = max(1, step)
        marks = self.n // self.step + 1
        per = np.zeros((marks + 1, blocks), np.int32)
        for b, at in enumerate(starts.tolist()):
            per[1:, b] = np.bincount(self.rank[at : at + PREFIX_BLOCK] // self.step, minlength=marks)
        self.counts = np.cumsum(per, axis=0, dtype=np.int32)
        del per
        sums = np.zeros(blocks + 1, np.float64)  # sums[b]: the values of time ranks [0, b * PREFIX_BLOCK)
        for b, at in enumerate(starts):
            sums[b + 1] = sums[b] + float(values[at : at + PREFIX_BLOCK].astype(np.float64).sum())
        self.sums = sums
        self.values = values

    def value_blocks(self, lo: int, hi: int) -> np.ndarray:
        """The value block of each probe of time ranks [lo, hi)."""
        v = self.values[lo:hi]
        t = np.arange(lo, hi, dtype=np.int64)
        block = np.searchsorted(self.bound_values, v, side="left")  # block starts of a smaller value
        right = np.searchsorted(self.bound_values, v, side="right")
        tie = np.flatnonzero(right > block)  # a block starts at a probe of the same value: the time ranks decide
        if len(tie):
            left, span, rank = block[tie], (right - block)[tie], t[tie]
            more = np.zeros(len(tie), np.int64)
            for d in range(int(span.max())):
                at = np.minimum(left + d, len(self.bound_ranks) - 1)
                more += (d < span) & (self.bound_ranks[at] <= rank)
            block[tie] += more
        return block

    def stats(self, r: int) -> LagStats:
        r = max(0, min(int(r), self.n))
        if r == 0:
            edges = lag_edges(0.0)
            return LagStats(0, 0.0, 0.0, 0.0, 0.0, edges, np.zeros(len(edges) - 1, np.int64))
        blocks = len(self.starts)
        j = r // self.step
        counts = self.counts[j].astype(np.int64)  # the first j * step probes' ...
        if r > j * self.step:  # ... and those since
            counts += np.bincount(self.value_blocks(j * self.step, r), minlength=blocks)
        before = np.concatenate(([0], np.cumsum(counts)))  # the first r before each value block

        def inside(at: int, end: int) -> np.ndarray:
            return self.rank[at:end] < r

        def position(k: int) -> int:
            """Index in value order of the k-th (0-based) probe among the first r."""
            b = int(np.searchsorted(before, k, side="right")) - 1
            at = int(self.starts[b])
            return at + int(np.flatnonzero(inside(at, at + PREFIX_BLOCK))[k - int(before[b])])

        def trues_before(p: int) -> int:
            """How many of the first r probes lie before index p of the value order."""
            if p >= self.n:
                return int(before[-1])
            b = p // PREFIX_BLOCK
            at = int(self.starts[b])
            return int(before[b]) + int(np.count_nonzero(inside(at, p)))

        def value(k: int) -> float:
            return float(self.sorted[position(k)])

        top = value(r - 1)
        qs = np.array([50.0, 95.0, 99.0]) / 100.0
        virtual = (r - 1) * qs  # np.percentile's "linear" method, as numpy computes it
        figures = []
        for v in virtual:
            low = int(np.floor(v))
            low = min(max(low, 0), r - 1)
            high = min(low + 1, r - 1)
            a, b = value(low), value(high)
            t = v - low
            diff = b - a
            figures.append(b - diff * (1 - t) if t >= 0.5 else a + diff * t)
        edges = lag_edges(top)
        dtype = self.sorted.dtype
        cut = np.searchsorted(self.sorted, exact_keys(edges[:-1], dtype, "left"), side="left").tolist()
        last = exact_keys(edges[-1:], dtype, "right")  # the last bin is closed on both sides
        cut.append(int(np.searchsorted(self.sorted, last, side="right")[0]))
        marks = [trues_before(int(c)) for c in cut]
        hist = np.diff(np.array(marks, np.int64))
        b = r // PREFIX_BLOCK
        total = float(self.sums[b]) + float(self.values[b * PREFIX_BLOCK : r].astype(np.float64).sum())
        return LagStats(r, figures[0], figures[1], figures[2], top, edges, hist, total / r)


def exact_keys(keys: np.ndarray, dtype: np.dtype, side: str) -> np.ndarray:
    """`keys` (float64) in `dtype`, so that np.searchsorted over an array of `dtype` with them counts what it
    counts with the float64 keys (when given float64 keys, numpy converts the whole array, each call: 30 MB at
    7.5M probes). side "left" counts values < key: the key rounds up to the next value of `dtype`; "right"
    counts values <= key: it rounds down."""
    if dtype == np.float64 or dtype.kind != "f":
        return keys
    with np.errstate(over="ignore"):
        out = keys.astype(dtype)
    wide = out.astype(np.float64)
    if side == "left":
        return np.where(wide < keys, np.nextafter(out, np.array(np.inf, dtype)), out)
    return np.where(wide > keys, np.nextafter(out, np.array(-np.inf, dtype)), out)


def lag_prefix(profile: Profile, build: bool = True) -> LagPrefix | None:
    """The profile's LagPrefix, built once (values put in time order); None for too few probes or ones not finite."""
    lag = profile.lag
    if len(lag) < PREFIX_FROM:
        return None
    key = (id(lag), lag.cuts, len(lag))

    Entry = tuple[tuple[int, int, int], "LagPrefix | None"]

    def make() -> Entry:
        values = np.asarray(lag["lag"])
        if not bool(np.isfinite(values).all()) or not bool(np.isfinite(lag["time"]).all()):
            return key, None
        if lag_in_time_order(profile):
            return key, LagPrefix(values)
        return key, LagPrefix(values[np.argsort(lag["time"], kind="stable")], in_time_order=False)

    def update(old: Entry) -> Entry:
        return old if old[0] == key else make()

    if not build:
        kept = profile.cache.peek("lag_prefix")
        return kept[1] if kept is not None and kept[0] == key else None
    hit: Entry = profile.cached("lag_prefix", make, update)
    if hit[0] != key:  # rows added without a new generation
        hit = make()
    return hit[1]
