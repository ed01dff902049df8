"""A profile without a time axis opened over a saved layout gives the timeline's room to the middle.

After any recording (timeline on top), `pyrometer open run.pstats` restored that layout and hid
the timeline: Qt gave the freed height to the bottom tabs, so at 1366x768 the functions table and
flame graph got ~260 px and an empty Source pane ~360 px. Without a saved layout the same file
opens with the middle at ~3/4 of the height.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cprofile_files import write_cprofile
from PySide6.QtWidgets import QApplication
from qt_windows import open_window, private_settings

from pyrometer.app.main_window import MainWindow
from pyrometer.app.session_view import SessionView
from pyrometer.core.example_profiles import server_profile
from pyrometer.core.formats.registry import load_profile


@pytest.fixture
def window(qtbot: Any, qapp: Any, tmp_path: Path) -> MainWindow:
    private_settings(tmp_path)
    win = open_window(qtbot, 1366, 740)
    qtbot.waitExposed(win)
    return win


def settle() -> None:
    for _ in range(5):
        QApplication.processEvents()


def heights(view: SessionView) -> tuple[int, int]:
    """(the flame graph's dock, the tallest visible bottom tab's dock)."""
    flame = view.docks[view.pane("flame_graph").objectName()]  # type: ignore[union-attr]
    bottom = [view.docks[view.pane(p).objectName()] for p in ("event_loop", "stack_chart", "tasks", "source", "session", "console")]  # type: ignore[union-attr]
    return flame.height(), max(d.height() for d in bottom if d.isVisible() and not d.visibleRegion().isEmpty())


def test_a_timeless_profile_over_a_saved_layout_gives_the_timeline_room_to_the_middle(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    first = window.open_profile(server_profile())  # a recording: timeline, event loop
    settle()
    first.save_layout()
    path = write_cprofile(tmp_path / "run.prof")
    view = window.open_profile(load_profile(path), path)
    settle()
    qtbot.waitUntil(lambda: view._settled, timeout=5000)
    settle()
    assert view._restored and view._timeless()
    middle, bottom = heights(view)
    assert middle > 1.5 * bottom, (middle, bottom)
    assert middle > 0.5 * view.height(), (middle, view.height())
