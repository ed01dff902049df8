"""Callers and callees of one function (the "butterfly" view).

From samples, an edge caller -> callee counts each sample once even when the
pair repeats on a recursive stack; from deterministic statistics (no
samples) the edges are the source's own caller/callee records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from pyrometer.core.analysis.aggregate import node_sums
from pyrometer.core.analysis.functions import stats_edge_ids
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.model import Profile

if TYPE_CHECKING:
    from pyrometer.core.analysis.transforms import Transform

Edge = tuple[int, float, int]  # (function id, weight, samples — or calls for deterministic stats)


@dataclass
class CallerCallee:
    """Who calls `func` and whom it calls; each list sorted by weight, heaviest first.

    Callers from outside any function (the function was outermost) are not
    listed; `root_weight` holds that share. `count_kind` says whether the third
    element of each edge is a sample count or a call count.
    """

    func: int
    callers: list[Edge] = field(default_factory=list)
    callees: list[Edge] = field(default_factory=list)
    root_weight: float = 0.0
    count_kind: str = "samples"
    # trace mode, whole profile: exact calls on each edge (function id -> calls), beside the samples
    caller_calls: dict[int, int] = field(default_factory=dict)
    callee_calls: dict[int, int] = field(default_factory=dict)


def _edges(funcs: np.ndarray, weights: np.ndarray, counts: np.ndarray) -> list[Edge]:
    if not len(funcs):
        return []
    f = funcs.astype(np.intp)
    n = int(f.max()) + 1
    w = np.bincount(f, weights=weights, minlength=n)
    c = np.bincount(f, weights=counts, minlength=n)
    present = np.flatnonzero(c > 0)
    order = present[np.lexsort((present, -w[present]))]
    return [(int(i), float(w[i]), int(c[i])) for i in order]


def _from_stats(profile: Profile, func: int) -> CallerCallee:
    fs = profile.func_stats
    assert fs is not None
    into = fs.edge_callee == func
    out = fs.edge_caller == func
    return CallerCallee(
        func=func,
        callers=_edges(fs.edge_caller[into], fs.edge_total[into], fs.edge_calls[into]),
        callees=_edges(fs.edge_callee[out], fs.edge_total[out], fs.edge_calls[out]),
        count_kind="calls",
    )


def callers_callees(
    profile: Profile, func: int, sel: Selection | None = None, transform: Transform | None = None
) -> CallerCallee:
    """Callers and callees of function `func` within the selection."""
    if profile.func_stats is not None and profile.sample_count == 0:
        return _from_stats(profile, func)
    if transform is not None:
        from pyrometer.core.analysis.transforms import apply_transform

        profile = apply_transform(profile, transform)
    sums = node_sums(profile, sel)
    parent, node_func, _ = sums.table.arrays()
    once = sums.table.edge_first_occurrence()
    live = once & (sums.count > 0)
    live[0] = False
    pfunc = np.where(parent >= 0, node_func[np.maximum(parent, 0)], -1)
    into = live & (node_func == func)
    at_root = into & (pfunc < 0)
    into &= pfunc >= 0
    out = live & (pfunc == func)
    cc = CallerCallee(
        func=func,
        callers=_edges(pfunc[into], sums.total_weight[into], sums.count[into]),
        callees=_edges(node_func[out], sums.total_weight[out], sums.count[out]),
        root_weight=float(sums.total_weight[at_root].sum()),
    )
    fs = profile.func_stats
    whole = sel is None or (sel.t0 is None and sel.t1 is None and sel.threads is None)
    if fs is not None and whole and not profile.meta.get("tree_estimated"):
        callers_of, callees_of = stats_edge_ids(profile, fs)
        for a, b, n in zip(callers_of.tolist(), callees_of.tolist(), fs.edge_calls.tolist(), strict=True):
            if b == func:
                cc.caller_calls[a] = cc.caller_calls.get(a, 0) + int(n)
            if a == func:
                cc.callee_calls[b] = cc.callee_calls.get(b, 0) + int(n)
        # edges that ran but were never sampled are still edges: listed with no samples
        sampled = {e[0] for e in cc.callers}
        cc.callers += [(f, 0.0, 0) for f in sorted(cc.caller_calls, key=lambda f: -cc.caller_calls[f]) if f not in sampled]
        sampled = {e[0] for e in cc.callees}
        cc.callees += [(f, 0.0, 0) for f in sorted(cc.callee_calls, key=lambda f: -cc.callee_calls[f]) if f not in sampled]
    return cc
