"""Requests: asyncio tasks grouped by coroutine, with their latency distribution and the slowest explained.

"Why was this request slow?" — every `handle_request` task is one request.
A group gives the count and the latency (created → ended, finished tasks
only) at p50 / p95 / p99 / max (linear interpolation, numpy's default); its
slowest tasks carry the agent's CPU / running / waiting / delayed split and
the stall that delayed each most (the blocking event listing it, with the
delay), so the window can jump to the stall's stack and blocking task.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pyrometer.core.model import BlockingEvent, Profile, TaskInfo


@dataclass(frozen=True)
class SlowTask:
    """One of a group's slowest tasks, with where its time went (None: unknown)."""

    task: int
    name: str
    latency: float
    cpu_s: float | None
    running_s: float | None
    waiting_s: float | None
    delayed_s: float | None
    stall: int  # index into profile.blocking of the stall that delayed it most, -1 none
    stall_delay: float  # how long that stall made it late (seconds)


@dataclass
class RequestGroup:
    """All tasks of one coroutine."""

    coro: str
    count: int  # tasks created
    finished: int  # tasks that ended (their latencies below)
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None
    slowest: list[SlowTask] = field(default_factory=list)


def worst_stalls(blocking: list[BlockingEvent]) -> dict[int, tuple[int, float]]:
    """task id -> (index of the stall that delayed it most, the delay)."""
    out: dict[int, tuple[int, float]] = {}
    for i, ev in enumerate(blocking):
        for tid, _name, delay in ev.delayed or ():
            if delay > out.get(tid, (-1, -1.0))[1]:
                out[tid] = (i, float(delay))
    return out


def request_groups(profile: Profile, slowest: int = 5, t: float | None = None) -> list[RequestGroup]:
    """Groups by coroutine, the slowest (by p95, then max) first; `t`: only tasks created by then."""
    by_coro: dict[str, list[TaskInfo]] = {}
    for info in profile.tasks.values():
        if t is not None and info.created is not None and info.created > t:
            continue
        by_coro.setdefault(info.coro, []).append(info)
    stalls = worst_stalls(profile.blocking)
    groups: list[RequestGroup] = []
    for coro, infos in by_coro.items():
        done = [
            (i.ended - i.created, i)
            for i in infos
            if i.created is not None and i.ended is not None and (t is None or i.ended <= t)
        ]
        lat = np.array([d for d, _ in done])
        pct = np.percentile(lat, [50, 95, 99]).tolist() if len(lat) else [None, None, None]
        done.sort(key=lambda di: (-di[0], di[1].id))
        slow = []
        for latency, info in done[:slowest]:
            stall, delay = stalls.get(info.id, (-1, 0.0))
            slow.append(
                SlowTask(info.id, info.name, latency, info.cpu_s, info.running_s, info.waiting_s, info.delayed_s, stall, delay)
            )
        groups.append(
            RequestGroup(coro, len(infos), len(done), pct[0], pct[1], pct[2], float(lat.max()) if len(lat) else None, slow)
        )
    groups.sort(key=lambda g: (-(g.p95 if g.p95 is not None else -1.0), -(g.max or 0.0), g.coro))
    return groups
