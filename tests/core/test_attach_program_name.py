"""An attached process joins its program's history under the script's path, as a launch does.

A service started as `python3 service.py` from its own directory has a relative argv[0];
its attached runs were filed under "pid 12345", a new program at every restart, so the
History view and `pyrometer history service.py` never saw them next to the launched runs.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pyrometer.core.formats.recording import RecordingError, read_recording
from pyrometer.core.history.runs import program_key_from_meta
from pyrometer.core.history.store import HistoryStore

needs_gdb = pytest.mark.skipif(
    shutil.which("gdb") is None and sys.version_info < (3, 14), reason="gdb is not installed"
)

SERVICE = """
import sys, time
print("ready", flush=True)
def serve():
    while True:
        time.sleep(0.01)
serve()
"""


def _samples_in(out: Path) -> int:
    try:
        profile, _ = read_recording(out)
    except (RecordingError, OSError):
        return 0
    return profile.sample_count


@needs_gdb
def test_attached_run_of_a_relative_script_is_filed_under_its_absolute_path(tmp_path: Path) -> None:
    workdir = tmp_path / "svc"
    workdir.mkdir()
    (workdir / "service.py").write_text(SERVICE)
    target = subprocess.Popen(
        [sys.executable, "service.py"], cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert target.stdout is not None and target.stdout.readline().strip() == "ready"
        out = tmp_path / "attached.pyro"
        env = {**os.environ, "PYROMETER_HOME": str(tmp_path / "home")}
        rec = subprocess.Popen(
            [sys.executable, "-m", "pyrometer", "record", "-o", str(out), "--pid", str(target.pid)],
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert rec.stderr is not None
        first = rec.stderr.readline()
        if "ptrace not permitted" in first or "not permitted to inspect" in first:
            rec.communicate(timeout=30)
            pytest.skip("ptrace is not permitted here: " + first.strip())
        assert "attached" in first, first
        deadline = time.monotonic() + 60
        while _samples_in(out) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        rec.send_signal(signal.SIGINT)
        _, rest = rec.communicate(timeout=60)
        assert rec.returncode == 0, first + rest
    finally:
        target.kill()
        target.communicate(timeout=10)
    profile, _ = read_recording(out)
    assert profile.meta["argv"] == ["service.py"]  # what the process itself holds
    with HistoryStore(tmp_path / "home" / "history.sqlite3") as store:
        keys = [p.key for p in store.programs()]
    assert keys == [str(workdir / "service.py")]


def test_program_key_prefers_the_absolute_script_the_agent_reported() -> None:
    meta = {"argv": ["service.py", "--port", "80"], "main_file": "/srv/app/service.py"}
    assert program_key_from_meta(meta, "pid 7") == "/srv/app/service.py"
    assert program_key_from_meta({"argv": ["/srv/app/service.py"]}, "pid 7") == "/srv/app/service.py"
    # an interactive or -c process has no script: the fallback names it
    assert program_key_from_meta({"argv": ["-c"], "main_file": None}, "pid 7") == "pid 7"
    assert program_key_from_meta({"argv": ["service.py"]}, "pid 7") == "pid 7"  # an older agent
