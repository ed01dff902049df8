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
_RECT_BYTES = 32  # a QRectF is four doubles


def draw_rect_batches(
    painter: QtGui.QPainter,
    rects: np.ndarray,
    color: np.ndarray,
    brushes: Sequence[QtGui.QBrush],
) -> None:
    """Fill device-space rects (n×4: x, y, w, h) with one drawRects per colour index.

    The rects are reordered by colour into one contiguous float64 buffer and
    handed to QPainter as a C array (no QRectF object per box).
    """
    n = len(rects)
    if n == 0:
        return
    order = np.argsort(color, kind="stable")
    buf = np.ascontiguousarray(rects[order], dtype=np.float64)
    counts = np.bincount(color, minlength=len(brushes))
    base = buf.ctypes.data
    painter.setPen(QtCore.Qt.PenStyle.NoPen)
    start = 0
    for ci, count in enumerate(counts.tolist()):
        if count == 0:
            continue
        painter.setBrush(brushes[ci] if ci < len(brushes) else brushes[-1])
        first: QtCore.QRectF = shiboken6.wrapInstance(base + start * _RECT_BYTES, QtCore.QRectF)  # type: ignore[assignment]
        painter.drawRects(first, count)
        start += count
    del buf  # kept alive until every drawRects above returned


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
        self._labels: list[str] = []
        self._row_start = np.zeros(1, np.int64)
        self._highlight: np.ndarray | None = None  # bool per internal box
        self._outline: np.ndarray | None = None
        self._brushes: list[QtGui.QBrush] = [QtGui.QBrush(QtGui.QColor("#e8a040"))]
        self._dim_brushes: list[QtGui.QBrush] = [QtGui.QBrush(QtGui.QColor("#d8d8d8"))]
        self._text = QtGui.QColor("#1a1a1a")
        self._dim_text = QtGui.QColor("#909090")
        self._outline_pen = QtGui.QPen(QtGui.QColor("#000000"), 2.0)
        self._outline_pen.setCosmetic(True)
        self._bounds = QtCore.QRectF()
        self._font = QtGui.QFont()
        self._font.setPointSizeF(8.5)
        self.tooltip_fn: Callable[[int], str] | None = None
        self._hover = -1
        self.last_paint_count = 0  # rects drawn in the last paint (tests, benchmark)

    # ------------------------------------------------------------------ data
    def set_boxes(
        self,
        x: np.ndarray,
        width: np.ndarray,
        depth: np.ndarray,
        color: np.ndarray,
        labels: Sequence[str],
    ) -> None:
        """Replace all boxes; `color` indexes the palette set by `set_palette`."""
        x = np.asarray(x, np.float64)
        n = len(x)
        depth = np.asarray(depth, np.int32)
        perm = np.lexsort((x, depth)) if n else np.zeros(0, np.int64)
        self._perm = perm
        self._inv = np.empty(n, np.int64)
        self._inv[perm] = np.arange(n)
        self._x = x[perm]
        self._w = np.asarray(width, np.float64)[perm]
        self._end = self._x + self._w
        self._depth = depth[perm]
        self._color = np.asarray(color, np.int32)[perm] if n else np.zeros(0, np.int32)
        self._labels = [labels[i] for i in perm.tolist()]
        self._n = n
        max_depth = int(self._depth.max()) if n else -1
        self._row_start = np.searchsorted(self._depth, np.arange(max_depth + 2), "left")
        self._highlight = None
        self._outline = None
        self.prepareGeometryChange()
        if n:
            x0 = float(self._x.min())
            x1 = float(self._end.max())
            self._bounds = QtCore.QRectF(x0, 0.0, max(x1 - x0, 1e-12), float(max_depth + 1))
        else:
            self._bounds = QtCore.QRectF()
        self.update()

    def set_colors(self, color: np.ndarray) -> None:
        """Recolour without re-sorting (colour mode changes)."""
        self._color = np.asarray(color, np.int32)[self._perm]
        self.update()

    def set_palette(self, colors: Sequence[QtGui.QColor], dim: Sequence[QtGui.QColor] | None = None) -> None:
        """Brushes by colour index; `dim` are used for boxes outside a search highlight."""
        self._brushes = [QtGui.QBrush(c) for c in colors]
        if dim is None:
            dim = [_dimmed(c) for c in colors]
        self._dim_brushes = [QtGui.QBrush(c) for c in dim]
        self.update()

    def set_highlight(self, mask: np.ndarray | None) -> None:
        """Boxes to emphasise (search matches); others are dimmed. None = no search."""
        self._highlight = None if mask is None else np.asarray(mask, bool)[self._perm]
        self.update()

    def set_outline(self, mask: np.ndarray | None) -> None:
        """Boxes to outline (the selected function)."""
        self._outline = None if mask is None else np.asarray(mask, bool)[self._perm]
        self.update()

    @property
    def box_count(self) -> int:
        return self._n

    @property
    def max_depth(self) -> int:
        return len(self._row_start) - 2

    def box_rect(self, index: int) -> QtCore.QRectF:
        """Item-space rect of a caller box index."""
        i = int(self._inv[index])
        return QtCore.QRectF(self._x[i], float(self._depth[i]), self._w[i], 1.0)

    def box_at(self, x: float, y: float) -> int:
        """Caller index of the box under item-space (x, y), or -1."""
        row = int(np.floor(y))
        if self._n == 0 or row < 0 or row > self.max_depth:
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

    def _visible_indices(self, vx0: float, vx1: float, d0: int, d1: int) -> np.ndarray:
        """Internal indices of boxes intersecting [vx0, vx1) in rows d0..d1."""
        parts = []
        for row in range(max(d0, 0), min(d1, self.max_depth) + 1):
            lo, hi = int(self._row_start[row]), int(self._row_start[row + 1])
            if lo == hi:
                continue
            a = lo + int(np.searchsorted(self._end[lo:hi], vx0, "right"))
            b = lo + int(np.searchsorted(self._x[lo:hi], vx1, "left"))
            if b > a:
                parts.append(np.arange(a, b))
        if not parts:
            return np.zeros(0, np.int64)
        return np.concatenate(parts)

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
        vx0, vx1 = visible.left(), visible.right()
        d0 = int(np.floor(visible.top()))
        d1 = int(np.ceil(visible.bottom()))
        idx = self._visible_indices(vx0, vx1, d0, d1)
        if len(idx) == 0:
            return
        dev = tr.mapRect(visible)
        left_px, right_px = dev.left() - 2.0, dev.right() + 2.0

        a = self._x[idx] * sx + tx
        b = self._end[idx] * sx + tx
        px0 = np.clip(np.minimum(a, b), left_px, right_px)
        px1 = np.clip(np.maximum(a, b), left_px, right_px)
        depth = self._depth[idx]
        row_h = abs(sy)
        top = np.minimum(depth * sy + ty, (depth + 1) * sy + ty)
        wpx = px1 - px0

        wide = wpx >= 1.0
        # merge sub-pixel boxes: one per (row, pixel column); sorted (depth, x) keeps keys monotonic
        narrow = np.flatnonzero(~wide)
        if len(narrow):
            col = np.floor(px0[narrow]).astype(np.int64)
            key = depth[narrow].astype(np.int64) * 1_000_000 + col
            first = np.ones(len(narrow), bool)
            first[1:] = key[1:] != key[:-1]
            narrow = narrow[first]
        keep = np.concatenate((np.flatnonzero(wide), narrow))
        gap_x = np.where(wpx[keep] > 3.0, 1.0, 0.0)
        gap_y = 1.0 if row_h > 4 else 0.0
        rects = np.empty((len(keep), 4), np.float64)
        rects[:, 0] = np.where(wide[keep], px0[keep], np.floor(px0[keep]))
        rects[:, 1] = top[keep]
        rects[:, 2] = np.where(wide[keep], wpx[keep] - gap_x, 1.0)
        rects[:, 3] = row_h - gap_y
        ncol = len(self._brushes)
        color = np.clip(self._color[idx[keep]], 0, ncol - 1)
        brushes = self._brushes
        if self._highlight is not None:
            color = np.where(self._highlight[idx[keep]], color, color + ncol)
            brushes = self._brushes + self._dim_brushes
        painter.save()
        painter.resetTransform()
        painter.setClipRect(dev)
        draw_rect_batches(painter, rects, color, brushes)
        self.last_paint_count = len(rects)

        if self._outline is not None:
            sel = keep[self._outline[idx[keep]]]
            if len(sel):
                painter.setPen(self._outline_pen)
                painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
                for i in sel.tolist():
                    painter.drawRect(QtCore.QRectF(px0[i] + 0.5, top[i] + 0.5, max(wpx[i] - 2.0, 1.0), row_h - 2.0))

        self._paint_labels(painter, idx, px0, wpx, top, row_h)
        painter.restore()

    def _paint_labels(
        self,
        painter: QtGui.QPainter,
        idx: np.ndarray,
        px0: np.ndarray,
        wpx: np.ndarray,
        top: np.ndarray,
        row_h: float,
    ) -> None:
        fm = QtGui.QFontMetricsF(self._font)
        if row_h < fm.height() - 1:
            return
        labelled = np.flatnonzero(wpx >= MIN_LABEL_PX)
        if len(labelled) == 0:
            return
        painter.setFont(self._font)
        char_w = max(fm.averageCharWidth(), 1.0)
        flags = int(QtCore.Qt.AlignmentFlag.AlignVCenter | QtCore.Qt.AlignmentFlag.AlignLeft)
        highlight = self._highlight
        pen_normal = QtGui.QPen(self._text)
        pen_dim = QtGui.QPen(self._dim_text)
        current = None
        labels = self._labels
        for j in labelled.tolist():
            i = int(idx[j])
            room = wpx[j] - 6.0
            fit = int(room / char_w)
            text = labels[i]
            if len(text) * char_w * 1.35 > room:  # might not fit: measure properly
                if fit < 2:
                    continue
                text = fm.elidedText(text, QtCore.Qt.TextElideMode.ElideRight, room)
                if len(text) < 2:
                    continue
            pen = pen_dim if highlight is not None and not highlight[i] else pen_normal
            if pen is not current:
                painter.setPen(pen)
                current = pen
            painter.drawText(QtCore.QRectF(px0[j] + 3.0, top[j], room, row_h - 1.0), flags, text)

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
