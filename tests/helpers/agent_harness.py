"""Run a small target program with the agent loaded from the source tree and a file sink.

Shared by the agent tests (tests/core/test_agent_*.py): the target loads
core/agent/ under a private package name, as the bootstrap does in a program
that has no pyrometer installed, and writes the stream to a `.pyro` file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pyrometer.core.formats.recording import read_recording
from pyrometer.core.model import Profile

AGENT_DIR = Path(__file__).resolve().parents[2] / "core" / "agent"

# Prepended to every target body: `agent` (the loaded package), `start(**options)`
# (starts an AgentSession on `sink`, a FileSink whose `mode` can simulate a full or
# broken transport) and `OUT`.
HARNESS = """
import importlib.util, os, sys, threading
def _load_agent(d):
    spec = importlib.util.spec_from_file_location(
        "_pyro_agent_test", os.path.join(d, "__init__.py"), submodule_search_locations=[d])
    pkg = importlib.util.module_from_spec(spec)
    sys.modules["_pyro_agent_test"] = pkg
    spec.loader.exec_module(pkg)
    import _pyro_agent_test.session, _pyro_agent_test.wire
    return _pyro_agent_test
agent = _load_agent(sys.argv[1])
OUT = sys.argv[2]

class FileSink:
    mode = "ok"            # "ok" | "full" (droppable frames refused) | "raise"
    def __init__(self, path):
        self.fh = open(path, "wb")
        self.fh.write(agent.wire.file_header())
        self.lock = threading.Lock()
        self.closed = False
        self.bytes_sent = 0
        self.sends_after_close = 0
    def send(self, data, droppable=False):
        if self.mode == "raise":
            raise OSError("sink is broken")
        if self.mode == "full" and droppable:
            return False
        with self.lock:
            if self.closed:
                self.sends_after_close += 1
            self.fh.write(data)
            self.bytes_sent += len(data)
        return True
    def flush(self):
        with self.lock:
            self.fh.flush()

def start(**opts):
    global sink
    sink = FileSink(OUT)
    session = agent.session.AgentSession(opts, sink)
    session.start()
    return session
"""


def pyenv_python(version: str) -> str | None:
    """Path of a pyenv interpreter, or None when pyenv (or that version) is missing."""
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidate = Path(root) / "versions" / version / "bin" / "python"
    if candidate.exists():
        return str(candidate)
    if shutil.which("pyenv"):
        out = subprocess.run(["pyenv", "prefix", version], capture_output=True, text=True)
        if out.returncode == 0:
            path = Path(out.stdout.strip()) / "bin" / "python"
            if path.exists():
                return str(path)
    return None


def _same_as_a_pyenv_python(versions: list[str]) -> bool:
    """Is this interpreter the same CPython (X.Y.Z) as one of `versions` from pyenv?

    The tests' venv is made from a pyenv CPython: same binary, same stdlib; only the
    venv's site-packages differ, and the agent imports none of them (tests/core/
    test_layering.py). A `current` case beside that version ran the agent twice alike."""
    here = ".".join(str(n) for n in sys.version_info[:3])
    for v in versions:
        name = v if v.count(".") == 2 else None
        if name is None:
            root = Path(os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")) / "versions"
            patches = sorted(
                (p.name for p in root.glob(f"{v}.*") if p.name.count(".") == 2 and p.name.split(".")[2].isdigit()),
                key=lambda n: int(n.split(".")[2]),
            ) if root.exists() else []
            name = patches[-1] if patches else None
        if name == here and pyenv_python(name) is not None:
            return True
    return False


def with_current(versions: list[str]) -> list[str]:
    """`versions`, plus "current" (the interpreter running the tests) unless it is one of them."""
    return list(versions) if _same_as_a_pyenv_python(versions) else ["current", *versions]


MINOR_VERSIONS = with_current(["3.9", "3.10", "3.11", "3.12", "3.13"])
"""Every CPython the agent supports, plus the one running the tests when it is none of those."""


def newest_patch(version: str) -> str:
    """The newest installed pyenv interpreter of a minor version ("3.12" -> "3.12.1"); skips when none."""
    if version == "current" or version.count(".") == 2:
        return version
    root = Path(os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")) / "versions"
    found = sorted(
        (p.name for p in root.glob(f"{version}.*") if p.name.count(".") == 2 and p.name.split(".")[2].isdigit()),
        key=lambda v: int(v.split(".")[2]),
    ) if root.exists() else []
    if not found:
        pytest.skip(f"CPython {version} is not installed (no {root}/{version}.*)")
    return found[-1]


def interpreter(version: str) -> str:
    """`current` is this interpreter; otherwise a pyenv version, skipped with a reason when missing."""
    if version == "current":
        return sys.executable
    path = pyenv_python(version)
    if path is None:
        pytest.skip(f"CPython {version} is not installed (pyenv prefix {version} found nothing)")
    return path


def run_agent_target(
    python: str, body: str, tmp_path: Path, timeout: float = 60, isolated: bool = True
) -> tuple[Profile, str, str]:
    """Run HARNESS + body; return the recording's Profile, the target's stdout and stderr.

    `isolated` runs `python -I` (no site-packages: the agent must be stdlib-only);
    trace-mode tests pass False so the target can import yappi.
    """
    script = tmp_path / "target.py"
    script.write_text(HARNESS + textwrap.dedent(body))
    out = tmp_path / "out.pyro"
    flag = "-I" if isolated else "-s"
    proc = subprocess.run(
        [python, flag, str(script), str(AGENT_DIR), str(out)], capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, f"target failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    profile, report = read_recording(out)
    assert report.clean, report.problems
    return profile, proc.stdout, proc.stderr
