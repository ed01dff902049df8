"""A task row's lifespans cut into running / waiting / delayed pieces, from Profile.task_spans.

The packer (task_lanes) keeps one box per task, coloured by how it ended.
Where the agent recorded the task's stretches (TASK_RUNNING, TASK_DELAYED),
the box is cut into non-overlapping pieces: those stretches in their own
colours and the rest (waiting, suspended) in the box's colour. Boxes stay
disjoint within a row, as the flame item's hit test and pixel merging expect.
Numpy over one row's spans; tasks in the overflow row are not cut.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from pyrometer.core.analysis.lane_palette import T_DELAYED, T_RUNNING
from pyrometer.core.model import TASK_DELAYED, TASK_RUNNING, Profile

WAITING_PIECE = -1  # a piece of the lifespan no stretch covers (or a task without recorded stretches)
STATE_NAME = {WAITING_PIECE: "waiting", TASK_RUNNING: "running", TASK_DELAYED: "delayed"}
_PIECE_COLOR = {TASK_RUNNING: T_RUNNING, TASK_DELAYED: T_DELAYED}


@dataclass
class RowPieces:
    """Boxes of one task row after cutting: `owner` = index of the task's box in the packer row."""

    x: np.ndarray
    w: np.ndarray
    color: np.ndarray
    owner: np.ndarray
    state: np.ndarray  # WAITING_PIECE, TASK_RUNNING or TASK_DELAYED
    cut: bool  # any box was cut (False: the row's boxes as they were, state all WAITING_PIECE)


def spans_by_task(profile: Profile) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(task, state, start, end) of every recorded stretch, sorted by task then start."""
    sp = profile.task_spans
    if not len(sp):
        z = np.zeros(0)
        return np.zeros(0, np.int64), np.zeros(0, np.int8), z, z
    task = sp["task"].astype(np.int64)
    start = sp["start"]
    order = np.lexsort((start, task))
    return task[order], sp["state"][order], start[order], sp["end"][order]


MERGE_MAX = 4096  # new stretches merged into the sorted ones at most; more are sorted with the rest


def spans_by_task_since(
    profile: Profile, old: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None, seen: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`spans_by_task`, from `old` (its answer over the first `seen` rows) and the rows appended since.

    A live session appends stretches all day: sorting every one of them again on each refresh
    (a lexsort of a day's stretches, ~10 ms at 30M samples) became a merge of the few new ones.
    """
    sp = profile.task_spans
    n = len(sp)
    if old is None or not seen or n - seen > MERGE_MAX:
        return spans_by_task(profile)
    if n == seen:
        return old
    task = sp["task"][seen:n].astype(np.int64)
    start = sp["start"][seen:n]
    order = np.lexsort((start, task))  # stable: ties keep their rows' order, after the older rows (below)
    task, start, state, end = task[order], start[order], sp["state"][seen:n][order], sp["end"][seen:n][order]
    o_task, o_state, o_start, o_end = old
    lo = np.searchsorted(o_task, task, "left").tolist()
    hi = np.searchsorted(o_task, task, "right").tolist()
    at = np.fromiter(
        (a + int(np.searchsorted(o_start[a:b], s, "right")) for a, b, s in zip(lo, hi, start.tolist(), strict=True)),
        np.int64, len(task),
    )
    return np.insert(o_task, at, task), np.insert(o_state, at, state), np.insert(o_start, at, start), np.insert(o_end, at, end)


