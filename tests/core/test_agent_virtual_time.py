"""The agent's timing logic on virtual time: lag probe, back-off, blocking watchdog, sampler weights.

Each test builds a real AgentSession (not started: no agent threads) on an
injected clock, a fake event loop whose timers and selector are driven by the
test, and a sink that keeps every frame. Every figure is then exact, whatever
the machine's load: these replace the wall-clock checks that were flaky
(probe counts on an idle loop, the number of blocking events on a loop the
agent cannot hook). A few real-time end-to-end tests remain in
test_agent_idle.py / test_agent_loops.py with generous margins.
"""

from __future__ import annotations

import heapq
import itertools
import struct
import threading
from typing import Any

import pytest

from pyrometer.core.agent import wire
from pyrometer.core.agent.clock import SessionClock
from pyrometer.core.agent.loops import PROBE_BACKOFF
from pyrometer.core.agent.sampler import MAX_WEIGHT_S, Sampler
from pyrometer.core.agent.session import AgentSession


class VirtualClock:
    """perf_counter and sleep on a number the test advances."""

    def __init__(self) -> None:
        self.t = 100.0

    def perf(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)


class ListSink:
    closed = False

    def __init__(self) -> None:
        self.frames: list[tuple[int, Any]] = []

    def send(self, data: bytes, droppable: bool = False) -> bool:
        for kind, _flags, payload in wire.iter_frames(wire.file_header() + data):
            self.frames.append((kind, payload))
        return True

    def flush(self) -> None:
        pass

    def lag_times(self) -> list[float]:
        out: list[float] = []
        for kind, payload in self.frames:
            if kind == wire.LAG:
                n = struct.unpack_from("<I", payload, 0)[0]
                out.extend(struct.unpack_from(f"<{n}d", payload, 8))
        return out

    def blocking(self) -> list[dict[str, Any]]:
        return [wire.decode_json(p) for k, p in self.frames if k == wire.BLOCKING]


class Handle:
    def __init__(self, when: float, cb: Any, args: tuple[Any, ...]) -> None:
        self.when, self.cb, self.args, self.cancelled = when, cb, args, False

    def cancel(self) -> None:
        self.cancelled = True


