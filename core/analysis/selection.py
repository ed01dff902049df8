"""Which samples an analysis looks at: a time range [t0, t1) and a thread filter.

Samples are time-sorted (Profile.finish / live appends), so a range is two
binary searches and the common case (no thread filter) is a slice: no copy.

A sample in seconds stands for a span of time, not an instant: the agent's
sample at t weighs the time since that thread's previous sample, so it covers
[t - weight, t] (up to 100 ms after the sampler's idle back-off); an imported
file lays its samples out from their time, [t, t + weight]. A range holds
only what lies in it: `clipped_samples` gives the samples that overlap the
range and their weights cut at its edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyrometer.core.model import UNIT_SECONDS, Profile


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


def samples_end_spans(profile: Profile) -> bool:
    """True when a sample's time ends the span its weight stands for (the agent's samples)."""
    return profile.samples_end_spans


def max_weight(profile: Profile) -> float:
    """The largest sample weight (how far a span reaches from its sample's time); extended as rows arrive."""
    n = len(profile.samples)
    weights = profile.samples["weight"]

    def make() -> tuple[int, float]:
        return n, float(weights[:n].max()) if n else 0.0

    def update(prev: tuple[int, float]) -> tuple[int, float]:
        done, value = prev
        if done > n:
            return make()
        return n, max(value, float(weights[done:n].max())) if done < n else value

    return profile.cached("max_weight", make, update, rows=True)[1]


def clips(profile: Profile, sel: Selection | None) -> bool:
    """True when the selection has a time edge that can cut sample spans (weights in seconds)."""
    return (
        sel is not None
        and (sel.t0 is not None or sel.t1 is not None)
        and profile.unit == UNIT_SECONDS
        and profile.has_time
        and len(profile.samples) > 0
    )


def whole_prefix(profile: Profile, t1: float) -> int:
    """How many leading samples lie wholly before t1 (a range from the start sums them unclipped)."""
    times = profile.samples["time"]
    if samples_end_spans(profile):
        return int(np.searchsorted(times, t1, side="right"))
    return int(np.searchsorted(times, t1 - max_weight(profile), side="right"))


def clipped_samples(
    profile: Profile, sel: Selection | None, skip: int = 0
) -> tuple[slice | np.ndarray, np.ndarray | None]:
    """(indices, weights) of the samples whose span overlaps the selection, weights clipped to it.

    Weights are None when nothing is clipped (no time edge, or weights that
    are counts): the indices are then `sample_indices` and the stored weights
    apply. Samples before index `skip` are left out (counted elsewhere).
    """
    if not clips(profile, sel):
        return sample_indices(profile, sel), None
    assert sel is not None
    lo, hi = overlap_window(profile, sel)
    rows, weights = clip_rows(profile, sel, max(lo, skip), hi)
    if sel.threads is not None:
        wanted = np.fromiter(sel.threads, np.int64, len(sel.threads))
        mine = np.isin(profile.samples["thread"][rows], wanted)
        rows, weights = rows[mine], weights[mine]
    return rows, weights


def overlap_window(profile: Profile, sel: Selection) -> tuple[int, int]:
    """Rows [lo, hi) of time-sorted samples that can overlap the selection's time range: their
    time lies within one sample span (`max_weight`) of it."""
    times = profile.samples["time"]
    reach = max_weight(profile)
    t0 = -np.inf if sel.t0 is None else sel.t0
    t1 = np.inf if sel.t1 is None else sel.t1
    if samples_end_spans(profile):
        return int(np.searchsorted(times, t0, side="right")), int(np.searchsorted(times, t1 + reach, side="left"))
    return int(np.searchsorted(times, t0 - reach, side="left")), int(np.searchsorted(times, t1, side="left"))


def clip_rows(profile: Profile, sel: Selection, r0: int, r1: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, weights) of samples r0..r1 that overlap the selection's time range, weights cut to it
    (a zero-weight sample, a point, belongs where its time is). Threads are not filtered here."""
    t0 = -np.inf if sel.t0 is None else sel.t0
    t1 = np.inf if sel.t1 is None else sel.t1
    r1 = max(r0, r1)
    t = profile.samples["time"][r0:r1]
    w = profile.samples["weight"][r0:r1].astype(np.float64)
    start, end = (t - w, t) if samples_end_spans(profile) else (t, t + w)
    inside = np.minimum(end, t1) - np.maximum(start, t0)
    keep = (inside > 0) | ((w == 0) & (t >= t0) & (t < t1))
    return np.flatnonzero(keep) + r0, np.clip(inside[keep], 0.0, None)


def selected_count(idx: slice | np.ndarray) -> int:
    """Number of samples an index from `sample_indices` selects."""
    if isinstance(idx, slice):
        return max(0, idx.stop - idx.start)
    return len(idx)
