"""The lag plot's blocking-event markers, set in time-ordered chunks so a moved playhead redraws one chunk.

One ScatterPlotItem of a day's thousands of stalls cost ~3 ms per 1,000 points at every setData (its
per-point style keys are Python), and a replay set every stall before the playhead again at each
move. Here the stalls (time-sorted) go into items of CHUNK stalls each: a playhead shows the chunks
before it, hides those after it (a hidden item counts in no autorange) and sets only the chunk it
falls in; a live session's new stalls are added to the last chunk. Work per call: what changed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg

CHUNK = 256


class StallMarks:
    """Markers at (start, duration) of stalls, time-sorted; `show` keeps what is already drawn."""

    def __init__(self, plot: pg.PlotItem, **style: Any) -> None:
        self._plot = plot
        self._style = style
        self._items: list[pg.ScatterPlotItem] = []
        self._filled: list[int] = []  # points set in each item: x[a : a + filled] of the stalls last shown
        self._x = np.zeros(0)  # the stalls shown
        self._y = np.zeros(0)
        self._bx = np.zeros(0)  # the stalls the items' points are of (the shown ones are a prefix of them)
        self._by = np.zeros(0)
        self.points_set = 0  # points handed to pyqtgraph by the last `show` (tests: proportional to the change)

    def __len__(self) -> int:
        return len(self._x)

    def show(self, x: np.ndarray, y: np.ndarray) -> None:
        """Mark these stalls (x: start, time-sorted; y: duration) and no others."""
        x = np.asarray(x, np.float64)
        y = np.asarray(y, np.float64)
        m = min(len(x), len(self._bx))
        differ = np.flatnonzero((x[:m] != self._bx[:m]) | (y[:m] != self._by[:m]))
        keep = int(differ[0]) if len(differ) else m  # stalls the items hold as they are
        if keep < len(x) or len(self._bx) == 0:  # not a prefix of the stalls the items were set from: these are
            self._bx, self._by = x, y
        else:  # a playhead before the last: hidden items keep the later stalls, to show again as they are
            keep = len(self._bx)
        self._x, self._y = x, y
        self.points_set = 0
        chunks = max(len(self._items), -(-len(x) // CHUNK))
        for c in range(chunks):
            a = c * CHUNK
            want = max(0, min(len(x), a + CHUNK) - a)
            if c == len(self._items):
                item = pg.ScatterPlotItem(**self._style)
                self._plot.addItem(item)
                self._items.append(item)
                self._filled.append(0)
            item = self._items[c]
            filled = self._filled[c]
            valid = max(0, min(filled, keep - a))
            if want == 0:
                if filled and valid < filled:
                    item.clear()
                    self._filled[c] = 0
            elif valid == filled == want:
                pass
            elif valid == filled < want:  # more stalls after those drawn: added
                item.addPoints(x=x[a + filled : a + want], y=y[a + filled : a + want])
                self.points_set += want - filled
                self._filled[c] = want
            else:
                item.setData(x=x[a : a + want], y=y[a : a + want])
                self.points_set += want
                self._filled[c] = want
            if item.isVisible() != (want > 0):
                item.setVisible(want > 0)

    def points(self) -> tuple[list[float], list[float]]:
        """(x, y) of every marker drawn, in time order (tests)."""
        xs: list[float] = []
        ys: list[float] = []
        for item in self._items:
            if item.isVisible():
                xs += item.data["x"].tolist()
                ys += item.data["y"].tolist()
        return xs, ys
