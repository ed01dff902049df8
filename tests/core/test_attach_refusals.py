"""Attach refuses clearly what it cannot do (issue 11 item 11): a stopped target, root without ptrace."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from pyrometer.core.capture import attach as attach_module
from pyrometer.core.capture.attach import AttachError, inspect_process


def test_a_stopped_target_gets_one_line_not_gdb_output() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.2)
        proc.send_signal(signal.SIGSTOP)
        deadline = time.monotonic() + 5
        while attach_module._state(proc.pid)[0] not in ("T", "t") and time.monotonic() < deadline:
            time.sleep(0.01)
        with pytest.raises(AttachError, match=rf"process {proc.pid} is stopped .* `kill -CONT {proc.pid}`"):
            inspect_process(proc.pid)
        proc.send_signal(signal.SIGCONT)
        inspect_process(proc.pid)  # running again: fine
    finally:
        proc.kill()
        proc.wait()


def test_root_is_not_told_to_use_sudo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attach_module.os, "geteuid", lambda: 0)
    hint = attach_module.ptrace_hint()
    assert "sudo" not in hint and "CAP_SYS_PTRACE" in hint
    monkeypatch.setattr(attach_module.os, "geteuid", lambda: 1000)
    assert "sudo" in attach_module.ptrace_hint()
