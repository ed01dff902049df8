"""A saved layout must not bring back a raised tab that has nothing to show in the next window.

After one `open X --baseline Y` the Compare pane is raised; the layout saved on exit kept it in
front, so every later window opened on an empty Compare pane ("No baseline") over the Event loop.
"""

from __future__ import annotations

from typing import Any

import pytest
from cprofile_files import write_cprofile
from PySide6.QtWidgets import QApplication
from qt_windows import open_window, private_settings

from pyrometer.app.main_window import MainWindow
from pyrometer.app.session_view import SessionView
from pyrometer.core.example_profiles import server_profile


@pytest.fixture
def window(qtbot: Any, qapp: Any, tmp_path: Any) -> MainWindow:
    private_settings(tmp_path)
    win = open_window(qtbot, 1366, 740)
    qtbot.waitExposed(win)
    return win


def settle() -> None:
    for _ in range(5):
        QApplication.processEvents()


def in_front(view: SessionView, pane_id: str) -> bool:
    pane = view.pane(pane_id)
    assert pane is not None
    return pane.isVisible() and not pane.visibleRegion().isEmpty()


def test_an_empty_compare_tab_saved_in_front_is_not_restored_in_front(qtbot: Any, window: MainWindow) -> None:
    first = window.open_profile(server_profile())
    settle()
    first.doc.set_baseline(server_profile(), "base.pyro")  # what `open X --baseline Y` does
    first.show_pane("compare")
    settle()
    assert in_front(first, "compare")
    first.save_layout()
    view = window.open_profile(server_profile())  # the next window: no baseline
    settle()
    assert view._restored
    assert not in_front(view, "compare")
    assert in_front(view, "event_loop")


def test_an_empty_history_tab_saved_in_front_is_not_restored_in_front(qtbot: Any, window: MainWindow) -> None:
    first = window.open_profile(server_profile())
    settle()
    first.show_pane("history")
    settle()
    assert in_front(first, "history")
    first.save_layout()
    view = window.open_profile(server_profile())  # no run history (a private PYROMETER_HOME)
    settle()
    assert view._restored
    assert not in_front(view, "history")
    assert in_front(view, "event_loop")


def test_a_tab_the_user_left_in_front_stays_in_front(qtbot: Any, window: MainWindow) -> None:
    first = window.open_profile(server_profile())
    settle()
    first.show_pane("tasks")
    settle()
    first.save_layout()
    view = window.open_profile(server_profile())
    settle()
    assert view._restored
    assert in_front(view, "tasks")


def pstats_file(tmp_path: Any) -> Any:
    return write_cprofile(tmp_path / "p.prof")


def test_a_call_statistics_profile_opens_on_a_pane_with_something_in_it(qtbot: Any, window: MainWindow, tmp_path: Any) -> None:
    """No event loop, no order of calls: neither the Event loop nor the Stack chart in front (both only say so)."""
    from pyrometer.core.formats.registry import load_profile

    view = window.open_profile(load_profile(pstats_file(tmp_path)))  # no saved layout: the default one
    settle()
    assert not view._restored
    assert not in_front(view, "event_loop") and not in_front(view, "stack_chart")
    assert in_front(view, "source")
    window.close_tab(0)
    first = window.open_profile(server_profile())  # an asyncio profile leaves the Event loop in front
    settle()
    first.show_pane("event_loop")
    settle()
    first.save_layout()
    view = window.open_profile(load_profile(pstats_file(tmp_path)))
    settle()
    assert view._restored
    assert not in_front(view, "event_loop") and not in_front(view, "stack_chart")


def test_a_pane_asked_for_as_the_view_opens_stays_in_front(qtbot: Any, window: MainWindow) -> None:
    """`open NEW --baseline OLD` with no saved layout: Compare is asked for as the tab opens, before
    its first lay-out, which raised the default bottom tab (Event loop) over it again."""
    view = window.open_profile(server_profile())  # no settle: the view is not laid out yet
    view.doc.set_baseline(server_profile(), "base.pyro")
    view.show_pane("compare")
    settle()
    assert not view._restored
    assert in_front(view, "compare")
    assert not in_front(view, "event_loop")
