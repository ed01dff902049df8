"""Sum sample weights onto call-tree nodes: the one code path behind trees and tables.

Per query: select samples, `bincount` weights by stack, map stacks to nodes,
then add each level's totals into its parents, deepest level first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyrometer.core.analysis._nodes import NodeTable, node_table
from pyrometer.core.analysis.chunk_sums import MIN_SIZE, chunk_sums
from pyrometer.core.analysis.selection import (
    Selection,
    clip_rows,
    clipped_samples,
    clips,
    max_weight,
    overlap_window,
    sample_indices,
    samples_end_spans,
    whole_prefix,
)
from pyrometer.core.model import UNIT_SAMPLES, DetailPending, Profile, unchanged


@dataclass
class NodeSums:
    """Weights and sample counts per node of a NodeTable (uncompacted: all nodes)."""

    table: NodeTable
    self_weight: np.ndarray  # float64
    total_weight: np.ndarray  # float64
    self_count: np.ndarray  # int64
    count: np.ndarray  # int64


def stack_sums(profile: Profile, sel: Selection | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(weight, count) per stack id shifted by one (index 0 = the empty stack).

    A selection that starts at the first sample (the whole session, a live
    profile, a replay playhead) is summed incrementally: the sums of the
    longest prefix asked for so far are kept on the samples table and only
    the samples after it are added, so a live view's refresh costs what
    arrived since the last one, not the whole session.
    """
    n = len(profile.stacks) + 1
    if profile.summed is not None and not len(profile.samples):  # rows still loading: the index's sums
        if sel is not None and (sel.t0 is not None or sel.t1 is not None):
            raise DetailPending("a time range needs the samples, which are still loading")
        weight, count = profile.summed.stack_sums(None if sel is None else sel.threads)
        return _padded(weight, n), _padded(count, n)
    if clips(profile, sel) and sel is not None and sel.threads is None and profile.samples_sorted:
        return _range_sums(profile, sel, n)
    if clips(profile, sel) and sel is not None and profile.samples_sorted:
        return _thread_range_sums(profile, sel, n)
    if clips(profile, sel):  # weights cut at the range's edges (selection.clipped_samples)
        assert sel is not None
        if sel.t0 is None and sel.threads is None and sel.t1 is not None:  # a prefix: cached sums, then its edge
            full = whole_prefix(profile, sel.t1)
            rows, weights = clipped_samples(profile, sel, skip=full)
            weight, count = _prefix_sums(profile, full, n)
            more_w, more_c = _sums(profile, rows, n, weights)
            return weight + more_w, count + more_c
        rows, weights = clipped_samples(profile, sel)
        return _sums(profile, rows, n, weights)
    idx = sample_indices(profile, sel)
    if isinstance(idx, slice) and idx.start == 0:
        return _prefix_sums(profile, idx.stop, n)
    if isinstance(idx, slice) and profile.samples_sorted:
        return _slice_sums(profile, idx.start, idx.stop, n)
    return _sums(profile, idx, n)


