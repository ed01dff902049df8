"""The Tasks pane and the timeline count the program's tasks, not asyncio.run's own shutdown steps.

A real recording (the agent in a target that makes 5 tasks, then asyncio.run's shutdown makes 3:
shutdown_asyncgens, the task closing an async generator left open, shutdown_default_executor).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent_harness import interpreter, run_agent_target
from PySide6 import QtWidgets
from qt_windows import show_pane

from pyrometer.app.document import Document
from pyrometer.app.panes.tasks import TasksPane
from pyrometer.app.panes.timeline import TimelinePane

TARGET = """
import asyncio

async def ticks():
    try:
        while True:
            yield 1
    finally:
        await asyncio.sleep(0)

async def worker(i):
    await asyncio.sleep(0.002 * i)

KEEP = []

async def main():
    gen = ticks()
    await gen.__anext__()
    KEEP.append(gen)  # closed by asyncio.run's shutdown_asyncgens, in a task of its own
    await asyncio.gather(*(asyncio.create_task(worker(i)) for i in range(4)))

session = start()
asyncio.run(main())
session.stop()
"""


def test_panes_count_the_programs_tasks(qtbot: Any, tmp_path: Path) -> None:
    p, _, _ = run_agent_target(interpreter("current"), TARGET, tmp_path)
    assert len(p.tasks) == 8  # main, 4 workers; asyncio.run's 3
    doc = Document(p)
    tasks = show_pane(qtbot, TasksPane(doc), 900, 400)
    assert tasks.summary.text().startswith("5 tasks (+3 asyncio.run made for its shutdown)"), tasks.summary.text()
    assert tasks.filter_buttons["done"].text() == "done (5)"  # the program's; the tree still lists all 8
    assert sum(tasks.counts.values()) == 8
    timeline = show_pane(qtbot, TimelinePane(doc), 1000, 400)
    QtWidgets.QApplication.processEvents()
    assert "5 tasks" in timeline.info.text(), timeline.info.text()
