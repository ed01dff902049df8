"""Every thread's stack chart as one set of boxes: a name row per thread, then its stack depths.

The Stack chart pane paints these with the flame graph's item (culled to the
view, one draw per colour); this module only lays the threads' `Spans` out in
rows, so the pane and its tests need no Qt to know what is where.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pyrometer.core.analysis.selection import Selection
from pyrometer.core.analysis.spans import stack_chart
from pyrometer.core.model import Profile, ThreadInfo

THREAD_ROW = -1  # `func` of a thread's name box


@dataclass
class ThreadBand:
    thread: int
    name: str
    first_row: int  # the name row; stack depth d is row first_row + 1 + d
    depth: int  # stack rows below the name row


@dataclass
class StackChartBoxes:
    x: np.ndarray  # float64 start, seconds
    width: np.ndarray  # float64 seconds
    row: np.ndarray  # int32
    func: np.ndarray  # int32 function id, THREAD_ROW for a thread's name box
    bands: list[ThreadBand] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.x)

    @property
    def rows(self) -> int:
        return self.bands[-1].first_row + 1 + self.bands[-1].depth if self.bands else 0

    def band_of_row(self, row: int) -> ThreadBand | None:
        return next((b for b in self.bands if b.first_row <= row <= b.first_row + b.depth), None)


def stack_chart_boxes(
    profile: Profile,
    threads: frozenset[int] | None = None,
    t1: float | None = None,
    end: float | None = None,
    view: tuple[float, float] | None = None,
    pixels: int = 1500,
) -> StackChartBoxes:
    """Boxes of every thread (or those in `threads`) that has samples up to `t1` (None: all).

    Each thread's name box spans [0, end) (default: the profile's duration).
    With a `view` (x0, x1) only what lies in it is laid out, at `pixels` columns
    (lod.stack_chart_view): a huge session costs what its view shows. A time-sorted profile only.
    """
    span_end = float(end if end is not None else (t1 if t1 is not None else profile.duration()))
    if view is not None and profile.samples_sorted:
        return _boxes_in_view(profile, threads, t1, span_end, view, pixels)
    sel = Selection(t1=t1)
    bands: list[_Band] = []
    for info in sorted(profile.threads.values(), key=lambda t: t.id):
        if threads is not None and info.id not in threads:
            continue
        spans = stack_chart(profile, info.id, sel)
        if len(spans):
            bands.append((info, int(spans.depth.max()) + 1, spans.start, spans.end, spans.depth, spans.func))
    return _boxes(bands, span_end)


# a thread's band: (thread, band depth, then its spans' start, end, depth and function)
_Band = tuple[ThreadInfo, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _boxes(bands: list[_Band], span_end: float) -> StackChartBoxes:
    """Stack the bands: each a name box spanning [0, span_end) (or its last span's end), its spans below."""
    if not bands:
        z = np.zeros(0)
        return StackChartBoxes(z, z.copy(), np.zeros(0, np.int32), np.zeros(0, np.int32), [])
    xs: list[np.ndarray] = []
    ws: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    funcs: list[np.ndarray] = []
    out: list[ThreadBand] = []
    row = 0
    for info, depth, start, stop, dep, fn in bands:
        out.append(ThreadBand(info.id, info.name, row, depth))
        xs += [np.zeros(1), start]
        ws += [np.full(1, max(span_end, float(stop.max(initial=0.0)))), stop - start]
        rows += [np.full(1, row, np.int32), (row + 1 + dep).astype(np.int32)]
        funcs += [np.full(1, THREAD_ROW, np.int32), fn.astype(np.int32)]
        row += 1 + depth
    return StackChartBoxes(np.concatenate(xs), np.concatenate(ws), np.concatenate(rows), np.concatenate(funcs), out)


def _boxes_in_view(
    profile: Profile, threads: frozenset[int] | None, t1: float | None, span_end: float, view: tuple[float, float], pixels: int
) -> StackChartBoxes:
    """The view's boxes; each thread's band is as deep as its deepest stack so far, so zooming never moves rows."""
    from pyrometer.core.analysis.lod import activity_index, stack_chart_view

    index = activity_index(profile)
    x0, x1 = view
    if t1 is not None:
        x1 = min(x1, t1)
    shown = [info for info in sorted(profile.threads.values(), key=lambda t: t.id)
             if (threads is None or info.id in threads) and index.depth_of(info.id) > 0]
    spans = stack_chart_view(profile, [info.id for info in shown], x0, max(x0, x1), max(1, pixels)) if shown else []
    bands: list[_Band] = []
    for info, sp in zip(shown, spans, strict=True):
        start, stop = sp.start, sp.end
        if t1 is not None:  # a replay shows nothing past its playhead
            keep = start < t1
            start, stop = start[keep], np.minimum(stop[keep], t1)
            dep, fn = sp.depth[keep], sp.func[keep]
        else:
            dep, fn = sp.depth, sp.func
        bands.append((info, index.depth_of(info.id), start, stop, dep, fn))
    return _boxes(bands, span_end)
