"""Per-line costs of one function (the Source pane's numbers), without Qt, against hand-counted samples."""

from __future__ import annotations

import numpy as np
import pytest

from pyrometer.core.analysis.line_costs import line_costs
from pyrometer.core.analysis.selection import Selection, sample_indices
from pyrometer.core.model import Profile


def test_self_and_total_per_line() -> None:
    p = Profile()
    f_top = p.intern_frame("f", "/m.py", 2, 1)
    f_call = p.intern_frame("f", "/m.py", 3, 1)
    g = p.intern_frame("g", "/m.py", 7, 6)
    s1 = p.intern_stack_path([f_top])
    s2 = p.intern_stack_path([f_call, g])
    p.add_samples(np.arange(5) * 0.01, np.zeros(5, np.int32), np.asarray([s1, s1, s2, s2, s2], np.int32), weight=0.01)
    p.finish()
    costs = line_costs(p, p.frame_func(f_top), sample_indices(p, Selection()))
    assert costs.lines.tolist() == [2, 3]
    assert np.allclose(costs.self_weight, [0.02, 0.0])  # two samples stopped at line 2
    assert np.allclose(costs.total_weight, [0.02, 0.03])  # three were inside the call on line 3
    assert costs.total == pytest.approx(0.05)
    later = line_costs(p, p.frame_func(f_top), sample_indices(p, Selection(t0=0.015)))
    assert np.allclose(later.total_weight, [0.0, 0.03]) and np.allclose(later.self_weight, [0.0, 0.0])  # samples 2-4 only


def test_recursion_counts_each_line_once_per_sample() -> None:
    """f(line 3) -> f(line 3) -> f(line 5): each sample adds once to line 3's total, not once per frame,
    and once to line 5's: a line's total is never below its self (pprof's per-line cum).

    The demo's recursive fib showed 0.13 s self and no total on its leaf line.
    """
    p = Profile()
    call = p.intern_frame("f", "/r.py", 3, 1)
    leaf = p.intern_frame("f", "/r.py", 5, 1)
    deep = p.intern_stack_path([call, call, leaf])
    shallow = p.intern_stack_path([call, leaf])
    p.add_samples(np.arange(4) * 0.01, np.zeros(4, np.int32), np.asarray([deep, deep, deep, shallow], np.int32), weight=1.0)
    costs = line_costs(p, p.frame_func(call), slice(0, 4))
    assert costs.lines.tolist() == [3, 5]
    assert costs.self_weight.tolist() == [0.0, 4.0]
    assert costs.total_weight.tolist() == [4.0, 4.0]
    assert bool((costs.total_weight >= costs.self_weight).all())


def test_line_totals_match_a_per_sample_count() -> None:
    """Against a brute-force count: for each sample, every line of f on its stack gets the weight once."""
    rng = np.random.default_rng(7)
    p = Profile()
    frames = [p.intern_frame("f", "/r.py", line, 1) for line in (2, 3, 4)] + [p.intern_frame("g", "/r.py", 9, 8)]
    paths = [tuple(int(x) for x in rng.choice(frames, size=int(rng.integers(1, 7)))) for _ in range(60)]
    stacks = np.asarray([p.intern_stack_path(list(path)) for path in paths], np.int32)
    weights = rng.uniform(0.1, 1.0, len(paths))
    p.add_samples(np.arange(len(paths)) * 0.01, np.zeros(len(paths), np.int32), stacks, weight=weights.astype(np.float32))
    f = p.frame_func(frames[0])
    costs = line_costs(p, f, slice(0, len(paths)))
    want_total: dict[int, float] = {}
    want_self: dict[int, float] = {}
    w32 = p.samples["weight"].astype(np.float64)
    for path, w in zip(paths, w32, strict=True):
        lines = {int(p.frames["line"][fr]) for fr in path if p.frame_func(fr) == f}
        for line in lines:
            want_total[line] = want_total.get(line, 0.0) + w
        if p.frame_func(path[-1]) == f:
            leaf = int(p.frames["line"][path[-1]])
            want_self[leaf] = want_self.get(leaf, 0.0) + w
    got_total = dict(zip(costs.lines.tolist(), costs.total_weight.tolist(), strict=True))
    got_self = dict(zip(costs.lines.tolist(), costs.self_weight.tolist(), strict=True))
    for line in want_total:
        assert got_total[line] == pytest.approx(want_total[line])
        assert got_self.get(line, 0.0) == pytest.approx(want_self.get(line, 0.0))
