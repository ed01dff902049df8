"""The boxes of a task or stall lane that a view shows: those in it, sub-pixel ones one cell a pixel.

A day's task rows hold 10^5 pieces; handed to the flame item whole, each lay-out paid for its
zoomed-out copies (flame_item.build_levels: 45-72 ms at every replay playhead, 30M samples). A
view of `pixels` columns shows at most a box a pixel per row, so a lane gives the item the boxes
at least a pixel wide as they are and, of consecutive narrower ones in one pixel column (on a fixed
grid of power-of-two widths), one cell
from the first one's start to the furthest end, standing for (and coloured, labelled, tooltipped
as) that first box: what the item's merging of sub-pixel boxes draws anyway. Boxes outside the
view are left out, as the thread lanes' are (a zoom or pan lays the lanes out again).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class Cells:
    """A lane's boxes in a view: `first[i]` is the lane's box that cell i stands for; the cell covers
    the lane's (kept) boxes `kept[starts[i]] .. kept[starts[i + 1] - 1]`."""

    x: np.ndarray
    w: np.ndarray
    first: np.ndarray
    kept: np.ndarray
    starts: np.ndarray


def pixel_cells(x: np.ndarray, w: np.ndarray, x0: float, x1: float, pixels: int) -> Cells | None:
    """The cells of boxes (start x, width w, in start order) in the view [x0, x1] at `pixels` columns;
    None when every box is in the view and at least a pixel wide (shown as it is)."""
    n = len(x)
    px = (x1 - x0) / max(pixels, 1)
    if n == 0 or not px > 0:
        return None
    # columns on a grid from 0, a power of two seconds under a pixel wide: a pan or a view a hair wider
    # groups the boxes as before (a live pane and a new one, laid out for views a rounding apart, agree)
    grid = 2.0 ** math.floor(math.log2(px))
    end = x + w
    inside = (end >= x0) & (x <= x1)
    narrow = w < grid
    if not narrow.any() and inside.all():
        return None
    kept = np.flatnonzero(inside)
    thin = narrow[kept]
    col = np.floor(x[kept] / grid)
    new = np.ones(len(kept), bool)
    new[1:] = ~(thin[1:] & thin[:-1] & (col[1:] == col[:-1]))  # a wide box, or another pixel column
    starts = np.flatnonzero(new)
    first = kept[starts]
    reach = np.maximum.reduceat(end[kept], starts) if len(kept) else np.zeros(0)
    alone = np.diff(np.append(starts, len(kept))) == 1
    return Cells(x[first], np.where(alone, w[first], reach - x[first]), first, kept, starts)  # a box alone: as it is
