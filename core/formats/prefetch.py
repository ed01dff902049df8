"""Read profile files off the GUI thread, in two steps, from before Qt is even imported (Qt-free).

An `Opening` first makes a recording's preview from its index (a huge
recording's first frame without reading a sample), then reads the whole file
and builds the analysis caches. `pyrometer open` starts one per file before
importing Qt, so reading overlaps building the window; the FileLoader for the
same path picks it up instead of starting again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from pyrometer.core.formats.registry import FormatError, ProgressFn, load_profile
from pyrometer.core.model import Profile


def load_and_warm(path: Path, progress: ProgressFn | None = None) -> Profile:
    """Load a file and build the analysis caches every pane needs first (call tree, function table).

    Runs off the GUI thread, so the first refresh of the panes is cheap.
    """
    return warm(load_profile(path, progress))


def read_detail(path: Path, preview: Profile, progress: ProgressFn | None = None) -> Profile:
    """The full profile of a recording shown from its index (`preview`): the rows the index left out,
    read into a profile sharing the preview's shell (index_preview.read_columns), caches built."""
    from pyrometer.core.formats.index_preview import read_columns
    from pyrometer.core.formats.recording import RecordingError

    try:
        return warm(read_columns(path, preview, progress))
    except RecordingError as exc:
        raise FormatError(str(exc)) from exc


def warm(profile: Profile) -> Profile:
    """Build the analysis caches every pane needs first (call tree, function table, per-pixel summaries).

    Each step that reads every row is followed by letting spilled columns go (columns.release_rows):
    a huge recording's rows then pass through memory one step at a time, never all at once.
    """
    from pyrometer.core.analysis.aggregate import warm_whole_sums
    from pyrometer.core.analysis.calltree import call_tree
    from pyrometer.core.analysis.functions import function_table
    from pyrometer.core.analysis.lod import activity_index, lag_index
    from pyrometer.core.analysis.loop import PREFIX_FROM, lag_prefix, lag_stats
    from pyrometer.core.analysis.probe_rows import probe_time_ranges
    from pyrometer.core.analysis.selection import max_weight
    from pyrometer.core.analysis.task_stacks import has_tasks

    steps: list[Callable[[Profile], object]] = [call_tree, function_table]
    if profile.samples_sorted:  # in steps: the window stays responsive while a huge file warms
        steps.insert(0, warm_whole_sums)
        steps += [activity_index, lag_index]  # the timeline's and stack chart's per-pixel summaries
    steps += [
        max_weight,  # every weight (a range's edges need the largest): here, not on the GUI thread
        has_tasks,  # every task id (the panes' "by task" button asks)
        Profile.duration,  # the latest lag probe, kept
    ]
    if len(profile.lag):
        steps.append(lag_stats)  # the event loop pane's figures of every probe (a second at 30M samples)
    if len(profile.lag) >= PREFIX_FROM:
        steps.append(lag_prefix)  # a replay's [0, playhead] figures at each frame (2.2 s to build at 7.5M probes)
        steps.append(probe_time_ranges)  # where a replay's playhead falls among probes out of time order (~20 ms)
    if profile.tasks:  # a day's 150k tasks: 0.05 s and 0.3-0.5 s of the timeline's and Tasks pane's first refresh
        from pyrometer.core.analysis.asyncio_own import profile_asyncio_own
        from pyrometer.core.analysis.task_table import task_columns

        steps += [profile_asyncio_own, lambda p: task_columns(p).parent_rows()]  # (the columns as arrays, too)
    for step in steps:
        try:
            step(profile)
        except Exception:  # warming is an optimisation; the panes report real errors themselves
            pass
        profile.samples.release()
        profile.lag.release()
    return profile


class Cancelled(Exception):
    """Raised from an opening's progress callback once it was cancelled: unwinds the importer."""


RESUME_WAIT_S = 30.0  # an opening whose preview nobody draws reads on after this long anyway


class Opening:
    """A file read in two steps on a thread of its own: its preview, then all of it.

    `preview` resolves first: a `.pyro` recording's profile from its index
    (index_preview: the sums of its samples, for a first frame in a second or
    two), or None when there is none to make. `full` resolves with the file
    read completely (Cancelled after `cancel`). `fraction` is how much of the
    full read is done, for a progress bar; `start` runs it all on a thread.
    """

    def __init__(self, path: Path, preview: bool = True) -> None:
        self.path = path
        self.wants_preview = preview
        self.preview: Future[Profile | None] = Future()
        self.full: Future[Profile] = Future()
        self.fraction = 0.0
        self._cancel = threading.Event()
        self._resume = threading.Event()  # the preview is on screen: the full read may start (`resume`)
        self.thread: threading.Thread | None = None

    def resume(self) -> None:
        """The window has drawn the preview: read the rest now. Until then (at most RESUME_WAIT_S) the
        read waits, so it does not take the interpreter from the GUI thread while that draws the first frame."""
        self._resume.set()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def progress(self, fraction: float) -> None:
        if self._cancel.is_set():
            raise Cancelled()
        self.fraction = float(fraction)

    def run(self) -> None:
        """Both steps, in this thread (`start` runs it on another)."""
        preview: Profile | None = None
        if self.wants_preview and not self._cancel.is_set():
            try:
                from pyrometer.core.formats.index_preview import open_preview

                preview = open_preview(self.path)
            except Exception:  # a preview is an optimisation: the full read reports what is wrong
                preview = None
        self.preview.set_result(preview)
        if preview is not None:
            waited = 0.0
            while not self._resume.wait(0.05) and not self._cancel.is_set() and waited < RESUME_WAIT_S:
                waited += 0.05
        try:
            if preview is not None:  # only what the index left out, into a profile sharing the preview's shell
                self.full.set_result(read_detail(self.path, preview, self.progress))
            else:
                self.full.set_result(load_and_warm(self.path, self.progress))
        except BaseException as exc:  # handed to whoever waits (the FileLoader reports it)
            self.full.set_exception(exc)

    def start(self) -> Opening:
        self.thread = threading.Thread(target=self.run, name="pyrometer-open", daemon=True)
        self.thread.start()
        return self


_prefetched: dict[Path, Opening] = {}


def prefetch(paths: list[str] | list[Path], preview: bool = True) -> None:
    """Start reading files on plain threads before Qt and the window exist (`pyrometer open`).

    The FileLoader for the same path later picks the opening up instead of reading again,
    so reading a big file (or its index) overlaps importing Qt and building the window.
    """
    for raw in paths:
        path = Path(raw)
        key = path.resolve()
        if key in _prefetched:
            continue
        _prefetched[key] = Opening(path, preview=preview).start()


def take(path: Path) -> Opening | None:
    """The prefetch of this path, if one was started (handed out once)."""
    return _prefetched.pop(path.resolve(), None)
