"""The asyncio task tracker in real interpreters: factories, eager tasks, attach, await stacks.

Targets run in a subprocess (``python -I``) with the agent loaded from
``core/agent`` under a private name and a tiny synchronous file sink; the
recording is read back with ``read_recording``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from agent_harness import MINOR_VERSIONS, interpreter, newest_patch, pyenv_python, run_agent_target

from pyrometer.core.model import Profile


def run_target(python: str, body: str, tmp_path: Path) -> tuple[Profile, str, str]:
    return run_agent_target(python, body, tmp_path)


def by_name(p: Profile) -> dict[str, object]:
    return {t.name: t for t in p.tasks.values()}


USER_FACTORIES = """
import asyncio

calls = []

def early_factory(loop, coro, **kw):
    calls.append("early")
    return asyncio.Task(coro, loop=loop, **kw)

def late_factory(loop, coro, **kw):
    calls.append("late")
    return asyncio.Task(coro, loop=loop, **kw)

async def child():
    await asyncio.sleep(0.01)

async def main():
    loop = asyncio.get_running_loop()
    await asyncio.create_task(child(), name="c-early")
    loop.set_task_factory(late_factory)          # the program replaces the factory itself
    print("get", loop.get_task_factory() is late_factory)
    await asyncio.create_task(child(), name="c-late")
    t = asyncio.ensure_future(child())            # an unnamed task keeps its default name
    await t
    print("default-name", t.get_name())

loop = asyncio.new_event_loop()
loop.set_task_factory(early_factory)             # set before the loop runs
session = start()
loop.run_until_complete(loop.create_task(main(), name="main"))
session.stop()
print("calls", ",".join(calls))
print("restored", loop._task_factory is late_factory, "set_task_factory" in vars(loop))
loop.close()
"""


@pytest.mark.parametrize("version", ["current", "3.13.0"])
def test_user_task_factories_are_still_called(version: str, tmp_path: Path) -> None:
    python = sys.executable if version == "current" else pyenv_python(version)
    if python is None:
        pytest.skip(f"CPython {version} is not installed (pyenv)")
    p, out, _ = run_target(python, USER_FACTORIES, tmp_path)
    assert "get True" in out
    # early factory for main and c-early, late factory for c-late and the unnamed task
    assert "calls early,early,late,late" in out
    assert "restored True False" in out
    default = next(line.split()[1] for line in out.splitlines() if line.startswith("default-name"))
    assert default.startswith("Task-"), default  # 3.13.0 would rename it to None through a factory
    names = by_name(p)
    assert names["c-early"].parent == names["main"].id
    assert names["c-late"].parent == names["main"].id
    assert names[default].parent == names["main"].id
    assert all(t.state == "done" for t in p.tasks.values())


EAGER = """
import asyncio

async def quick():
    return 1                                       # completes during eager start

async def grandchild():
    await asyncio.sleep(0.01)

async def slow():
    await asyncio.create_task(grandchild(), name="grandchild")

async def main():
    loop = asyncio.get_running_loop()
    loop.set_task_factory(asyncio.eager_task_factory)
    q = asyncio.create_task(quick(), name="quick")
    print("eager-done", q.done())
    await asyncio.create_task(slow(), name="slow")

session = start()
asyncio.run(main())
session.stop()
"""


@pytest.mark.parametrize("version", ["3.12.1", "3.13.0"])
def test_eager_tasks_are_tracked(version: str, tmp_path: Path) -> None:
    python = pyenv_python(version)
    if python is None:
        pytest.skip(f"CPython {version} is not installed (pyenv)")
    p, out, _ = run_target(python, EAGER, tmp_path)
    assert "eager-done True" in out
    names = by_name(p)
    main = next(t for t in p.tasks.values() if t.coro == "main")
    assert names["quick"].parent == main.id and names["quick"].state == "done"
    assert names["slow"].parent == main.id and names["slow"].state == "done"
    assert names["grandchild"].parent == names["slow"].id and names["grandchild"].state == "done"


AWAITS_AND_ATTACH = """
import asyncio, time, warnings

