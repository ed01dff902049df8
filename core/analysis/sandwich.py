"""Sandwich view of one function (speedscope's Sandwich): its callers above, its callees below,
each merged across every place the function appears in the tree.

Callees: the call tree of the samples that contain the function, re-rooted at
its outermost frame (the Focus transform). Callers: the same samples with each
stack cut just below the function's outermost frame, as an inverted tree, so
the function is the root and its callers, their callers, ... branch from it.
Both roots carry the function's total; each sample counts once however often
the function recurs in it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyrometer.core.analysis.calltree import CallTree, call_tree, inverted_tree
from pyrometer.core.analysis.selection import Selection, sample_indices
from pyrometer.core.analysis.transforms import Transform
from pyrometer.core.columns import ColumnTable
from pyrometer.core.model import SAMPLE_DTYPES, Profile


@dataclass
class Sandwich:
    func: int
    callers: CallTree  # inverted: node 1 is the function, its children its callers
    callees: CallTree  # top-down: node 1 is the function, its children its callees
    total: float  # weight of all selected samples (for percentages)


def outermost_stack(profile: Profile, func: int) -> np.ndarray:
    """Per stack id: the stack id of the function's outermost frame on that stack, -1 if absent."""
    n = len(profile.stacks)
    out = np.full(n, -1, np.int64)
    if n == 0:
        return out
    parents = profile.stacks["parent"].astype(np.int64)
    is_func = profile.frames["func"][profile.stacks["frame"]] == func
    depth = profile.stack_depths()
    order = np.argsort(depth, kind="stable")  # parents before children
    bounds = np.searchsorted(depth[order], np.arange(int(depth.max(initial=0)) + 2))
    ids = np.arange(n)
    for d in range(len(bounds) - 1):
        level = order[bounds[d] : bounds[d + 1]]
        if not len(level):
            continue
        par = parents[level]
        from_parent = np.where(par >= 0, out[np.maximum(par, 0)], -1)
        out[level] = np.where(from_parent >= 0, from_parent, np.where(is_func[level], ids[level], -1))
    return out


def _callers_profile(profile: Profile, func: int) -> Profile:
    """The samples that contain `func`, each cut to the stack that ends at its outermost frame."""
    cut = outermost_stack(profile, func)
    src = profile.samples
    stacks = src["stack"].astype(np.int64)
    new = np.where(stacks >= 0, cut[np.maximum(stacks, 0)], -1) if len(cut) else np.full(len(stacks), -1)
    keep = new >= 0
    table = ColumnTable(src.dtypes, capacity=max(16, int(keep.sum())))
    cols = {name: src[name][keep] for name in SAMPLE_DTYPES}
    cols["stack"] = new[keep].astype(src["stack"].dtype)
    table.extend(**cols)
    view = profile.derive(func_stats=False)
    view.set_samples(table, profile.samples_sorted)
    return view


def sandwich(profile: Profile, func: int, sel: Selection | None = None) -> Sandwich:
    """Callers and callees trees of `func` over the selection."""
    callees = call_tree(profile, sel, Transform(focus_function=int(func)))
    callers = profile.cached(("sandwich_callers", int(func)), lambda: _callers_profile(profile, func))
    inverted = inverted_tree(callers, sel)
    rows = sample_indices(profile, sel)
    keep = profile.samples["stack"][rows] >= 0  # as the call tree's total: samples with a stack
    whole = float(profile.samples["weight"][rows][keep].astype(np.float64).sum())
    return Sandwich(int(func), inverted, callees, whole)
