"""`stats`' task counts straight from an index's task batches, without a TaskInfo per task (issue 15).

An index's shell holds every task of a recording in one TASKS_NEW and one
TASKS_END batch (recording_index._task_frames): a day's 150k tasks. The text
form of `stats` prints only how many were created and in which state they
ended; decoding them into objects was a third of its CPU at 30M samples. Here
the two batches are read as columns. Batches of any other shape (several, a
task created twice, an end of a task never created) return None: the caller
then applies them as a full read does and counts the objects.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from pyrometer.core.agent import wire
from pyrometer.core.agent.tasks import ASYNCIO_OWN

_U32 = struct.Struct("<I")
_OWN = np.frombuffer(ASYNCIO_OWN.encode("ascii"), np.uint8)


def _header(payload: bytes) -> int:
    if len(payload) < 8:
        raise ValueError("batch too short")
    return int(_U32.unpack_from(payload, 0)[0])


def _strings_at(payload: bytes, offset: int, n: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(start, length) of each string of a string column at `offset`, and the offset after it."""
    lengths = np.frombuffer(payload, "<u4", n, offset).astype(np.int64)
    offset += 4 * n
    starts = offset + np.concatenate(([0], np.cumsum(lengths)[:-1])) if n else np.zeros(0, np.int64)
    end = offset + int(lengths.sum())
    if end > len(payload):
        raise ValueError("string column truncated")
    return starts, lengths, end


def _new_columns(payload: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(id, parent, coroutine starts with ASYNCIO_OWN) of a TASKS_NEW batch."""
    n = _header(payload)
    at = 8 + 8 * n  # t
    ids = np.frombuffer(payload, "<i4", n, at)
    parent = np.frombuffer(payload, "<i4", n, at + 4 * n)
    at += 12 * n  # id, parent, loop
    _, _, at = _strings_at(payload, at, n)  # name
    starts, lengths, at = _strings_at(payload, at, n)  # coroutine
    if at != len(payload):
        raise ValueError("TASKS_NEW batch has the wrong size")
    raw = np.frombuffer(payload, np.uint8)
    own = lengths >= len(_OWN)
    if own.any():
        heads = raw[starts[own][:, None] + np.arange(len(_OWN))]
        own[own] = (heads == _OWN).all(axis=1)
    return ids, parent, own


def _times(payload: bytes) -> np.ndarray:
    """The `t` column of a TASKS_NEW or TASKS_END batch (its first; NaN where the agent had none)."""
    return np.frombuffer(payload, "<f8", _header(payload), 8)


def _end_columns(payload: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(id, state code) of a TASKS_END batch."""
    n = _header(payload)
    ids = np.frombuffer(payload, "<i4", n, 8 + 8 * n)
    state = np.frombuffer(payload, np.uint8, n, 8 + 8 * n + 4 * n + 32 * n)
    _, _, at = _strings_at(payload, 8 + 8 * n + 4 * n + 32 * n + n, n)  # exception names
    if at != len(payload):
        raise ValueError("TASKS_END batch has the wrong size")
    return ids, state


def _asyncio_own(ids: np.ndarray, parent: np.ndarray, marked: np.ndarray) -> np.ndarray:
    """analysis.asyncio_own.asyncio_own_tasks as a mask: the marked tasks and every task created under one."""
    own = marked.copy()
    if not own.any():
        return own
    children: dict[int, list[int]] = {}
    for row, p in enumerate(parent.tolist()):
        if p >= 0:
            children.setdefault(p, []).append(row)
    todo = ids[own].tolist()
    while todo:
        for kid in children.get(todo.pop(), ()):
            if not own[kid]:
                own[kid] = True
                todo.append(int(ids[kid]))
    return own


def task_counts(
    frames: list[tuple[int, bytes]], t_from: float | None = None, t_to: float | None = None
) -> dict[str, Any] | None:
    """summary.task_summary(profile, t_from, t_to, listed=False) of the tasks these batches make (the
    whole run, or those alive in the range with their states at its end), or None when they are not one
    TASKS_NEW batch (then one TASKS_END batch) of distinct, known tasks."""
    kinds = [kind for kind, _ in frames]
    if kinds not in ([wire.TASKS_NEW], [wire.TASKS_NEW, wire.TASKS_END]):
        return None
    try:
        ids, parent, marked = _new_columns(frames[0][1])
        ended_ids, codes = _end_columns(frames[1][1]) if len(frames) > 1 else (np.zeros(0, np.int32), np.zeros(0, np.uint8))
    except ValueError:
        return None
    if not len(ids) or len(np.unique(ids)) != len(ids) or len(np.unique(ended_ids)) != len(ended_ids):
        return None
    order = np.argsort(ids, kind="stable")
    pos = np.clip(np.searchsorted(ids[order], ended_ids), 0, len(ids) - 1)
    if not bool((ids[order][pos] == ended_ids).all()):
        return None  # an end of a task never created: the objects say what it is
    mine = ~_asyncio_own(ids, parent, marked)
    state = np.full(len(ids), -1, np.int64)  # -1: no end, "pending"
    state[order[pos]] = codes
    ranged = t_from is not None or t_to is not None
    created_in = None
    if ranged:  # summary._task_counts' tests, as columns (a time the agent did not send is NaN: never compared true)
        created = _times(frames[0][1])
        ended = np.full(len(ids), np.nan)
        if len(frames) > 1:
            ended[order[pos]] = _times(frames[1][1])
        with np.errstate(invalid="ignore"):
            keep = np.ones(len(ids), bool)
            if t_to is not None:
                keep &= ~(created >= t_to)  # not yet created
                state[~(ended < t_to)] = -1  # not ended by the range's end: pending then
            if t_from is not None:
                keep &= ~(ended < t_from)  # over before the range
            new = keep & mine & ((created >= t_from) if t_from is not None else True)
        created_in = int(new.sum())
        left_out = int((keep & ~mine).sum())
        mine &= keep
    states: dict[str, int] = {}
    names = [*wire.TASK_STATES]
    for code, n in zip(*np.unique(state[mine], return_counts=True), strict=True):
        name = "pending" if code < 0 else names[code] if code < len(names) else "done"
        states[name] = states.get(name, 0) + int(n)
    alive = int(mine.sum())
    if created_in is not None:
        return {"created": created_in, "alive": alive, "states": states, "list": None, "in_range": True,
                "asyncio_own": left_out}
    return {"created": alive, "alive": alive, "states": states, "list": None, "in_range": False,
            "asyncio_own": int(len(ids) - alive)}
