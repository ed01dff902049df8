"""Range re-aggregation from the chunk index equals summing every sample of the range, clipped at its edges.

The truth here is computed independently of the analysis code: per sample, the
overlap of its span with the range, summed per stack with plain numpy.
"""

from __future__ import annotations

import numpy as np
import pytest

from pyrometer.core.analysis import chunk_sums as chunk_module
from pyrometer.core.analysis.aggregate import stack_sums
from pyrometer.core.analysis.calltree import call_tree
from pyrometer.core.analysis.chunk_sums import chunk_sums
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.model import Profile


def _profile(n: int, seed: int, agent: bool) -> Profile:
    """Samples of 3 threads over 40 stacks; weights vary (an idle sampler backs off to 100 ms)."""
    rng = np.random.default_rng(seed)
    p = Profile()
    if agent:
        p.meta["agent_version"] = "test"  # a sample's time ends its span
    frames = [p.intern_frame(f"f{i}", "/a.py", i) for i in range(12)]
    stacks = [p.intern_stack_path([frames[j] for j in rng.integers(0, 12, 1 + i % 5)]) for i in range(40)]
    t = np.cumsum(rng.uniform(0.0005, 0.004, n))
    weight = np.where(rng.random(n) < 0.05, 0.1, 0.01).astype(np.float32)
    weight[rng.random(n) < 0.01] = 0.0  # a few points
    stack = np.asarray(stacks, np.int32)[rng.integers(0, 40, n)]
    stack[rng.random(n) < 0.02] = -1
    p.add_samples(t, rng.integers(0, 3, n), stack, weight=weight)
    p.finish()
    return p


def _truth(p: Profile, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
    """Per stack (shifted by one): the summed overlap of each sample's span with [t0, t1), and how many overlap."""
    t = p.samples["time"].astype(np.float64)
    w = p.samples["weight"].astype(np.float64)
    start, end = (t - w, t) if p.samples_end_spans else (t, t + w)
    overlap = np.minimum(end, t1) - np.maximum(start, t0)
    point = (w == 0) & (t >= t0) & (t < t1)
    keep = (overlap > 0) | point
    s = p.samples["stack"].astype(np.int64)[keep] + 1
    n = len(p.stacks) + 1
    return np.bincount(s, weights=np.clip(overlap[keep], 0, None), minlength=n), np.bincount(s, minlength=n)


@pytest.mark.parametrize("agent", [True, False])
def test_ranges_agree_with_every_sample_summed(agent: bool) -> None:
    p = _profile(300_000, 3, agent)
    span = float(p.samples["time"][-1])
    rng = np.random.default_rng(5)
    ranges = [(span * a, span * b) for a, b in np.sort(rng.random((25, 2)), axis=1)] + [(0.0, span), (0.0, 0.3), (span * 0.2, span * 2)]
    for t0, t1 in ranges:
        weight, count = stack_sums(p, Selection(t0, t1))
        tw, tc = _truth(p, t0, t1)
        assert np.allclose(weight, tw, rtol=1e-9, atol=1e-9), (t0, t1)
        assert np.array_equal(count, tc), (t0, t1)
    assert "chunk_sums" in p.cache  # the index answered (ranges span many chunks)
    # and the call tree on top of it: its total is the range's clipped weight
    tree = call_tree(p, Selection(span * 0.1, span * 0.9))
    assert tree.total_weight[0] == pytest.approx(_truth(p, span * 0.1, span * 0.9)[0].sum(), rel=1e-9)


def test_index_grows_with_a_live_profile_and_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Live growth adds rows for new whole chunks; past its budget the index halves its rows, still exact."""
    monkeypatch.setattr(chunk_module, "MIN_BYTES", 40 * 16 * 12)  # about 12 rows of 41 stacks
    monkeypatch.setattr(chunk_module, "MEMORY_SHARE", 0.0)
    full = _profile(400_000, 9, True)
    p = Profile()
    p.meta = dict(full.meta)
    p.frames, p.func_name, p.func_file, p.func_line = full.frames, full.func_name, full.func_file, full.func_line
    p.stacks = full.stacks
    s = full.samples
    sizes = []
    for lo in range(0, len(s), 50_000):
        hi = lo + 50_000
        p.add_samples(s["time"][lo:hi], s["thread"][lo:hi], s["stack"][lo:hi], weight=s["weight"][lo:hi])
        span = float(p.samples["time"][-1])
        t0, t1 = span * 0.05, span * 0.95
        weight, count = stack_sums(p, Selection(t0, t1))
        tw, tc = _truth(p, t0, t1)
        assert np.allclose(weight, tw, rtol=1e-9, atol=1e-9)
        assert np.array_equal(count, tc)
        index = chunk_sums(p)
        sizes.append(index.size)
        assert len(index.weight) <= 13
    assert sizes[-1] > sizes[0]  # it coarsened as the session grew


def test_unclipped_slices_use_the_index() -> None:
    """Sample-count profiles (no time edges to cut): a range is a slice of rows, summed from the index."""
    p = _profile(200_000, 4, False)
    p.unit = "samples"
    span = float(p.samples["time"][-1])
    t0, t1 = span * 0.3, span * 0.8
    weight, count = stack_sums(p, Selection(t0, t1))
    t = p.samples["time"]
    keep = (t >= t0) & (t < t1)
    s = p.samples["stack"].astype(np.int64)[keep] + 1
    tw = np.bincount(s, weights=p.samples["weight"][keep].astype(np.float64), minlength=len(p.stacks) + 1)
    assert np.allclose(weight, tw, rtol=1e-9)
    assert np.array_equal(count, np.rint(tw).astype(np.int64))
