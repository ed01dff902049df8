"""The timeline's lanes as plain arrays: thread activity, blocking events, packed task rows.

One `Lanes` holds every box of the timeline (start, width, lane, colour index
into `lane_palette.LANE_COLORS`) plus what a tooltip needs, built from one
profile snapshot up to t1. A thread's activity runs come from
`spans.activity_runs`, which keeps them and looks only at new samples; task
rows come from `task_lanes`, which follows `Profile.task_log` and places only
new tasks (at a replay playhead: the session's rows cut at it, task_rows_at).
Laid out for a view, the stall and task lanes hold what it shows, one cell a
pixel for sub-pixel boxes (lane_cells). No Qt: the pane draws these arrays
with one FlameGraphItem.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from html import escape as esc

import numpy as np

from pyrometer.core import fmt
from pyrometer.core.analysis.lane_cells import Cells, pixel_cells
from pyrometer.core.analysis.lane_palette import (
    BLOCKING,
    STATE_OF_COLOR,
    T_OVERFLOW,
    thread_colors,
)
from pyrometer.core.analysis.lod import activity_boxes, activity_index, is_preview
from pyrometer.core.analysis.loop import blocking_function, sorted_blocking
from pyrometer.core.analysis.name_view import NameView
from pyrometer.core.analysis.on_cpu import has_cpu_info
from pyrometer.core.analysis.spans import activity_runs
from pyrometer.core.analysis.task_lanes import Overflow, TaskLanes, TaskPacker, TaskRow
from pyrometer.core.analysis.task_rows_at import PackingAt, Prefix, RowAt
from pyrometer.core.analysis.task_states import STATE_NAME, RowPieces, spans_by_task_since
from pyrometer.core.model import Profile

MAX_TASK_ROWS = 12
THREAD_H, BLOCKING_H, TASK_H = 1.0, 0.8, 0.5  # lane heights (thread lanes are the ones to read)


class LaneLabels(NameView):
    """Box labels, looked up lazily: thread lanes (most boxes) have none, so none are stored."""

    def __init__(self) -> None:
        self._first: list[int] = [0]  # first box of each part, then the total
        self._parts: list[Sequence[str] | None] = []

    def append(self, labels: Sequence[str] | None, count: int) -> None:
        self._parts.append(labels)
        self._first.append(self._first[-1] + count)

    def __len__(self) -> int:
        return self._first[-1]

    def _name(self, i: int) -> str:
        part = bisect_right(self._first, i) - 1
        labels = self._parts[part]
        return "" if labels is None else labels[i - self._first[part]]


class LazyLabels(NameView):
    """A label per key, made when asked: only the few labelled boxes of a paint are looked up. Lists of
    them were built on every live refresh (a day's task pieces: ~10 ms of Python; its "+N" spans too)."""

    def __init__(self, keys: np.ndarray, label: Callable[[int], str]) -> None:
        self._keys = keys
        self._label = label

    def __len__(self) -> int:
        return len(self._keys)

    def _name(self, i: int) -> str:
        return self._label(int(self._keys[i]))


def piece_names_of(names: Sequence[str], owner: np.ndarray) -> LazyLabels:
    """The task name of each piece of a cut row (`names[owner[i]]`)."""
    return LazyLabels(owner, names.__getitem__)


def count_labels(count: np.ndarray) -> LazyLabels:
    """"+N" of each overflow span."""
    return LazyLabels(count, lambda c: f"+{c:,}")


@dataclass
class Lanes:
    """Boxes of every lane plus what a tooltip needs, built from one profile snapshot."""

    x: list[np.ndarray] = field(default_factory=list)
    width: list[np.ndarray] = field(default_factory=list)
    row: list[np.ndarray] = field(default_factory=list)
    color: list[np.ndarray] = field(default_factory=list)
    labels: LaneLabels = field(default_factory=LaneLabels)
    # box -> tooltip (or a function making it: thousands of task boxes, hovered one at a time)
    tips: dict[int, str | Callable[[], str]] = field(default_factory=dict)
    kinds: list[str] = field(default_factory=list)  # per lane: "thread", "blocking", "task"
    names: list[str] = field(default_factory=list)  # per lane
    heights: list[float] = field(default_factory=list)  # per lane, plot units
    hidden_tasks: int = 0
    thread_of: dict[int, int] = field(default_factory=dict)  # thread lane -> thread id (its tooltip measures CPU)
    # (first box, box count, index in lane -> tooltip): lanes whose tips are made on hover
    tip_fns: list[tuple[int, int, Callable[[int], str]]] = field(default_factory=list)
    task_boxes: list[tuple[int, np.ndarray]] = field(default_factory=list)  # (first box, task id per box) of task rows
    # lanes given as pixel cells (lane_cells): (first box, its Cells, the lane's own starts and widths), and of
    # task rows, by first box: (task of each kept box, where each cell's boxes begin) for outlines
    cells: list[tuple[int, Cells, np.ndarray, np.ndarray]] = field(default_factory=list)
    cell_tasks: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    stalls: tuple[np.ndarray, np.ndarray] = (np.zeros(0), np.zeros(0))  # (start, duration) of the stalls up to t1, in time order
    _arrays: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
    _boxes: int = 0  # boxes added so far (summing the lanes on every add was quadratic: 32k threads 62 s)

    def add(
        self,
        row: int,
        x: np.ndarray,
        w: np.ndarray,
        color: np.ndarray,
        labels: Sequence[str] | None,
        tips: Sequence[str | Callable[[], str]] | Callable[[int], str] | None,
        view: tuple[float, float, int] | None = None,
        tasks: np.ndarray | None = None,
    ) -> None:
        """Append one lane's boxes; thread lanes pass no labels/tips (built on hover: 10^5 segments).

        `tips` may be a function of the box's index in the lane (task rows: no per-box storage).
        With a `view` (x0, x1, pixels) the lane gives the boxes it shows there (lane_cells.pixel_cells);
        each cell's label, tooltip, task and span are those of the box it stands for. `tasks`: the task
        of each box (task rows), for `task_mask`.
        """
        first = self._boxes
        cells = pixel_cells(x, w, *view) if view is not None else None
        if cells is not None:
            pick = cells.first
            self.cells.append((first, cells, x, w))
            if tasks is not None:
                self.cell_tasks[first] = (tasks[cells.kept], cells.starts)
                tasks = tasks[pick]
            x, w, color = cells.x, cells.w, color[pick]
            labels = None if labels is None else LazyLabels(pick, labels.__getitem__)
            if callable(tips):
                tips = partial(_picked, tips, pick)
            elif tips is not None:
                tips = [tips[i] for i in pick.tolist()]
        if tasks is not None:
            self.task_boxes.append((first, tasks))
        self._boxes += len(x)
        self._arrays = None
        self.x.append(np.asarray(x, np.float64))
        self.width.append(np.asarray(w, np.float64))
        self.row.append(np.full(len(x), row, np.int32))
        self.color.append(np.asarray(color, np.int32))
        self.labels.append(labels, len(x))
        if callable(tips):
            self.tip_fns.append((first, len(x), tips))
        elif tips is not None:
            self.tips.update((first + i, t) for i, t in enumerate(tips))

    def tip(self, box: int) -> str | None:
        """The tooltip of a blocking or task box (None for thread boxes)."""
        tip = self.tips.get(box)
        if tip is None:
            for first, count, fn in self.tip_fns:
                if first <= box < first + count:
                    return fn(box - first)
        return tip() if callable(tip) else tip

    def task_mask(self, ids: frozenset[int]) -> np.ndarray:
        """Boxes (in `arrays()` order) that belong to one of these tasks."""
        mask = np.zeros(self._boxes, bool)
        if ids:
            wanted = np.fromiter(ids, np.int64, len(ids))
            for first, tasks in self.task_boxes:
                cell = self.cell_tasks.get(first)
                if cell is not None and len(cell[1]):  # a cell: any of the boxes it stands for
                    mask[first : first + len(tasks)] = np.logical_or.reduceat(np.isin(cell[0], wanted), cell[1])
                else:
                    mask[first : first + len(tasks)] = np.isin(tasks, wanted)
        return mask

    def box_span(self, box: int) -> tuple[float, float]:
        """(start, end) of a box; of a cell, of the box it stands for (a click selects that task's span)."""
        for first, cells, x, w in self.cells:
            if first <= box < first + len(cells.first):
                i = int(cells.first[box - first])
                return float(x[i]), float(x[i] + w[i])
        bx, bw, _, _ = self.arrays()
        return float(bx[box]), float(bx[box] + bw[box])

    def kind(self, box: int) -> str:
        return self.kinds[int(self.arrays()[2][box])]

    def lane_y(self) -> np.ndarray:
        """Top of each lane (plot units)."""
        return np.concatenate(([0.0], np.cumsum(self.heights)[:-1])) if self.heights else np.zeros(0)

    def lane_center(self, lane: int) -> float:
        return float(self.lane_y()[lane] + self.heights[lane] / 2)

    def ticks(self) -> list[tuple[float, str]]:
        """Axis labels: one per thread/blocking lane, one in the middle of all task rows."""
        y = self.lane_y()  # once: per lane it made 32k threads quadratic
        centers = (y + np.asarray(self.heights) / 2).tolist()
        out = [(centers[i], name) for i, (name, kind) in enumerate(zip(self.names, self.kinds, strict=True)) if kind != "task"]
        task_rows = [i for i, kind in enumerate(self.kinds) if kind == "task"]
        if task_rows:
            top, bottom = y[task_rows[0]], y[task_rows[-1]] + self.heights[task_rows[-1]]
            out.append(((top + bottom) / 2, "tasks"))
        return out

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(x, width, lane, colour) of every box, concatenated once."""
        if self._arrays is None:
            if not self.x:
                z = np.zeros(0)
                self._arrays = (z, z, np.zeros(0, np.int32), np.zeros(0, np.int32))
            else:
                self._arrays = (
                    np.concatenate(self.x),
                    np.concatenate(self.width),
                    np.concatenate(self.row),
                    np.concatenate(self.color),
                )
        return self._arrays


def _picked(tip: Callable[[int], str], pick: np.ndarray, i: int) -> str:
    """The tooltip of the lane's box a cell stands for."""
    return tip(int(pick[i]))


def activity_segments(profile: Profile, thread: int, t1: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, width, CPU level) runs of consecutive samples at the same level (core: `activity_runs`).

    A sample lasts until the thread's next sample, but at most three typical
    intervals: a long gap means the thread was not sampled (e.g. idle in C).
    The runs are extended incrementally, so a live refresh pays for new samples only.
    """
    return activity_runs(profile, thread, t1)


def build_lanes(
    profile: Profile,
    t1: float | None,
    max_task_rows: int = MAX_TASK_ROWS,
    threads: frozenset[int] | None = None,
    duration: float | None = None,
    task_lanes: TaskLanes | None = None,
    view: tuple[float, float] | None = None,
    pixels: int = 1500,
) -> Lanes:
    """Thread activity lanes (only `threads` when given), a blocking lane and packed task lanes, up to t1.

    `duration` is profile.duration() when the caller has it (it scans every sample).
    `task_lanes` is the caller's packer cache: given, a live refresh places only new tasks.
    With a `view` (x0, x1) the thread lanes cover only it, at `pixels` columns (lod.activity_boxes):
    per-pixel summaries of a huge session, the exact runs once zoomed in.
    """
    lanes = Lanes()
    row = 0
    shown = sorted(profile.threads.values(), key=lambda th: th.id)
    if profile.meta.get("deterministic"):
        shown = []  # samples synthesized from call statistics: their "times" are not a timeline
    if threads is not None:
        shown = [th for th in shown if th.id in threads]
    in_view = view is not None and profile.samples_sorted
    # (a recording's preview has no rows to look at: its lanes are drawn as they were, on CPU or not)
    cpu_known = has_cpu_info(profile) if shown and not is_preview(profile) else True
    for th in shown:
        if in_view:
            assert view is not None
            boxes = activity_boxes(profile, th.id, view[0], view[1], pixels, t1)
            x, w, on = boxes.start, boxes.width, boxes.on
        else:
            x, w, on = activity_segments(profile, th.id, t1)
        if len(x) == 0 and not (in_view and activity_index(profile).thread_row(th.id) is not None):
            continue  # (in a view, a thread keeps its lane where it has nothing: zooming never moves lanes)
        lanes.add(row, x, w, thread_colors(on, cpu_known), None, None)
        lanes.thread_of[row] = th.id
        lanes.kinds.append("thread")
        lanes.names.append(th.name)
        lanes.heights.append(THREAD_H)
        row += 1
    task_lanes = task_lanes or TaskLanes()
    preview = is_preview(profile)
    cells = None if view is None else (view[0], view[1], pixels)  # stalls and tasks: what the view shows (lane_cells)
    x, w, upto, names, tip = _blocking_lane(profile, t1, task_lanes)
    lanes.stalls = (x, w)  # (the lag plot's markers: how long each blocked, as the Event loop pane's)
    if len(x) or len(profile.lag) or (preview and profile.summed is not None and profile.summed.lag_count()):
        lanes.add(row, x, upto, np.full(len(x), BLOCKING), names, tip, cells)
        lanes.kinds.append("blocking")
        lanes.names.append("loop blocked")
        lanes.heights.append(BLOCKING_H)
        row += 1
    if preview:  # a recording's preview has no task spans yet: its task lanes come with the samples
        return lanes
    end_of = t1 if t1 is not None else (profile.duration() if duration is None else duration)
    packer = task_lanes.get(profile, t1, max_task_rows, end_of)
    spans_key = (id(profile.task_spans), getattr(profile.task_spans, "cuts", 0), len(profile.task_spans))
    if task_lanes.spans is None or task_lanes.spans_key != spans_key:  # sorted once per growth, not per refresh
        was = task_lanes.spans_key
        grown = was is not None and was[:2] == spans_key[:2] and was[2] <= spans_key[2]  # only rows appended since
        task_lanes.spans = spans_by_task_since(profile, task_lanes.spans if grown else None, was[2] if grown and was else 0)
        task_lanes.spans_key = spans_key
    spans = task_lanes.spans
    at = packer if isinstance(packer, PackingAt) else None  # a replay playhead: the session's rows cut at it
    if at is None:
        assert isinstance(packer, TaskPacker)
        task_lanes.cuts.note_spans(profile, packer.where)
    rows: Sequence[TaskRow | RowAt] = packer.rows
    for slot, r in enumerate(rows):
        if at is not None:
            ids = at.rows[slot].ids
            pieces = at.pieces(slot, spans)
        else:
            assert isinstance(r, TaskRow)
            ids = task_lanes.ids_array(r.ids)
            pieces = task_lanes.cuts.pieces(slot, r, ids, spans)
        owners = ids[pieces.owner]
        if pieces.cut:
            piece_names = piece_names_of(r.names, pieces.owner)  # looked up for the few labelled boxes of a paint
            lanes.add(row + slot, pieces.x, pieces.w, pieces.color, piece_names, partial(_piece_tip, packer, slot, pieces),
                      cells, owners)
        else:
            lanes.add(row + slot, r.x, r.w, r.color, r.names, partial(_row_tip, packer, slot), cells, owners)
        lanes.kinds.append("task")
        lanes.names.append("tasks" if slot == 0 else "")
        lanes.heights.append(TASK_H)
    lanes.hidden_tasks = packer.hidden
    if packer.hidden:
        _add_overflow_row(lanes, row + len(packer.rows), packer.overflow(), cells)
    return lanes


def _blocking_lane(
    profile: Profile, t1: float | None, cache: TaskLanes
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Sequence[str], Callable[[int], str]]:
    """(start, duration, duration up to t1, function names, tooltip of box i) of the stalls that began before t1.

    The session's stalls in time order (`_session_stalls`), cut at t1: those before a playhead are a
    prefix of them (sorted_blocking sorts stably by start), found by a searchsorted, where every stall
    was listed, sorted and named again at each playhead (~30 ms a day's 5000). A stall still going on
    at t1 had lasted only up to t1 then: its box ends there and its tooltip says "so far".
    """
    x, w, every = _session_stalls(profile, cache)
    names: Sequence[str] = every
    if t1 is None:
        return x, w, w, names, partial(_blocking_tip, x, w, names, None)
    k = int(np.searchsorted(x, t1, "left"))
    x, w, names = x[:k], w[:k], Prefix(every, k)
    going_on = x + w > t1
    upto = np.where(going_on, t1 - x, w)
    return x, w, upto, names, partial(_blocking_tip, x, upto, names, going_on)


def _session_stalls(profile: Profile, cache: TaskLanes) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(start, duration, function names) of every stall in time order (the profile's `sorted_blocking`),
    named again only when stalls or stacks were added (a day's thousands of names took a live refresh
    ~40 ms each time).

    Live, stacks are added with almost every batch: names already found are kept (an event whose
    stack was interned keeps its innermost frame), only stalls named before their stack arrived are
    looked up again; stalls added after the last one so far are named alone.
    """
    events, starts = sorted_blocking(profile)
    stacks = (id(profile.blocking), id(profile.stacks), len(profile.stacks))
    hit = cache.blocking
    if hit is not None and hit[0] is events and hit[1] == stacks:
        return starts, hit[2], hit[3]
    n_stacks = len(profile.stacks)
    same = hit is not None and hit[1][:2] == stacks[:2]
    # names of stalls whose stack was known, by event (a replay's playhead moves keep them too)
    final: dict[int, str] = hit[5] if same and hit is not None else {}
    kept = 0  # stalls at the head of the list as they were named last time
    if same and hit is not None and len(hit[0]) <= len(events) and all(a is b for a, b in zip(hit[0], events[: len(hit[0])], strict=True)):
        kept = len(hit[0])
    names: list[str] = hit[3][:kept] if hit is not None else []
    unnamed = []  # stalls still without their stack
    for i in hit[4] if kept and hit is not None else []:
        if events[i].stack < n_stacks:
            names[i] = final[id(events[i])] = blocking_function(profile, events[i])[0]
        else:
            unnamed.append(i)
    for i in range(kept, len(events)):
        e = events[i]
        name = final.get(id(e))
        if name is None:
            name = blocking_function(profile, e)[0]
            if e.stack < n_stacks:
                final[id(e)] = name
            else:
                unnamed.append(i)
        names.append(name)
    w = np.array([e.duration for e in events[kept:]], np.float64)
    if kept and hit is not None:
        w = np.concatenate((hit[2], w))
    cache.blocking = (events, stacks, w, names, unnamed, final)  # the events keep their ids unique
    return starts, w, names


def _blocking_tip(x: np.ndarray, w: np.ndarray, names: Sequence[str], going_on: np.ndarray | None, i: int) -> str:
    """A stall box's tooltip: how long it blocked the loop, up to the playhead for one still going on then."""
    so_far = " so far" if going_on is not None and going_on[i] else ""
    return f"<b>loop blocked {fmt.seconds(float(w[i]))}{so_far}</b> at {fmt.clock(float(x[i]))}<br>in {esc(names[i])}"


def _row_tip(packer: TaskPacker | PackingAt, slot: int, index: int) -> str:
    """A task box's tooltip, made on hover (rows hold thousands of tasks)."""
    r = packer.rows[slot]
    tk = packer.tasks[r.ids[index]] if packer.tasks is not None else None
    start, stop = float(r.x[index]), float(r.x[index] + r.w[index])
    state = STATE_OF_COLOR.get(int(r.color[index]), "done")
    return _task_tip(r.names[index], tk.coro if tk is not None else "", state, start, stop)


def _piece_tip(packer: TaskPacker | PackingAt, slot: int, pieces: RowPieces, index: int) -> str:
    """A piece of a cut task box: the task's tip, then what it was doing in this piece."""
    owner = int(pieces.owner[index])
    tip = _row_tip(packer, slot, owner)
    a, b = float(pieces.x[index]), float(pieces.x[index] + pieces.w[index])
    doing = STATE_NAME.get(int(pieces.state[index]), "waiting")
    what = {
        "running": "running (its step held the loop)",
        "delayed": "delayed (ready to run, the loop busy elsewhere)",
        "waiting": "waiting (suspended, awaiting something)",
    }[doing]
    tip += f"<br><b>here: {what}</b> {fmt.clock(a)} – {fmt.clock(b)} ({fmt.seconds(b - a)})"
    tk = packer.tasks.get(packer.rows[slot].ids[owner]) if packer.tasks is not None else None
    if tk is not None and tk.running_s is not None:
        tip += (
            f"<br>whole task: CPU {fmt.seconds(tk.cpu_s or 0.0)} · running {fmt.seconds(tk.running_s)}"
            f" · waiting {fmt.seconds(tk.waiting_s or 0.0)} · delayed {fmt.seconds(tk.delayed_s or 0.0)}"
        )
    return tip


def _task_tip(name: str, coro: str, state: str, start: float, stop: float) -> str:
    return f"<b>task {esc(name)}</b> ({state})<br>{esc(coro)}<br>{fmt.clock(start)} – {fmt.clock(stop)} ({fmt.seconds(stop - start)})"


def _overflow_tip(over: Overflow, i: int) -> str:
    """Made on hover: a long session has thousands of overflow spans."""
    c, a, b = int(over.count[i]), float(over.start[i]), float(over.stop[i])
    return (
        f"<b>{c:,} more task{'s' if c > 1 else ''}</b> alive here that did not fit<br>"
        f"{fmt.clock(a)} – {fmt.clock(b)} (all are in the Tasks pane)"
    )


def _add_overflow_row(lanes: Lanes, row: int, over: Overflow, view: tuple[float, float, int] | None = None) -> None:
    """One row for the tasks that did not fit: the union of their lifespans, with a count each."""
    x = over.start
    w = over.stop - over.start
    labels = count_labels(over.count)
    lanes.add(row, x, w, np.full(len(x), T_OVERFLOW), labels, partial(_overflow_tip, over), view)
    lanes.kinds.append("task")
    lanes.names.append("")
    lanes.heights.append(TASK_H)
