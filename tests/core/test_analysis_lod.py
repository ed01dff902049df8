"""Level-of-detail summaries (timeline lanes, stack chart, lag curve) agree with the full data.

Each summary is checked against the samples themselves, counted with plain
numpy here, and against the exact per-sample layouts the panes drew before
(spans.activity_runs, spans.stack_chart) where the view is small enough to be exact.
"""

from __future__ import annotations

import numpy as np
import pytest
from lod_profile import agent_like_profile

from pyrometer.core.analysis import lod
from pyrometer.core.analysis.lod import (
    ActivityIndex,
    activity_boxes,
    activity_index,
    lag_curve,
    stack_chart_view,
)
from pyrometer.core.analysis.spans import activity_runs, stack_chart
from pyrometer.core.model import Profile


def _direct_counts(p: Profile, index: ActivityIndex) -> tuple[np.ndarray, np.ndarray]:
    """Per (thread row, bucket): samples and their summed on-CPU share, counted from the columns here."""
    t = p.samples["time"].astype(np.float64)
    w = p.samples["weight"].astype(np.float64)
    start = np.maximum(t - w, 0.0)
    cpu = p.samples["cpu"]
    share = np.where(cpu < 0, 1.0, np.clip(cpu / w, 0.0, 1.0))
    b = np.minimum(np.floor(start / index.width).astype(np.int64), index.buckets - 1)
    count = np.zeros_like(index.count)
    on_count = np.zeros_like(index.on)
    for tid, row in index.rows.items():
        mine = p.samples["thread"] == tid
        count[row] = np.bincount(b[mine], minlength=index.buckets)
        on_count[row] = np.bincount(b[mine], weights=share[mine], minlength=index.buckets)
    return count, on_count


def test_activity_index_counts_every_sample_in_its_bucket() -> None:
    p = agent_like_profile(60_000)
    index = activity_index(p)
    count, on_count = _direct_counts(p, index)
    assert np.array_equal(index.count, count)
    assert np.allclose(index.on, on_count, rtol=1e-5, atol=1e-3)
    assert index.count.sum() == p.sample_count


