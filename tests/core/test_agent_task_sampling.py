"""Task sampling (issue 11, item 1): a loop creating tasks too fast to record each has about 1 in K
of them recorded in full and the rest counted exactly, per coroutine; the counts reach the model,
`stats` and survive a rewrite; a reader that does not know the message skips it.

Each target counts the tasks it creates per coroutine itself: that count is the truth the
recording's recorded + counted tasks must equal exactly.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from agent_harness import MINOR_VERSIONS, interpreter, run_agent_target
from sampled_stall import SAMPLED_STALL

from pyrometer.core.agent import wire
from pyrometer.core.agent.tasks import ASYNCIO_OWN, SAMPLING_NOTICE
from pyrometer.core.analysis.task_sampling import sampling_totals
from pyrometer.core.cli.summary import build_summary, render_text
from pyrometer.core.formats.recording import read_recording, write_profile
from pyrometer.core.model import Profile

# main starts 20 workers, long-lived, each making one leaf after another, and then one spawner at a
# time; each spawner gathers 10 leaves and 5 tiny tasks. The target counts every task it creates,
# per coroutine, as it creates it. (Sampling records bursts of consecutive tasks, so a recorded
# task's parent is most often recorded too; the workers, made before the first burst, are not.)
SPAWNERS = """
import asyncio, json, time

made = {"spawner": 0, "leaf": 0, "tiny": 0, "worker": 0}
running = [True]

async def worker():
    while running[0]:
        made["leaf"] += 1
        await asyncio.create_task(leaf(0))

async def leaf(i):
    return i

async def tiny(i):
    return i

async def spawner(i):
    made["leaf"] += 10
    made["tiny"] += 5
    await asyncio.gather(*[leaf(j) for j in range(10)], *[tiny(j) for j in range(5)])

async def main(seconds):
    made["worker"] += 20
    workers = [asyncio.create_task(worker()) for _ in range(20)]
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        made["spawner"] += 1
        await asyncio.create_task(spawner(0))
    running[0] = False
    await asyncio.gather(*workers)

session = start(%(options)s)
asyncio.run(main(%(seconds)s))
tracker = session.tasks
state = list(tracker._loop_states.values())[0]
session.stop(exit_status=0)
print("MADE", json.dumps(made))
print("HELD", len(tracker._ids), len(state.pending), len(state.names))
"""


def run(python: str, tmp_path: Path, options: str, seconds: float = 0.6) -> tuple[Profile, dict[str, int], str]:
    p, out, _ = run_agent_target(python, SPAWNERS % {"options": options, "seconds": seconds}, tmp_path)
    lines = dict(line.split(" ", 1) for line in out.splitlines())
    return p, json.loads(lines["MADE"]), lines["HELD"]


def recorded_by_coro(p: Profile) -> dict[str, int]:
    out: dict[str, int] = {}
    for t in p.tasks.values():
        out[t.coro] = out.get(t.coro, 0) + 1
    return out


@pytest.mark.parametrize("version", MINOR_VERSIONS)
def test_sampled_tasks_are_counted_exactly_per_coroutine(tmp_path: Path, version: str) -> None:
    # sampling from the first task (task_sampling_rate=0), so the outcome does not depend on speed
    p, made, held = run(interpreter(version), tmp_path, "task_sampling_rate=0")
    assert int(p.telemetry["task_events_dropped"]) == 0  # a file sink never refuses
    recorded = recorded_by_coro(p)
    (info,) = p.task_sampling.values()
    for coro, truth in made.items():
        # every task the program created is recorded in full or counted: exactly
        assert recorded.get(coro, 0) + info.unrecorded.get(coro, 0) == truth, (coro, recorded, info.unrecorded, made)
    assert sum(made.values()) > 1000, made
    # asyncio.run's two shutdown steps (made while sampling) are asyncio's own, recorded or counted
    own = {c: n for c, n in {**info.unrecorded, **recorded}.items() if c.startswith(ASYNCIO_OWN)}
    assert not any(c.split(".")[-1].startswith("shutdown_") for c in info.unrecorded if c not in own), info.unrecorded
    assert sum(recorded.get(c, 0) + info.unrecorded.get(c, 0) for c in own) == 2, (own, recorded, info.unrecorded)
    # about 1 in 100 recorded (quotas granted at each pump): far fewer than all, more than none
    total = sum(made.values())
    assert 0 < sum(recorded.get(c, 0) for c in made) < total / 10, (recorded, made)
    # the agent's own count of what it recorded on the loop is the model's
    assert info.recorded == len(p.tasks)
    assert info.every == 100 and len(info.periods) == 1 and info.periods[0][1] is None
    notes = [n["message"] for n in p.notices if n["message"].startswith(SAMPLING_NOTICE)]
    assert len(notes) == 1 and "1 in 100" in notes[0], p.notices
    assert int(p.telemetry["tasks_unrecorded"]) == info.unrecorded_total
    # nothing kept: no ids, no pending tasks, no uncounted names
    assert held == "0 0 0"
    # a recorded leaf's parent is its recorded spawner or worker, or marked as not recorded: never
    # a wrong id, never "no parent"
    parents = {t.id for t in p.tasks.values() if t.coro in ("spawner", "worker")}
    leaves = [t for t in p.tasks.values() if t.coro == "leaf"]
    assert leaves
    for t in leaves:
        assert (t.parent in parents and not t.parent_unrecorded) or (t.parent is None and t.parent_unrecorded), t
    assert any(t.parent_unrecorded for t in leaves)  # the workers' leaves
    # recorded tasks still end, and are told as done
    assert all(t.state == "done" for t in p.tasks.values() if t.coro in made)


def test_every_task_records_all_even_when_sampling_is_asked(tmp_path: Path) -> None:
    p, made, held = run(sys.executable, tmp_path, "task_sampling_rate=0, every_task=True", seconds=0.3)
    recorded = recorded_by_coro(p)
    assert {c: recorded.get(c, 0) for c in made} == made
    assert p.task_sampling == {}
    assert not any(n["message"].startswith(SAMPLING_NOTICE) for n in p.notices)
    assert int(p.telemetry["tasks_unrecorded"]) == 0
    assert held == "0 0 0"


FEW_TASKS = """
import asyncio

