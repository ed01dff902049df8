"""The window's session bar says when the live program starts Python child processes (not profiled)."""

from __future__ import annotations

import textwrap

from qt_windows import open_window, private_settings

PROGRAM = textwrap.dedent(
    """
    import os, subprocess, sys, time
    subprocess.run([sys.executable, "-c", "pass"])
    deadline = time.perf_counter() + 60
    while not os.path.exists(sys.argv[1]) and time.perf_counter() < deadline:
        time.sleep(0.02)
    """
)


def test_the_session_bar_says_child_processes_are_not_profiled(qtbot, qapp, tmp_path):  # type: ignore[no-untyped-def]
    private_settings(tmp_path)
    window = open_window(qtbot, 1366, 768)
    script = tmp_path / "parent.py"
    script.write_text(PROGRAM)
    release = tmp_path / "release"
    try:
        view = window.launch([str(script), str(release)])
        assert view is not None, window.errors
        assert not view.children_label.isVisibleTo(view)
        qtbot.waitUntil(lambda: view.children_label.isVisibleTo(view), timeout=20000)
        assert "not profiled" in view.children_label.text()
        assert "subprocess.Popen of python" in view.children_label.toolTip()
        release.touch()
        session = window.live_sessions[0]
        qtbot.waitUntil(lambda: not session.running, timeout=20000)
        assert view.children_label.isVisibleTo(view)  # still said once the program has ended
    finally:
        for s in list(window.live_sessions):
            s.shutdown()
