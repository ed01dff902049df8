"""activity_runs (timeline lanes) extended batch by batch equals a plain per-sample computation."""

from __future__ import annotations

import numpy as np
import pytest

from pyrometer.core.analysis.spans import TYPICAL_GAPS, activity_runs
from pyrometer.core.model import UNIT_SAMPLES, UNIT_SECONDS, Profile


def level(cpu: float, span: float) -> int:
    """2 on CPU (>= 3/4 of the span, or unknown), 1 partly (>= 3/20), 0 waiting: the timeline's three colours."""
    if cpu < 0:
        return 2
    share = cpu / max(span, 1e-12)
    return 2 if share >= 0.75 else 1 if share >= 0.15 else 0


def reference_runs(profile: Profile, thread: int, t1: float | None) -> tuple[list[float], list[float], list[int]]:
    """The definition, one sample at a time (no numpy tricks, no cache)."""
    s = profile.samples
    keep = s["thread"] == thread
    if t1 is not None:
        keep &= s["time"] < t1
    t = s["time"][keep].astype(np.float64).tolist()
    cpu = s["cpu"][keep].astype(np.float64).tolist()
    weight = s["weight"][keep].astype(np.float64).tolist()
    if not t:
        return [], [], []
    gaps = np.diff(np.asarray(t[: TYPICAL_GAPS + 1]))
    gap = float(np.median(gaps)) if len(gaps) else 0.01
    gap = gap if gap > 0 else 0.001
    on = []
    for i in range(len(t)):
        if profile.unit == UNIT_SECONDS:
            span = weight[i]
        else:
            span = t[i + 1] - t[i] if i + 1 < len(t) else gap
        on.append(level(cpu[i], span))
    ends = [min(t[i + 1], t[i] + 3 * gap) for i in range(len(t) - 1)] + [t[-1] + gap]
    starts, widths, states = [], [], []
    first = 0
    for i in range(1, len(t) + 1):
        if i == len(t) or on[i] != on[i - 1] or t[i] > ends[i - 1] + 1e-12:
            starts.append(t[first])
            widths.append(ends[i - 1] - t[first])
            states.append(on[first])
            first = i
    return starts, widths, states


def _batch(rng: np.random.Generator, t0: float, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Three threads; sometimes a long gap (not sampled); CPU unknown, on, partly on or off in bursts."""
    gaps = rng.uniform(0.0008, 0.0012, n)
    gaps[rng.random(n) < 0.01] = 0.02
    t = t0 + np.cumsum(gaps)
    threads = rng.integers(1, 4, n).astype(np.int32)
    state = np.repeat(rng.integers(0, 4, n // 20 + 1), 20)[:n]  # runs of ~20 samples in one state
    cpu = np.choose(state, [-1.0, 0.0, 0.004, 0.0014]).astype(np.float32)
    return t, threads, cpu, np.full(n, 0.003, np.float32)


@pytest.mark.parametrize("unit", [UNIT_SECONDS, UNIT_SAMPLES])
def test_runs_extended_by_appends_match_the_definition(unit: str) -> None:
    rng = np.random.default_rng(11)
    p = Profile(unit=unit)
    s = p.intern_stack_path([p.intern_frame("work", "/srv/app.py", 3, 1)])
    t_next = 0.0
    # the first batches stay under the typical-gap window, later ones cross it, then small tails
    for size in (500, 3000, 4000, 1, 2, 3, 250, 7000, 5):
        t, th, cpu, w = _batch(rng, t_next, size)
        t_next = float(t[-1])
        p.add_samples(t, th, np.full(size, s), weight=w, cpu=cpu)
        for thread in (1, 2, 3, 9):
            for t1 in (None, t_next * 0.37, t_next * 0.9, float(t[-2]) if size > 1 else None):
                got = activity_runs(p, thread, t1)
                want = reference_runs(p, thread, t1)
                assert got[0].tolist() == want[0], (size, thread, t1)
                assert got[1].tolist() == want[1], (size, thread, t1)
                assert got[2].tolist() == want[2], (size, thread, t1)
    assert len(activity_runs(p, 1)[0]) > 100  # the states really alternate: many runs to get right


def test_runs_follow_a_resorted_profile() -> None:
    """finish() may reorder the samples: runs built before must be rebuilt, not extended."""
    p = Profile(unit=UNIT_SECONDS)
    s = p.intern_stack_path([p.intern_frame("work", "/srv/app.py", 3, 1)])
    n = TYPICAL_GAPS + 600
    t = np.arange(n) * 0.001
    p.add_samples(t, np.ones(n, np.int32), np.full(n, s), weight=0.001, cpu=np.full(n, 0.001, np.float32))
    assert activity_runs(p, 1)[2].tolist() == [2]
    late = np.arange(50) * 0.001 + 0.5 + 0.0005  # out of order, off CPU
    p.add_samples(late, np.ones(50, np.int32), np.full(50, s), weight=0.001, cpu=np.zeros(50, np.float32))
    p.finish()
    got = activity_runs(p, 1)
    want = reference_runs(p, 1, None)
    assert got[0].tolist() == want[0] and got[2].tolist() == want[2]
    assert len(want[0]) > 3


def test_far_apart_thread_ids_are_indexed_too() -> None:
    """Thread ids more than 2**16 apart take the general sort; the runs are the same."""
    rng = np.random.default_rng(3)
    p = Profile(unit=UNIT_SECONDS)
    s = p.intern_stack_path([p.intern_frame("work", "/srv/app.py", 3, 1)])
    t_next = 0.0
    for size in (3000, 2500, 40):
        t, th, cpu, w = _batch(rng, t_next, size)
        t_next = float(t[-1])
        p.add_samples(t, np.where(th == 1, 7, 2_000_000_000).astype(np.int32), np.full(size, s), weight=w, cpu=cpu)
        for thread in (7, 2_000_000_000):
            got = activity_runs(p, thread)
            want = reference_runs(p, thread, None)
            assert got[0].tolist() == want[0] and got[2].tolist() == want[2]
            assert len(want[0]) > 0
