"""A value axis whose major tick labels never overlap, however short the plot.

pyqtgraph always draws its top tick level and aims at two or more major ticks
whatever the length, so in the timeline's lag strip (~20 px at 1366x768) the
labels "100" and "200" were printed on top of each other. This axis keeps
every k-th major tick, counted down from the top one, so that its labels fit
(the highest value stays: it tells the strip's scale), and drops the minor ones.
"""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
from PySide6 import QtGui

LABEL_GAP = 1.2  # a label's height and a little air between two labels


def labels_that_fit(length_px: float, label_px: float) -> int:
    """How many labels of `label_px` height stand on `length_px` without touching (at least one)."""
    return max(1, int(length_px // (label_px * LABEL_GAP)))


def thinned(values: list[float], most: int) -> list[float]:
    """Every k-th value from the largest down, k the smallest step leaving at most `most` of them."""
    if len(values) <= most:
        return list(values)
    k = math.ceil(len(values) / most)
    return sorted(values, reverse=True)[::k]


def inside(values: list[float], lo: float, hi: float, length_px: float, label_px: float) -> list[float]:
    """The values whose label, centred on the tick, stays whole within the axis (pyqtgraph drops the others)."""
    if hi <= lo:
        return list(values)
    margin = (label_px / 2) / length_px * (hi - lo)
    return [v for v in values if lo + margin <= v <= hi - margin]


class ShortAxis(pg.AxisItem):
    """A vertical AxisItem that thins its major ticks to the labels its length holds."""

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
        levels: list[tuple[float, Any]] = super().tickValues(minVal, maxVal, size)
        if not levels or self.orientation not in ("left", "right") or size <= 0:
            return levels
        font = self.style.get("tickFont") or self.font()
        label_px = QtGui.QFontMetricsF(font).height() * 0.8  # the text height pyqtgraph lays out
        most = labels_that_fit(size, label_px)
        spacing, major = levels[0][0], [float(v) for v in levels[0][1]]
        if len(major) <= most:
            return levels
        drawn_px = self.mapRectFromParent(self.geometry()).height()  # where pyqtgraph places the labels
        whole = inside(major, minVal, maxVal, drawn_px or size, label_px + 1.0) or major  # 1 px for rounding
        return [(spacing * math.ceil(len(whole) / most), thinned(whole, most))]
