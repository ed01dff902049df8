"""End to end: a real program profiled live in the window; the screenshot option of the CLI."""

from __future__ import annotations

import signal
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from qt_windows import open_window, private_settings

from pyrometer.app.live_state import LiveState, Phase
from pyrometer.app.panes.function_model import COL_FUNCTION
from pyrometer.app.panes.session import session_facts
from pyrometer.core.columns import is_spilled
from pyrometer.core.example_profiles import server_profile
from pyrometer.core.formats.recording import read_recording
from pyrometer.core.formats.recording_index import build_index, read_index_frame
from pyrometer.core.formats.registry import export_profile

PROGRAM = textwrap.dedent(
    """
    import os, sys, time

    def spin_hot(release, deadline):
        # busy until the test creates the file `release` (the deadline is only a safety net)
        x = 0
        while time.perf_counter() < deadline and not os.path.exists(release):
            for _ in range(10000):
                x += 1
        return x

    def main():
        print("hello from the target", flush=True)
        spin_hot(sys.argv[1], time.perf_counter() + float(sys.argv[2]))
        print("oops on stderr", file=sys.stderr, flush=True)
        sys.exit(3)

    main()
    """
)


@pytest.fixture
def window(qtbot, qapp, tmp_path):
    private_settings(tmp_path)
    win = open_window(qtbot, 1440, 900)
    yield win
    for s in list(win.live_sessions):
        s.shutdown()


def _function_names(view: Any) -> set[str]:
    m = view.pane("Functions").model
    return {m.data(m.index(r, COL_FUNCTION)) for r in range(m.rowCount())}


def test_live_session_fills_the_panes_and_reports_the_exit(qtbot, window, tmp_path):
    script = tmp_path / "target.py"
    script.write_text(PROGRAM)
    release = tmp_path / "release"  # the program spins until this exists: it ends when the test says
    view = window.launch([str(script), str(release), "120"])
    assert view is not None, window.errors
    session = window.live_sessions[0]
    assert session.running and view.doc.is_live
    # panes fill while the program runs
    qtbot.waitUntil(lambda: "spin_hot" in _function_names(view), timeout=30000)
    assert session.running
    # ... and are refreshed at most ~10 times a second, however often batches arrive
    pane = view.pane("Functions")
    calls: list[float] = []
    original = pane.refresh
    pane.refresh = lambda: (calls.append(time.monotonic()), original())[1]  # type: ignore[method-assign,func-returns-value]
    grew = view.doc.profile.sample_count
    start = time.monotonic()
    qtbot.wait(1000)
    assert len(calls) <= (time.monotonic() - start) * 10 + 1
    qtbot.waitUntil(lambda: view.doc.profile.sample_count > grew and len(calls) >= 1, timeout=30000)
    pane.refresh = original  # type: ignore[method-assign]
    assert "samples/s" in window.status_label.text()
    # the end: exit status shown, everything kept
    assert session.running
    release.touch()
    qtbot.waitUntil(lambda: not session.running, timeout=20000)
    assert session.state == LiveState(Phase.ENDED, exit_status=3)
    assert session.state.text() == "ended, exit status 3"
    assert "The program has ended</b> (exit status 3)" in view.live_state_label.text()
    view.refresh_visible()
    assert "spin_hot" in _function_names(view)
    facts = session_facts(view.doc)
    assert "exit status 3" in facts["State"]
    assert facts["PID"] == str(session.pid)
    console = view.show_pane("Console")
    view.refresh_visible()
    text = console.text.toPlainText()
    assert "hello from the target" in text and "oops on stderr" in text
    assert "the program ended with exit status 3" in text
    # the temp recording holds the whole session and Save keeps it
    out = tmp_path / "kept.pyro"
    assert window.save_recording(view.doc, out)
    kept, _report = read_recording(out)
    assert kept.sample_count == view.doc.profile.sample_count > 0
    # the live columns grew in files of their own (issue 15) and hold exactly the rows a read of the file gives
    live = view.doc.profile
    assert is_spilled(live.samples.storage("time")) and is_spilled(live.lag.storage("time"))
    for table in ("samples", "lag"):
        for name in getattr(kept, table).names:
            assert np.array_equal(getattr(kept, table)[name], getattr(live, table)[name]), (table, name)
    # ... and ends with the index kept while it was written: the one a read of the file builds
    index = read_index_frame(out)
    assert index is not None and index.samples == kept.sample_count
    body = tmp_path / "body.pyro"
    body.write_bytes(out.read_bytes()[: index.covers])
    assert bytes(index.encode()) == bytes(build_index(body).encode())
    # the ended session joined its program's run history (added on a worker), and the History pane shows it
    from pyrometer.core.history.store import HistoryStore

    qtbot.waitUntil(lambda: view.doc.program is not None, timeout=20000)

    with HistoryStore() as store:
        (run,) = store.runs(str(script.resolve()))
    assert run.exit_status == 3 and run.samples and run.path is None  # the temp recording is not kept
    assert "spin_hot" in {f.name for f in run.functions}
    assert view.doc.program == str(script.resolve())
    history = view.show_pane("history")
    view.refresh_visible()
    assert history.program == view.doc.program and [r.id for r in history.report.runs] == [run.id]


