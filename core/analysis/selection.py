"""Which samples an analysis looks at: a time range [t0, t1) and a thread filter.

Samples are time-sorted (Profile.finish / live appends), so a range is two
binary searches and the common case (no thread filter) is a slice: no copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyrometer.core.model import Profile


@dataclass(frozen=True)
class Selection:
    """A time range [t0, t1) (None = open end) and an optional set of thread ids."""

    t0: float | None = None
    t1: float | None = None
    threads: frozenset[int] | None = None


def time_slice(times: np.ndarray, t0: float | None, t1: float | None) -> slice:
    """Index range of sorted `times` that lies in [t0, t1)."""
    lo = 0 if t0 is None else int(np.searchsorted(times, t0, side="left"))
    hi = len(times) if t1 is None else int(np.searchsorted(times, t1, side="left"))
    return slice(lo, max(lo, hi))


def sample_indices(profile: Profile, sel: Selection | None = None) -> slice | np.ndarray:
    """Indices of the selected samples: a slice when no thread filter applies."""
    n = len(profile.samples)
    if sel is None:
        return slice(0, n)
    sl = time_slice(profile.samples["time"], sel.t0, sel.t1)
    if sel.threads is None:
        return sl
    threads = profile.samples["thread"][sl]
    wanted = np.fromiter(sel.threads, np.int64, len(sel.threads))
    mask = np.isin(threads, wanted)
    return np.flatnonzero(mask) + sl.start


def selected_count(idx: slice | np.ndarray) -> int:
    """Number of samples an index from `sample_indices` selects."""
    if isinstance(idx, slice):
        return max(0, idx.stop - idx.start)
    return len(idx)
