"""Every headless command over every hostile file of issue 11: one clean line, the right status, quickly.

The files come from tools/make_hostile.py (deep stacks, decompression bombs,
terminal escapes, absurd numbers, a flipped bit, damaged gzip, a sparse 2 GB
recording); its MANIFEST says whether each must open, open with a warning or
be refused. Runs in-process (an interpreter per run would cost more than the
runs); tools/hostile_table.py does the same through real subprocesses.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from pyrometer.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import make_hostile

SECONDS = 10.0  # of CPU (not wall: a loaded machine stretched a 3 s run to 14 s); each takes ~1-3 s (main: minutes, or out of memory)
CONTROL = {chr(c) for c in range(32) if chr(c) != "\n"} | {"\x7f"}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    # 20k levels, well past any recursion limit (the work is linear in the depth: 30k cost ~1.5x the
    # CPU); quadratic work, minutes at 30k, still takes (2/3)^2 of that here, far past SECONDS;
    # 100k is timed in test_deep_stacks.py
    return make_hostile.build(tmp_path_factory.mktemp("hostile"), deep=20_000)


def _argv(command: str, path: Path, out: Path) -> list[str]:
    if command == "stats":
        return ["stats", str(path)]
    if command == "convert":
        return ["convert", str(path), str(out / "out.speedscope.json")]
    return ["report", str(path), "-o", str(out / "out.html")]


@pytest.mark.parametrize("name", list(make_hostile.MANIFEST))
def test_every_command_handles_the_file(
    hostile: dict[str, Path], name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expect = make_hostile.MANIFEST[name]
    path = hostile[name]
    for command in ("stats", "convert", "report"):
        t0 = time.process_time()
        status = main(_argv(command, path, tmp_path))
        took = time.process_time() - t0
        out, err = capsys.readouterr()
        where = f"{command} {name}: {err.strip()[:300]}"
        assert "Traceback" not in err and "internal error" not in err, where
        assert not CONTROL & set(out + err), where
        assert took < SECONDS, (where, took)
        if expect == "refuse":
            assert status == 2, where
            lines = err.strip().splitlines()
            assert len(lines) == 1 and str(path) in lines[0], where
            assert make_hostile.REASONS.get(name, "") in lines[0].replace(str(path), ""), where
        else:
            assert status == 0, where
            warned = [line for line in err.splitlines() if "warning:" in line]
            assert bool(warned) == (expect == "warn"), where
