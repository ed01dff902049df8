"""Files without a time axis open without a timeline or replay bar, and counts are sample counts.

A collapsed-stacks file (py-spy raw, stackcollapse) holds counts per stack and
no timestamps: the window must not invent a time axis ("16:57.000" replay
position for a 6 s program), its Samples column and status bar must count
samples (each line stands for its count), the figure `stats` prints.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from qt_windows import open_window, private_settings

from pyrometer.app.panes.function_model import COL_FUNCTION, COL_SAMPLES
from pyrometer.core.cli.summary import build_summary
from pyrometer.core.formats.registry import load_profile

COLLAPSED = "main;parse;read 505\nmain;parse 12\nmain;render 300\nmain 7\n"


@pytest.fixture
def window(qtbot, qapp, tmp_path, monkeypatch):
    private_settings(tmp_path)
    return open_window(qtbot, 1200, 800)


def test_collapsed_file_has_no_time_axis_and_counts_samples(qtbot, window, tmp_path: Path) -> None:
    path = tmp_path / "pyspy.collapsed"
    path.write_text(COLLAPSED)
    counts = {line.rsplit(" ", 1)[0].split(";")[-1]: int(line.rsplit(" ", 1)[1]) for line in COLLAPSED.splitlines()}
    total = sum(counts.values())  # 824, read off the file
    window.open_files([path], show_dialog=False)
    qtbot.waitUntil(lambda: window.tabs.count() > 0 or bool(window.errors), timeout=20000)
    assert not window.errors
    view = window.current_view()
    assert view is not None
    view.refresh_visible()
    assert view.replay_bar is None
    timeline = view.pane("timeline")
    assert timeline is None or not view.docks[timeline.objectName()].isVisible()
    window.update_status()
    assert window.status_label.text().startswith(f"{total:,} samples")
    assert build_summary(load_profile(path))["samples"] == total
    functions = view.pane("Functions")
    model = functions.model
    rows = {model.data(model.index(r, COL_FUNCTION)): model.data(model.index(r, COL_SAMPLES)) for r in range(model.rowCount())}
    shown = {name: int(str(v).replace(",", "")) for name, v in rows.items() if v not in (None, "")}
    # the Samples column counts samples with the function on the stack: read 505, main all of them
    assert shown["read"] == counts["read"] and shown["main"] == total
