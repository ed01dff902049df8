"""On-CPU time of a sampled profile: what its samples' CPU readings add up to, in all, per thread, per stack.

The agent reads each thread's CPU clock (CLOCK_THREAD_CPUTIME_ID, the clock
`time.thread_time` reads inside that thread) at every sample and stores the
CPU time the thread spent over the sample's span. Self/total of a sampled
profile are wall time; these sums are the CPU time beside them. Samples
whose CPU is unknown (negative: a format without it, a thread's first
reading) are left out and counted, so a figure never pretends to be whole.
A sample cut by a time range keeps the same share of its CPU as of its span.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyrometer.core.analysis.selection import Selection, clipped_samples
from pyrometer.core.model import UNIT_SECONDS, Profile

CLOCK_NAME = "thread CPU clock (CLOCK_THREAD_CPUTIME_ID, as time.thread_time)"


@dataclass
class CpuTime:
    """CPU seconds of the selected samples whose CPU is known."""

    total_s: float
    per_thread: dict[int, float]  # thread id -> CPU seconds
    per_stack: np.ndarray  # float64 CPU seconds per stack id shifted by one (0 = the empty stack)
    count_per_stack: np.ndarray  # int64 samples with a known CPU per stack (shifted likewise)
    known: int  # samples with a CPU reading
    unknown: int  # samples without one (left out of every sum)


STEP = 1 << 20  # rows per step of a pass over a whole profile's samples (temporaries of ~8 MB per column, not 8 bytes per row)


def has_cpu_times(profile: Profile) -> bool:
    """A sampled profile in seconds whose readings measured some CPU time (e.g. a Pyrometer recording).

    Some, not any: a recording's index sums the readings per (thread, stack), where no reading at
    all and readings of zero look alike; a run that never used the CPU has nothing to show either."""
    if profile.unit != UNIT_SECONDS or not len(profile.samples) or profile.meta.get("deterministic"):
        return False
    cpu = profile.samples["cpu"]
    return any(bool((cpu[at : at + STEP] > 0).any()) for at in range(0, len(cpu), STEP))  # most stop at the first step


def cpu_time(profile: Profile, sel: Selection | None = None, step: int = STEP) -> CpuTime | None:
    """The selection's CPU time, or None when the profile carries no CPU readings.

    A run of rows (no clipping: the whole profile, a thread's) is summed `step` rows at a time and its
    rows of a spilled column are let go after each step: over a day's 30M samples one pass made
    ~750 MB of temporaries (the live window's run-history aggregate at the end peaked at 2.2x its recording).
    """
    if not has_cpu_times(profile):
        return None
    rows, clipped = clipped_samples(profile, sel)
    n = len(profile.stacks) + 1
    if clipped is None and isinstance(rows, slice):
        lo, hi, stride = rows.indices(len(profile.samples))
        if stride == 1 and hi - lo > step:
            total: CpuTime | None = None
            for at in range(lo, hi, step):
                part = _cpu_of_rows(profile, slice(at, min(hi, at + step)), None, n)
                total = part if total is None else _add(total, part)
                profile.samples.release(at, min(hi, at + step))  # a spilled column's rows go back to its file
            assert total is not None
            return total
    return _cpu_of_rows(profile, rows, clipped, n)


def _add(out: CpuTime, part: CpuTime) -> CpuTime:
    """`out` (made by `_cpu_of_rows`, owned here) with the sums of the rows that follow it added in."""
    out.total_s += part.total_s
    for tid, value in part.per_thread.items():
        out.per_thread[tid] = out.per_thread.get(tid, 0.0) + value
    out.per_stack += part.per_stack
    out.count_per_stack += part.count_per_stack
    out.known += part.known
    out.unknown += part.unknown
    return out


def _cpu_of_rows(profile: Profile, rows: slice | np.ndarray, clipped: np.ndarray | None, n: int) -> CpuTime:
    s = profile.samples
    cpu = s["cpu"][rows].astype(np.float64)
    known = cpu >= 0
    if clipped is not None:  # a sample cut by the range keeps its CPU in proportion to the span kept
        weight = s["weight"][rows].astype(np.float64)
        cpu = np.where(weight > 0, cpu * np.clip(clipped / np.maximum(weight, 1e-300), 0.0, 1.0), cpu)
    cpu = np.where(known, cpu, 0.0)
    threads = s["thread"][rows]
    stacks = s["stack"][rows].astype(np.int64) + 1
    per_stack = np.bincount(stacks, weights=cpu, minlength=n)
    count = np.bincount(stacks[known], minlength=n).astype(np.int64)
    per_thread: dict[int, float] = {}
    if len(threads):
        low, high = int(threads.min()), int(threads.max())
        if high - low < 1 << 16:
            # thread ids are a few small integers: a bin each, summed in row order as the unique-based way
            # did to the last bit, without sorting every sample (2.4 s and a 240 MB inverse at 30M samples)
            offset = threads - np.int32(low) if low else threads
            sums = np.bincount(offset, weights=cpu, minlength=high - low + 1)
            ids = np.flatnonzero(np.bincount(offset, minlength=high - low + 1))
            per_thread = dict(zip((ids + low).tolist(), sums[ids].tolist(), strict=True))
        else:
            ids, inverse = np.unique(threads, return_inverse=True)
            sums = np.bincount(inverse, weights=cpu)
            per_thread = dict(zip(ids.tolist(), sums.tolist(), strict=True))
    k = int(known.sum())
    return CpuTime(float(cpu.sum()), per_thread, per_stack, count, k, len(cpu) - k)
