"""Flame-graph geometry: one box per call-tree node, in weight units.

x and width are in the tree's weight unit (the root spans [0, total)), so the
view can zoom without recomputing; depth 0 is the outermost real frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from pyrometer.core.analysis.calltree import CallTree, function_rank
from pyrometer.core.model import Profile


@dataclass
class FlameLayout:
    """Boxes sorted by (depth, x); `node` points back into the CallTree."""

    x: np.ndarray  # float64
    width: np.ndarray  # float64
    depth: np.ndarray  # int32, 0 = outermost frame
    node: np.ndarray  # int32 call-tree node
    func: np.ndarray  # int32 function id
    total: float

    def __len__(self) -> int:
        return len(self.x)

    @property
    def max_depth(self) -> int:
        return int(self.depth.max(initial=-1)) + 1


def flame_layout(
    tree: CallTree,
    order: Literal["alphabetical", "left-heavy"] = "alphabetical",
    profile: Profile | None = None,
    names: list[str] | None = None,
) -> FlameLayout:
    """Lay out siblings side by side under their parent.

    "alphabetical" orders siblings by function name (the tree carries the
    ranks; `profile`/`names` override them), "left-heavy" by total, heaviest first.
    """
    n = tree.node_count
    if n <= 1:
        empty_f = np.zeros(0)
        empty_i = np.zeros(0, np.int32)
        return FlameLayout(empty_f, empty_f.copy(), empty_i, empty_i.copy(), empty_i.copy(), tree.total)
    parent = tree.parent.astype(np.int64)
    total = tree.total_weight
    kids = np.arange(1, n)
    if order == "left-heavy":
        sib_key = -total[1:]
        ordered = kids[np.lexsort((kids, sib_key, parent[1:]))]
    elif order == "alphabetical":
        if profile is not None:
            rank = function_rank(profile)[tree.func[1:]]
        elif names is not None:
            srt = sorted(range(len(names)), key=lambda f: (names[f], f))
            r = np.empty(len(names), np.int64)
            r[srt] = np.arange(len(names))
            rank = r[tree.func[1:]]
        elif tree.func_rank is not None:
            rank = tree.func_rank[tree.func[1:]]
        else:
            rank = tree.func[1:].astype(np.int64)
        ordered = kids[np.lexsort((kids, rank, parent[1:]))]
    else:
        raise ValueError(f"unknown flame order {order!r}")
    # exclusive prefix sum of widths within each sibling group
    w = total[ordered]
    csum = np.cumsum(w)
    par = parent[ordered]
    group_start = np.ones(len(ordered), bool)
    group_start[1:] = par[1:] != par[:-1]
    starts = np.flatnonzero(group_start)
    base = (csum - w)[starts]
    group_id = np.cumsum(group_start) - 1
    offset = np.empty(n)
    offset[0] = 0.0
    offset[ordered] = csum - w - base[group_id]
    # top-down: x = parent's x + offset, level by level
    x = np.zeros(n)
    depth = tree.depth
    lv_order = np.argsort(depth, kind="stable")
    bounds = np.searchsorted(depth[lv_order], np.arange(int(depth.max()) + 2))
    for d in range(1, len(bounds) - 1):
        nodes = lv_order[bounds[d] : bounds[d + 1]]
        x[nodes] = x[parent[nodes]] + offset[nodes]
    boxes = lv_order[bounds[1] :]
    bx = x[boxes]
    bd = depth[boxes]
    final = np.lexsort((bx, bd))
    boxes = boxes[final]
    return FlameLayout(
        x=x[boxes],
        width=total[boxes].astype(np.float64),
        depth=(depth[boxes] - 1).astype(np.int32),
        node=boxes.astype(np.int32),
        func=tree.func[boxes].astype(np.int32),
        total=tree.total,
    )
