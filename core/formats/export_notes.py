"""What an export cannot say: one line each, for `convert` to print on stderr.

Some target formats have no way to write "unknown". pstats and callgrind have
call counts; a sampled profile has none, so the pstats exporter writes 0 (pstats
then prints no per-call times; our reader says "unknown") and the callgrind one
each function's sample count. Collapsed stacks hold integer counts: sample
counts only where every sample stands for the same time, else microseconds (a
recording's weighted samples, call statistics, trace events). The file cannot
say so itself, so `convert` does (and the guide).

A sample with no stack (py-spy's for a thread it saw outside Python) counts in
the source's total; pstats, callgrind and Chrome traces have no row or event
for it, so their total is smaller by that much: `convert` says by how much.
"""

from __future__ import annotations

import numpy as np

from pyrometer.core import fmt
from pyrometer.core.formats.collapsed import counts_unit, tick_seconds
from pyrometer.core.model import Profile

DROPS_STACKLESS = ("pstats", "callgrind", "chrome_trace")  # per-function or per-call outputs: no place for a bare sample


def export_notes(profile: Profile, exporter: str) -> list[str]:
    notes = []
    no_calls = profile.func_stats is None or not len(profile.func_stats.func)
    unknown_calls = not no_calls and bool(profile.meta.get("calls_unknown"))  # a pstats file of ours, read back
    if exporter == "pstats" and ((no_calls and len(profile.samples)) or unknown_calls):
        notes.append(
            "the source has no call counts: the pstats file's call counts are 0 (pstats prints no per-call "
            "times for them; pyrometer reads them back as unknown)"
        )
    elif exporter == "callgrind" and unknown_calls:
        notes.append("the source has no call counts: the callgrind file's call counts are 0 (callgrind cannot say 'unknown')")
    elif exporter == "callgrind" and no_calls and len(profile.samples):
        notes.append(
            f"the source has no call counts: the {exporter} file's call counts are sample counts "
            f"({exporter} cannot say 'unknown')"
        )
    if exporter in DROPS_STACKLESS:
        note = _stackless_note(profile, exporter)
        if note:
            notes.append(note)
    unit = counts_unit(profile) if exporter == "collapsed" else ""
    if unit == "microseconds":
        notes.append("the source has no samples: the collapsed counts are microseconds of time, not samples (shares are exact)")
    elif unit == "ticks":
        tick = tick_seconds(profile)
        notes.append(
            f"its samples stand for different lengths of time: each collapsed count is {tick * 1e3:.3g} ms of sampled "
            "time (a sample at the recording's rate), so shares stay true to half a count per stack"
        )
    return notes


def _stackless_note(profile: Profile, exporter: str) -> str | None:
    """How much of the total is in samples with no stack, which `exporter` cannot write."""
    n = profile.sample_count
    if not n:
        return None
    stack = np.asarray(profile.samples["stack"][:n])
    empty = stack < 0
    count = int(empty.sum())
    if not count:
        return None
    weight = np.asarray(profile.samples["weight"][:n], dtype=np.float64)
    lost, total = float(weight[empty].sum()), float(weight.sum())
    share = f", {lost / total:.1%} of the total" if total > 0 else ""
    return (
        f"{count:,} samples ({fmt.weight(lost, profile.unit, fixed=True)} {'s' if profile.unit == 'seconds' else profile.unit}{share}) "
        f"have no stack (the thread was outside Python): the {exporter} file has no place for them, so its total is that much smaller"
    )
