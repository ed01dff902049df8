"""Timeline lanes stay linear in the number of threads (issue 11: 32k threads took over a minute)."""

from __future__ import annotations

import importlib
import time
from typing import Any

import numpy as np


def _lanes_class() -> Any:
    """Lanes lives in the timeline pane here; another branch moves it to core.analysis.lanes."""
    for module in ("pyrometer.core.analysis.lanes", "pyrometer.app.panes.timeline"):
        try:
            return importlib.import_module(module).Lanes
        except ModuleNotFoundError:
            continue
    raise AssertionError("no Lanes class")


def test_lanes_stay_linear_with_tens_of_thousands_of_threads() -> None:
    """Adding a lane summed every earlier lane and each tick recomputed every lane's
    position: 20k lanes took ~58 s; they must now take well under a second."""
    lanes = _lanes_class()()
    one = np.zeros(1)
    t0 = time.process_time()
    for i in range(20_000):
        lanes.add(i, one, one, np.zeros(1, np.int32), None, None)
        lanes.kinds.append("thread")
        lanes.names.append(f"t{i}")
        lanes.heights.append(1.0)
    ticks = lanes.ticks()
    took = time.process_time() - t0
    assert len(ticks) == 20_000 and ticks[-1] == (19_999.5, "t19999")
    assert len(lanes.arrays()[0]) == 20_000
    assert took < 3.0, took
