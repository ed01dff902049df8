"""The function table: self/total weight, samples and (when known) calls per function.

Totals count a function once per sample even when it recurses: only nodes with
no ancestor of the same function contribute their subtree total.

Trace mode records both: self/total stay the sampled wall time (so the table,
the flame graph and the timeline agree), and the exact statistics add calls,
the traced self/total (in the trace clock, CPU by default) and their per-call
figures. The exact statistics cover the whole run and every thread, so they
are left out (unknown) for a time range or a thread filter.
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
    traced_self: np.ndarray | None = None  # float64 exact self time in `trace_clock`, nan unknown
    traced_total: np.ndarray | None = None  # float64 exact total time in `trace_clock`, nan unknown
    task_wall_per_call: np.ndarray | None = None  # float64 mean wall life of the function's finished tasks, nan unknown
    trace_clock: str | None = None  # "cpu" | "wall" when the exact columns are known

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
    if profile.meta.get("calls_unknown"):  # a sampled profile's pstats export: its 0 calls mean "not counted"
        c = np.full(len(func), -1, np.int64)
        per_call = np.full(len(func), np.nan)
    zeros = np.zeros(len(func), np.int64)
    # the whole run's cost is the sum of self costs, as pstats' total_tt and gprof2dot count it: the
    # largest inclusive cost is no total, since recursion counts it again (19x too high in a real file)
    self_sum = float(np.clip(self_t, 0.0, None).sum())
    total = (self_sum if self_sum > 0 else float(total_t.max(initial=0.0))) if len(func) else 0.0
    return _finish(func, self_t[func], total_t[func], zeros, zeros.copy(), c, per_call, total)


def stats_func_ids(profile: Profile, fs: FuncStats) -> np.ndarray:
    """Function id per stats row, moved to the sampled function defined at the same place.

    yappi names a method by the class it was called on (`EpollSelector.register`)
    where the code object says the class that defines it
    (`_PollLikeSelector.register`): same file and first line, one function.
    """
    return _moved(profile, fs.func.astype(np.int64), set(fs.func.tolist()))


def _moved(profile: Profile, ids: np.ndarray, in_stats: set[int]) -> np.ndarray:
    func = ids.copy()
    by_place: dict[tuple[str, int], list[int]] = {}
    for f, (file, line) in enumerate(zip(profile.func_file, profile.func_line, strict=True)):
        if line > 0 and f not in in_stats:
            by_place.setdefault((file, line), []).append(f)
    for row, f in enumerate(func.tolist()):
        others = by_place.get((profile.func_file[f], profile.func_line[f]))
        if others is not None and len(others) == 1:
            func[row] = others[0]
    return func


def stats_edge_ids(profile: Profile, fs: FuncStats) -> tuple[np.ndarray, np.ndarray]:
    """(caller, callee) function ids of the statistics' edges, moved as `stats_func_ids` moves rows."""
    in_stats = set(fs.func.tolist())
    return (
        _moved(profile, fs.edge_caller.astype(np.int64), in_stats),
        _moved(profile, fs.edge_callee.astype(np.int64), in_stats),
    )


def _task_wall_per_call(profile: Profile, funcs: np.ndarray) -> np.ndarray:
    """Mean created-to-ended wall time of finished tasks whose coroutine is the function.

    This is a coroutine's time per call with its awaits included; only tasks
    say when a coroutine started and ended, so coroutines awaited directly
    (not wrapped in a task) stay unknown (nan), and so do names shared by
    several functions. Names match by their short form (analysis.identity):
    a task names its coroutine `Class.method` where Python 3.9/3.10 frames say `method`.
    """
    from pyrometer.core.analysis.identity import name_key

    out = np.full(len(funcs), np.nan)
    if not profile.tasks:
        return out
    lives: dict[str, list[float]] = {}
    for t in profile.tasks.values():
        if t.created is not None and t.ended is not None and t.coro:
            lives.setdefault(name_key(t.coro), []).append(t.ended - t.created)
    if not lives:
        return out
    keys = [name_key(profile.func_name[f], profile.func_file[f]) for f in funcs.tolist()]
    places: dict[str, set[tuple[str, int]]] = {}  # one function may have two ids (sampled and traced names)
    for k, f in zip(keys, funcs.tolist(), strict=True):
        places.setdefault(k, set()).add((profile.func_file[f], profile.func_line[f]))
    for i, k in enumerate(keys):
        got = lives.get(k)
        if got and len(places[k]) == 1:
            out[i] = sum(got) / len(got)
    return out


