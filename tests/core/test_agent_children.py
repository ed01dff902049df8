"""The agent says once that Python child processes are not profiled (it used to say nothing).

A program that hands its work to multiprocessing workers looked idle; now the first Python child
it starts (a fork, multiprocessing's spawn or forkserver, a subprocess of python) sends one NOTICE
of kind "child_processes", and `record` prints it. A child that is not Python (`true`) is no news.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from agent_harness import interpreter, newest_patch, run_agent_target

from pyrometer.core.agent import children

CHILDREN = """
import os, subprocess, sys
session = start()
subprocess.run(["true"])                      # not Python: nothing to say
subprocess.run([sys.executable, "-c", "pass"])  # a Python child: said once
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
session.stop(exit_status=0)
print("hook idle after stop:", agent.children._report is None)
subprocess.run([sys.executable, "-c", "pass"])  # after the session: the hook does nothing
"""


def child_notices(p: object) -> list[dict[str, object]]:
    return [n for n in p.notices if n.get("kind") == "child_processes"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("version", ["current", "3.9", "3.13"])
def test_a_python_child_is_said_once_and_other_children_not(tmp_path: Path, version: str) -> None:
    python = interpreter(newest_patch(version))
    p, out, err = run_agent_target(python, CHILDREN, tmp_path)
    (note,) = child_notices(p)
    assert note["level"] == "warning"
    assert "child processes are not profiled" in str(note["message"])
    assert "subprocess.Popen of python" in str(note["message"]), note  # the first one, named; not `true`
    assert "hook idle after stop: True" in out, (out, err)


ATTACHED_FORK = """
import os
session = start(attached=True)
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
session.stop(exit_status=0)
print("audit hook installed:", agent.children._installed)
"""

ATTACHED_LATE = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
session = start(attached=True)  # attached to a program whose worker runs already
child.kill(); child.wait()
session.stop(exit_status=0)
"""


def test_attached_it_sees_forks_and_children_already_running_without_an_audit_hook(tmp_path: Path) -> None:
    """An attached process outlives the session: no audit hook (it would tax every audited call
    for good after detach); a fork handler and a look at the children there are instead."""
    p, out, _ = run_agent_target(sys.executable, ATTACHED_FORK, tmp_path)
    (note,) = child_notices(p)
    assert "(os.fork)" in str(note["message"])
    assert "audit hook installed: False" in out
    (tmp_path / "late").mkdir()
    p, _, _ = run_agent_target(sys.executable, ATTACHED_LATE, tmp_path / "late")
    (note,) = child_notices(p)
    assert "already running (PID" in str(note["message"]), note


def test_python_program_names() -> None:
    assert children.python_program(sys.executable) is not None
    assert children.python_program("/usr/bin/python3.12") == "python3.12"
    assert children.python_program(b"/usr/bin/python3") == "python3"
    assert children.python_program("python3 -m http.server") == "python3"
    assert children.python_program(["pythonw.exe", "x.py"]) == "pythonw.exe"
    for other in ("true", "/bin/sh", "pythonista-helper", "", None, []):
        assert children.python_program(other) is None


def test_record_says_once_that_multiprocessing_workers_are_not_profiled(tmp_path: Path) -> None:
    script = tmp_path / "pool.py"
    script.write_text(
        "import multiprocessing as mp\n"
        "if __name__ == '__main__':\n"
        "    with mp.get_context('spawn').Pool(2) as pool:\n"
        "        print(sum(pool.map(abs, range(-50, 50))))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pyrometer", "record", "-o", str(tmp_path / "pool.pyro"), "--no-history", "--", str(script)],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "2500" in proc.stdout
    lines = [line for line in proc.stderr.splitlines() if "child processes are not profiled" in line]
    assert len(lines) == 1, proc.stderr
    assert "multiprocessing, spawn" in lines[0]
