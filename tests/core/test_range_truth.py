"""A time range holds only what lies in it: a real idle program with one known stall.

The agent's sample at t stands for the time since its thread's previous
sample, up to 100 ms once the sampler has backed off on an idle program, so a
range must cut sample weights at its edges; events and tasks that overlap the
range are the range's.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from pyrometer.core.analysis.calltree import call_tree
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.cli.summary import build_summary, render_text
from pyrometer.core.formats.recording import read_recording
from pyrometer.core.model import Profile

STALL_S = 0.09

PROGRAM = f"""
import asyncio, time

async def quick():
    await asyncio.sleep(0.01)

async def main():
    await asyncio.gather(*(quick() for _ in range(5)))
    await asyncio.sleep(0.6)          # idle: the sampler backs off to 100 ms between samples
    time.sleep({STALL_S})             # blocks the loop: a known stall, off CPU
    await asyncio.sleep(0.4)

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def stalled(tmp_path_factory: pytest.TempPathFactory) -> Profile:
    tmp = tmp_path_factory.mktemp("stall")
    script = tmp / "stall.py"
    script.write_text(PROGRAM)
    out = tmp / "stall.pyro"
    res = subprocess.run(
        [sys.executable, "-m", "pyrometer", "record", "-o", str(out), "--", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    profile, _ = read_recording(out)
    return profile


def _stall(p: Profile) -> tuple[float, float]:
    stalls = [b for b in p.blocking if b.duration >= 0.8 * STALL_S]
    assert len(stalls) == 1, p.blocking
    b = stalls[0]
    assert STALL_S <= b.duration < STALL_S + 0.03  # the agent measured the stall the program made
    return b.start, b.start + b.duration


def _main_thread(p: Profile) -> int:
    return next(tid for tid, info in p.threads.items() if info.name == "MainThread")


def test_a_range_over_a_stall_holds_the_stall_and_no_more(stalled: Profile) -> None:
    """It held 99.7 ms on MainThread for a 90.3 ms stall: a backed-off sample's 100 ms, whole."""
    t0, t1 = _stall(stalled)
    main = _main_thread(stalled)
    tree = call_tree(stalled, Selection(t0, t1, frozenset([main])))
    assert tree.total == pytest.approx(t1 - t0, abs=1e-4)  # samples tile the thread's time
    data = build_summary(stalled, thread=main, t_from=t0, t_to=t1)
    assert data["total"] == pytest.approx(t1 - t0, abs=1e-4)
    assert sum(f["self"] for f in data["functions"]) == pytest.approx(t1 - t0, abs=1e-4)
    # the whole profile is still whole: every thread's samples add up to no more than its life
    whole = call_tree(stalled, Selection(threads=frozenset([main])))
    assert whole.total <= stalled.duration() + 1e-6


def test_a_range_inside_a_stall_lists_the_stall(stalled: Profile) -> None:
    t0, _ = _stall(stalled)
    a, b = t0 + 0.02, t0 + 0.05
    data = build_summary(stalled, t_from=a, t_to=b)
    assert data["loop"] is not None and len(data["loop"]["blocking"]) == 1
    main = _main_thread(stalled)
    assert call_tree(stalled, Selection(a, b, frozenset([main]))).total == pytest.approx(b - a, abs=1e-4)
    assert "blocking events: 1" in render_text(data)


def test_tasks_follow_the_range(stalled: Profile) -> None:
    """'1522 created' ignored the range: the five quick tasks are over long before the stall."""
    t0, t1 = _stall(stalled)
    everything = build_summary(stalled)["tasks"]
    assert everything["created"] == 8  # main, gather's five, asyncio.run's two shutdown tasks
    inside = build_summary(stalled, t_from=t0, t_to=t1)["tasks"]
    assert inside["created"] == 0 and inside["alive"] == 1  # only main runs through the stall
    assert inside["states"] == {"pending": 1}
    assert "1 alive in the range, 0 created in it" in render_text(build_summary(stalled, t_from=t0, t_to=t1))
