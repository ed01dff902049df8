"""The lag curve under a replay playhead comes from the index's buckets (it read every probe before the playhead
at each frame: millions at 30M samples), and still shows every spike before the playhead and none after it."""

from __future__ import annotations

import numpy as np
import pytest

from pyrometer.core.analysis import lod
from pyrometer.core.analysis.lod import lag_curve
from pyrometer.core.model import Profile


def _profile() -> tuple[Profile, dict[float, float]]:
    p = Profile()
    t = np.arange(0.0, 1000.0, 0.005)  # 200k probes, 1000 s
    rng = np.random.default_rng(4)
    v = rng.uniform(0.0005, 0.002, len(t)).astype(np.float32)
    spikes = {100.0: 3.0, 400.0: 4.0, 617.2: 5.0, 617.295: 2.5}  # the last two in the bucket the playhead cuts
    for at, lag in spikes.items():
        v[round(at / 0.005)] = lag
    v[t >= 617.3] = np.where(rng.random(int((t >= 617.3).sum())) < 0.01, 9.0, v[t >= 617.3])  # the future
    p.add_lag(t, np.zeros(len(t), np.int32), v)
    return p, spikes


def test_a_playhead_curve_keeps_every_spike_before_it_and_none_after() -> None:
    p, spikes = _profile()
    t1 = 617.3
    ct, cv = lag_curve(p, 0.0, 1000.0, 500, t1)
    index = lod.lag_index(p)
    assert index.sorted and len(ct) < 4 * 500 + 4  # summarised, not every probe
    assert bool((ct <= t1).all()) and 9.0 not in cv.tolist()
    for lag in spikes.values():
        assert np.float32(lag) in cv.astype(np.float32).tolist(), lag
    before = p.lag["lag"][p.lag["time"] < t1].astype(np.float64)
    assert float(cv.max()) == float(before.max()) and float(cv.min()) == float(before.min())


def test_a_playhead_on_a_bucket_edge_and_at_the_start() -> None:
    p, _ = _profile()
    bw = lod.lag_index(p).width
    for t1 in (bw * 5000, bw * 5000 + 1e-9, 3.0, 999.999):
        ct, cv = lag_curve(p, 0.0, 1000.0, 400, t1)
        before = p.lag["lag"][p.lag["time"] < t1].astype(np.float64)
        assert bool((ct <= t1).all())
        assert float(cv.max()) == float(before.max()) and float(cv.min()) == float(before.min()), t1


def test_probes_a_little_out_of_time_order_take_the_buckets_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """An agent's batches of several loops arrive a little out of order: the curve under a playhead came from
    argsorting the probes in view at every frame; it now comes from the buckets, with the same spikes."""
    p, spikes = _profile()
    rng = np.random.default_rng(9)
    late_t = np.sort(rng.uniform(0.0, 1000.0, 2000))
    late_v = rng.uniform(0.0005, 0.002, 2000).astype(np.float32)
    late_v[np.argmin(np.abs(late_t - 617.25))] = 6.5  # a late probe's spike in the bucket the playhead cuts
    late_t[np.argmin(np.abs(late_t - 617.25))] = 617.25
    p.add_lag(late_t, np.ones(2000, np.int32), late_v)
    index = lod.lag_index(p)
    assert not index.sorted
    calls: list[float] = []
    real = lod._bucket_curve_until
    monkeypatch.setattr(lod, "_bucket_curve_until", lambda *a: calls.append(a[4]) or real(*a))
    for t1 in (617.3, 250.0, 999.999):
        ct, cv = lag_curve(p, 0.0, 1000.0, 500, t1)
        assert len(ct) < 4 * 500 + 4  # summarised
        before = p.lag["lag"][p.lag["time"] < t1].astype(np.float64)
        assert bool((ct <= t1).all())
        assert float(cv.max()) == float(before.max()) and float(cv.min()) == float(before.min()), t1
    assert calls == [617.3, 250.0, 999.999]  # from the buckets, not by sorting the probes in view
    ct, cv = lag_curve(p, 0.0, 1000.0, 500, 617.3)
    for lag in (spikes[100.0], spikes[400.0], 6.5):  # (6.5 is the highest of the cut bucket: its column's top)
        assert np.float32(lag) in cv.astype(np.float32).tolist(), lag
