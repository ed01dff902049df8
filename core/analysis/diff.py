"""Compare two profiles per function and per call path, each normalised to its own total.

Functions match by their identity (analysis.identity): the same function
written by cProfile, yappi, py-spy or the agent, on Python 3.9 or 3.12, run
from a relative or an absolute path, is one row; line numbers move between
versions of a program and only tell apart functions that share a name in one
file. Call paths match by the sequence of identities from the outermost frame.
Fractions make runs of different length or sampling rate comparable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from pyrometer.core.analysis.calltree import CallTree, call_tree
from pyrometer.core.analysis.functions import function_table
from pyrometer.core.analysis.identity import (
    BUILTIN_FILE,
    FunctionKey,
    display_name,
    key_lines,
    match_keys,
    profile_keys,
)
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.analysis.task_stacks import TASK_FILE
from pyrometer.core.model import Profile

Key = tuple[str, str]


@dataclass
class FunctionDiff:
    """Parallel columns, one row per function in either profile, sorted by |delta| desc.

    `base_frac`/`new_frac`/`delta` measure `by` (self or total) as a fraction
    of each profile's total; the absolute self/total values are kept too.
    """

    name: list[str] = field(default_factory=list)
    file: list[str] = field(default_factory=list)
    base_frac: np.ndarray = field(default_factory=lambda: np.zeros(0))
    new_frac: np.ndarray = field(default_factory=lambda: np.zeros(0))
    delta: np.ndarray = field(default_factory=lambda: np.zeros(0))
    base_self: np.ndarray = field(default_factory=lambda: np.zeros(0))
    new_self: np.ndarray = field(default_factory=lambda: np.zeros(0))
    base_total: np.ndarray = field(default_factory=lambda: np.zeros(0))
    new_total: np.ndarray = field(default_factory=lambda: np.zeros(0))
    base_sum: float = 0.0  # each profile's total (the denominators)
    new_sum: float = 0.0
    by: str = "self"
    new_func: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # a function id in `new` per row, -1 absent
    matched: int = 0  # functions found in both profiles
    only_base: int = 0  # functions of the base that the new profile does not have
    only_new: int = 0

    def __len__(self) -> int:
        return len(self.name)


@dataclass
class PathDiff:
    """Parallel columns, one row per call path in either profile, sorted by |delta| desc.

    `path` lists (name, file) from the outermost frame; `name`/`file` are its
    last function. Fractions are of total (inclusive) weight unless `by` = "self".
    """

    path: list[tuple[Key, ...]] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    file: list[str] = field(default_factory=list)
    base_frac: np.ndarray = field(default_factory=lambda: np.zeros(0))
    new_frac: np.ndarray = field(default_factory=lambda: np.zeros(0))
    delta: np.ndarray = field(default_factory=lambda: np.zeros(0))
    base_value: np.ndarray = field(default_factory=lambda: np.zeros(0))
    new_value: np.ndarray = field(default_factory=lambda: np.zeros(0))
    base_sum: float = 0.0
    new_sum: float = 0.0
    by: str = "total"

    def __len__(self) -> int:
        return len(self.name)


def _function_values(profile: Profile, sel: Selection | None) -> tuple[dict[FunctionKey, tuple[float, float]], dict[FunctionKey, tuple[str, str, int]], float]:
    """Self and total per function identity, its display (name, file, a function id), and the profile's total."""
    table = function_table(profile, sel)
    keys = profile_keys(profile)
    out: dict[FunctionKey, tuple[float, float]] = {}
    names: dict[FunctionKey, list[str]] = {}
    files: dict[FunctionKey, str] = {}
    first: dict[FunctionKey, int] = {}  # the function id shown for the key (the heaviest)
    for f, s, t in zip(table.func.tolist(), table.self_weight.tolist(), table.total_weight.tolist(), strict=True):
        key = keys[f]
        old = out.get(key, (0.0, 0.0))
        # several functions with one identity (one function named twice in a profile): add self, keep the larger total
        out[key] = (old[0] + s, max(old[1], t))
        names.setdefault(key, []).append(profile.func_name[f])
        files[key] = max(files.get(key, ""), profile.func_file[f], key=len)
        first.setdefault(key, f)
    return out, {k: (display_name(v), files[k], first[k]) for k, v in names.items()}, table.total


