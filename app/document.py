"""One open profile or live session, and the view state every pane shares.

Panes never talk to each other: they read the document (profile, transform,
time range, playhead, selected function, the comparison baseline) and call
its setters and requests (show a pane by id, show a time span); the document
emits signals and bumps `revision`, and the main window refreshes visible
panes whose last seen revision is older (at most ~10 times a second).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from pyrometer.core import fmt
from pyrometer.core.analysis.display_names import display_names
from pyrometer.core.analysis.transforms import view_of
from pyrometer.core.model import Profile

if TYPE_CHECKING:
    from pyrometer.app.loader import FileLoader
    from pyrometer.core.analysis.selection import Selection
    from pyrometer.core.analysis.transforms import Transform


class Document(QObject):
    """A profile plus shared view state (range, playhead, transform, selection)."""

    changed = Signal()  # model grew, or range/transform/playhead/threads changed
    functionSelected = Signal(int)  # function id, -1 = none
    rangeChanged = Signal(object)  # (t0, t1) or None
    playheadChanged = Signal(object)  # float or None
    transformChanged = Signal(object)  # Transform or None
    stateChanged = Signal(str)  # live state text: "running", "ended, exit status 0", ...
    paneRequested = Signal(str)  # a pane asks the view to show another pane, by id ("source")
    timeRequested = Signal(float, float)  # "show this time span" (t0, t1): the timeline moves its view
    timeViewChanged = Signal(object)  # (t0, t1) the views of time show (timeline, stack chart zoom/pan together)
    baselineChanged = Signal()  # the comparison baseline was set, replaced or cleared
    baselineFailed = Signal(str)  # a baseline file could not be read: the message for the user
    openRequested = Signal(str)  # "open this recording" (e.g. a run of the history): the window opens a tab
    highlightedTasksChanged = Signal(object)  # frozenset of task ids (e.g. those a selected stall delayed)
    byTaskChanged = Signal(bool)  # the trees (flame graph, call tree) show each task's samples under its task chain
    detailLoaded = Signal()  # the samples of a recording opened from its index are read: `profile` has them now
    detailProgress = Signal(float)  # how much of them is read (0..1)

    def __init__(
        self,
        profile: Profile,
        path: str | Path | None = None,
        is_live: bool = False,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.profile = profile
        self.path: Path | None = Path(path) if path is not None else None
        self.is_live = is_live
        self.playhead: float | None = None
        self.range: tuple[float, float] | None = None
        self.threads: frozenset[int] | None = None
        self.transform: Transform | None = None
        self.selected_function = -1
        self.revision = 0  # bumped on every change that should make panes refresh
        self.view_revision = 0  # the last revision caused by a view change (range, transform, ...), not growth
        self.state = "live" if is_live else "loaded"
        self.name: str | None = None  # short tab title (live sessions: the script name)
        self.playing = False  # a replay is advancing the playhead
        self.on_cpu_only = False  # show only samples where the thread was running
        self.by_task = False  # the trees put each task's samples under its task chain (tree_profile)
        self.time_view: tuple[float, float] | None = None  # the time span the views of time show (None: all)
        self.baseline: Profile | None = None  # the "before" this profile is compared with
        self.baseline_name = ""
        self.baseline_path: Path | None = None
        self._baseline_loader: FileLoader | None = None
        self._baseline_token = 0  # only the latest baseline choice counts, if an earlier load still lands
        self.program: str | None = None  # its program in the run history (None: found by the recording's path)
        self.highlighted_tasks: frozenset[int] = frozenset()  # tasks the views of tasks paint highlighted
        self.detail_fraction = 0.0  # while `detail_pending`: how much of the samples is read
        self.detail_error: str | None = None  # why the samples could not be read (the preview stays)

    # ------------------------------------------------------------ reading
    @property
    def title(self) -> str:
        if self.name:
            return self.name
        if self.path is not None:
            return self.path.name
        cmd = self.profile.meta.get("command") or self.profile.meta.get("argv")
        if isinstance(cmd, list):
            cmd = " ".join(str(c) for c in cmd)
        return str(cmd) if cmd else "untitled"

    def view_profile(self) -> Profile:
        """The profile after the on-CPU filter and the current Transform (cached on the profile)."""
        return view_of(self.profile, self.transform, self.on_cpu_only)

    def tree_profile(self) -> Profile:
        """What the trees (flame graph, call tree) show: `view_profile`, by task when that is on."""
        return view_of(self.profile, self.transform, self.on_cpu_only, by_task=self.by_task)

    def has_tasks(self) -> bool:
        """Whether any sample ran in an asyncio task (else "by task" has nothing to show)."""
        from pyrometer.core.analysis.task_stacks import has_tasks

        return has_tasks(self.profile)

    def selection(self) -> Selection:
        """Time range ∩ [0, playhead] and the thread filter, for the analyses."""
        from pyrometer.core.analysis.selection import Selection

        t0, t1 = self.effective_range()
        return Selection(t0=t0, t1=t1, threads=self.threads)

    def effective_range(self) -> tuple[float | None, float | None]:
        """(t0, t1) the panes should show: the selected range clipped to the playhead."""
        t0: float | None = None
        t1: float | None = None
        if self.range is not None:
            t0, t1 = self.range
        if self.playhead is not None:
            t1 = self.playhead if t1 is None else min(t1, self.playhead)
            if t0 is not None and t0 > t1:
                t0 = t1
        return t0, t1

    def duration(self) -> float:
        return self.profile.duration()

    # ------------------------------------------------------------ a recording opened from its index
    @property
    def detail_pending(self) -> bool:
        """The profile is a recording's preview (index_preview): its samples' sums, not their rows yet."""
        return self.profile.summed is not None and not len(self.profile.samples)

    def preview_answers(self) -> bool:
        """Whether the preview's sums answer what the panes are asked now: the whole session, all or
        some threads, untransformed (a time range, a playhead or a filter needs the samples)."""
        return (self.range is None and self.playhead is None and self.transform is None
                and not self.on_cpu_only and not self.by_task)

    def pending_text(self) -> str:
        """What a pane that needs the samples says until they are read."""
        if self.detail_error is not None:
            return f"Detail could not be read:\n{self.detail_error}"
        return f"Loading detail… {100 * self.detail_fraction:.0f}%"

    def set_detail_progress(self, fraction: float) -> None:
        self.detail_fraction = max(0.0, min(1.0, float(fraction)))
        self.detailProgress.emit(self.detail_fraction)

    def set_detail(self, profile: Profile) -> None:
        """The samples are read: show `profile` (the same functions and stacks, with rows) instead of the preview.

        Function and stack ids are those of the preview, so the selection, thread filter and
        range carry over; every pane refreshes from the full columns.
        """
        self.profile = profile
        self.detail_fraction = 1.0
        self.detail_error = None
        self.detailLoaded.emit()
        self.touch()

    def set_detail_failed(self, message: str) -> None:
        """Reading the samples failed after the preview was shown: the panes that need them say why."""
        self.detail_error = message
        self.detailProgress.emit(self.detail_fraction)
        self.touch()

    # ------------------------------------------------------------ changing
    def touch(self) -> None:
        """Record that something panes show has changed (bump revision, emit changed)."""
        self.revision += 1
        self.view_revision = self.revision
        self.changed.emit()

    def model_grew(self) -> None:
        """Called by the live session after appending to the profile (growth only: may be batched)."""
        self.revision += 1
        self.changed.emit()

    def select_function(self, func: int) -> None:
        func = int(func)
        if func == self.selected_function:
            return
        self.selected_function = func
        self.functionSelected.emit(func)

    def set_range(self, t0: float | None, t1: float | None) -> None:
        new: tuple[float, float] | None
        if t0 is None or t1 is None:
            new = None
        else:
            a, b = float(t0), float(t1)
            new = (min(a, b), max(a, b))
        if new == self.range:
            return
        self.range = new
        self.rangeChanged.emit(new)
        self.touch()

    def clear_range(self) -> None:
        self.set_range(None, None)

    def set_playhead(self, t: float | None, animate: bool = False) -> None:
        """Move the replay position; `animate` (playback ticks) lets the view pace slow panes."""
        if t == self.playhead:
            return
        self.playhead = None if t is None else float(t)
        self.playheadChanged.emit(self.playhead)
        if animate:
            self.revision += 1
            self.changed.emit()
        else:
            self.touch()

    def set_transform(self, transform: Transform | None) -> None:
        if transform == self.transform:
            return
        self.transform = transform
        self.transformChanged.emit(transform)
        self.touch()

    def set_on_cpu_only(self, on: bool) -> None:
        if bool(on) == self.on_cpu_only:
            return
        self.on_cpu_only = bool(on)
        self.touch()

    def set_by_task(self, on: bool) -> None:
        """Show the trees by asyncio task (both trees follow; see core/analysis/task_stacks.py)."""
        if bool(on) == self.by_task:
            return
        self.by_task = bool(on)
        self.byTaskChanged.emit(self.by_task)
        self.touch()

    def set_threads(self, threads: frozenset[int] | None) -> None:
        if threads == self.threads:
            return
        self.threads = threads
        self.touch()

    def set_highlighted_tasks(self, ids: frozenset[int] | set[int] | None) -> None:
        """Highlight these asyncio tasks in every view of tasks (None / empty: none); no refresh needed."""
        new = frozenset(int(i) for i in ids) if ids else frozenset()
        if new == self.highlighted_tasks:
            return
        self.highlighted_tasks = new
        self.highlightedTasksChanged.emit(new)

    def request_pane(self, pane_id: str) -> None:
        """Ask the view to show (and raise) the pane with this id (or title)."""
        self.paneRequested.emit(pane_id)

    def request_open(self, path: str | Path) -> None:
        """Ask the window to open a recording in a tab of its own."""
        self.openRequested.emit(str(path))

    def request_time(self, t0: float, t1: float) -> None:
        """Ask the views of time (the timeline) to bring [t0, t1] into view; the range is unchanged."""
        self.timeRequested.emit(float(t0), float(t1))

    def set_time_view(self, t0: float, t1: float) -> None:
        """A view of time zoomed or panned to [t0, t1]: the others follow (no refresh: nothing shown changes)."""
        new = (float(min(t0, t1)), float(max(t0, t1)))
        old = self.time_view
        if old is not None:
            tol = 1e-9 * max(1.0, abs(new[1] - new[0]))
            if abs(old[0] - new[0]) <= tol and abs(old[1] - new[1]) <= tol:
                return
        self.time_view = new
        self.timeViewChanged.emit(new)

    # ------------------------------------------------------------ comparison baseline
    def set_baseline(self, profile: Profile | None, name: str = "", path: str | Path | None = None) -> None:
        """Compare with `profile` (the 'before'), or stop comparing (None)."""
        self._baseline_token += 1  # a load still under way no longer counts
        self.baseline = profile
        self.baseline_name = name if profile is not None else ""
        self.baseline_path = Path(path) if profile is not None and path is not None else None
        self.baselineChanged.emit()

    def load_baseline(self, path: str | Path, parent: QWidget | None = None, show_dialog: bool = True) -> FileLoader:
        """Read a baseline file off the GUI thread (progress dialog over `parent`), then set it.

        On failure `baselineFailed` carries a message naming the file and why; nothing raises.
        """
        from pyrometer.app.loader import FileLoader

        if self._baseline_loader is not None:
            self._baseline_loader.cancel()
        loader = FileLoader(path, parent, show_dialog=show_dialog)
        if parent is None:
            loader.setParent(self)
        self._baseline_token += 1
        token = self._baseline_token
        loader.loaded.connect(lambda p, profile: self._baseline_loaded(token, Path(p), profile))
        loader.failed.connect(lambda p, message: self._baseline_load_failed(token, Path(p), message))
        loader.finished.connect(lambda ld=loader: self._baseline_loader_done(ld))
        self._baseline_loader = loader
        loader.start()
        return loader

    def _baseline_loaded(self, token: int, path: Path, profile: Profile) -> None:
        if token == self._baseline_token:
            self.set_baseline(profile, path.name, path)

    def _baseline_load_failed(self, token: int, path: Path, message: str) -> None:
        if token != self._baseline_token:
            return
        text = message if path.name in message else f"{path.name}: {message}"
        self.baselineFailed.emit(f"Cannot use {path} as the baseline: {text}")

    def _baseline_loader_done(self, loader: FileLoader) -> None:
        if self._baseline_loader is loader:
            self._baseline_loader = None
        loader.deleteLater()

    def set_state(self, state: str) -> None:
        self.state = state
        self.stateChanged.emit(state)

    # ------------------------------------------------------------ helpers
    def function_label(self, func: int) -> str:
        """`name (file:line)` of a function id, or "" for -1/unknown."""
        p = self.profile
        if func < 0 or func >= len(p.func_name):
            return ""
        return f"{display_names(p)[func]} ({fmt.file_line(p.func_file[func], p.func_line[func])})"
