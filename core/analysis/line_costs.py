"""Per-line sample costs of one function (pure numpy; feeds the Source pane).

`self` at a line = weight of samples whose innermost frame is that line of the
function; `total` = weight of samples with the function on the stack at that
line, each sample once per line (pprof's per-line "cum"): a frame at a line
counts unless an outer frame of the function is at the same line, so recursion
through a line is not counted twice, and every line's total includes its self
(with "outermost frame only", a recursive function's leaf line showed self
time and no total, its call line the total).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyrometer.core.model import Profile


@dataclass
class LineCosts:
    lines: np.ndarray  # int32 line numbers with any cost, ascending
    self_weight: np.ndarray  # float64
    total_weight: np.ndarray  # float64
    total: float  # weight of all selected samples (for percentages)


def stack_weights(profile: Profile, rows: slice | np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Weight of the selected samples per stack id (index = stack id); `weights`: clipped ones."""
    stacks = profile.samples["stack"][rows]
    if weights is None:
        weights = profile.samples["weight"][rows].astype(np.float64)
    keep = stacks >= 0
    return np.bincount(stacks[keep], weights=weights[keep], minlength=len(profile.stacks))


def line_costs(profile: Profile, func: int, rows: slice | np.ndarray, weights: np.ndarray | None = None) -> LineCosts:
    """Costs over the samples `rows`; `weights` (selection.clipped_samples) replace the stored ones."""
    n = len(profile.stacks)
    direct = stack_weights(profile, rows, weights)
    total_all = float(weights.sum()) if weights is not None else float(profile.samples["weight"][rows].astype(np.float64).sum())
    if n == 0 or func < 0:
        z = np.zeros(0)
        return LineCosts(np.zeros(0, np.int32), z, z, total_all)
    parents = profile.stacks["parent"]
    frames = profile.stacks["frame"]
    depth = profile.stack_depths()
    # subtree sums, deepest level first (parent id < id, so a level pass is exact)
    subtree = direct.copy()
    for d in range(int(depth.max(initial=0)), 1, -1):
        level = np.flatnonzero(depth == d)
        np.add.at(subtree, parents[level], subtree[level])
    node_func = profile.frames["func"][frames]
    node_line = profile.frames["line"][frames]
    mine = np.flatnonzero(node_func == func)
    if not len(mine):
        z = np.zeros(0)
        return LineCosts(np.zeros(0, np.int32), z, z, total_all)
    # outermost occurrence per line: no ancestor is the same function at the same line
    outer = np.ones(len(mine), bool)
    is_mine = np.zeros(n, bool)
    is_mine[mine] = True
    for k, node in enumerate(mine.tolist()):
        line = node_line[node]
        p = int(parents[node])
        while p >= 0:
            if is_mine[p] and node_line[p] == line:
                outer[k] = False
                break
            p = int(parents[p])
    lines = node_line[mine]
    uniq, inv = np.unique(lines, return_inverse=True)
    self_w = np.bincount(inv, weights=direct[mine], minlength=len(uniq))
    total_w = np.bincount(inv[outer], weights=subtree[mine][outer], minlength=len(uniq))
    return LineCosts(uniq.astype(np.int32), self_w, total_w, total_all)