async def innermost_wait(ev):
    await ev.wait()

async def middle(ev):
    await innermost_wait(ev)

async def doomed():
    raise KeyError("never retrieved")

async def await_it(task):
    await task

async def gathered(ev):
    await asyncio.gather(innermost_wait(ev), innermost_wait(ev))

async def main():
    ev = asyncio.Event()
    waiter = asyncio.create_task(middle(ev), name="waiter")     # exists before the agent
    parent = asyncio.create_task(gathered(ev), name="gathering-parent")
    holder = asyncio.create_task(await_it(waiter), name="holder")
    await asyncio.sleep(0.02)
    session = start(attached=True)
    bad = asyncio.ensure_future(doomed())
    await asyncio.sleep(1.0)                                      # several await snapshots
    ev.set()
    await holder
    await parent
    del bad
    return session

session = asyncio.run(main())
import gc; gc.collect()
session.stop()
"""


@pytest.mark.parametrize("version", ["current", "3.9.18", "3.13.0"])
def test_await_snapshots_attach_discovery_and_unretrieved_exceptions(version: str, tmp_path: Path) -> None:
    python = sys.executable if version == "current" else pyenv_python(version)
    if python is None:
        pytest.skip(f"CPython {version} is not installed (pyenv)")
    p, _out, err = run_target(python, AWAITS_AND_ATTACH, tmp_path)
    names = by_name(p)
    waiter = names["waiter"]
    main = next(t for t in p.tasks.values() if t.coro == "main")
    assert main.parent is None  # discovered at attach: nothing awaits it
    holder = names["holder"]
    assert holder.parent is None
    assert waiter.parent == holder.id and waiter.state == "done"  # found from its done callbacks
    gp = names["gathering-parent"]
    assert gp.parent is None  # nobody awaits it
    gathered = [t for t in p.tasks.values() if t.coro == "innermost_wait"]
    assert len(gathered) == 2 and all(t.parent == gp.id for t in gathered)  # through gather
    doomed = next(t for t in p.tasks.values() if t.coro == "doomed")
    assert doomed.parent == main.id and doomed.state == "failed" and doomed.exc == "KeyError"
    # asyncio still reports the exception nobody retrieved: the tracker did not retrieve it
    assert "exception was never retrieved" in err

    aw = p.awaits
    rows = [i for i, t in enumerate(aw["task"].tolist()) if t == waiter.id]
    assert len(rows) >= 2, "expected several await snapshots (every 250 ms)"
    chain = [p.func_name[p.frame_func(f)] for f in p.stack_frames(int(aw["stack"][rows[0]]))]
    assert chain[:2] == ["middle", "innermost_wait"], chain
    assert chain[-1] in ("Event.wait", "wait"), chain


DROPPED_PENDING = """
import asyncio, gc

async def forever():
    await asyncio.Event().wait()

async def main():
    asyncio.ensure_future(forever())          # the program forgets it, still pending
    await asyncio.sleep(0.3)                  # a snapshot sees it waiting

session = start()
loop = asyncio.new_event_loop()
loop.run_until_complete(main())
gc.collect()                    # the loop is alive: only the program's references count
print("collected", file=sys.stderr, flush=True)
loop.run_until_complete(asyncio.sleep(0.3))    # the next await snapshot sweeps what was destroyed
print("tracked", len(session.tasks._ids), sum(len(s.pending) for s in session.tasks._by_loop.values()))
session.stop()
loop.close()
"""


def test_a_dropped_pending_task_is_still_destroyed(tmp_path: Path) -> None:
    p, out, err = run_target(sys.executable, DROPPED_PENDING, tmp_path)
    # the tracker holds no strong reference: asyncio destroys the task at once
    assert "Task was destroyed but it is pending!" in err.split("collected")[0], err
    assert "tracked 0 0" in out  # and the tracker forgot it (swept at the next snapshot)
    task = next(t for t in p.tasks.values() if t.coro == "forever")
    assert task.state == "pending" and task.ended is None
    assert task.id in set(p.awaits["task"].tolist())


ENDS = """
import asyncio, time

