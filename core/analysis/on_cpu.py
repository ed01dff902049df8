"""An "on-CPU only" view of a profile: samples where the thread was running, not waiting.

Wall-clock sampling charges a sleeping thread's stack (`Condition.wait`,
`select`) as much as a busy one, which buries the hot code of a service that
mostly waits. This derives a Profile that shares every table of the source
except the samples, keeping those whose CPU time covers at least half their
wall weight (unknown CPU counts as on-CPU, as the timeline does). Pure numpy,
no Qt; the derived object is reused while the source grows so analysis caches
keyed on it stay warm.
"""

from __future__ import annotations

import numpy as np

from pyrometer.core.columns import ColumnTable
from pyrometer.core.model import SAMPLE_DTYPES, Profile

ON_CPU_FRACTION = 0.5


def has_cpu_info(profile: Profile) -> bool:
    """Whether any sample carries a CPU-time measurement (otherwise the filter means nothing)."""
    cpu = profile.samples["cpu"]
    return bool(len(cpu)) and bool((cpu >= 0).any())


def on_cpu_mask(profile: Profile) -> np.ndarray:
    cpu = profile.samples["cpu"]
    weight = profile.samples["weight"]
    return (cpu < 0) | (cpu >= ON_CPU_FRACTION * weight)


class OnCpuView:
    """Caches the derived on-CPU profile of one source profile."""

    def __init__(self) -> None:
        self._source: Profile | None = None
        self._view: Profile | None = None
        self._key: tuple[int, int] = (-1, -1)

    def get(self, source: Profile) -> Profile:
        if self._source is not source or self._view is None:
            self._source = source
            self._view = _share_tables(source)
            self._key = (-1, -1)
        key = (source.generation, len(source.samples))
        if key != self._key:
            keep = on_cpu_mask(source)
            src = source.samples
            table = ColumnTable(SAMPLE_DTYPES, capacity=max(16, int(keep.sum())))
            table.extend(**{name: src[name][keep] for name in SAMPLE_DTYPES})
            self._view.samples = table
            self._view._samples_sorted = source._samples_sorted
            self._view.generation += 1
            self._key = key
        return self._view


def _share_tables(source: Profile) -> Profile:
    view = Profile(unit=source.unit, source_format=source.source_format)
    view.meta = source.meta
    view.func_name, view.func_file, view.func_line = source.func_name, source.func_file, source.func_line
    view._func_index = source._func_index
    view.frames = source.frames
    view._frame_index = source._frame_index
    view.stacks = source.stacks
    view._stack_index = None  # never interned by hand in a derived view
    view.lag = source.lag
    view.awaits = source.awaits
    view.threads = source.threads
    view.loops = source.loops
    view.blocking = source.blocking
    view.tasks = source.tasks
    view.func_stats = None  # exact call statistics describe all time, not the on-CPU part
    view.telemetry = source.telemetry
    view.notices = source.notices
    view.output = source.output
    view.end = source.end
    return view
