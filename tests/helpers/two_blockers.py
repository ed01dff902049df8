"""A target whose loop iterations each run more than one blocking step, with the truth measured inside it.

Three stalls, 0.05 s apart: two task steps in one iteration (A sleeps 0.3 s, then
B 0.2 s: both wake on one Event.set; a task `late` whose 0.1 s timer falls due
inside A's hold waits for the rest of A and all of B), two plain callbacks in one
iteration (the 0.2 s one first, then the 0.3 s one), and a single task step
(0.25 s). Each hold is timed with time.perf_counter around the sleep ("late": its
due time and when it woke) and written as JSON [[name, start, end], ...] to
OUT + ".truth.json" (perf_counter is the agent's
clock too: `meta.t0` turns it into session time). Read by the agent's test and
the views' tests.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# every target: `hold` times each blocking sleep with the agent's clock; the truth goes to OUT + ".truth.json"
_PRELUDE = """
import asyncio, json, time

truth = []

def hold(name, seconds):
    t = time.perf_counter()
    time.sleep(seconds)
    truth.append([name, t, time.perf_counter()])
"""
_EPILOGUE = """
session = start(block_threshold_ms=50)
asyncio.run(main())
session.stop(exit_status=0)
with open(OUT + ".truth.json", "w") as fh:
    json.dump(truth, fh)
"""


TWO_BLOCKERS = _PRELUDE + """
async def blocker(name, ev, seconds):
    await ev.wait()
    hold(name, seconds)

async def late():
    due = time.perf_counter() + 0.1
    await asyncio.sleep(0.1)  # due while A holds the loop: delayed by the rest of A, then by B
    truth.append(["late", due, time.perf_counter()])

async def solo():
    await asyncio.sleep(0.02)
    hold("solo", 0.25)

async def main():
    loop = asyncio.get_running_loop()
    ev = asyncio.Event()
    pair = [asyncio.create_task(blocker("A", ev, 0.3), name="A"), asyncio.create_task(blocker("B", ev, 0.2), name="B")]
    await asyncio.sleep(0.05)
    pair.append(asyncio.create_task(late(), name="late"))  # its first step runs just before A's
    ev.set()  # wakes A then B: both steps run in the next loop iteration
    await asyncio.gather(*pair)
    await asyncio.sleep(0.05)
    done = loop.create_future()
    loop.call_soon(hold, "cb-short", 0.2)
    loop.call_soon(hold, "cb-long", 0.3)
    loop.call_soon(done.set_result, None)
    await done
    await asyncio.sleep(0.05)
    await asyncio.create_task(solo(), name="solo")
    await asyncio.sleep(0.05)

""" + _EPILOGUE


def read_truth(recording: Path) -> dict[str, tuple[float, float]]:
    """name -> (start, end) perf_counter seconds of each hold the target measured."""
    rows = json.loads(Path(str(recording) + ".truth.json").read_text())
    return {str(name): (float(a), float(b)) for name, a, b in rows}


def record_two_blockers(tmp: Path) -> tuple[Path, Any, dict[str, tuple[float, float]]]:
    """Run TWO_BLOCKERS under the agent in `tmp`: (its recording, the Profile, each hold in session time)."""
    from agent_harness import run_agent_target

    p, _, _ = run_agent_target(sys.executable, TWO_BLOCKERS, tmp)
    t0 = float(p.meta["t0"])
    return tmp / "out.pyro", p, {name: (a - t0, b - t0) for name, (a, b) in read_truth(tmp / "out.pyro").items()}


def pair_stall(p: Any, truth: dict[str, tuple[float, float]]) -> Any:
    """The stall in which A then B held the loop (truth in session time)."""
    [ev] = [e for e in p.blocking if e.start <= truth["A"][0] + 1e-6 and e.start + e.duration >= truth["B"][1] - 1e-6]
    return ev


def held(truth: dict[str, tuple[float, float]], name: str) -> float:
    """How long the target measured `name`'s hold."""
    a, b = truth[name]
    return b - a


def longest_first(truth: dict[str, tuple[float, float]], names: list[str]) -> list[str]:
    """`names` as a stall lists its steps, longest first, by the holds the target measured (A sleeps 0.3 s and
    B 0.2 s, but on a busy machine B's sleep has taken 0.42 s: the order is the measured one, not the asked)."""
    return sorted(names, key=lambda name: held(truth, name), reverse=True)


EAGER_BLOCKERS = _PRELUDE + """
async def child():
    hold("child", 0.2)  # its first step runs eagerly, inside the parent's step

async def parent():
    await asyncio.sleep(0.02)
    task = asyncio.create_task(child(), name="child")
    hold("parent", 0.1)
    await task

async def main():
    asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
    await asyncio.sleep(0.01)
    await asyncio.create_task(parent(), name="parent")
    await asyncio.sleep(0.05)

""" + _EPILOGUE
"""Python 3.12+: a parent step starts an eager child whose first step holds the loop 0.2 s inside
the parent's step, then the parent holds it 0.1 s itself."""

EAGER_FROM_CALLBACK = _PRELUDE + """
async def grandchild():
    hold("grandchild", 0.18)  # its first step runs eagerly, inside the child's

async def child():
    hold("child", 0.12)  # its first step runs eagerly, inside the callback's
    asyncio.create_task(grandchild(), name="grandchild")
    await asyncio.sleep(0)

HOLD_FIRST = True  # the callback holds the loop, then starts the child (False: the other way round)

def cb(loop, done):
    if HOLD_FIRST:
        hold("cb", 0.06)
    loop.create_task(child(), name="child")
    if not HOLD_FIRST:
        hold("cb", 0.06)
    done.set_result(None)

async def main():
    loop = asyncio.get_running_loop()
    loop.set_task_factory(asyncio.eager_task_factory)
    await asyncio.sleep(0.01)
    done = loop.create_future()
    loop.call_soon(cb, loop, done)
    await done  # main's next step: none of the child's time may be taken out of it
    await asyncio.sleep(0.05)

""" + _EPILOGUE
"""Python 3.12+: a plain loop callback (no task) holds the loop 0.06 s, then starts an eager child
whose first step holds it 0.12 s inside the callback, then starts an eager grandchild whose first
step holds it 0.18 s inside the child's (HOLD_FIRST = False: the callback holds after the child's
step). The other tasks (main) hold it for no time."""
