"""Tasks pane: the task-tree model (qtmodeltester), state filters, counts, time travel."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from pyrometer.app.document import Document
from pyrometer.app.panes.tasks import (
    AWAIT_COL,
    COLUMNS,
    ROLE_TASK_ID,
    TasksPane,
    TaskTreeModel,
    build_rows,
)
from pyrometer.core.analysis.task_table import task_view
from pyrometer.core.model import Profile, TaskInfo


def make_profile() -> Profile:
    """main(1) → server(2) → handler-a(3, done), handler-b(4, failed), handler-c(5, pending);
    main → ticker(6, cancelled at 3.0). handler-c waits in asyncio.sleep."""
    p = Profile()
    tasks = [
        TaskInfo(1, None, "main", "main()", created=0.0),
        TaskInfo(2, 1, "server", "serve()", created=0.1),
        TaskInfo(3, 2, "handler-a", "handle(a)", created=1.0, ended=1.5, state="done"),
        TaskInfo(4, 2, "handler-b", "handle(b)", created=1.2, ended=2.0, state="failed", exc="ValueError('bad')"),
        TaskInfo(5, 2, "handler-c", "handle(c)", created=2.5),
        TaskInfo(6, 1, "ticker", "tick()", created=0.2, ended=3.0, state="cancelled"),
    ]
    for t in tasks:
        p.tasks[t.id] = t
    handle = p.intern_frame("handle", "/srv/app.py", 42, 40)
    sleep = p.intern_frame("sleep", "/usr/lib/python3.11/asyncio/tasks.py", 649, 630)
    stack = p.intern_stack_path([handle, sleep])
    p.add_awaits(2.6, np.array([5], np.int32), np.array([stack], np.int32))
    p.end = {"t": 4.0}
    return p


@pytest.fixture
def pane(qtbot):  # type: ignore[no-untyped-def]
    pane = TasksPane(Document(make_profile()))
    qtbot.addWidget(pane)
    pane.resize(900, 300)
    pane.show()
    pane.refresh()
    return pane


def names(model: TaskTreeModel, parent: QtCore.QModelIndex = QtCore.QModelIndex()) -> list[str]:  # noqa: B008
    return [model.index(r, 0, parent).data() for r in range(model.rowCount(parent))]


def test_model_passes_qtmodeltester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = TaskTreeModel()
    profile = make_profile()
    model.set_view(task_view(profile, None, frozenset({"pending", "done", "cancelled", "failed"})), profile)
    qtmodeltester.check(model, force_py=True)
    # and after a reset to a filtered set
    model.set_view(task_view(profile, None, frozenset({"failed"})), profile)
    qtmodeltester.check(model, force_py=True)



def test_sorted_model_passes_qtmodeltester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = TaskTreeModel()
    profile = make_profile()
    model.set_view(task_view(profile, None, frozenset({"pending", "done", "cancelled", "failed"})), profile)
    model.sort(4, QtCore.Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(model, force_py=True)
    server = model.index(0, 0, model.index(0, 0))
    assert [model.index(r, 0, server).data() for r in range(3)] == ["handler-c", "handler-b", "handler-a"]


def test_tree_by_parent_with_columns(pane: TasksPane) -> None:
    m = pane.model
    assert names(m) == ["main"]
    main = m.index(0, 0)
    assert names(m, main) == ["server", "ticker"]
    server = m.index(0, 0, main)
    assert names(m, server) == ["handler-a", "handler-b", "handler-c"]
    c = m.index(2, 0, server)
    row = [m.index(2, col, server).data() for col in range(len(COLUMNS))]
    assert row[1] == "handle(c)" and row[2] == "pending"
    assert row[3] == "0:02.500"
    assert row[4] == "1.50 s"  # pending until the end of the recording (4.0)
    assert row[AWAIT_COL] == "handle (/srv/app.py:42) → sleep"  # the user's await, then the library call
    assert row[5:9] == ["–"] * 4  # no per-task accounting in this profile: unknown, never 0
    assert "handle (/srv/app.py:42)" in m.index(2, AWAIT_COL, server).data(QtCore.Qt.ItemDataRole.ToolTipRole)
    assert c.data(ROLE_TASK_ID) == 5
    b = m.index(1, 2, server)
    assert b.data() == "failed" and "ValueError" in b.data(QtCore.Qt.ItemDataRole.ToolTipRole)
    assert m.index(1, 4, server).data() == "800.0 ms"
    assert pane.counts == {"pending": 3, "done": 1, "cancelled": 1, "failed": 1}
    assert pane.filter_buttons["pending"].text() == "pending (3)"


def test_filters_keep_ancestors_of_matches(pane: TasksPane) -> None:
    for state in ("pending", "done", "cancelled"):
        pane.filter_buttons[state].setChecked(False)
    m = pane.model
    assert [r.name for r in m.rows] == ["main", "server", "handler-b"]
    assert [r.matches for r in m.rows] == [False, False, True]
    assert m.index(0, 0).data(QtCore.Qt.ItemDataRole.ForegroundRole) is not None  # greyed ancestor
    pane.filter_buttons["failed"].setChecked(False)
    assert m.rowCount() == 0
    assert pane.filter_buttons["done"].text() == "done (1)"  # counts ignore the filter


def test_tree_as_of_the_playhead(pane: TasksPane) -> None:
    pane.doc.set_playhead(1.3)
    pane.refresh()
    by_name = {r.name: r for r in pane.model.rows}
    assert set(by_name) == {"main", "server", "handler-a", "handler-b", "ticker"}
    assert by_name["handler-a"].state == "pending" and by_name["ticker"].state == "pending"
    assert pane.counts["pending"] == 5
    assert "as of 0:01.300" in pane.summary.text()


def test_double_click_selects_task_lifetime(pane: TasksPane, qtbot) -> None:  # type: ignore[no-untyped-def]
    pane.view.expandAll()
    server = pane.model.index(0, 0, pane.model.index(0, 0))
    a = pane.model.index(0, 0, server)
    qtbot.waitExposed(pane)
    pos = pane.view.visualRect(a).center()
    left = QtCore.Qt.MouseButton.LeftButton
    vp = pane.view.viewport()
    qtbot.mousePress(vp, left, pos=pos)
    qtbot.mouseRelease(vp, left, pos=pos)
    qtbot.mouseDClick(vp, left, pos=pos)
    qtbot.mouseRelease(vp, left, pos=pos)
    assert pane.doc.range == (1.0, 1.5)


def test_empty_profile_says_so(qtbot) -> None:  # type: ignore[no-untyped-def]
    pane = TasksPane(Document(Profile()))
    qtbot.addWidget(pane)
    pane.refresh()
    assert pane.stack.currentWidget() is pane.empty
    assert pane.model.rowCount() == 0


def test_live_growth_updates_in_place(pane: TasksPane, qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    """A longer session only changes pending durations: no reset, the selection stays."""
    m = pane.model
    server = m.index(0, 0, m.index(0, 0))
    c = m.index(2, 0, server)
    pane.view.setCurrentIndex(c)
    resets: list[int] = []
    changed: list[int] = []
    m.modelReset.connect(lambda: resets.append(1))
    m.dataChanged.connect(lambda *a: changed.append(1))
    pane.doc.profile.end = {"t": 6.0}
    pane.refresh()
    assert resets == [] and changed
    assert m.index(2, 4, server).data() == "3.50 s"
    assert pane.view.currentIndex().data(ROLE_TASK_ID) == 5
    # a new task changes the shape: a reset, and the new task is there
    pane.doc.profile.tasks[7] = TaskInfo(7, 2, "handler-d", "handle(d)", created=5.0)
    pane.refresh()
    assert resets == [1]
    assert "handler-d" in [r.name for r in m.rows]
    qtmodeltester.check(m, force_py=True)


def test_text_filter_and_deep_chains(pane: TasksPane) -> None:
    pane.filter_edit.setText("HANDLE(b")  # coroutine handle(b), case-insensitive
    assert [r.name for r in pane.model.rows] == ["main", "server", "handler-b"]
    assert [r.matches for r in pane.model.rows] == [False, False, True]
    pane.filter_edit.setText("tick")
    assert [r.name for r in pane.model.rows] == ["main", "ticker"]
    pane.filter_edit.clear()
    assert len(pane.model.rows) == 6
    assert pane.focus_search()
    # a 3000-deep chain of tasks neither recurses too deep nor loses the leaf
    p = Profile()
    for i in range(3000):
        p.tasks[i] = TaskInfo(i, i - 1 if i else None, f"t{i}", "c()", created=float(i))
    rows, _children, _ = build_rows(p, None, frozenset({"pending"}), text="t2999")
    assert len(rows) == 3000 and rows[-1].name == "t2999" and rows[-1].matches and not rows[0].matches


def test_opened_tasks_stay_open_after_a_live_reset(pane: TasksPane) -> None:
    """A new task resets the model; the tasks the user had opened are found again (in one pass over the
    view) and opened, and a task that had not been opened stays closed."""
    m = pane.model
    pane.view.collapseAll()
    main = m.index(0, 0)
    pane.view.expand(main)
    server = m.index_of_task(2)
    pane.view.expand(server)
    assert pane.view.isExpanded(server) and not pane.view.isExpanded(m.index_of_task(6))
    pane.doc.profile.tasks[7] = TaskInfo(7, 2, "handler-d", "handle(d)", created=5.0)
    pane.doc.profile.tasks[8] = TaskInfo(8, 7, "sub-d", "sub()", created=5.1)
    pane.refresh()
    got = m.indexes_of_tasks([1, 2, 7, 99])
    assert sorted(got) == [1, 2, 7] and all(i.isValid() for i in got.values())
    assert got[2] == m.index_of_task(2) and got[2].data(ROLE_TASK_ID) == 2
    assert pane.view.isExpanded(got[1]) and pane.view.isExpanded(got[2])  # opened again after the reset
    assert not pane.view.isExpanded(got[7])
