"""thread_activity on a live (growing) profile equals a fresh computation after every append."""

from __future__ import annotations

import numpy as np

from pyrometer.core.analysis.selection import Selection
from pyrometer.core.analysis.spans import stack_chart, thread_activity
from pyrometer.core.model import UNIT_SAMPLES, UNIT_SECONDS, Profile


def _batch(rng: np.random.Generator, t0: float, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    t = t0 + np.cumsum(rng.uniform(0.0005, 0.003, n))
    threads = rng.integers(1, 4, n).astype(np.int32)
    cpu = np.where(rng.random(n) < 0.5, 0.004, 0.0).astype(np.float32)
    return t, threads, cpu, rng.uniform(0.001, 0.003, n).astype(np.float32)


def _profile(unit: str) -> tuple[Profile, int]:
    p = Profile(unit=unit)
    f = p.intern_frame("work", "/srv/app.py", 3, 1)
    return p, p.intern_stack_path([f])


def test_growing_profile_matches_fresh() -> None:
    for unit in (UNIT_SECONDS, UNIT_SAMPLES):
        rng = np.random.default_rng(7)
        live, s = _profile(unit)
        t_next = 0.0
        for step in range(6):
            t, th, cpu, w = _batch(rng, t_next, 50 + 40 * step)
            t_next = float(t[-1])
            live.add_samples(t, th, np.full(len(t), s), weight=w, cpu=cpu)
            fresh, s2 = _profile(unit)
            n = len(live.samples)
            fresh.add_samples(
                live.samples["time"][:n], live.samples["thread"][:n], np.full(n, s2),
                weight=live.samples["weight"][:n], cpu=live.samples["cpu"][:n],
            )
            for thread in (1, 2, 3, 9):
                for sel in (None, Selection(t1=t_next / 2), Selection(t0=t_next / 3, t1=t_next * 0.9)):
                    a_t, a_on = thread_activity(live, thread, sel)
                    b_t, b_on = thread_activity(fresh, thread, sel)
                    assert np.array_equal(a_t, b_t) and np.array_equal(a_on, b_on)
                    assert np.array_equal(stack_chart(live, thread, sel).start, stack_chart(fresh, thread, sel).start)
            assert len(thread_activity(live, 1)[0]) == int(np.count_nonzero(live.samples["thread"][:n] == 1))


def test_resorted_profile_is_reindexed() -> None:
    """finish() may reorder the sample table: the per-thread index must not survive that."""
    p, s = _profile(UNIT_SECONDS)
    p.add_samples(np.array([0.1, 0.2, 0.3]), np.array([1, 2, 1], np.int32), np.full(3, s), weight=0.01)
    assert thread_activity(p, 1)[0].tolist() == [0.1, 0.3]
    p.add_samples(np.array([0.05, 0.25]), np.array([2, 1], np.int32), np.full(2, s), weight=0.01)  # out of order
    p.finish()
    assert thread_activity(p, 1)[0].tolist() == [0.1, 0.25, 0.3]
    assert thread_activity(p, 2)[0].tolist() == [0.05, 0.2]
