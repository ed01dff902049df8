"""One pyqtgraph item that paints a whole flame graph from numpy arrays.

A flame graph of a real profile has 10^5 boxes; one QGraphicsItem per box
would make Qt's scene the bottleneck. This item keeps the boxes as columns
(x, width, depth, colour index) sorted by (depth, x), and each paint():

* culls to the visible rows and, per row, binary-searches the visible x span;
* merges boxes narrower than a device pixel into one pixel per row and column;
* fills with one ``drawRects`` call per brush, straight from a numpy buffer;
* draws elided labels only where a box is wide enough to read.

Coordinates: x in weight units (the root spans [0, total)), one row per depth
(row d covers y in [d, d+1)). The view decides orientation (icicle = inverted y).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6 import QtCore, QtGui, QtWidgets

ROW_PX = 20.0  # row height the view aims for, in device pixels
MIN_LABEL_PX = 28.0  # narrower boxes get no text
MERGE_RUN_PX = 6  # merged sub-pixel cells are drawn in runs of at most this many pixels
LOD_MIN_BOXES = 20_000  # flat box sets at least this large get zoomed-out levels
_RECT_BYTES = 32  # a QRectF is four doubles


def sort_rect_batches(rects: np.ndarray, color: np.ndarray, ncolors: int) -> tuple[np.ndarray, list[int]]:
    """Order device-space rects (n×4: x, y, w, h) by colour: (contiguous buffer, count per colour)."""
    order = np.argsort(color, kind="stable")
    buf = np.ascontiguousarray(rects[order], dtype=np.float64)
    counts = np.bincount(color, minlength=ncolors).tolist() if len(color) else [0] * ncolors
    return buf, counts


def draw_sorted_batches(
    painter: QtGui.QPainter, buf: np.ndarray, counts: Sequence[int], brushes: Sequence[QtGui.QBrush]
) -> None:
    """One drawRects per brush, straight from the numpy buffer (no QRectF object per box)."""
    base = buf.ctypes.data
    painter.setPen(QtCore.Qt.PenStyle.NoPen)
    start = 0
    for ci, count in enumerate(counts):
        if count == 0:
            continue
        painter.setBrush(brushes[ci] if ci < len(brushes) else brushes[-1])
        first: QtCore.QRectF = shiboken6.wrapInstance(base + start * _RECT_BYTES, QtCore.QRectF)  # type: ignore[assignment]
        painter.drawRects(first, count)
        start += count


def draw_rect_batches(
    painter: QtGui.QPainter,
    rects: np.ndarray,
    color: np.ndarray,
    brushes: Sequence[QtGui.QBrush],
) -> None:
    """Fill device-space rects (n×4: x, y, w, h) with one drawRects per colour index."""
    if len(rects) == 0:
        return
    buf, counts = sort_rect_batches(rects, color, len(brushes))
    draw_sorted_batches(painter, buf, counts, brushes)


class _Geometry:
    """What one paint draws, in device pixels; cached while the view and data are unchanged."""

    __slots__ = ("brushes", "buf", "clip", "counts", "labels", "outlines", "rect_count", "wide_orig", "wide_rects")

    def __init__(self) -> None:
        self.clip = QtCore.QRectF()
        self.buf = np.zeros((0, 4))
        self.counts: list[int] = []
        self.brushes: list[QtGui.QBrush] = []
        self.outlines: list[QtCore.QRectF] = []
        self.labels: list[tuple[QtCore.QRectF, str, bool]] = []  # rect, text, dimmed
        self.rect_count = 0
        self.wide_orig = np.zeros(0, np.int64)  # full-data index of each box drawn individually
        self.wide_rects = np.zeros((0, 4))  # and its device rect (for hover outlines)


def union_length(start: np.ndarray, end: np.ndarray) -> float:
    """Total length covered by possibly nested/overlapping intervals (search share)."""
    if len(start) == 0:
        return 0.0
    order = np.argsort(start, kind="stable")
    s = start[order]
    e = end[order]
    reach = np.maximum.accumulate(e)
    prev = np.concatenate(([-np.inf], reach[:-1]))
    return float(np.clip(e - np.maximum(s, prev), 0.0, None).sum())


class _Source:
    """Box columns sorted by (row, x) that a paint reads: the full data or one coarser level.

    `orig` maps a box to the full data's internal index (labels, highlight,
    outline); None means the source *is* the full data. `slack` widens the
    left culling edge for levels whose cells may overlap a neighbour.
    """

    __slots__ = ("bin_width", "color", "depth", "end", "orig", "row_start", "slack", "x")

    def __init__(
        self,
        x: np.ndarray,
        end: np.ndarray,
        depth: np.ndarray,
        color: np.ndarray,
        row_start: np.ndarray,
        orig: np.ndarray | None = None,
        bin_width: float = 0.0,
    ) -> None:
        self.x, self.end, self.depth, self.color = x, end, depth, color
        self.row_start = row_start
        self.orig = orig
        self.bin_width = bin_width
        self.slack = bin_width


def _row_order(x: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """The stable (depth, x) sort order; O(n) when the boxes already come in that order (timeline lanes)."""
    n = len(x)
    if n < 2:
        return np.arange(n, dtype=np.int64)
    dd = np.diff(depth)
    if bool(np.all((dd > 0) | ((dd == 0) & (x[1:] >= x[:-1])))):
        return np.arange(n, dtype=np.int64)
    return np.lexsort((x, depth))


def _merge_rows(x: np.ndarray, depth: np.ndarray, split: int, rows: int) -> np.ndarray:
    """np.lexsort((x, depth)) for two concatenated runs each already sorted by (depth, x).

    Row by row a stable sort of two sorted runs is a linear merge (timsort),
    where lexsort of the whole level cost most of build_levels.
    """
    edges = np.arange(rows + 1)
    a = np.searchsorted(depth[:split], edges)
    b = np.searchsorted(depth[split:], edges) + split
    if a[-1] != split or b[-1] != len(x) or a[0] or b[0] != split:
        return np.lexsort((x, depth))  # depths outside [0, rows): not the shape this is for
    parts = []
    for r in range(rows):
        idx = np.concatenate((np.arange(a[r], a[r + 1]), np.arange(b[r], b[r + 1])))
        if len(idx) > 1:
            idx = idx[np.argsort(x[idx], kind="stable")]
        parts.append(idx)
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def build_levels(src: _Source, rows: int, min_boxes: int = LOD_MIN_BOXES) -> list[_Source]:
    """Coarser copies of a flat (non-tree) box set for zoomed-out paints, coarsest first.

    Level k has R = 2^(11+2k) bins across the x extent: boxes at least a bin
    wide are kept, narrower ones collapse into one bin-wide cell per (row,
    bin) coloured like the first box in it. A paint uses the coarsest level
    whose bins are under a pixel, so it looks at O(rows × pixels) boxes
    instead of every segment of a long session.
    """
    n = len(src.x)
    if n < min_boxes:
        return []
    x0 = float(src.x.min())
    span = float(src.end.max()) - x0
    if span <= 0:
        return []
    w = src.end - src.x
    levels: list[_Source] = []
    for k in range(6):
        bins = 1 << (11 + 2 * k)
        bw = span / bins
        wide = np.flatnonzero(w >= bw)
        narrow = np.flatnonzero(w < bw)
        b = np.minimum(((src.x[narrow] - x0) / bw).astype(np.int64), bins - 1)
        key = src.depth[narrow].astype(np.int64) * (bins + 1) + b
        first = np.ones(len(narrow), bool)
        first[1:] = key[1:] != key[:-1]
        cells = narrow[first]
        count = len(wide) + len(cells)
        if count > 0.6 * n:
            break  # not worth it: finer levels only get bigger
        cx = x0 + b[first] * bw
        lx = np.concatenate((src.x[wide], cx))
        lend = np.concatenate((src.end[wide], cx + bw))
        ldepth = np.concatenate((src.depth[wide], src.depth[cells]))
        orig = np.concatenate((wide, cells))
        order = _merge_rows(lx, ldepth, len(wide), rows)
        lx, lend, ldepth, orig = lx[order], lend[order], ldepth[order], orig[order]
        row_start = np.searchsorted(ldepth, np.arange(rows + 1), "left")
        levels.append(_Source(lx, lend, ldepth, src.color[orig], row_start, orig, bw))
    return levels


class FlameGraphItem(pg.GraphicsObject):
    """The boxes of a flame graph; indices in signals are the caller's box indices."""

    boxClicked = QtCore.Signal(int)  # -1 = background
    boxDoubleClicked = QtCore.Signal(int)
    boxHovered = QtCore.Signal(int)
    boxContextMenu = QtCore.Signal(int, object)  # box, global QPoint

    def __init__(self, parent: QtWidgets.QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        self.setAcceptHoverEvents(True)
        self._n = 0
        self._perm = np.zeros(0, np.int64)  # internal (sorted) index -> caller index
        self._inv = np.zeros(0, np.int64)  # caller index -> internal
        self._x = np.zeros(0)
        self._w = np.zeros(0)
        self._end = np.zeros(0)
        self._depth = np.zeros(0, np.int32)
        self._color = np.zeros(0, np.int32)
        self._labels: Sequence[str] = []  # the caller's, indexed by caller box index (read lazily)
        self._row_start = np.zeros(1, np.int64)
        self._row_y = np.zeros(0)  # top of each row, item units
        self._parent: np.ndarray | None = None  # internal index of the parent box, -1 (tree fast path)
        self._pw: np.ndarray | None = None  # parent's width (inf for top-level boxes)
        self._sub: np.ndarray | None = None  # deepest row in each box's subtree
        self._sub_highlight: np.ndarray | None = None  # subtree contains a highlighted box
        self._full = _Source(self._x, self._end, self._depth, self._color, self._row_start)
        self._levels: list[_Source] = []  # coarser copies for zoomed-out paints (flat data only)
        self._row_h = np.zeros(0)  # height of each row
        self._highlight: np.ndarray | None = None  # bool per internal box
        self._outline: np.ndarray | None = None
        self._brushes: list[QtGui.QBrush] = [QtGui.QBrush(QtGui.QColor("#e8a040"))]
        self._dim_brushes: list[QtGui.QBrush] = [QtGui.QBrush(QtGui.QColor("#d8d8d8"))]
        self._text = QtGui.QColor("#1a1a1a")
        self._dim_text = QtGui.QColor("#909090")
        self._outline_pen = QtGui.QPen(QtGui.QColor("#000000"), 2.0)
        self._outline_pen.setCosmetic(True)
        self._hover_mask: np.ndarray | None = None  # internal order; outlined without invalidating geometry
        self._hover_pen = QtGui.QPen(QtGui.QColor(20, 20, 20, 140), 1.5)
        self._hover_pen.setCosmetic(True)
        self._bounds = QtCore.QRectF()
        self._font = QtGui.QFont()
        self._font.setPointSizeF(8.5)
        self.tooltip_fn: Callable[[int], str] | None = None
        self._hover = -1
        self.last_paint_count = 0  # rects drawn in the last paint (tests, benchmark)
        self._version = 0  # bumped by every setter; part of the geometry cache key
        self._geom_key: tuple[float | int, ...] | None = None
        self._geom: _Geometry | None = None
        self.cache_geometry = True  # the benchmark turns this off to time cold paints

    # ------------------------------------------------------------------ data
    def _changed(self) -> None:
        self._version += 1
        self.update()

    def set_boxes(
        self,
        x: np.ndarray,
        width: np.ndarray,
        depth: np.ndarray,
        color: np.ndarray,
        labels: Sequence[str],  # per box, in the caller's order; may be a lazy sequence
        row_heights: np.ndarray | None = None,
        parent: np.ndarray | None = None,
    ) -> None:
        """Replace all boxes; `color` indexes the palette set by `set_palette`.

        Rows are one unit tall unless `row_heights` (one per row, item units)
        says otherwise; row d then starts at the sum of the heights above it.

        `parent` (caller index of each box's parent box, -1 for none) turns on
        the tree fast path: a box narrower than a pixel whose parent is wider
        is drawn as a 1-px spike down to its deepest descendant, and those
        descendants are never looked at. Without it, every sub-pixel box is
        merged into pixel runs row by row.
        """
        x = np.asarray(x, np.float64)
        n = len(x)
        depth = np.asarray(depth, np.int32)
        perm = _row_order(x, depth)
        self._perm = perm
        self._inv = np.empty(n, np.int64)
        self._inv[perm] = np.arange(n)
        self._x = x[perm]
        self._w = np.asarray(width, np.float64)[perm]
        self._end = self._x + self._w
        self._depth = depth[perm]
        self._color = np.asarray(color, np.int32)[perm] if n else np.zeros(0, np.int32)
        self._labels = labels  # only the ~100 labelled boxes of a paint are ever looked up
        self._n = n
        max_depth = int(self._depth.max()) if n else -1
        if row_heights is not None:
            max_depth = max(max_depth, len(row_heights) - 1)
        self._row_start = np.searchsorted(self._depth, np.arange(max_depth + 2), "left")
        hgt = np.ones(max_depth + 1)
        if row_heights is not None:
            hgt[: len(row_heights)] = np.asarray(row_heights, np.float64)[: max_depth + 1]
        self._row_h = hgt
        self._row_y = np.concatenate(([0.0], np.cumsum(hgt)[:-1])) if len(hgt) else np.zeros(0)
        self._highlight = None
        self._sub_highlight = None
        self._outline = None
        self._pw = None
        self._parent = None
        self._sub = None
        if parent is not None and n:
            par = np.asarray(parent, np.int64)[perm]
            par_int = np.where(par >= 0, self._inv[np.maximum(par, 0)], -1)
            self._parent = par_int
            self._pw = np.where(par_int >= 0, self._w[np.maximum(par_int, 0)], np.inf)
            self._sub = self._subtree_reduce(self._depth.copy(), np.maximum)
        self._full = _Source(self._x, self._end, self._depth, self._color, self._row_start)
        self._levels = build_levels(self._full, max_depth + 1) if self._parent is None else []
        self.prepareGeometryChange()
        if n:
            x0 = float(self._x.min())
            x1 = float(self._end.max())
            self._bounds = QtCore.QRectF(x0, 0.0, max(x1 - x0, 1e-12), float(self._row_h.sum()))
        else:
            self._bounds = QtCore.QRectF()
        self._changed()

    def set_colors(self, color: np.ndarray) -> None:
        """Recolour without re-sorting (colour mode changes)."""
        self._color = np.asarray(color, np.int32)[self._perm]
        self._full.color = self._color
        for level in self._levels:
            assert level.orig is not None
            level.color = self._color[level.orig]
        self._changed()

    def set_palette(self, colors: Sequence[QtGui.QColor], dim: Sequence[QtGui.QColor] | None = None) -> None:
        """Brushes by colour index; `dim` are used for boxes outside a search highlight."""
        self._brushes = [QtGui.QBrush(c) for c in colors]
        if dim is None:
            dim = [_dimmed(c) for c in colors]
        self._dim_brushes = [QtGui.QBrush(c) for c in dim]
        self._changed()

    def set_highlight(self, mask: np.ndarray | None) -> None:
        """Boxes to emphasise (search matches); others are dimmed. None = no search."""
        self._highlight = None if mask is None else np.asarray(mask, bool)[self._perm]
        self._sub_highlight = None
        if self._highlight is not None and self._parent is not None:
            self._sub_highlight = self._subtree_reduce(self._highlight.copy(), np.logical_or)
        self._changed()

    def _subtree_reduce(self, values: np.ndarray, op: np.ufunc) -> np.ndarray:
        """Fold `values` up the tree (deepest row first): values[p] = op(values[p], values[child])."""
        parent = self._parent
        assert parent is not None
        for row in range(self.max_depth, 0, -1):
            lo, hi = int(self._row_start[row]), int(self._row_start[row + 1])
            par = parent[lo:hi]
            ok = par >= 0
            op.at(values, par[ok], values[lo:hi][ok])
        return values

    def set_hover_mask(self, mask: np.ndarray | None) -> None:
        """Boxes to mark lightly (e.g. every box of the hovered function); cheap to change."""
        self._hover_mask = None if mask is None else np.asarray(mask, bool)[self._perm]
        self.update()

    def set_outline(self, mask: np.ndarray | None) -> None:
        """Boxes to outline (the selected function)."""
        self._outline = None if mask is None else np.asarray(mask, bool)[self._perm]
        self._changed()

    @property
    def box_count(self) -> int:
        return self._n

    @property
    def max_depth(self) -> int:
        return len(self._row_start) - 2

    def box_rect(self, index: int) -> QtCore.QRectF:
        """Item-space rect of a caller box index."""
        i = int(self._inv[index])
        d = int(self._depth[i])
        return QtCore.QRectF(self._x[i], float(self._row_y[d]), self._w[i], float(self._row_h[d]))

    def box_at(self, x: float, y: float) -> int:
        """Caller index of the box under item-space (x, y), or -1."""
        if self._n == 0:
            return -1
        row = int(np.searchsorted(self._row_y, y, "right")) - 1
        if row < 0 or row > self.max_depth or y >= self._row_y[row] + self._row_h[row]:
            return -1
        lo, hi = int(self._row_start[row]), int(self._row_start[row + 1])
        j = lo + int(np.searchsorted(self._x[lo:hi], x, "right")) - 1
        if j < lo or x >= self._end[j]:
            return -1
        return int(self._perm[j])

    # ------------------------------------------------------------------ Qt item
    def boundingRect(self) -> QtCore.QRectF:
        return QtCore.QRectF(self._bounds)

    def dataBounds(self, axis: int, frac: float = 1.0, orthoRange: object = None) -> tuple[float, float] | None:
        if self._n == 0:
            return None
        b = self._bounds
        return (b.left(), b.right()) if axis == 0 else (b.top(), b.bottom())

    def _visible_indices(self, vx0: float, vx1: float, d0: int, d1: int, src: _Source | None = None) -> slice | np.ndarray:
        """Internal indices of boxes intersecting [vx0, vx1) in rows d0..d1.

        A slice when the visible boxes are one contiguous run (the full view,
        or a single row): slicing numpy columns is free, gathering is not.
        """
        src = self._full if src is None else src
        vx0 -= src.slack
        ranges: list[tuple[int, int]] = []
        for row in range(max(d0, 0), min(d1, self.max_depth) + 1):
            lo, hi = int(src.row_start[row]), int(src.row_start[row + 1])
            if lo == hi:
                continue
            a = lo + int(np.searchsorted(src.end[lo:hi], vx0, "right"))
            b = lo + int(np.searchsorted(src.x[lo:hi], vx1, "left"))
            if b > a:
                if ranges and ranges[-1][1] == a:
                    ranges[-1] = (ranges[-1][0], b)
                else:
                    ranges.append((a, b))
        if not ranges:
            return slice(0, 0)
        if len(ranges) == 1:
            return slice(*ranges[0])
        return np.concatenate([np.arange(a, b) for a, b in ranges])

    def paint(
        self,
        painter: QtGui.QPainter,
        option: QtWidgets.QStyleOptionGraphicsItem | None = None,
        widget: QtWidgets.QWidget | None = None,
    ) -> None:
        self.last_paint_count = 0
        if self._n == 0:
            return
        view = self.viewRect()
        visible = self._bounds if view is None else view.intersected(self._bounds)
        if visible.isEmpty():
            return
        tr = painter.transform()
        sx, tx, sy, ty = tr.m11(), tr.dx(), tr.m22(), tr.dy()
        if sx == 0 or sy == 0:
            return
        key = (sx, tx, sy, ty, visible.left(), visible.right(), visible.top(), visible.bottom(), self._version)
        geom = self._geom
        if geom is None or key != self._geom_key or not self.cache_geometry:
            geom = self._geometry(tr, visible)
            self._geom, self._geom_key = geom, key
        if geom.rect_count == 0:
            return
        painter.save()
        painter.resetTransform()
        painter.setClipRect(geom.clip)
        draw_sorted_batches(painter, geom.buf, geom.counts, geom.brushes)
        self.last_paint_count = geom.rect_count
        if self._hover_mask is not None and len(geom.wide_orig):
            hov = geom.wide_rects[self._hover_mask[geom.wide_orig]]
            if len(hov):
                painter.setPen(self._hover_pen)
                painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
                painter.drawRects([QtCore.QRectF(x + 1.0, y + 1.0, max(w - 2.0, 1.0), h - 2.0) for x, y, w, h in hov.tolist()])
        if geom.outlines:
            painter.setPen(self._outline_pen)
            painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            painter.drawRects(geom.outlines)
        if geom.labels:
            painter.setFont(self._font)
            flags = int(QtCore.Qt.AlignmentFlag.AlignVCenter | QtCore.Qt.AlignmentFlag.AlignLeft)
            normal, dim = QtGui.QPen(self._text), QtGui.QPen(self._dim_text)
            current: bool | None = None
            for rect, text, dimmed in geom.labels:
                if dimmed is not current:
                    painter.setPen(dim if dimmed else normal)
                    current = dimmed
                painter.drawText(rect, flags, text)
        painter.restore()

    def _geometry(self, tr: QtGui.QTransform, visible: QtCore.QRectF) -> _Geometry:
        """Cull, merge and batch: everything paint() needs, in device pixels."""
        geom = _Geometry()
        sx, tx, sy, ty = tr.m11(), tr.dx(), tr.m22(), tr.dy()
        d0 = int(np.searchsorted(self._row_y + self._row_h, visible.top(), "right"))
        d1 = int(np.searchsorted(self._row_y, visible.bottom(), "left")) - 1
        src = self._full
        for level in self._levels:  # coarsest first: the first whose bins are under a pixel
            if level.bin_width * abs(sx) <= 1.0:
                src = level
                break
        vis = self._visible_indices(visible.left(), visible.right(), d0, d1, src)
        count = (vis.stop - vis.start) if isinstance(vis, slice) else len(vis)
        if count == 0:
            return geom
        if self._pw is not None:
            # tree fast path: only boxes whose parent spans ≥ 1 px (wide boxes and the spike roots)
            keep = np.flatnonzero(self._pw[vis] * abs(sx) >= 1.0)
            vis = keep + vis.start if isinstance(vis, slice) else vis[keep]
            if len(vis) == 0:
                return geom
        dev = tr.mapRect(visible)
        geom.clip = dev
        left_px, right_px = dev.left() - 2.0, dev.right() + 2.0
        xs, ends = src.x[vis], src.end[vis]
        if sx > 0:
            a = xs * sx + tx
            b = ends * sx + tx
        else:
            a = ends * sx + tx
            b = xs * sx + tx
        np.maximum(a, left_px, out=a)
        np.minimum(b, right_px, out=b)
        wpx = b - a
        # device top and height of every row (few rows: computed per row, gathered per box)
        ya = self._row_y * sy + ty
        yb = (self._row_y + self._row_h) * sy + ty
        row_top = np.minimum(ya, yb)
        row_px = np.abs(yb - ya)
        row_px = row_px - np.where(row_px > 4.0, 1.0, 0.0)  # 1 px gap between rows when there is room

        wide_mask = wpx >= 1.0
        wide = np.flatnonzero(wide_mask)
        narrow = np.flatnonzero(~wide_mask)
        if isinstance(vis, slice):  # offsets instead of gathers
            wide_idx = wide + vis.start
            narrow_idx = narrow + vis.start
        else:
            wide_idx = vis[wide]
            narrow_idx = vis[narrow]
        rects_w = np.empty((len(wide), 4), np.float64)
        rects_w[:, 0] = a[wide]
        wide_depth = src.depth[wide_idx]
        rects_w[:, 1] = row_top[wide_depth]
        rects_w[:, 2] = wpx[wide] - np.where(wpx[wide] > 3.0, 1.0, 0.0)
        rects_w[:, 3] = row_px[wide_depth]
        color_w = src.color[wide_idx]
        wide_orig = wide_idx if src.orig is None else src.orig[wide_idx]  # index into the full data
        hl_w = self._highlight[wide_orig] if self._highlight is not None else None
        rects_n, color_n, hl_n = self._merge_narrow(src, narrow_idx, a[narrow], row_top, row_px)
        rects = np.concatenate((rects_w, rects_n))
        ncol = len(self._brushes)
        color = np.clip(np.concatenate((color_w, color_n)), 0, ncol - 1)
        geom.brushes = self._brushes
        if hl_w is not None and hl_n is not None:
            color = np.where(np.concatenate((hl_w, hl_n)), color, color + ncol)
            geom.brushes = self._brushes + self._dim_brushes
        geom.buf, geom.counts = sort_rect_batches(rects, color, len(geom.brushes))
        geom.rect_count = len(rects)
        geom.wide_orig, geom.wide_rects = wide_orig, rects_w
        if self._outline is not None:
            sel = np.flatnonzero(self._outline[wide_orig])
            geom.outlines = [  # selected function
                QtCore.QRectF(x0 + 0.5, y0 + 0.5, max(w - 1.0, 1.0), h - 1.0) for x0, y0, w, h in rects_w[sel].tolist()
            ]
        labelled = wpx[wide] >= MIN_LABEL_PX
        geom.labels = self._labels_for(wide_orig[labelled], rects_w[labelled])
        return geom

    def _labels_for(self, idx: np.ndarray, rects: np.ndarray) -> list[tuple[QtCore.QRectF, str, bool]]:
        """Names for boxes wide and tall enough, elided only when they might not fit."""
        fm = QtGui.QFontMetricsF(self._font)
        min_h = fm.height() - 2
        if len(idx) == 0:
            return []
        char_w = max(fm.averageCharWidth(), 1.0)
        highlight = self._highlight
        labels = self._labels
        perm = self._perm
        elide = QtCore.Qt.TextElideMode.ElideRight
        out = []
        for i, (x0, y0, w, h) in zip(idx.tolist(), rects.tolist(), strict=True):
            if h < min_h:
                continue
            room = w - 5.0
            text = labels[int(perm[i])]
            if not text:
                continue
            if len(text) * char_w * 1.35 > room:  # might not fit: measure properly
                if room < 2 * char_w:
                    continue
                text = fm.elidedText(text, elide, room)
                if len(text) < 2:
                    continue
            dimmed = highlight is not None and not highlight[i]
            out.append((QtCore.QRectF(x0 + 3.0, y0, room, h), text, dimmed))
        return out

    def _merge_narrow(
        self, src: _Source, idx: np.ndarray, px0: np.ndarray, row_top: np.ndarray, row_px: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Sub-pixel boxes → runs of adjacent pixel columns, at most MERGE_RUN_PX wide.

        Boxes are sorted by (depth, x), so run detection is one vectorised pass.
        A run takes the colour of its first box; runs break every MERGE_RUN_PX
        pixels so dense regions keep some of their texture.
        """
        if len(idx) == 0:
            return np.zeros((0, 4)), np.zeros(0, np.int32), (None if self._highlight is None else np.zeros(0, bool))
        col = (px0 + 16.0).astype(np.int64) - 16  # floor (px0 > -16 after clipping)
        row = src.depth[idx]
        # a run starts on a new row, after a gap of ≥ 1 column, or at a MERGE_RUN_PX boundary;
        # several boxes in the same column simply extend the current run
        block = col // MERGE_RUN_PX
        start = np.empty(len(idx), bool)
        start[0] = True
        np.not_equal(row[1:], row[:-1], out=start[1:])
        start[1:] |= col[1:] > col[:-1] + 1
        start[1:] |= block[1:] != block[:-1]
        starts = np.flatnonzero(start)
        ends = np.empty_like(starts)
        ends[:-1] = starts[1:] - 1
        ends[-1] = len(idx) - 1
        rects = np.empty((len(starts), 4), np.float64)
        rects[:, 0] = col[starts]
        rows = row[starts]
        rects[:, 2] = col[ends] - col[starts] + 1
        if self._sub is not None and src.orig is None:
            # spikes: from the run's row down (or up) to the deepest descendant of any box in it
            last = np.maximum.reduceat(self._sub[idx], starts)
            y0 = np.minimum(row_top[rows], row_top[last])
            y1 = np.maximum(row_top[rows] + row_px[rows], row_top[last] + row_px[last])
            rects[:, 1] = y0
            rects[:, 3] = y1 - y0
        else:
            rects[:, 1] = row_top[rows]
            rects[:, 3] = row_px[rows]
        first_box = idx[starts]
        hl = None
        marks = self._sub_highlight if self._sub_highlight is not None else self._highlight
        if marks is not None:
            # a run is highlighted if any box in it (or, for spikes, below it) matches
            full = idx if src.orig is None else src.orig[idx]
            cum = np.concatenate(([0], np.cumsum(marks[full], dtype=np.int64)))
            hl = (cum[ends + 1] - cum[starts]) > 0
        return rects, src.color[first_box], hl

    # ------------------------------------------------------------------ mouse
    def mouseClickEvent(self, ev: object) -> None:
        button = ev.button()  # type: ignore[attr-defined]
        pos = ev.pos()  # type: ignore[attr-defined]
        box = self.box_at(pos.x(), pos.y())
        if button == QtCore.Qt.MouseButton.RightButton:
            ev.accept()  # type: ignore[attr-defined]
            self.boxContextMenu.emit(box, ev.screenPos().toPoint())  # type: ignore[attr-defined]
            return
        if button != QtCore.Qt.MouseButton.LeftButton:
            return
        ev.accept()  # type: ignore[attr-defined]
        if ev.double():  # type: ignore[attr-defined]
            self.boxDoubleClicked.emit(box)
        else:
            self.boxClicked.emit(box)

    def hoverEvent(self, ev: object) -> None:
        if ev.isExit():  # type: ignore[attr-defined]
            box = -1
        else:
            pos = ev.pos()  # type: ignore[attr-defined]
            box = self.box_at(pos.x(), pos.y())
        if box != self._hover:
            self._hover = box
            tip = self.tooltip_fn(box) if (box >= 0 and self.tooltip_fn is not None) else ""
            self.setToolTip(tip)
            self.boxHovered.emit(box)


def _dimmed(c: QtGui.QColor) -> QtGui.QColor:
    """A washed-out version of a colour, for boxes that do not match a search."""
    g = int(0.3 * c.red() + 0.59 * c.green() + 0.11 * c.blue())
    g = 200 + (g - 200) // 4
    return QtGui.QColor(g, g, g)


class FlameViewBox(pg.ViewBox):
    """A ViewBox that zooms only in x, keeps rows ROW_PX tall and scrolls y by dragging."""

    def __init__(self, icicle: bool = True) -> None:
        super().__init__(enableMenu=False, invertY=icicle)
        self.setMouseEnabled(x=True, y=False)
        self._total = (0.0, 1.0)
        self._rows = 1
        self.sigResized.connect(self._fit_rows)

    def set_extent(self, x0: float, x1: float, rows: int) -> None:
        """Limits of the content: x span and number of rows."""
        self._total = (x0, max(x1, x0 + 1e-12))
        self._rows = max(rows, 1)
        span = self._total[1] - self._total[0]
        self.setLimits(xMin=self._total[0], xMax=self._total[1], maxXRange=span, minXRange=span * 1e-7)
        self._fit_rows()

    def visible_rows(self) -> float:
        h = self.height()
        return max(h / ROW_PX, 1.0) if h > 0 else float(self._rows)

    def _fit_rows(self) -> None:
        rows = self.visible_rows()
        y_top = max(float(self._rows), rows)
        self.setLimits(yMin=0.0, yMax=y_top, minYRange=rows, maxYRange=rows)
        y0 = float(self.viewRange()[1][0])
        y0 = min(max(y0, 0.0), y_top - rows)
        self.setYRange(y0, y0 + rows, padding=0.0)

    def reset_view(self) -> None:
        self.setXRange(self._total[0], self._total[1], padding=0.0)
        rows = self.visible_rows()
        self.setYRange(0.0, rows, padding=0.0)

    def wheelEvent(self, ev: object, axis: object = None) -> None:
        """Wheel zooms x around the cursor; Shift+wheel scrolls rows (deep stacks)."""
        mods = ev.modifiers()  # type: ignore[attr-defined]
        if mods & QtCore.Qt.KeyboardModifier.ShiftModifier:
            ev.accept()  # type: ignore[attr-defined]
            rows = -ev.delta() / 120.0 * 3.0  # type: ignore[attr-defined]  # three rows per notch
            self.translateBy(y=-rows if self.yInverted() is False else rows)
            return
        super().wheelEvent(ev, axis)

    def mouseDragEvent(self, ev: object, axis: object = None) -> None:
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:  # type: ignore[attr-defined]
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()  # type: ignore[attr-defined]
        a = self.mapToView(ev.lastPos())  # type: ignore[attr-defined]
        b = self.mapToView(ev.pos())  # type: ignore[attr-defined]
        self._resetTarget()
        self.translateBy(x=a.x() - b.x(), y=a.y() - b.y())
        self.sigRangeChangedManually.emit(self.state["mouseEnabled"])
