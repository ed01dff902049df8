"""Top-down and bottom-up call trees for a selection, aggregated by function path.

Frames of the same function at different lines merge into one node. The tree
is compacted to the nodes that have samples in the selection; node 0 is the
synthetic root and every parent id is smaller than its children's ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from pyrometer.core.analysis.aggregate import NodeSums, node_sums
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.model import Profile

if TYPE_CHECKING:  # transforms imports this module's siblings; import lazily at runtime
    from pyrometer.core.analysis.transforms import Transform


@dataclass
class CallTree:
    """Arrays over nodes; children of a node (CSR) are ordered by total, heaviest first.

    `child_start`/`child_index` are built on first use (many callers never need them).
    """

    parent: np.ndarray  # int32, -1 for node 0 (the synthetic root)
    func: np.ndarray  # int32, -1 for the root
    self_weight: np.ndarray  # float64
    total_weight: np.ndarray  # float64
    depth: np.ndarray  # int32, root 0
    count: np.ndarray  # int64 samples in the subtree
    self_count: np.ndarray  # int64 samples whose stack ends here
    total: float
    inverted: bool
    func_rank: np.ndarray | None = None  # alphabetical rank per function id (for flame order)
    _csr: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)

    def _children_csr(self) -> tuple[np.ndarray, np.ndarray]:
        if self._csr is None:
            n = len(self.parent)
            if n > 1:
                parent = self.parent[1:]
                order = np.lexsort((-self.total_weight[1:], parent)) + 1
                counts = np.bincount(parent, minlength=n)
            else:
                order = np.zeros(0, np.int64)
                counts = np.zeros(n, np.int64)
            start = np.zeros(n + 1, np.int64)
            np.cumsum(counts, out=start[1:])
            self._csr = (start, order.astype(np.int64))
        return self._csr

    @property
    def child_start(self) -> np.ndarray:
        """int64, len node_count + 1: children of n are child_index[child_start[n]:child_start[n+1]]."""
        return self._children_csr()[0]

    @property
    def child_index(self) -> np.ndarray:
        """int64 node ids grouped by parent, heaviest first within a parent."""
        return self._children_csr()[1]

    @property
    def node_count(self) -> int:
        return len(self.parent)

    def children(self, node: int) -> np.ndarray:
        """Child node ids, heaviest (by total) first."""
        return self.child_index[self.child_start[node] : self.child_start[node + 1]]

    def path(self, node: int) -> list[int]:
        """Function ids from the outermost node down to `node` (the root excluded)."""
        out: list[int] = []
        while node > 0:
            out.append(int(self.func[node]))
            node = int(self.parent[node])
        out.reverse()
        return out

    def find(self, path: list[int] | tuple[int, ...]) -> int:
        """Node id reached by following function ids from the root, or -1."""
        node = 0
        for f in path:
            kids = self.children(node)
            hit = kids[self.func[kids] == f]
            if not len(hit):
                return -1
            node = int(hit[0])
        return node


def function_rank(profile: Profile) -> np.ndarray:
    """Alphabetical rank of every function id by (name, file, line); cached until functions are added."""

    def rank() -> tuple[int, np.ndarray]:
        n = len(profile.func_name)
        names, files, lines = profile.func_name, profile.func_file, profile.func_line
        order = sorted(range(n), key=lambda f: (names[f], files[f], lines[f], f))
        ranks = np.empty(n, np.int64)
        ranks[order] = np.arange(n)
        return n, ranks

    def update(hit: tuple[int, np.ndarray]) -> tuple[int, np.ndarray]:
        return hit if hit[0] == len(profile.func_name) else rank()

    return profile.cached("function_rank", rank, update)[1]


def _frozen(a: np.ndarray) -> np.ndarray:
    """A read-only view: trees may share the node cache's arrays, nobody may write them."""
    v = a.view()
    v.flags.writeable = False
    return v


def _compact(sums: NodeSums, inverted: bool) -> CallTree:
    parent_all, func_all, depth_all = sums.table.arrays()
    keep = sums.count > 0
    keep[0] = True
    if keep.all():
        return CallTree(
            parent=_frozen(parent_all),
            func=_frozen(func_all),
            self_weight=sums.self_weight,
            total_weight=sums.total_weight,
            depth=_frozen(depth_all),
            count=sums.count,
            self_count=sums.self_count,
            total=float(sums.total_weight[0]),
            inverted=inverted,
        )
    ids = np.flatnonzero(keep)
    new_id = np.cumsum(keep, dtype=np.int32) - 1
    parent = new_id[parent_all[ids]]  # the root's parent -1 picks the last id: reset below
    parent[0] = -1
    return CallTree(
        parent=parent,
        func=func_all[ids],
        self_weight=sums.self_weight[ids],
        total_weight=sums.total_weight[ids],
        depth=depth_all[ids],
        count=sums.count[ids],
        self_count=sums.self_count[ids],
        total=float(sums.total_weight[0]),
        inverted=inverted,
    )


def _view(profile: Profile, transform: Transform | None) -> Profile:
    if transform is None:
        return profile
    from pyrometer.core.analysis.transforms import apply_transform

    return apply_transform(profile, transform)


def call_tree(profile: Profile, sel: Selection | None = None, transform: Transform | None = None) -> CallTree:
    """Top-down tree: node = function path from the outermost frame."""
    view = _view(profile, transform)
    tree = _compact(node_sums(view, sel, inverted=False), inverted=False)
    tree.func_rank = function_rank(view)
    return tree


def inverted_tree(profile: Profile, sel: Selection | None = None, transform: Transform | None = None) -> CallTree:
    """Bottom-up tree: roots are leaf functions, children their callers.

    A node's total is the weight of samples whose stack, read from the leaf,
    starts with the node's path. Self is the leaf function's own time, so it
    sits on the roots (self == total there, as in Hotspot and the Firefox
    Profiler) and is 0 on caller nodes; it still sums to the tree total.
    """
    view = _view(profile, transform)
    tree = _compact(node_sums(view, sel, inverted=True), inverted=True)
    top = tree.depth == 1
    tree.self_weight = np.where(top, tree.total_weight, 0.0)
    tree.self_count = np.where(top, tree.count, 0)
    tree.self_weight[0] = tree.total - float(tree.total_weight[top].sum())  # empty stacks
    tree.self_count[0] = int(tree.count[0]) - int(tree.count[top].sum())
    tree.func_rank = function_rank(view)
    return tree


def tree_text(tree: CallTree, profile: Profile, min_fraction: float = 0.0) -> str:
    """Indented text, one node per line: `name: total=T self=S` (children by total, then name)."""
    names = profile.func_name
    lines: list[str] = []
    cutoff = min_fraction * tree.total

    def key(node: int) -> tuple[float, str]:
        return (-float(tree.total_weight[node]), names[int(tree.func[node])])

    stack: list[int] = sorted((int(c) for c in tree.children(0)), key=key, reverse=True)
    while stack:
        node = stack.pop()
        total = float(tree.total_weight[node])
        if total < cutoff or (total == 0 and tree.count[node] == 0):
            continue
        indent = "  " * (int(tree.depth[node]) - 1)
        lines.append(f"{indent}{names[int(tree.func[node])]}: total={total:g} self={float(tree.self_weight[node]):g}")
        stack.extend(sorted((int(c) for c in tree.children(node)), key=key, reverse=True))
    return "\n".join(lines)
