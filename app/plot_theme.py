"""Keep pyqtgraph plots in step with the Qt palette (light/dark toggles at runtime).

pyqtgraph reads its background/foreground config only when a widget or axis
is created, so panes call `restyle` on construction and again on every
QEvent.PaletteChange.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyqtgraph as pg
from PySide6 import QtGui


def restyle(palette: QtGui.QPalette, views: Iterable[pg.GraphicsView], plots: Iterable[pg.PlotItem] = ()) -> None:
    """Background = the palette's Base colour; axes, ticks and labels in its Text colour."""
    base = palette.color(QtGui.QPalette.ColorRole.Base)
    text = palette.color(QtGui.QPalette.ColorRole.Text)
    for view in views:
        view.setBackground(base)
    for plot in plots:
        for name in ("left", "bottom", "right", "top"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(text))
            axis.setTextPen(pg.mkPen(text))
        for name in ("left", "bottom"):
            label = plot.getAxis(name).label
            if label is not None:
                label.setDefaultTextColor(text)
