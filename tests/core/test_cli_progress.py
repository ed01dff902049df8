"""Progress appears on stderr only when stderr is a terminal (a real pseudo-terminal here)."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from pyrometer.core.cli.progress import SHOW_AFTER_ENV, TerminalProgress, terminal_progress

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX-only")


def speedscope_file(path: Path, samples: int = 2000) -> Path:
    """A small sampled speedscope profile written by hand (py-spy's shape)."""
    frames = [{"name": f"f{i}", "file": "/srv/app.py", "line": i + 1} for i in range(5)]
    doc = {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": frames},
        "profiles": [
            {
                "type": "sampled",
                "name": "MainThread",
                "unit": "seconds",
                "startValue": 0,
                "endValue": samples * 0.01,
                "samples": [[0, 1, 2 + i % 3] for i in range(samples)],
                "weights": [0.01] * samples,
            }
        ],
    }
    path.write_text(json.dumps(doc))
    return path


def read_all(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO once the child side is closed (Linux)
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def drain(fd: int, quiet: float = 0.3) -> bytes:
    """Everything readable from fd until it stays quiet for `quiet` seconds."""
    chunks = []
    while select.select([fd], [], [], quiet)[0]:
        data = os.read(fd, 65536)
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def run_with_tty_stderr(*args: str) -> tuple[int, str, bytes]:
    master, slave = pty.openpty()
    env = {**os.environ, SHOW_AFTER_ENV: "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pyrometer", *args], stdout=subprocess.PIPE, stderr=slave, env=env
    )
    os.close(slave)
    try:
        err = read_all(master)
        out, _ = proc.communicate(timeout=60)
    finally:
        os.close(master)
    return proc.returncode, out.decode(), err


def test_progress_on_a_terminal_is_drawn_then_cleared(tmp_path: Path) -> None:
    f = speedscope_file(tmp_path / "p.speedscope.json")
    status, out, err = run_with_tty_stderr("stats", str(f), "--json")
    assert status == 0, err
    assert json.loads(out)["samples"] == 2000  # progress never leaks into stdout
    text = err.decode()
    assert "\r" in text and "loading p.speedscope.json" in text and "%" in text
    assert "\n" not in text.replace("\r\n", "")  # one line rewritten in place, no scrolling
    last = text.rsplit("\r", 2)
    assert last[-1] == "" and last[-2].strip() == ""  # ends by blanking the line


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    f = speedscope_file(tmp_path / "p.speedscope.json")
    env = {**os.environ, SHOW_AFTER_ENV: "0"}
    proc = subprocess.run(
        [sys.executable, "-m", "pyrometer", "stats", str(f), "--json"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert proc.returncode == 0
    assert proc.stderr == ""


def test_terminal_progress_throttles_and_clears() -> None:
    master, slave = pty.openpty()
    try:
        with open(slave, "w", closefd=False) as stream:
            progress = TerminalProgress("work", stream, show_after=0.0, redraw_every=3600.0)
            progress(0.25)
            progress(0.5)  # within the redraw interval: not drawn
            assert progress.drawn
            progress.clear()
            assert not progress.drawn
        text = drain(master).decode()
    finally:
        os.close(master)
        os.close(slave)
    assert text.count("work [") == 1 and " 25%" in text and " 50%" not in text
    assert text.endswith("\r")


def test_terminal_progress_yields_none_for_pipes(tmp_path: Path) -> None:
    with open(tmp_path / "log.txt", "w") as fh, terminal_progress("x", fh) as progress:
        assert progress is None
    master, slave = pty.openpty()
    try:
        with open(slave, "w", closefd=False) as stream, terminal_progress("x", stream) as progress:
            assert isinstance(progress, TerminalProgress)
    finally:
        os.close(master)
        os.close(slave)
