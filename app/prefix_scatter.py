"""A scatter of a session's points of which only the first `shown` are drawn, clicked and counted in its bounds.

A replay's stalls before its playhead are a prefix of the session's time-sorted stalls. Giving
the stall markers their points again at each playhead move looked every point's style up again
(10-30 ms a move at a day's 12k stalls, ~3 ms per 1,000 points at every setData); here the points
are set once (extended as a live session adds stalls) and a move only changes which of them are
visible. The Event loop pane and the timeline's lag plot mark their stalls with it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg


class PrefixScatter(pg.ScatterPlotItem):
    """ScatterPlotItem whose points after the first `shown` are hidden (drawn, hit and bounded as absent)."""

    def __init__(self, **opts: Any) -> None:
        super().__init__(**opts)
        self.shown = 0
        self.points_set = 0  # points handed to pyqtgraph (styled) by the last set, add or `mark` (tests)

    def set_points(self, x: np.ndarray, y: np.ndarray) -> None:
        """Every point, all shown."""
        self.setData(x=x, y=y)
        self.shown = self.points_set = len(x)

    def add_points(self, x: np.ndarray, y: np.ndarray) -> None:
        """More points after the others (only theirs are styled), all shown."""
        if len(x):
            self.addPoints(x=x, y=y)
        self.points_set = len(x)
        self.shown = len(self.data)

    def mark(self, x: np.ndarray, y: np.ndarray) -> None:
        """Show these points (x time-sorted) and no others, keeping what is already set: a prefix of the points
        held (a playhead moved back) only hides the rest, the points held and more (moved on, a live session's
        new stalls) add those after them; anything else sets every point again."""
        x = np.asarray(x, np.float64)
        y = np.asarray(y, np.float64)
        held = self.data
        m = min(len(x), len(held))
        self.points_set = 0
        if not (np.array_equal(held["x"][:m], x[:m]) and np.array_equal(held["y"][:m], y[:m])):
            self.set_points(x, y)
        elif len(x) > len(held):
            self.add_points(x[m:], y[m:])
        self.show_first(len(x))

    def show_first(self, count: int) -> None:
        """Show the first `count` points only."""
        count = max(0, min(int(count), len(self.data)))
        if count == self.shown and bool(self.data["visible"][:count].all()):
            return
        visible = self.data["visible"]
        visible[:count] = True
        visible[count:] = False
        self.shown = count
        self.bounds = [None, None]
        self.prepareGeometryChange()
        self.informViewBoundsChanged()
        self.invalidate()

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: Any = None) -> Any:
        if self.shown >= len(self.data):
            return super().dataBounds(ax, frac, orthoRange)
        if self.shown == 0:
            return (None, None)
        d = self.data["x" if ax == 0 else "y"][: self.shown]
        other = self.data["y" if ax == 0 else "x"][: self.shown]
        if orthoRange is not None:
            d = d[(other >= orthoRange[0]) & (other <= orthoRange[1])]
            if d.size == 0:
                return (None, None)
        if frac >= 1.0:
            pad = float(getattr(self, "_maxSpotWidth", 0.0)) * 0.7072
            return (float(np.nanmin(d)) - pad, float(np.nanmax(d)) + pad)
        d = d[np.isfinite(d)]
        return np.percentile(d, [50 * (1 - frac), 50 * (1 + frac)])
