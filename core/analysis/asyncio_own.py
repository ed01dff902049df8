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
    """`asyncio_own_tasks` of the profile, looking only at the tasks touched since the last call.

    A live session creates and ends tasks all day, and this was computed again over every task
    whenever one was added (a day's 300k tasks: ~35 ms in each live refresh of the timeline and
    of the tasks pane). `Profile.task_log` lists each task created or ended, in order: when none of
    the tasks logged since the last answer is marked, is own already or has an own parent, the
    answer cannot have changed (a new own task can only come from a marked one or an own parent);
    otherwise, or when the tasks were not all logged (a reader that fills `tasks` directly), it is
    computed again from all of them.
    """

    def make() -> tuple[int, int, int, set[int]]:
        return id(profile.tasks), len(profile.tasks), len(profile.task_log), asyncio_own_tasks(profile.tasks)

    def update(hit: tuple[int, int, int, set[int]]) -> tuple[int, int, int, set[int]]:
        tasks_id, n_tasks, n_log, own = hit
        tasks, log = profile.tasks, profile.task_log
        if tasks_id != id(tasks) or len(log) < n_log or (len(tasks) != n_tasks and len(log) == n_log):
            return make()  # other tasks, or tasks that came without the log
        if len(log) == n_log:
            return hit
        get = tasks.get
        for tid in log[n_log:]:
            task = get(tid)
            if task is not None and (tid in own or task.coro.startswith(ASYNCIO_OWN) or task.parent in own):
                return make()  # (rare: asyncio.run's shutdown, once)
        return id(tasks), len(tasks), len(log), own

    return profile.cached("asyncio_own_tasks", make, update)[3]
