"""Tasks pane after per-task accounting switched itself off mid-run (a loop stepping too fast to time).

A real asyncio program: `early` holds the loop 60 ms while accounting runs, then 200
tasks yield as fast as the loop can step, so the agent turns accounting off; `main`
then holds the loop 120 ms more. Tasks finishing after that have unknown figures
(`stats --json`: null); the pane must show them as unknown ("–", with the reason),
never figures made of the stretches recorded before the switch-off.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from PySide6 import QtCore

from pyrometer.app.document import Document
from pyrometer.app.panes.tasks import COLUMNS, COST_COLUMNS, TasksPane
from pyrometer.core import fmt
from pyrometer.core.analysis.task_costs import accounting_stopped_at, task_costs
from pyrometer.core.formats.recording import read_recording
from pyrometer.core.model import Profile

TARGET = """
import asyncio, json, sys, time
truth = {}

async def early():
    w = time.perf_counter()
    time.sleep(0.06)                       # holds the loop while accounting still runs
    truth["early.held"] = time.perf_counter() - w
    await asyncio.sleep(0.01)

async def yielder():
    while True:
        await asyncio.sleep(0)             # one tiny step after another: too many to time

async def main():
    await asyncio.create_task(early(), name="early")
    ys = [asyncio.create_task(yielder(), name=f"y{i}") for i in range(200)]
    await asyncio.sleep(0.3)
    w = time.perf_counter()
    time.sleep(0.12)                       # main holds the loop after the switch-off
    truth["main.held"] = time.perf_counter() - w
    for y in ys:
        y.cancel()
    await asyncio.gather(*ys, return_exceptions=True)

asyncio.run(main())
with open(sys.argv[1], "w") as f:
    json.dump(truth, f)
"""
COST_KEYS = ("cpu_s", "running_s", "waiting_s", "delayed_s")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Profile, dict[str, Any], dict[str, Any]]:
    d = tmp_path_factory.mktemp("accounting_off")
    script, out, truth = d / "prog.py", d / "x.pyro", d / "truth.json"
    script.write_text(TARGET)
    rec = subprocess.run(
        [sys.executable, "-m", "pyrometer", "record", "--no-history", "-o", str(out), "--", str(script), str(truth)],
        capture_output=True, text=True, timeout=60,
    )
    assert rec.returncode == 0, rec.stderr
    stats = subprocess.run(
        [sys.executable, "-m", "pyrometer", "stats", "--json", str(out)], capture_output=True, text=True, timeout=60
    )
    assert stats.returncode == 0, stats.stderr
    profile, report = read_recording(out)
    assert report.clean, report.problems
    return profile, json.loads(stats.stdout), json.loads(truth.read_text())


@pytest.fixture
def pane(qtbot, recorded: tuple[Profile, dict[str, Any], dict[str, Any]]) -> TasksPane:  # type: ignore[no-untyped-def]
    pane = TasksPane(Document(recorded[0]))
    qtbot.addWidget(pane)
    pane.resize(1200, 400)
    pane.show()
    pane.refresh()
    return pane


def rows_by_name(pane: TasksPane) -> dict[str, QtCore.QModelIndex]:
    model, out = pane.model, {}
    todo = [QtCore.QModelIndex()]
    while todo:
        parent = todo.pop()
        for r in range(model.rowCount(parent)):
            idx = model.index(r, 0, parent)
            out[idx.data()] = idx
            todo.append(idx)
    return out


def test_the_recording_switched_accounting_off(recorded: tuple[Profile, dict[str, Any], dict[str, Any]]) -> None:
    profile, stats, truth = recorded
    stopped = accounting_stopped_at(profile)
    assert stopped is not None, stats["notices"]
    by_name = {t["name"]: t for t in stats["tasks"]["list"]}
    # early finished while accounting ran: known, and its 60 ms hold is there
    assert by_name["early"]["running_s"] == pytest.approx(truth["early.held"], rel=0.1, abs=0.005)
    assert by_name["Task-1"]["running_s"] is None  # main finished after the switch-off


def test_pane_shows_unknown_where_stats_says_unknown(
    pane: TasksPane, recorded: tuple[Profile, dict[str, Any], dict[str, Any]]
) -> None:
    _, stats, _ = recorded
    rows = rows_by_name(pane)
    listed = {t["name"]: t for t in stats["tasks"]["list"]}
    assert set(rows) == set(listed)
    unknown = 0
    for name, idx in rows.items():
        for col, key in zip(COST_COLUMNS, COST_KEYS, strict=True):
            cell = idx.siblingAtColumn(col)
            value = listed[name][key]
            if value is None:
                unknown += 1
                assert cell.data() == "–", (name, COLUMNS[col], cell.data())
                assert "turned itself off" in cell.data(QtCore.Qt.ItemDataRole.ToolTipRole)
            else:
                assert cell.data() == fmt.seconds(value), (name, COLUMNS[col])
    assert unknown >= 4 * 201  # main and every yielder
    assert rows["Task-1"].siblingAtColumn(COST_COLUMNS[1]).data() == "–"  # not the stretches before the switch-off


def test_a_window_before_the_switch_off_is_still_measured(recorded: tuple[Profile, dict[str, Any], dict[str, Any]]) -> None:
    profile, _, _ = recorded
    at = accounting_stopped_at(profile)
    assert at is not None
    main = next(t.id for t in profile.tasks.values() if t.name == "Task-1")
    before = task_costs(profile, None, at[0])[main]  # the stretches cover this window whole
    assert before.running_s is not None and before.partial
    assert task_costs(profile, None, at[0] + 0.01)[main].running_s is None


@pytest.mark.parametrize("order", [QtCore.Qt.SortOrder.AscendingOrder, QtCore.Qt.SortOrder.DescendingOrder])
def test_sorting_keeps_unknowns_last(pane: TasksPane, order: QtCore.Qt.SortOrder) -> None:
    pane.model.sort(COST_COLUMNS[1], order)
    top = pane.model.index(0, 0)
    kids = [pane.model.index(r, COST_COLUMNS[1], top).data() for r in range(pane.model.rowCount(top))]
    assert kids[0] != "–" and kids[-1] == "–"
    first_unknown = kids.index("–")
    assert all(k == "–" for k in kids[first_unknown:])
