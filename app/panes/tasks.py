"""The asyncio task tree pane: tasks by parent, as of the playhead / range end, with state filters.

`TaskTreeModel` is a thin QAbstractItemModel over `analysis.task_table.task_view`
(numpy columns; a cell is formatted when Qt asks for it); the pane re-reads it
on refresh and only resets the model when the tree's shape changed, so a live
session does not collapse what the user expanded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from pyrometer.app.document import Document
from pyrometer.app.panes.base import Pane, content_or_placeholder
from pyrometer.core import fmt
from pyrometer.core.analysis.asyncio_own import profile_asyncio_own
from pyrometer.core.analysis.classify import classify_file
from pyrometer.core.analysis.loop import blocking_function, event_range, stack_labels
from pyrometer.core.analysis.requests import RequestGroup, request_groups
from pyrometer.core.analysis.stall_steps import delayed_by_text
from pyrometer.core.analysis.task_costs import UNKNOWN, TaskCosts
from pyrometer.core.analysis.task_sampling import CAVEATS, sampling_sentence, sampling_totals
from pyrometer.core.analysis.task_table import TaskView, task_view
from pyrometer.core.model import Profile

STATES = ("pending", "done", "cancelled", "failed")
COLUMNS = ("Name", "Coroutine", "State", "Created", "Duration", "CPU", "Running", "Waiting", "Delayed", "Await point")
COST_COLUMNS = (5, 6, 7, 8)  # cpu_s, running_s, waiting_s, delayed_s
AWAIT_COL = 9
HEADER_TIPS = {
    5: "CPU time the task's steps used (measured per task by the agent)",
    6: "Wall time the task's steps held the event loop (a time.sleep() inside a task counts here, with ~no CPU)",
    7: "Time the task was suspended, awaiting something (I/O, a timer, another task)",
    8: "Time the task was ready to run (its timer or future had fired) but the loop was busy with something else",
}
UNKNOWN_TIP = "Unknown: the recording has no per-task accounting (older agent) or the figure cannot be cut to the selection"
HIGHLIGHT_BRUSH = QtGui.QBrush(QtGui.QColor(255, 214, 102, 150))
REQUEST_COLUMNS = ("Coroutine / slowest tasks", "Tasks", "p50", "p95", "p99", "Max / latency", "CPU", "Waiting", "Delayed", "Delayed most by")
ROLE_STALL = int(QtCore.Qt.ItemDataRole.UserRole) + 2
STATE_COLORS = {
    "pending": QtGui.QColor(30, 110, 210),
    "done": QtGui.QColor(60, 140, 70),
    "cancelled": QtGui.QColor(200, 120, 20),
    "failed": QtGui.QColor(205, 40, 40),
}
ROLE_TASK_ID = int(QtCore.Qt.ItemDataRole.UserRole) + 1

_Index = QtCore.QModelIndex | QtCore.QPersistentModelIndex


@dataclass(frozen=True)
class TaskRow:
    """One displayed task (plain values, so two refreshes can be compared cheaply)."""

    id: int
    parent_row: int  # index into rows, -1 for a top-level task
    name: str
    coro: str
    state: str
    created: float | None
    ended: float | None
    duration: float | None
    await_point: str
    await_stack: tuple[str, ...]
    exc: str | None
    matches: bool  # passes the state filter (False: shown only as an ancestor of a match)
    costs: TaskCosts = UNKNOWN  # CPU / running / waiting / delayed, over the shown window

    def cost(self, col: int) -> float | None:
        """The figure of a cost column (COST_COLUMNS), None = unknown."""
        c = self.costs
        return (c.cpu_s, c.running_s, c.waiting_s, c.delayed_s)[col - COST_COLUMNS[0]]


def await_point(profile: Profile, stack: int) -> str:
    """Where a task waits, as a user reads it: the innermost frame of *their* code, then the
    library call it is parked in (``handle (app.py:42) → sleep``)."""
    if stack < 0:
        return ""
    frames = profile.stack_frames(stack)  # root first
    if not frames:
        return ""
    inner = frames[-1]
    inner_func = profile.frame_func(inner)
    for fr in reversed(frames):
        func = profile.frame_func(fr)
        if classify_file(profile.func_file[func]) == "user":
            if fr == inner:
                return profile.frame_label(fr)
            return f"{profile.frame_label(fr)} → {profile.func_name[inner_func]}"
    return profile.frame_label(inner)


EXPAND_ALL_MAX = 2000  # tasks up to which the tree opens three levels deep
# children of one parent handed to Qt at a time (TaskTreeModel.fetchMore): a screen shows ~50 rows, and after
# each live refresh that adds tasks (a model reset) Qt lays out every row it was handed: at 1000 that
# layout took 55-67 ms of the paint, at 200 15-18 ms (5k tasks, benchmarks/bench_live_session.py)
FETCH_ROWS = 200
EXPAND_TOP_MAX = 50  # past that, only the first top-level tasks with children open, EXPAND_ALL_MAX rows at most
# (Qt asks the model about every row under an expanded one: 25k children took 0.65 s)


def _opt(x: float) -> float | None:
    return None if x != x else float(x)


def row_costs(view: TaskView, k: int) -> TaskCosts:
    """The TaskCosts of shown task k (what analysis.task_costs gives it)."""
    c = view.costs
    return TaskCosts(_opt(c.cpu[k]), _opt(c.running[k]), _opt(c.waiting[k]), _opt(c.delayed[k]),
                     partial=bool(c.partial[k]), why=c.reasons[int(c.why[k])])


def await_labels(profile: Profile, stack: int, cache: dict[int, tuple[tuple[str, ...], str]]) -> tuple[tuple[str, ...], str]:
    """(frames innermost first, the await point) of a pending task's await stack, computed once per stack."""
    hit = cache.get(stack)
    if hit is None:
        labels = tuple(stack_labels(profile, stack)) if stack >= 0 else ()
        hit = cache[stack] = (labels, await_point(profile, stack) if labels else "")
    return hit


