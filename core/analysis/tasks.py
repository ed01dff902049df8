"""The asyncio task tree as it stood at a moment t (or at the end of the recording)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pyrometer.core.model import Profile


@dataclass
class TaskNode:
    """One task as of t: state is "pending" until it has ended (then done/cancelled/failed)."""

    id: int
    name: str
    coro: str
    parent: int | None
    state: str
    created: float | None
    ended: float | None
    await_stack: int = -1  # stack of the latest await snapshot at or before t
    children: list[int] = field(default_factory=list)
    exc: str | None = None


def _latest_awaits(profile: Profile, t: float | None) -> dict[int, int]:
    aw = profile.awaits
    if not len(aw):
        return {}
    times, tasks, stacks = aw["time"], aw["task"], aw["stack"]
    keep = np.ones(len(times), bool) if t is None else times <= t
    idx = np.flatnonzero(keep)
    if not len(idx):
        return {}
    order = idx[np.lexsort((idx, times[idx], tasks[idx]))]  # by task, then time, then arrival
    last = np.ones(len(order), bool)
    last[:-1] = tasks[order][1:] != tasks[order][:-1]
    sel = order[last]
    return dict(zip(tasks[sel].tolist(), stacks[sel].tolist(), strict=True))


def task_tree(profile: Profile, t: float | None = None, since: float | None = None) -> dict[int, TaskNode]:
    """Tasks created at or before t (all when t is None), with states and await points as of t.

    With `since` (a range's start) the tree holds only the range's tasks: those
    that ended before it are left out.
    """
    awaits = _latest_awaits(profile, t)
    nodes: dict[int, TaskNode] = {}
    for info in profile.tasks.values():
        if t is not None and info.created is not None and info.created > t:
            continue
        if since is not None and info.ended is not None and info.ended < since:
            continue
        if t is None:  # the end of the recording: the final word
            ended = info.ended is not None or info.state != "pending"
            state = info.state
        else:
            ended = info.ended is not None and info.ended <= t
            state = info.state if ended else "pending"
            if ended and state == "pending":
                state = "done"
        nodes[info.id] = TaskNode(
            id=info.id,
            name=info.name,
            coro=info.coro,
            parent=info.parent,
            state=state,
            created=info.created,
            ended=info.ended if ended else None,
            await_stack=awaits.get(info.id, -1),
            exc=info.exc if ended else None,
        )
    for node in sorted(nodes.values(), key=lambda n: (n.created if n.created is not None else -1.0, n.id)):
        if node.parent is not None and node.parent in nodes:
            nodes[node.parent].children.append(node.id)
    return nodes


def task_roots(profile: Profile, t: float | None = None, tree: dict[int, TaskNode] | None = None) -> list[int]:
    """Ids of tasks without a parent in the tree (oldest first)."""
    nodes = task_tree(profile, t) if tree is None else tree
    roots = [n for n in nodes.values() if n.parent is None or n.parent not in nodes]
    roots.sort(key=lambda n: (n.created if n.created is not None else -1.0, n.id))
    return [n.id for n in roots]
