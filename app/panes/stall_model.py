"""The blocking-events list: a table model over the time-sorted stalls shown, sortable by any column.

A replay shows the stalls of [0, playhead], a prefix of the session's time-sorted stalls. The
list was a QTableWidget of an item per cell, refilled at each playhead move (a day's 12k rows,
in batches over many turns: 1.3 s of GUI time for 6 moves). Here a move inserts or removes
only the rows that entered or left the prefix (one block at the end, or at the top when
sorted latest first), a live session's new stalls are inserted where the sort puts them, and a
cell's text is made when the view paints it. `StallTable` answers a QTableWidget's questions
(rowCount, currentRow, item(row, column).text()) for the pane's callers and tests.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, replace
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from pyrometer.app.panes.model_roles import ALIGN, DISPLAY, RIGHT, TOOLTIP
from pyrometer.app.panes.model_roles import Index as _Index
from pyrometer.core import fmt
from pyrometer.core.analysis.loop import blocking_function
from pyrometer.core.analysis.stall_asof import duration_at, ongoing_at, steps_at
from pyrometer.core.analysis.stall_steps import several_steps, steps_text
from pyrometer.core.model import BlockingEvent, Profile

BLOCK_COLUMNS = ("Start", "Duration", "Function", "Thread", "Task")
EVENT_ROLE = Qt.ItemDataRole.UserRole  # column 0: the row's index in the model's time-ordered events
SORT_ROLE = Qt.ItemDataRole.UserRole + 1  # the value a column sorts by
FEW_CHANGES = 64  # rows entering or leaving a list sorted by another column: one by one up to this many, else reset
FOREGROUND = int(Qt.ItemDataRole.ForegroundRole.value)
_EVENT = int(EVENT_ROLE)
_SORT = int(SORT_ROLE)
_LONG_BRUSH = QtGui.QBrush(QtGui.QColor(192, 40, 24))  # stalls of 100 ms and more


def blocking_task_label(ev: BlockingEvent) -> str:
    """The task that blocked, as the blocking list shows it ("" when no task ran); every blocking
    step with its share when one loop iteration ran several."""
    steps = several_steps(ev)
    if steps:
        return steps_text(steps)
    if ev.task_name:
        return f"{ev.task_name} [{ev.task}]"
    return f"task {ev.task}" if ev.task >= 0 else ""


class StallTableModel(QAbstractTableModel):
    """Rows: `events` (time order) in the order of the sort column; `_order[row]` is the event index shown."""

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.profile: Profile | None = None
        self.events: list[BlockingEvent] = []
        self._order: list[int] = []
        self._column = 0
        self._descending = False
        self._labels: dict[int, str] = {}  # function label per event index, made when first shown or sorted
        self.as_of: float | None = None  # a replay's playhead: a stall going on then shows what had happened (stall_asof)
        self._ends: list[float] = []

    # ------------------------------------------------------------------ Qt model API
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._order)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(BLOCK_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == DISPLAY and 0 <= section < len(BLOCK_COLUMNS):
            return BLOCK_COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = DISPLAY) -> Any:
        row, col = index.row(), index.column()
        if not 0 <= row < len(self._order):
            return None
        i = self._order[row]
        ev = self.events[i]
        role = int(role)
        if role == DISPLAY:
            return self.text(i, col)
        if role == ALIGN:
            return RIGHT if col < 2 else None
        if role == FOREGROUND:
            return _LONG_BRUSH if col == 1 and duration_at(ev, self.as_of) >= 0.1 else None
        if role == TOOLTIP:
            if col == 2 and self._label(i) != ev.callback and ev.callback.strip():
                return ev.callback
            if col == 4:
                tips = ["Await chain (blocking task first): " + " ← ".join(f"{n} [{t}]" for t, n in ev.await_chain)] if ev.await_chain else []
                steps = several_steps(ev)
                if steps:
                    tips += ["Steps that held the loop, longest first:"] + [f"  {s.label()} {fmt.seconds(s.duration)}" for s in steps]
                return "\n".join(tips) if tips else None
            return None
        if role == _EVENT:
            return i if col == 0 else None
        if role == _SORT:
            return self._key(col)(i)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Rows in the order of `column` (ties in time order); the selection stays on its stalls."""
        self._column = max(0, min(int(column), len(BLOCK_COLUMNS) - 1))
        self._descending = order == Qt.SortOrder.DescendingOrder
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        shown = [self._order[ix.row()] if 0 <= ix.row() < len(self._order) else -1 for ix in old]
        self._order = self._sorted(range(len(self.events)))
        row_of = {e: r for r, e in enumerate(self._order)}
        new = [self.index(row_of[e], ix.column()) if e >= 0 else QModelIndex() for e, ix in zip(shown, old, strict=True)]
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()

    # ------------------------------------------------------------------ for the pane
    def set_events(self, profile: Profile, events: list[BlockingEvent], as_of: float | None = None) -> bool:
        """Show `events` (time order): rows inserted or removed where the list only grew or shrank at its end
        (a replay's playhead, a live session's new stalls), else every row anew. True when reset.
        `as_of`: the playhead; a stall still going on then is shown as far as it had got."""
        before, had = self.as_of, self._any_ongoing(self.as_of)
        self.as_of = as_of
        reset = self._set_rows(profile, events)
        ends = self._ends  # the latest end among the first k stalls, for each k (kept as the list grows)
        if reset:
            ends.clear()
        del ends[len(self.events) :]
        top = ends[-1] if ends else -math.inf
        for ev in self.events[len(ends) :]:
            top = max(top, ev.start + ev.duration)
            ends.append(top)
        if not reset and before != as_of and (had or self._any_ongoing(as_of)):
            if self._column == 1:
                self.sort(1, Qt.SortOrder.DescendingOrder if self._descending else Qt.SortOrder.AscendingOrder)
            if self._order:
                self.dataChanged.emit(self.index(0, 1), self.index(len(self._order) - 1, 1))
        return reset

    def _any_ongoing(self, t: float | None) -> bool:
        """Whether a stall listed was still going on at `t`."""
        return t is not None and bool(self._ends) and self._ends[-1] > t

    def _set_rows(self, profile: Profile, events: list[BlockingEvent]) -> bool:
        old = self.events
        k = min(len(old), len(events))
        if profile is not self.profile or not all(map(operator.is_, old[:k], events[:k])):
            self._reset(profile, events)
            return True
        if len(events) == len(old):
            self.events = events
            return False
        changed = abs(len(events) - len(old))
        if self._column == 0:
            self._move_end(events)
        elif changed <= FEW_CHANGES:
            self._one_by_one(events)
        else:
            self._reset(profile, events)
            return True
        return False

    def event_index(self, row: int) -> int:
        """The index in `events` of the stall on `row` (-1: no such row)."""
        return self._order[row] if 0 <= row < len(self._order) else -1

    def row_of(self, event_index: int) -> int:
        """The row showing stall `event_index` of `events` (-1: not shown)."""
        if self._column == 0:
            n = len(self._order)
            row = n - 1 - event_index if self._descending else event_index
            return row if 0 <= event_index < n else -1
        try:
            return self._order.index(event_index)
        except ValueError:
            return -1

    def text(self, i: int, col: int) -> str:
        """The text of stall `i`'s cell in column `col`."""
        ev = self.events[i]
        if col == 0:
            return fmt.clock(ev.start)
        if col == 1:
            if ongoing_at(ev, self.as_of):
                return f"{fmt.seconds(duration_at(ev, self.as_of))} so far"
            return fmt.seconds(ev.duration)
        if col == 2:
            return self._label(i)
        if col == 3:
            thread = self.profile.threads.get(ev.thread) if self.profile is not None else None
            return thread.name if thread is not None else str(ev.thread)
        if ongoing_at(ev, self.as_of):  # its steps as far as they had got (those after the playhead had not run)
            ev = replace(ev, steps=steps_at(ev.steps, self.as_of))
        return blocking_task_label(ev)

    # ------------------------------------------------------------------ internals
    def _label(self, i: int) -> str:
        label = self._labels.get(i)
        if label is None and self.profile is not None:
            label = self._labels[i] = blocking_function(self.profile, self.events[i])[0]
        return label or ""

    def _key(self, col: int) -> Any:
        events = self.events
        if col == 0:
            return lambda i: events[i].start
        if col == 1:
            as_of = self.as_of
            return lambda i: duration_at(events[i], as_of)
        return lambda i: self.text(i, col).lower()

    def _sorted(self, rows: range | list[int]) -> list[int]:
        """Event indices in the order of the sort column (ties in time order, whichever the direction)."""
        if self._column == 0:
            return list(reversed(rows)) if self._descending else list(rows)
        return sorted(rows, key=self._key(self._column), reverse=self._descending)  # (stable: ties keep time order)

    def _reset(self, profile: Profile, events: list[BlockingEvent]) -> None:
        self.beginResetModel()
        self.profile, self.events, self._labels = profile, events, {}
        self._order = self._sorted(range(len(events)))
        self.endResetModel()

    def _move_end(self, events: list[BlockingEvent]) -> None:
        """Sorted by start: the stalls that entered or left are one block, at the end (or top, latest first)."""
        n, m = len(self.events), len(events)
        root = QModelIndex()
        if m > n:
            first, last = (0, m - n - 1) if self._descending else (n, m - 1)
            self.beginInsertRows(root, first, last)
            self.events = events
            self._order = self._sorted(range(m))
            self.endInsertRows()
        else:
            first, last = (0, n - m - 1) if self._descending else (m, n - 1)
            self.beginRemoveRows(root, first, last)
            self.events = events
            self._order = self._sorted(range(m))
            for i in range(m, n):
                self._labels.pop(i, None)
            self.endRemoveRows()

    def _one_by_one(self, events: list[BlockingEvent]) -> None:
        """Sorted by another column: each stall that left is removed, each that entered inserted where it sorts."""
        n, m = len(self.events), len(events)
        root = QModelIndex()
        if m < n:
            rows = sorted((r for r, i in enumerate(self._order) if i >= m), reverse=True)
            for r in rows:
                self.beginRemoveRows(root, r, r)
                del self._order[r]
                self.endRemoveRows()
            for i in range(m, n):
                self._labels.pop(i, None)
            self.events = events
            return
        self.events = events  # (the rows shown so far still index the same stalls)
        final = self._sorted(range(m))
        rows = sorted(r for r, i in enumerate(final) if i >= n)
        for r in rows:  # in ascending final place: each lands where it ends up
            self.beginInsertRows(root, r, r)
            self._order.insert(r, final[r])
            self.endInsertRows()


@dataclass
class StallCell:
    """A cell of the list as a QTableWidgetItem would show it (text, tooltip, data by role)."""

    model: StallTableModel
    row: int
    column: int

    def _index(self) -> QModelIndex:
        return self.model.index(self.row, self.column)

    def text(self) -> str:
        return str(self.model.data(self._index(), DISPLAY) or "")

    def toolTip(self) -> str:
        return str(self.model.data(self._index(), TOOLTIP) or "")

    def data(self, role: int) -> Any:
        return self.model.data(self._index(), int(role))


class StallTable(QtWidgets.QTableView):
    """The blocking-events list; reads like a QTableWidget for its callers (rowCount, currentRow, item)."""

    def __init__(self, model: StallTableModel, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.stalls = model

    def rowCount(self) -> int:
        return self.stalls.rowCount()

    def columnCount(self) -> int:
        return self.stalls.columnCount()

    def currentRow(self) -> int:
        return self.currentIndex().row()

    def item(self, row: int, column: int) -> StallCell | None:
        """The cell at (row, column), None outside the list."""
        if not (0 <= row < self.stalls.rowCount() and 0 <= column < self.stalls.columnCount()):
            return None
        return StallCell(self.stalls, row, column)
