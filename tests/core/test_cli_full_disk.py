"""`convert` and `report` on a full disk: a clear line, exit 2, and no empty or torn output left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pyrometer.core.agent import wire

CLI = [sys.executable, "-m", "pyrometer"]


def _recording(path: Path, samples: int = 4000) -> Path:
    parts = [wire.file_header(), wire.json_frame(wire.META, {"pid": 1}),
             wire.frames_frame([(i, f"mod{i}.py", i, f"function_number_{i}", i) for i in range(300)]),
             wire.stacks_frame(0, [-1, *range(299)], list(range(300))),
             wire.json_frame(wire.THREADS, [[0, "MainThread", 1]])]
    parts.append(wire.samples_frame([i * 0.01 for i in range(samples)], [0] * samples,
                                    [i % 300 for i in range(samples)], [-1] * samples, [0.01] * samples, [-1.0] * samples))
    path.write_bytes(b"".join(parts))
    return path


@pytest.fixture
def tiny_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    where = tmp_path / "tiny"
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tiny tmpfs needs root")
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8k", "tmpfs", str(where)], capture_output=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.decode().strip()}")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.mark.parametrize("command", ["convert", "report"])
def test_no_empty_file_is_left_on_a_full_disk(tmp_path: Path, tiny_disk: Path, command: str) -> None:
    src = _recording(tmp_path / "in.pyro")
    out = tiny_disk / ("out.speedscope.json" if command == "convert" else "out.html")
    argv = [*CLI, "convert", str(src), str(out)] if command == "convert" else [*CLI, "report", str(src), "-o", str(out)]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert res.returncode == 2, res.stderr
    assert "No space left on device" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert os.listdir(tiny_disk) == []  # neither a 0-byte output nor a temporary


def test_a_failed_convert_keeps_the_previous_output(tmp_path: Path, tiny_disk: Path) -> None:
    src = _recording(tmp_path / "in.pyro")
    out = tiny_disk / "out.collapsed"
    out.write_text("main 1\n")
    res = subprocess.run([*CLI, "convert", str(src), str(out)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2, res.stderr
    assert out.read_text() == "main 1\n"
    assert os.listdir(tiny_disk) == ["out.collapsed"]
