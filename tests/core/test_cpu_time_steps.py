"""cpu_time over a whole profile in steps of rows gives the one-pass sums (issue 15: no 750 MB of temporaries at 30M)."""

from __future__ import annotations

import numpy as np
import pytest

from pyrometer.core.analysis.cpu_time import cpu_time
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.model import Profile


def _profile(rows: int) -> Profile:
    rng = np.random.default_rng(5)
    p = Profile()
    leaves = [p.intern_stack_path([p.intern_frame("main", "m.py", 1), p.intern_frame(f"f{i}", "m.py", 10 + i)]) for i in range(40)]
    cpu = rng.random(rows) * 0.01
    cpu[rng.random(rows) < 0.1] = -1.0  # unknown readings are left out and counted
    p.add_samples(np.cumsum(rng.random(rows) * 0.01), rng.integers(0, 5, rows).astype(np.int32),
                  np.asarray(leaves, np.int32)[rng.integers(0, 40, rows)], None, 0.01, cpu)
    p.finish()
    return p


@pytest.mark.parametrize("sel", [None, Selection(threads=frozenset({1, 3}))])
def test_stepped_sums_are_the_one_pass_sums(sel: Selection | None) -> None:
    p = _profile(50_000)
    whole = cpu_time(p, sel, step=1 << 30)
    stepped = cpu_time(p, sel, step=997)
    assert whole is not None and stepped is not None
    assert (stepped.known, stepped.unknown) == (whole.known, whole.unknown)
    assert stepped.known + stepped.unknown == (50_000 if sel is None else int(np.isin(p.samples["thread"], [1, 3]).sum()))
    assert np.array_equal(stepped.count_per_stack, whole.count_per_stack)
    assert np.allclose(stepped.per_stack, whole.per_stack, rtol=1e-12, atol=0)
    assert stepped.per_thread.keys() == whole.per_thread.keys()
    for tid, value in whole.per_thread.items():
        assert stepped.per_thread[tid] == pytest.approx(value, rel=1e-12)
    known = p.samples["cpu"] >= 0
    truth = float(p.samples["cpu"][known].astype(np.float64).sum()) if sel is None else None
    if truth is not None:  # independent of either: the plain sum of the known readings
        assert stepped.total_s == pytest.approx(truth, rel=1e-12)
