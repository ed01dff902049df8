"""A huge recording's first frame from its index, before any sample is read (issue 15).

Reading every sample of a day-long recording takes seconds per GB. Its index
(recording_index) already holds everything but the samples and, per (thread,
stack), their counts and summed weights: enough for the flame graph, the call
tree and the function tables of the whole session, per thread or all threads,
with the same numbers a full read gives. `open_preview` makes that profile:
the shell (functions, stacks, threads, blocking events, tasks...) with
`Profile.summed` answering for the samples. A window shows it at once and
swaps in the fully read profile when its columns are loaded; what needs the
rows themselves (a time range, the stack chart, source lines) waits for that.
"""

from __future__ import annotations

import os
from pathlib import Path

from pyrometer.core.agent import wire
from pyrometer.core.analysis.lod import ActivityIndex, LagIndex
from pyrometer.core.formats.recording_index import IndexedSamples, load_index
from pyrometer.core.model import Profile

# below this many samples a full read takes well under a second: a preview would only flash
MIN_SAMPLES = 2_000_000


def is_recording(path: str | os.PathLike[str]) -> bool:
    """Whether the file starts like a `.pyro` recording (by content, as the registry sniffs)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(wire.MAGIC)) == wire.MAGIC
    except OSError:
        return False


def open_preview(path: str | os.PathLike[str], min_samples: int | None = None) -> Profile | None:
    """The recording's profile with its samples as the index's sums (`Profile.summed`), or None when
    there is no index to read (never built: the full read is no slower than building one), the samples
    are out of time order (a full read sorts them), or there are fewer than `min_samples`."""
    if not is_recording(path):
        return None
    index = load_index(path, build=False)
    least = MIN_SAMPLES if min_samples is None else min_samples
    if index is None or not index.time_sorted or index.samples < max(1, least):
        return None
    profile = index.shell_profile()
    index.shell = b""  # applied: let the index frame's bytes go once the sums are copied out
    index.arrays = {name: arr.copy() for name, arr in index.arrays.items()}
    sums = IndexedSamples(index, profile)
    for tid in sorted(sums.thread_counts()):  # as a full read's finish(): every sampled thread has a row
        profile.ensure_thread(tid)
    profile.notices.extend(sums.notices(str(Path(path))))
    profile.summed = sums
    profile.generation += 1
    if index.overview:  # the timeline's and lag curve's per-pixel summaries, as a full read computes them
        activity = ActivityIndex.from_arrays(index.overview["activity"], index.arrays)
        lag = LagIndex.from_arrays(index.overview["lag"], index.arrays)
        profile.cached("activity_index", lambda: activity)
        profile.cached("lag_index", lambda: lag)
    index.arrays = {name: arr for name, arr in index.arrays.items() if name.startswith(("pair_", "chunk_"))}
    return profile
