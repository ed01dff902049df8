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
from pyrometer.core.analysis.lod import activity_boxes, activity_index


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