def _slice_sums(profile: Profile, a: int, b: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Unclipped sums over sample rows [a, b): whole chunks from the chunk index, bincounts for the rest."""
    if b - a < 4 * MIN_SIZE:
        return _sums(profile, slice(a, b), n)
    got = chunk_sums(profile).between(a, b, n)
    if got is None:
        return _sums(profile, slice(a, b), n)
    first, last, weight, count = got
    head_w, head_c = _sums(profile, slice(a, first), n)
    tail_w, tail_c = _sums(profile, slice(last, b), n)
    weight = weight + head_w + tail_w
    if profile.unit == UNIT_SAMPLES:  # a row stands for its weight in samples: the count is the summed weight
        return weight, np.rint(weight).astype(np.int64)
    return weight, count + head_c + tail_c


def _range_sums(profile: Profile, sel: Selection, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Sums over a time range of time-sorted samples, weights cut at its edges (as `clipped_samples`).

    Only samples within one sample span (`max_weight`) of an edge can be cut;
    the rows between lie wholly inside and are summed unclipped by `_slice_sums`,
    so a range of a 30M-sample session costs milliseconds, however wide.
    """
    times = profile.samples["time"]
    reach = max_weight(profile)
    t0 = -np.inf if sel.t0 is None else sel.t0
    t1 = np.inf if sel.t1 is None else sel.t1
    lo, hi = overlap_window(profile, sel)
    if samples_end_spans(profile):  # (t - w, t] lies in [t0, t1) when t >= t0 + reach and t < t1
        a, b = np.searchsorted(times, (t0 + reach, t1), side="left")
    else:  # [t, t + w) when t >= t0 and t < t1 - reach
        a, b = np.searchsorted(times, (t0, t1 - reach), side="left")
    a, b = max(int(a), lo), min(int(b), hi)
    if b <= a:
        a = b = lo
    weight, count = _slice_sums(profile, a, b, n) if b > a else (np.zeros(n), np.zeros(n, np.int64))
    for r0, r1 in ((lo, a), (b, hi)):
        if r1 > r0:
            rows, weights = clip_rows(profile, sel, r0, r1)
            more_w, more_c = _sums(profile, rows, n, weights)
            weight += more_w
            count += more_c
    return weight, count


def _thread_range_sums(profile: Profile, sel: Selection, n: int) -> tuple[np.ndarray, np.ndarray]:
    """_range_sums of some threads: the rows wholly inside the range summed by their own weights, those
    within one span of an edge clipped (clipping every row gave each inner sample t - (t - w), a hair off
    w, and a recording's index, which sums whole chunks, could not give the same: stats --thread --to)."""
    assert sel.threads is not None
    times, threads = profile.samples["time"], profile.samples["thread"]
    wanted = np.fromiter(sel.threads, np.int64, len(sel.threads))
    reach = max_weight(profile)
    t0 = -np.inf if sel.t0 is None else sel.t0
    t1 = np.inf if sel.t1 is None else sel.t1
    lo, hi = overlap_window(profile, sel)
    if samples_end_spans(profile):
        a, b = np.searchsorted(times, (t0 + reach, t1), side="left")
    else:
        a, b = np.searchsorted(times, (t0, t1 - reach), side="left")
    a, b = max(int(a), lo), min(int(b), hi)
    if b <= a:
        a = b = lo
    weight, count = np.zeros(n), np.zeros(n, np.int64)
    if b > a:
        weight, count = _sums(profile, np.flatnonzero(np.isin(threads[a:b], wanted)) + a, n)
    for r0, r1 in ((lo, a), (b, hi)):
        if r1 > r0:
            rows, weights = clip_rows(profile, sel, r0, r1)
            mine = np.isin(threads[rows], wanted)
            more_w, more_c = _sums(profile, rows[mine], n, weights[mine])
            weight += more_w
            count += more_c
    return weight, count


def _sums(profile: Profile, idx: slice | np.ndarray, n: int, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    stacks = profile.samples["stack"][idx]
    if len(stacks) == 0:
        return np.zeros(n), np.zeros(n, np.int64)
    shifted = stacks.astype(np.intp) + 1
    if weights is None:
        weights = profile.samples["weight"][idx]
    summed = np.bincount(shifted, weights=weights, minlength=n)
    if profile.unit == UNIT_SAMPLES:  # a row stands for its weight in samples (collapsed counts)
        return summed, np.rint(summed).astype(np.int64)
    return summed, np.bincount(shifted, minlength=n).astype(np.int64)


def _prefix_sums(profile: Profile, stop: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Sums over samples [0, stop), from the cached prefix when `stop` is at or past it."""
    kept: list[tuple[int, np.ndarray, np.ndarray]] = profile.cached("stack_sums", list, unchanged, rows=True)  # holds one entry
    if kept and kept[0][0] <= stop:
        done, weight, count = kept[0]
        if done < stop:
            more_w, more_c = _sums(profile, slice(done, stop), n)
        else:
            more_w, more_c = np.zeros(n), np.zeros(n, np.int64)
        weight = _padded(weight, n) + more_w
        count = _padded(count, n) + more_c
    else:  # a replay's playhead moved back: from the chunk index, not all the samples again
        weight, count = _slice_sums(profile, 0, stop, n) if profile.samples_sorted else _sums(profile, slice(0, stop), n)
    kept[:] = [(stop, weight, count)]
    return weight.copy(), count.copy()


def warm_whole_sums(profile: Profile, step: int = 1 << 20) -> None:
    """Sum every sample per stack into the prefix cache in steps of `step` rows.

    A thread warming a huge profile in the background then never holds the GIL
    for one pass over every row (0.1-0.3 s at 30M samples: the window froze that long).
    """
    n = len(profile.stacks) + 1
    for stop in range(step, len(profile.samples), step):
        _prefix_sums(profile, stop, n)
        profile.samples.release(stop - step, stop)  # a spilled column's rows go back to its file (columns.release_rows)


def _padded(values: np.ndarray, n: int) -> np.ndarray:
    """Cached sums cover the stacks known then; stacks defined since have none yet."""
    if len(values) >= n:
        return values[:n]
    out = np.zeros(n, values.dtype)
    out[: len(values)] = values
    return out


def accumulate(table: NodeTable, values: np.ndarray) -> np.ndarray:
    """Totals: each node's value plus all its descendants', level by level (vectorised)."""
    parent, _, _ = table.arrays()
    order, bounds = table.levels()
    total = values.copy()
    for d in range(len(bounds) - 2, 0, -1):
        nodes = order[bounds[d] : bounds[d + 1]]
        if len(nodes):
            np.add.at(total, parent[nodes], total[nodes])
    return total


def node_sums(
    profile: Profile, sel: Selection | None = None, inverted: bool = False,
    sums: tuple[np.ndarray, np.ndarray] | None = None,
) -> NodeSums:
    """Self and total weight and sample count of every node for the selection.

    The last selection's sums are kept (read-only) until the profile changes: the
    functions table, the call tree and the flame graph of one selected range share them.
    `sums` replaces stack_sums(profile, sel) when the caller has them already
    (a recording's index: `stats` without reading a sample); those are not kept.
    """
    if sums is not None:
        return _node_sums(profile, sel, inverted, sums)
    last: dict[str, object] = profile.cached(("node_sums_last", inverted), dict)
    if "sums" in last and last.get("sel") == sel:
        return last["sums"]  # type: ignore[return-value]
    out = _node_sums(profile, sel, inverted)
    for a in (out.self_weight, out.total_weight, out.self_count, out.count):
        a.flags.writeable = False
    last.clear()
    last.update(sel=sel, sums=out)
    return out


def _node_sums(
    profile: Profile, sel: Selection | None, inverted: bool, sums: tuple[np.ndarray, np.ndarray] | None = None
) -> NodeSums:
    table = node_table(profile, inverted)
    sw, sc = stack_sums(profile, sel) if sums is None else sums
    s2n = table.stack_to_node()
    size = table.size
    self_w = np.bincount(s2n, weights=sw, minlength=size)
    self_c = np.bincount(s2n, weights=sc, minlength=size).astype(np.int64)
    return NodeSums(table, self_w, accumulate(table, self_w), self_c, accumulate(table, self_c))
