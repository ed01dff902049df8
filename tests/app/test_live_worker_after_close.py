"""A live session's worker threads outlive its window quietly.

`pyrometer attach PID --screenshot ...` on a loaded machine closed the window while gdb was
still attaching; the target then exited, the attach thread reported the failure to the
deleted session and the terminal got "RuntimeError: Signal source has been deleted" with
two tracebacks after the window had gone.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

import pytest
import shiboken6
from PySide6.QtWidgets import QApplication

import pyrometer.core.capture.attach as attach_module
from pyrometer.app.live import LiveSession


def test_attach_failing_after_the_session_was_deleted_raises_nothing(qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = threading.Event()
    real_attach = attach_module.attach

    def slow_gdb(*args: Any, **kwargs: Any) -> str:
        gate.wait(30)  # gdb still working while the window closes
        return real_attach(*args, **kwargs)

    monkeypatch.setattr(attach_module, "attach", slow_gdb)
    errors: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda hook_args: errors.append(hook_args.exc_value))
    target = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        session = LiveSession.attach(target.pid, {"rate_hz": 100})
        session.start()
        worker = next(t for t in threading.enumerate() if t.name == "pyrometer-attach")
        session.shutdown(quitting=True)  # the window closes: its sessions shut down, then go
        shiboken6.delete(session)
        QApplication.processEvents()
    finally:
        target.kill()
        target.wait(10)
    gate.set()  # gdb now finds the process gone: AttachError, reported to nobody
    worker.join(30)
    assert not worker.is_alive()
    assert errors == []
