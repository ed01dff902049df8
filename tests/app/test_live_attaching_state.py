"""A window attaching to a process says so until the agent streams, and --duration counts from there.

It said "● Live — running" with a Detach button for the seconds gdb took (17 s for the first
frame on a loaded machine, the panes showing "0 threads"), and `attach PID --duration S`
started its clock before the agent had even been injected: with gdb slower than S it
detached having recorded nothing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from typing import Any

import pytest

import pyrometer.core.capture.attach as attach_module
from pyrometer.app.live import LiveSession
from pyrometer.app.live_state import Phase

needs_gdb = pytest.mark.skipif(
    shutil.which("gdb") is None and sys.version_info < (3, 14), reason="gdb is not installed"
)

GDB_SLOWER_THAN_DURATION_S = 1.5


@needs_gdb
def test_attaching_then_running_and_duration_from_the_first_frame(qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = threading.Event()
    real_attach = attach_module.attach

    def slow_gdb(*args: Any, **kwargs: Any) -> str:
        gate.wait(30)
        return real_attach(*args, **kwargs)

    monkeypatch.setattr(attach_module, "attach", slow_gdb)
    target = subprocess.Popen(
        [sys.executable, "-c", "import time\nprint('ready', flush=True)\nwhile True: time.sleep(0.01)"],
        stdout=subprocess.PIPE,
        text=True,
    )
    session = LiveSession.attach(target.pid, {"rate_hz": 100, "duration": 0.5})
    try:
        assert target.stdout is not None and target.stdout.readline().strip() == "ready"
        session.start()
        assert session.state.phase is Phase.ATTACHING and session.state.text() == "attaching"
        assert session.running  # Detach stays offered: it cancels the attach
        qtbot.wait(int(GDB_SLOWER_THAN_DURATION_S * 1000))  # longer than --duration: not detached yet
        assert session.state.phase is Phase.ATTACHING
        gate.set()
        qtbot.waitUntil(lambda: session.state.phase is not Phase.ATTACHING, timeout=60_000)
        if session.state.phase is Phase.FAILED:
            pytest.skip("could not attach here (ptrace?)")
        qtbot.waitUntil(lambda: not session.running, timeout=60_000)  # --duration detached it
        assert session.state.phase is Phase.DETACHED
        assert session.doc.profile.sample_count > 0
        assert target.poll() is None  # detaching left it running
    finally:
        gate.set()
        session.shutdown()
        target.kill()
        target.wait(10)
