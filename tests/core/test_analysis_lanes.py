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


def test_a_live_refresh_names_only_the_new_stalls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Live, stacks arrive with almost every batch; the blocking lane looked every stall's function up
    again each time (a day's thousands, ~35 ms a refresh at 1500). Names found stay; a stall whose
    stack had not arrived yet is named once it has."""
    from pyrometer.core.analysis import lanes as lanes_module
    from pyrometer.core.analysis.task_lanes import TaskLanes
    from pyrometer.core.model import BlockingEvent

    p = make_profile()
    cache = TaskLanes()
    f = p.intern_frame("later_fn", "later.py", 4)
    looked: list[float] = []
    real = lanes_module.blocking_function

    def counted(profile, event):  # type: ignore[no-untyped-def]
        looked.append(event.start)
        return real(profile, event)

    monkeypatch.setattr(lanes_module, "blocking_function", counted)
    p.blocking.append(BlockingEvent(start=1.2, duration=0.1, loop=0, thread=1, stack=len(p.stacks)))  # not yet known
    first = build_lanes(p, None, task_lanes=cache)
    assert sorted(looked) == [0.5, 1.2]
    p.intern_stack_path([f])  # the stall's stack arrives, and another stall
    p.blocking.append(BlockingEvent(start=1.6, duration=0.1, loop=0, thread=1, stack=0))
    looked.clear()
    again = build_lanes(p, None, task_lanes=cache)
    assert sorted(looked) == [1.2, 1.6]  # the 0.5 s stall kept its name
    names = {first.tip(i) for i in range(len(first.labels))} | {again.tip(i) for i in range(len(again.labels))}
    assert any("later_fn" in (t or "") for t in names)


def test_a_stall_going_on_at_the_playhead_is_shown_as_long_as_it_had_lasted_so_far() -> None:
    """As of a playhead inside a stall (0.5 s for 0.2 s), only 0.1 s of it had happened: its box ended
    at 0.7 s and its tooltip said 0.2 s. Its box ends at the playhead and its tooltip says "so far" (as the
    Event loop pane's list); the lag plot's marker keeps how long it blocked, as that pane's does."""
    from pyrometer.core import fmt

    p = make_profile()
    (stall,) = p.blocking
    for t1, shown, so_far in ((0.6, 0.1, True), (0.7 + 1e-9, 0.2, False), (None, 0.2, False)):
        lanes = build_lanes(p, t1)
        lane = lanes.kinds.index("blocking")
        (x,), (w,) = lanes.x[lane].tolist(), lanes.width[lane].tolist()
        assert x == stall.start and w == pytest.approx(shown)
        box = sum(len(a) for a in lanes.x[:lane])
        tip = lanes.tip(box) or ""
        assert f"loop blocked {fmt.seconds(shown)}" in tip and ("so far" in tip) == so_far
        assert lanes.stalls[1].tolist() == [stall.duration]
