"""Session clock and per-thread CPU clocks (standard library only, Python 3.9+).

Every time in the stream is seconds since the session's ``t0``
(``time.perf_counter()`` at start). CPU clocks of *other* threads are read
through their POSIX clock ids; on Linux the id is derived from the kernel
thread id (``native_id``) rather than ``pthread_getcpuclockid``, because the
latter is undefined behaviour for a thread that has already exited while a
clock id computed from a dead tid merely fails with ``EINVAL``.
"""

from __future__ import annotations

import sys
import threading
import time

TYPE_CHECKING = False  # typing stays unimported in the target (start-up cost); mypy knows the name
if TYPE_CHECKING:
    from typing import Callable, Optional

perf_counter = time.perf_counter

_HAVE_CLOCK_GETTIME = hasattr(time, "clock_gettime")
_HAVE_PTHREAD_CLOCK = hasattr(time, "pthread_getcpuclockid")
_LINUX = sys.platform.startswith("linux")


class SessionClock:
    """Seconds since the session started, on ``perf_counter``.

    ``perf`` is the raw clock every piece of the agent's timing logic reads (lag
    probe, back-off, blocking watchdog, sampler deadlines and weights) and
    ``sleep`` how the sampler waits: tests inject a virtual clock here and drive
    that logic exactly, with no wall-clock flakiness.
    """

    __slots__ = ("perf", "sleep", "t0")

    def __init__(
        self, t0: Optional[float] = None, perf: Optional[Callable[[], float]] = None,
        sleep: Optional[Callable[[float], None]] = None,
    ) -> None:
        self.perf: Callable[[], float] = perf or perf_counter
        self.sleep: Callable[[float], None] = sleep or time.sleep
        self.t0 = self.perf() if t0 is None else t0

    def now(self) -> float:
        return self.perf() - self.t0

    def at(self, perf: float) -> float:
        """Convert a raw ``perf_counter`` reading to session time."""
        return perf - self.t0


def thread_cpu_clock(ident: int, native_id: Optional[int]) -> Optional[int]:
    """A clock id measuring the CPU time of thread ``ident``, or None when unavailable."""
    if not _HAVE_CLOCK_GETTIME:
        return None
    if _LINUX:
        # Linux ABI (used by glibc itself): per-thread CPUCLOCK_SCHED of tid. A thread
        # threading does not know (no native id) gets no CPU column rather than a
        # pthread call that could touch a thread exiting meanwhile.
        return ((~int(native_id)) << 3) | 6 if native_id else None
    if _HAVE_PTHREAD_CLOCK:
        try:
            return time.pthread_getcpuclockid(ident)
        except (OSError, OverflowError, ValueError):
            return None
    return None


def read_cpu(clock_id: Optional[int]) -> float:
    """CPU seconds on ``clock_id``; -1.0 when unknown or the thread is gone."""
    if clock_id is None:
        return -1.0
    try:
        return time.clock_gettime(clock_id)
    except (OSError, OverflowError, ValueError):
        return -1.0


def own_thread_cpu() -> float:
    """CPU seconds of the calling thread (for the agent's own accounting)."""
    try:
        return time.thread_time()
    except (OSError, AttributeError):
        return 0.0


def native_id_of(ident: int) -> Optional[int]:
    """Kernel thread id of a live ``threading`` thread, if known."""
    th = threading._active.get(ident)  # type: ignore[attr-defined]
    if th is None:
        return None
    return getattr(th, "native_id", None)
