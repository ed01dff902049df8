"""The stack sampler: a daemon thread that samples every Python thread's stack.

It sleeps its interval and keeps absolute deadlines: a late tick is made up
by the next ones (never closer than a tenth of an interval), and it wakes early by
how late its wake-ups have lately been (waiting for the GIL behind a busy
thread, or for a CPU on a loaded machine), so that lateness does not lower the
rate. It sends SAMPLES batches at most ~50 ms old. Each
sample's weight is the wall time since that thread's previous sample and
``cpu`` is the thread's CPU time over the same span (-1 where per-thread CPU
clocks are not available), which tells on-CPU from waiting. A thread whose
CPU clock has not advanced since its previous sample cannot have executed
anything, so its previous stack is reused without walking its frames (most
threads of a real program are idle most of the time).

When no sampled thread used more than ``IDLE_CPU_SHARE`` of a core for
``IDLE_AFTER_S``, the sampler backs off, doubling its sleep up to
``IDLE_BACKOFF`` intervals (never past 100 ms): a waiting program costs fewer
wake-ups. The second of grace is there for truth: a burst of CPU that falls
between two ticks is charged to the wrong stack, and backing off at once lost
the short burst after every sleep of a sleep-then-work loop (20-77% off). The
first tick that sees a thread running brings the rate back to the one asked
for.

Each sample stands for the gap before it, charged to the stack seen now: on a
fixed schedule that is the classic unbiased estimate (a burst shorter than the
interval is seen with the odds of its length). That needs the schedule to stay
fixed around bursts, hence the bounds above. It fails when the gap is far
longer than planned because the sampler was starved (a C call holding the GIL,
a loaded machine): the stack seen after such a gap says nothing about where a
thread that moved spent it, so that sample stands for one interval and the
rest of the gap counts in ``unsampled_s`` (telemetry), never charged to one
stack (it once charged 0.98 s to 400 calls of ``Random.uniform``). A thread
now in another asyncio task has moved too, even in the same stack (requests of
one server run the same code: at load 10 a gap of 0.13 s that began in one was
charged to the next). A thread still in the same stack and task stands for up
to ``MAX_WEIGHT_S``.

A thread sampler cannot see a thread in a short burst of Python: woken
during it, the sampler waits for the GIL until the thread lets it go, at its
next wait (or after the switch interval), and samples it there. A 3 ms burst
before each 4 ms wait was shown at 2-25% of its time. The ticks that waited
for a GIL that was let go (not forced) are counted in ``late_ticks``
(telemetry), so that `stats` and the Session pane say so.

Splitting a long gap at the thread's CPU (``G - c`` waiting in the old stack,
``c`` running in the new one) was tried and measured worse on a loaded
machine: a thread that wants the GIL or a core waits off-CPU *inside* the new
stack, which the CPU clock cannot tell from waiting in the old one.
"""

from __future__ import annotations

import sys
import threading
from sys import (  # not through `sys`: tests give the sampler a virtual one
    getswitchinterval,
    setprofile,
)

from . import wire
from .clock import own_thread_cpu, read_cpu

TYPE_CHECKING = False  # typing stays unimported in the target (start-up cost); mypy knows the name
if TYPE_CHECKING:
    from typing import List, Optional, Tuple

    from .frames import ThreadRecord
    from .main_signal import MainSignalSampler
    from .session import AgentSession

