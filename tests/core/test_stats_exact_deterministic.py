"""`stats` on a deterministic file reports the file's exact numbers, not the estimated tree."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runs import run_cli

SCRIPT = """
import sys, time, yappi
def leaf():
    time.sleep(0.03)
def mid():
    for _ in range(3):
        leaf()
yappi.set_clock_type("wall")
yappi.start(builtins=False)
mid()
yappi.stop()
stats = yappi.get_func_stats()
stats.save(sys.argv[1], type=sys.argv[2])
for s in stats:
    if s.name == "leaf":
        print(s.ncall, s.tsub, s.ttot)
"""


@pytest.mark.parametrize("kind", ["callgrind", "pstat"])
def test_yappi_leaf_self_time_is_yappis_not_the_tree_estimate(tmp_path: Path, kind: str) -> None:
    out = tmp_path / f"run.{kind}"
    made = subprocess.run([sys.executable, "-c", SCRIPT, str(out), kind], capture_output=True, text=True, check=True)
    ncall, tsub, ttot = made.stdout.split()
    result = run_cli("stats", out, "--json")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    (leaf,) = [f for f in stats["functions"] if f["name"] == "leaf"]
    assert leaf["calls"] == int(ncall)
    # yappi leaves the unprofiled sleep out of leaf's own time: ~0 s self, ~90 ms total
    assert leaf["self"] == pytest.approx(float(tsub), abs=1e-5)
    assert leaf["total"] == pytest.approx(float(ttot), rel=1e-3)
    assert leaf["self"] < 0.01 < leaf["total"]
