"""Stack sums of a growing profile are kept incrementally and equal a fresh sum every time."""

from __future__ import annotations

import numpy as np

from pyrometer.core.analysis.aggregate import stack_sums
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.model import Profile


def _grow(p: Profile, rng: np.random.Generator, t0: float, n: int) -> None:
    """Append n samples over new and existing stacks (new stacks are defined as it grows)."""
    f = p.intern_frame(f"f{len(p.stacks)}", "/x.py", len(p.stacks))
    p.intern_stack_path([f])
    stacks = rng.integers(-1, len(p.stacks), n)
    p.add_samples(t0 + np.sort(rng.random(n)), rng.integers(0, 3, n), stacks, weight=rng.random(n))


def _fresh(p: Profile, sel: Selection | None) -> tuple[np.ndarray, np.ndarray]:
    """The same sums computed from nothing (a copy of the samples, no cache)."""
    q = Profile()
    q.stacks = p.stacks
    s = p.samples
    q.add_samples(s["time"], s["thread"], s["stack"], weight=s["weight"])
    return stack_sums(q, sel)


def test_live_growth_playhead_and_reorder_match_a_fresh_sum() -> None:
    rng = np.random.default_rng(7)
    p = Profile()
    t = 0.0
    for step in range(12):
        _grow(p, rng, t, int(rng.integers(1, 400)))
        t += 1.0
        for sel in (None, Selection(None, t * rng.random()), Selection(0.3, None)):
            w, c = stack_sums(p, sel)
            fw, fc = _fresh(p, sel)
            assert np.allclose(w, fw, rtol=1e-12, atol=1e-9), (step, sel)
            assert np.array_equal(c, fc), (step, sel)
    assert "stack_sums" in p.cache  # the incremental path was taken
    # out-of-order samples then finish(): rows are reordered, the kept sums must not survive
    p.add_samples(np.array([0.5]), np.array([0]), np.array([0]), weight=np.array([100.0]))
    p.finish()
    assert "stack_sums" not in p.cache
    w, _ = stack_sums(p, Selection(None, 1.0))
    fw, _ = _fresh(p, Selection(None, 1.0))
    assert np.allclose(w, fw)
