"""A time range holds only what lies in it: a real idle program with one known stall.

The agent's sample at t stands for the time since its thread's previous
sample, up to 100 ms once the sampler has backed off on an idle program, so a
range must cut sample weights at its edges; events and tasks that overlap the
range are the range's.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
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
    assert everything["created"] == 6  # main and gather's five; asyncio.run's two shutdown tasks are its own
    assert everything["asyncio_own"] == 2
    inside = build_summary(stalled, t_from=t0, t_to=t1)["tasks"]
    assert inside["created"] == 0 and inside["alive"] == 1  # only main runs through the stall
    assert inside["states"] == {"pending": 1}
    assert "1 alive in the range, 0 created in it" in render_text(build_summary(stalled, t_from=t0, t_to=t1))


def test_the_task_tree_of_a_range_holds_its_tasks(stalled: Profile) -> None:
    from pyrometer.core.analysis.tasks import task_tree

    t0, t1 = _stall(stalled)
    assert len(task_tree(stalled, t1)) == 6  # as of the stall's end: main and the five quick ones (done)
    tree = task_tree(stalled, t1, since=t0)
    assert [n.coro for n in tree.values()] == ["main"] and tree[next(iter(tree))].state == "pending"


def test_the_html_report_of_a_range_holds_that_range(stalled: Profile) -> None:
    from pyrometer.core.formats.html_report import render_report

    t0, _ = _stall(stalled)
    a, b = t0 + 0.02, t0 + 0.05
    page = render_report(stalled, "stall", a, b)
    assert "Part of the run: from" in page
    assert "<div>blocking events</div><div>1</div>" in page  # the stall the range lies in
    whole = render_report(stalled, "stall")
    assert "Part of the run" not in whole


def test_an_export_of_a_range_holds_that_range(stalled: Profile, tmp_path: Path) -> None:
    """What the window exports with a range selected: the range, read back with the same numbers."""
    from pyrometer.core.analysis.crop import crop
    from pyrometer.core.formats.recording import write_profile

    t0, t1 = _stall(stalled)
    a, b = t0 - 0.15, t0 + 0.05  # from the idle time into the stall
    out = tmp_path / "part.pyro"
    write_profile(crop(stalled, a, b), out)
    part, report = read_recording(out)
    assert report.clean
    ranged = build_summary(stalled, t_from=a, t_to=b)
    whole_of_part = build_summary(part)
    assert whole_of_part["total"] == pytest.approx(ranged["total"], abs=1e-6)
    assert call_tree(part).total == pytest.approx(call_tree(stalled, Selection(a, b)).total, abs=1e-6)
    main = _main_thread(stalled)
    assert call_tree(part, Selection(threads=frozenset([main]))).total == pytest.approx(b - a, abs=1e-4)
    assert len(whole_of_part["loop"]["blocking"]) == 1  # the stall it reaches into
    assert whole_of_part["tasks"]["states"] == {"pending": 1}  # only main, still running at b
    assert part.duration() <= t1 + 1e-9  # nothing after b but the stall it reaches into, kept whole


def test_the_timeline_draws_a_sample_over_the_span_it_stands_for(stalled: Profile) -> None:
    """The agent's sample at t stands for the time since its thread's previous sample: drawn
    from t - weight to t, not from t onwards (which put a stall's samples after the stall)."""
    from pyrometer.core.analysis._nodes import node_table
    from pyrometer.core.analysis.spans import activity_runs, stack_chart

    main = _main_thread(stalled)
    rows = np.flatnonzero(stalled.samples["thread"] == main)
    t, w = stalled.samples["time"][rows], stalled.samples["weight"][rows].astype(np.float64)
    spans = stack_chart(stalled, main)
    assert float(spans.end.max()) == pytest.approx(float(t[-1]))
    # a sample with no Python frame (e.g. caught at start-up on a loaded machine) draws no span
    framed = np.flatnonzero(node_table(stalled).stack_to_node()[stalled.samples["stack"][rows].astype(np.intp) + 1] != 0)
    assert float(spans.start.min()) == pytest.approx(float(t[framed[0]] - w[framed[0]]))
    start, _, _ = activity_runs(stalled, main)
    assert float(start[0]) == pytest.approx(float(t[0] - w[0]))  # the lanes begin where the first span does
