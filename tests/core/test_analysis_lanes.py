"""Timeline lanes without Qt: activity runs per thread, the blocking lane, packed task rows and overflow."""

from __future__ import annotations

import numpy as np
import pytest
from timeline_profile import make_profile

from pyrometer.core.analysis.lane_palette import T_OVERFLOW
from pyrometer.core.analysis.lanes import activity_segments, build_lanes
from pyrometer.core.model import TaskInfo


def test_activity_segments_merge_runs() -> None:
    p = make_profile()
    x, w, on = activity_segments(p, 1, None)
    assert on.tolist() == [2, 0]  # on CPU, then waiting (cpu_level)
    assert x.tolist() == pytest.approx([0.0, 1.0])
    assert w.tolist() == pytest.approx([1.0, 1.0])
    x, w, on = activity_segments(p, 2, 1.0)  # up to the playhead
    assert on.tolist() == [2] and x[0] + w[0] == pytest.approx(1.0)


def test_tasks_that_do_not_fit_are_summarised() -> None:
    p = make_profile()
    for i in range(10, 20):  # ten overlapping tasks in 1.0–1.5 s
        p.tasks[i] = TaskInfo(i, 1, f"burst-{i}", "burst()", created=1.0 + i * 0.001, ended=1.5, state="done")
    lanes = build_lanes(p, None, max_task_rows=3)
    x, w, _row, color = lanes.arrays()
    over = np.flatnonzero(color == T_OVERFLOW)
    # rows: main | fetch, burst-10 | burst-11; burst-12..19 do not fit
    assert lanes.hidden_tasks == 8
    assert len(over) == 1  # one merged span
    assert x[over[0]] == pytest.approx(1.0 + 12 * 0.001, abs=0.01) and x[over[0]] + w[over[0]] == pytest.approx(1.5)
    assert lanes.labels[over[0]] == f"+{lanes.hidden_tasks}"
    assert f"{lanes.hidden_tasks} more tasks" in (lanes.tip(int(over[0])) or "")