def function_table(
    profile: Profile, sel: Selection | None = None, transform: Transform | None = None,
    stack_totals: tuple[np.ndarray, np.ndarray] | None = None,
) -> FunctionTable:
    """Per-function self/total for the selection (after `transform`, if any).

    With deterministic statistics and no samples the table is the statistics.
    Importers of deterministic files (pstats, callgrind) also synthesize an
    *estimated* tree (`meta["tree_estimated"]`); for the whole profile,
    untransformed, the exact statistics win over that estimate. Otherwise
    calls (and per-call time) come from the statistics, for the whole
    profile only (they are not divided by time or thread). `stack_totals` are the
    selection's (weight, count) per stack when known already (node_sums).
    """
    if stack_totals is not None and transform is not None:
        raise ValueError("stack sums describe the untransformed profile")
    fs = profile.func_stats
    whole = sel is None or (sel.t0 is None and sel.t1 is None and sel.threads is None)
    untransformed = transform is None or transform.is_identity()
    if fs is not None and (profile.sample_count == 0 or (profile.meta.get("tree_estimated") and whole and untransformed)):
        return _table_from_stats(profile, fs)
    view = profile
    if transform is not None:
        from pyrometer.core.analysis.transforms import apply_transform

        view = apply_transform(profile, transform)
    sums = node_sums(view, sel, sums=stack_totals)
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
    exact = fs is not None and whole and not profile.meta.get("tree_estimated")
    if fs is not None and not exact and not profile.meta.get("tree_estimated"):
        fs = None  # trace statistics are whole-run, all-thread figures: unknown in a part
    present = total_c > 0
    if fs is not None:
        stats_func = stats_func_ids(view, fs)
        n = max(nf, int(stats_func.max(initial=-1)) + 1)
        s_present = np.zeros(n, bool)
        s_present[stats_func] = True
        s_calls = np.bincount(stats_func, weights=fs.calls, minlength=n).astype(np.int64)
        s_self = np.bincount(stats_func, weights=fs.self_time, minlength=n)
        s_total = np.bincount(stats_func, weights=fs.total_time, minlength=n)
        if exact:  # functions that ran but were never sampled still have their exact calls
            present = np.zeros(n, bool)
            present[:nf] = total_c > 0
            present |= s_present
            pad = np.zeros(n - nf)
            self_w, self_c = np.concatenate((self_w, pad)), np.concatenate((self_c, pad))
            total_w, total_c = np.concatenate((total_w, pad)), np.concatenate((total_c, pad))
    func = np.flatnonzero(present)
    calls = np.full(len(func), -1, np.int64)
    per_call = np.full(len(func), np.nan)
    traced_self = traced_total = wall_call = None
    if fs is not None and not profile.meta.get("calls_unknown"):
        known = s_present[func]
        calls[known] = s_calls[func[known]]
        ok = known & (calls > 0)
        per_call[ok] = s_total[func[ok]] / calls[ok]
        if exact and not profile.meta.get("traced"):  # trace events: the samples already are the spans' exact times
            traced_self = np.where(known, s_self[func], np.nan)
            traced_total = np.where(known, s_total[func], np.nan)
            wall_call = _task_wall_per_call(view, func)
    table = _finish(
        func,
        self_w[func],
        total_w[func],
        total_c[func],
        self_c[func],
        calls,
        per_call,
        float(sums.total_weight[0]),
    )
    if traced_self is not None and traced_total is not None and wall_call is not None and fs is not None:
        order = np.lexsort((func, -total_w[func], -self_w[func]))
        table.traced_self = traced_self[order]
        table.traced_total = traced_total[order]
        table.task_wall_per_call = wall_call[order]
        table.trace_clock = fs.clock
    return table
