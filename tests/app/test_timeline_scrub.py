"""Timeline pane under a moving replay playhead: one lay-out per move, the task rows at once, cells that answer right.

Each playhead made TaskLanes pack every task up to it again on a worker, and the worker's rows came with a
second full lay-out of the timeline (issue 15: two lay-outs a scrub, the rows late). Now the rows at a playhead
are the session's packing cut at it (task_rows_at), drawn in the refresh the move asked for; sub-pixel task
boxes are cells that stand for their first box (lane_cells): a click on one selects that task's span.
"""

from __future__ import annotations

import numpy as np
import pytest
from qt_windows import show_pane
from timeline_profile import make_profile

from pyrometer.app.document import Document
from pyrometer.app.panes.timeline import TimelinePane
from pyrometer.core.analysis import task_lanes
from pyrometer.core.analysis.task_lanes import TaskPacker
from pyrometer.core.model import Profile, TaskInfo


def _with_tasks(n: int) -> Profile:
    """The timeline's test profile with n short tasks all over it (every ninth never ends)."""
    p = make_profile()
    rng = np.random.default_rng(3)
    end = p.duration()
    for i, (t0, dt) in enumerate(zip(rng.uniform(0, end, n).tolist(), rng.uniform(0, end / 3000, n).tolist(), strict=True)):
        tid = 1000 + i
        p.tasks[tid] = TaskInfo(tid, None, f"job-{i}", "work()", 0, t0, t0 + dt if i % 9 else None, "done" if i % 9 else "pending")
    return p


def test_a_moved_playhead_lays_the_timeline_out_once_with_its_task_rows(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(task_lanes, "BACKGROUND_TASKS", 50)
    p = _with_tasks(3000)
    pane = show_pane(qtbot, TimelinePane(Document(p)), 1000, 420)
    assert pane._task_lanes.packing  # the session's packing: on a worker, once
    qtbot.waitUntil(lambda: not pane._task_lanes.packing, timeout=10_000)
    refreshes: list[float | None] = []
    original = pane.refresh
    pane.refresh = lambda: (refreshes.append(pane.doc.playhead), original())[1]  # type: ignore[method-assign]
    end = p.duration()
    clicked = 0
    for t1 in (0.5 * end, 0.2 * end, 0.9 * end, 0.01 * end):
        refreshes.clear()
        pane.doc.set_playhead(t1)
        pane.refresh()  # what the window does for a visible pane when the document changed
        qtbot.wait(60)  # a worker's "rows packed" would come now and lay the pane out a second time
        assert refreshes == [t1] and not pane._task_lanes.packing and "placing them" not in pane.info.text()
        want = TaskPacker(pane._task_rows, t1)
        want.rebuild(p, t1)
        drawn = {int(t) for _first, tasks in pane.lanes.task_boxes for t in tasks.tolist()}
        placed = {tid for r in want.rows for tid in r.ids}
        assert drawn <= placed and len(drawn) > 0.5 * len(placed)  # (cells show the first task of a pixel)
        # a click on a task box selects the span of the task box it stands for
        for first, tasks in pane.lanes.task_boxes:
            for i in range(0, len(tasks), 7):
                box, tk = first + i, p.tasks[int(tasks[i])]
                pane._box_clicked(box)
                a, b = pane.doc.range  # type: ignore[misc]
                ended = tk.ended is not None and tk.ended <= t1
                assert a == tk.created and b == pytest.approx(tk.ended if ended else max(t1, a + task_lanes.MIN_W), abs=1e-9)
                clicked += 1
    assert clicked > 10
