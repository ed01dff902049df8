"""The window side of async attribution, on one real recording with a known truth.

The target (recorded once for the module with `pyrometer record`) measures its
own truth: `burner` burns CPU between awaits (time.thread_time around each step), the
task `child` blocks the loop with time.sleep(0.12) awaited by `parent`, `due`
is due during that stall (it measures how late it woke) and `sleeper` sleeps
through it.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6 import QtCore

from pyrometer.app.document import Document
from pyrometer.app.panes.event_loop import BLOCK_COLUMNS, EventLoopPane
from pyrometer.app.panes.tasks import AWAIT_COL, COLUMNS, COST_COLUMNS, HIGHLIGHT_BRUSH, TasksPane
from pyrometer.app.panes.timeline import TimelinePane
from pyrometer.core.analysis.lane_palette import T_DELAYED, T_DONE, T_RUNNING
from pyrometer.core.analysis.requests import request_groups
from pyrometer.core.analysis.task_costs import task_costs
from pyrometer.core.columns import ColumnTable
from pyrometer.core.formats.recording import read_recording
from pyrometer.core.model import TASK_SPAN_DTYPES, Profile

TARGET = """
import asyncio, json, sys, time

truth = {"late": {}, "cpu": 0.0, "block": 0.0}

async def child():
    await asyncio.sleep(0.03)
    t = time.perf_counter()
    time.sleep(0.12)                       # holds the loop 120 ms, ~no CPU
    truth["block"] = time.perf_counter() - t   # (a loaded machine oversleeps)
    return 1

async def parent():
    return await asyncio.create_task(child(), name="child")

async def due(name, delay):
    loop = asyncio.get_running_loop()
    at = loop.time() + delay
    await asyncio.sleep(delay)
    truth["late"][name] = loop.time() - at

async def burner():
    for _ in range(3):                     # the CPU of its own steps: the loop's work between
        c0 = time.thread_time()            # them (~1.3 ms of select, timers and agent hooks) is not the task's
        t = time.perf_counter()
        while time.perf_counter() - t < 0.05:
            pass
        truth["cpu"] += time.thread_time() - c0
        await asyncio.sleep(0.01)

async def main():
    ws = [asyncio.create_task(due("due", 0.08), name="due"),
          asyncio.create_task(due("sleeper", 0.5), name="sleeper")]
    await asyncio.create_task(parent(), name="parent")
    await asyncio.create_task(burner(), name="burner")
    await asyncio.gather(*ws)

asyncio.run(main())
with open(sys.argv[1], "w") as f:
    json.dump(truth, f)
