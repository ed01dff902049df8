"""The tasks asyncio makes for itself: asyncio.run's shutdown steps, and any task they start.

asyncio.run ends by running `loop.shutdown_asyncgens()` (which starts one task
per async generator left open, to close it) and `loop.shutdown_default_executor()`
as tasks. They are not the program's: counted with its tasks they made a
program of 4 tasks report 6. The agent marks them by their coroutine's code
object (core/agent/tasks.py: the coroutine name starts with ASYNCIO_OWN);
counts of the program's tasks leave them out and say how many were left out.
"""

from __future__ import annotations

from collections.abc import Mapping

from pyrometer.core.agent.tasks import ASYNCIO_OWN
from pyrometer.core.model import Profile, TaskInfo


def asyncio_own_tasks(tasks: Mapping[int, TaskInfo]) -> set[int]:
    """Ids of the marked tasks and of every task created under one of them."""
    own = {tid for tid, t in tasks.items() if t.coro.startswith(ASYNCIO_OWN)}
    if not own:
        return own
    children: dict[int, list[int]] = {}
    for tid, t in tasks.items():
        if t.parent is not None:
            children.setdefault(t.parent, []).append(tid)
    todo = list(own)
    while todo:
        for kid in children.get(todo.pop(), ()):
            if kid not in own:
                own.add(kid)
                todo.append(kid)
    return own


def profile_asyncio_own(profile: Profile) -> set[int]:
    """`asyncio_own_tasks` of the profile, kept until it has more tasks (a task's coroutine and
    parent are known from its creation on, so only new tasks can change the answer)."""

    def make() -> tuple[int, set[int]]:
        return len(profile.tasks), asyncio_own_tasks(profile.tasks)

    def update(hit: tuple[int, set[int]]) -> tuple[int, set[int]]:
        return hit if hit[0] == len(profile.tasks) else make()

    return profile.cached("asyncio_own_tasks", make, update)[1]