BATCH_SECONDS = 0.05
IDLE_CPU_SHARE = 0.02  # a thread below 2% of a core since its last sample counts as waiting
IDLE_AFTER_S = 1.0  # back off only once every thread has waited this long (sleep-then-work loops keep the rate)
WORK_CPU_S = 0.001  # CPU since the last tick that restarts IDLE_AFTER_S (an idle loop's probe uses ~0.1 ms)
IDLE_BACKOFF = 10  # at most this many intervals between ticks while every thread waits
IDLE_MAX_SLEEP = 0.1
TELEMETRY_SECONDS = 1.0
MAX_WEIGHT_S = 1.0  # a sample of a thread still in the same stack stands for at most this much time before it
LATE_SLACK = 5  # intervals past the planned gap after which a tick counts as starved (not mere OS latency)
CATCH_UP = 2.0  # intervals a late sampler makes up; further behind, it skips the rest
MIN_GAP = 0.5  # intervals between two ticks (as planned), even while making up
MAX_LEAD = 0.4  # intervals a sleep may end early to make up for wake-up lateness
# so two ticks are never closer than MIN_GAP - MAX_LEAD intervals: no twin samples
LEAD_GAIN = 0.1  # how fast the expected lateness follows the measured one
# A tick is "late" when it got the GIL more than LATE_TICK intervals (at most half a switch
# interval) after its wake-up, but before FORCED_SHARE switch intervals: a thread held the GIL
# and let it go by itself (at a wait), so the sample shows the wait, not the work it did while
# the tick was due. Ticks that waited the whole switch interval made the holder drop the GIL
# in the middle of its work: those samples are where they should be (a CPU-bound loop). On a
# loaded machine (wake-ups late by ms) with a short switch interval the two overlap, and the
# ambiguous ticks are not counted: the share is then a lower bound.
LATE_TICK = 0.2
FORCED_SHARE = 0.9


