"""The GUI commands end cleanly when their window is closed early: exit status 0, no hang, no crash.

Each case runs the real `pyrometer` entry point (`pyrometer.__main__.run`) in
a subprocess, with a few lines that close the window at a chosen moment (the
only thing the driver adds); the two runs go at once, since a teardown bug
shows up in some runs only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pyrometer.core.example_profiles import server_profile
from pyrometer.core.formats.registry import export_profile

RUNS = 1  # one run of each timing: three of each held a worker ~24 s (six app start-ups at once)
TIMEOUT_S = 60

# The window closes while a window-modal progress dialog of it (as FileLoader shows after 400 ms of
# loading) comes up: the GUI thread was busy, so the dialog's timer and the close are due together.
# Qt's quit-on-last-window-closed is then vetoed by the dialog, and the process used to stay alive
# with no window at all (the bug: `pyrometer open BIG.pyro`, window closed during the load).
CLOSE_UNDER_PROGRESS_DIALOG = """
import sys, time
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QProgressDialog
from pyrometer.app import launcher

real_window = launcher._window

def window(args):
    app, win = real_window(args)
    dlg = QProgressDialog("Loading…", "Cancel", 0, 0, win)
    dlg.setWindowModality(Qt.WindowModality.WindowModal)
    dlg.setMinimumDuration(100)
    dlg.setValue(0)
    QTimer.singleShot(0, lambda: time.sleep(0.3))
    QTimer.singleShot(1, win.close)
    return app, win

launcher._window = window
from pyrometer.__main__ import run
run()
"""

# `pyrometer open FILE` whose window closes at once (before the load ends, before any paint) or
# right after the load (before the first paint).
CLOSE_OPEN_WINDOW = """
import sys
from PySide6.QtCore import QTimer
from pyrometer.app import launcher

when = sys.argv.pop()
real_when = launcher._screenshot_when

def close_when(win, args, live, **kw):
    if when == "now":
        QTimer.singleShot(0, win.close)
    else:
        win.loadsFinished.connect(lambda: QTimer.singleShot(0, win.close))
    real_when(win, args, live, **kw)

launcher._screenshot_when = close_when
from pyrometer.__main__ import run
run()
"""


def _run_many(tmp_path: Path, driver: str, args: list[list[str]]) -> list[tuple[int, str]]:
    script = tmp_path / "driver.py"
    script.write_text(textwrap.dedent(driver), encoding="utf-8")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), *a], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        for a in args
    ]
    out: list[tuple[int, str]] = []
    for p in procs:
        try:
            _, err = p.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
            out.append((-999, "still running after the window closed (killed)\n" + err))
            continue
        out.append((p.returncode, err))
    return out


def _assert_all_clean(results: list[tuple[int, str]]) -> None:
    bad = [(code, err[-2000:]) for code, err in results if code != 0]
    assert not bad, f"{len(bad)} of {len(results)} runs did not exit 0: {bad}"


def test_closing_the_window_under_a_progress_dialog_ends_the_process(tmp_path: Path) -> None:
    _assert_all_clean(_run_many(tmp_path, CLOSE_UNDER_PROGRESS_DIALOG, [[]] * 2))


@pytest.mark.slow
def test_open_then_close_at_once_or_after_loading_exits_0(tmp_path: Path) -> None:
    pyro = tmp_path / "server.pyro"
    export_profile(server_profile(), pyro)
    runs = [["open", str(pyro), when] for when in ("now", "loaded") for _ in range(RUNS)]
    _assert_all_clean(_run_many(tmp_path, CLOSE_OPEN_WINDOW, runs))
