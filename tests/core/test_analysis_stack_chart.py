"""Stack chart boxes: each thread's spans laid out under a name row, checked against hand-made samples."""

from __future__ import annotations

import pytest
from hand_profiles import work_idle_profile

from pyrometer.core.analysis.stack_chart import THREAD_ROW, stack_chart_boxes
from pyrometer.core.model import Profile


def _profile() -> Profile:
    """Thread 1: main>work for 5 samples then main>idle for 5 (10 ms each); thread 2: loop for 3 samples."""
    return work_idle_profile(half=5, loop=3, loop_start=0.001)


def _boxes_by_row(p: Profile, boxes) -> list[list[tuple[str, float, float]]]:  # type: ignore[no-untyped-def]
    out: list[list[tuple[str, float, float]]] = [[] for _ in range(boxes.rows)]
    for x, w, row, func in zip(boxes.x, boxes.width, boxes.row, boxes.func, strict=True):
        name = "<thread>" if func == THREAD_ROW else p.func_name[func]
        out[row].append((name, round(float(x), 4), round(float(x + w), 4)))
    return out


def test_each_thread_gets_a_name_row_and_its_stacks_over_time() -> None:
    p = _profile()
    boxes = stack_chart_boxes(p)
    assert [(b.name, b.first_row, b.depth) for b in boxes.bands] == [("MainThread", 0, 2), ("worker", 3, 1)]
    rows = _boxes_by_row(p, boxes)
    assert rows[1] == [("main", 0.0, 0.1)]
    assert sorted(rows[2]) == [("idle", 0.05, 0.1), ("work", 0.0, 0.05)]
    assert rows[4] == [("loop", 0.001, 0.031)]
    assert rows[0][0][0] == "<thread>" and rows[0][0][2] == pytest.approx(p.duration(), abs=1e-4)
    assert boxes.band_of_row(4).name == "worker"  # type: ignore[union-attr]


def test_thread_filter_and_playhead() -> None:
    p = _profile()
    only = stack_chart_boxes(p, threads=frozenset({2}))
    assert [b.name for b in only.bands] == ["worker"] and only.rows == 2
    early = stack_chart_boxes(p, t1=0.025)
    rows = _boxes_by_row(p, early)
    assert ("work", 0.0, 0.03) in rows[2] and all(name != "idle" for name, *_ in rows[2])
