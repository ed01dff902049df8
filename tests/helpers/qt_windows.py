"""Opening a main window or one pane the way the app tests all need it: one place, so a change to how
the app starts (settings location, exposure, first refresh) is made once for every test."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QPoint, QSettings, Qt

from pyrometer.app.main_window import MainWindow, application

W = TypeVar("W")


def private_settings(tmp_path: Path) -> Path:
    """Keep QSettings (layout, recent files, theme) inside the test's temp dir; returns that folder."""
    folder = tmp_path / "settings"
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    return folder


def open_window(qtbot: Any, width: int, height: int) -> MainWindow:
    """A shown MainWindow of that size that reports errors quietly (no modal boxes in tests)."""
    application()
    win = MainWindow()
    win.quiet_errors = True
    qtbot.addWidget(win)
    win.resize(width, height)
    win.show()
    return win


def show_pane(qtbot: Any, pane: W, width: int, height: int) -> W:
    """Show a pane at that size, wait until it is on screen, and draw it once."""
    qtbot.addWidget(pane)
    pane.resize(width, height)  # type: ignore[attr-defined]
    pane.show()  # type: ignore[attr-defined]
    qtbot.waitExposed(pane)
    pane.refresh()  # type: ignore[attr-defined]
    return pane


def double_click(qtbot: Any, widget: Any, pos: QPoint) -> None:
    """The real event sequence of a double-click (press, release, dblclick, release)."""
    left = Qt.MouseButton.LeftButton
    qtbot.mousePress(widget, left, pos=pos)
    qtbot.mouseRelease(widget, left, pos=pos)
    qtbot.mouseDClick(widget, left, pos=pos)
    qtbot.mouseRelease(widget, left, pos=pos)


def open_server_recording(qtbot: Any, tmp_path: Path) -> Any:
    """A 1440x900 window (its own settings) with the example server's recording open, as `pyrometer open` does;
    returns its SessionView."""
    from pyrometer.core.example_profiles import server_profile
    from pyrometer.core.formats.registry import export_profile

    private_settings(tmp_path)
    win = open_window(qtbot, 1440, 900)
    path = tmp_path / "server.pyro"
    export_profile(server_profile(), path)
    win.open_files([path], show_dialog=False)
    qtbot.waitUntil(lambda: bool(win.views()) or bool(win.errors), timeout=20000)
    assert not win.errors, win.errors
    return win.views()[0]
