"""Run a headless `pyrometer` command in this process or in a real one, with one result type.

A fresh interpreter per command costs ~0.3 s of CPU (numpy and the format
readers load again) and most tests check what a command prints, not the
process boundary. `run_cli` runs `pyrometer.cli.main` here, with stdout and
stderr captured and argparse's usage exit caught; `run_cli_process` is the
real console entry (`python -m pyrometer`) for the tests that are about the
process: its exit status, its environment, what it imports.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

HEADLESS = ("stats", "convert", "diff", "report", "history")


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """`pyrometer ARGS` in this process; only the headless commands that touch no global state."""
    from pyrometer.cli import main

    argv = [str(a) for a in args]
    assert not argv or argv[0] in HEADLESS or argv[0].startswith("-"), f"not a headless command: {argv}"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: usage errors (2) and --help (0)
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return subprocess.CompletedProcess(["pyrometer", *argv], code, out.getvalue(), err.getvalue())


def run_cli_process(*args: str | Path, timeout: float = 60, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """`python -m pyrometer ARGS` as a real process (kwargs go to subprocess.run, e.g. env)."""
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "pyrometer", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, check=False, **kwargs,
    )  # fmt: skip
