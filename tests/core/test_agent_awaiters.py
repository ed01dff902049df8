"""Every awaiter of a task several tasks await (issue 13, item 3), on a real asyncio program.

Three tasks are each awaited by two tasks, one way each: `await t`,
`asyncio.shield(t)` and `asyncio.gather(t)`. They sleep 0.3 s before any work,
so no stall's await chain can name their awaiters by then: the agent's await snapshots must
(TASK_AWAITERS rows), and the "By task" view must then hang each of them under a
several-awaiters node naming both, on every CPython 3.9-3.13 found.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_harness import MINOR_VERSIONS, interpreter, newest_patch, run_agent_target

from pyrometer.core.analysis.calltree import call_tree
from pyrometer.core.analysis.task_stacks import SEVERAL_AWAITERS, by_task_view
from pyrometer.core.formats.recording import read_recording, write_profile

SHARED = """
import asyncio, time

def burn(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass

async def shared_work():
    await asyncio.sleep(0.3)          # awaited by two tasks all along: the snapshots see both
    for _ in range(8):
        burn(0.01)                    # ~8 samples inside each task (100 Hz)
        await asyncio.sleep(0.01)

async def direct(t):
    await t

async def shielded(t):
    await asyncio.shield(t)

async def gathered(t):
    await asyncio.gather(t)

async def main():
    waiters = []
    for name, how in (("s1", direct), ("s2", shielded), ("s3", gathered)):
        t = asyncio.create_task(shared_work(), name=name)
        waiters += [asyncio.create_task(how(t), name="a" + name[1]), asyncio.create_task(how(t), name="b" + name[1])]
    await asyncio.gather(*waiters)

session = start()
asyncio.run(main())
session.stop()
"""


# the tracker told each task's end with a done callback (not the step hook): one more callback on every task
DONE_CALLBACKS = "agent.accounting.TaskAccounting.install_steps = lambda self, ids, states: False\n"


@pytest.mark.parametrize(
    ("version", "ends"), [(v, "step hook") for v in MINOR_VERSIONS] + [("current", "done callbacks")]
)
def test_a_task_two_tasks_await_shows_both_awaiters_without_a_stall(version: str, ends: str, tmp_path: Path) -> None:
    body = (DONE_CALLBACKS if ends == "done callbacks" else "") + SHARED
    p, _, _ = run_agent_target(interpreter(newest_patch(version)), body, tmp_path)
    names = {t.id: t.name for t in p.tasks.values()}
    # seen by the snapshots while the shared tasks sleep, before any step of theirs could stall the loop
    pairs = {(names[task], names[awaiter]) for t, task, awaiter in p.task_awaiters if t < 0.29}
    for i in "123":
        assert {(f"s{i}", f"a{i}"), (f"s{i}", f"b{i}")} <= pairs, pairs
    assert len(p.task_awaiters) == len({(task, awaiter) for _, task, awaiter in p.task_awaiters})  # each pair once
    view = by_task_view(p)
    tree = call_tree(view)
    labels = {view.func_name[int(tree.func[n])]: int(n) for n in range(1, len(tree.func))}
    for i in "123":
        label = f"<task s{i} (2 awaiters: a{i}, b{i})>"
        assert label in labels, sorted(labels)
        path = [view.func_name[f] for f in tree.path(labels[label])]
        assert path[-2:] == [SEVERAL_AWAITERS, label] and f"<task a{i}>" not in path, path
        assert float(tree.total_weight[labels[label]]) > 0
    # the rows survive writing the profile out (and its index's shell) and reading it back
    copy = tmp_path / "copy.pyro"
    write_profile(p, copy)
    again, _ = read_recording(copy)
    assert again.task_awaiters == p.task_awaiters
