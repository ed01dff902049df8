"""What each asyncio task cost (CPU, running, waiting, delayed), over the whole run or a time window.

Over the whole run the agent's totals (TaskInfo) are the answer. For a window
(a selected range, or the start up to the playhead) a task whose life lies
inside it still shows its totals; one cut by the window gets its running and
delayed time from the recorded stretches (Profile.task_spans) clipped to the
window, its waiting time as the rest of its life in the window, and no CPU
(the agent measures CPU per task, not per stretch). None = unknown, never 0:
an older recording without accounting shows every figure as unknown, and
when the agent turned accounting off mid-run (a loop stepping too fast to
time cheaply) the stretches stop there: a task without totals is measured
from them only in a window that ends before that moment, else unknown (its
stretches would show a part of its life as if it were all of it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyrometer.core import fmt
from pyrometer.core.agent.accounting import OFF_NOTICE
from pyrometer.core.model import TASK_DELAYED, TASK_RUNNING, Profile


@dataclass(frozen=True)
class TaskCosts:
    """Seconds a task spent in each state (None: unknown); `partial` = clipped to a window."""

    cpu_s: float | None
    running_s: float | None
    waiting_s: float | None
    delayed_s: float | None
    partial: bool = False
    why: str = ""  # why the figures are unknown, for a tooltip ("" when known, or for no reason recorded)


UNKNOWN = TaskCosts(None, None, None, None)
NO_ACCOUNTING = "this recording has no per-task accounting (an agent before 0.2, or task accounting switched off)"


def has_accounting(profile: Profile) -> bool:
    """True when the recording measured per-task costs (agent 0.2 on)."""
    return len(profile.task_spans) > 0 or any(
        t.running_s is not None for t in profile.tasks.values()
    )


def accounting_stopped_at(profile: Profile) -> tuple[float, str] | None:
    """(session time, the agent's notice) when per-task accounting turned itself off; None = it never did."""
    for note in profile.notices:
        message = str(note.get("message", ""))
        if message.startswith(OFF_NOTICE) and isinstance(note.get("t"), (int, float)):
            return float(note["t"]), message
    return None


def _stopped_reason(at: float, notice: str) -> str:
    rate = notice.split(": the loop runs ", 1)[-1].split(",", 1)[0] if ": the loop runs " in notice else ""
    because = f" (the loop ran {rate}, too many to time cheaply)" if rate else ""
    return (
        f"per-task accounting turned itself off at {fmt.clock(at)}{because}: "
        "this task's time after that was not measured"
    )


def task_costs(
    profile: Profile, t0: float | None = None, t1: float | None = None
) -> dict[int, TaskCosts]:
    """Costs of every task, over [t0, t1] (None: open end); tasks the window misses are left out."""
    if not has_accounting(profile):
        return dict.fromkeys(profile.tasks, TaskCosts(None, None, None, None, why=NO_ACCOUNTING))
    stopped = accounting_stopped_at(profile)
    after_stop = UNKNOWN if stopped is None else TaskCosts(None, None, None, None, why=_stopped_reason(*stopped))
    end_of_run = profile.duration()
    out: dict[int, TaskCosts] = {}
    cut: list[tuple[int, float, float]] = []  # (task, lo, hi) to measure from the stretches
    for info in profile.tasks.values():
        totals = TaskCosts(info.cpu_s, info.running_s, info.waiting_s, info.delayed_s)
        whole = info.created is not None and info.ended is not None and info.running_s is not None
        inside = whole and (t0 is None or info.created >= t0) and (t1 is None or info.ended <= t1)  # type: ignore[operator]
        if inside:
            out[info.id] = totals
            continue
        if info.created is None:
            out[info.id] = UNKNOWN
            continue
        lo = info.created if t0 is None else max(info.created, t0)
        end = info.ended if info.ended is not None else end_of_run
        hi = end if t1 is None else min(end, t1)
        if hi < lo:
            continue  # not alive in the window
        if stopped is not None and hi > stopped[0]:
            out[info.id] = after_stop  # its stretches stop at the switch-off: a part, not the whole
            continue
        cut.append((info.id, lo, hi))
    if not cut:
        return out
    ids = np.array([c[0] for c in cut], np.int64)
    lo_a = np.array([c[1] for c in cut])
    hi_a = np.array([c[2] for c in cut])
    running, delayed = clipped_span_sums(profile, ids, lo_a, hi_a)
    life = hi_a - lo_a
    waiting = np.clip(life - running - delayed, 0.0, None)
    for i, (tid, _, _) in enumerate(cut):
        out[tid] = TaskCosts(
            None, float(running[i]), float(waiting[i]), float(delayed[i]), partial=True
        )
    return out


def clipped_span_sums(profile: Profile, ids: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(running, delayed) seconds of task ids[i]'s recorded spans inside [lo[i], hi[i]]: one pass over all spans."""
    running: np.ndarray = np.zeros(len(ids))
    delayed: np.ndarray = np.zeros(len(ids))
    spans = profile.task_spans
    if not len(spans) or not len(ids):
        return running, delayed
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    task = spans["task"].astype(np.int64)
    pos = np.clip(np.searchsorted(sorted_ids, task), 0, len(sorted_ids) - 1)
    known = sorted_ids[pos] == task
    row = order[pos[known]]
    start = np.maximum(spans["start"][known], lo[row])
    stop = np.minimum(spans["end"][known], hi[row])
    length = np.clip(stop - start, 0.0, None)
    state = spans["state"][known]
    running = np.bincount(row, weights=np.where(state == TASK_RUNNING, length, 0.0), minlength=len(ids))
    delayed = np.bincount(row, weights=np.where(state == TASK_DELAYED, length, 0.0), minlength=len(ids))
    return running, delayed