"""


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    d = tmp_path_factory.mktemp("async_window")
    script, out, truth = d / "prog.py", d / "x.pyro", d / "truth.json"
    script.write_text(TARGET)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pyrometer",
            "record",
            "-o",
            str(out),
            "--",
            str(script),
            str(truth),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return out, json.loads(truth.read_text())


@pytest.fixture
def profile(recording: tuple[Path, dict[str, Any]]) -> Profile:
    p, _ = read_recording(recording[0])
    return p


def by_name(profile: Profile) -> dict[str, int]:
    return {t.name: t.id for t in profile.tasks.values()}


def all_rows(model: Any, parent: QtCore.QModelIndex | None = None) -> list[QtCore.QModelIndex]:
    parent = parent if parent is not None else QtCore.QModelIndex()
    out = []
    for r in range(model.rowCount(parent)):
        idx = model.index(r, 0, parent)
        out.append(idx)
        out.extend(all_rows(model, idx))
    return out


def row_of(model: Any, name: str) -> QtCore.QModelIndex:
    return next(i for i in all_rows(model) if i.data() == name)


def seconds(text: str) -> float:
    value, unit = text.split()
    return float(value) * {"s": 1.0, "ms": 1e-3, "µs": 1e-6, "us": 1e-6}[unit]


# ------------------------------------------------------------------ Tasks pane
def test_tasks_pane_cost_columns_match_the_targets_truth(
    qtbot, profile: Profile, recording
) -> None:  # type: ignore[no-untyped-def]
    truth = recording[1]
    pane = TasksPane(Document(profile))
    qtbot.addWidget(pane)
    pane.refresh()
    m = pane.model
    assert [COLUMNS[c] for c in COST_COLUMNS] == ["CPU", "Running", "Waiting", "Delayed"]
    burner = row_of(m, "burner")
    cpu = seconds(m.index(burner.row(), COST_COLUMNS[0], burner.parent()).data())
    # the CPU it measured itself in its steps, within 10% or the few ms core/agent/accounting.py
    # promises (a starved burner got 13 ms of CPU in its 150 ms and the pane said 11.4 ms). Measured
    # from its first step to its end, the truth also held the loop's CPU between the steps, 1.0-1.6 ms
    # of the 3 ms allowance: at load 10 the pane was 4 ms under it once; per step it is within 0.3 ms
    assert cpu == pytest.approx(truth["cpu"], rel=0.10, abs=0.003)
    child = row_of(m, "child")
    cells = [m.index(child.row(), c, child.parent()).data() for c in COST_COLUMNS]
    assert seconds(cells[1]) == pytest.approx(truth["block"], abs=0.03)  # time.sleep held the loop ...
    assert seconds(cells[0]) < 0.02  # ... with ~no CPU
    due = row_of(m, "due")
    delayed = seconds(m.index(due.row(), COST_COLUMNS[3], due.parent()).data())
    assert delayed == pytest.approx(truth["late"]["due"], abs=0.03)  # late by what it measured
    sleeper = row_of(m, "sleeper")
    sleeper_delay = seconds(m.index(sleeper.row(), COST_COLUMNS[3], sleeper.parent()).data())
    assert sleeper_delay == pytest.approx(truth["late"]["sleeper"], abs=0.03)  # slept through the stall
    for col in COST_COLUMNS:  # each header says what it means
        tip = m.headerData(
            col, QtCore.Qt.Orientation.Horizontal, QtCore.Qt.ItemDataRole.ToolTipRole
        )
        assert tip and len(tip) > 30


def test_tasks_pane_sorts_by_cpu_and_keeps_unknown_last(qtbot, profile: Profile) -> None:  # type: ignore[no-untyped-def]
    pane = TasksPane(Document(profile))
    qtbot.addWidget(pane)
    pane.refresh()
    m = pane.model
    main = row_of(m, "Task-1")
    pane.view.sortByColumn(COST_COLUMNS[0], QtCore.Qt.SortOrder.DescendingOrder)
    kids = [m.index(r, 0, main).data() for r in range(m.rowCount(main))]
    assert kids[0] == "burner", kids  # the one that burned CPU comes first
    pane.view.sortByColumn(COST_COLUMNS[3], QtCore.Qt.SortOrder.DescendingOrder)
    kids = [m.index(r, 0, main).data() for r in range(m.rowCount(main))]
    delays = [seconds(m.index(r, COST_COLUMNS[3], main).data()) for r in range(m.rowCount(main))]
    # most delayed first, each row whole (its name beside its own delay, the profile's): on a quiet
    # machine the one the stall delayed ("due") comes first; on a loaded one the burner's wake-ups,
    # or the sleeper's (92 ms late at load 10, while due was 74 ms), were sometimes later still, so
    # who comes first is told by the delays (each checked against the target's own truth above)
    own = {t.name: t.delayed_s for t in profile.tasks.values() if t.name in kids}
    for name, delay in zip(kids, delays, strict=True):
        assert delay == pytest.approx(own[name], rel=0.01, abs=1e-4), (kids, delays, own)
    assert delays == sorted(delays, reverse=True) and delays[0] > delays[-1], (kids, delays)
    top = kids[0]
    pane.view.sortByColumn(COST_COLUMNS[3], QtCore.Qt.SortOrder.AscendingOrder)
    kids = [m.index(r, 0, main).data() for r in range(m.rowCount(main))]
    assert kids[-1] == top, kids


def test_older_recording_shows_unknown_not_zero(qtbot, profile: Profile) -> None:  # type: ignore[no-untyped-def]
    for t in profile.tasks.values():  # what a recording before per-task accounting reads as
        t.cpu_s = t.running_s = t.waiting_s = t.delayed_s = None
    profile.task_spans = ColumnTable(TASK_SPAN_DTYPES)
    assert len(profile.task_spans) == 0
    pane = TasksPane(Document(profile))
    qtbot.addWidget(pane)
    pane.refresh()
    for idx in all_rows(pane.model):
        cells = [pane.model.index(idx.row(), c, idx.parent()).data() for c in COST_COLUMNS]
        assert cells == ["–"] * 4, (idx.data(), cells)
    assert pane.model.index(0, AWAIT_COL).isValid()


def test_range_shows_the_part_of_a_life_inside_it(qtbot, profile: Profile) -> None:  # type: ignore[no-untyped-def]
    """A range cut through the child's stall: its running time is the stall's part inside the range."""
    ids = by_name(profile)
    stall = max(profile.blocking, key=lambda e: e.duration if e.task == ids["child"] else 0.0)
    t0, t1 = stall.start, stall.start + stall.duration / 2
    costs = task_costs(profile, t0, t1)
    child = costs[ids["child"]]
    assert (
        child.partial and child.cpu_s is None
    )  # CPU is per task, not per stretch: unknown when cut
    assert child.running_s == pytest.approx(t1 - t0, abs=0.01)
    assert child.delayed_s is not None and child.waiting_s is not None
    assert child.running_s + child.waiting_s + child.delayed_s == pytest.approx(t1 - t0, abs=1e-6)
    doc = Document(profile)
    pane = TasksPane(doc)
    qtbot.addWidget(pane)
    doc.set_range(t0, t1)
    pane.refresh()
    row = row_of(pane.model, "child")
    cells = [pane.model.index(row.row(), c, row.parent()).data() for c in COST_COLUMNS]
    assert cells[0] == "–"
    assert seconds(cells[1]) == pytest.approx(t1 - t0, abs=0.01)


def test_highlighted_tasks_paint_their_rows(qtbot, profile: Profile) -> None:  # type: ignore[no-untyped-def]
    doc = Document(profile)
    pane = TasksPane(doc)
    qtbot.addWidget(pane)
    pane.refresh()
    ids = by_name(profile)
    with qtbot.waitSignal(doc.highlightedTasksChanged):
        doc.set_highlighted_tasks({ids["due"]})
    bg = QtCore.Qt.ItemDataRole.BackgroundRole
    assert row_of(pane.model, "due").data(bg) == HIGHLIGHT_BRUSH
    assert row_of(pane.model, "sleeper").data(bg) is None


# ------------------------------------------------------------------ Event loop pane
def test_event_loop_pane_names_the_blocker_its_chain_and_whom_it_delayed(qtbot, profile: Profile, recording) -> None:  # type: ignore[no-untyped-def]
    truth = recording[1]
    ids = by_name(profile)
    doc = Document(profile)
    pane = EventLoopPane(doc)
    tasks = TasksPane(doc)
    qtbot.addWidget(pane)
    qtbot.addWidget(tasks)
    pane.refresh()
    tasks.refresh()
    child_stall = next(i for i, e in enumerate(pane.events) if e.task == ids["child"])
    ev = pane.events[child_stall]
    assert ev.duration == pytest.approx(truth["block"], abs=0.03)  # as long as the sleep measured itself
    row = next(r for r in range(pane.table.rowCount()) if pane._row_event(r) == child_stall)
    assert pane.table.item(row, BLOCK_COLUMNS.index("Task")).text() == f"child [{ids['child']}]"
    with qtbot.waitSignal(doc.highlightedTasksChanged):
        pane.select_event(child_stall)
    lines = pane.blame_lines()
    main_id = next(t.id for t in profile.tasks.values() if t.coro == "main")
    chain_at = lines.index("Blocked by child")
    assert lines[chain_at + 1 : chain_at + 4] == [
        f"  child [{ids['child']}]",
        f"  ← awaited by parent [{ids['parent']}]",
        f"  ← awaited by Task-1 [{main_id}]",
    ]
    delayed_at = lines.index("Delayed 1 task")
    name, delay = lines[delayed_at + 1].strip().split(" ", 2)[0], lines[delayed_at + 1].strip().split(" ", 2)[2]
    assert name == "due" and seconds(delay) == pytest.approx(truth["late"]["due"], abs=0.03)
    assert not any("sleeper" in line for line in lines)  # slept through the stall: not delayed by it
    # the document carries the delayed tasks; the Tasks pane paints them
    assert doc.highlighted_tasks == {ids["due"]}
    bg = QtCore.Qt.ItemDataRole.BackgroundRole
    tasks.refresh()
    assert row_of(tasks.model, "due").data(bg) == HIGHLIGHT_BRUSH
    assert row_of(tasks.model, "sleeper").data(bg) is None
    # clearing the selection clears the highlight
    pane.table.clearSelection()
    assert doc.highlighted_tasks == frozenset()
    assert not pane.blame_tree.isVisible() or pane.blame_tree.topLevelItemCount() == 0


def test_event_loop_pane_old_recording_has_no_blame(qtbot, profile: Profile) -> None:  # type: ignore[no-untyped-def]
    for ev in profile.blocking:  # what a recording before loop blame reads as
        ev.task, ev.task_name, ev.await_chain, ev.delayed = -1, None, None, None
    pane = EventLoopPane(Document(profile))
    qtbot.addWidget(pane)
    pane.refresh()
    pane.select_event(0)
    assert pane.table.item(0, BLOCK_COLUMNS.index("Task")).text() == ""
    assert pane.blame_lines() == ["(no task blame in this recording)"]


# ------------------------------------------------------------------ Timeline
def task_pieces(pane: TimelinePane, task: int) -> list[tuple[float, float, int]]:
    """(start, end, colour) of the boxes of one task in the timeline, in time order."""
    x, w, _row, color = pane.lanes.arrays()
    mask = pane.lanes.task_mask(frozenset({task}))
    return sorted((float(x[b]), float(x[b] + w[b]), int(color[b])) for b in np.flatnonzero(mask))


def test_timeline_colours_each_task_by_state(qtbot, profile: Profile, recording) -> None:  # type: ignore[no-untyped-def]
    truth = recording[1]
    ids = by_name(profile)
    doc = Document(profile)
    pane = TimelinePane(doc)
    qtbot.addWidget(pane)
    pane.resize(1200, 700)
    pane.refresh()
    stall = next(e for e in profile.blocking if e.task == ids["child"])
    child = task_pieces(pane, ids["child"])
    info = profile.tasks[ids["child"]]
    assert child[0][0] == pytest.approx(info.created) and child[-1][1] == pytest.approx(info.ended)  # its whole life
    assert all(b[0] == pytest.approx(a[1]) for a, b in itertools.pairwise(child))  # pieces tile it
    running = [(a, b) for a, b, c in child if c == T_RUNNING]
    longest = max(running, key=lambda s: s[1] - s[0])
    assert longest[1] - longest[0] == pytest.approx(recording[1]["block"], abs=0.03)  # the time.sleep(0.12) step
    assert longest[0] == pytest.approx(stall.start, abs=0.02)
    assert any(c == T_DONE for _, _, c in child)  # waiting pieces keep the task's own colour
    due = task_pieces(pane, ids["due"])
    delayed = sum(b - a for a, b, c in due if c == T_DELAYED)
    assert delayed == pytest.approx(truth["late"]["due"], abs=0.03)  # the stall made it late
    sleeper = sum(b - a for a, b, c in task_pieces(pane, ids["sleeper"]) if c == T_DELAYED)
    assert sleeper == pytest.approx(truth["late"]["sleeper"], abs=0.03)  # slept through the stall: ~on time
    colors = pane.lanes.arrays()[3]
    box = next(b for b in np.flatnonzero(pane.lanes.task_mask(frozenset({ids["due"]}))) if colors[b] == T_DELAYED)
    tip = pane._tooltip(int(box))
    assert "delayed" in tip and "due" in tip
    assert pane.task_legend.isVisibleTo(pane) and "running" in pane.task_legend.text()
    # replay: as of the middle of the stall, the child's running piece stops at the playhead
    doc.set_playhead(stall.start + stall.duration / 2)
    pane.refresh()
    assert max(b for _, b, _ in task_pieces(pane, ids["child"])) == pytest.approx(stall.start + stall.duration / 2)


def test_timeline_outlines_the_tasks_a_stall_delayed(qtbot, profile: Profile) -> None:  # type: ignore[no-untyped-def]
    ids = by_name(profile)
    doc = Document(profile)
    pane = TimelinePane(doc)
    qtbot.addWidget(pane)
    pane.refresh()
    assert pane.item._outline is None
    doc.set_highlighted_tasks({ids["due"]})
    outline = pane.item._outline
    assert outline is not None
    mask = pane.lanes.task_mask(frozenset({ids["due"]}))
    assert mask.any() and int(outline.sum()) == int(mask.sum())
    doc.set_highlighted_tasks(None)
    assert pane.item._outline is None


# ------------------------------------------------------------------ Requests (by coroutine)
def test_request_groups_latency_and_the_stall_that_delayed_the_slowest(profile: Profile, recording) -> None:  # type: ignore[no-untyped-def]
    truth = recording[1]
    ids = by_name(profile)
    group = next(g for g in request_groups(profile) if g.coro == "due")
    assert group.count == 2 and group.finished == 2
    # each `due` task lives at least its sleep plus how late it woke (the target measured both); its end is
    # when the task finished (the agent sees it after the loop's next callbacks, up to a burner step later)
    life = {n: profile.tasks[ids[n]].ended - profile.tasks[ids[n]].created for n in ("due", "sleeper")}  # type: ignore[operator]
    assert life["due"] >= 0.08 + truth["late"]["due"] - 0.002
    assert life["sleeper"] >= 0.5 + truth["late"]["sleeper"] - 0.002
    assert group.max == pytest.approx(life["sleeper"])
    assert group.p50 == pytest.approx((life["due"] + life["sleeper"]) / 2)  # two values: their midpoint
    assert [s.name for s in group.slowest] == ["sleeper", "due"]
    due = group.slowest[1]
    stall = profile.blocking[due.stall]
    assert stall.task == ids["child"] and due.stall_delay == pytest.approx(truth["late"]["due"], abs=0.03)
    assert due.delayed_s == pytest.approx(truth["late"]["due"], abs=0.03)
    # the sleeper slept through the child's stall: on time, nothing delayed it; on a loaded machine a
    # burner step can outlast the block threshold just as the sleeper is due (35 ms late at load 10):
    # then that stall is named, never the child's, with the lateness the sleeper measured itself
    sleeper = group.slowest[0]
    if sleeper.stall != -1:
        assert profile.blocking[sleeper.stall].task != ids["child"], (sleeper, truth)
        assert sleeper.stall_delay == pytest.approx(truth["late"]["sleeper"], abs=0.03), (sleeper, truth)


def test_by_coroutine_click_selects_the_stall_that_delayed_a_task(qtbot, profile: Profile) -> None:  # type: ignore[no-untyped-def]
    ids = by_name(profile)
    doc = Document(profile)
    tasks = TasksPane(doc)
    loop = EventLoopPane(doc)
    qtbot.addWidget(tasks)
    qtbot.addWidget(loop)
    loop.refresh()
    tasks.by_coro_button.setChecked(True)
    view = tasks.requests_view
    assert tasks.content.currentWidget() is view
    top = next(view.topLevelItem(i) for i in range(view.topLevelItemCount()) if view.topLevelItem(i).text(0) == "due")
    kid = next(top.child(j) for j in range(top.childCount()) if top.child(j).text(0) == "due")
    assert kid.text(9).startswith("child +")
    with qtbot.waitSignal(doc.paneRequested) as asked:
        tasks._request_clicked(kid, 9)
    assert asked.args == ["event_loop"]
    stall = next(e for e in profile.blocking if e.task == ids["child"])
    assert doc.range == pytest.approx((stall.start, stall.start + stall.duration + max(stall.duration * 0.1, 0.01)))
    assert loop.selected_event() is stall  # the Event loop pane shows that stall's stack and blame
    assert ids["due"] in doc.highlighted_tasks


def test_document_highlighted_tasks_signal_only_on_change(qtbot, profile: Profile) -> None:  # type: ignore[no-untyped-def]
    doc = Document(profile)
    seen: list[object] = []
    doc.highlightedTasksChanged.connect(seen.append)
    doc.set_highlighted_tasks({1, 2})
    doc.set_highlighted_tasks(frozenset({2, 1}))  # the same set: no signal
    doc.set_highlighted_tasks(None)
    assert seen == [frozenset({1, 2}), frozenset()] and doc.highlighted_tasks == frozenset()