class Sampler:
    """Samples all non-agent threads at ``rate_hz`` until ``stop()``."""

    def __init__(self, session: AgentSession, rate_hz: float) -> None:
        self.session = session
        self.perf = session.clock.perf  # injectable (tests): deadlines, weights and back-off
        self.rate_hz = max(0.1, float(rate_hz))
        self.interval = 1.0 / self.rate_hz
        self._stop = threading.Event()
        self._tick_lock = threading.Lock()  # held by a tick and by stop()'s final flush
        self._thread = threading.Thread(target=self._run, name="pyrometer-sampler", daemon=True)
        self.main_signal: Optional[MainSignalSampler] = None  # samples the main thread when set (main_signal.py)
        self.ticks = 0
        self.busy = True  # did the last tick see a thread running (or one it could not judge)?
        self.worked = True  # ... and one that ran WORK_CPU_S (a real burst, not a timer's wake-up)?
        self.samples_taken = 0
        self.samples_dropped = 0
        # wall time the sampler could not see (it was starved longer than MAX_WEIGHT_S
        # between two samples of a thread): left out of the weights, counted here
        self.unsampled_s = 0.0
        # ticks that came late (woke, then waited for the GIL or a CPU) while a thread ran:
        # their samples show where that thread was when it let the GIL go, not where it was
        # when the tick was due (a short CPU burst is charged to the wait after it)
        self.late_ticks = 0
        self.busy_ticks = 0  # ticks that saw a thread running: the late ones' denominator
        self.late_s = 0.0  # total lateness of the late ticks
        self.woke_late = 0.0  # seconds from the wake-up asked of the OS to holding the GIL (this tick)
        self.started_at = 0.0
        self.last_tick_at = 0.0
        self.cpu_s = 0.0
        self.ident = 0
        self.planned = self.interval  # the gap the sampler meant to leave before this tick
        self._times: List[float] = []
        self._tids: List[int] = []
        self._stacks: List[int] = []
        self._tasks: List[int] = []
        self._weights: List[float] = []
        self._cpus: List[float] = []

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop and flush the last batch, without waiting out the sampler's sleep.

        The tick lock keeps a tick from running concurrently with this final
        flush; a sampler asleep when stop() comes finds the stop flag when it
        wakes and exits without ticking (it is a daemon thread). Not waiting
        for it saves up to one interval at the target's exit.
        """
        self._stop.set()
        if self.main_signal is not None:
            self.main_signal.stop()
        if threading.current_thread() is self._thread:
            self.flush()
            return
        if self._tick_lock.acquire(True, timeout):
            try:
                self.flush()
            finally:
                self._tick_lock.release()

    @property
    def effective_rate_hz(self) -> float:
        span = self.last_tick_at - self.started_at
        return (self.ticks - 1) / span if self.ticks > 1 and span > 0 else 0.0

    # ------------------------------------------------------------------ thread
    def _run(self) -> None:
        self.ident = threading.get_ident()
        setprofile(None)  # a profiler (yappi in trace mode) must not count the agent
        session = self.session
        session.add_agent_thread(self.ident)
        try:
            self._loop()
        except Exception as exc:  # never let the agent die noisily inside the target
            session.notice("error", "sampler stopped: %r" % (exc,))
        finally:
            self.cpu_s = own_thread_cpu()
            session.note_agent_cpu(self.ident, self.cpu_s)

    def _loop(self) -> None:
        session = self.session
        interval = self.interval
        # time.sleep costs half the CPU of Event.wait per tick; stop() then waits at
        # most one short interval. Long intervals sleep on the event so stop is prompt.
        stop = self._stop
        tick_lock = self._tick_lock
        perf_counter = self.perf
        sleep = session.clock.sleep
        if interval <= 0.05:

            def wait(delay: float) -> bool:
                if delay > 0:
                    sleep(delay)
                return stop.is_set()

        else:

            def wait(delay: float) -> bool:
                return stop.wait(delay if delay > 0 else 0)
        self.started_at = perf_counter()
        deadline = self.started_at
        last_batch = self.started_at
        last_telemetry = self.started_at
        longest = max(interval, min(interval * IDLE_BACKOFF, IDLE_MAX_SLEEP))
        step = interval
        lead = 0.0  # how late wake-ups have lately been (the GIL, the OS): wake that much early
        gap = interval * MIN_GAP
        last_busy = self.started_at
        while True:
            if self.busy or deadline - last_busy < IDLE_AFTER_S:
                step = interval
            else:
                step = min(step * 2, longest)
            deadline += step
            self.planned = step
            if self.main_signal is not None:
                self.main_signal.set_period(step)
            now = perf_counter()
            if now - deadline > CATCH_UP * interval:
                deadline = now - CATCH_UP * interval  # far behind (starved): give up the rest
            # Deadlines are absolute: a late tick is made up by the next ones (planned at
            # least MIN_GAP intervals apart, so no burst of twin samples), and the sleep
            # ends `lead` early, so the time spent getting the GIL back is not added to
            # every tick. Weights stay exact: each is the real time since the last sample.
            target = max(deadline, self.last_tick_at + gap) - lead
            delay = target - now
            if wait(delay):
                return
            setprofile(None)  # 80 ns: yappi (trace mode) hooks every running thread as it starts
            self.woke_late = 0.0
            if delay > 0:
                self.woke_late = perf_counter() - target
                late = min(self.woke_late, interval) if self.ticks else 0.0
                lead = min(max(lead + LEAD_GAIN * (late - lead), 0.0), MAX_LEAD * interval)
            with tick_lock:
                if stop.is_set():
                    return  # stop() has flushed (or is flushing) the last batch
                now = self._tick()
                if self.worked:
                    last_busy = now
                flush = now - last_batch >= BATCH_SECONDS
                if flush:
                    last_batch = now
                    self.cpu_s = own_thread_cpu()
                    session.hold_output()  # samples, probes, tasks, telemetry: one send
                    self.flush()
            if flush:
                try:
                    if session.sink_closed():
                        session.stop_async("collector-lost")
                        return
                    session.pump()
                    if now - last_telemetry >= TELEMETRY_SECONDS:
                        last_telemetry = now
                        session.send_telemetry()
                finally:
                    session.release_output()

    def _tick(self) -> float:
        session = self.session
        threads = session.threads
        agent = threads.agent_idents
        intern = session.interner.intern_frame_chain
        task_of = session.current_task_id
        frames = sys._current_frames()
        now = self.perf()
        t = now - session.clock.t0
        interval = self.interval
        late = max(self.planned, interval) + LATE_SLACK * interval  # a longer gap: the sampler was starved
        busy = worked = ran = False  # ran: a thread sampled from here (not by signal) was busy
        main = self.main_signal
        main_done = -1
        if main is not None and not main.still_ours():
            main.stop()  # the program took SIGALRM: the timer is its own now
            self.main_signal = main = None
        if main is not None and main.ident in frames:
            # the main thread's own samples, from its SIGALRM handler (main_signal.py), first:
            # they are older than this tick's. None for 2 periods: the handler cannot run (a
            # call restarted in the kernel, a C call holding the GIL): sampled from here meanwhile
            got = self._main_samples(threads.get(main.ident), main, t, late, task_of(main.ident))
            if got is not None:
                busy, worked = got
                main_done = main.ident
        for ident, frame in frames.items():
            if ident in agent:
                continue
            rec = threads.get(ident)
            if rec.agent:
                continue
            if ident == main_done:
                continue
            cpu_now = read_cpu(rec.clock_id)
            prev_stack = rec.last_stack
            if cpu_now >= 0 and cpu_now == rec.last_cpu and prev_stack >= 0:
                stack = prev_stack  # not one nanosecond on CPU since: it cannot have moved
            else:
                stack = intern(frame)
                rec.last_stack = stack
            b, w = self._add(rec, t, stack, prev_stack, cpu_now, late, task_of(ident))
            ran = ran or b
            worked = worked or w
        if self.ticks % 100 == 0:
            threads.forget_missing(frames)
        del frames
        self.busy = busy or ran
        self.worked = worked
        if ran and self.ticks:
            self.busy_ticks += 1
            forced = getswitchinterval()
            if min(LATE_TICK * interval, 0.5 * forced) < self.woke_late < FORCED_SHARE * forced:
                self.late_ticks += 1
                self.late_s += self.woke_late
        self.ticks += 1
        self.last_tick_at = now
        return now

    def _add(
        self, rec: ThreadRecord, t: float, stack: int, prev_stack: int, cpu_now: float, late: float, task: int
    ) -> Tuple[bool, bool]:
        """Append one sample of a thread; (busy, worked) as the back-off reads them."""
        interval = self.interval
        busy = worked = False
        if rec.last_time >= 0:
            weight = t - rec.last_time
            cpu = cpu_now - rec.last_cpu if cpu_now >= 0 and rec.last_cpu >= 0 else -1.0
            if not busy and (cpu < 0 or cpu > IDLE_CPU_SHARE * weight):
                busy = True
            if cpu < 0 or cpu > WORK_CPU_S:
                worked = True
            if (stack != prev_stack or task != rec.last_task) and weight > late:
                # starved: where a thread that moved spent the gap is unknown (moving to another
                # task in the same code is moving: a server's requests share one stack)
                self.unsampled_s += weight - interval
                cpu = min(cpu, interval)
                weight = interval
            elif weight > MAX_WEIGHT_S:
                # not seen for that long: the stack now says nothing about most of it
                self.unsampled_s += weight - MAX_WEIGHT_S
                if cpu > 0:
                    cpu *= MAX_WEIGHT_S / weight
                weight = MAX_WEIGHT_S
        else:
            weight = interval
            cpu = -1.0
            busy = worked = True
        rec.last_time = t
        rec.last_cpu = cpu_now
        self._times.append(t)
        self._tids.append(rec.tid)
        self._stacks.append(stack)
        rec.last_task = task
        self._tasks.append(task)
        self._weights.append(weight)
        self._cpus.append(cpu)
        return busy, worked

    def _main_samples(
        self, rec: ThreadRecord, main: MainSignalSampler, t: float, late: float, task: int
    ) -> Optional[Tuple[bool, bool]]:
        """The main thread's samples taken by its signal handler since the last tick; None when stale."""
        records = main.take()
        t0 = self.session.clock.t0
        if not records and self.perf() - main.last_record_at > 2 * main.period:
            return None
        busy = worked = False
        for at, chain, cpu_now in records:
            rt = at - t0
            if rt <= rec.last_time:
                continue  # the thread sampler saw the main thread after this record (it was stale)
            prev_stack = rec.last_stack
            stack = self.session.interner.intern_codes(chain)
            rec.last_stack = stack
            b, w = self._add(rec, rt, stack, prev_stack, cpu_now, late, task)
            busy = busy or b
            worked = worked or w
        return busy, worked

    def flush(self) -> None:
        """Send the pending batch (droppable: counted in samples_dropped when the sink is full)."""
        n = len(self._times)
        if not n:
            return
        data = wire.samples_frame(self._times, self._tids, self._stacks, self._tasks, self._weights, self._cpus)
        self._times, self._tids, self._stacks = [], [], []
        self._tasks, self._weights, self._cpus = [], [], []
        self.samples_taken += n
        if not self.session.emit(data, droppable=True):
            self.samples_dropped += n
