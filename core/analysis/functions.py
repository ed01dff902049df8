"""The function table: self/total weight, samples and (when known) calls per function.

Totals count a function once per sample even when it recurses: only nodes with
no ancestor of the same function contribute their subtree total.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from pyrometer.core.analysis.aggregate import node_sums
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.model import UNIT_SAMPLES, FuncStats, Profile

if TYPE_CHECKING:
    from pyrometer.core.analysis.transforms import Transform


@dataclass
class FunctionTable:
    """One row per function with samples (or stats); rows sorted by self, descending."""

    func: np.ndarray  # int32
    self_weight: np.ndarray  # float64
    total_weight: np.ndarray  # float64
    samples: np.ndarray  # int64 samples with the function anywhere on the stack
    self_samples: np.ndarray  # int64 samples with the function innermost
    calls: np.ndarray  # int64, -1 unknown
    per_call: np.ndarray  # float64 total / calls, nan unknown
    self_pct: np.ndarray  # float64 percent of `total`
    total_pct: np.ndarray  # float64 percent of `total`
    total: float

    def __len__(self) -> int:
        return len(self.func)

    def row_of(self, func: int) -> int:
        """Row index of a function id, or -1."""
        hit = np.flatnonzero(self.func == func)
        return int(hit[0]) if len(hit) else -1


def _stats_by_func(fs: FuncStats, nfuncs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(present, calls, self, total) per function id from deterministic stats."""
    f = fs.func.astype(np.intp)
    present = np.zeros(nfuncs, bool)
    present[f] = True
    calls = np.bincount(f, weights=fs.calls, minlength=nfuncs).astype(np.int64)
    self_t = np.bincount(f, weights=fs.self_time, minlength=nfuncs)
    total_t = np.bincount(f, weights=fs.total_time, minlength=nfuncs)
    return present, calls, self_t, total_t


def _finish(
    func: np.ndarray,
    self_w: np.ndarray,
    total_w: np.ndarray,
    samples: np.ndarray,
    self_samples: np.ndarray,
    calls: np.ndarray,
    per_call: np.ndarray,
    total: float,
) -> FunctionTable:
    order = np.lexsort((func, -total_w, -self_w))
    scale = 100.0 / total if total > 0 else 0.0
    return FunctionTable(
        func=func[order].astype(np.int32),
        self_weight=self_w[order],
        total_weight=total_w[order],
        samples=samples[order].astype(np.int64),
        self_samples=self_samples[order].astype(np.int64),
        calls=calls[order].astype(np.int64),
        per_call=per_call[order],
        self_pct=self_w[order] * scale,
        total_pct=total_w[order] * scale,
        total=total,
    )


def _table_from_stats(profile: Profile, fs: FuncStats) -> FunctionTable:
    n = max(len(profile.func_name), int(fs.func.max(initial=-1)) + 1)
    present, calls, self_t, total_t = _stats_by_func(fs, n)
    func = np.flatnonzero(present)
    c = calls[func]
    with np.errstate(divide="ignore", invalid="ignore"):
        per_call = np.where(c > 0, total_t[func] / np.maximum(c, 1), np.nan)
    zeros = np.zeros(len(func), np.int64)
    # the whole run's cost is the sum of self costs, as pstats' total_tt and gprof2dot count it: the
    # largest inclusive cost is no total, since recursion counts it again (19x too high in a real file)
    self_sum = float(np.clip(self_t, 0.0, None).sum())
    total = (self_sum if self_sum > 0 else float(total_t.max(initial=0.0))) if len(func) else 0.0
    return _finish(func, self_t[func], total_t[func], zeros, zeros.copy(), c, per_call, total)


def function_table(profile: Profile, sel: Selection | None = None, transform: Transform | None = None) -> FunctionTable:
    """Per-function self/total for the selection (after `transform`, if any).

    With deterministic statistics and no samples the table is the statistics.
    Importers of deterministic files (pstats, callgrind) also synthesize an
    *estimated* tree (`meta["tree_estimated"]`); for the whole profile,
    untransformed, the exact statistics win over that estimate. Otherwise
    calls (and per-call time) come from the statistics.
    """
    fs = profile.func_stats
    whole = sel is None or (sel.t0 is None and sel.t1 is None and sel.threads is None)
    untransformed = transform is None or transform.is_identity()
    if fs is not None and (len(profile.samples) == 0 or (profile.meta.get("tree_estimated") and whole and untransformed)):
        return _table_from_stats(profile, fs)
    view = profile
    if transform is not None:
        from pyrometer.core.analysis.transforms import apply_transform

        view = apply_transform(profile, transform)
    sums = node_sums(view, sel)
    _, node_func, _ = sums.table.arrays()
    first = sums.table.first_occurrence()
    nf = len(view.func_name)
    nodes = np.arange(1, sums.table.size)
    f = node_func[nodes].astype(np.intp)
    self_w = np.bincount(f, weights=sums.self_weight[nodes], minlength=nf)
    self_c = np.bincount(f, weights=sums.self_count[nodes], minlength=nf)
    outer = nodes[first[nodes]]
    fo = node_func[outer].astype(np.intp)
    total_w = np.bincount(fo, weights=sums.total_weight[outer], minlength=nf)
    total_c = np.bincount(fo, weights=sums.count[outer], minlength=nf)
    if view.unit == UNIT_SAMPLES:  # a row may stand for many samples (collapsed stacks carry a count)
        total_c, self_c = np.rint(total_w), np.rint(self_w)
    func = np.flatnonzero(total_c > 0)
    calls = np.full(len(func), -1, np.int64)
    per_call = np.full(len(func), np.nan)
    if fs is not None:
        present, s_calls, _, s_total = _stats_by_func(fs, max(nf, int(fs.func.max(initial=-1)) + 1))
        known = present[func]
        calls[known] = s_calls[func[known]]
        ok = known & (calls > 0)
        per_call[ok] = s_total[func[ok]] / calls[ok]
    return _finish(
        func,
        self_w[func],
        total_w[func],
        total_c[func],
        self_c[func],
        calls,
        per_call,
        float(sums.total_weight[0]),
    )
