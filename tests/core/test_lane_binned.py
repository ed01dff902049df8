"""A thread lane whose view holds many samples but is finer than the index's buckets: its samples binned per pixel.

A replay playhead early in a day's session fits the timeline to [0, playhead]: too many samples in view
for runs (10^6 of them: 0.1-1 s a lay-out at 30M samples) and too few index buckets for a pixel each. The
lane is then columns under a pixel wide, each at the level of its samples' mean on-CPU share, counted here
from the samples with plain numpy; exact runs stay for a view of few samples.
"""

from __future__ import annotations

import numpy as np
import pytest
from lod_profile import agent_like_profile

from pyrometer.core.analysis import lod
from pyrometer.core.analysis.lod import activity_boxes, activity_index, view_rows
from pyrometer.core.model import Profile


def test_a_lane_finer_than_the_index_bins_its_samples_per_pixel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lod, "EXACT_LANE_ROWS", 500)
    p = agent_like_profile(90_000)
    index = activity_index(p)
    x0, x1, pixels = 30.0, 30.0 + 200 * index.width, 800  # four pixels a bucket
    t1 = x1 - 0.3 * (x1 - x0)  # and a playhead inside the view
    for tid in range(3):
        boxes = activity_boxes(p, tid, x0, x1, pixels, t1)
        assert not boxes.exact and 50 < len(boxes.start)
        t = p.samples["time"].astype(np.float64)
        mine = p.samples["thread"] == tid
        start = np.maximum(t - p.samples["weight"], 0.0)
        share = p.samples["cpu"].astype(np.float64) / p.samples["weight"]
        inside = mine & (start >= x0) & (start < t1) & (t <= t1)  # (at the playhead: the samples taken by then)
        grid = 2.0 ** np.floor(np.log2((x1 - x0) / pixels))
        assert (x1 - x0) / pixels / 2 < grid <= (x1 - x0) / pixels  # columns under a pixel wide
        col = np.floor(start[inside] / grid)
        cols, first = np.unique(col, return_index=True)
        sums = np.add.reduceat(share[inside], first)
        counts = np.diff(np.append(first, inside.sum()))
        level = np.where(sums / counts >= 0.75, 2, np.where(sums / counts >= 0.15, 1, 0))
        # every sampled column lies in a box at its level; boxes end by the playhead
        box = np.searchsorted(boxes.start, cols * grid, "right") - 1
        end = boxes.start[box] + boxes.width[box]
        assert (box >= 0).all() and ((cols * grid + grid <= end + 1e-9) | (end >= t1 - 1e-9)).all()
        assert np.array_equal(boxes.on[box], level)
        assert float((boxes.start + boxes.width).max()) <= t1 + 1e-9
    few = activity_boxes(p, 0, x0, x0 + 1.0, pixels)  # few samples in view: the exact runs, as before
    assert few.exact


def _binned_by_hand(p: Profile, x0: float, x1: float, px: float) -> dict[int, tuple[list[float], list[int], np.ndarray]]:
    """Per thread: its sampled columns' starts, sample counts and summed on-CPU shares, one thread at a time."""
    t = np.maximum(p.samples["time"].astype(np.float64) - p.samples["weight"], 0.0)
    share = p.samples["cpu"].astype(np.float64) / p.samples["weight"]
    grid = 2.0 ** np.floor(np.log2(px))
    inside = (t >= x0) & (t < x1)
    out = {}
    for tid in sorted(set(p.samples["thread"][inside].tolist())):
        mine = inside & (p.samples["thread"] == tid)
        col = np.floor(t[mine] / grid)
        cols, which, counts = np.unique(col, return_inverse=True, return_counts=True)
        out[tid] = ((cols * grid).tolist(), counts.tolist(), np.bincount(which, weights=share[mine]))
    return out


@pytest.mark.parametrize("threads", [1, 3, 200, 4000])
def test_many_threads_are_binned_without_a_table_of_every_thread_and_column(
    threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Binning counted samples in a dense table of every thread x pixel column: at 32,000 threads 1.2 GB and
    slower than the exact runs it replaced. Only the (thread, column) pairs that occur are counted now;
    the columns are those counted by hand, thread by thread, threads absent from the view included."""
    p = agent_like_profile(40_000, threads=threads)
    p.samples["thread"][:] = p.samples["thread"] * 70_001 + 5  # (ids far apart, as real ones)
    index = activity_index(p)
    end = float(p.samples["time"][-1])
    allocated: list[int] = []
    real = np.bincount
    monkeypatch.setattr(np, "bincount", lambda *a, **k: allocated.append(k.get("minlength", 0)) or real(*a, **k))
    for x0, x1, pixels in ((0.0, end, 1366), (end * 0.4, end * 0.41, 800)):  # all threads; a slice, some absent
        lo, hi = view_rows(p, x0, x1)
        allocated.clear()
        got = lod._bin_threads(p, index, lo, hi, x0, x1, (x1 - x0) / pixels)
        want = _binned_by_hand(p, x0, x1, (x1 - x0) / pixels)
        assert list(got) == list(want)
        for tid, (starts, counts, on) in want.items():
            x, _grid, count, summed = got[tid]
            assert x.tolist() == starts and count.tolist() == counts and np.allclose(summed, on)
        assert max(allocated) <= lod.DENSE_BIN_CELLS_PER_SAMPLE * (hi - lo)
