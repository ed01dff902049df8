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


@pytest.mark.parametrize("shuffled", [False, True])
def test_a_playhead_curve_equals_the_buckets_of_the_probes_before_it(monkeypatch: pytest.MonkeyPatch, shuffled: bool) -> None:
    """Against the full computation: each column the lowest and highest lag of the probes before the playhead in
    its buckets, the bucket the playhead cuts one more column; probes out of time order read only by the chunks
    of rows that can hold that bucket's (it was a pass over every probe at each frame)."""
    from pyrometer.core.analysis import probe_rows

    monkeypatch.setattr(probe_rows, "CHUNK_ROWS", 256)
    p = Profile()
    rng = np.random.default_rng(21)
    t = np.arange(0.0, 1000.0, 0.01)
    if shuffled:
        t = t + rng.uniform(-0.2, 0.2, len(t))  # batches overlapping a little
    v = rng.lognormal(-7.0, 1.0, len(t)).astype(np.float32)
    p.add_lag(t, np.zeros(len(t), np.int32), v)
    index = lod.lag_index(p)
    assert index.sorted is not shuffled
    bw = index.width
    read: list[int] = []
    real = probe_rows.ProbeTimeRanges.rows_between
    monkeypatch.setattr(probe_rows.ProbeTimeRanges, "rows_between", lambda self, *a: read.append(len(r := real(self, *a))) or r)
    for t1, x0, pixels in ((617.3, 0.0, 500), (bw * 4000, 0.0, 300), (999.0, 250.0, 700), (12.345, 0.0, 100)):
        ct, cv = lag_curve(p, x0, 1000.0, pixels, t1)
        cut = int(t1 / bw)
        i0, i1 = int(x0 / bw), min(cut, int(np.ceil(t1 / bw)))
        k = max(1, (i1 - i0) // pixels)
        keep = t < t1
        tb, vb = t[keep], v[keep].astype(np.float64)
        bucket = np.clip((tb / bw).astype(np.int64), 0, lod.BASE_BUCKETS - 1)  # as the index buckets them
        want_t, want_v = [], []
        for s in range(i0, i1, k):
            inside = (bucket >= s) & (bucket < min(s + k, i1))
            if inside.any():
                mid = (s + min(k, i1 - s) / 2) * bw
                want_t += [mid, mid]
                want_v += [float(vb[inside].min()), float(vb[inside].max())]
        tail = bucket >= cut
        if tail.any():
            mid = (float(tb[tail].min()) + float(tb[tail].max())) / 2
            want_t += [mid, mid]
            want_v += [float(vb[tail].min()), float(vb[tail].max())]
        assert ct.tolist() == pytest.approx(want_t, rel=1e-12) and cv.tolist() == want_v, t1
    if shuffled:  # only the rows near the playhead were read
        assert read and max(read) <= 2 * bw / 0.01 + 100
