"""Arms the SIGALRM main-thread sampler when, and only when, the sampler thread is starved of the GIL.

An event loop beside a CPU-bound thread lets the GIL go only for moments (at
each select): every release restarts the sampler's wait for the switch
interval and the loop takes the GIL back first, so the sampler ticks 5-17
times a second of the 100 asked and its few samples land where the GIL is let
go (``BaseEventLoop.call_soon`` at 61% of MainThread). The SIGALRM handler runs
in the main thread itself and needs no hand-off (98-100 Hz there).

With ``main_signal="auto"`` (the default) the session installs the handler
unarmed at start (main_signal.py: an unarmed SIGALRM is the program's alarm
and gets the default action), and this watch counts the sampler's ticks over
windows of ``WINDOW_S``: a window that reached under ``STARVED_BELOW`` of the
asked rate while most of its ticks saw a thread run (not the idle back-off)
arms the timer, once. A program that has since installed its own SIGALRM
handler, or started its own alarm, is left alone.

Never when attaching: the agent starts on a thread of its own there, and
although the injected call runs on the main thread, detaching happens off it,
where the handler could not be given back (it would stay in the program). One
cost of the unarmed handler: a program's alarm() that fires while the main
thread is inside a long C call ends the process when that call returns, not
at once (Python runs signal handlers between bytecodes).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

    from .main_signal import MainSignalSampler

WINDOW_S = 1.0  # the rate is judged over windows this long
STARVED_BELOW = 0.5  # of the asked rate (as core/late_samples.py says it after the fact)
BUSY_SHARE = 0.5  # of a window's ticks saw a thread run: starved, not backed off while every thread waits


class StarvationWatch:
    """Counts the sampler's ticks; says when a window was starved while threads ran."""

    def __init__(self, rate_hz: float, now: float) -> None:
        self.rate_hz = rate_hz
        self.window_start = now
        self.ticks = 0
        self.busy = 0

    def tick(self, now: float, busy: bool) -> Optional[float]:
        """Count one tick; the rate reached (Hz) when a window just ended starved, else None."""
        self.ticks += 1
        if busy:
            self.busy += 1
        span = now - self.window_start
        if span < WINDOW_S:
            return None
        reached = self.ticks / span
        starved = reached < STARVED_BELOW * self.rate_hz and self.busy >= BUSY_SHARE * self.ticks
        self.window_start, self.ticks, self.busy = now, 0, 0
        return reached if starved else None


class AutoMainSignal:
    """An installed, unarmed main-signal sampler and the watch that decides to arm it."""

    def __init__(self, main: MainSignalSampler, rate_hz: float, now: float) -> None:
        self.main = main
        self.rate_hz = rate_hz
        self.watch = StarvationWatch(rate_hz, now)
        self.given_up = False  # the program took SIGALRM or its timer: never arm

    def tick(self, now: float, busy: bool) -> Optional[str]:
        """Count one sampler tick; the notice to send when this tick armed the timer, else None."""
        reached = self.watch.tick(now, busy)
        if reached is None:
            return None
        if not self.main.arm():
            self.given_up = True
            return None
        return "the sampler was starved of the GIL (%.0f Hz of %.0f asked): the main thread is sampled from SIGALRM from now on" % (
            reached,
            self.rate_hz,
        )