async def job(i):
    await asyncio.sleep(0.001)
    return i

async def main():
    for _ in range(20):
        await asyncio.gather(*(job(i) for i in range(5)))
        await asyncio.sleep(0.005)

session = start()
asyncio.run(main())
session.stop(exit_status=0)
"""


def test_a_loop_making_few_tasks_records_every_one(tmp_path: Path) -> None:
    p, _, _ = run_agent_target(sys.executable, FEW_TASKS, tmp_path)
    assert sum(1 for t in p.tasks.values() if t.coro == "job") == 100
    assert p.task_sampling == {}
    assert sampling_totals(p) is None


# Fast (gathers of 200 tiny tasks) for a while, then slow (a task every 5 ms): sampling starts by
# the rate and stops when it falls.
BURST_THEN_SLOW = """
import asyncio, json, time

made = {"tiny": 0, "slow": 0}

async def tiny(i):
    return i

async def slow(i):
    return i

def sampling():
    return any(s.sampling_periods for s in session.tasks._loop_states.values())

async def main():
    # fast until sampling has run a while (the pump measures the rate over 0.2 s, and on a loaded
    # machine its thread may wait: a fixed 0.6 s burst was over when CI's pump got to it)
    end, deadline, seen = time.perf_counter() + 0.6, time.perf_counter() + 10.0, False
    while time.perf_counter() < end or (not seen and time.perf_counter() < deadline):
        made["tiny"] += 200
        await asyncio.gather(*(tiny(i) for i in range(200)))
        if not seen and sampling():
            seen, end = True, max(end, time.perf_counter() + 0.2)   # some rounds while it samples
    for i in range(200):
        made["slow"] += 1
        await asyncio.create_task(slow(i))
        await asyncio.sleep(0.005)

