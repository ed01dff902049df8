"""`pyrometer history` tells apart functions whose name and file name are the same.

A program profiled on Python 3.11 and then on 3.13 (an upgrade being checked) had each
standard-library function twice, from two threading.py files, and both rows read
"Condition.wait (threading.py)": two different numbers under one label.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from agent_harness import pyenv_python

SCRIPT = """
import threading
def main():
    done = threading.Event()
    t = threading.Thread(target=done.set)
    t.start()
    t.join()
    cond = threading.Condition()
    with cond:
        cond.wait(0.05)
main()
"""


def _cprofile(python: str, script: Path, out: Path) -> None:
    subprocess.run([python, "-m", "cProfile", "-o", str(out), str(script)], check=True, timeout=60)


def test_same_name_and_file_name_from_two_pythons_are_told_apart(tmp_path: Path) -> None:
    old, new = pyenv_python("3.11"), pyenv_python("3.13")
    if old is None or new is None:
        pytest.skip("needs pyenv's Python 3.11 and 3.13")
    script = tmp_path / "waits.py"
    script.write_text(SCRIPT)
    _cprofile(old, script, tmp_path / "a.prof")
    _cprofile(new, script, tmp_path / "b.prof")
    env = {**os.environ, "PYROMETER_HOME": str(tmp_path / "home")}

    def cli(*args: str | Path) -> str:
        res = subprocess.run([sys.executable, "-m", "pyrometer", *map(str, args)], capture_output=True, text=True, env=env, timeout=60)
        assert res.returncode == 0, res.stderr
        return res.stdout

    cli("history", "--import", tmp_path / "a.prof", tmp_path / "b.prof", "--name", "waits")
    out = cli("history", "waits", "--top", "0")
    head = out.splitlines().index(next(line for line in out.splitlines() if line.strip().startswith("avg ")))
    rows = []
    for line in out.splitlines()[head + 1 :]:
        if not line.strip():
            break
        rows.append(line)
    labels = [line.split(maxsplit=7)[7] for line in rows]  # after avg min max last avg% last% runs
    assert len(labels) > 20, out
    twice = sorted({label for label in labels if labels.count(label) > 1})
    assert twice == [], twice  # e.g. "wait (threading.py)" for 3.11's and 3.13's, and for Condition's and Event's
    waits = [label for label in labels if label.startswith("wait (")]
    assert any("python3.11/" in w for w in waits) and any("python3.13/" in w for w in waits), waits
