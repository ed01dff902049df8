"""An "on-CPU only" view of a profile: samples where the thread was running, not waiting.

Wall-clock sampling charges a sleeping thread's stack (`Condition.wait`,
`select`) as much as a busy one, which buries the hot code of a service that
mostly waits. This derives a Profile (`Profile.derive`) that shares every
table of the source except the samples, keeping those whose CPU time covers
at least half their wall weight (unknown CPU counts as on-CPU, as the
timeline does). The view is kept in the source's analysis cache and reused
while the source grows, so analysis caches kept on the view stay warm.
"""

from __future__ import annotations

import numpy as np

from pyrometer.core.columns import ColumnTable
from pyrometer.core.model import SAMPLE_DTYPES, Profile

ON_CPU_FRACTION = 0.5


def has_cpu_info(profile: Profile) -> bool:
    """Whether any sample carries a CPU-time measurement (otherwise the filter means nothing, and the
    timeline cannot tell on CPU from waiting). Kept on the profile: a growing one looks only at the rows
    added since it last said no (a trace's samples, none with a reading, were scanned at every refresh)."""
    seen: list[int] = profile.cached("has_cpu_info", lambda: [0, 0], rows=True)  # [rows looked at, any reading]
    n = len(profile.samples)
    if seen[0] > n:  # the rows were replaced by fewer
        seen[:] = [0, 0]
    if not seen[1] and seen[0] < n:
        cpu = profile.samples["cpu"]
        step = 1 << 16  # in steps, stopping at the first known one: no 30 MB flag array for a day of samples
        seen[1] = int(any(bool((cpu[at : at + step] >= 0).any()) for at in range(seen[0], n, step)))
    seen[0] = n
    return bool(seen[1])


def on_cpu_mask(profile: Profile) -> np.ndarray:
    cpu = profile.samples["cpu"]
    weight = profile.samples["weight"]
    return (cpu < 0) | (cpu >= ON_CPU_FRACTION * weight)


def on_cpu_view(source: Profile) -> Profile:
    """The source's on-CPU samples over all its other tables (cached on the source)."""

    def refilter(view: Profile) -> Profile:
        keep = on_cpu_mask(source)
        src = source.samples
        table = ColumnTable(src.dtypes, capacity=max(16, int(keep.sum())))
        table.extend(**{name: src[name][keep] for name in SAMPLE_DTYPES})
        view.set_samples(table, source.samples_sorted)
        return view

    return source.cached("on_cpu", lambda: refilter(source.derive(func_stats=False)), refilter)
