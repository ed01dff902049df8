"""cut_row: a task row's boxes cut by the tasks' running / delayed stretches, tiling each lifespan."""

from __future__ import annotations

import numpy as np

from pyrometer.core.analysis.lane_palette import T_DELAYED, T_DONE, T_FAILED, T_RUNNING
from pyrometer.core.analysis.task_states import WAITING_PIECE, cut_row
from pyrometer.core.model import TASK_DELAYED, TASK_RUNNING


def spans(rows: list[tuple[int, int, float, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rows = sorted(rows, key=lambda r: (r[0], r[2]))
    return (
        np.array([r[0] for r in rows], np.int64),
        np.array([r[1] for r in rows], np.int8),
        np.array([r[2] for r in rows]),
        np.array([r[3] for r in rows]),
    )


def test_boxes_are_cut_into_disjoint_pieces_that_tile_each_life() -> None:
    ids = np.array([7, 9, 11], np.int64)
    x, w = np.array([0.0, 1.0, 5.0]), np.array([4.0, 2.0, 1.0])
    color = np.array([T_DONE, T_FAILED, T_DONE], np.int32)
    sp = spans([
        (7, TASK_RUNNING, 0.0, 0.5),
        (7, TASK_DELAYED, 1.0, 1.5),
        (7, TASK_RUNNING, 1.5, 2.0),
        (9, TASK_DELAYED, 2.5, 9.0),  # runs past the box (replay): clipped to it
        (42, TASK_RUNNING, 0.0, 1.0),  # a task not in this row
    ])
    p = cut_row(ids, x, w, color, sp)
    assert p.cut
    got = [(int(o), float(a), float(a + b), int(c), int(s)) for o, a, b, c, s in zip(p.owner, p.x, p.w, p.color, p.state, strict=True)]
    assert got == [
        (0, 0.0, 0.5, T_RUNNING, TASK_RUNNING),
        (0, 0.5, 1.0, T_DONE, WAITING_PIECE),
        (0, 1.0, 1.5, T_DELAYED, TASK_DELAYED),
        (0, 1.5, 2.0, T_RUNNING, TASK_RUNNING),
        (0, 2.0, 4.0, T_DONE, WAITING_PIECE),
        (1, 1.0, 2.5, T_FAILED, WAITING_PIECE),  # waiting keeps the box's own colour (how it ended)
        (1, 2.5, 3.0, T_DELAYED, TASK_DELAYED),
        (2, 5.0, 6.0, T_DONE, WAITING_PIECE),  # no stretches: the box as it was
    ]


def test_no_spans_leaves_the_row_alone() -> None:
    ids = np.array([1], np.int64)
    p = cut_row(ids, np.array([0.0]), np.array([1e-9]), np.array([T_DONE], np.int32), spans([]))
    assert not p.cut and p.w.tolist() == [1e-9]