def preorder(view: TaskView) -> list[int]:
    """Shown tasks (k) in tree order: each parent, then its children in creation order."""
    out: list[int] = []
    start, natural = view.group_start, view.natural
    n = len(view)
    todo = list(reversed(natural[start[n] : start[n + 1]].tolist()))
    while todo:
        k = todo.pop()
        out.append(k)
        todo.extend(reversed(natural[start[k] : start[k + 1]].tolist()))
    return out


def task_row(
    view: TaskView, profile: Profile, k: int, parent_row: int, labels: dict[int, tuple[tuple[str, ...], str]]
) -> TaskRow:
    """Shown task k as a row object (its parent's row number given)."""
    info = view.info(k)
    stack, point = await_labels(profile, int(view.await_stack[k]), labels) if view.await_stack[k] >= 0 else ((), "")
    return TaskRow(
        id=info.id, parent_row=parent_row, name=info.name, coro=info.coro, state=view.state_name(k),
        created=_opt(view.cols.arrays()["created"][view.row[k]]), ended=_opt(view.ended[k]),
        duration=_opt(view.duration[k]), await_point=point, await_stack=stack,
        exc=info.exc if view.over[k] else None, matches=bool(view.matches[k]), costs=row_costs(view, k),
    )


def build_rows(
    profile: Profile,
    t: float | None,
    states: frozenset[str],
    now: float | None = None,
    text: str = "",
    since: float | None = None,
) -> tuple[list[TaskRow], list[list[int]], dict[str, int]]:
    """Rows in tree order, children per row (index -1 = roots), and counts per state (one object per task:
    for tests and small profiles; the pane shows `task_table.task_view` directly).

    A task is shown when its state is in `states` and its name or coroutine
    contains `text` (case-insensitive), or when a descendant is (so the tree
    stays connected; such ancestors are marked `matches=False`). `since`: a
    range's start (tasks over before it are not the range's).
    """
    view = task_view(profile, t, states, now=now, text=text, since=since)
    ks = preorder(view)
    where = {k: i for i, k in enumerate(ks)}
    labels: dict[int, tuple[tuple[str, ...], str]] = {}
    rows = [task_row(view, profile, k, where.get(int(view.parent[k]), -1), labels) for k in ks]
    children: list[list[int]] = [[] for _ in range(len(rows) + 1)]
    for i, row in enumerate(rows):
        children[row.parent_row].append(i)
    return rows, children, view.counts


