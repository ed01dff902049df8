"""Timeline lanes stay linear in the number of threads (issue 11: 32k threads took over a minute)."""

from __future__ import annotations

import time

import numpy as np

from pyrometer.app.panes.timeline import Lanes


def test_lanes_stay_linear_with_tens_of_thousands_of_threads() -> None:
    """Adding a lane summed every earlier lane and each tick recomputed every lane's
    position: 20k lanes took ~58 s; they must now take well under a second."""
    lanes = Lanes()
    one = np.zeros(1)
    t0 = time.perf_counter()
    for i in range(20_000):
        lanes.add(i, one, one, np.zeros(1, np.int32), None, None)
        lanes.kinds.append("thread")
        lanes.names.append(f"t{i}")
        lanes.heights.append(1.0)
    ticks = lanes.ticks()
    took = time.perf_counter() - t0
    assert len(ticks) == 20_000 and ticks[-1] == (19_999.5, "t19999")
    assert len(lanes.arrays()[0]) == 20_000
    assert took < 3.0, took
