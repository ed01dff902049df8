"""Exporting the flame graph and plots to PNG and SVG (plot_export)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtGui
from qt_windows import show_pane

from pyrometer.app.document import Document
from pyrometer.app.panes.event_loop import EventLoopPane
from pyrometer.app.panes.flame import FlamePane
from pyrometer.app.plot_export import ExportError, export_image
from pyrometer.core.model import UNIT_SAMPLES, BlockingEvent, Profile


def make_profile() -> Profile:
    """main → work → compute (4), main → work (2), main → idle (2)."""
    p = Profile(unit=UNIT_SAMPLES)
    main = p.intern_frame("main", "/home/u/app.py", 10, 1)
    work = p.intern_frame("work", "/home/u/app.py", 20, 18)
    compute = p.intern_frame("compute", "/home/u/app.py", 30, 28)
    idle = p.intern_frame("idle", "/home/u/app.py", 40, 38)
    stacks = [p.intern_stack_path([main, work, compute])] * 4
    stacks += [p.intern_stack_path([main, work])] * 2 + [p.intern_stack_path([main, idle])] * 2
    p.add_samples(np.arange(8) * 0.01, np.zeros(8, np.int32), np.array(stacks))
    p.finish()
    return p


def loop_profile() -> Profile:
    """Lag probes with a spike and one blocking event."""
    p = Profile()
    lag = np.full(50, 0.001, np.float32)
    lag[25] = 0.3
    p.add_lag(np.arange(50) * 0.1, np.zeros(50, np.int32), lag)
    s = p.intern_stack_path([p.intern_frame("crunch", "/srv/work.py", 12, 10)])
    p.blocking.append(BlockingEvent(start=2.2, duration=0.3, loop=0, thread=1, stack=s))
    return p


@pytest.fixture
def flame(qtbot):  # type: ignore[no-untyped-def]
    pane = show_pane(qtbot, FlamePane(Document(make_profile())), 800, 300)
    return pane


def test_png_of_the_flame_graph(flame: FlamePane, tmp_path: Path) -> None:
    widget = flame.export_widget()
    assert widget is not None
    out = export_image(widget, tmp_path / "flame.png")
    img = QtGui.QImage(str(out))
    assert (img.width(), img.height()) == (widget.width(), widget.height())
    # the root box spans the top row: its colour is not the background
    assert img.pixelColor(img.width() - 5, 10) != widget.palette().color(QtGui.QPalette.ColorRole.Base)
    big = QtGui.QImage(str(export_image(widget, tmp_path / "flame2x.png", scale=2.0)))
    assert big.width() == 2 * widget.width()


def test_svg_of_the_flame_graph_is_vector(flame: FlamePane, tmp_path: Path) -> None:
    widget = flame.export_widget()
    assert widget is not None
    out = export_image(widget, tmp_path / "flame.svg")
    text = out.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert "compute" in text and "main" in text  # labels are text, not pixels
    assert text.count("<path") + text.count("<rect") >= 5


def test_svg_and_png_of_a_plot(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pane = EventLoopPane(Document(loop_profile()))
    qtbot.addWidget(pane)
    pane.resize(900, 500)
    pane.show()
    pane.refresh()
    plot = pane.export_widget()
    assert plot is not None
    assert export_image(plot, tmp_path / "lag.svg").stat().st_size > 1000
    assert not QtGui.QImage(str(export_image(plot, tmp_path / "lag.png"))).isNull()


def test_bad_format_and_unwritable_path(flame: FlamePane, tmp_path: Path) -> None:
    widget = flame.export_widget()
    assert widget is not None
    with pytest.raises(ExportError, match="unsupported image format"):
        export_image(widget, tmp_path / "flame.gif")
    with pytest.raises(ExportError, match="cannot write"):
        export_image(widget, tmp_path / "missing-dir" / "flame.png")
