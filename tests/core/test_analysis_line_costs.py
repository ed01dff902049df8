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


def test_recursion_counts_the_outermost_call_once() -> None:
    """f(line 3) -> f(line 3) -> f(line 5): each sample adds once to line 3's total, not once per frame.

    A line's total counts the function's outermost frame only, so the inner
    frames (line 5 here, the recursive line 3) add nothing more.
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
    assert costs.total_weight.tolist() == [4.0, 0.0]
