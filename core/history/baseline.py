"""A profile made of a history's per-function averages, to compare a recording with "what is usual".

The history keeps aggregates only, so this profile has one flat stack per
function carrying its average self seconds: comparisons by function (self
time and share) are exact, but its call tree is flat and its total time per
function equals its self time.
"""

from __future__ import annotations

import numpy as np

from pyrometer.core.history.analysis import FunctionHistory
from pyrometer.core.model import Profile


def average_profile(functions: list[FunctionHistory], runs: int, unit: str = "seconds", measures: str | None = None) -> Profile:
    """`measures`: what every one of the runs measured (analysis.measures' kind), None when they differ or do not say."""
    profile = Profile(unit=unit, source_format="history")
    if measures is not None:
        profile.meta["measures"] = {"kind": measures, "basis": f"what the {runs} run{'s' * (runs != 1)} measured", "assumed": False}
    stacks = []
    weights = []
    for f in functions:
        if f.avg_s <= 0:
            continue
        frame = profile.intern_frame(f.name, f.file)
        stacks.append(profile.intern_stack_path([frame]))
        weights.append(f.avg_s)
    if stacks:
        profile.ensure_thread(0, "history average")
        n = len(stacks)
        profile.add_samples(np.zeros(n), np.zeros(n, np.int32), np.asarray(stacks, np.int32), weight=np.asarray(weights, np.float64))
    profile.meta.update({"history_average_of_runs": runs, "tree_flat": True})
    profile.finish()
    return profile
