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

`read_columns` then reads only what the index left out (samples, lag probes,
task spans, await snapshots, console output) into a profile that shares the
preview's shell: a day of tasks and stacks is decoded and held once, not twice.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from pathlib import Path

from pyrometer.core.agent import wire
from pyrometer.core.analysis import lod
from pyrometer.core.analysis.lod import ActivityIndex, LagIndex
from pyrometer.core.formats.recording import RecordingReader, apply_message
from pyrometer.core.formats.recording_index import IndexedSamples, RecordingIndex, load_index
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
    profile, tasks = _shell(index)
    index.shell = b""  # applied: let the index frame's bytes go once the sums are copied out
    index.arrays = {name: arr.copy() for name, arr in index.arrays.items()}
    sums = PreviewSums(index, profile)
    sums.task_frames = tasks
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


_TASK_KINDS = (wire.TASKS_NEW, wire.TASKS_END)


class PreviewSums(IndexedSamples):
    """The index's sums standing for a preview's samples, and the task batches it has not applied yet."""

    def __init__(self, index: RecordingIndex, profile: Profile) -> None:
        super().__init__(index, profile)
        self.task_frames: list[tuple[int, bytes]] = []


def _shell(index: RecordingIndex) -> tuple[Profile, list[tuple[int, bytes]]]:
    """The index's shell as a profile, but for its task batches when nothing of the first frame needs them
    (sampled, no call statistics): half a million tasks are seconds of decoding, done after the first frame
    (`apply_tasks`). Function ids are those of a full read."""
    profile = Profile()
    for name, file, firstline in index.functions:
        profile.intern_function(str(name), str(file), int(firstline))
    buf = memoryview(index.shell)
    later: list[tuple[int, bytes]] = []
    pos = 0
    while pos + wire.FRAME_HEADER_SIZE <= len(buf):
        length, kind, _flags, _crc = wire.FRAME_HEADER.unpack_from(buf, pos)
        start = pos + wire.FRAME_HEADER_SIZE
        if kind in _TASK_KINDS:
            later.append((kind, bytes(buf[start : start + length])))
        else:
            apply_message(profile, kind, buf[start : start + length])
        pos = start + length
    if profile.func_stats is not None:  # the function table's wall time per task call needs them now
        for kind, payload in later:
            apply_message(profile, kind, memoryview(payload))
        later = []
    return profile, later


def apply_tasks(preview: Profile) -> None:
    """Decode the preview's deferred task batches (off the GUI thread) and put them in place at once."""
    sums = preview.summed
    if not isinstance(sums, PreviewSums) or not sums.task_frames:
        return
    holder = Profile()
    collecting = gc.isenabled()
    gc.disable()  # half a million new objects set off full collections of every object: 0.1-0.15 s GUI stalls each
    try:
        for kind, payload in sums.task_frames:
            apply_message(holder, kind, memoryview(payload))
    finally:
        if collecting:
            gc.enable()
    sums.task_frames = []
    preview.task_log = holder.task_log
    preview.tasks = holder.tasks  # one assignment: a reader on the GUI thread sees all of them or none


def tasks_pending(profile: Profile) -> bool:
    """Whether a preview's tasks are still to be decoded (its task count is not known yet)."""
    sums = profile.summed
    return isinstance(sums, PreviewSums) and bool(sums.task_frames)


# messages whose content the index's shell holds: a read behind a preview skips them (recording_index.shell_frames)
SHELL_KINDS = frozenset({
    wire.META, wire.FRAMES, wire.STACKS, wire.THREADS, wire.LOOPS, wire.BLOCKING, wire.TASKS_CREATED,
    wire.TASKS_FINISHED, wire.TASKS_NEW, wire.TASKS_END, wire.FUNC_STATS, wire.TELEMETRY, wire.END, wire.NOTICE,
})
_SHARED = ("unit", "source_format", "meta", "func_name", "func_file", "func_line", "_func_index", "frames",
           "_frame_index", "stacks", "threads", "loops", "blocking", "tasks", "task_log", "func_stats", "telemetry",
           "notices", "end")


def read_columns(
    path: str | os.PathLike[str], preview: Profile, progress: Callable[[float], None] | None = None
) -> Profile:
    """The full profile of a previewed recording: the preview's shell (shared, not copied) plus the rows
    the index left out, read from the file. Raises RecordingError like read_recording."""
    sums = preview.summed
    if not isinstance(sums, PreviewSums):
        raise ValueError("not a preview made by open_preview")
    apply_tasks(preview)
    profile = Profile()
    for name in _SHARED:
        setattr(profile, name, getattr(preview, name))
    profile._stack_index = None
    reader = RecordingReader(path, profile)
    reader.skip_kinds = SHELL_KINDS
    reader.expected_rows = (sums.index.samples, sums.index.lag, sums.index.spans)
    reader.spill = True
    reader.poll(progress=progress)
    report = reader.finish()
    _adopt_summaries(preview, profile)
    if report.problems:  # the index said what its pass dropped; say what this one did, once
        note = {"level": "warning", "message": f"{path}: " + "; ".join(report.problems)}
        if note not in profile.notices:
            profile.notices.append(note)
    return profile


def _adopt_summaries(preview: Profile, profile: Profile) -> None:
    """Give the full profile the preview's timeline summaries when they describe exactly its rows (they are what
    computing them again gives: tested), instead of a second pass over every sample (1-5 s, ~50 MB of temporaries)."""
    summed = preview.summed
    if summed is None or not summed.overview or not profile.samples_sorted:
        return
    activity, lag = lod.activity_index(preview), lod.lag_index(preview)
    samples, probes = profile.samples, profile.lag
    if activity.n == len(samples) and len(samples):
        activity.check = (float(samples["time"][-1]), int(samples["thread"][-1]))
        profile.cached("activity_index", lambda: activity, rows=True)
    if lag.n == len(probes) and len(probes):
        lag.check = (float(probes["time"][-1]), float(probes["lag"][-1]))
        profile.cached("lag_index", lambda: lag)
