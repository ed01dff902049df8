"""`--screenshot-pane PANE` (id or title): one pane alone, grabbed at window size (used for the README's images)."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

COLLAPSED = "main;serve;handle;parse 40\nmain;serve;handle;render 25\nmain;idle 35\n"


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


def _shoot(tmp_path: Path, pane: str | None, *extra: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "p.collapsed"
    profile.write_text(COLLAPSED)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"))
    cmd = [sys.executable, "-m", "pyrometer", "open", str(profile), "--screenshot", str(tmp_path / "shot.png")]
    pane_args = ["--screenshot-pane", pane] if pane else []
    return subprocess.run([*cmd, *pane_args, *extra], capture_output=True, text=True, env=env, timeout=120)


def test_screenshot_pane_grabs_that_pane_alone_at_window_width(tmp_path: Path) -> None:
    out = _shoot(tmp_path, "flame graph")  # titles match case-insensitively
    assert out.returncode == 0, out.stderr
    width, height = _png_size(tmp_path / "shot.png")
    assert width >= 1400 and 500 <= height < 900  # the whole width, without menu bar and tabs


def test_screenshot_pane_names_the_panes_when_the_title_is_unknown(tmp_path: Path) -> None:
    out = _shoot(tmp_path, "Nope")
    assert out.returncode == 2
    assert "no pane 'Nope'; panes: functions (Functions), call_tree (Call tree)," in out.stderr
    assert not (tmp_path / "shot.png").exists()


def test_screenshot_pane_takes_the_stable_id(tmp_path: Path) -> None:
    out = _shoot(tmp_path, "event_loop")  # ids stay when titles change
    assert out.returncode == 0, out.stderr
    assert _png_size(tmp_path / "shot.png")[0] >= 1400


def test_screenshot_size_renders_the_window_at_that_size(tmp_path: Path) -> None:
    out = _shoot(tmp_path, None, "--screenshot-size", "1366x768")  # a laptop screen
    assert out.returncode == 0, out.stderr
    assert "propagateSizeHints" not in out.stderr  # the offscreen platform's noise is not the user's business
    assert _png_size(tmp_path / "shot.png") == (1366, 768)


def test_screenshot_size_refuses_a_size_that_is_not_wxh(tmp_path: Path) -> None:
    out = _shoot(tmp_path, None, "--screenshot-size", "big")
    assert out.returncode == 2 and "not a size WxH" in out.stderr and "Traceback" not in out.stderr