def test_activity_index_grows_live_and_coarsens(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fed in batches (a live session) past its bucket capacity, it equals counting everything at the end."""
    monkeypatch.setattr(lod, "BASE_BUCKETS", 256)
    full = agent_like_profile(30_000, seed=4)
    p = Profile()
    p.meta = dict(full.meta)
    p.frames, p.func_name, p.func_file, p.func_line, p.stacks = full.frames, full.func_name, full.func_file, full.func_line, full.stacks
    s = full.samples
    widths = []
    for lo in range(0, len(s), 997):
        hi = lo + 997
        p.add_samples(s["time"][lo:hi], s["thread"][lo:hi], s["stack"][lo:hi], weight=s["weight"][lo:hi], cpu=s["cpu"][lo:hi])
        index = activity_index(p)
        widths.append(index.width)
        assert index.count.sum() == p.sample_count
    assert widths[-1] > widths[0]  # it doubled its buckets' width as the session outgrew them
    count, on_count = _direct_counts(p, index)
    assert np.array_equal(index.count, count)
    assert np.allclose(index.on, on_count, rtol=1e-5, atol=1e-3)
    assert index.count.shape[1] == 256


def test_lanes_in_a_small_view_are_the_exact_runs() -> None:
    p = agent_like_profile(9_000)
    end = float(p.samples["time"][-1]) + 1
    for tid in range(3):
        boxes = activity_boxes(p, tid, 0.0, end, 1500)
        x, w, on = activity_runs(p, tid)
        assert boxes.exact
        assert np.allclose(boxes.start, x) and np.allclose(boxes.width, w) and np.array_equal(boxes.on, on)


def test_lanes_of_a_big_view_are_bucket_columns_at_their_mean_cpu_level(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past EXACT_ROWS samples in view, a column's level is its samples' mean on-CPU share (3/4: on, 3/20: partly)."""
    monkeypatch.setattr(lod, "EXACT_ROWS", 1000)
    p = agent_like_profile(60_000)
    index = activity_index(p)
    end = float(p.samples["time"][-1]) + 0.02
    boxes = activity_boxes(p, 1, 0.0, end, 300)
    assert not boxes.exact
    assert 1 < len(boxes.start) < 600  # a few hundred columns, merged where they agree
    row = index.rows[1]
    for x, w, on in zip(boxes.start.tolist(), boxes.width.tolist(), boxes.on.tolist(), strict=True):
        i0 = round(x / index.width)
        i1 = round((x + w) / index.width)
        c = index.count[row, i0:i1]
        assert c.sum() > 0
        # each merged column is in that state: columns of k buckets, on CPU iff 2 x on >= count
        k = max(1, int(np.ceil(end / index.width)) // 300)
        for a in range(i0, i1, k):
            cc, oo = index.count[row, a : a + k].sum(), index.on[row, a : a + k].sum()
            if cc:
                share = oo / cc
                assert (2 if share >= 0.75 else 1 if share >= 0.15 else 0) == on


def test_stack_chart_view_of_few_samples_is_exact() -> None:
    p = agent_like_profile(6_000)
    end = float(p.samples["time"][-1]) + 1
    views = stack_chart_view(p, [0, 1, 2], 0.0, end, 1200)
    for tid, got in zip([0, 1, 2], views, strict=True):
        want = stack_chart(p, tid)
        assert got.exact
        assert np.allclose(got.start, want.start) and np.allclose(got.end, want.end)
        assert np.array_equal(got.depth, want.depth) and np.array_equal(got.func, want.func)


def test_stack_chart_view_of_many_samples_shows_each_column_first_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    """Summarised: per column, the spans at a point are the function path of that thread's first sample there."""
    monkeypatch.setattr(lod, "EXACT_ROWS", 100)
    p = agent_like_profile(30_000)
    end = float(p.samples["time"][-1])
    pixels = 200
    (got,) = stack_chart_view(p, [2], 0.0, end, pixels)
    assert not got.exact
    edges = np.linspace(0.0, end, pixels + 1)
    t = p.samples["time"]
    mine = np.flatnonzero(p.samples["thread"] == 2)
    for col in (0, 17, 99, 150, 199):
        a, b = edges[col], edges[col + 1]
        first = mine[np.searchsorted(t[mine], a)]
        assert t[first] < b
        want = [p.frame_func(f) for f in p.stack_frames(int(p.samples["stack"][first]))]
        mid = (a + b) / 2
        here = (got.start <= mid) & (got.end > mid)
        assert [int(f) for f in got.func[here][np.argsort(got.depth[here])]] == want


def test_lag_curve_keeps_every_peak() -> None:
    """Summarised per column, the curve's highest and lowest points are the probes' in view."""
    p = agent_like_profile(120_000)
    t, v = p.lag["time"], p.lag["lag"].astype(np.float64)
    end = float(t[-1])
    for x0, x1, px in ((0.0, end, 300), (end * 0.2, end * 0.3, 100), (end * 0.5, end * 0.5 + 0.5, 400)):
        ct, cv = lag_curve(p, x0, x1, px)
        inside = (t >= x0) & (t < x1)
        # a column may reach one column (or one probe) past the view's edges, never further
        slack = (x1 - x0) / px * 2 + 0.02
        near = (t >= x0 - slack) & (t < x1 + slack)
        assert len(ct) <= 4 * px + 2
        assert v[inside].max() <= cv.max() <= v[near].max()
        assert v[near].min() <= cv.min() <= v[inside].min()
        assert set(cv.tolist()) <= set(v[near].tolist())  # every point drawn is a real probe's lag


def test_lag_curve_of_probes_slightly_out_of_order_stays_summarised() -> None:
    """Recordings hold a few probes out of time order (batches of the agent): still a few points a pixel."""
    p = agent_like_profile(120_000)
    times = p.lag["time"]
    times[[1000, 1001]] = times[[1001, 1000]]  # two probes swapped, as a real 10M recording has
    v = p.lag["lag"].astype(np.float64)
    end = float(times.max())
    for x0, x1, px in ((0.0, end, 300), (end * 0.2, end * 0.3, 100)):
        ct, cv = lag_curve(p, x0, x1, px)
        assert len(ct) <= 4 * px + 2
        inside = (times >= x0) & (times < x1)
        assert cv.max() >= v[inside].max()


def test_whole_session_lag_stats_need_no_sort_and_equal_numpys() -> None:
    """lag_stats of every probe (no time order needed) gives numpy's histogram and percentiles exactly."""
    from pyrometer.core.analysis.loop import lag_stats

    p = agent_like_profile(30_000)
    times = p.lag["time"]
    times[[10, 11]] = times[[11, 10]]
    v = p.lag["lag"].astype(np.float64)
    v_max = float(v.max())
    p.lag["lag"][5] = np.float32(25.0)  # past the last edge's default: the last bin stretches to it
    v[5] = np.float64(np.float32(25.0))
    stats = lag_stats(p)
    assert stats.probes == len(v) and stats.max == pytest.approx(max(v_max, 25.0))
    assert np.array_equal(stats.hist_counts, np.histogram(v, stats.hist_edges)[0])
    assert [stats.p50, stats.p95, stats.p99] == pytest.approx(list(np.percentile(v, [50, 95, 99])))


def test_live_lag_stats_are_kept_incrementally_and_close_to_exact() -> None:
    """Grown batch by batch: counts, max, mean and histogram exact; percentiles within 0.3% past the exact limit."""
    from pyrometer.core.analysis.loop import lag_stats

    full = agent_like_profile(60_000)
    p = Profile()
    lag = full.lag
    for lo in range(0, len(lag), 3001):
        hi = lo + 3001
        p.add_lag(lag["time"][lo:hi], lag["loop"][lo:hi], lag["lag"][lo:hi])
        live = lag_stats(p, approx_above=0)
        exact = lag_stats(p)
        v = p.lag["lag"].astype(np.float64)
        assert live.probes == exact.probes == len(v)
        assert live.max == exact.max and live.mean == pytest.approx(exact.mean, rel=1e-12)
        assert np.array_equal(live.hist_counts, exact.hist_counts) and np.array_equal(live.hist_edges, exact.hist_edges)
        for got, want in ((live.p50, exact.p50), (live.p95, exact.p95), (live.p99, exact.p99)):
            assert got == pytest.approx(want, rel=0.004)
    assert lag_stats(p, approx_above=10**9).p95 == exact.p95  # under the limit: exact
