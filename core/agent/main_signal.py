"""Samples the main thread from a SIGALRM handler: where it is, not where it next lets the GIL go.

The sampler thread needs the GIL to look at a thread; woken while the main
thread runs a few ms of Python (an asyncio callback), it gets the GIL only at
the loop's next select() and charges the work to the wait (measured: 2.5 ms
callbacks shown at 1-5% of their 35-40% of the time). A real-time interval
timer's signal instead runs its handler in the main thread at its next
bytecode, inside that work: the handler records the main thread's stack and
CPU clock, and the sampler thread turns those records into samples.

Off by default (``main_signal`` in defaults.py), because a signal is the
program's to own: the itimer is process-wide (a program that later calls
alarm() or setitimer(ITIMER_REAL) takes it over, and one that installs its own
SIGALRM handler afterwards would get our ticks), and every tick interrupts a
blocking call of the main thread (Python retries them, PEP 475; the handler
asks for SA_RESTART, but some calls, epoll_wait or nanosleep, return EINTR to C
code that may not retry). It is never started over a handler or a running
timer of the program, and it stops as soon as the handler is no longer ours.
"""

from __future__ import annotations

import os
import threading
import time

from .frames import code_chain

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import CodeType, FrameType
    from typing import Callable, List, Optional, Tuple

    Record = Tuple[float, List[Tuple[CodeType, int]], float]

STRAY_S = 1.0  # a SIGALRM this soon after stop() is a tick of ours still in flight


class MainSignalSampler:
    """Records (perf time, leaf-first (code, line) chain, thread CPU) of the main thread per SIGALRM."""

    def __init__(self, perf: Callable[[], float], interval: float) -> None:
        self.perf = perf
        self.interval = interval
        self.records: List[Record] = []
        self.active = False
        self.ident = threading.main_thread().ident or 0
        self.last_record_at = 0.0
        self.period = 0.0
        self.stopped_at = -1.0
        self.pid = os.getpid()
        self._lock = threading.Lock()  # arming vs stop() (never taken by the handler)
        self._bound = self._handler  # one bound method: getsignal() gives back this very object

    def start(self) -> Optional[str]:
        """Arm the timer; the reason it was not armed, or None."""
        import signal

        if threading.current_thread() is not threading.main_thread():
            return "the agent did not start on the main thread"
        if not hasattr(signal, "setitimer") or not hasattr(signal, "SIGALRM"):
            return "this platform has no interval timer"
        if signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, None):
            return "the program has its own SIGALRM handler"
        if signal.getitimer(signal.ITIMER_REAL) != (0.0, 0.0):
            return "the program's alarm timer is running"
        signal.signal(signal.SIGALRM, self._bound)
        signal.siginterrupt(signal.SIGALRM, False)  # SA_RESTART: restartable calls do not see EINTR
        self.active = True
        self.last_record_at = self.perf()
        self.set_period(self.interval)
        return None

    def set_period(self, seconds: float) -> None:
        """Follow the sampler's rate (it backs off while every thread waits)."""
        with self._lock:
            if self.active and seconds != self.period and self.still_ours():  # never over the program's alarm
                import signal

                self.period = seconds
                signal.setitimer(signal.ITIMER_REAL, seconds, seconds)

    def still_ours(self) -> bool:
        import signal

        return signal.getsignal(signal.SIGALRM) is self._bound

    def take(self) -> List[Record]:
        records, self.records = self.records, []  # one swap under the GIL: the handler appends to the new list
        return records

    def stop(self) -> None:
        """Disarm (any thread); give SIGALRM back to its default where that is allowed (main thread)."""
        import signal

        with self._lock:
            if not self.active:
                return
            self.active = False
            self.stopped_at = self.perf()
            if self.still_ours():
                signal.setitimer(signal.ITIMER_REAL, 0)
                if threading.current_thread() is threading.main_thread():
                    signal.signal(signal.SIGALRM, signal.SIG_DFL)

    def _handler(self, signum: int, frame: Optional[FrameType]) -> None:
        forked = os.getpid() != self.pid  # a forked child inherits the handler, never the timer
        if not self.active or forked:
            if not forked and self.perf() - self.stopped_at < STRAY_S:
                return  # one of ours, delivered as the timer was disarmed
            # otherwise it is the program's (alarm()): act as the default would
            import signal

            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        chain = code_chain(frame)
        t = self.perf()
        self.last_record_at = t
        self.records.append((t, chain, time.thread_time()))


