"""Task rows at a replay playhead, cut from the whole session's packing instead of packed again.

The packer (task_lanes.TaskPacker) places tasks in (created, id) order, each in the first row free at
its start. A row whose last task ends after t1 is busy at every start <= t1, whether that end is the
task's real one (the session's packing) or its pending bar clipped at t1 (a packing up to t1); so
packing only the tasks created by t1 puts each of them where the session's packing put it, and the
same holds for the tasks that fit in no row. The rows at t1 are therefore the session's rows cut at
t1: per row its tasks created by t1 (a prefix: a row's tasks come in start order), the last of them
drawn pending up to t1 when it had not ended by then (only a row's last task can be: the next one
starts after it ended), and the overflow row likewise. A box's running/delayed pieces depend only on
its own box and task (task_states.cut_row), so the session's pieces are kept and only each row's
last box is cut again.

A playhead then costs a searchsorted and a few slices per row instead of a packing of every task
(0.3 s for a day's 150k, on a worker whose rows arrived with a second lay-out of the timeline).
tests/core/test_task_rows_at.py checks the rows, pieces and overflow against a fresh packing at t1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from pyrometer.core.analysis.lane_palette import T_PENDING
from pyrometer.core.analysis.name_view import NameView
from pyrometer.core.analysis.task_states import WAITING_PIECE, RowCuts, RowPieces, cut_row

if TYPE_CHECKING:
    from pyrometer.core.analysis.task_lanes import Overflow, TaskPacker
    from pyrometer.core.model import TaskInfo

Spans = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class Prefix(NameView):
    """The first `n` names of a row (no copy of a day's names list at each playhead)."""

    def __init__(self, names: list[str], n: int) -> None:
        self._names = names
        self._n = n

    def __len__(self) -> int:
        return self._n

    def _name(self, i: int) -> str:
        return self._names[i]


class RowAt:
    """One task row as of a playhead: the columns build_lanes reads from a packer row."""

    __slots__ = ("color", "ids", "names", "w", "x")

    def __init__(self, ids: np.ndarray, x: np.ndarray, w: np.ndarray, color: np.ndarray, names: Sequence[str]) -> None:
        self.ids, self.x, self.w, self.color, self.names = ids, x, w, color, names

    def __len__(self) -> int:
        return len(self.ids)


class _SessionRow:
    """A session row's columns, copied once (the packer's own grow while live and are rewritten to `now`)."""

    __slots__ = ("color", "ends", "ids", "names", "pieces", "w", "with_stretches", "x")

    def __init__(self, row: object) -> None:
        self.x = np.array(row.x, np.float64)  # type: ignore[attr-defined]
        self.w = np.array(row.w, np.float64)  # type: ignore[attr-defined]
        self.color = np.array(row.color, np.int32)  # type: ignore[attr-defined]
        self.ids = np.asarray(row.ids, np.int64)  # type: ignore[attr-defined]
        self.ends = np.asarray(row.ends, np.float64)  # type: ignore[attr-defined]
        self.names: list[str] = row.names  # type: ignore[attr-defined]
        self.pieces: tuple[Spans, RowPieces, int] | None = None  # (stretches, their cut of every box, first box with any)


class SessionRows:
    """The whole session's packing (a one-pass TaskPacker, t1 None) as columns that `at` cuts at a playhead."""

    def __init__(self, packer: TaskPacker) -> None:
        from pyrometer.core.analysis.task_lanes import MIN_W

        self.packer = packer
        self.cuts: RowCuts | None = None  # the pane's cut pieces of the packer's rows, if it drew them (reused)
        self.max_rows = packer.max_rows
        self.tasks = packer.tasks
        self.rows = [_SessionRow(r) for r in packer.rows]
        start = np.asarray(packer._hidden_start, np.float64)
        ended = np.asarray(packer._hidden_ended, np.float64)
        self.hidden_start = start
        # the overflow row's spans as packed over the whole session, with each task's own end (BUSY: never):
        # at t1 they are the same spans but the last, whose end is the latest end by t1 (or t1)
        stop = np.maximum(ended, start + MIN_W)
        self.hidden_reach = np.maximum.accumulate(stop) if len(stop) else stop
        first = np.ones(len(start), bool)
        first[1:] = start[1:] > self.hidden_reach[:-1]
        self.hidden_heads = np.flatnonzero(first)
        self.hidden_latest = np.maximum.accumulate(ended) if len(ended) else ended

    def at(self, t1: float) -> PackingAt:
        return PackingAt(self, t1)

    def row_pieces(self, slot: int, spans: Spans) -> tuple[RowPieces, int]:
        """cut_row of the session row's boxes, and its first box with stretches (len: none), kept per stretches."""
        row = self.rows[slot]
        if row.pieces is None or row.pieces[0] is not spans:
            n = len(row.ids)
            kept = None if self.cuts is None else self.cuts.kept(slot, self.packer.rows[slot], spans)
            if kept is not None and kept[0] == n - 1 and kept[1].cut:  # all but its last box: drawn live
                done, last = kept[1], cut_row(row.ids[n - 1 :], row.x[n - 1 :], row.w[n - 1 :], row.color[n - 1 :], spans)
                pieces = RowPieces(
                    np.concatenate((done.x, last.x)), np.concatenate((done.w, last.w)),
                    np.concatenate((done.color, last.color)), np.concatenate((done.owner, last.owner + n - 1)),
                    np.concatenate((done.state, last.state)), True,
                )
            else:
                pieces = cut_row(row.ids, row.x, row.w, row.color, spans)
            s_task = spans[0]
            has = np.searchsorted(s_task, row.ids, "right") > np.searchsorted(s_task, row.ids, "left")
            first = int(np.argmax(has)) if has.any() else len(row.ids)
            row.pieces = (spans, pieces, first)
        return row.pieces[1], row.pieces[2]


class PackingAt:
    """The task rows and overflow a TaskPacker(max_rows, t1) would pack, cut from a SessionRows."""

    def __init__(self, session: SessionRows, t1: float) -> None:
        from pyrometer.core.analysis.task_lanes import MIN_W

        self.session = session
        self.t1 = t1
        self.max_rows = session.max_rows
        self.tasks: dict[int, TaskInfo] | None = session.tasks
        self.rows: list[RowAt] = []
        self._pending_last: list[bool] = []  # per row: its last box is a task not ended by t1 (cut again)
        for r in session.rows:
            k = int(np.searchsorted(r.x, t1, "right"))
            if k == 0:
                break  # rows open in start order: the later ones start later still
            last = k - 1
            w, color = r.w[:k], r.color[:k]
            pending = bool(r.ends[last] > t1)
            if pending:  # as TaskPacker._grow_pending draws it, in its pending colour
                w = w.copy()
                w[last] = max(t1 - r.x[last], MIN_W)
                color = color.copy()
                color[last] = T_PENDING
            self.rows.append(RowAt(r.ids[:k], r.x[:k], w, color, Prefix(r.names, k)))
            self._pending_last.append(pending)
        self.hidden = int(np.searchsorted(session.hidden_start, t1, "right"))

    def overflow(self) -> Overflow:
        """TaskPacker.overflow at t1: the session's spans of the hidden tasks created by t1, the last one ended anew."""
        from pyrometer.core.analysis.task_lanes import MIN_W, Overflow

        s, k = self.session, self.hidden
        if k == 0:
            z = np.zeros(0)
            return Overflow(z, z, np.zeros(0, np.int64))
        heads = s.hidden_heads[: int(np.searchsorted(s.hidden_heads, k, "left"))]
        last = np.append(heads[1:], k) - 1
        stop = s.hidden_reach[last]
        # every span but the last ended before a later task's start <= t1: as in the session; the last
        # reaches the latest end by t1 of its tasks (a task still running at t1: t1), at least a box
        stop[-1] = max(min(float(s.hidden_latest[k - 1]), self.t1), float(s.hidden_start[k - 1]) + MIN_W)
        return Overflow(s.hidden_start[heads], stop, np.diff(np.append(heads, k)))

    def pieces(self, slot: int, spans: Spans) -> RowPieces:
        """cut_row of row `slot` at t1: the session's pieces of its boxes but the last, which may end at t1."""
        r = self.rows[slot]
        k = len(r)
        full, first = self.session.row_pieces(slot, spans)
        if first >= k:  # none of these tasks has stretches: the boxes as they are (cut_row's answer)
            return RowPieces(r.x, r.w, r.color, np.arange(k), np.full(k, WAITING_PIECE, np.int8), False)
        if not self._pending_last[slot]:
            at = int(np.searchsorted(full.owner, k, "left"))
            return RowPieces(full.x[:at], full.w[:at], full.color[:at], full.owner[:at], full.state[:at], True)
        last = k - 1
        at = int(np.searchsorted(full.owner, last, "left"))
        new = cut_row(r.ids[last:], r.x[last:], r.w[last:], r.color[last:], spans)
        return RowPieces(
            np.concatenate((full.x[:at], new.x)), np.concatenate((full.w[:at], new.w)),
            np.concatenate((full.color[:at], new.color)), np.concatenate((full.owner[:at], new.owner + last)),
            np.concatenate((full.state[:at], new.state)), True,
        )
