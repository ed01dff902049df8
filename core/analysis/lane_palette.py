"""The timeline's colours, once: index constants shared by the lane builders and the RGB each stands for.

Boxes carry a colour index (small palettes let the flame item fill with one
drawRects per colour); the pane turns `LANE_COLORS` into brushes.
"""

from __future__ import annotations

ON_CPU, WAITING, BLOCKING, T_PENDING, T_DONE, T_CANCELLED, T_FAILED, T_OVERFLOW, T_RUNNING, T_DELAYED = range(10)
LANE_COLORS: tuple[tuple[int, int, int], ...] = (
    (58, 166, 87),  # on CPU
    (201, 211, 223),  # waiting / off CPU
    (214, 48, 39),  # loop blocked
    (86, 140, 214),  # task pending
    (150, 190, 150),  # task done
    (232, 160, 60),  # task cancelled
    (220, 80, 80),  # task failed
    (175, 175, 175),  # tasks that did not fit in the rows
    (20, 95, 50),  # a task's step running (holding the loop)
    (160, 50, 190),  # a task delayed: ready to run, the loop busy elsewhere
)
TASK_COLOR = {"pending": T_PENDING, "done": T_DONE, "cancelled": T_CANCELLED, "failed": T_FAILED}
STATE_OF_COLOR = {c: s for s, c in TASK_COLOR.items()}
