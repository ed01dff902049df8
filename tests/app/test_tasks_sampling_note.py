"""Tasks pane: what the agent's task sampling left unrecorded is said above the tree, in numbers
that add up to what the program created (a real sampled recording); nothing is said otherwise."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from agent_harness import run_agent_target
from PySide6 import QtCore
from sampled_stall import SAMPLED_STALL

from pyrometer.app.document import Document
from pyrometer.app.panes.event_loop import EventLoopPane
from pyrometer.app.panes.tasks import TasksPane
from pyrometer.core.model import Profile, TaskInfo

# 20 long-lived workers (made before any task is recorded) each make one leaf after another
TARGET = """
import asyncio, json, time

made = {"worker": 0, "leaf": 0}
running = [True]

async def leaf(i):
    return i

async def worker():
    while running[0]:
        made["leaf"] += 1
        await asyncio.create_task(leaf(0))

async def main():
    made["worker"] += 20
    workers = [asyncio.create_task(worker()) for _ in range(20)]
    await asyncio.sleep(0.4)
    running[0] = False
    await asyncio.gather(*workers)

session = start(task_sampling_rate=0)  # sampled from the first task
asyncio.run(main())
session.stop(exit_status=0)
print("MADE", json.dumps(made))
"""


def test_sampled_recording_says_how_many_tasks_were_not_recorded(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    p, out, _ = run_agent_target(sys.executable, TARGET, tmp_path)
    made = json.loads(out.split("MADE", 1)[1])
    recorded = {c: sum(1 for t in p.tasks.values() if t.coro == c) for c in made}
    pane = TasksPane(Document(p))
    qtbot.addWidget(pane)
    pane.show()
    pane.refresh()
    note = pane.sampling_note
    assert note.isVisible()
    text = note.text()
    (info,) = p.task_sampling.values()
    unrecorded = info.unrecorded_total
    assert text.startswith(f"{unrecorded:,} of {info.recorded + unrecorded:,} tasks not recorded one by one"), text
    # the per-coroutine figures in the line are the program's own counts less the recorded tasks
    assert f"leaf {made['leaf'] - recorded['leaf']:,}" in text, (text, made, recorded)
    assert "about 1 in 100" in text and "(whole run)" in text
    assert "parent was not recorded" in note.toolTip() and "--every-task" in note.toolTip()
    # a recorded leaf of an unrecorded worker says so where the tree shows it
    orphan = next(t for t in p.tasks.values() if t.parent_unrecorded)
    index = pane.model.index_of_task(orphan.id)
    assert index.isValid()
    assert "parent not recorded" in index.data(QtCore.Qt.ItemDataRole.ToolTipRole)


def test_no_note_when_every_task_was_recorded(qtbot) -> None:  # type: ignore[no-untyped-def]
    p = Profile()
    p.tasks[1] = TaskInfo(1, None, "main", "main", created=0.0, ended=1.0, state="done")
    p.end = {"t": 1.0}
    pane = TasksPane(Document(p))
    qtbot.addWidget(pane)
    pane.show()
    pane.refresh()
    assert not pane.sampling_note.isVisible()


def test_event_loop_pane_counts_the_unrecorded_tasks_a_stall_delayed(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    p, _, _ = run_agent_target(sys.executable, SAMPLED_STALL, tmp_path)
    pane = EventLoopPane(Document(p))
    qtbot.addWidget(pane)
    pane.refresh()
    stall = next(i for i, e in enumerate(pane.events) if e.duration >= 0.2)
    pane.select_event(stall)
    n = pane.events[stall].delayed_unrecorded
    assert n
    assert f"  + {n:,} task{'s' if n != 1 else ''} not recorded one by one" in pane.blame_lines()