truth = {}

async def quick():
    await asyncio.sleep(0)
    truth["quick"] = time.perf_counter() - session.clock.t0   # its last step ends right here

async def blocker():
    await asyncio.sleep(0)
    time.sleep(0.06)              # the next callback of the same loop iteration holds the loop

async def main():
    await asyncio.gather(asyncio.ensure_future(quick()), asyncio.ensure_future(blocker()))

session = start(task_accounting=ACCOUNTING)
asyncio.run(main())
session.stop()
print("truth", truth["quick"])
"""


@pytest.mark.parametrize("accounting", [True, False])
@pytest.mark.parametrize("version", MINOR_VERSIONS)
def test_a_task_ends_when_its_last_step_ends(version: str, accounting: bool, tmp_path: Path) -> None:
    """Not when its done callbacks run: that is after every other callback of the loop
    iteration (here a 60 ms one), so the end was recorded one loop step late."""
    python = interpreter(newest_patch(version))
    p, out, _ = run_target(python, f"ACCOUNTING = {accounting}\n" + ENDS, tmp_path)
    truth = float(next(line.split()[1] for line in out.splitlines() if line.startswith("truth ")))
    quick = next(t for t in p.tasks.values() if t.coro == "quick")
    assert quick.state == "done" and quick.ended is not None
    assert truth <= quick.ended < truth + 0.02, (quick.ended, truth)
    if accounting:
        assert quick.running_s + quick.waiting_s + quick.delayed_s == pytest.approx(quick.ended - quick.created), quick


STEP_HEAVY = """
import asyncio

async def worker():
    for _ in range(300):
        await asyncio.sleep(0)

async def main():
    await asyncio.gather(*(worker() for _ in range(50)))
    print("hook", asyncio.events.Handle._run.__module__)    # while the session still runs
    await asyncio.gather(*(worker() for _ in range(5)))     # tasks created after the switch

session = start()
asyncio.run(main())
session.stop()
"""


@pytest.mark.parametrize("version", MINOR_VERSIONS)
def test_a_step_heavy_loop_is_told_task_ends_by_done_callbacks(version: str, tmp_path: Path) -> None:
    """Tasks of hundreds of tiny steps: accounting turns itself off, and the step hook too
    (it would cost every step more than a done callback costs each task); every end is kept."""
    p, out, _ = run_target(interpreter(newest_patch(version)), STEP_HEAVY, tmp_path)
    assert any("per-task accounting turned off" in n.get("message", "") for n in p.notices)
    assert "hook asyncio.events" in out
    workers = [t for t in p.tasks.values() if t.coro == "worker"]
    assert len(workers) == 55
    assert all(t.state == "done" and t.ended is not None and t.ended >= t.created for t in workers)


NAMES = """
import asyncio

async def child():
    await asyncio.sleep(0)

async def main():
    await asyncio.gather(asyncio.create_task(child(), name="tâche ✓"), asyncio.create_task(child(), name="plain"))
    session.pump()                 # one ended before its batch was taken, one alive when taken:
    alive = asyncio.create_task(child(), name="späte Aufgabe")
    session.pump()
    await alive

session = start()
asyncio.run(main())
session.stop()
"""


@pytest.mark.parametrize("version", ["3.9", "3.13"])
def test_task_names_keep_every_character_through_the_packed_columns(version: str, tmp_path: Path) -> None:
    """Names are packed ASCII-fast when they can be; UTF-8 names must come back whole either way."""
    p, _, _ = run_target(interpreter(newest_patch(version)), NAMES, tmp_path)
    names = {t.name for t in p.tasks.values() if t.coro == "child"}
    assert names == {"tâche ✓", "plain", "späte Aufgabe"}, names
