"""A live session's own-task answer, kept up as tasks arrive, equals the answer computed from all tasks.

`profile_asyncio_own` looks only at the tasks logged since its last answer (a day's tasks were all
looked at again in every live refresh of the timeline and the tasks pane); this checks it against
`asyncio_own_tasks` over every task after each step of a session that creates and ends tasks,
fills in a task whose end arrived before its creation, marks asyncio.run's shutdown tasks late
and gives them children, and reuses a task id.
"""

from __future__ import annotations

import random

from pyrometer.core.agent.tasks import ASYNCIO_OWN
from pyrometer.core.analysis.asyncio_own import asyncio_own_tasks, profile_asyncio_own
from pyrometer.core.model import Profile, TaskInfo


def _create(p: Profile, tid: int, parent: int | None, coro: str) -> None:
    info = p.tasks.get(tid)
    if info is not None and info.created is None:  # its end came first: filled in place, as the reader does
        info.parent, info.coro, info.created = parent, coro, 0.0
    else:
        p.tasks[tid] = TaskInfo(tid, parent, f"t{tid}", coro, created=0.0)
    p.task_log.append(tid)
    p.generation += 1


def _end(p: Profile, tid: int) -> None:
    if tid not in p.tasks:
        p.tasks[tid] = TaskInfo(tid, None, "", "")  # an end before its creation: a placeholder
    p.tasks[tid].ended = 1.0
    p.task_log.append(tid)
    p.generation += 1


def test_the_live_answer_equals_the_whole_answer_at_every_step() -> None:
    rng = random.Random(15)
    p = Profile()
    seen_own = 0
    for step in range(3000):
        ids = list(p.tasks)
        roll = rng.random()
        if roll < 0.05 and ids:  # an end arrives before the creation of a new task, then the creation
            tid = 10_000 + step
            _end(p, tid)
            assert profile_asyncio_own(p) == asyncio_own_tasks(p.tasks)
            _create(p, tid, rng.choice(ids), ASYNCIO_OWN + "shutdown" if rng.random() < 0.3 else "work")
        elif roll < 0.10 and ids:  # asyncio.run's shutdown task, sometimes under a program task
            _create(p, 20_000 + step, rng.choice(ids) if rng.random() < 0.5 else None, ASYNCIO_OWN + "BaseEventLoop.x")
        elif roll < 0.15 and ids:  # an id used again (CPython reuses object ids) by a program task
            _create(p, rng.choice(ids), None, "again")
        elif roll < 0.35 and ids:
            _end(p, rng.choice(ids))
        else:  # a program task, a child of any task so far (an own one too)
            _create(p, 30_000 + step, rng.choice(ids) if ids and rng.random() < 0.7 else None, "work")
        got = profile_asyncio_own(p)
        assert got == asyncio_own_tasks(p.tasks), step
        seen_own = max(seen_own, len(got))
    assert seen_own > 10  # the session had own tasks and children of them to find


def test_tasks_filled_without_the_log_are_looked_at_again() -> None:
    """A reader that fills `tasks` directly (pprof's labels) logs nothing: the answer is computed again."""
    p = Profile()
    p.tasks[1] = TaskInfo(1, None, "a", "work")
    p.generation += 1
    assert profile_asyncio_own(p) == set()
    p.tasks[2] = TaskInfo(2, 1, "b", ASYNCIO_OWN + "x")
    p.generation += 1
    assert profile_asyncio_own(p) == {2}