def test_stop_ends_a_running_program(qtbot, window, tmp_path):
    script = tmp_path / "target.py"
    script.write_text(PROGRAM)
    view = window.launch([str(script), str(tmp_path / "never-created"), "60"])
    assert view is not None
    session = window.live_sessions[0]
    qtbot.waitUntil(lambda: view.doc.profile.sample_count > 0, timeout=15000)
    window.stop_live()
    qtbot.waitUntil(lambda: not session.running, timeout=15000)
    assert session.proc is not None and session.proc.poll() is not None
    assert view.doc.profile.sample_count > 0
    # the bar says how it ended: the signal that ended it (Python re-raises an unhandled SIGINT)
    code = session.proc.returncode
    assert session.state.phase is Phase.STOPPED
    assert session.state == LiveState.from_returncode(Phase.STOPPED, code)
    expected = f"stopped ({signal.Signals(-code).name})" if code < 0 else f"stopped (exit status {code})"
    assert session.state.text() == expected and view.doc.state == expected
    assert "None" not in view.live_state_label.text() and "was stopped" in view.live_state_label.text()


def test_launch_error_is_reported(qtbot, window, tmp_path):
    assert window.launch([str(tmp_path / "no_such_script.py")]) is None or window.errors
    qtbot.waitUntil(lambda: bool(window.errors), timeout=10000)


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_open_screenshot_writes_a_png_of_the_right_size(tmp_path):
    rec = tmp_path / "server.pyro"
    export_profile(server_profile(), rec)
    shot = tmp_path / "shot.png"
    env = {"QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "pyrometer", "open", str(rec), "--screenshot", str(shot)],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    w, h = _png_size(shot)
    assert w >= 1440 and h >= 900


def test_open_screenshot_of_a_bad_file_fails_with_a_message(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    env = {"QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "pyrometer", "open", str(bad), "--screenshot", str(tmp_path / "s.png")],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert proc.returncode != 0
    assert "bad.json" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_demo_screenshot(tmp_path):
    shot = tmp_path / "demo.png"
    env = {"QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "pyrometer", "demo", "--duration", "10", "--screenshot", str(shot), "--screenshot-after", "0.5"],
        capture_output=True, text=True, timeout=90, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert _png_size(shot) >= (1440, 900)


@pytest.mark.slow
def test_attach_and_detach_leaves_the_program_running(qtbot, window, tmp_path):
    import shutil

    if shutil.which("gdb") is None and sys.version_info < (3, 14):
        pytest.skip("attaching needs gdb (or Python 3.14's sys.remote_exec), not installed here")
    code = "import time\ndef tick():\n    time.sleep(0.01)\nwhile True:\n    tick()\n"
    target = subprocess.Popen([sys.executable, "-c", code])
    try:
        time.sleep(0.5)
        view = window.attach(target.pid)
        assert view is not None
        session = window.live_sessions[0]
        qtbot.waitUntil(lambda: view.doc.profile.sample_count > 20 or session.state.phase is Phase.FAILED, timeout=30000)
        if session.state.phase is Phase.FAILED:
            pytest.skip(f"attach not permitted here: {window.errors[-1] if window.errors else ''}")
        assert session.attached and window.detach_action.isEnabled()
        window.detach_live()
        qtbot.waitUntil(lambda: not session.running, timeout=15000)
        assert session.state.phase is Phase.DETACHED and session.state.keeps_running
        time.sleep(0.3)
        assert target.poll() is None  # still running after we left
        view.refresh_visible()
        assert "tick" in _function_names(view)
    finally:
        target.kill()
        target.wait()


def test_attach_to_a_missing_process_fails_with_one_line(tmp_path):
    env = {"QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "pyrometer", "attach", "999999", "--screenshot", str(tmp_path / "a.png")],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert proc.returncode == 2
    assert "999999" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "a.png").exists()


def test_a_backlog_of_frames_is_applied_in_slices(qtbot, qapp, tmp_path):
    """_drain stops after its time budget and finishes on later turns; the model ends up whole."""
    from pyrometer.app.live import LiveSession
    from pyrometer.core.formats.recording import iter_raw_frames

    rec = tmp_path / "server.pyro"
    export_profile(server_profile(), rec)
    frames = list(iter_raw_frames(rec))
    assert len(frames) > 3
    session = LiveSession({}, "replayed", save_path=tmp_path / "live.pyro")
    session.feed.put(list(frames))
    session._drain(budget_s=0.0)  # a budget already spent: one frame per turn
    assert session.feed.pending == len(frames) - 1
    assert session._drain_timer.isActive()  # the rest continues on the next event-loop turn
    qtbot.waitUntil(lambda: not session.feed.pending, timeout=10000)
    whole, _report = read_recording(rec)
    assert session.doc.profile.sample_count == whole.sample_count
    assert np.array_equal(session.doc.profile.samples["stack"], whole.samples["stack"])
    session.collector.close()


def test_tick_lets_a_due_timer_run_between_panes(qtbot, window, tmp_path):
    """Each stale pane refreshes on its own event-loop turn: a 10 ms timer gets in between two slow ones."""
    from PySide6.QtCore import QTimer

    rec = tmp_path / "server.pyro"
    export_profile(server_profile(), rec)
    window.open_files([rec], show_dialog=False)
    qtbot.waitUntil(lambda: window.current_view() is not None, timeout=15000)
    view = window.current_view()
    view.refresh_visible()
    order: list[str] = []
    slow = [p for p in view.visible_panes()][:2]
    assert len(slow) == 2
    for pane in slow:
        def refresh(pane=pane):  # type: ignore[no-untyped-def]
            order.append(pane.title)
            time.sleep(0.03)
        pane.refresh = refresh  # type: ignore[method-assign]
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: order.append("timer"))
    timer.start()
    view.doc.touch()  # a view change: every visible pane is stale
    qtbot.waitUntil(lambda: all(p.title in order for p in slow), timeout=5000)
    timer.stop()
    first, second = (order.index(p.title) for p in slow)
    a, b = sorted((first, second))
    assert "timer" in order[a + 1 : b], order


SHOW_PLACE = textwrap.dedent(
    """
    import os
    print("cwd=" + os.getcwd(), flush=True)
    print("value=" + os.environ.get("PYRO_TEST_VALUE", "<unset>"), flush=True)
    print("kept=" + ("yes" if "PATH" in os.environ else "no"), flush=True)
    """
)


def _console_text(view: Any) -> str:
    return view.pane("Console").text.toPlainText()


def test_launch_dialog_runs_the_program_where_and_with_the_environment_given(qtbot, window, tmp_path):
    """File › Launch with a working directory and KEY=VALUE lines: the real program sees both."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from pyrometer.app.launch_dialog import LaunchDialog

    work = tmp_path / "work dir"
    work.mkdir()
    (work / "show_place.py").write_text(SHOW_PLACE)
    filled: list[LaunchDialog] = []

    def fill() -> None:
        dlg = QApplication.activeModalWidget()
        if not isinstance(dlg, LaunchDialog):
            QTimer.singleShot(20, fill)
            return
        dlg.script.setText("show_place.py")  # relative: found in the working directory
        dlg.cwd.setText(str(work))
        dlg.env.setPlainText("# a comment\nPYRO_TEST_VALUE=hello = world\n\n")
        filled.append(dlg)
        dlg.launch_button.click()

    QTimer.singleShot(0, fill)
    window.launch_dialog()
    assert filled and not window.errors, window.errors
    session = window.live_sessions[0]
    view = window.current_view()
    qtbot.waitUntil(lambda: not session.running, timeout=30000)
    view.show_pane("Console")
    view.refresh_visible()
    lines = [ln for _t, _s, chunk in view.doc.profile.output for ln in chunk.splitlines()]
    assert f"cwd={work}" in lines
    assert "value=hello = world" in lines  # everything after the first '=' is the value
    assert "kept=yes" in lines  # added to the environment, not replacing it
    assert f"cwd={work}" in _console_text(view)
    # the next dialog starts from the values used last time
    again = LaunchDialog()
    qtbot.addWidget(again)
    assert again.script.text() == "show_place.py"
    assert again.working_directory() == str(work)
    assert again.environment() == {"PYRO_TEST_VALUE": "hello = world"}


def test_launch_dialog_refuses_a_bad_environment_line_or_directory(qtbot, window, tmp_path):
    from pyrometer.app.launch_dialog import LaunchDialog, parse_environment

    assert parse_environment("A=1\n  B = two words \n#C=3\n\nD=") == {"A": "1", "B": "two words", "D": ""}
    with pytest.raises(ValueError, match="line 2"):
        parse_environment("A=1\nnot a pair\n")
    dlg = LaunchDialog()
    qtbot.addWidget(dlg)
    dlg.script.setText(str(tmp_path / "x.py"))
    dlg.cwd.setText("")
    dlg.env.setPlainText("GOOD=1\nBAD LINE")
    dlg.accept()
    assert dlg.result() != LaunchDialog.DialogCode.Accepted and "line 2" in dlg.error.text()
    dlg.env.setPlainText("GOOD=1")
    dlg.cwd.setText(str(tmp_path / "missing"))
    dlg.accept()
    assert dlg.result() != LaunchDialog.DialogCode.Accepted and "does not exist" in dlg.error.text()
    assert window.launch(["x.py"], cwd=str(tmp_path / "missing")) is None
    assert "does not exist" in window.errors[-1]


def test_output_after_the_stream_ended_still_reaches_the_console(qtbot, qapp, tmp_path):
    """The stderr pump can lag behind the agent's END: its last lines must not be lost in a dead queue."""
    from pyrometer.app.live import LiveSession

    session = LiveSession({}, "late output", save_path=tmp_path / "live.pyro")
    session.collector.start()
    session.collector.add_output("stdout", "before the end\n")
    session.collector._finish()  # the agent's stream ends: on_end is called
    assert session.collector.wait_finished(5.0)
    session.collector.add_output("stderr", "after the end\n")  # a pump thread, late
    session._drain(None)
    texts = [(stream, text) for _t, stream, text in session.doc.profile.output]
    assert texts == [("stdout", "before the end\n"), ("stderr", "after the end\n")]
    session.collector.close()


# `pyrometer run`, closing its window as soon as the program has ended (the only thing the driver adds)
CLOSE_WHEN_ENDED = """
from PySide6.QtCore import QTimer
from pyrometer.app.main_window import MainWindow

real_start = MainWindow.start_live

def start_live(self, session):
    session.ended.connect(lambda _end: QTimer.singleShot(0, self.close))
    return real_start(self, session)

MainWindow.start_live = start_live
from pyrometer.__main__ import run
run()
"""


def test_run_exits_with_the_programs_exit_status(tmp_path):
    """Like `record`, `run` passes the program's exit status on (it used to exit 0 when the program exited 3)."""
    script = tmp_path / "target.py"
    script.write_text(PROGRAM)
    driver = tmp_path / "driver.py"
    driver.write_text(CLOSE_WHEN_ENDED)
    env = {"QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, str(driver), "run", "--", str(script), str(tmp_path / "never-created"), "0.2"],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert proc.returncode == 3, proc.stderr


def test_live_state_says_how_the_program_ended():
    """The words come from the state's fields (no text parsed back); a stop never says 'exit status None'."""
    assert LiveState.from_returncode(Phase.STOPPED, -15).text() == "stopped (SIGTERM)"
    assert LiveState.from_returncode(Phase.STOPPED, 1).text() == "stopped (exit status 1)"
    assert LiveState.from_returncode(Phase.STOPPED, None).text() == "stopped"
    assert LiveState.from_returncode(Phase.ENDED, 3).text() == "ended, exit status 3"
    assert LiveState.from_returncode(Phase.ENDED, -9).text() == "ended by signal SIGKILL"
    assert LiveState.from_returncode(Phase.ENDED, -9).headline() == ("The program has ended", "by signal SIGKILL")
    assert LiveState(Phase.DETACHED, keeps_running=True).headline() == ("Detached", "the program keeps running")
    assert [LiveState.from_returncode(Phase.ENDED, c).shell_status() for c in (0, 3, -15)] == [0, 3, 143]
    assert LiveState(Phase.STOPPING).running and not LiveState(Phase.FAILED).running


def test_the_panes_show_the_final_counts_when_the_program_ends(qtbot, window, tmp_path):
    """Frames the receiver hands over while it closes reach the model, and every visible pane
    is refreshed at the end (they kept stale counts until something was clicked)."""
    import json

    from pyrometer.core.agent import wire

    script = tmp_path / "target.py"
    script.write_text(PROGRAM)
    view = window.launch([str(script), str(tmp_path / "never-created"), "0.5"])
    assert view is not None, window.errors
    session = window.live_sessions[0]
    close = session.collector.close
    late = {"start": 0.1, "duration": 0.2, "thread": 1, "stack": -1, "callback": "late"}

    def close_while_a_frame_arrives(background: bool = False) -> None:
        session.feed.put([(wire.BLOCKING, json.dumps(late).encode())])
        close(background)

    session.collector.close = close_while_a_frame_arrives  # type: ignore[method-assign]
    shown: list[str] = []
    timeline = view.pane("timeline")
    session.ended.connect(lambda _end: shown.append(timeline.info.text()))
    qtbot.waitUntil(lambda: not session.running, timeout=20000)
    assert [e.callback for e in view.doc.profile.blocking] == ["late"]
    assert shown and "1 blocking event" in shown[0], shown


def test_an_attach_tab_is_named_after_the_program(qtbot, qapp, tmp_path):
    from pyrometer.app.live import LiveSession

    script = tmp_path / "my_server.py"
    script.write_text("import time\ntime.sleep(30)\n")
    proc = subprocess.Popen([sys.executable, "-u", str(script), "--port", "1"])
    try:
        cmdline = Path(f"/proc/{proc.pid}/cmdline")
        qtbot.waitUntil(lambda: str(script).encode() in cmdline.read_bytes(), timeout=10000)  # exec has happened
        session = LiveSession.attach(proc.pid)  # not started: naming needs no debugger
        assert session.doc.title == f"my_server.py (PID {proc.pid})"
    finally:
        proc.kill()
        proc.wait()
    modules = subprocess.Popen([sys.executable, "-m", "http.server", "--help"], stdout=subprocess.DEVNULL)
    from pyrometer.core.capture.attach import program_name

    try:
        name = program_name(modules.pid)
        assert name in ("-m http.server", None)  # None only if it already exited
    finally:
        modules.wait()
    assert program_name(2**22 + 12345) is None  # no such process: the caller says "PID N"


def test_after_run_save_the_banner_names_the_saved_file(qtbot, window, tmp_path):
    from pyrometer.app.live import LiveSession

    script = tmp_path / "target.py"
    script.write_text(PROGRAM)
    out = tmp_path / "kept.pyro"
    session = LiveSession.launch([str(script), str(tmp_path / "never-created"), "0.3"], save_path=out, parent=window)
    view = window.start_live(session)
    assert str(out) in view.live_state_label.text()
    qtbot.waitUntil(lambda: not session.running, timeout=20000)
    text = view.live_state_label.text()
    assert "Save recording" not in text and str(out) in text
    assert read_recording(out)[0].sample_count > 0


def test_detach_stays_on_screen_with_a_range_and_a_transform(qtbot, window, tmp_path):
    from pyrometer.app.panes.base import merge_function

    script = tmp_path / "target.py"
    script.write_text(PROGRAM)
    window.resize(1366, 740)
    view = window.launch([str(script), str(tmp_path / "never-created"), "3"])
    assert view is not None
    qtbot.waitUntil(lambda: "spin_hot" in _function_names(view), timeout=15000)
    view.doc.set_range(0.1, 0.2)
    merge_function(view.doc, view.doc.profile.func_name.index("spin_hot"))
    for _ in range(5):
        qtbot.wait(20)
    assert view.stop_button.isVisible() and not view.stop_button.visibleRegion().isEmpty()
    assert view.detach_button.isVisibleTo(view.live_bar)
    assert view.clear_range_button.isVisible() and view.reset_transform_button.isVisible()


def test_the_index_is_written_off_the_gui_thread_with_progress_in_the_session_bar(qtbot, window, tmp_path):
    """Issue 15: appending the recording's index at the end took seconds of the GUI thread; it runs on
    a worker now, its progress in the live bar, and the window keeps handling events meanwhile."""
    import threading

    script = tmp_path / "target.py"
    script.write_text(PROGRAM)
    view = window.launch([str(script), str(tmp_path / "never-created"), "0.5"])
    assert view is not None, window.errors
    session = window.live_sessions[0]
    release = threading.Event()
    tell = session.collector.on_close_progress

    def held(fraction: float) -> None:  # the closing thread waits here until the test has looked
        assert tell is not None
        tell(fraction)
        if fraction == 0.0:
            release.wait(20)

    session.collector.on_close_progress = held
    try:
        qtbot.waitUntil(lambda: not session.running, timeout=20000)
        # the GUI thread is free: the queued progress reaches the bar while the index is held
        qtbot.waitUntil(lambda: view.finishing_label.isVisible(), timeout=5000)
        assert session.finishing and "writing the recording's index… 0%" in view.finishing_label.text()
        assert "The program has ended" in view.live_state_label.text()
    finally:
        release.set()
    qtbot.waitUntil(lambda: not session.finishing and not view.finishing_label.isVisible(), timeout=20000)
    index = read_index_frame(session.recording_path)
    kept, _report = read_recording(session.recording_path)
    assert index is not None and index.samples == kept.sample_count == view.doc.profile.sample_count > 0


def test_the_run_history_is_added_off_the_gui_thread(qtbot, window, tmp_path, monkeypatch):
    """The per-function aggregate the run history keeps took 0.8-3.8 s of the GUI thread at 10M samples."""
    import threading

    from pyrometer.core.history import runs

    release = threading.Event()
    calls: list[tuple[object, str]] = []
    add = runs.add_profile

    def held(profile, key, path=None, status=None, db=None):  # type: ignore[no-untyped-def]
        calls.append((profile, threading.current_thread().name))
        release.wait(20)
        return add(profile, key, path, status, db)

    monkeypatch.setattr(runs, "add_profile", held)
    script = tmp_path / "target.py"
    script.write_text(PROGRAM)
    view = window.launch([str(script), str(tmp_path / "never-created"), "0.5"])
    assert view is not None, window.errors
    session = window.live_sessions[0]
    try:
        qtbot.waitUntil(lambda: not session.running and bool(calls), timeout=20000)
        qtbot.wait(50)  # the GUI thread goes on while the history waits
        assert "The program has ended" in view.live_state_label.text() and view.doc.program is None
        profile, thread = calls[0]
        assert thread != threading.main_thread().name
        assert profile is not view.doc.profile and profile.cache is not view.doc.profile.cache  # type: ignore[attr-defined]
    finally:
        release.set()
    qtbot.waitUntil(lambda: view.doc.program == str(script.resolve()), timeout=20000)
