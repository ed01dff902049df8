"""The "By task" toggle of the flame graph and call tree: one Document state, both panes follow.

On a real recording (tests/helpers/by_task_workload.py, recorded once with `pyrometer record`):
the button and the Ctrl+T shortcut switch both panes, the boxes and rows of each request hold
that request's time (the same sums as `task_totals`), a replay playhead limits them, a task box
selects no function, and the action is disabled (with a reason) until some sample ran in a task.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from by_task_workload import REQUESTS, record_by_task_workload
from PySide6 import QtCore
from qt_windows import show_pane

from pyrometer.app.document import Document
from pyrometer.app.flame_colors import FAMILIES, SHADES
from pyrometer.app.panes.base import NO_TASKS_TIP
from pyrometer.app.panes.call_tree import CallTreePane
from pyrometer.app.panes.flame import FlamePane
from pyrometer.core.analysis.calltree import call_tree
from pyrometer.core.analysis.task_stacks import TASK_FILE
from pyrometer.core.analysis.task_totals import task_totals
from pyrometer.core.formats.recording import read_recording
from pyrometer.core.model import Profile, TaskInfo


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    return record_by_task_workload(tmp_path_factory.mktemp("by_task_window"))


@pytest.fixture
def panes(qtbot: Any, recording: tuple[Path, dict[str, Any]]) -> tuple[Document, FlamePane, CallTreePane]:
    profile, _ = read_recording(recording[0])
    doc = Document(profile, recording[0])
    flame = show_pane(qtbot, FlamePane(doc), 1000, 420)
    tree = show_pane(qtbot, CallTreePane(doc), 700, 500)
    return doc, flame, tree


def flame_widths(pane: FlamePane) -> dict[str, float]:
    """Label -> summed width of its boxes."""
    names = pane._profile.func_name  # type: ignore[union-attr]
    out: dict[str, float] = {}
    assert pane.layout_ is not None
    for box, func in enumerate(pane._box_func.tolist()):
        out[names[func]] = out.get(names[func], 0.0) + float(pane.layout_.width[box])
    return out


def tree_rows(pane: CallTreePane) -> dict[str, float]:
    """Label -> total of the call tree's rows with that label (every node, expanded or not)."""
    tree = pane.model.tree
    assert tree is not None
    profile = pane.doc.tree_profile()
    out: dict[str, float] = {}
    for node in range(1, tree.node_count):
        name = profile.func_name[int(tree.func[node])]
        out[name] = out.get(name, 0.0) + float(tree.total_weight[node])
    return out


