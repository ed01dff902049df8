"""A replay's [0, playhead] lag figures from the value-sorted prefix structure equal a full computation.

Each playhead used to read every probe before it (150-290 ms a frame at a day's 7.5M probes); the
LagPrefix answers from counts per block. Checked against _stats_of over the probes lag_values
returns (np.percentile, np.histogram's bins, the mean), with ties, zeros, negative lags (left out of
the histogram as before), block edges and playheads before the first and after the last probe.
"""

from __future__ import annotations

import numpy as np
import pytest

from pyrometer.core.analysis import loop as loop_module
from pyrometer.core.analysis.loop import _stats_of, lag_prefix, lag_stats, lag_values
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.model import Profile


def _profile(n: int, seed: int) -> Profile:
    rng = np.random.default_rng(seed)
    p = Profile()
    times = np.cumsum(rng.uniform(0.0, 0.02, n))
    lag = rng.lognormal(-7.0, 1.5, n).astype(np.float32)
    lag[rng.integers(0, n, n // 20)] = 0.0  # ties at zero
    lag[rng.integers(0, n, n // 50)] = np.float32(0.002)  # ties on a histogram edge
    lag[rng.integers(0, n, 5)] = -1e-6  # clock noise: out of the histogram, in the percentiles
    lag[rng.integers(0, n, 3)] = rng.uniform(12.0, 40.0, 3)  # stalls past the last fixed edge
    p.add_lag(times, np.zeros(n, np.int32), lag)
    return p


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_prefix_figures_equal_the_full_computation(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    monkeypatch.setattr(loop_module, "PREFIX_BLOCK", 1024)  # many blocks over a small profile
    monkeypatch.setattr(loop_module, "PREFIX_FROM", 1000)
    p = _profile(20_000 + 37 * seed, seed)
    assert lag_prefix(p, build=False) is None  # a one-off query reads the probes; a window's warm-up builds it
    assert lag_prefix(p) is not None and lag_prefix(p, build=False) is lag_prefix(p)
    times = p.lag["time"]
    playheads = [times[0] - 1.0, times[0], times[1], times[1023], times[1024], times[1025], *np.quantile(times, [0.1, 0.5, 0.9]),
                 times[-1], times[-1] + 1.0]
    for t1 in playheads:
        sel = Selection(t1=float(t1))
        fast = lag_stats(p, sel)
        full = _stats_of(lag_values(p, sel)[1], own=False)
        assert fast.probes == full.probes
        assert (fast.p50, fast.p95, fast.p99, fast.max) == (full.p50, full.p95, full.p99, full.max), t1
        assert np.array_equal(fast.hist_edges, full.hist_edges)
        assert np.array_equal(fast.hist_counts, full.hist_counts), t1
        assert fast.mean == pytest.approx(full.mean, rel=1e-12, abs=1e-15)


def test_few_or_not_finite_probes_take_the_direct_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loop_module, "PREFIX_FROM", 1000)
    assert lag_prefix(_profile(999, 0)) is None  # few: reading them is quick
    q = _profile(2000, 2)
    q.lag["lag"][7] = np.nan
    assert lag_prefix(q) is None
    full = _stats_of(lag_values(q, Selection(t1=5.0))[1], own=False)
    assert lag_stats(q, Selection(t1=5.0)).probes == full.probes


def test_a_grown_table_is_sorted_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loop_module, "PREFIX_FROM", 1000)
    monkeypatch.setattr(loop_module, "PREFIX_BLOCK", 256)
    p = _profile(3000, 3)
    first = lag_prefix(p)
    end = float(p.lag["time"][-1])
    p.add_lag(np.array([end + 0.1, end + 0.2]), np.zeros(2, np.int32), np.array([9.0, 0.5], np.float32))
    assert lag_prefix(p, build=False) is None  # stale: not used
    second = lag_prefix(p)
    assert second is not None and second is not first and second.n == 3002
    fast, full = lag_stats(p, Selection(t1=end + 1.0)), _stats_of(lag_values(p, Selection(t1=end + 1.0))[1], own=False)
    assert (fast.probes, fast.p50, fast.p99, fast.max) == (full.probes, full.p50, full.p99, full.max) and fast.probes == 3002


def test_probes_out_of_time_order_are_put_in_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """An agent's batches from several loops arrive a little out of order: the prefix sorts them once, stably
    (lag_values sorted them at every playhead), and answers as the full computation does."""
    monkeypatch.setattr(loop_module, "PREFIX_FROM", 1000)
    monkeypatch.setattr(loop_module, "PREFIX_BLOCK", 512)
    rng = np.random.default_rng(7)
    p = _profile(6000, 4)
    times = p.lag["time"]
    late = rng.uniform(times[0], times[-1], 800)
    late[:10] = times[100]  # ties in time with probes already there
    p.add_lag(late, np.ones(800, np.int32), rng.lognormal(-6.0, 1.0, 800).astype(np.float32))
    prefix = lag_prefix(p)
    assert prefix is not None and not prefix.in_time_order and lag_prefix(p, build=False) is prefix
    for t1 in [*np.quantile(p.lag["time"], [0.0, 0.05, 0.33, 0.5, 0.77, 1.0]), float(times[100]), float(times[-1]) + 1]:
        sel = Selection(t1=float(t1))
        fast, full = lag_stats(p, sel), _stats_of(lag_values(p, sel)[1], own=False)
        assert (fast.probes, fast.p50, fast.p95, fast.p99, fast.max) == (full.probes, full.p50, full.p95, full.p99, full.max), t1
        assert np.array_equal(fast.hist_counts, full.hist_counts)
        assert fast.mean == pytest.approx(full.mean, rel=1e-12, abs=1e-15)


def test_histogram_edges_compare_exactly_in_float32() -> None:
    """Edges are float64 and the sorted probes float32: the keys are rounded to float32 (numpy converted all
    7.5M probes to float64 at each call instead) up for "left" and down for "right", so the counts stay exact."""
    from pyrometer.core.analysis.loop import exact_keys

    f32 = np.float32
    around = [f32(0.001), np.nextafter(f32(0.001), f32(1)), np.nextafter(f32(0.001), f32(0)), f32(0.002), f32(0.1), f32(20.0)]
    values = np.sort(np.array([*around, f32(1e-4), f32(5e-3), f32(0.0)], np.float32))
    keys = np.array([0.001, 0.002, 0.1, 1e-4, 5e-3, 20.0, 0.0, float(f32(0.001)), 0.0010000000474974513 + 1e-17, 3.0e38 * 1.1])
    assert any(float(f32(k)) != k for k in keys)  # keys between two float32 values are what is checked
    for side in ("left", "right"):
        fast = np.searchsorted(values, exact_keys(keys, values.dtype, side), side=side)  # type: ignore[call-overload]
        full = np.searchsorted(values.astype(np.float64), keys, side=side)  # type: ignore[call-overload]
        assert fast.tolist() == full.tolist(), side
        assert exact_keys(keys, values.dtype, side).dtype == np.float32
    assert exact_keys(keys, np.dtype(np.float64), "left") is keys


@pytest.mark.parametrize("shuffle", [False, True])
def test_every_playhead_of_a_small_profile_equals_the_full_computation(monkeypatch: pytest.MonkeyPatch, shuffle: bool) -> None:
    """Each r: the counts of whole time blocks plus the probes since (their value block found by (value, rank),
    ties at a block's first value included), probes in time order or a little out of it (rows read by chunk)."""
    from pyrometer.core.analysis import probe_rows

    monkeypatch.setattr(loop_module, "PREFIX_BLOCK", 64)
    monkeypatch.setattr(loop_module, "PREFIX_FROM", 100)
    monkeypatch.setattr(probe_rows, "CHUNK_ROWS", 16)
    rng = np.random.default_rng(11)
    n = 1500
    p = Profile()
    times = np.cumsum(rng.uniform(0.0, 0.01, n))
    if shuffle:  # batches that overlap a little, as an agent's of several loops
        times = times + rng.uniform(-0.03, 0.03, n)
    lag = rng.choice(np.array([0.0, 0.001, 0.002, 0.5], np.float32), n)  # many ties across value blocks
    lag[::7] = rng.lognormal(-6.0, 1.0, len(lag[::7])).astype(np.float32)
    p.add_lag(times, np.zeros(n, np.int32), lag)
    prefix = lag_prefix(p)
    assert prefix is not None and prefix.in_time_order is (not shuffle)
    for t1 in np.concatenate((np.sort(times)[::7], np.sort(times)[::11] + 1e-4)):
        sel = Selection(t1=float(t1))
        fast, full = lag_stats(p, sel), _stats_of(lag_values(p, sel)[1], own=False)
        assert (fast.probes, fast.p50, fast.p95, fast.p99, fast.max) == (full.probes, full.p50, full.p95, full.p99, full.max), t1
        assert np.array_equal(fast.hist_counts, full.hist_counts), t1