def cut_row(
    ids: np.ndarray,
    x: np.ndarray,
    w: np.ndarray,
    color: np.ndarray,
    spans: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> RowPieces:
    """Cut each box (task `ids[i]`, from x[i] for w[i], colour color[i]) by its task's stretches."""
    n = len(ids)
    s_task, s_state, s_start, s_end = spans
    whole = RowPieces(x, w, color, np.arange(n), np.full(n, WAITING_PIECE, np.int8), False)
    if not n or not len(s_task):
        return whole
    lo = np.searchsorted(s_task, ids, "left")
    hi = np.searchsorted(s_task, ids, "right")
    counts = hi - lo
    if not counts.any():
        return whole
    owner = np.repeat(np.arange(n), counts)
    some = counts > 0
    first, size = lo[some], counts[some]
    # every lo[i]..hi[i] range, concatenated (one arange per task took a day's live refresh ~30 ms)
    take = np.arange(int(size.sum())) + np.repeat(first - (np.cumsum(size) - size), size)
    box0, box1 = x[owner], x[owner] + w[owner]
    start = np.clip(s_start[take], box0, box1)
    end = np.clip(s_end[take], box0, box1)
    state = s_state[take]
    same = np.zeros(len(owner), bool)
    same[1:] = owner[1:] == owner[:-1]
    prev_end = np.where(same, np.concatenate(([0.0], end[:-1])), box0)
    start = np.maximum(start, prev_end)  # stretches never overlap; clip any rounding overlap away
    end = np.maximum(end, start)
    gap0, gap1 = prev_end, start  # waiting before each stretch
    last = np.ones(len(owner), bool)
    last[:-1] = owner[1:] != owner[:-1]
    tail0, tail1 = end[last], box1[last]  # waiting after a task's last stretch
    plain = np.flatnonzero(counts == 0)
    xs = [x[plain], start, gap0, tail0]
    ws = [w[plain], end - start, gap1 - gap0, tail1 - tail0]
    owners = [plain, owner, owner, owner[last]]
    states = [np.full(len(plain), WAITING_PIECE, np.int8), state.astype(np.int8), np.full(len(owner), WAITING_PIECE, np.int8), np.full(int(last.sum()), WAITING_PIECE, np.int8)]
    ox, ow, oo, os_ = np.concatenate(xs), np.concatenate(ws), np.concatenate(owners), np.concatenate(states)
    keep = (ow > 0) | ((os_ == WAITING_PIECE) & np.isin(oo, plain))  # a zero-length task keeps its box
    ox, ow, oo, os_ = ox[keep], ow[keep], oo[keep], os_[keep]
    colors = color[oo].copy()
    for st, c in _PIECE_COLOR.items():
        colors[os_ == st] = c
    order = np.lexsort((ox, oo))
    return RowPieces(ox[order], ow[order], colors[order], oo[order], os_[order], True)


class RowCuts:
    """The pieces of each packer row, kept across live refreshes: only a row's new boxes and its last one are cut again.

    cut_row over every row on each refresh cost what the whole session's tasks cost (a day's 150k
    tasks: tens of ms per live refresh). A packer row takes a new task only once its last one has
    ended, so every box but a row's last is final (start, width, colour); its pieces depend only on
    its own task's stretches. They are kept, and cut again only when stretches of that task arrive
    later (`note_spans` looks at the stretches appended since the last refresh).
    """

    def __init__(self) -> None:
        self._rows: dict[int, tuple[Any, int, RowPieces]] = {}  # slot -> (the packer row, boxes kept, their pieces)
        self._spans: tuple[int, int, int] = (0, 0, 0)  # (id of the stretches table, its cuts, its rows) at the last note_spans
        self.spans: object = None  # the sorted stretches the kept pieces were last cut with (task_rows_at reuses them)

    def note_spans(self, profile: Profile, where: Mapping[int, tuple[int, int]]) -> None:
        """Forget the kept pieces of boxes whose tasks got stretches since the last call (`where`: the packer's)."""
        sp = profile.task_spans
        seen_id, seen_cuts, seen = self._spans
        cuts = getattr(sp, "cuts", 0)
        if id(sp) != seen_id or cuts != seen_cuts or len(sp) < seen:
            self._rows.clear()
            self.spans = None
        elif len(sp) > seen and self._rows:
            for tid in np.unique(sp["task"][seen:]).tolist():
                slot, i = where.get(int(tid), (-1, -1))
                kept = self._rows.get(slot)
                if kept is not None and i < kept[1]:
                    del self._rows[slot]
        self._spans = (id(sp), cuts, len(sp))

    def kept(self, slot: int, row: Any, spans: object) -> tuple[int, RowPieces] | None:
        """(boxes, their pieces) kept of the packer row in `slot`, if they were cut with these `spans`."""
        hit = self._rows.get(slot)
        if hit is None or hit[0] is not row or self.spans is not spans:
            return None
        return hit[1], hit[2]

    def pieces(
        self, slot: int, row: Any, ids: np.ndarray, spans: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    ) -> RowPieces:
        """`cut_row` of the packer row in `slot` (its boxes x, w, color; `ids` its task ids as an array)."""
        x, w, color = row.x, row.w, row.color
        n = len(ids)
        self.spans = spans
        hit = self._rows.get(slot)
        if hit is not None and (hit[0] is not row or hit[1] > n):
            hit = None
        k = 0 if hit is None else hit[1]
        new = cut_row(ids[k:], x[k:], w[k:], color[k:], spans)
        if hit is None:
            out = new
        else:
            old = hit[2]
            out = RowPieces(
                np.concatenate((old.x, new.x)), np.concatenate((old.w, new.w)), np.concatenate((old.color, new.color)),
                np.concatenate((old.owner, new.owner + k)), np.concatenate((old.state, new.state)), old.cut or new.cut,
            )
        keep = max(n - 1, 0)  # the last box may still grow or end: cut again next time
        at = int(np.searchsorted(out.owner, keep, "left"))
        kept_cut = (hit is not None and hit[2].cut) or _any_stretches(ids[k:keep], spans[0])
        kept = RowPieces(out.x[:at], out.w[:at], out.color[:at], out.owner[:at], out.state[:at], kept_cut)
        if hit is None:  # (uncut, these are views of the packer's columns: copied, so no old buffer stays alive)
            kept = RowPieces(kept.x.copy(), kept.w.copy(), kept.color.copy(), kept.owner.copy(), kept.state.copy(), kept_cut)
        self._rows[slot] = (row, keep, kept)
        return out


def _any_stretches(ids: np.ndarray, s_task: np.ndarray) -> bool:
    """Whether any of these tasks has a recorded stretch (`s_task` sorted), as cut_row decides `cut`."""
    if not len(ids) or not len(s_task):
        return False
    return bool((np.searchsorted(s_task, ids, "right") > np.searchsorted(s_task, ids, "left")).any())
