"""Function-statistics graphs (cProfile/pstats, yappi, callgrind) to and from the Profile model.

A deterministic profiler records, per function, calls, self and total time,
and per caller -> callee edge the same figures: a call *graph*, not a call
tree. `profile_from_graph` stores that graph exactly in `Profile.func_stats`
(the function table and caller/callee views are therefore exact) and also
synthesises weighted samples so the call tree, flame graph and stack chart
have something to show. Those samples are an *estimate*: starting at the
roots (functions nobody calls), each function's time on a path is handed to
its callees in proportion to the callee edge's cumulative time, the way
gprof and gprof2dot propagate time. Recursion is cut where a function
reappears on its own path, paths stop at `max_depth`, the `max_paths` largest
paths are kept (best first) and contributions below `min_fraction` of the
whole are folded into their caller's self time. Each kept path becomes one
sample whose weight is the self time attributed to it; sample times are laid
out consecutively in depth-first order. Finally each function's paths are
scaled so that its self time in the tree is its exact self time (the estimate
only says where it sits), so exports of the tree (speedscope, collapsed) keep
every function's self time and the tree's total is the table's (for yappi,
whose self times leave out unprofiled built-ins such as `time.sleep`, that
time is in no function's self time, in the file as in the tree).

`graph_from_profile` goes the other way for exporters: the exact func_stats
when the profile has them, else per-function figures summed from the samples'
stacks (then "calls" are sample counts).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from pyrometer.core.model import UNIT_SECONDS, FuncStats, Profile

MAX_DEPTH = 128
MAX_PATHS = 200_000
MIN_FRACTION = 1e-6


@dataclass
class CallGraph:
    """Per-function rows and caller -> callee edges, as plain lists (one importer fills it)."""

    names: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    prim_calls: list[int] = field(default_factory=list)
    self_cost: list[float] = field(default_factory=list)
    total_cost: list[float] = field(default_factory=list)
    edge_caller: list[int] = field(default_factory=list)
    edge_callee: list[int] = field(default_factory=list)
    edge_calls: list[int] = field(default_factory=list)
    edge_self: list[float] = field(default_factory=list)
    edge_total: list[float] = field(default_factory=list)

    def add_function(
        self, name: str, file: str, line: int, calls: int, prim_calls: int, self_cost: float, total_cost: float
    ) -> int:
        self.names.append(name)
        self.files.append(file)
        self.lines.append(int(line))
        self.calls.append(int(calls))
        self.prim_calls.append(int(prim_calls))
        self.self_cost.append(float(self_cost))
        self.total_cost.append(float(total_cost))
        return len(self.names) - 1

    def add_edge(self, caller: int, callee: int, calls: int, self_cost: float, total_cost: float) -> None:
        self.edge_caller.append(int(caller))
        self.edge_callee.append(int(callee))
        self.edge_calls.append(int(calls))
        self.edge_self.append(float(self_cost))
        self.edge_total.append(float(total_cost))

    def __len__(self) -> int:
        return len(self.names)


# ---------------------------------------------------------------- graph -> profile
def profile_from_graph(
    graph: CallGraph,
    source_format: str,
    unit: str = UNIT_SECONDS,
    clock: str = "wall",
    max_depth: int = MAX_DEPTH,
    max_paths: int = MAX_PATHS,
    min_fraction: float = MIN_FRACTION,
) -> Profile:
    """Build a Profile with exact func_stats and estimated tree samples (see the module docstring)."""
    profile = Profile(unit=unit, source_format=source_format)
    profile.meta["deterministic"] = True
    profile.meta["tree_estimated"] = True
    profile.meta["timeless"] = True  # the file holds costs, not a timeline: sample times below are a layout
    fids = [profile.intern_function(n, f, ln) for n, f, ln in zip(graph.names, graph.files, graph.lines, strict=True)]
    stats = _func_stats(graph, np.asarray(fids, np.int32), clock)
    profile.func_stats = stats
    truncated = _synthesize(profile, stats, max_depth, max_paths, min_fraction)
    profile.meta["tree_truncated"] = truncated
    total = float(np.clip(stats.self_time, 0.0, None).sum())
    stats.time = total if unit == UNIT_SECONDS else 0.0
    return profile


def _sum_into(n: int, slot: np.ndarray, values: list[float] | list[int], dtype: type) -> np.ndarray:
    """`n` sums: each value added to its `slot` (rows that share a slot add up)."""
    out: np.ndarray = np.zeros(n, dtype)
    np.add.at(out, slot, np.asarray(values, dtype))
    return out


def _func_stats(graph: CallGraph, fids: np.ndarray, clock: str) -> FuncStats:
    """FuncStats with one row per distinct function id (rows that intern alike are summed)."""
    uniq, row_of = np.unique(fids, return_inverse=True)
    n = len(uniq)

    def summed(values: list[float] | list[int], dtype: type) -> np.ndarray:
        return _sum_into(n, row_of, values, dtype)

    ec = np.asarray(graph.edge_caller, np.int64)
    ee = np.asarray(graph.edge_callee, np.int64)
    if len(ec):
        caller = uniq[row_of[ec]].astype(np.int64)
        callee = uniq[row_of[ee]].astype(np.int64)
        key = caller * (int(fids.max()) + 1) + callee
        ukey, inv = np.unique(key, return_inverse=True)
        m = len(ukey)

        def esum(values: list[float] | list[int], dtype: type) -> np.ndarray:
            return _sum_into(m, inv, values, dtype)

        first = np.zeros(m, np.int64)
        first[inv[::-1]] = np.arange(len(key))[::-1]
        edge_caller = caller[first].astype(np.int32)
        edge_callee = callee[first].astype(np.int32)
        edge_calls, edge_self, edge_total = (
            esum(graph.edge_calls, np.int64),
            esum(graph.edge_self, np.float64),
            esum(graph.edge_total, np.float64),
        )
    else:
        edge_caller = edge_callee = np.zeros(0, np.int32)
        edge_calls = np.zeros(0, np.int64)
        edge_self = edge_total = np.zeros(0, np.float64)
    return FuncStats(
        clock=clock,
        func=uniq.astype(np.int32),
        calls=summed(graph.calls, np.int64),
        prim_calls=summed(graph.prim_calls, np.int64),
        self_time=summed(graph.self_cost, np.float64),
        total_time=summed(graph.total_cost, np.float64),
        edge_caller=edge_caller,
        edge_callee=edge_callee,
        edge_calls=edge_calls,
        edge_self=edge_self,
        edge_total=edge_total,
    )


def _roots(n: int, children: list[list[tuple[int, float]]], has_caller: np.ndarray, total: np.ndarray) -> list[int]:
    """Rows nobody calls, plus one entry point per otherwise unreachable group (cycles without a root)."""
    roots = [r for r in range(n) if not has_caller[r] and total[r] > 0]
    reached = np.zeros(n, bool)

    def mark(start: int) -> None:
        todo = [start]
        reached[start] = True
        while todo:
            r = todo.pop()
            for c, _ in children[r]:
                if not reached[c]:
                    reached[c] = True
                    todo.append(c)

    for r in roots:
        if not reached[r]:
            mark(r)
    for r in np.argsort(-total, kind="stable").tolist():
        if total[r] <= 0:
            break
        if not reached[r]:
            roots.append(r)
            mark(r)
    return roots


def _synthesize(profile: Profile, stats: FuncStats, max_depth: int, max_paths: int, min_fraction: float) -> bool:
    """Add the estimated call-tree samples; True if limits cut the tree short."""
    n = len(stats.func)
    self_cost = np.clip(stats.self_time, 0.0, None)
    total = np.maximum(np.clip(stats.total_time, 0.0, None), self_cost)
    row_of_func = {int(f): r for r, f in enumerate(stats.func.tolist())}
    children: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    has_caller = np.zeros(n, bool)
    for a, b, t in zip(stats.edge_caller.tolist(), stats.edge_callee.tolist(), stats.edge_total.tolist(), strict=True):
        ra, rb = row_of_func[a], row_of_func[b]
        if ra == rb:
            continue  # self-recursion: its time is already inside the function's total
        has_caller[rb] = True
        if t > 0:
            children[ra].append((rb, float(t)))
    for lst in children:
        lst.sort(key=lambda x: -x[1])
    roots = _roots(n, children, has_caller, total)
    grand = float(sum(total[r] for r in roots))
    profile.meta["synthesized_paths"] = 0
    if grand <= 0:
        return False
    eps = grand * min_fraction
    frames = [
        profile.intern_frame(profile.func_name[f], profile.func_file[f], profile.func_line[f], profile.func_line[f])
        for f in stats.func.tolist()
    ]

    child_sum = [sum(t for _, t in kids) for kids in children]
    child_t = [dict(kids) for kids in children]

    # node tables (a node is one call path; its stack id is base + node id)
    base = len(profile.stacks)
    n_parent: list[int] = []
    n_row: list[int] = []
    n_self: list[float] = []
    n_depth: list[int] = []
    n_kids: list[list[int]] = []
    heap: list[tuple[float, int]] = []

    def new_node(parent: int, row: int, amount: float) -> int:
        nid = len(n_row)
        n_parent.append(parent)
        n_row.append(row)
        n_self.append(amount)
        n_depth.append(n_depth[parent] + 1 if parent >= 0 else 1)
        n_kids.append([])
        if parent >= 0:
            n_kids[parent].append(nid)
        if children[row]:
            heapq.heappush(heap, (-amount, nid))
        return nid

    top: list[int] = []
    truncated = False
    for r in roots:
        if len(n_row) >= max_paths:
            truncated = True
            break
        top.append(new_node(-1, r, float(total[r])))
    while heap:
        neg, nid = heapq.heappop(heap)
        amount = -neg
        row = n_row[nid]
        if n_depth[nid] >= max_depth:
            truncated = True
            continue
        ct = child_t[row]
        cut = 0.0
        on_path = set()
        p = nid
        while p >= 0:
            q = n_row[p]
            on_path.add(q)
            if q in ct:
                cut += ct[q]
            p = n_parent[p]
        denom = max(float(self_cost[row]) + child_sum[row] - cut, float(total[row]))
        if denom <= 0:
            continue
        given = 0.0
        for c, t in children[row]:
            # t / denom first: it is at most ~1, while amount / denom overflows to inf
            # when denom is subnormal (a 5e-324 s function under a 1 s edge)
            share = amount * (t / denom)
            if share < eps:
                break  # sorted by t: the rest are smaller still
            if c in on_path:
                continue  # recursion or a cycle: cut here
            if len(n_row) >= max_paths:
                truncated = True
                break
            new_node(nid, c, share)
            given += share
        n_self[nid] = max(amount - given, 0.0)
    if not _keep_exact_self(n_row, n_self, new_node, self_cost, top, max_paths):
        truncated = True
    if n_row:
        parent_stack = np.asarray(n_parent, np.int32)
        parent_stack[parent_stack >= 0] += base
        profile.add_stack_definitions(base, parent_stack, np.asarray(frames, np.int32)[np.asarray(n_row, np.intp)])

    # emit one sample per path with self time, depth-first so spans nest in time
    stacks: list[int] = []
    weights: list[float] = []
    todo = list(reversed(top))
    while todo:
        nid = todo.pop()
        if n_self[nid] > 0:
            stacks.append(base + nid)
            weights.append(n_self[nid])
        todo.extend(reversed(n_kids[nid]))
    w = np.asarray(weights, np.float64)
    keep = w > 0
    if not bool(keep.all()):
        w = w[keep]
        stacks = [s for s, k in zip(stacks, keep.tolist(), strict=True) if k]
    if stacks:
        t = np.concatenate(([0.0], np.cumsum(w)[:-1]))
        profile.ensure_thread(0, "all threads")
        profile.add_samples(time=t, thread=np.zeros(len(w), np.int32), stack=np.asarray(stacks, np.int32), weight=w)
    profile.meta["synthesized_paths"] = len(n_row)
    return truncated


def _keep_exact_self(
    n_row: list[int],
    n_self: list[float],
    new_node: Callable[[int, int, float], int],
    self_cost: np.ndarray,
    top: list[int],
    max_paths: int,
) -> bool:
    """Scale the estimated paths so each function's self time is its exact self time.

    The propagation keeps totals along paths, not self times: cut recursion,
    folded crumbs and shared callees move self time between functions (a real
    cProfile file lost 56% of it to the wrong functions in an export). The
    estimate is kept only for *where* a function's self time sits; its amount is
    the file's. A function with self time but no path gets a root path while the
    path budget lasts, else its time is folded into the heaviest root (False then).
    """
    n = len(self_cost)
    rows = np.asarray(n_row, np.intp)
    got = np.bincount(rows, weights=np.asarray(n_self, np.float64), minlength=n) if len(rows) else np.zeros(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(got > 0, self_cost / np.where(got > 0, got, 1.0), 0.0)
    for nid, row in enumerate(n_row):
        n_self[nid] *= float(factor[row])
    missing = np.flatnonzero((self_cost > 0) & (got <= 0)).tolist()
    if not missing:
        return True
    first_node: dict[int, int] = {}
    for nid, row in enumerate(n_row):
        first_node.setdefault(row, nid)
    complete = True
    for row in missing:
        found = first_node.get(row)
        if found is None:  # never reached from a root: a path of its own
            if len(n_row) >= max_paths:  # out of paths: fold it into the heaviest root, as crumbs are
                complete = False
                if top:
                    n_self[top[0]] += float(self_cost[row])
                continue
            found = new_node(-1, row, 0.0)
            top.append(found)
        n_self[found] = float(self_cost[row])
    return complete


# ---------------------------------------------------------------- profile -> graph
def graph_from_profile(profile: Profile) -> CallGraph:
    """Per-function rows and edges of any profile (exact func_stats if present, else from samples)."""
    g = CallGraph()
    fs = profile.func_stats
    if fs is not None and len(fs.func):
        row = {}
        for i, f in enumerate(fs.func.tolist()):
            row[f] = g.add_function(
                profile.func_name[f],
                profile.func_file[f],
                profile.func_line[f],
                int(fs.calls[i]),
                int(fs.prim_calls[i]),
                float(fs.self_time[i]),
                float(fs.total_time[i]),
            )
        for a, b, c, s, t in zip(
            fs.edge_caller.tolist(), fs.edge_callee.tolist(), fs.edge_calls.tolist(), fs.edge_self.tolist(), fs.edge_total.tolist(), strict=True
        ):
            for f in (a, b):
                if f not in row:
                    row[f] = g.add_function(profile.func_name[f], profile.func_file[f], profile.func_line[f], 0, 0, 0.0, 0.0)
            g.add_edge(row[a], row[b], c, s, t)
        return g
    return _graph_from_samples(profile)


def _graph_from_samples(profile: Profile) -> CallGraph:
    g = CallGraph()
    n_stacks = len(profile.stacks)
    if not len(profile.samples) or not n_stacks:
        return g
    stack = profile.samples["stack"]
    keep = stack >= 0
    weight = np.bincount(stack[keep], weights=profile.samples["weight"][keep].astype(np.float64), minlength=n_stacks)
    count = np.bincount(stack[keep], minlength=n_stacks)
    if profile.unit != UNIT_SECONDS:  # a row of a "samples" profile stands for its weight in samples
        count = np.rint(weight).astype(np.int64)
    frame_func = profile.frames["func"]
    parents = profile.stacks["parent"]
    stack_frames = profile.stacks["frame"]
    fself: dict[int, float] = {}
    ftotal: dict[int, float] = {}
    fcount: dict[int, int] = {}
    edges: dict[tuple[int, int], list[float]] = {}
    for sid in np.nonzero(count)[0].tolist():
        w = float(weight[sid])
        c = int(count[sid])
        path: list[int] = []
        s = sid
        while s >= 0:
            path.append(int(frame_func[stack_frames[s]]))
            s = int(parents[s])
        path.reverse()
        leaf = path[-1]
        fself[leaf] = fself.get(leaf, 0.0) + w
        for f in set(path):
            ftotal[f] = ftotal.get(f, 0.0) + w
            fcount[f] = fcount.get(f, 0) + c
        seen: set[tuple[int, int]] = set()
        for i in range(1, len(path)):
            key = (path[i - 1], path[i])
            if key in seen:
                continue
            seen.add(key)
            e = edges.setdefault(key, [0, 0.0, 0.0])
            e[0] += c
            e[2] += w
            if i == len(path) - 1:
                e[1] += w
    row: dict[int, int] = {}
    for f in sorted(ftotal):
        row[f] = g.add_function(
            profile.func_name[f], profile.func_file[f], profile.func_line[f], fcount[f], fcount[f], fself.get(f, 0.0), ftotal[f]
        )
    for (a, b), e in edges.items():
        g.add_edge(row[a], row[b], int(e[0]), e[1], e[2])
    return g