class Selector:
    """Waits (on the virtual clock) until the time the loop set in `until`."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock, self.until = clock, 0.0

    def select(self, timeout: float | None = None) -> list[Any]:
        self.clock.t = max(self.clock.t, self.until)
        return []


class FakeLoop:
    """Timers on the virtual clock; `_selector.select` is what the agent wraps."""

    def __init__(self, clock: VirtualClock, hookable: bool = True) -> None:
        self.clock = clock
        self._timers: list[tuple[float, int, Handle]] = []
        self._seq = itertools.count()
        if hookable:
            self._selector = Selector(clock)

    def time(self) -> float:
        return self.clock.t

    def call_at(self, when: float, cb: Any, *args: Any) -> Handle:
        h = Handle(when, cb, args)
        heapq.heappush(self._timers, (when, next(self._seq), h))
        return h

    def get_task_factory(self) -> None:
        raise RuntimeError("no task factory on the fake loop")  # the tracker then leaves it alone

    def run_until(self, end: float, work: dict[float, float] | None = None) -> None:
        """Idle in select until the next timer, run it; `work` = {at: seconds busy}."""
        work = dict(work or {})
        while True:
            live = [e for e in self._timers if not e[2].cancelled]
            due = min([e[0] for e in live] + [end])
            blocks = [at for at in work if at <= due]
            if blocks:
                due = min(blocks)
            if due >= end:
                self.clock.t = end
                return
            sel = getattr(self, "_selector", None)
            if sel is not None:
                sel.until = due
                sel.select(None)  # idle from now until `due`
            else:
                self.clock.t = max(self.clock.t, due)
            if blocks:
                self.clock.t += work.pop(due)  # a callback holding the loop
                continue
            while self._timers and self._timers[0][0] <= self.clock.t:
                _, _, h = heapq.heappop(self._timers)
                if not h.cancelled:
                    h.cb(*h.args)


def make_session(clock: VirtualClock, **opts: Any) -> tuple[AgentSession, ListSink]:
    sink = ListSink()
    session = AgentSession(opts, sink, clock=SessionClock(perf=clock.perf, sleep=clock.sleep))
    session.started = True
    return session, sink


def start_loop(session: AgentSession, loop: FakeLoop) -> None:
    session.loops._events = object()  # hooked: loop_started is what _set_running_loop calls
    session.loops.loop_started(loop)


def test_idle_loop_probe_backs_off_exactly() -> None:
    clock = VirtualClock()
    session, sink = make_session(clock, loop_interval_ms=10)
    loop = FakeLoop(clock)
    start_loop(session, loop)
    t0 = clock.t
    loop.run_until(t0 + 1.0)
    times = sink.lag_times() + [r[0] for r in session.loops.take_lag()]
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(times)]
    # doubling from 10 ms up to PROBE_BACKOFF x 10 ms, then steady
    assert gaps[:4] == [0.02, 0.04, 0.08, 0.08], gaps
    assert max(gaps) == pytest.approx(0.01 * PROBE_BACKOFF)
    assert len(times) == 1 + 3 + int((1.0 - 0.01 - 0.14) / 0.08), times


def test_busy_stretch_is_one_blocking_event_of_its_exact_length() -> None:
    clock = VirtualClock()
    session, sink = make_session(clock, loop_interval_ms=10, block_threshold_ms=50)
    loop = FakeLoop(clock)
    start_loop(session, loop)
    t0 = clock.t
    loop.run_until(t0 + 1.0, work={t0 + 0.5: 0.12, t0 + 0.7: 0.03})
    [ev] = sink.blocking()  # the 30 ms stretch is under the threshold
    assert ev["duration"] == pytest.approx(0.12, abs=1e-9)
    assert ev["start"] == pytest.approx(clock.t - session.clock.t0 - 0.5, abs=1e-9)


def test_loop_without_hookable_selector_is_timed_by_its_probe() -> None:
    clock = VirtualClock()
    session, sink = make_session(clock, loop_interval_ms=10, block_threshold_ms=50)
    loop = FakeLoop(clock, hookable=False)
    start_loop(session, loop)
    t0 = clock.t
    loop.run_until(t0 + 1.0, work={t0 + 0.3: 0.1})
    [ev] = sink.blocking()
    # probe timing: known to within one probe interval
    assert 0.09 <= ev["duration"] <= 0.11, ev


def test_watchdog_plans_its_wake_ups_from_the_busy_start() -> None:
    clock = VirtualClock()
    session, _ = make_session(clock, loop_interval_ms=10, block_threshold_ms=50)
    loop = FakeLoop(clock)
    start_loop(session, loop)
    monitor = session.loops
    loop._selector.select(None)  # the loop left select: busy from now
    clock.t += 0.01
    monitor.states[id(loop)].ident = -1  # no real thread to capture: the plan is what is checked
    assert monitor._check() == pytest.approx(0.025 - 0.01 + 0.0005)
    clock.t += 0.02  # past half the threshold: captured once, next at the threshold
    assert monitor._check() == pytest.approx(0.05 - 0.03 + 0.0005)
    assert monitor.states[id(loop)].capture is not None


def test_sampler_weights_are_the_time_before_each_sample_and_capped() -> None:
    clock = VirtualClock()
    session, _ = make_session(clock, rate_hz=100)
    sampler = Sampler(session, 100)
    me = threading.get_ident()
    sampler._tick()
    clock.t += 0.01
    sampler._tick()
    clock.t += 3.0  # the sampler was starved for 3 s (and this thread moved: another line calls)
    sampler._tick()
    mine = [w for w, th in zip(sampler._weights, sampler._tids, strict=True) if th == session.threads.get(me).tid]
    assert mine[1:] == [pytest.approx(0.01), pytest.approx(0.01)]  # one interval, not the 3 s it did not see
    # thread-seconds the sampler did not see: this thread's 2.99 s, plus as much for any other thread
    # of the test process that also moved meanwhile (pytest-xdist's I/O thread does, at random)
    others = len(sampler._tids) // 3 - 1
    assert 3.0 - 0.01 - 1e-9 <= sampler.unsampled_s <= (3.0 - 0.01) * (1 + others) + 1e-9
    # seen in the same stack on both sides of a 3 s gap: the sample stands for up to MAX_WEIGHT_S
    sampler._weights.clear()
    sampler._tids.clear()
    for gap in (0.01, 3.0):
        clock.t += gap
        sampler._tick()
    mine = [w for w, th in zip(sampler._weights, sampler._tids, strict=True) if th == session.threads.get(me).tid]
    assert mine[-1] == MAX_WEIGHT_S


def test_a_thread_now_in_another_task_has_moved_though_its_stack_is_the_same() -> None:
    """Requests of one server run the same code: a starved gap that ends in the next request is not its time."""
    clock = VirtualClock()
    session, _ = make_session(clock, rate_hz=100)
    sampler = Sampler(session, 100)
    me = threading.get_ident()
    running = {"task": 7}
    session.current_task_id = lambda ident: running["task"] if ident == me else -1  # type: ignore[method-assign]
    for gap, task in ((0.0, 7), (0.01, 7), (0.4, 8), (0.4, 8)):  # one line: the same stack at every tick
        clock.t += gap
        running["task"] = task
        sampler._tick()
    tid = session.threads.get(me).tid
    mine = [(w, k) for w, th, k in zip(sampler._weights, sampler._tids, sampler._tasks, strict=True) if th == tid]
    # the gap into task 8 is unknown ground: one interval; then task 8 to task 8 is its own 0.4 s
    assert mine[1:] == [(pytest.approx(0.01), 7), (pytest.approx(0.01), 8), (pytest.approx(0.4), 8)]
    assert sampler.unsampled_s >= 0.39 - 1e-9


def test_busy_loop_probe_keeps_its_interval() -> None:
    clock = VirtualClock()
    session, sink = make_session(clock, loop_interval_ms=10, block_threshold_ms=50)
    loop = FakeLoop(clock)
    start_loop(session, loop)
    t0 = clock.t
    # busy 2 ms of every 2.5 ms (a loop that never idles long): never backed off
    loop.run_until(t0 + 1.0, work={t0 + 0.0025 * i: 0.002 for i in range(400)})
    times = sink.lag_times() + [r[0] for r in session.loops.take_lag()]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) <= 0.0125 + 1e-9, max(gaps)
    assert len(times) >= 75, len(times)
    assert sink.blocking() == []


def _sampler_ticks(lateness: list[float], seconds: float = 2.0) -> list[float]:
    """Times the sampler ticked at over `seconds` of virtual time, every sleep waking late by the
    next value of `lateness` (cycled): the GIL held by a busy thread, a CPU taken by others."""
    clock = VirtualClock()
    late = itertools.cycle(lateness)
    session, _ = make_session(clock, rate_hz=100)
    sampler = Sampler(session, 100)
    end = clock.t + seconds
    ticks: list[float] = []

    def sleep(delay: float) -> None:
        clock.t += max(0.0, delay) + next(late)
        if clock.t >= end:
            sampler._stop.set()

    def tick() -> float:
        ticks.append(clock.t)
        sampler.busy = True  # the target runs: no idle back-off
        clock.t += 0.0002  # a tick takes a little time
        sampler.last_tick_at = clock.t
        sampler.ticks += 1
        return clock.t

    session.clock.sleep = sleep
    sampler._tick = tick  # type: ignore[method-assign]
    sampler._loop()
    return ticks


@pytest.mark.parametrize(
    ("lateness", "why"),
    [
        ([0.006], "every wake-up waits ~a switch interval for the GIL"),
        ([0.002, 0.002, 0.002, 0.002, 0.03], "every fifth wake-up is 30 ms late (a loaded machine)"),
        ([0.001, 0.015], "every other wake-up is late by more than an interval"),
        ([0.004, 0.008, 0.012, 0.006, 0.02, 0.003], "lateness all over the place"),
    ],
)
def test_late_wake_ups_do_not_lower_the_sampling_rate(lateness: list[float], why: str) -> None:
    ticks = _sampler_ticks(lateness)
    rate = (len(ticks) - 1) / (ticks[-1] - ticks[0])
    assert rate >= 95, (why, rate)
    # made up by later ticks, never by a burst of twin samples
    assert min(b - a for a, b in itertools.pairwise(ticks)) >= 0.1 * 0.01 - 1e-9, why


def test_a_starved_sampler_gives_up_what_it_cannot_make_up() -> None:
    ticks = _sampler_ticks([0.002] * 20 + [0.5] + [0.002] * 1000)  # half a second without the GIL, once
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    stall = gaps.index(max(gaps))
    # after the stall, a few ticks closer than an interval make up at most two intervals
    # beyond the one the stall's own tick took (not the half second it lost)
    quick = list(itertools.takewhile(lambda g: g < 0.0099, gaps[stall + 1:]))
    assert sum(0.01 - g for g in quick) <= 0.03 + 0.002, gaps[stall:stall + 8]
    assert len(gaps) - 1 >= 0.95 * (2.0 - 0.5) * 100, len(gaps)  # the rest of the time at the rate


@pytest.mark.parametrize(
    ("steps_per_s", "mean_step_s", "off"),
    [
        (30000, 20e-6, "30000 task steps/s"),  # a loop stepping too fast
        (5000, 10e-6, "task steps of 10 us on average"),  # few steps a second (GIL-starved), all tiny
        (5000, 150e-6, ""),  # longer steps: timing them costs ~2% of the loop's work
    ],
)
def test_accounting_turns_itself_off_on_steps_too_small_to_time(steps_per_s: int, mean_step_s: float, off: str) -> None:
    clock = VirtualClock()
    session, sink = make_session(clock)
    acct = session.tasks.accounting
    acct._check_rate(clock.t)  # the window starts
    for _ in range(5):
        clock.t += 1024 / steps_per_s
        acct.steps += 1024
        acct.step_wall += 1024 * mean_step_s
        acct._check_rate(clock.t)
    assert acct.turned_off == off
    assert acct.enabled is (off == "")
    notices = [wire.decode_json(p)["message"] for k, p in sink.frames if k == wire.NOTICE]
    assert len(notices) == (1 if off else 0), notices


def test_a_task_backlog_the_sampler_cannot_keep_up_with_is_pumped_by_the_loop() -> None:
    clock = VirtualClock()
    session, sink = make_session(clock, rate_hz=100)
    session.sampler = Sampler(session, 100)  # not started: a sampler starved on a loaded machine
    loop = FakeLoop(clock)
    start_loop(session, loop)
    tracker = session.tasks
    tracker.created.extend((None, i, -1, "tiny", 0, clock.t - session.clock.t0) for i in range(30000))
    loop.run_until(clock.t + 0.2)  # a few probes
    assert tracker.backlog() <= 20000  # what a sampler that keeps up would take
    sent = sum(struct.unpack_from("<I", p, 0)[0] for k, p in sink.frames if k == wire.TASKS_NEW)
    assert sent == 30000 - tracker.backlog()
    assert tracker.events_dropped == 0