def _order(keys: list, base: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    delta = new - base
    names = np.array([repr(k) for k in keys], dtype=object) if keys else np.zeros(0, object)
    order = np.array(sorted(range(len(keys)), key=lambda i: (-round(abs(float(delta[i])), 12), names[i])), np.int64)
    return order, delta


def _shares(
    keys: list, b_val: np.ndarray, n_val: np.ndarray, bsum: float, nsum: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each row's share of its side's total (0 for an empty side), the change, and the display order."""
    b_frac = b_val / bsum if bsum > 0 else np.zeros(len(keys))
    n_frac = n_val / nsum if nsum > 0 else np.zeros(len(keys))
    order, delta = _order(keys, b_frac, n_frac)
    return order, b_frac, n_frac, delta


def diff_functions(
    base: Profile,
    new: Profile,
    sel_base: Selection | None = None,
    sel_new: Selection | None = None,
    by: Literal["self", "total"] = "self",
) -> FunctionDiff:
    """Per-function change in share of the total between two profiles."""
    bv, bshow, bsum = _function_values(base, sel_base)
    raw_nv, raw_nshow, nsum = _function_values(new, sel_new)
    blines, nlines = key_lines(profile_keys(base), base.func_line), key_lines(profile_keys(new), new.func_line)
    to_base = match_keys({k: blines[k] for k in bv}, {k: nlines[k] for k in raw_nv})
    nv: dict[FunctionKey, tuple[float, float]] = {}
    nshow: dict[FunctionKey, tuple[str, str, int]] = {}
    for k, v in raw_nv.items():
        key = to_base.get(k, k)
        nv[key] = v
        nshow[key] = raw_nshow[k]
    keys = sorted(set(bv) | set(nv))
    zero = (0.0, 0.0)
    b_self = np.array([bv.get(k, zero)[0] for k in keys])
    n_self = np.array([nv.get(k, zero)[0] for k in keys])
    b_tot = np.array([bv.get(k, zero)[1] for k in keys])
    n_tot = np.array([nv.get(k, zero)[1] for k in keys])
    b_val, n_val = (b_self, n_self) if by == "self" else (b_tot, n_tot)
    order, b_frac, n_frac, delta = _shares(keys, b_val, n_val, bsum, nsum)
    # the display: the fuller name of either side (`JSONEncoder.iterencode` over `iterencode`), the longer path
    shown = []
    for k in keys:
        sides = [d[k] for d in (bshow, nshow) if k in d]
        shown.append((display_name([n for n, _, _ in sides]), max((f for _, f, _ in sides), key=len)))
    new_func = np.array([nshow[k][2] if k in nshow else -1 for k in keys], np.int64)
    return FunctionDiff(
        name=[shown[i][0] for i in order],
        file=[shown[i][1] for i in order],
        base_frac=b_frac[order],
        new_frac=n_frac[order],
        delta=delta[order],
        base_self=b_self[order],
        new_self=n_self[order],
        base_total=b_tot[order],
        new_total=n_tot[order],
        base_sum=bsum,
        new_sum=nsum,
        by=by,
        new_func=new_func[order] if len(keys) else np.zeros(0, np.int64),
        matched=len(set(bv) & set(nv)),
        only_base=len(set(bv) - set(nv)),
        only_new=len(set(nv) - set(bv)),
    )


def _path_values(
    profile: Profile, sel: Selection | None, by: str, rename: dict[FunctionKey, FunctionKey] | None = None
) -> tuple[dict[tuple[FunctionKey, ...], float], dict[FunctionKey, tuple[str, str]], float]:
    """Value per call path of identities (`rename` maps this side's keys onto the other's)."""
    tree = call_tree(profile, sel)
    values = tree.self_weight if by == "self" else tree.total_weight
    ids = profile_keys(profile)
    names, files = profile.func_name, profile.func_file
    keys: list[tuple[FunctionKey, ...]] = [()] * tree.node_count
    out: dict[tuple[FunctionKey, ...], float] = {}
    shown: dict[FunctionKey, tuple[str, str]] = {}
    # collapsed stacks (perf, flamegraph.pl) name no file at all: then '' is not "built-in"
    tells_builtins = any(file for file in files)
    for node in range(1, tree.node_count):  # parents come before children
        f = int(tree.func[node])
        ident = ids[f]
        if ident[0] == BUILTIN_FILE and tells_builtins:
            # a sampler never sees C functions, a tracer does: paths leave them out, so
            # `exec > <module> > sum > <genexpr>` and `<module> > <genexpr>` are one path
            keys[node] = keys[int(tree.parent[node])]
            if by == "self" and keys[node]:
                out[keys[node]] = out.get(keys[node], 0.0) + float(values[node])
            continue
        if rename is not None:
            ident = rename.get(ident, ident)
        shown.setdefault(ident, (names[f], files[f]))
        key = (*keys[int(tree.parent[node])], ident)
        keys[node] = key
        out[key] = out.get(key, 0.0) + float(values[node])
    return out, shown, tree.total


def diff_paths(
    base: Profile,
    new: Profile,
    sel_base: Selection | None = None,
    sel_new: Selection | None = None,
    by: Literal["self", "total"] = "total",
) -> PathDiff:
    """Per-call-path change in share of the total between two profiles."""
    rename = match_keys(key_lines(profile_keys(base), base.func_line), key_lines(profile_keys(new), new.func_line))
    bv, bshow, bsum = _path_values(base, sel_base, by)
    nv, nshow, nsum = _path_values(new, sel_new, by, rename)
    show = {**nshow, **bshow}
    keys = sorted(set(bv) | set(nv))
    b_val = np.array([bv.get(k, 0.0) for k in keys])
    n_val = np.array([nv.get(k, 0.0) for k in keys])
    order, b_frac, n_frac, delta = _shares(keys, b_val, n_val, bsum, nsum)
    return PathDiff(
        path=[tuple(show[k] for k in keys[i]) for i in order],
        name=[show[keys[i][-1]][0] for i in order],
        file=[show[keys[i][-1]][1] for i in order],
        base_frac=b_frac[order],
        new_frac=n_frac[order],
        delta=delta[order],
        base_value=b_val[order],
        new_value=n_val[order],
        base_sum=bsum,
        new_sum=nsum,
        by=by,
    )


@dataclass
class NodePathDiff:
    """Per node of one call tree (the new profile's): its call path's share of each side's total.

    A box of a flame graph is a call path, so this is what colours it: `burn`
    called from `burn_main` and from `other` are two rows here, each with its
    own change, where the per-function diff has one. `base_frac` is NaN and
    `is_new` True where the baseline never ran that path; node 0 (the root) is 0.
    """

    new_frac: np.ndarray  # float64 per node: the path's total (inclusive) share of the new profile
    base_frac: np.ndarray  # float64 per node: the same path's share of the baseline, NaN if absent
    delta: np.ndarray  # new_frac - base_frac (0 where absent: see is_new)
    is_new: np.ndarray  # bool per node
    compared: np.ndarray  # bool per node: False for the root and the by-task view's <task> boxes (no baseline has them)

    def __len__(self) -> int:
        return len(self.new_frac)


PathTable = dict[int, int]  # (parent path id << IDENT_BITS | identity id) -> path id; 0 is the empty path
IDENT_BITS = 24  # identity ids below 2**24 (16M functions); path ids fill the bits above


@dataclass
class _Paths:
    """The baseline's interned call paths: identities and paths get ids the new side looks up."""

    idents: dict[FunctionKey, int]
    table: PathTable
    share: np.ndarray  # per path id: its share of the baseline's total


def _node_paths(
    profile: Profile,
    tree: CallTree,
    rename: dict[FunctionKey, FunctionKey] | None,
    idents: dict[FunctionKey, int],
    table: PathTable,
    extra: PathTable,
) -> np.ndarray:
    """The call path id of every tree node (-1: not compared), interning paths not in `table` into `extra`.

    A path is interned as (parent path, identity), level by level, so a deep tree of 10^6 nodes
    costs one dict lookup per node. Built-ins inside a path are left out (a sampler never sees
    them, a tracer does: as in `diff_paths`), but a built-in box keeps its own name at its end.
    The by-task view's <task> frames are left out of every path and their boxes are not compared.
    `idents` gains the identities it did not have (new ones).
    """
    keys = profile_keys(profile)
    nf = len(keys)
    ident = np.zeros(nf + 1, np.int64)
    skip = np.zeros(nf + 1, bool)  # a built-in: its children extend its parent's path
    task = np.zeros(nf + 1, bool)
    for f, key in enumerate(keys):
        if profile.func_file[f] == TASK_FILE:
            task[f] = True
            continue
        if rename is not None:
            key = rename.get(key, key)
        ident[f] = idents.setdefault(key, len(idents) + 1)
        skip[f] = key[0] == BUILTIN_FILE
    n = tree.node_count
    path = np.full(n, -1, np.int64)
    shown = np.zeros(n, np.int64)  # the path a child extends
    if n <= 1:
        return path
    parent = np.asarray(tree.parent, np.int64)
    func = np.asarray(tree.func, np.int64)
    depth = np.asarray(tree.depth)
    order = np.argsort(depth, kind="stable")
    bounds = np.searchsorted(depth[order], np.arange(int(depth.max()) + 2))
    next_id = len(table) + len(extra) + 1
    for d in range(1, len(bounds) - 1):
        nodes = order[bounds[d] : bounds[d + 1]]
        fn = func[nodes]
        above = shown[parent[nodes]]
        live = ~task[fn]
        wanted = ((above[live] << IDENT_BITS) | ident[fn[live]]).tolist()
        got = [table.get(k, -1) for k in wanted]
        for i, k in enumerate(wanted):
            if got[i] < 0:
                pid = extra.get(k)
                if pid is None:
                    pid = extra[k] = next_id
                    next_id += 1
                got[i] = pid
        pids = np.asarray(got, np.int64)
        path[nodes[live]] = pids
        own = above.copy()
        own[live] = np.where(skip[fn[live]], above[live], pids)
        shown[nodes] = own
    return path


def _path_shares(path: np.ndarray, tree: CallTree, size: int) -> np.ndarray:
    """Each path id's total weight as a share of the tree's total (nodes on one path add up)."""
    total = float(tree.total)
    ok = path >= 0
    sums = np.bincount(path[ok], weights=np.asarray(tree.total_weight, np.float64)[ok], minlength=size)
    return sums / total if total > 0 else sums * 0.0


def _base_paths(base: Profile, sel: Selection | None) -> _Paths:
    idents: dict[FunctionKey, int] = {}
    table: PathTable = {}
    tree = call_tree(base, sel)
    path = _node_paths(base, tree, None, idents, {}, table)
    return _Paths(idents, table, _path_shares(path, tree, len(table) + 1))


def diff_tree_paths(base: Profile, new: Profile, tree: CallTree, sel_base: Selection | None = None) -> NodePathDiff:
    """Per node of `tree` (a call tree of `new`): the change of its call path's share against `base`."""
    rename = match_keys(key_lines(profile_keys(base), base.func_line), key_lines(profile_keys(new), new.func_line))
    paths = base.cached(("path_shares", sel_base), lambda: _base_paths(base, sel_base))
    known = len(paths.table) + 1  # ids below this are paths the baseline ran
    path = _node_paths(new, tree, rename, dict(paths.idents), paths.table, {})
    new_share = _path_shares(path, tree, max(known, int(path.max(initial=0)) + 1))
    compared = path >= 0
    safe = np.maximum(path, 0)
    new_frac = np.where(compared, new_share[safe], np.nan)
    is_new = compared & (path >= known)
    base_frac = np.where(compared & ~is_new, paths.share[np.minimum(safe, known - 1)], np.nan)
    delta = np.where(compared & ~is_new, new_frac - np.nan_to_num(base_frac), 0.0)
    return NodePathDiff(new_frac=new_frac, base_frac=base_frac, delta=delta, is_new=is_new, compared=compared)
