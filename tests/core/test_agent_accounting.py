"""Per-task accounting on real asyncio programs with a known truth (issue 13, item 1).

Each task measures itself: CPU of its own steps with time.thread_time, how long
it held the loop with time.sleep, how late it woke past its due time. The
recording's cpu_s / running_s / delayed_s must match within 10% (or a few ms),
and running + waiting + delayed must be the task's life. Run on every CPython
3.9-3.13 found; eager tasks (3.12+) and TaskGroup (3.11+) where they exist.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_harness import MINOR_VERSIONS, interpreter, newest_patch, run_agent_target

from pyrometer.core.formats.recording import read_recording, write_profile
from pyrometer.core.model import TASK_DELAYED, TASK_RUNNING, Profile

ACCOUNTING = """
import asyncio, sys, time

truth = {}

def burn(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass

async def cruncher(name):
    cpu = wall = 0.0
    for _ in range(4):
        c, w = time.thread_time(), time.perf_counter()   # this step starts here (just resumed)
        burn(0.04)
        cpu += time.thread_time() - c    # ... and ends at the await
        wall += time.perf_counter() - w
        await asyncio.sleep(0.02)
    truth[name + ".cpu"] = cpu
    truth[name + ".wall"] = wall         # more than cpu when the machine is busy

async def holder():
    await asyncio.sleep(0.01)
    w, c = time.perf_counter(), time.thread_time()
    time.sleep(0.15)                     # holds the loop, ~no CPU
    truth["holder.wall"] = time.perf_counter() - w   # 150 ms, more on a busy machine
    truth["holder.cpu"] = time.thread_time() - c

async def victim():
    loop = asyncio.get_running_loop()
    at = loop.time() + 0.05
    await asyncio.sleep(0.05)            # due while holder blocks the loop
    truth["victim.late"] = loop.time() - at

async def main():
    if MODE == "eager":
        asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
    v = asyncio.create_task(victim(), name="victim")
    await asyncio.create_task(holder(), name="holder")
    await v
    if MODE == "taskgroup":
        async with asyncio.TaskGroup() as tg:
            tg.create_task(cruncher("c1"), name="c1")
            tg.create_task(cruncher("c2"), name="c2")
    else:
        await asyncio.gather(asyncio.ensure_future(cruncher("c1")), asyncio.ensure_future(cruncher("c2")))

session = start()
asyncio.run(main())
session.stop()
for k, v in sorted(truth.items()):
    print("truth", k, "%.6f" % v)
print("version", sys.version_info[0], sys.version_info[1])
"""


def _run(version: str, mode: str, tmp_path: Path) -> tuple[dict[str, object], dict[str, float], Profile]:
    python = interpreter(newest_patch(version))
    body = f"MODE = {mode!r}\n" + ACCOUNTING
    p, out, _ = run_agent_target(python, body, tmp_path)
    truth = {line.split()[1]: float(line.split()[2]) for line in out.splitlines() if line.startswith("truth ")}
    tasks: dict[str, object] = {}
    for t in p.tasks.values():
        key = t.name if t.name in ("victim", "holder", "c1", "c2") else f"{t.coro}#{t.id}"
        tasks[key] = t
    return tasks, truth, p


def _check(tasks: dict[str, object], truth: dict[str, float], by_coro: bool) -> None:
    for t in tasks.values():
        if getattr(t, "state", None) == "done" and getattr(t, "running_s", None) is not None:
            life = t.ended - t.created  # type: ignore[attr-defined]
            parts = t.running_s + t.waiting_s + t.delayed_s  # type: ignore[attr-defined]
            assert parts == pytest.approx(life, abs=1e-6), t
    # asyncio.run's main task exists before the loop runs: found at its start, accounted too
    main = next(t for t in tasks.values() if getattr(t, "coro", "") == "main")
    assert main.running_s is not None and main.waiting_s > 0.3, main  # type: ignore[attr-defined]
    crunchers = [t for t in tasks.values() if getattr(t, "coro", "") == "cruncher"]
    assert len(crunchers) == 2, tasks
    # unnamed (gather) crunchers are told apart by their figures: match them as a pair
    pairs = sorted(crunchers, key=lambda t: t.running_s)  # type: ignore[attr-defined]
    truths = sorted(("c1", "c2"), key=lambda n: truth[n + ".wall"])
    if by_coro is False:
        pairs = [tasks["c1"], tasks["c2"]]
        truths = ["c1", "c2"]
    for t, name in zip(pairs, truths, strict=True):
        assert t.cpu_s == pytest.approx(truth[name + ".cpu"], rel=0.10), (t, truth)  # type: ignore[attr-defined]
        assert t.running_s == pytest.approx(truth[name + ".wall"], rel=0.10), (t, truth)  # type: ignore[attr-defined]
        # four sleeps of 20 ms: waiting, or delayed where the other cruncher held the loop
        assert t.waiting_s + t.delayed_s >= 0.079, t  # type: ignore[attr-defined]
    holder = tasks["holder"]
    assert truth["holder.wall"] >= 0.15
    assert holder.running_s == pytest.approx(truth["holder.wall"], rel=0.10), holder  # type: ignore[attr-defined]
    assert holder.cpu_s < 0.03 + truth["holder.cpu"], holder  # type: ignore[attr-defined]
    victim = tasks["victim"]
    assert truth["victim.late"] > 0.05
    assert victim.delayed_s == pytest.approx(truth["victim.late"], abs=0.02), (victim, truth)  # type: ignore[attr-defined]


def _check_spans(p: Profile, tasks: dict[str, object], truth: dict[str, float]) -> None:
    """The timeline's spans: the holder's 150 ms step and the victim's delay, within each life."""
    spans = p.task_spans
    def of(task: object, state: int) -> list[tuple[float, float]]:
        rows = (spans["task"] == task.id) & (spans["state"] == state)  # type: ignore[attr-defined]
        return list(zip(spans["start"][rows].tolist(), spans["end"][rows].tolist(), strict=True))
    holder, victim = tasks["holder"], tasks["victim"]
    [(a, b)] = [s for s in of(holder, TASK_RUNNING) if s[1] - s[0] > 0.1]
    assert b - a == pytest.approx(truth["holder.wall"], rel=0.1)
    assert holder.created <= a < b <= holder.ended + 1e-6  # type: ignore[attr-defined]
    # the stall's delay (its first step may also have waited a little on a busy machine)
    a, b = max(of(victim, TASK_DELAYED), key=lambda s: s[1] - s[0])
    assert b - a == pytest.approx(truth["victim.late"], abs=0.02)
    # spans survive a round trip through the writer
    out = Path(str(p.meta.get("argv", ["x"])[0])).parent / "copy.pyro"
    write_profile(p, out)
    again, _ = read_recording(out)
    assert len(again.task_spans) == len(spans)
    assert again.tasks[victim.id].delayed_s == victim.delayed_s  # type: ignore[attr-defined]


@pytest.mark.parametrize("version", MINOR_VERSIONS)
def test_task_cpu_running_waiting_delayed_match_the_truth(version: str, tmp_path: Path) -> None:
    tasks, truth, p = _run(version, "gather", tmp_path)
    _check(tasks, truth, by_coro=True)
    _check_spans(p, tasks, truth)


@pytest.mark.parametrize("version", ["3.11", "3.12", "3.13"])
def test_accounting_with_task_groups(version: str, tmp_path: Path) -> None:
    tasks, truth, _ = _run(version, "taskgroup", tmp_path)
    _check(tasks, truth, by_coro=False)


@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_accounting_with_eager_tasks(version: str, tmp_path: Path) -> None:
    tasks, truth, _ = _run(version, "eager", tmp_path)
    _check(tasks, truth, by_coro=True)


def test_accounting_can_be_switched_off_and_then_says_unknown(tmp_path: Path) -> None:
    body = "MODE = 'gather'\n" + ACCOUNTING.replace("session = start()", "session = start(task_accounting=False)")
    p, out, _ = run_agent_target(interpreter("current"), body, tmp_path)
    assert "import asyncio" in body and "truth c1.cpu" in out
    done = [t for t in p.tasks.values() if t.state == "done"]
    assert done and all(t.cpu_s is None and t.running_s is None and t.delayed_s is None for t in done)
    assert len(p.task_spans) == 0
    # blame does not need accounting (a busy machine may stretch a cruncher's burn into a stall too)
    stalls = [ev for ev in p.blocking if ev.task_name == "holder"]
    assert len(stalls) == 1 and stalls[0].duration >= 0.14, p.blocking


def test_turning_accounting_off_is_said_once() -> None:
    """A step already inside the wrapper (or another loop's) may check the rate again after the turn-off."""
    from types import SimpleNamespace

    from pyrometer.core.agent.accounting import RATE_WINDOW_S, RATE_WINDOW_STEPS, TaskAccounting

    said: list[str] = []
    session = SimpleNamespace(
        clock=SimpleNamespace(perf=lambda: 0.0), notice=lambda level, message: said.append(message), tasks=SimpleNamespace(tasks_seen=0)
    )
    acct = TaskAccounting(session)  # type: ignore[arg-type]
    now = 0.0
    acct._check_rate(now)
    for _ in range(3):  # far more steps than the limit allows, window after window
        acct.steps += RATE_WINDOW_STEPS * 100
        now += RATE_WINDOW_S
        acct._check_rate(now)
    assert acct.turned_off and len(said) == 1, said
