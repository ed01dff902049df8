"""`record --pid DEAD` and `attach DEAD` refuse the same bad input with the same status (tryout 2).

Both said "no such process" in one line, but `record` exited 1 and `attach` 2;
2 is the status of input refused before anything starts (bad options, an
unusable output, a target that cannot be launched).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cli_runs import run_cli_process


def _dead_pid() -> int:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    return gone.pid


def test_a_dead_pid_is_refused_with_status_2_by_record_and_attach(tmp_path: Path) -> None:
    pid = _dead_pid()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYROMETER_HOME=str(tmp_path / "home"))
    record = run_cli_process("record", "--no-history", "-o", tmp_path / "x.pyro", "--pid", pid, env=env)
    # headless: --screenshot ends the window's run (a failed session: its message and status 2)
    attach = run_cli_process("attach", "--no-history", "--screenshot", tmp_path / "shot.png", str(pid), env=env)
    for res in (record, attach):
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and f"no such process: {pid}" in lines[0], res.stderr
        assert "Traceback" not in res.stderr
    assert record.returncode == attach.returncode == 2, (record.returncode, attach.returncode)
    assert not (tmp_path / "x.pyro").exists()
