"""Who held the loop during a stall, step by step: the words every view uses to name the blockers.

One loop iteration can run several blocking steps (two handlers of 0.3 s each);
the agent then lists each step with its own seconds (BlockingEvent.steps,
longest first). The Event loop pane, `stats`, the HTML report and the Tasks
pane name the blockers through these functions, so they say the same thing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from pyrometer.core import fmt
from pyrometer.core.model import BlockingEvent, StallStep


def several_steps(event: BlockingEvent) -> list[StallStep]:
    """The stall's listed steps when there are two or more (one step is the blocker the event
    already names; none or unknown: an older recording, or accounting was off)."""
    steps = event.steps or []
    return list(steps) if len(steps) >= 2 else []


def steps_text(steps: list[StallStep], limit: int = 3) -> str:
    """`A [1] 300.1 ms, B [2] 200.0 ms` (longest first; `+N more` past `limit`)."""
    ranked = sorted(steps, key=lambda s: -s.duration)
    text = ", ".join(f"{s.label()} {fmt.seconds(s.duration)}" for s in ranked[:limit])
    return text + (f" (+{len(ranked) - limit} more)" if len(ranked) > limit else "")


def steps_during_wait(event: BlockingEvent, task: int, delay: float) -> list[tuple[StallStep, float]]:
    """The steps that held the loop while task `task`, which the stall delayed by `delay`, waited,
    each with the seconds of that wait it took (longest first).

    A delayed task waited `delay` up to the stall's end, or, when it ran a step of its own in the
    stall, up to that step's start; a step outside that wait did not delay it.
    """
    own = [s.start for s in event.steps or () if s.task == task and task >= 0]
    end = min(own) if own else event.start + event.duration
    since = end - delay
    out = []
    for step in event.steps or ():
        share = min(end, step.start + step.duration) - max(since, step.start)
        if share > 0:
            out.append((step, share))
    out.sort(key=lambda row: -row[1])
    return out


def delayed_by_text(event: BlockingEvent, task: int, delay: float) -> str | None:
    """Who made task `task`, which the stall delayed by `delay`, wait, when the stall ran several
    blocking steps: the steps during its wait with their share of it (`A [1] 250.0 ms, B [2] 200.0 ms`),
    or the one step that ran then; None when the stall lists fewer than two steps or none ran then."""
    if not several_steps(event):
        return None
    shares = steps_during_wait(event, task, delay)
    if len(shares) == 1:
        return shares[0][0].label()
    return ", ".join(f"{step.label()} {fmt.seconds(share)}" for step, share in shares[:3]) or None


def steps_restacked(steps: list[StallStep] | None, stack_of: Callable[[StallStep], int]) -> list[StallStep] | None:
    """`steps` with each stack replaced by `stack_of(step)` (a derived view maps its events' stacks
    into its own table: the steps' too)."""
    return None if steps is None else [dataclasses.replace(step, stack=int(stack_of(step))) for step in steps]
