"""Compare two profiles per function and per call path, each normalised to its own total.

Functions match by (name, file) — line numbers move between versions of a
program; call paths match by the sequence of (name, file) from the outermost
frame. Fractions make runs of different length or sampling rate comparable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from pyrometer.core.analysis.calltree import call_tree
from pyrometer.core.analysis.functions import function_table
from pyrometer.core.analysis.selection import Selection
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


def _function_values(profile: Profile, sel: Selection | None) -> tuple[dict[Key, tuple[float, float]], float]:
    table = function_table(profile, sel)
    out: dict[Key, tuple[float, float]] = {}
    for f, s, t in zip(table.func.tolist(), table.self_weight.tolist(), table.total_weight.tolist(), strict=True):
        key = (profile.func_name[f], profile.func_file[f])
        old = out.get(key, (0.0, 0.0))
        # several functions with one (name, file) (different def lines): add self, keep the larger total
        out[key] = (old[0] + s, max(old[1], t))
    return out, table.total


def _order(keys: list, base: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    delta = new - base
    names = np.array([repr(k) for k in keys], dtype=object) if keys else np.zeros(0, object)
    order = np.array(sorted(range(len(keys)), key=lambda i: (-round(abs(float(delta[i])), 12), names[i])), np.int64)
    return order, delta


def diff_functions(
    base: Profile,
    new: Profile,
    sel_base: Selection | None = None,
    sel_new: Selection | None = None,
    by: Literal["self", "total"] = "self",
) -> FunctionDiff:
    """Per-function change in share of the total between two profiles."""
    bv, bsum = _function_values(base, sel_base)
    nv, nsum = _function_values(new, sel_new)
    keys = sorted(set(bv) | set(nv))
    zero = (0.0, 0.0)
    b_self = np.array([bv.get(k, zero)[0] for k in keys])
    n_self = np.array([nv.get(k, zero)[0] for k in keys])
    b_tot = np.array([bv.get(k, zero)[1] for k in keys])
    n_tot = np.array([nv.get(k, zero)[1] for k in keys])
    b_val, n_val = (b_self, n_self) if by == "self" else (b_tot, n_tot)
    b_frac = b_val / bsum if bsum > 0 else np.zeros(len(keys))
    n_frac = n_val / nsum if nsum > 0 else np.zeros(len(keys))
    order, delta = _order(keys, b_frac, n_frac)
    return FunctionDiff(
        name=[keys[i][0] for i in order],
        file=[keys[i][1] for i in order],
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
    )


def _path_values(profile: Profile, sel: Selection | None, by: str) -> tuple[dict[tuple[Key, ...], float], float]:
    tree = call_tree(profile, sel)
    values = tree.self_weight if by == "self" else tree.total_weight
    names, files = profile.func_name, profile.func_file
    keys: list[tuple[Key, ...]] = [()] * tree.node_count
    out: dict[tuple[Key, ...], float] = {}
    for node in range(1, tree.node_count):  # parents come before children
        f = int(tree.func[node])
        key = (*keys[int(tree.parent[node])], (names[f], files[f]))
        keys[node] = key
        out[key] = out.get(key, 0.0) + float(values[node])
    return out, tree.total


def diff_paths(
    base: Profile,
    new: Profile,
    sel_base: Selection | None = None,
    sel_new: Selection | None = None,
    by: Literal["self", "total"] = "total",
) -> PathDiff:
    """Per-call-path change in share of the total between two profiles."""
    bv, bsum = _path_values(base, sel_base, by)
    nv, nsum = _path_values(new, sel_new, by)
    keys = sorted(set(bv) | set(nv))
    b_val = np.array([bv.get(k, 0.0) for k in keys])
    n_val = np.array([nv.get(k, 0.0) for k in keys])
    b_frac = b_val / bsum if bsum > 0 else np.zeros(len(keys))
    n_frac = n_val / nsum if nsum > 0 else np.zeros(len(keys))
    order, delta = _order(keys, b_frac, n_frac)
    return PathDiff(
        path=[keys[i] for i in order],
        name=[keys[i][-1][0] for i in order],
        file=[keys[i][-1][1] for i in order],
        base_frac=b_frac[order],
        new_frac=n_frac[order],
        delta=delta[order],
        base_value=b_val[order],
        new_value=n_val[order],
        base_sum=bsum,
        new_sum=nsum,
        by=by,
    )