# the threshold is lowered so that even a loaded machine's loop counts as fast in the burst
session = start(task_sampling_rate=2000)
asyncio.run(main())
session.stop(exit_status=0)
print("MADE", json.dumps(made))
"""


def test_sampling_starts_with_the_rate_and_stops_when_it_falls(tmp_path: Path) -> None:
    p, out, _ = run_agent_target(sys.executable, BURST_THEN_SLOW, tmp_path)
    made = json.loads(dict(line.split(" ", 1) for line in out.splitlines())["MADE"])
    (info,) = p.task_sampling.values()
    recorded = recorded_by_coro(p)
    for coro, truth in made.items():
        assert recorded.get(coro, 0) + info.unrecorded.get(coro, 0) == truth, (coro, recorded, info.unrecorded)
    assert info.periods, (info, made)
    assert info.periods and info.periods[0][3] > 1000  # started by a measured rate (tasks/s)
    assert info.periods[-1][1] is not None, info.periods  # ... and stopped when it fell
    assert info.every == 1
    # once stopped, every slow task is recorded: only those made before the switch are not
    assert info.unrecorded.get("slow", 0) < made["slow"] / 2, (info.unrecorded, made, info.periods)
    # (how many tiny tasks were recorded before sampling started depends on how soon the pump
    # measured the rate: on a loaded machine its thread may wait)
    assert info.unrecorded.get("tiny", 0) > 0, (info.unrecorded, made, info.periods)


def test_counts_are_shown_by_stats_and_survive_a_rewrite(tmp_path: Path) -> None:
    p, made, _ = run(sys.executable, tmp_path, "task_sampling_rate=0", seconds=0.3)
    data = build_summary(p, source_path="x.pyro")
    s = data["task_sampling"]
    truth = sum(made.values())
    recorded = recorded_by_coro(p)
    for coro in made:
        assert s["by_coroutine"].get(coro, 0) + recorded.get(coro, 0) == made[coro]
    # plus asyncio.run's own tasks (the executor's shutdown), counted like any other
    assert s["unrecorded"] == sum(s["by_coroutine"].values()) >= truth - sum(recorded.get(c, 0) for c in made)
    assert s["made"] >= truth  # plus asyncio.run's own tasks (main, and the executor's shutdown)
    assert s["every"] == 100 and s["whole_run"] is True
    text = render_text(data)
    assert f"{s['unrecorded']:,} of {s['made']:,} tasks not recorded one by one" in text, text
    assert "leaf" in text and "parent not recorded" in text
    rows = {r["id"]: r for r in data["tasks"]["list"]}
    assert any(r["parent_unrecorded"] for r in rows.values())
    # write and read back: the counts and the orphan marks stay
    copy = tmp_path / "copy.pyro"
    write_profile(p, copy)
    q, report = read_recording(copy)
    assert report.clean, report.problems
    assert q.task_sampling == p.task_sampling
    assert {t.id for t in q.tasks.values() if t.parent_unrecorded} == {t.id for t in p.tasks.values() if t.parent_unrecorded}


def test_a_reader_that_does_not_know_the_message_skips_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p, _, _ = run(sys.executable, tmp_path, "task_sampling_rate=0", seconds=0.2)
    assert p.task_sampling
    # an older reader: type 22 is not among the types it knows (the reader skips and counts those)
    old_names = {k: v for k, v in wire.NAMES.items() if k != wire.TASK_SAMPLING}
    monkeypatch.setattr(wire, "NAMES", old_names)
    q, report = read_recording(tmp_path / "out.pyro")
    assert report.clean and report.skipped_unknown >= 1, report
    assert q.task_sampling == {}
    assert {t.id for t in q.tasks.values()} == {t.id for t in p.tasks.values()}
    assert len(q.samples) == len(p.samples)


FAST_SCRIPT = """
import asyncio, time

async def tiny(i):
    return i

async def main():
    made = 0
    end = time.perf_counter() + 0.5
    while time.perf_counter() < end:
        await asyncio.gather(*(tiny(i) for i in range(200)))
        made += 200
    print("MADE", made)

asyncio.run(main())
"""


def test_record_every_task_option_records_all(tmp_path: Path) -> None:
    script = tmp_path / "fast.py"
    script.write_text(FAST_SCRIPT)
    out = tmp_path / "fast.pyro"
    proc = subprocess.run(
        [sys.executable, "-m", "pyrometer", "record", "--every-task", "-o", str(out), "--no-history", "--", str(script)],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    made = int(proc.stdout.split("MADE", 1)[1].split()[0])
    p, report = read_recording(out)
    assert report.clean, report.problems
    assert sum(1 for t in p.tasks.values() if t.coro == "tiny") == made
    assert p.task_sampling == {}


def test_a_stall_counts_the_unrecorded_tasks_it_delayed(tmp_path: Path) -> None:
    p, _, _ = run_agent_target(sys.executable, SAMPLED_STALL, tmp_path)
    (ev,) = [ev for ev in p.blocking if ev.duration >= 0.2]
    named = [tid for tid, _, _ in ev.delayed or () if p.tasks[tid].coro == "sleeper"]
    # the 50 sleepers were all due during the stall: recorded ones are named, the rest counted
    assert ev.delayed_unrecorded is not None
    assert len(named) + ev.delayed_unrecorded == 50, (named, ev.delayed_unrecorded)
    assert ev.delayed_unrecorded > 0
    text = render_text(build_summary(p, source_path="x.pyro"))
    assert f"delayed {ev.delayed_unrecorded:,} more task" in text, text
