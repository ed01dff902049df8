"""`pyrometer open` reads files on a thread while Qt is imported; shiboken's start-up iterates
sys.modules, so an import on that thread at the same moment aborted the process ("RuntimeError:
dictionary changed size during iteration", Fatal Python error). Qt's binding starts first now."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import argparse, sys
import pyrometer.core.formats.prefetch as prefetch_module
from pyrometer.app import launcher

def prefetch(paths):  # stands in for the real one: report the state it would start its thread in
    print("shiboken ready:", "shiboken6" in sys.modules, flush=True)
    raise SystemExit(0)

prefetch_module.prefetch = prefetch
launcher.run_open(argparse.Namespace(files=[sys.argv[1]], baseline=None))
"""


def test_qt_binding_is_started_before_the_prefetch_thread(tmp_path: Path) -> None:
    (tmp_path / "p.collapsed").write_text("main;work 3\n")
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "p.collapsed")], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "shiboken ready: True" in out.stdout, out.stdout + out.stderr
