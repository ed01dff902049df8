"""Every timeline lane keeps a label, however long its thread's name.

multiprocessing.Pool's threads are "Thread-1 (_handle_workers)" and so on: wider than the
110 px lane axis, and pyqtgraph draws no tick label that does not fit, so those lanes had
none at all (only "MainThread" was labelled). Long names are elided in the middle now.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PySide6 import QtGui, QtWidgets
from qt_windows import show_pane

from pyrometer.app.document import Document
from pyrometer.app.panes.timeline import TimelinePane
from pyrometer.core.formats.registry import load_profile

PROGRAM = """
import multiprocessing.pool, time
with multiprocessing.pool.ThreadPool(1) as pool:  # its threads: Thread-1 (_handle_workers), ...
    pool.map(time.sleep, [0.05] * 4)
"""


def _drawn_labels(pane: TimelinePane) -> list[str]:
    axis = pane.lane_plot.getAxis("left")
    image = QtGui.QImage(200, 800, QtGui.QImage.Format.Format_ARGB32)
    painter = QtGui.QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    assert specs is not None
    return [text for _rect, _flags, text in specs[2]]


def test_long_thread_names_keep_a_label(qtbot, tmp_path: Path) -> None:
    script, out = tmp_path / "pool.py", tmp_path / "pool.pyro"
    script.write_text(PROGRAM)
    subprocess.run(
        [sys.executable, "-m", "pyrometer", "record", "--no-history", "-o", str(out), "--", str(script)],
        check=True, capture_output=True, timeout=60,
    )
    profile = load_profile(out)
    names = sorted(t.name for t in profile.threads.values())
    assert any("(_handle_workers)" in n for n in names), names
    pane = show_pane(qtbot, TimelinePane(Document(profile)), 1366, 500)
    QtWidgets.QApplication.processEvents()
    pane.refresh()
    labels = _drawn_labels(pane)
    assert len(labels) == len(names), (labels, names)  # one per lane, none dropped
    assert len(set(labels)) == len(names), labels  # and tells them apart
    assert any(label.endswith("(_handle_workers)") for label in labels), labels  # the column widened for it
    pane.resize(1366, 500)
    very_long = [(0.5, "Thread-9 (" + "x" * 80 + "_handle_results)")]
    (_y, label), = pane._fitting_labels(very_long)
    assert label.startswith("Thread-9 (") and label.endswith("results)") and "…" in label  # elided in the middle
