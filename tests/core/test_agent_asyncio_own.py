"""asyncio.run's own shutdown tasks are not the program's tasks, on every supported CPython.

asyncio.run ends by running `loop.shutdown_asyncgens()` (one more task per async generator
still open, to close it) and `loop.shutdown_default_executor()` as tasks. A new user's program
made 5 tasks and `stats` said 7. The agent marks them by their coroutine's code object (a
program's own `BaseEventLoop.shutdown_asyncgens` stays the program's), and the counts leave
them out and say so.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_harness import MINOR_VERSIONS, interpreter, newest_patch, run_agent_target
from cli_runs import run_cli

from pyrometer.core.agent.tasks import ASYNCIO_OWN
from pyrometer.core.analysis.asyncio_own import asyncio_own_tasks
from pyrometer.core.cli.summary import task_summary

TARGET = """
import asyncio

class BaseEventLoop:  # the program's own class of that name: its coroutine is the program's task
    async def shutdown_asyncgens(self):
        await asyncio.sleep(0)

async def ticks():
    try:
        while True:
            yield 1
    finally:
        await asyncio.sleep(0)

async def worker(i):
    await asyncio.sleep(0.002 * i)

KEEP = []

async def main():
    gen = ticks()
    await gen.__anext__()
    KEEP.append(gen)  # still open when main returns: asyncio.run's shutdown_asyncgens closes it in a task
    await asyncio.gather(*(asyncio.create_task(worker(i)) for i in range(3)))
    await asyncio.create_task(BaseEventLoop().shutdown_asyncgens())

session = start()
asyncio.run(main())
session.stop()
"""


@pytest.mark.parametrize("version", MINOR_VERSIONS)
def test_asyncio_run_shutdown_tasks_are_marked_and_left_out_of_the_counts(version: str, tmp_path: Path) -> None:
    p, _, _ = run_agent_target(interpreter(newest_patch(version)), TARGET, tmp_path)
    marked = sorted(t.coro for t in p.tasks.values() if t.coro.startswith(ASYNCIO_OWN))
    assert marked == [
        ASYNCIO_OWN + "BaseEventLoop.shutdown_asyncgens",
        ASYNCIO_OWN + "BaseEventLoop.shutdown_default_executor",
    ], [t.coro for t in p.tasks.values()]
    own = asyncio_own_tasks(p.tasks)
    closer = [t for t in p.tasks.values() if t.id in own and not t.coro.startswith(ASYNCIO_OWN)]
    assert len(closer) == 1 and p.tasks[closer[0].parent].coro.endswith("shutdown_asyncgens"), closer  # type: ignore[index]
    program = sorted(t.coro for t in p.tasks.values() if t.id not in own)
    # main, three workers and the program's own BaseEventLoop.shutdown_asyncgens: 5
    assert program == ["BaseEventLoop.shutdown_asyncgens", "main", "worker", "worker", "worker"], program
    summary = task_summary(p)
    assert summary is not None
    assert summary["created"] == 5 and summary["alive"] == 5 and summary["asyncio_own"] == 3
    assert sum(summary["states"].values()) == 5
    mine = {r["coroutine"] for r in summary["list"] if not r.get("asyncio_own")}
    assert mine == {"main", "worker", "BaseEventLoop.shutdown_asyncgens"}
    assert sorted(r["id"] for r in summary["list"] if r.get("asyncio_own")) == sorted(own)  # listed apart, all of them


def test_stats_says_what_it_left_out(tmp_path: Path) -> None:
    run_agent_target(interpreter("current"), TARGET, tmp_path)
    res = run_cli("stats", str(tmp_path / "out.pyro"))
    assert res.returncode == 0, res.stderr
    lines = [line for line in res.stdout.splitlines() if line.startswith("asyncio tasks:")]
    assert lines == ["asyncio tasks: 5 created (5 done); not counted: 3 tasks asyncio.run made for its own shutdown"], res.stdout
    html = tmp_path / "report.html"
    assert run_cli("report", str(tmp_path / "out.pyro"), "-o", str(html)).returncode == 0
    assert "5 tasks created: 5 done. Not counted: 3 asyncio.run made for its own shutdown" in html.read_text()
