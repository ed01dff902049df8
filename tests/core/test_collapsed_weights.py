"""The collapsed export keeps each function's share of time, read back by a reader that is not ours.

A recording weighs each sample by the time it stands for: a sample taken late,
after the event loop blocked, stands for the whole wait. Counting samples
made `blocking_call` 78.5% instead of 86.9%. The reader below follows
flamegraph.pl's semantics (a line is a stack and an integer count; a frame's
self is the sum over stacks it ends) in a few lines, and its shares are
compared with `pyrometer stats` of the source recording.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from pyrometer.core.formats.recording import write_profile
from pyrometer.core.model import Profile


def _weighted_recording(path: Path) -> None:
    p = Profile(unit="seconds", source_format="pyro")
    p.meta["rate_hz"] = 100.0
    main = p.intern_frame("main", "/app/m.py", 10, 9)
    block = p.intern_frame("blocking_call", "/app/m.py", 3, 2)
    stat = p.intern_frame("_path_stat", "<frozen importlib._bootstrap_external>", 147, 145)
    s_main, s_block, s_stat = (p.intern_stack_path(s) for s in ([main], [main, block], [main, stat]))
    stacks, weights = [], []
    for i in range(40):  # 10 ms ticks, and a late sample after each block that stands for 300 ms
        stacks += [s_main, s_stat, s_block]
        weights += [0.010, 0.0013, 0.300 if i % 4 == 0 else 0.010]
    w = np.asarray(weights)
    p.add_samples(np.cumsum(w), 0, np.asarray(stacks, np.int32), weight=w)
    p.finish()
    write_profile(p, path)


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pyrometer", *map(str, args)], capture_output=True, text=True, timeout=60)


def _flamegraph_self_shares(path: Path) -> dict[str, float]:
    own: dict[str, int] = defaultdict(int)
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        own[stack.split(";")[-1].split(" (")[0]] += int(count)  # int(): flamegraph.pl wants integers
    total = sum(own.values())
    return {name: 100.0 * n / total for name, n in own.items()}


def test_collapsed_shares_are_the_recordings_shares(tmp_path: Path) -> None:
    src = tmp_path / "as.pyro"
    _weighted_recording(src)
    out = tmp_path / "as.collapsed"
    res = _cli("convert", src, out)
    assert res.returncode == 0, res.stderr
    assert "each collapsed count is 10 ms of sampled time" in res.stderr  # the unit is said
    stats = _cli("stats", src, "--json", "--top", "0")
    assert stats.returncode == 0, stats.stderr
    want = {r["name"]: r["self_pct"] for r in json.loads(stats.stdout)["functions"]}
    got = _flamegraph_self_shares(out)
    assert set(got) == {n for n, pct in want.items() if pct > 0}
    total_s = float(json.loads(stats.stdout)["total"])
    half_tick_pct = 100.0 * 0.005 / total_s  # counts are 10 ms ticks, rounded once per stack
    for name, pct in got.items():
        assert pct == pytest.approx(want[name], abs=half_tick_pct + 0.01), name
    assert want["blocking_call"] > 60  # counted as samples it would be a third
