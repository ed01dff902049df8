"""What the agent's task sampling left out, in numbers and in one sentence (stats, the Tasks pane).

A loop that created tasks faster than the agent can record each cheaply had
only about 1 in K of its new tasks recorded in full; the others were counted
exactly by coroutine (agent 0.2.2+, `Profile.task_sampling`). The counts are
the whole run's: the agent sends running totals, not a time series, so a
selected range still shows them for the whole run (and says so).

What it means elsewhere, said where it matters (`CAVEATS`):
- a recorded task whose parent was not recorded is a root of the task tree,
  marked "parent not recorded";
- a sample taken while an unrecorded task ran carries no task;
- a stall names the recorded tasks it delayed and only counts the others.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyrometer.core.model import Profile

CAVEATS = (
    "tasks whose parent was not recorded are roots of the tree (\"parent not recorded\"); "
    "samples taken while an unrecorded task ran carry no task; a stall names the recorded tasks it delayed and counts the others"
)


@dataclass(frozen=True)
class SamplingTotals:
    """Task counts over the whole run, summed over the loops that sampled."""

    made: int  # every task those loops' factories made (recorded + unrecorded)
    recorded: int  # recorded in full by the agent
    unrecorded: int  # counted only
    by_coroutine: list[tuple[str, int]]  # unrecorded tasks per coroutine, most first
    every: int  # the largest K of any sampling period (1 in K recorded)
    peak_rate: float  # the highest task-creation rate that started a period (tasks/s)
    periods: int
    loops: int
    still_sampling: bool  # a period was still open when the recording ended


def sampling_totals(profile: Profile) -> SamplingTotals | None:
    """None when no loop was sampled (every task was recorded, or an older recording)."""
    infos = [info for info in profile.task_sampling.values() if info.periods]
    if not infos:
        return None
    by_coro: dict[str, int] = {}
    for info in infos:
        for name, n in info.unrecorded.items():
            by_coro[name] = by_coro.get(name, 0) + n
    periods = [p for info in infos for p in info.periods]
    recorded = sum(info.recorded for info in infos)
    unrecorded = sum(by_coro.values())
    return SamplingTotals(
        made=recorded + unrecorded,
        recorded=recorded,
        unrecorded=unrecorded,
        by_coroutine=sorted(by_coro.items(), key=lambda kv: (-kv[1], kv[0])),
        every=max(p[2] for p in periods),
        peak_rate=max(p[3] for p in periods),
        periods=len(periods),
        loops=len(infos),
        still_sampling=any(info.periods[-1][1] is None for info in infos),
    )


def sampling_sentence(totals: SamplingTotals, top: int = 3) -> str:
    """'19,800 of 20,000 tasks not recorded one by one (sampled about 1 in 100 while the loop
    made 13,000 tasks/s): tiny 19,800'."""
    loops = "the loop" if totals.loops == 1 else f"{totals.loops} loops"
    rate = f" while {loops} made up to {totals.peak_rate:,.0f} tasks/s" if totals.peak_rate > 0 else ""
    names = ", ".join(f"{name} {n:,}" for name, n in totals.by_coroutine[:top])
    more = len(totals.by_coroutine) - top
    if more > 0:
        names += f", {more:,} more coroutine{'s' if more != 1 else ''}"
    return (
        f"{totals.unrecorded:,} of {totals.made:,} tasks not recorded one by one, only counted "
        f"(sampled about 1 in {totals.every:,}{rate}): {names}"
    )