class TaskTreeModel(QtCore.QAbstractItemModel):
    """Tasks by parent over a TaskView's columns; a cell is formatted only when Qt asks for it.

    internalId of an index = the task's position k in the view; children of
    parent p (top level: p = n) are `_order[_start[p]:_start[p + 1]]`.
    """

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.view_data: TaskView | None = None
        self.profile: Profile | None = None
        self._order = np.zeros(0, np.int64)
        self._start = np.zeros(2, np.int64)
        self._pos = np.zeros(0, np.int64)
        self._group = np.zeros(0, np.int64)
        self._sort_col = -1  # -1: tree order
        self._sort_order = QtCore.Qt.SortOrder.AscendingOrder
        self._labels: dict[int, tuple[tuple[str, ...], str]] = {}
        self._fetched: dict[int, int] = {}  # rows handed to Qt so far per parent (the rest on fetchMore)
        self.highlighted: frozenset[int] = frozenset()  # task ids painted as highlighted

    @property
    def rows(self) -> list[TaskRow]:
        """Every shown task as a row object, in tree order (tests, small profiles)."""
        v, profile = self.view_data, self.profile
        if v is None or profile is None:
            return []
        ks = preorder(v)
        where = {k: i for i, k in enumerate(ks)}
        return [task_row(v, profile, k, where.get(int(v.parent[k]), -1), self._labels) for k in ks]

    def __len__(self) -> int:
        return 0 if self.view_data is None else len(self.view_data)

    def set_highlighted(self, ids: frozenset[int]) -> None:
        """Paint these tasks' rows (e.g. the tasks a selected stall delayed)."""
        if ids == self.highlighted:
            return
        self.highlighted = ids
        self._all_changed()

    def _all_changed(self) -> None:
        """dataChanged for every row, at every depth."""
        n = len(self)
        if not n:
            return
        for p, shown in self._fetched.items():
            if shown:
                parent = QtCore.QModelIndex() if p == n else self.createIndex(int(self._pos[p]), 0, p)
                self.dataChanged.emit(self.index(0, 0, parent), self.index(shown - 1, len(COLUMNS) - 1, parent))

    def _sort_keys(self, col: int) -> tuple[np.ndarray, np.ndarray]:
        """(rank per shown task, unknown) for sorting by column `col`."""
        v = self.view_data
        assert v is not None
        n = len(v)
        if col in COST_COLUMNS:
            c = v.costs
            values = (c.cpu, c.running, c.waiting, c.delayed)[col - COST_COLUMNS[0]]
        elif col == 3:
            values = v.cols.arrays()["created"][v.row]
        elif col == 4:
            values = v.duration
        else:
            if col == 0:
                text = [v.info(k).name.lower() for k in range(n)]
            elif col == 1:
                text = [v.info(k).coro.lower() for k in range(n)]
            elif col == 2:
                text = [v.state_name(k) for k in range(n)]
            else:
                text = [self._await(k)[1].lower() for k in range(n)]
            _, rank = np.unique(np.array(text, dtype=object), return_inverse=True)
            return rank.astype(np.float64), np.zeros(n, bool)
        return values, np.isnan(values)

    def _place(self) -> None:
        v = self.view_data
        n = 0 if v is None else len(v)
        if v is None:
            self._order, self._start = np.zeros(0, np.int64), np.zeros(2, np.int64)
            self._pos = self._group = np.zeros(0, np.int64)
            return
        self._start = v.group_start
        self._group = np.where(v.parent < 0, n, v.parent)
        order = v.natural
        if self._sort_col >= 0 and n:
            natural_rank = np.empty(n, np.int64)
            natural_rank[v.natural] = np.arange(n)
            key, unknown = self._sort_keys(self._sort_col)
            if self._sort_order == QtCore.Qt.SortOrder.DescendingOrder:
                key = -key
            key = np.where(unknown, 0.0, key)  # unknown figures go last either way, in tree order
            order = np.lexsort((natural_rank, key, unknown, self._group))
        self._order = order
        pos = np.empty(n, np.int64)
        pos[order] = np.arange(n) - self._start[self._group[order]]
        self._pos = pos

    def sort(self, column: int, order: QtCore.Qt.SortOrder = QtCore.Qt.SortOrder.AscendingOrder) -> None:
        """Sort siblings (at every depth) by a column; unknown figures last; -1 = tree order."""
        self._sort_col = column if 0 <= column < len(COLUMNS) else -1
        self._sort_order = order
        self._relayout()

    def _relayout(self) -> None:
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        self._place()
        new = [self._moved(int(i.internalId()), i.column()) for i in old]
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()

    def _moved(self, k: int, column: int) -> QtCore.QModelIndex:
        """Where task k is after a re-sort (invalid when it moved past the rows Qt was handed)."""
        pos = int(self._pos[k])
        p = int(self._group[k])
        return self.createIndex(pos, column, k) if pos < self._shown(p) else QtCore.QModelIndex()

    def _shown(self, p: int) -> int:
        """Children of parent p handed to Qt so far."""
        got = self._fetched.get(p)
        if got is None:
            got = self._fetched[p] = min(FETCH_ROWS, int(self._start[p + 1] - self._start[p]))
        return got

    def canFetchMore(self, parent: _Index) -> bool:
        if self.view_data is None or (parent.isValid() and parent.column() != 0):
            return False
        lo, hi = self._kids_range(parent)
        p = len(self) if not parent.isValid() else int(parent.internalId())
        return self._shown(p) < hi - lo

    def fetchMore(self, parent: _Index) -> None:
        if not self.canFetchMore(parent):
            return
        lo, hi = self._kids_range(parent)
        p = len(self) if not parent.isValid() else int(parent.internalId())
        have = self._shown(p)
        more = min(hi - lo, have + FETCH_ROWS)
        self.beginInsertRows(parent, have, more - 1)
        self._fetched[p] = more
        self.endInsertRows()

    def set_view(self, view: TaskView, profile: Profile) -> bool:
        """Show `view`; returns True when the tree's shape changed (the model was reset).

        When only values changed (a pending task's duration grows while live),
        the view is swapped in place with dataChanged, so the Qt view keeps its
        selection, expansion and scroll position.
        """
        old = self.view_data
        if view.same_as(old) and profile is self.profile:
            return False
        if old is not None and profile is self.profile and view.same_shape(old):
            self.view_data = view
            if self._sort_col >= 0:
                before = self._order
                self._place()
                self._order, after = before, self._order
                if not np.array_equal(before, after):
                    self._relayout()  # the values the rows are sorted by moved
            self._labels.clear()
            self._all_changed()
            return False
        self.beginResetModel()
        self.view_data = view
        self.profile = profile
        self._labels = {}
        self._fetched = {}
        self._place()
        self.endResetModel()
        return True

    def _await(self, k: int) -> tuple[tuple[str, ...], str]:
        v = self.view_data
        assert v is not None and self.profile is not None
        stack = int(v.await_stack[k])
        return await_labels(self.profile, stack, self._labels) if stack >= 0 else ((), "")

    def _kids_range(self, parent: _Index) -> tuple[int, int]:
        p = len(self) if not parent.isValid() else int(parent.internalId())
        return int(self._start[p]), int(self._start[p + 1])

    # -- structure
    def index(self, row: int, column: int, parent: _Index = QtCore.QModelIndex()) -> QtCore.QModelIndex:  # noqa: B008
        if column < 0 or column >= len(COLUMNS) or row < 0 or self.view_data is None:
            return QtCore.QModelIndex()
        if parent.isValid() and parent.column() != 0:
            return QtCore.QModelIndex()
        lo, _ = self._kids_range(parent)
        if row >= self._shown(len(self) if not parent.isValid() else int(parent.internalId())):
            return QtCore.QModelIndex()
        return self.createIndex(row, column, int(self._order[lo + row]))

    def parent(self, child: _Index = QtCore.QModelIndex()) -> QtCore.QModelIndex:  # type: ignore[override]  # noqa: B008
        if not child.isValid() or self.view_data is None:
            return QtCore.QModelIndex()
        p = int(self.view_data.parent[int(child.internalId())])
        if p < 0:
            return QtCore.QModelIndex()
        return self.createIndex(int(self._pos[p]), 0, p)

    def rowCount(self, parent: _Index = QtCore.QModelIndex()) -> int:  # noqa: B008
        if (parent.isValid() and parent.column() != 0) or self.view_data is None:
            return 0
        return self._shown(len(self) if not parent.isValid() else int(parent.internalId()))

    def hasChildren(self, parent: _Index = QtCore.QModelIndex()) -> bool:  # noqa: B008
        if (parent.isValid() and parent.column() != 0) or self.view_data is None:
            return False
        lo, hi = self._kids_range(parent)
        return hi > lo

    def columnCount(self, parent: _Index = QtCore.QModelIndex()) -> int:  # noqa: B008
        return len(COLUMNS)

    def headerData(self, section: int, orientation: QtCore.Qt.Orientation, role: int = 0) -> Any:
        if orientation == QtCore.Qt.Orientation.Horizontal and role == QtCore.Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section] if 0 <= section < len(COLUMNS) else None
        if orientation == QtCore.Qt.Orientation.Horizontal and role == QtCore.Qt.ItemDataRole.ToolTipRole:
            tip = HEADER_TIPS.get(section)
            if tip is not None:
                return tip + ".\nIn a selected range or up to the playhead: the part of the task's life inside it. – = unknown."
            return "Click to sort" if 0 <= section < len(COLUMNS) else None
        return None

    def flags(self, index: _Index) -> QtCore.Qt.ItemFlag:
        if not index.isValid():
            return QtCore.Qt.ItemFlag.NoItemFlags
        return _ROW_FLAGS

    def data(self, index: _Index, role: int = QtCore.Qt.ItemDataRole.DisplayRole) -> Any:
        v = self.view_data
        if not index.isValid() or v is None:
            return None
        k = int(index.internalId())
        col = index.column()
        if role == _DISPLAY:
            if col == 0:
                return v.info(k).name
            if col == 1:
                return v.info(k).coro
            if col == 2:
                return v.state_name(k)
            if col == 3:
                return fmt.clock(_opt(v.cols.arrays()["created"][v.row[k]]))
            if col == 4:
                return fmt.seconds(float(v.duration[k])) if v.duration[k] == v.duration[k] else "–"
            if col in COST_COLUMNS:
                value = self._cost(k, col)
                return fmt.seconds(value) if value is not None else "–"
            if col == AWAIT_COL:
                return self._await(k)[1]
            return None
        if role == _BACKGROUND:
            return HIGHLIGHT_BRUSH if v.info(k).id in self.highlighted else None
        if role == _FOREGROUND:
            if not v.matches[k]:
                return QtGui.QBrush(QtGui.QColor(150, 150, 150))
            if col == 2:
                return QtGui.QBrush(STATE_COLORS.get(v.state_name(k), QtGui.QColor(0, 0, 0)))
            return None
        if role == _TOOLTIP:
            info = v.info(k)
            if col in COST_COLUMNS:
                value = self._cost(k, col)
                if value is None:
                    why = v.costs.reasons[int(v.costs.why[k])]
                    return f"Unknown: {why}" if why else UNKNOWN_TIP
                cut = " (the part of its life inside the selection)" if v.costs.partial[k] else ""
                return f"{HEADER_TIPS[col]}{cut}: {fmt.seconds(value)}"
            if col == AWAIT_COL:
                labels = self._await(k)[0]
                if labels:
                    return "Waiting in (innermost first):\n" + "\n".join(labels)
            exc = info.exc if v.over[k] else None
            if col == 2 and exc:
                return exc
            orphan = "\nparent not recorded (task sampling)" if info.parent_unrecorded else ""
            return f"task {info.id}: {info.name}\n{info.coro}{orphan}"
        if role == _ALIGNMENT and (col in (3, 4) or col in COST_COLUMNS):
            return _RIGHT
        if role == ROLE_TASK_ID:
            return v.info(k).id
        return None

    def _cost(self, k: int, col: int) -> float | None:
        c = self.view_data.costs  # type: ignore[union-attr]
        return _opt((c.cpu, c.running, c.waiting, c.delayed)[col - COST_COLUMNS[0]][k])

    def task_at(self, index: _Index) -> tuple[int, float | None, float | None] | None:
        """(task id, created, ended) of a row."""
        v = self.view_data
        if not index.isValid() or v is None:
            return None
        k = int(index.internalId())
        return v.info(k).id, _opt(v.cols.arrays()["created"][v.row[k]]), _opt(v.ended[k])

    def first_parents(self, count: int, rows: int) -> list[QtCore.QModelIndex]:
        """Up to `count` top-level rows with children, in display order, whose children add up to <= `rows`."""
        v = self.view_data
        if v is None or not len(v):
            return []
        n = len(v)
        top = self._order[self._start[n] : self._start[n] + self._shown(n)]
        kids = self._start[top + 1] - self._start[top]
        out: list[QtCore.QModelIndex] = []
        total = 0
        for k, size in zip(top[kids > 0].tolist(), kids[kids > 0].tolist(), strict=True):
            if len(out) >= count or total + size > rows:
                break
            total += size
            out.append(self.createIndex(int(self._pos[k]), 0, k))
        return out

    def index_of_task(self, task_id: int) -> QtCore.QModelIndex:
        """Column 0 of a shown task's row (invalid when it is not shown)."""
        return self.indexes_of_tasks([task_id]).get(task_id, QtCore.QModelIndex())

    def indexes_of_tasks(self, task_ids: list[int]) -> dict[int, QtCore.QModelIndex]:
        """Column 0 of each shown task's row, in one pass over the view (a pass per task, for the tasks a
        user had opened, took a day's live refresh ~20 ms)."""
        v = self.view_data
        if v is None or not len(v) or not task_ids:
            return {}
        ids = v.cols.arrays()["id"][v.row]
        hits = np.flatnonzero(np.isin(ids, np.asarray(task_ids, np.int64)))
        out: dict[int, QtCore.QModelIndex] = {}
        for k in hits.tolist():
            tid = int(ids[k])
            if tid not in out:  # the first row of the task, as a lookup of it alone finds
                out[tid] = self._moved(k, 0)
        return out


