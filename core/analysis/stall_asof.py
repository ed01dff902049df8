"""A stall as it was at a moment: one still going on then is shown with the time it had lasted so far.

The recording knows each stall's full duration, but at a replay's playhead
(or a `stats --to` range's end) inside a stall only part of it had happened,
and the agent had not even reported it yet: showing the whole 300 ms at
29 ms into it told the future. Every number of the list, the worst stall and
the counts over [0, t] use `duration_at` instead.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pyrometer.core.model import BlockingEvent, StallStep


def ongoing_at(ev: BlockingEvent, t: float | None) -> bool:
    """True when the stall began before `t` and had not ended by then (None: the end of the run)."""
    return t is not None and ev.start < t < ev.start + ev.duration


def duration_at(ev: BlockingEvent, t: float | None) -> float:
    """How long the stall had lasted at `t`: its duration, cut at `t` while it was still going on."""
    if t is None or not ongoing_at(ev, t):
        return ev.duration
    return min(ev.duration, t - ev.start)


def steps_at(steps: list[StallStep] | None, t: float | None) -> list[StallStep] | None:
    """The steps of a stall that had begun by `t`, each cut at `t`, longest first (None stays None)."""
    if steps is None or t is None:
        return steps
    out = [s if s.start + s.duration <= t else StallStep(s.start, t - s.start, s.task, s.name, s.stack)
           for s in steps if s.start < t]
    return sorted(out, key=lambda s: -s.duration)


def worst_at(starts: np.ndarray, durations: np.ndarray, t: float | None) -> float:
    """The longest stall among these (starts before `t`) as of `t`: those still going on count as far as they got."""
    if not len(durations):
        return 0.0
    if t is None:
        return float(durations.max())
    return float(np.minimum(durations, t - starts).max())


def event_at(ev: BlockingEvent, t: float | None) -> BlockingEvent:
    """The stall as it stood at `t`: still going on, its duration and steps cut there and whom it delayed
    unknown (the agent tells that when the stall ends); else the stall itself."""
    if not ongoing_at(ev, t):
        return ev
    return replace(ev, duration=duration_at(ev, t), steps=steps_at(ev.steps, t), delayed=None, delayed_unrecorded=None)
