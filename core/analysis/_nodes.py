"""Per-profile caches that map stack ids to call-tree nodes (by function path).

Stacks only ever grow (the model is append-only and a stack never changes), so
each cache remembers how many stacks it has seen and maps only the new ones.
Node ids are stable for the life of a profile: node 0 is the synthetic root and
a node's parent always has a smaller id. The top-down cache needs one dict
lookup per new stack; the bottom-up (inverted) cache walks each new stack once.
"""

from __future__ import annotations

from array import array

import numpy as np

from pyrometer.core.model import Profile


def _ints(values: list[int] | None = None) -> array[int]:
    """A compact growable int32 column (4 bytes a node instead of a Python int object)."""
    return array("i", values or [])


def _np(a: array[int]) -> np.ndarray:
    """A numpy copy of an int32 array (a view would pin the array's buffer against growth)."""
    return np.frombuffer(a, dtype=np.int32).copy() if len(a) else np.zeros(0, np.int32)


# Child keys are `parent * _MIX + func`: injective for func < _MIX, and multiplying by
# a large odd number spreads the low bits that dict probing uses (a shift would not).
_MIX = 4_294_967_311
_BULK_MIN = 256  # below this many stacks the plain walk is as fast as the bulk build


class NodeTable:
    """A growing tree of (parent node, function) pairs plus the stack -> node map.

    Children are found through a dict keyed by one int per (parent, func)
    (about half the memory of a tuple key).
    """

    def __init__(self, inverted: bool) -> None:
        self.inverted = inverted
        self.parent = _ints([-1])
        self.func = _ints([-1])
        self.depth = _ints([0])
        self.index: dict[int, int] | None = {}  # None: rebuilt from the columns on demand
        self.stack_node = _ints()  # per stack id
        self._arrays_n = -1
        self._stack_arrays_n = -1
        self._parent_a = np.zeros(0, np.int32)
        self._func_a = np.zeros(0, np.int32)
        self._depth_a = np.zeros(0, np.int32)
        self._first_a = np.zeros(0, bool)
        self._edge_first_a = np.zeros(0, bool)
        self._levels: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.int64), np.zeros(1, np.int64))
        self._stack_node_a = np.zeros(1, np.int32)
        # for the inverted walk: every stack's parent and function
        self._sparent = _ints()
        self._sfunc = _ints()

    # ------------------------------------------------------------- building
    def update(self, profile: Profile) -> None:
        """Map the stacks added since the last call."""
        have = len(self.stack_node)
        n = len(profile.stacks)
        if have >= n:
            return
        parents = profile.stacks["parent"][have:n].tolist()
        funcs = profile.frames["func"][profile.stacks["frame"][have:n]].tolist()
        if self.inverted and have == 0 and n >= _BULK_MIN:
            self._sparent.extend(parents)
            self._sfunc.extend(funcs)
            self._bulk_inverted(profile)
            return
        if self.index is None:
            parent, func = _np(self.parent).astype(np.int64), _np(self.func).astype(np.int64)
            keys = (parent[1:] * _MIX + func[1:]).tolist()
            self.index = dict(zip(keys, range(1, len(parent)), strict=True))
        stack_node = self.stack_node
        index, parent_col, func_col, depth_col = self.index, self.parent, self.func, self.depth
        get = index.get
        if not self.inverted:
            for p, f in zip(parents, funcs, strict=True):
                pn = 0 if p < 0 else stack_node[p]
                key = pn * _MIX + f
                node = get(key)
                if node is None:
                    node = len(parent_col)
                    index[key] = node
                    parent_col.append(pn)
                    func_col.append(f)
                    depth_col.append(depth_col[pn] + 1)
                stack_node.append(node)
            return
        sparent, sfunc = self._sparent, self._sfunc
        sparent.extend(parents)
        sfunc.extend(funcs)
        for sid in range(have, n):
            node = 0
            s = sid
            while s >= 0:
                f = sfunc[s]
                key = node * _MIX + f
                child = get(key)
                if child is None:
                    child = len(parent_col)
                    index[key] = child
                    parent_col.append(node)
                    func_col.append(f)
                    depth_col.append(depth_col[node] + 1)
                node = child
                s = sparent[s]
            stack_node.append(node)

    def _bulk_inverted(self, profile: Profile) -> None:
        """Build the bottom-up table for many stacks at once, one tree level per pass.

        Level k groups the stacks by their first k functions read from the
        leaf: key = (node at level k-1, function of the k-th frame from the
        leaf); `np.unique` numbers the keys, so parents get smaller ids.
        """
        n = len(profile.stacks)
        s_parent = profile.stacks["parent"][:n].astype(np.int64)
        s_func = profile.frames["func"][profile.stacks["frame"][:n]].astype(np.int64)
        cur = np.zeros(n, np.int64)  # node reached so far, per stack
        anc = np.arange(n, dtype=np.int64)  # next frame to read, per stack (-1: done)
        live = np.arange(n, dtype=np.int64)  # stacks with frames left
        parents: list[np.ndarray] = [np.array([-1], np.int64)]
        funcs: list[np.ndarray] = [np.array([-1], np.int64)]
        depths: list[np.ndarray] = [np.array([0], np.int64)]
        next_id = 1
        level = 0
        while len(live):
            level += 1
            f = s_func[anc[live]]
            keys = cur[live] * _MIX + f
            uniq, inverse = np.unique(keys, return_inverse=True)
            cur[live] = next_id + inverse
            parents.append(uniq // _MIX)
            funcs.append(uniq % _MIX)
            depths.append(np.full(len(uniq), level, np.int64))
            next_id += len(uniq)
            anc[live] = s_parent[anc[live]]
            live = live[anc[live] >= 0]
        parent = np.concatenate(parents)
        func = np.concatenate(funcs)
        depth = np.concatenate(depths)
        self.parent = array("i", parent.astype(np.int32).tobytes())
        self.func = array("i", func.astype(np.int32).tobytes())
        self.depth = array("i", depth.astype(np.int32).tobytes())
        self.stack_node = array("i", cur.astype(np.int32).tobytes())
        self.index = None  # only a live profile that grows later needs the dict

    # ------------------------------------------------------------- arrays
    @property
    def size(self) -> int:
        return len(self.parent)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(parent, func, depth) as int32 arrays over all nodes."""
        self._refresh()
        return self._parent_a, self._func_a, self._depth_a

    def stack_to_node(self) -> np.ndarray:
        """Node of each stack, shifted by one: index 0 is the empty stack (-1) -> root."""
        if self._stack_arrays_n != len(self.stack_node):
            self._stack_node_a = np.concatenate((np.zeros(1, np.int32), _np(self.stack_node)))
            self._stack_arrays_n = len(self.stack_node)
        return self._stack_node_a

    def levels(self) -> tuple[np.ndarray, np.ndarray]:
        """(nodes ordered by depth, start offset of each depth in that order)."""
        self._refresh()
        return self._levels

    def first_occurrence(self) -> np.ndarray:
        """True where no ancestor of the node has the same function (count recursion once)."""
        self._refresh_flags()
        return self._first_a

    def edge_first_occurrence(self) -> np.ndarray:
        """True where no ancestor has the same (caller function, function) edge."""
        self._refresh_flags()
        return self._edge_first_a

    def _refresh(self) -> None:
        n = len(self.parent)
        if self._arrays_n == n:
            return
        parent, func, depth = _np(self.parent), _np(self.func), _np(self.depth)
        order = np.argsort(depth, kind="stable")
        bounds = np.searchsorted(depth[order], np.arange(int(depth.max(initial=0)) + 2))
        self._parent_a, self._func_a, self._depth_a = parent, func, depth
        self._levels = (order, bounds)
        self._arrays_n = n

    def _refresh_flags(self) -> None:
        """Recursion flags for nodes added since the last call (vectorised ancestor walk)."""
        self._refresh()
        n = self._arrays_n
        old = len(self._first_a)
        if old == n:
            return
        parent, func = self._parent_a, self._func_a
        start = max(old, 1)
        new = np.arange(start, n)
        first = np.ones(n, bool)
        edge_first = np.ones(n, bool)
        first[:old] = self._first_a
        edge_first[:old] = self._edge_first_a
        if len(new):
            pfunc = np.where(parent >= 0, func[np.maximum(parent, 0)], -1).astype(np.int64)
            edge_key = pfunc * (int(func.max(initial=0)) + 2) + func
            if len(new) * int(self._depth_a[new].max()) > _WALK_ABOVE * n + 2_000_000:
                # deep stacks: the level-by-level walk below would be quadratic (100k deep: minutes)
                self._first_a, self._edge_first_a = _flags_by_tree_walk(parent, func, edge_key)
                return
            f = func[new]
            ek = edge_key[new]
            seen = np.zeros(len(new), bool)
            eseen = np.zeros(len(new), bool)
            anc = parent[new].astype(np.int64)
            while True:
                live = anc > 0
                if not live.any():
                    break
                a = np.where(live, anc, 0)
                seen |= live & (func[a] == f)
                eseen |= live & (edge_key[a] == ek)
                anc = np.where(live, parent[a], 0)
            first[new] = ~seen
            edge_first[new] = ~eseen
        self._first_a, self._edge_first_a = first, edge_first


_WALK_ABOVE = 64  # ancestor steps per node beyond which one depth-first walk is cheaper


def _flags_by_tree_walk(parent: np.ndarray, func: np.ndarray, edge_key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Recursion flags of every node in one depth-first walk (linear in the nodes, any depth).

    The walk keeps, for the current path, how many nodes carry each function
    and each (caller, function) edge: a node is a first occurrence when its
    count was zero on the way in. The root is nobody's ancestor here.
    """
    n = len(parent)
    order = np.argsort(parent[1:], kind="stable") + 1  # children grouped by parent
    starts = np.searchsorted(parent[order], np.arange(n + 1)).tolist()
    kids = order.tolist()
    funcs = func.tolist()
    edges = edge_key.tolist()
    first = np.ones(n, bool)
    edge_first = np.ones(n, bool)
    on_path: dict[int, int] = {}
    edges_on_path: dict[int, int] = {}
    path = [0]
    nxt = [starts[0]]
    while path:
        v = path[-1]
        i = nxt[-1]
        if i < starts[v + 1]:
            nxt[-1] = i + 1
            c = kids[i]
            f, e = funcs[c], edges[c]
            seen = on_path.get(f, 0)
            eseen = edges_on_path.get(e, 0)
            if seen:
                first[c] = False
            if eseen:
                edge_first[c] = False
            on_path[f] = seen + 1
            edges_on_path[e] = eseen + 1
            path.append(c)
            nxt.append(starts[c])
        else:
            path.pop()
            nxt.pop()
            if v:
                on_path[funcs[v]] -= 1
                edges_on_path[edges[v]] -= 1
    return first, edge_first


def node_table(profile: Profile, inverted: bool = False) -> NodeTable:
    """The (cached, incrementally extended) node table of a profile."""

    def update(table: NodeTable) -> NodeTable:
        if len(table.stack_node) > len(profile.stacks):  # the stacks were truncated: start again
            table = NodeTable(inverted)
        table.update(profile)
        return table

    return profile.cached(("node_table", inverted), lambda: update(NodeTable(inverted)), update)