_DISPLAY = QtCore.Qt.ItemDataRole.DisplayRole
_BACKGROUND = QtCore.Qt.ItemDataRole.BackgroundRole
_FOREGROUND = QtCore.Qt.ItemDataRole.ForegroundRole
_TOOLTIP = QtCore.Qt.ItemDataRole.ToolTipRole
_ALIGNMENT = QtCore.Qt.ItemDataRole.TextAlignmentRole
_RIGHT = int(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
_ROW_FLAGS = QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsSelectable


class TasksPane(Pane):
    """Task tree as of the playhead (replay) or the end of the selected range."""

    pane_id = "tasks"
    title = "Tasks"

    def __init__(self, doc: Document, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(doc, parent)
        self.model = TaskTreeModel(self)
        self.view = QtWidgets.QTreeView()
        self.view.setModel(self.model)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.doubleClicked.connect(self._task_activated)
        self._expanded: set[int] = set()  # ids of the tasks the user opened (kept across resets)
        self.view.expanded.connect(self._on_expanded)
        self.view.collapsed.connect(self._on_collapsed)
        header = self.view.header()
        header.setStretchLastSection(True)
        for col, width in enumerate((220, 220, 80, 90, 90, 80, 80, 80, 80)):
            header.resizeSection(col, width)
        header.setSortIndicator(-1, QtCore.Qt.SortOrder.AscendingOrder)  # tree order until a header is clicked
        self.view.setSortingEnabled(True)
        self.model.set_highlighted(doc.highlighted_tasks)
        doc.highlightedTasksChanged.connect(self._highlight)
        self.filter_buttons: dict[str, QtWidgets.QToolButton] = {}
        bar = QtWidgets.QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(QtWidgets.QLabel("Show:"))
        for state in STATES:
            b = QtWidgets.QToolButton()
            b.setCheckable(True)
            b.setChecked(True)
            b.setText(state)
            b.setToolTip(f"Show {state} tasks")
            b.toggled.connect(self.refresh)
            self.filter_buttons[state] = b
            bar.addWidget(b)
        self.filter_edit = QtWidgets.QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by name or coroutine…  (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.refresh)
        bar.addWidget(self.filter_edit, 1)
        self.summary = QtWidgets.QLabel("")
        bar.addWidget(self.summary)
        self.by_coro_button = QtWidgets.QToolButton()
        self.by_coro_button.setText("By coroutine")
        self.by_coro_button.setCheckable(True)
        self.by_coro_button.setToolTip(
            "Tasks grouped by coroutine (every handle_request is one request): latency p50/p95/p99/max of the\n"
            "finished ones and, for the slowest, where the time went. Click a slow task to select the stall that delayed it."
        )
        self.by_coro_button.toggled.connect(self.refresh)
        bar.addWidget(self.by_coro_button)
        self.requests_view = QtWidgets.QTreeWidget()
        self.requests_view.setHeaderLabels(list(REQUEST_COLUMNS))
        self.requests_view.setUniformRowHeights(True)
        self.requests_view.setAlternatingRowColors(True)
        self.requests_view.header().resizeSection(0, 260)
        self.requests_view.itemClicked.connect(self._request_clicked)
        self.groups: list[RequestGroup] = []
        content = QtWidgets.QStackedWidget()
        content.addWidget(self.view)
        content.addWidget(self.requests_view)
        self.content = content
        self.stack, self.empty = content_or_placeholder(content, "No asyncio tasks recorded")
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(bar)
        # what the agent's task sampling left unrecorded (hidden when every task was recorded)
        self.sampling_note = QtWidgets.QLabel("")
        self.sampling_note.setWordWrap(True)
        self.sampling_note.setContentsMargins(6, 0, 6, 0)
        self.sampling_note.setToolTip(
            "A loop created tasks faster than the agent can record each at a small cost: about 1 in K\n"
            "new tasks was recorded in full, the others counted exactly by coroutine (whole run).\n"
            + CAVEATS[0].upper() + CAVEATS[1:] + ".\nRecord with --every-task (every_task=True) to record them all."
        )
        self.sampling_note.hide()
        lay.addWidget(self.sampling_note)
        lay.addWidget(self.stack, 1)
        self.counts: dict[str, int] = dict.fromkeys(STATES, 0)
        self._first = True

    def focus_search(self) -> bool:
        self.filter_edit.setFocus(QtCore.Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()
        return True

    def states(self) -> frozenset[str]:
        return frozenset(s for s, b in self.filter_buttons.items() if b.isChecked())

    def time(self) -> float | None:
        """The moment the tree shows: playhead / end of the selected range, None = the end."""
        return self.doc.effective_range()[1]

    def refresh(self, *_args: Any) -> None:
        profile = self.doc.profile
        since = self.doc.effective_range()[0]  # a selected range: only the tasks alive in it
        view = task_view(profile, self.time(), self.states(), text=self.filter_edit.text(), since=since)
        counts = view.counts
        self.counts = counts
        # asyncio.run's shutdown steps are listed (their coroutine says "asyncio:") but not counted as the program's
        own_states = self._asyncio_own_states(since, self.time())
        own = sum(own_states.values())
        for state, b in self.filter_buttons.items():
            b.setText(f"{state} ({counts.get(state, 0) - own_states.get(state, 0):,})")
        total = sum(counts.values())
        when = f" as of {fmt.clock(self.time())}" if self.time() is not None else ""
        if since is not None:
            when = f" alive from {fmt.clock(since)}" + (f" to {fmt.clock(self.time())}" if self.time() is not None else "")
        self.summary.setText(fmt.plural(total - own, "task") + when + (f" (+{own:,} asyncio.run made for its shutdown)" if own else ""))
        sampled = sampling_totals(profile)
        self.sampling_note.setVisible(sampled is not None)
        if sampled is not None:
            self.sampling_note.setText(sampling_sentence(sampled) + " (whole run)")
        self.stack.setCurrentWidget(self.content if total else self.empty)
        by_coro = self.by_coro_button.isChecked()
        self.content.setCurrentWidget(self.requests_view if by_coro else self.view)
        if by_coro:
            self._show_requests()
        if self.model.set_view(view, profile):
            if self._first:
                self._expand_first()
                self._first = not len(view)
            else:
                self._restore_expanded()

    def _asyncio_own_states(self, since: float | None, t: float | None) -> dict[str, int]:
        """asyncio.run's own shutdown tasks the tree counts (alive in [since, t]), by their state as of t."""
        tasks = self.doc.profile.tasks
        out: dict[str, int] = {}
        for tid in profile_asyncio_own(self.doc.profile) if tasks else ():
            info = tasks[tid]
            if t is not None and info.created is not None and info.created > t:
                continue
            if since is not None and info.ended is not None and info.ended < since:
                continue
            over = info.ended is not None and (t is None or info.ended <= t)
            state = info.state if over or t is None else "pending"
            out[state] = out.get(state, 0) + 1
        return out

    def _show_requests(self) -> None:
        """Fill the by-coroutine view (as of the playhead / range end)."""
        profile = self.doc.profile
        groups = request_groups(profile, t=self.time())
        if groups == self.groups and self.requests_view.topLevelItemCount():
            return
        self.groups = groups
        view = self.requests_view
        view.clear()
        right = QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter

        def sec(v: float | None) -> str:
            return fmt.seconds(v) if v is not None else "–"

        for g in groups:
            top = QtWidgets.QTreeWidgetItem([g.coro, f"{g.count:,}", sec(g.p50), sec(g.p95), sec(g.p99), sec(g.max), "", "", "", ""])
            top.setToolTip(0, f"{g.coro}: {g.count:,} tasks, {g.finished:,} finished (their latency: created → ended)")
            for slow in g.slowest:
                stall = ""
                if 0 <= slow.stall < len(profile.blocking):
                    ev = profile.blocking[slow.stall]
                    who = delayed_by_text(ev, slow.task, slow.stall_delay) or ev.task_name or blocking_function(profile, ev)[0]
                    stall = f"{who} +{fmt.seconds(slow.stall_delay)}"
                kid = QtWidgets.QTreeWidgetItem(
                    top, [slow.name, "", "", "", "", sec(slow.latency), sec(slow.cpu_s), sec(slow.waiting_s), sec(slow.delayed_s), stall]
                )
                kid.setData(0, ROLE_TASK_ID, slow.task)
                kid.setData(0, ROLE_STALL, slow.stall)
                kid.setToolTip(
                    9,
                    "Click to select the stall that delayed this task most (its stack and blocking task in the Event loop pane)"
                    if stall
                    else "No recorded stall delayed this task",
                )
                for col in range(1, 9):
                    kid.setTextAlignment(col, right)
            for col in range(1, 9):
                top.setTextAlignment(col, right)
            view.addTopLevelItem(top)
        if len(groups) <= 20:
            view.expandAll()

    def _request_clicked(self, item: QtWidgets.QTreeWidgetItem, _col: int = 0) -> None:
        """A slow task: highlight it; when a stall delayed it, select that stall (range, view, Event loop pane)."""
        task = item.data(0, ROLE_TASK_ID)
        if task is None:
            return
        self.doc.set_highlighted_tasks({int(task)})
        stall = int(item.data(0, ROLE_STALL))
        profile = self.doc.profile
        if not 0 <= stall < len(profile.blocking):
            return
        ev = profile.blocking[stall]
        t0, t1 = event_range(ev)
        self.doc.set_range(t0, t1)
        self.doc.request_time(t0, t1)
        self.doc.request_pane("event_loop")

    def _highlight(self, ids: frozenset[int]) -> None:
        self.model.set_highlighted(frozenset(ids))
        self.view.viewport().update()

    def _expand_first(self) -> None:
        """Open the tree three levels deep; a day's ~10^5 tasks: only the first top-level tasks with children
        (Qt asks the model about every row it expands: expandToDepth(0) over 50k tasks took 6 s)."""
        m = self.model
        if len(m) <= EXPAND_ALL_MAX:
            self.view.expandToDepth(2)
            return
        for idx in m.first_parents(EXPAND_TOP_MAX, EXPAND_ALL_MAX):
            self.view.expand(idx)

    def _on_expanded(self, index: QtCore.QModelIndex) -> None:
        task = self.model.task_at(index)
        if task is not None:
            self._expanded.add(task[0])

    def _on_collapsed(self, index: QtCore.QModelIndex) -> None:
        task = self.model.task_at(index)
        if task is not None:
            self._expanded.discard(task[0])

    def _restore_expanded(self) -> None:
        """After a reset: open again the tasks the user had open (followed by the view's signals)."""
        for idx in self.model.indexes_of_tasks(list(self._expanded)).values():
            if idx.isValid() and not self.view.isExpanded(idx):
                self.view.expand(idx)

    def _task_activated(self, index: QtCore.QModelIndex) -> None:
        """Double-click: select the task's lifetime as the document's time range."""
        task = self.model.task_at(index)
        if task is None:
            return
        _, created, ended = task
        if created is None:
            return
        end = ended if ended is not None else self.doc.duration()
        if end > created:
            self.doc.set_range(created, end)
