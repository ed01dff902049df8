"""Every command that opens a window says "no display" in one line (exit 2) when there is none,
instead of letting Qt abort (exit 134) with a misleading "libxcb-cursor0 is needed"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pyrometer.core import example_profiles as ex
from pyrometer.core.formats.recording import write_profile

pytestmark = pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="windows open there without DISPLAY")


def _headless_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}


@pytest.mark.parametrize("command", ["open", "demo", "run", "attach", ""])
def test_a_window_without_a_display_is_one_clear_line(tmp_path: Path, command: str) -> None:
    recording = tmp_path / "cpu.pyro"
    write_profile(ex.server_profile(), recording)
    marker = tmp_path / "ran"
    script = tmp_path / "main.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\n")
    argv = {"open": ["open", str(recording)], "demo": ["demo"], "run": ["run", "--", str(script)],
            "attach": ["attach", str(os.getpid())], "": []}[command]
    res = subprocess.run([sys.executable, "-m", "pyrometer", *argv], env=_headless_env(), capture_output=True, text=True, timeout=60)
    assert res.returncode == 2, (res.returncode, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pyrometer: no display"), res.stderr
    assert "QT_QPA_PLATFORM=offscreen" in lines[0]
    assert not marker.exists()


def test_a_screenshot_still_works_without_a_display(tmp_path: Path) -> None:
    recording = tmp_path / "cpu.pyro"
    write_profile(ex.server_profile(), recording)
    shot = tmp_path / "s.png"
    res = subprocess.run([sys.executable, "-m", "pyrometer", "open", str(recording), "--screenshot", str(shot)],
                         env=_headless_env(), capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert shot.read_bytes().startswith(b"\x89PNG")
