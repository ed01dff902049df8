import shutil
from pathlib import Path

from PySide6.QtWidgets import QApplication
from qt_windows import show_pane

from pyrometer.app.document import Document
from pyrometer.app.panes.compare import ComparePane
from pyrometer.core.formats.registry import load_profile


def test_wide(qtbot, tmp_path):
    new = Path("tests/fixtures/formats/pyspy-waits.speedscope.json")
    base = tmp_path / ("a_rather_long_baseline_recording_name_from_before_the_change_" + "x" * 40 + ".speedscope.json")
    shutil.copy("tests/fixtures/formats/pyspy-waits-idle.speedscope.json", base)
    pane = show_pane(qtbot, ComparePane(Document(load_profile(new), new)), 1366, 300)
    with qtbot.waitSignal(pane.baselineChanged, timeout=20000):
        pane.load_baseline(base, show_dialog=False)
    qtbot.waitUntil(lambda: pane.diff is not None)
    QApplication.processEvents()
    print(pane.baseline_label.text(), pane.minimumSizeHint().width(), pane.baseline_label.sizeHint().width())
    assert pane.minimumSizeHint().width() <= 1366 - 20
