"""The one hop from the collector's threads to a Profile: an inbox of frames and the code that applies them.

The collector calls `put` (from its socket thread and the output pumps) and
`end` once; both only append under a lock and, when the inbox was idle, call
`wake` so the owner of the Profile (the window's GUI thread, or a test)
schedules `apply`. Applying runs on the owner's thread only, so nothing else
touches the Profile. The window and the core tests use this same class.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pyrometer.core.agent import wire

if TYPE_CHECKING:
    import os

    from pyrometer.core.capture.collector import Collector, Frames
    from pyrometer.core.model import Profile


class ProfileFeed:
    """Frames waiting to be applied to a Profile; see the module docstring."""

    def __init__(self, wake: Callable[[], None] | None = None) -> None:
        self.wake = wake
        self._lock = threading.Lock()
        self._pending: Frames = []
        self._woken = False  # `wake` was called and the owner has not taken everything since
        self.backlog = False  # the last `apply` stopped on its budget: call it again (no wake comes)
        self.ended = threading.Event()  # the agent's stream is over (END, or the connection closed)
        self.end_info: dict[str, Any] | None = None  # the agent's END message, when it sent one

    # ------------------------------------------------------------ any thread
    def put(self, frames: Frames) -> None:
        """Queue decoded frames (collector and pump threads); wake the owner once per burst."""
        with self._lock:
            self._pending.extend(frames)
            if self._woken:
                return
            self._woken = True
        if self.wake is not None:
            self.wake()

    def end(self, end: dict[str, Any] | None) -> None:
        """The stream ended (`end` is the agent's END, or None when it vanished); wake the owner."""
        with self._lock:
            self.end_info = end
            self.ended.set()
            woke = self._woken
            self._woken = True
        if not woke and self.wake is not None:
            self.wake()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def collector(
        self, output: str | os.PathLike[str] | None, use_tcp: bool = False, profile: Profile | None = None
    ) -> Collector:
        """A collector whose frames and end come here.

        `profile`: the one these frames are applied to; the recording's index then reads its lag
        probes and tasks at the end instead of keeping its own copies, and the collector applies the last
        frames to it before finishing the recording (so call `close` on the profile's thread).
        """
        from pyrometer.core.capture.collector import Collector

        # the index is kept while the collector writes, so closing only appends it: no read of the file
        coll = Collector(output, on_frames=self.put, on_end=self.end, use_tcp=use_tcp,
                         model=profile)
        if profile is not None:

            def last_frames() -> None:
                self.apply(profile)

            coll.before_recording_closes = last_frames
        return coll

    # ------------------------------------------------------------ the owner's thread
    def apply(
        self,
        profile: Profile,
        budget_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> int:
        """Apply the queued frames to `profile` in arrival order; returns how many were applied.

        After `budget_s` of work the rest stays queued, in front of anything
        that arrives meanwhile, `backlog` is set and no further wake comes: the
        caller continues on its next turn. A frame that does not fit
        its type becomes a warning notice on the profile (nothing is raised).
        """
        from pyrometer.core.formats.recording import apply_message

        start = clock()
        with self._lock:
            frames, self._pending = self._pending, []
            self._woken = False
        applied = 0
        for kind, payload in frames:
            try:
                apply_message(profile, kind, payload)
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                profile.notices.append({"level": "warning", "message": f"bad {wire.describe(kind)} frame: {exc}"})
            applied += 1
            if budget_s is not None and applied < len(frames) and clock() - start > budget_s:
                break
        self.backlog = applied < len(frames)
        if self.backlog:
            with self._lock:
                self._pending[:0] = frames[applied:]
                self._woken = True  # the caller continues: workers need not wake it
        return applied
