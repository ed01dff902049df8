"""The asyncio task tree pane: tasks by parent, as of the playhead / range end, with state filters.

`TaskTreeModel` is a thin QAbstractItemModel over `analysis.tasks.task_tree`;
the pane re-reads it on refresh and only resets the model when the rows
actually changed, so a live session does not collapse what the user expanded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from pyrometer.app.document import Document
from pyrometer.app.panes.base import Pane, content_or_placeholder
from pyrometer.core import fmt
from pyrometer.core.analysis.classify import classify_file
from pyrometer.core.analysis.loop import blocking_function, event_range, stack_labels
from pyrometer.core.analysis.requests import RequestGroup, request_groups
from pyrometer.core.analysis.task_costs import UNKNOWN, TaskCosts, task_costs
from pyrometer.core.analysis.tasks import TaskNode, task_tree
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


def build_rows(
    profile: Profile,
    t: float | None,
    states: frozenset[str],
    now: float | None = None,
    text: str = "",
    since: float | None = None,
) -> tuple[list[TaskRow], list[list[int]], dict[str, int]]:
    """Rows in tree order, children per row (index -1 = roots), and counts per state.

    A task is shown when its state is in `states` and its name or coroutine
    contains `text` (case-insensitive), or when a descendant is (so the tree
    stays connected; such ancestors are marked `matches=False`). `since`: a
    range's start (tasks over before it are not the range's).
    """
    nodes = task_tree(profile, t, since)
    costs = task_costs(profile, since, t)
    counts = dict.fromkeys(STATES, 0)
    for n in nodes.values():
        counts[n.state] = counts.get(n.state, 0) + 1
    t_ref = t if t is not None else (now if now is not None else profile.duration())
    needle = text.strip().lower()

    def matches(node: TaskNode) -> bool:
        return node.state in states and (not needle or needle in node.name.lower() or needle in node.coro.lower())

    match = {tid: matches(n) for tid, n in nodes.items()}
    keep: set[int] = set()
    for tid, ok in match.items():  # walk up from every match (iterative: chains can be deep)
        cur: int | None = tid if ok else None
        while cur is not None and cur in nodes and cur not in keep:
            keep.add(cur)
            cur = nodes[cur].parent

    def visible(node: TaskNode) -> bool:
        return node.id in keep

    def sort_key(n: TaskNode) -> tuple[float, int]:
        return (n.created if n.created is not None else -1.0, n.id)

    roots = sorted((n for n in nodes.values() if n.parent is None or n.parent not in nodes), key=sort_key)
    rows: list[TaskRow] = []
    children: dict[int, list[int]] = {-1: []}
    stack: list[tuple[TaskNode, int]] = [(n, -1) for n in reversed(roots)]
    while stack:
        node, parent_row = stack.pop()
        if not visible(node):
            continue
        labels = tuple(stack_labels(profile, node.await_stack)) if node.state == "pending" else ()
        point = await_point(profile, node.await_stack) if labels else ""
        end = node.ended if node.ended is not None else t_ref
        duration = None if node.created is None or end is None else max(0.0, end - node.created)
        row = len(rows)
        rows.append(
            TaskRow(
                id=node.id,
                parent_row=parent_row,
                name=node.name,
                coro=node.coro,
                state=node.state,
                created=node.created,
                ended=node.ended,
                duration=duration,
                await_point=point,
                await_stack=labels,
                exc=node.exc,
                matches=match[node.id],
                costs=costs.get(node.id, UNKNOWN),
            )
        )
        children[parent_row].append(row)
        children[row] = []
        kids = sorted((nodes[c] for c in node.children if c in nodes), key=sort_key)
        stack.extend((k, row) for k in reversed(kids))
    child_lists = [children[r] for r in range(len(rows))] + [children[-1]]
    return rows, child_lists, counts


class TaskTreeModel(QtCore.QAbstractItemModel):
    """Tasks by parent. internalId of an index = its row number in `rows`."""

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[TaskRow] = []
        self._children: list[list[int]] = [[]]  # last entry = top level
        self._pos: list[int] = []  # position of each row among its siblings
        self._natural: list[list[int]] = [[]]  # children in tree order (by creation), before sorting
        self._sort_col = -1  # -1: tree order
        self._sort_order = QtCore.Qt.SortOrder.AscendingOrder
        self.highlighted: frozenset[int] = frozenset()  # task ids painted as highlighted

    def set_highlighted(self, ids: frozenset[int]) -> None:
        """Paint these tasks' rows (e.g. the tasks a selected stall delayed)."""
        if ids == self.highlighted:
            return
        self.highlighted = ids
        self._all_changed()

    def _all_changed(self) -> None:
        """dataChanged for every row, at every depth."""
        for parent_row, kids in enumerate(self._children):
            if not kids or parent_row > len(self.rows):
                continue
            parent = QtCore.QModelIndex() if parent_row == len(self.rows) else self.createIndex(self._pos[parent_row], 0, parent_row)
            self.dataChanged.emit(self.index(0, 0, parent), self.index(len(kids) - 1, len(COLUMNS) - 1, parent))

    def _sort_key(self, r: int) -> Any:
        row = self.rows[r]
        col = self._sort_col
        if col in COST_COLUMNS:
            return row.cost(col)
        keys = (row.name.lower(), row.coro.lower(), row.state, row.created, row.duration)
        return keys[col] if col < len(keys) else row.await_point.lower()

    def _sorted(self, children: list[list[int]]) -> list[list[int]]:
        if self._sort_col < 0 or not self.rows:
            return children
        desc = self._sort_order == QtCore.Qt.SortOrder.DescendingOrder
        out = []
        for kids in children:
            known = [r for r in kids if self._sort_key(r) is not None]
            unknown = [r for r in kids if self._sort_key(r) is None]  # unknown figures go last either way
            known.sort(key=self._sort_key, reverse=desc)
            out.append(known + unknown)
        return out

    def _place(self, children: list[list[int]]) -> None:
        self._children = self._sorted(children)
        self._pos = [0] * len(self.rows)
        for kids in self._children:
            for i, r in enumerate(kids):
                self._pos[r] = i

    def sort(self, column: int, order: QtCore.Qt.SortOrder = QtCore.Qt.SortOrder.AscendingOrder) -> None:
        """Sort siblings (at every depth) by a column; unknown figures last; -1 = tree order."""
        self._sort_col = column if 0 <= column < len(COLUMNS) else -1
        self._sort_order = order
        self._relayout()

    def _relayout(self) -> None:
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        self._place(self._natural)
        new = [self.createIndex(self._pos[int(i.internalId())], i.column(), int(i.internalId())) for i in old]
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()

    def set_rows(self, rows: list[TaskRow], children: list[list[int]]) -> bool:
        """Replace the content; returns True when the tree's shape changed (the model was reset).

        When only values changed (a pending task's duration grows while live),
        the rows are swapped in place with dataChanged, so the view keeps its
        selection, expansion and scroll position.
        """
        if rows == self.rows:
            return False
        if len(rows) == len(self.rows) and children == self._natural and all(
            a.id == b.id for a, b in zip(rows, self.rows, strict=True)
        ):
            self.rows = rows
            if self._sort_col >= 0 and self._sorted(self._natural) != self._children:
                self._relayout()  # the values the rows are sorted by moved
            self._all_changed()
            return False
        self.beginResetModel()
        self.rows = rows
        self._natural = children
        self._place(children)
        self.endResetModel()
        return True

    def _kids(self, parent: _Index) -> list[int]:
        if not parent.isValid():
            return self._children[-1]
        return self._children[int(parent.internalId())]

    # -- structure
    def index(self, row: int, column: int, parent: _Index = QtCore.QModelIndex()) -> QtCore.QModelIndex:  # noqa: B008
        if column < 0 or column >= len(COLUMNS) or row < 0:
            return QtCore.QModelIndex()
        if parent.isValid() and parent.column() != 0:
            return QtCore.QModelIndex()
        kids = self._kids(parent)
        if row >= len(kids):
            return QtCore.QModelIndex()
        return self.createIndex(row, column, kids[row])

    def parent(self, child: _Index = QtCore.QModelIndex()) -> QtCore.QModelIndex:  # type: ignore[override]  # noqa: B008
        if not child.isValid():
            return QtCore.QModelIndex()
        r = int(child.internalId())
        p = self.rows[r].parent_row
        if p < 0:
            return QtCore.QModelIndex()
        return self.createIndex(self._pos[p], 0, p)

    def rowCount(self, parent: _Index = QtCore.QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._kids(parent))

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
        return QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsSelectable

    def data(self, index: _Index, role: int = QtCore.Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[int(index.internalId())]
        col = index.column()
        if role == QtCore.Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return row.name
            if col == 1:
                return row.coro
            if col == 2:
                return row.state
            if col == 3:
                return fmt.clock(row.created)
            if col == 4:
                return fmt.seconds(row.duration) if row.duration is not None else "–"
            if col in COST_COLUMNS:
                value = row.cost(col)
                return fmt.seconds(value) if value is not None else "–"
            if col == AWAIT_COL:
                return row.await_point
            return None
        if role == QtCore.Qt.ItemDataRole.BackgroundRole:
            return HIGHLIGHT_BRUSH if row.id in self.highlighted else None
        if role == QtCore.Qt.ItemDataRole.ForegroundRole:
            if not row.matches:
                return QtGui.QBrush(QtGui.QColor(150, 150, 150))
            if col == 2:
                return QtGui.QBrush(STATE_COLORS.get(row.state, QtGui.QColor(0, 0, 0)))
            return None
        if role == QtCore.Qt.ItemDataRole.ToolTipRole:
            if col in COST_COLUMNS:
                value = row.cost(col)
                if value is None:
                    return f"Unknown: {row.costs.why}" if row.costs.why else UNKNOWN_TIP
                cut = " (the part of its life inside the selection)" if row.costs.partial else ""
                return f"{HEADER_TIPS[col]}{cut}: {fmt.seconds(value)}"
            if col == AWAIT_COL and row.await_stack:
                return "Waiting in (innermost first):\n" + "\n".join(row.await_stack)
            if col == 2 and row.exc:
                return row.exc
            return f"task {row.id}: {row.name}\n{row.coro}"
        if role == QtCore.Qt.ItemDataRole.TextAlignmentRole and (col in (3, 4) or col in COST_COLUMNS):
            return int(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
        if role == ROLE_TASK_ID:
            return row.id
        return None

    def row_of(self, index: _Index) -> TaskRow | None:
        return self.rows[int(index.internalId())] if index.isValid() else None


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
        expanded = self._expanded_ids()
        since = self.doc.effective_range()[0]  # a selected range: only the tasks alive in it
        rows, children, counts = build_rows(profile, self.time(), self.states(), text=self.filter_edit.text(), since=since)
        self.counts = counts
        for state, b in self.filter_buttons.items():
            b.setText(f"{state} ({counts.get(state, 0):,})")
        total = sum(counts.values())
        when = f" as of {fmt.clock(self.time())}" if self.time() is not None else ""
        if since is not None:
            when = f" alive from {fmt.clock(since)}" + (f" to {fmt.clock(self.time())}" if self.time() is not None else "")
        self.summary.setText(fmt.plural(total, "task") + when)
        self.stack.setCurrentWidget(self.content if total else self.empty)
        by_coro = self.by_coro_button.isChecked()
        self.content.setCurrentWidget(self.requests_view if by_coro else self.view)
        if by_coro:
            self._show_requests()
        if self.model.set_rows(rows, children):
            if self._first:
                # a day's recording holds ~10^5 tasks: expanding them all took Qt 7 s (10M samples, 50k tasks)
                self.view.expandToDepth(2 if len(rows) <= EXPAND_ALL_MAX else 0)
                self._first = not rows
            else:
                self._restore_expanded(expanded)

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
                    stall = f"{ev.task_name or blocking_function(profile, ev)[0]} +{fmt.seconds(slow.stall_delay)}"
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

    def _expanded_ids(self) -> set[int]:
        out: set[int] = set()
        for r, row in enumerate(self.model.rows):
            idx = self.model.createIndex(self.model._pos[r], 0, r)
            if self.view.isExpanded(idx):
                out.add(row.id)
        return out

    def _restore_expanded(self, ids: set[int]) -> None:
        for r, row in enumerate(self.model.rows):
            if row.id in ids:
                self.view.expand(self.model.createIndex(self.model._pos[r], 0, r))

    def _task_activated(self, index: QtCore.QModelIndex) -> None:
        """Double-click: select the task's lifetime as the document's time range."""
        row = self.model.row_of(index)
        if row is None or row.created is None:
            return
        end = row.ended if row.ended is not None else self.doc.duration()
        if end > row.created:
            self.doc.set_range(row.created, end)
