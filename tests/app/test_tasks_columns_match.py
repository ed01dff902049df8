"""The column-backed Tasks pane shows what the row-per-task pane before it showed (issue 15).

A real asyncio program (nested tasks that finish, fail, get cancelled or are
still pending at the end) is recorded by `pyrometer record`; the pane's module
as it was before the rewrite is loaded from git, and for the whole run, a
playhead, a range, state and text filters and every sort column, both panes'
rows, counts and every displayed cell must be the same.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from PySide6 import QtCore

from pyrometer.app.panes.tasks import COLUMNS, ROLE_TASK_ID, TaskTreeModel, build_rows
from pyrometer.core.analysis.task_table import task_view
from pyrometer.core.formats.recording import read_recording
from pyrometer.core.model import Profile

ROOT = Path(__file__).resolve().parents[2]
BEFORE = "c619f7d"  # main before the Tasks pane moved to columns

PROGRAM = """
import asyncio, sys, time

def spin(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass

async def leaf(i):
    await asyncio.sleep(0.002 * (i % 4))
    spin(0.001)
    if i % 7 == 3:
        raise ValueError(f"bad {i}")
    return i

async def handler(r):
    kids = [asyncio.create_task(leaf(r * 10 + i), name=f"leaf-{r}-{i}") for i in range(6)]
    await asyncio.gather(*kids, return_exceptions=True)
    if r % 5 == 4:
        time.sleep(0.03)

async def forever():
    await asyncio.sleep(3600)

async def main():
    stuck = [asyncio.create_task(forever(), name=f"stuck-{i}") for i in range(3)]
    doomed = asyncio.create_task(forever(), name="doomed")
    for r in range(25):
        await asyncio.create_task(handler(r), name=f"handler-{r}")
    doomed.cancel()
    await asyncio.sleep(0.01)
    sys.stdout.flush()
    # leave `stuck` pending: the recording ends with them alive

loop = asyncio.new_event_loop()
loop.run_until_complete(main())
"""


def _before_module(tmp: Path) -> types.ModuleType:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("no git checkout: the pane before the rewrite cannot be loaded")
    res = subprocess.run(["git", "-C", str(ROOT), "show", f"{BEFORE}:app/panes/tasks.py"], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"commit {BEFORE} is not in this clone (shallow?): {res.stderr.strip()}")
    path = tmp / "tasks_before.py"
    path.write_text(res.stdout)
    spec = importlib.util.spec_from_file_location("tasks_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Profile, types.ModuleType]:
    tmp = tmp_path_factory.mktemp("tasks")
    script, out = tmp / "prog.py", tmp / "prog.pyro"
    script.write_text(PROGRAM)
    res = subprocess.run([sys.executable, "-m", "pyrometer", "record", "--no-history", "-o", str(out), "--", str(script)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    profile, _ = read_recording(out)
    profile.finish()
    states = {t.state for t in profile.tasks.values()}
    assert {"done", "failed", "cancelled", "pending"} <= states, states
    assert len(profile.tasks) > 150 and len(profile.task_spans) > 0
    return profile, _before_module(tmp)


def _cases(profile: Profile) -> list[dict[str, Any]]:
    # times inside the handlers' run as the recording saw it (not shares of its duration: at load 10
    # the interpreter's start-up alone took 40% of the run, and no handler was pending at 40% of it)
    handlers = [t for t in profile.tasks.values() if t.name.startswith("handler-")]
    assert handlers and all(t.created is not None and t.ended is not None for t in handlers)
    start = min(float(t.created) for t in handlers if t.created is not None)
    span = max(float(t.ended) for t in handlers if t.ended is not None) - start
    every = frozenset({"pending", "done", "cancelled", "failed"})
    return [
        {"t": None, "states": every},
        {"t": start + span * 0.5, "states": every},
        {"t": start + span * 0.6, "since": start + span * 0.3, "states": every},
        {"t": None, "states": frozenset({"failed"})},
        {"t": None, "states": every, "text": "LEAF-1"},
        {"t": start + span * 0.4, "states": frozenset({"pending"}), "text": "handler"},
    ]


def _walk(model: Any) -> list[tuple[Any, ...]]:
    """Every row in display order: (depth, cells of every column for the roles the view reads)."""
    roles = (QtCore.Qt.ItemDataRole.DisplayRole, QtCore.Qt.ItemDataRole.ToolTipRole,
             QtCore.Qt.ItemDataRole.TextAlignmentRole, ROLE_TASK_ID)
    out: list[tuple[Any, ...]] = []

    def visit(parent: QtCore.QModelIndex, depth: int) -> None:
        while model.canFetchMore(parent):
            model.fetchMore(parent)
        for r in range(model.rowCount(parent)):
            idx = model.index(r, 0, parent)
            cells = []
            for c in range(len(COLUMNS)):
                cell = model.index(r, c, parent)
                cells.extend(cell.data(role) for role in roles)
                brush = cell.data(QtCore.Qt.ItemDataRole.ForegroundRole)
                cells.append(None if brush is None else brush.color().name())
            out.append((depth, *cells))
            visit(idx, depth + 1)

    visit(QtCore.QModelIndex(), 0)
    return out


def test_rows_and_counts_are_the_ones_before(recorded: tuple[Profile, types.ModuleType]) -> None:
    profile, before = recorded
    for case in _cases(profile):
        old_rows, old_children, old_counts = before.build_rows(profile, **case)
        rows, children, counts = build_rows(profile, **case)
        assert counts == old_counts, case
        assert children == old_children, case
        assert len(rows) == len(old_rows) > 0, case
        for new, old in zip(rows, old_rows, strict=True):
            assert {f: getattr(new, f) for f in new.__dataclass_fields__} == {f: getattr(old, f) for f in old.__dataclass_fields__}, case


@pytest.mark.parametrize("column", [-1, *range(len(COLUMNS))])
def test_every_cell_is_the_one_before_in_every_sort_order(
    qtbot: Any, recorded: tuple[Profile, types.ModuleType], column: int
) -> None:
    profile, before = recorded
    for case in _cases(profile)[:3]:
        old = before.TaskTreeModel()
        rows, children, _ = before.build_rows(profile, **case)
        old.set_rows(rows, children)
        new = TaskTreeModel()
        new.set_view(task_view(profile, **case), profile)
        for order in (QtCore.Qt.SortOrder.AscendingOrder, QtCore.Qt.SortOrder.DescendingOrder):
            old.sort(column, order)
            new.sort(column, order)
            assert _walk(new) == _walk(old), (case, column, order)