def test_the_button_and_the_shortcut_switch_both_panes(qtbot: Any, panes: tuple[Document, FlamePane, CallTreePane]) -> None:
    doc, flame, tree = panes
    assert flame.by_task_action.isEnabled() and tree.by_task_action.isEnabled()
    assert not any(n.startswith("<task") for n in flame_widths(flame))
    plain_total = flame.layout_.total  # type: ignore[union-attr]

    qtbot.mouseClick(flame.by_task_button, QtCore.Qt.MouseButton.LeftButton)
    assert doc.by_task and flame.by_task_action.isChecked() and tree.by_task_action.isChecked()
    flame.refresh()
    tree.refresh()
    rows = {r.link.label: r.total for r in task_totals(doc.profile)[0]}
    widths, totals = flame_widths(flame), tree_rows(tree)
    for i in range(REQUESTS):
        label = f"<task request-{i}>"
        assert widths[label] == pytest.approx(rows[label], rel=1e-6)
        assert totals[label] == pytest.approx(rows[label], rel=1e-6)
    assert "<task shared (2 awaiters: first, second)>" in widths
    assert flame.layout_.total == pytest.approx(plain_total, rel=1e-9)  # type: ignore[union-attr]
    assert "asyncio task" in flame.legend.text()
    # task boxes have the task family's colours, real code keeps its own
    task_family = [k for k, *_ in FAMILIES].index("task")
    colors = flame._colors_for_boxes() // SHADES
    names = flame._profile.func_name  # type: ignore[union-attr]
    kinds = {names[f]: int(c) for f, c in zip(flame._box_func.tolist(), colors.tolist(), strict=True)}
    assert kinds["<task request-0>"] == task_family and kinds["burn"] == [k for k, *_ in FAMILIES].index("user")

    # Ctrl+T where the call tree has focus switches it back, for both panes
    tree.activateWindow()
    tree.view.setFocus()
    qtbot.waitUntil(lambda: tree.view.hasFocus())
    qtbot.keyClick(tree.view, QtCore.Qt.Key.Key_T, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert not doc.by_task and not flame.by_task_action.isChecked()
    flame.refresh()
    tree.refresh()
    assert not any(n.startswith("<task") for n in flame_widths(flame))
    assert not any(n.startswith("<task") for n in tree_rows(tree))


def test_a_replay_playhead_limits_the_task_boxes(panes: tuple[Document, FlamePane, CallTreePane]) -> None:
    doc, flame, _ = panes
    p = doc.profile
    shared = next(t for t in p.tasks.values() if t.name == "shared")
    assert shared.created is not None
    doc.set_by_task(True)
    # before the shared task ran: a sample stands for the time since its thread's previous one, so
    # one sample after the task's creation may reach back up to the longest sample weight
    doc.set_playhead(shared.created - float(p.samples["weight"].max()) - 1e-3)
    flame.refresh()
    widths = flame_widths(flame)
    assert not any(n.startswith("<task shared") for n in widths)
    assert any(n.startswith("<task request-") for n in widths)
    sel = doc.selection()
    assert flame.layout_.total == pytest.approx(call_tree(p, sel).total, rel=1e-9)  # type: ignore[union-attr]
    doc.set_playhead(None)
    flame.refresh()
    assert any(n.startswith("<task shared") for n in flame_widths(flame))


def test_a_task_box_selects_no_function(qtbot: Any, panes: tuple[Document, FlamePane, CallTreePane]) -> None:
    doc, flame, _ = panes
    doc.set_by_task(True)
    flame.refresh()
    names = flame._profile.func_name  # type: ignore[union-attr]
    task_box = next(b for b, f in enumerate(flame._box_func.tolist()) if names[f] == "<task request-1>")
    real_box = next(b for b, f in enumerate(flame._box_func.tolist()) if names[f] == "burn")
    flame._box_clicked(real_box)
    burn = doc.selected_function
    assert doc.profile.func_name[burn] == "burn"  # a real function keeps its id in the by-task view
    flame._box_clicked(task_box)
    assert doc.selected_function == burn
    assert "asyncio task [" in flame.tooltip(task_box)


def test_disabled_with_a_reason_until_a_sample_ran_in_a_task(qtbot: Any) -> None:
    """A live session: no task yet, then its first task samples arrive."""
    p = Profile()
    work = p.intern_frame("work", "/app.py", 5, 4)
    stack = p.intern_stack_path([work])
    p.add_samples(np.array([0.01]), np.zeros(1, np.int32), np.array([stack], np.int32), weight=0.01)
    doc = Document(p, is_live=True)
    flame = show_pane(qtbot, FlamePane(doc), 600, 300)
    tree = show_pane(qtbot, CallTreePane(doc), 600, 300)
    for pane in (flame, tree):
        assert not pane.by_task_action.isEnabled()
        assert pane.by_task_action.toolTip() == NO_TASKS_TIP
    p.tasks[0] = TaskInfo(0, None, "handler", "handler", created=0.02)
    p.add_samples(np.array([0.02, 0.03]), np.zeros(2, np.int32), np.array([stack, stack], np.int32), task=np.array([0, 0]), weight=0.01)
    doc.model_grew()
    flame.refresh()
    tree.refresh()
    assert flame.by_task_action.isEnabled() and tree.by_task_action.isEnabled()
    assert "Ctrl+T" in flame.by_task_action.toolTip()
    flame.by_task_action.trigger()
    flame.refresh()
    assert flame_widths(flame)["<task handler>"] == pytest.approx(0.02)
    assert flame_widths(flame)["work"] == pytest.approx(0.03)


LIVE_PROGRAM = """
import asyncio, os, sys, time

def burn(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass

async def request(i):
    burn(0.02)
    await asyncio.sleep(0.001)

async def server(release):
    i = 0
    deadline = time.perf_counter() + 60        # a safety net only: the test ends it
    while not os.path.exists(release) and time.perf_counter() < deadline:
        await asyncio.create_task(request(i), name="request-%d" % i)
        i += 1

async def main():
    await asyncio.create_task(server(sys.argv[1]), name="server")

asyncio.run(main())
"""


def test_a_live_session_shows_its_requests_by_task_as_they_arrive(qtbot: Any, qapp: Any, tmp_path: Path) -> None:
    from qt_windows import open_window, private_settings

    private_settings(tmp_path)
    win = open_window(qtbot, 1366, 768)
    script, release = tmp_path / "live_server.py", tmp_path / "release"
    script.write_text(LIVE_PROGRAM)
    try:
        view = win.launch([str(script), str(release)])
        assert view is not None, win.errors
        flame = view.pane("flame_graph")
        assert isinstance(flame, FlamePane)
        qtbot.waitUntil(lambda: flame.by_task_action.isEnabled(), timeout=30000)  # the first task samples
        flame.by_task_action.trigger()

        def requests_shown() -> set[str]:
            view.refresh_visible(force=True)
            return {n for n in flame_widths(flame) if n.startswith("<task request-")}

        qtbot.waitUntil(lambda: len(requests_shown()) >= 2, timeout=30000)
        first = requests_shown()
        qtbot.waitUntil(lambda: bool(requests_shown() - first), timeout=30000)  # new requests keep coming in
        assert view.doc.profile is not flame._profile  # the panes show the by-task view of the live profile
        assert flame.layout_.total == pytest.approx(call_tree(view.doc.profile, view.doc.selection()).total, rel=1e-9)  # type: ignore[union-attr]
    finally:
        release.write_text("")
        for s in list(win.live_sessions):
            s.shutdown()


def test_difference_colours_by_task_compare_the_function_paths(panes: Any, recording: tuple[Path, dict[str, Any]]) -> None:
    """Compared with itself, by task: no call path is new or changed (the <task> boxes, which no
    baseline has, are left out of the paths and not compared), and a task box's tooltip claims nothing."""
    doc, flame, _tree = panes
    doc.set_baseline(read_recording(recording[0])[0], "same.pyro")
    doc.set_by_task(True)
    flame.refresh()
    d = flame._path_diff
    assert d is not None and flame.tree is not None and flame._profile is not None
    nodes = np.arange(1, flame.tree.node_count)
    task_node = np.array([flame._profile.func_file[int(f)] == TASK_FILE for f in flame.tree.func[nodes]])
    assert task_node.any() and (~task_node).any()
    assert not d.compared[nodes[task_node]].any()
    assert d.compared[nodes[~task_node]].all() and not d.is_new[nodes].any()
    assert np.abs(d.delta[nodes]).max() < 1e-9
    box = int(flame._node_box[nodes[task_node][0]])
    assert "call path" not in flame.tooltip(box) and "points" not in flame.tooltip(box)
