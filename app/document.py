"""One open profile or live session, and the view state every pane shares.

Panes never talk to each other: they read the document (profile, transform,
time range, playhead, selected function) and call its setters; the document
emits signals and bumps `revision`, and the main window refreshes visible
panes whose last seen revision is older (at most ~10 times a second).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from pyrometer.core.analysis.transforms import view_of
from pyrometer.core.model import Profile

if TYPE_CHECKING:
    from pyrometer.core.analysis.selection import Selection
    from pyrometer.core.analysis.transforms import Transform


class Document(QObject):
    """A profile plus shared view state (range, playhead, transform, selection)."""

    changed = Signal()  # model grew, or range/transform/playhead/threads changed
    functionSelected = Signal(int)  # function id, -1 = none
    rangeChanged = Signal(object)  # (t0, t1) or None
    playheadChanged = Signal(object)  # float or None
    transformChanged = Signal(object)  # Transform or None
    stateChanged = Signal(str)  # live state text: "running", "ended (exit 0)", ...
    paneRequested = Signal(str)  # a pane asks the window to show another pane by title ("Source")

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

    def set_threads(self, threads: frozenset[int] | None) -> None:
        if threads == self.threads:
            return
        self.threads = threads
        self.touch()

    def request_pane(self, title: str) -> None:
        """Ask the view to show (and raise) the pane with this title."""
        self.paneRequested.emit(title)

    def set_state(self, state: str) -> None:
        self.state = state
        self.stateChanged.emit(state)

    # ------------------------------------------------------------ helpers
    def function_label(self, func: int) -> str:
        """`name (file:line)` of a function id, or "" for -1/unknown."""
        p = self.profile
        if func < 0 or func >= len(p.func_name):
            return ""
        return f"{p.func_name[func]} ({p.func_file[func]}:{p.func_line[func]})"
