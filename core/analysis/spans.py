"""Time-ordered views of one thread: stack-chart spans and on/off-CPU activity.

A span is one function at one depth over consecutive samples whose stacks
share the function path down to that depth. A sample stands for
[time, time + weight) when weights are seconds; for sample counts it lasts
until the thread's next sample (the last one: the median interval).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from pyrometer.core.analysis._nodes import node_table
from pyrometer.core.analysis.selection import Selection, sample_indices
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


class _ThreadRows:
    """Each thread's sample rows (and their time, cpu, weight), extended with only the new rows.

    Samples are append-only and time-sorted, so a thread's rows only ever gain
    a tail; scanning and gathering all samples per thread on every live refresh
    cost O(samples x threads).
    """

    def __init__(self) -> None:
        self.n = 0
        self.check = (0.0, 0, 0)  # (time, thread, stack) of the last indexed row: detects a re-sorted table
        self.buf: dict[int, dict[str, np.ndarray]] = {}
        self.len: dict[int, int] = {}

    def _fingerprint(self, profile: Profile, i: int) -> tuple[float, int, int]:
        s = profile.samples
        return float(s["time"][i]), int(s["thread"][i]), int(s["stack"][i])

    def columns(self, profile: Profile, thread: int) -> dict[str, np.ndarray]:
        """Views of the thread's "rows", "time", "cpu" and "weight" (float64), in time order."""
        n = len(profile.samples)
        if n < self.n or (self.n and self._fingerprint(profile, self.n - 1) != self.check):
            self.__init__()  # type: ignore[misc]
        if n > self.n:
            new = profile.samples["thread"][self.n : n]
            order = np.argsort(new, kind="stable")
            cuts = np.flatnonzero(np.diff(new[order])) + 1
            for part in np.split(order, cuts):
                rows = part.astype(np.int64) + self.n
                cols = {"rows": rows, **{c: profile.samples[c][rows].astype(np.float64) for c in _COLUMNS}}
                self._append(int(new[part[0]]), cols)
            self.n = n
            self.check = self._fingerprint(profile, n - 1)
        k = self.len.get(thread, 0)
        if not k:
            return {"rows": np.zeros(0, np.int64), **{c: np.zeros(0) for c in _COLUMNS}}
        return {c: a[:k] for c, a in self.buf[thread].items()}

    def _append(self, thread: int, cols: dict[str, np.ndarray]) -> None:
        have = self.len.get(thread, 0)
        add = len(cols["rows"])
        buf = self.buf.get(thread)
        if buf is None or have + add > len(buf["rows"]):
            size = max(2 * (have + add), 1024)
            grown = {c: np.empty(size, a.dtype) for c, a in cols.items()}
            if buf is not None:
                for c, a in grown.items():
                    a[:have] = buf[c][:have]
            buf = self.buf[thread] = grown
        for c, a in cols.items():
            buf[c][have : have + add] = a
        self.len[thread] = have + add


_ROWS: weakref.WeakKeyDictionary[Profile, _ThreadRows] = weakref.WeakKeyDictionary()


def _thread_columns(profile: Profile, thread: int, sel: Selection | None) -> dict[str, np.ndarray]:
    """The thread's samples in the selection's time range: "rows", "time", "cpu", "weight"."""
    base = Selection(sel.t0, sel.t1, None) if sel is not None else None
    idx = sample_indices(profile, base)
    if not profile._samples_sorted:  # not yet finished: no index to extend
        rows = np.arange(len(profile.samples))[idx]
        rows = rows[profile.samples["thread"][rows] == thread]
        return {"rows": rows, **{c: profile.samples[c][rows].astype(np.float64) for c in _COLUMNS}}
    cache = _ROWS.get(profile)
    if cache is None:
        cache = _ROWS[profile] = _ThreadRows()
    cols = cache.columns(profile, thread)
    assert isinstance(idx, slice)
    lo, hi = (int(i) for i in np.searchsorted(cols["rows"], (idx.start, idx.stop)))
    return {c: a[lo:hi] for c, a in cols.items()}


def _thread_rows(profile: Profile, thread: int, sel: Selection | None) -> np.ndarray:
    return _thread_columns(profile, thread, sel)["rows"]


def _sample_ends(profile: Profile, rows: np.ndarray) -> np.ndarray:
    t = profile.samples["time"][rows]
    return _ends(profile, t, profile.samples["weight"][rows] if profile.unit == UNIT_SECONDS else None)


def _ends(profile: Profile, t: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    if profile.unit == UNIT_SECONDS:
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
        return _no_spans()
    start = np.concatenate(starts)
    end = np.concatenate(ends)
    dep = np.concatenate(depths)
    fn = np.concatenate(funcs).astype(np.int32)
    order = np.lexsort((dep, start))
    return Spans(start[order], end[order], dep[order], fn[order])


def thread_activity(profile: Profile, thread: int, sel: Selection | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(time, on_cpu) per sample of the thread: on CPU when cpu >= half the sample's span.

    Unknown CPU (negative) counts as on CPU. For sample-count profiles the
    span is the time until the thread's next sample.
    """
    cols = _thread_columns(profile, thread, sel)
    t, cpu = cols["time"], cols["cpu"]
    span = _ends(profile, t, cols["weight"] if profile.unit == UNIT_SECONDS else None) - t
    on = (cpu < 0) | (cpu >= 0.5 * span)
    return t.copy(), on
