"""The timeline's colours, once: index constants shared by the lane builders and the RGB each stands for.

Boxes carry a colour index (small palettes let the flame item fill with one
drawRects per colour); the pane turns `LANE_COLORS` into brushes.
"""

from __future__ import annotations

import numpy as np

from pyrometer.core.analysis.cpu_level import ON_LEVEL, PARTLY_LEVEL, WAITING_LEVEL

ON_CPU, WAITING, BLOCKING, T_PENDING, T_DONE, T_CANCELLED, T_FAILED, T_OVERFLOW, T_RUNNING, T_DELAYED, PARTLY_CPU, ACTIVE = range(12)
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
    (172, 214, 120),  # partly on CPU (e.g. sharing the GIL with another thread)
    (120, 150, 175),  # sampled, no CPU reading in the file (a trace, py-spy's output): on or off CPU unknown
)
# a thread box's colour by its CPU level (cpu_level: WAITING_LEVEL, PARTLY_LEVEL, ON_LEVEL), and back
LEVEL_COLOR = np.array([WAITING, PARTLY_CPU, ON_CPU], np.int32)
LEVEL_OF_COLOR = {WAITING: WAITING_LEVEL, PARTLY_CPU: PARTLY_LEVEL, ON_CPU: ON_LEVEL}
THREAD_LEGEND = ((ON_CPU, "on CPU"), (PARTLY_CPU, "partly on CPU"), (WAITING, "waiting"), (ACTIVE, "active"))  # (the legend's tooltip says: CPU not recorded)
ACTIVE_NAME = "active (the file records no CPU time: on or off CPU is unknown)"  # an ACTIVE box's tooltip


def thread_colors(levels: np.ndarray, cpu_recorded: bool) -> np.ndarray:
    """A thread lane's box colours: by CPU level where the profile has CPU readings; else all ACTIVE
    (a VizTracer trace's or py-spy's samples were drawn "on CPU", which nothing in the file says)."""
    return LEVEL_COLOR[levels] if cpu_recorded else np.full(len(levels), ACTIVE, np.int32)
TASK_COLOR = {"pending": T_PENDING, "done": T_DONE, "cancelled": T_CANCELLED, "failed": T_FAILED}
STATE_OF_COLOR = {c: s for s, c in TASK_COLOR.items()}

# the task bars' colours, in the legend's order: a task's steps, then the rest of its life by how it ended
_TASK_LEGEND = (
    (T_RUNNING, "running"),
    (T_DELAYED, "delayed"),
    (T_PENDING, "pending"),
    (T_DONE, "done"),
    (T_CANCELLED, "cancelled"),
    (T_FAILED, "failed"),
)


def thread_legend_html(drawn: set[int] | None = None) -> str:
    """The timeline header's key to the thread lanes' colours (on CPU, partly, waiting): those in
    `drawn` (colour indices in view; None = the three levels). Empty when none of them is drawn, so a
    legend never names a state no stretch is in ("partly on CPU" with every thread fully on or off)."""
    parts = []
    for index, text in THREAD_LEGEND:
        if index not in (drawn if drawn is not None else LEVEL_COLOR.tolist()):
            continue
        r, g, b = LANE_COLORS[index]
        parts.append(f"<span style='color:rgb({r},{g},{b})'>■</span>&nbsp;{text}")
    return "&nbsp;·&nbsp; threads: " + " ".join(parts) if parts else ""


def task_legend_html(drawn: set[int], hidden: int = 0) -> str:
    """The timeline header's key to the task bars: one swatch per colour drawn (`drawn`: colour
    indices), and the grey row that sums up the `hidden` tasks that got no row of their own."""

    def swatch(index: int, text: str) -> str:
        r, g, b = LANE_COLORS[index]
        return f"<span style='color:rgb({r},{g},{b})'>■</span>&nbsp;{text}"

    steps = [swatch(c, name) for c, name in _TASK_LEGEND[:2] if c in drawn]
    ended = [swatch(c, name) for c, name in _TASK_LEGEND[2:] if c in drawn]
    parts = []
    if steps:
        parts.append(" ".join(steps))
    if ended:
        parts.append(("waiting: " if steps else "") + " ".join(ended))
    if hidden and T_OVERFLOW in drawn:
        parts.append(swatch(T_OVERFLOW, f"{hidden:,} more (last row)"))
    return "&nbsp;·&nbsp; tasks: " + " &nbsp;·&nbsp; ".join(parts) if parts else ""
