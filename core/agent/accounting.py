"""Per-task accounting: CPU, running, waiting and delayed seconds of every asyncio task.

Every step of a task is a loop callback run by ``asyncio.events.Handle._run``
(the pure-Python loops of 3.9-3.13 run every callback through it); the agent
replaces that method while it runs (restored on stop). This step hook tells
the tracker when a step finished its task (the exact end time; cheaper than a
done callback per task), and while accounting is on it times the steps of
tracked tasks:

- ``running_s``: wall time of its steps (a task that calls ``time.sleep(0.12)``
  holds the loop 120 ms);
- ``cpu_s``: CPU of its steps. Reading the thread's CPU clock costs a system
  call (~1.5 us), too much for every step, so it is read once per loop
  iteration (the selector wrapper) and after every step longer than
  ``LONG_STEP_S``: a long step gets the CPU since the previous reading minus the
  wall time of the short steps in between (short steps count as all-CPU), so a
  task that matters (over 100 ms) is within a few ms of its true CPU;
- ``delayed_s``: from the moment the task was ready (its wakeup was scheduled
  with ``call_soon``, or, for a timer, its due time) to the start of its step;
- ``waiting_s``: the rest of its life (suspended, awaiting something).

The loop's ``call_soon`` is shadowed by an instance attribute to see when a
task becomes ready (the C Task and Future call it by name). Costs 2-3
microseconds per step; when a loop runs more than ``MAX_STEPS_PER_S`` steps a
second, or steps shorter than ``MIN_MEAN_STEP_S`` on average (where that would
cost more than a few percent), accounting turns itself off for the rest of the session (the step hook then only tells ends), says so in
a notice, and tasks finishing after that report unknown figures (NaN on the
wire), never 0.

An eager task's first step runs inside its task factory, before the agent knows
the task: it is charged as the factory call's duration.
"""

from __future__ import annotations

import sys

from . import wire
from .clock import own_thread_cpu

TYPE_CHECKING = False  # typing stays unimported in the target (start-up cost); mypy knows the name
if TYPE_CHECKING:
    from typing import Any, Dict, List, Tuple

    from .loops import LoopState
    from .session import AgentSession

LONG_STEP_S = 0.001
MAX_STEPS_PER_S = 20000.0  # above this a loop's steps are too small to time cheaply
# Timing a step costs ~2-3 us (a Python hook around it and around call_soon): on steps
# shorter than this on average, that is over ~5% of the loop's own work, even when the
# loop runs few steps a second because another thread holds the GIL most of the time
MIN_MEAN_STEP_S = 50e-6
# When accounting turns itself off on a loop whose tasks took more steps than this each,
# a done callback per task tells their ends more cheaply than the step hook on every step
# (ends are then late by the rest of their loop iteration; exact while the hook runs)
ENDS_BY_CALLBACK_STEPS = 4.0
RATE_WINDOW_S = 0.02
RATE_WINDOW_STEPS = 4096
_NAN = float("nan")
MIN_SPAN_S = 0.001  # running / delayed stretches shorter than this are not sent as spans
MAX_UNSENT_SPANS = 100000
OFF_NOTICE = "per-task accounting turned off"  # the notice's first words: readers find the moment by them
# one account per tracked task: [cpu_s, running_s, delayed_s, ready_at (perf, -1 not ready), created (perf), id]
CPU, RUNNING, DELAYED, READY, CREATED, TID = 0, 1, 2, 3, 4, 5



def _charge_measured_cpu(state: LoopState, acc: List[float], wall: float) -> None:
    """A long step reads the thread's CPU clock: charge the account what the clock moved since the
    last reading, less the short steps charged as wall time meanwhile, and at most the step's wall."""
    cpu = own_thread_cpu()
    spent = cpu - state.cpu_mark - state.short_wall
    acc[CPU] += min(wall, spent) if spent > 0 else 0.0
    state.cpu_mark = cpu
    state.short_wall = 0.0

class TaskAccounting:
    """Times the steps of tracked tasks; ``close(task)`` gives its four figures."""

    def __init__(self, session: AgentSession) -> None:
        self.session = session
        self.perf = session.clock.perf
        self.enabled = True
        self.accounts: Dict[int, List[float]] = {}  # id(task) -> account
        self._handle_cls: Any = None
        self._orig_run: Any = None  # Handle._run as found; None while the step hook is not installed
        self._run_timed: Any = None  # the step hook that times steps (accounting on)
        self._run_ends: Any = None  # the one that only tells task ends (accounting off)
        self._loops: Dict[int, Tuple[LoopState, Any]] = {}  # id(loop) -> (state, loop's own call_soon)
        self.steps = 0
        self._window_start = -1.0
        self._window_steps = 0
        self.step_wall = 0.0  # wall seconds of every timed step
        self._window_wall = 0.0
        self._window_tasks = 0
        self.on_step_heavy: Any = None  # the tracker's switch to done callbacks (see _check_rate)
        self.turned_off = ""
        # (start, end, task id, state) in perf time: 0 running, 1 delayed; taken by the pump
        self.spans: List[Tuple[float, float, int, int]] = []
        self.spans_dropped = 0

    # ------------------------------------------------------------ install
    def attach_loop(self, loop: Any, state: LoopState) -> None:
        """Start timing this loop's task steps (in the loop's thread)."""
        if not self.enabled or id(loop) in self._loops or self._orig_run is None:
            return
        try:
            orig = loop.call_soon
        except AttributeError:
            return
        accounts, perf = self.accounts, self.perf

        def call_soon(callback: Any, *args: Any, **kwargs: Any) -> Any:
            owner = getattr(callback, "__self__", None)
            if owner is not None:
                acc = accounts.get(id(owner))
                if acc is not None and acc[READY] < 0:
                    due = state.acct_due
                    acc[READY] = due if due is not None else perf()
            return orig(callback, *args, **kwargs)

        try:
            loop.call_soon = call_soon
        except (AttributeError, TypeError):
            return
        self.session.interner.elide(call_soon)
        self._loops[id(loop)] = (state, orig)
        state.cpu_mark = own_thread_cpu()
        state.short_wall = 0.0

    def install_steps(self, ids: Dict[int, int], states: Dict[int, LoopState]) -> bool:
        """Replace ``Handle._run`` with the step hook (once; the loop thread of the first loop).

        The hook sees every task step: it times them while accounting is on, and
        always tells the tracker when a step has finished its task (the done
        callback would say so only after every other callback of the loop
        iteration, up to a whole stall later, and costs a loop callback per task).
        ``ids`` is the tracker's id(task) -> task id, ``states`` id(loop) -> state.
        """
        if self._orig_run is not None:
            return True
        events = sys.modules.get("asyncio.events")
        handle_cls = getattr(events, "Handle", None)
        orig = getattr(handle_cls, "_run", None)
        if handle_cls is None or orig is None:
            return False
        accounts, perf, loops, me = self.accounts, self.perf, self._loops, self

        def _run_ends(handle: Any) -> Any:
            """The step hook while accounting is off: only a finished task's end time."""
            owner: Any = getattr(handle._callback, "__self__", None)
            if owner is None or id(owner) not in ids:
                return orig(handle)
            try:
                return orig(handle)
            finally:
                try:
                    if owner.done():
                        state = states.get(id(handle._loop))
                        if state is not None:
                            state.done_cb(owner, perf())
                except Exception:
                    pass

        def _run(handle: Any) -> Any:
            owner: Any = getattr(handle._callback, "__self__", None)
            acc = accounts.get(id(owner)) if owner is not None else None
            if acc is None:
                if owner is not None and id(owner) in ids:
                    return _run_ends(handle)  # tracked, not accounted (found with accounting off)
                when = getattr(handle, "_when", None)
                entry = loops.get(id(handle._loop)) if when is not None else None
                if entry is None:
                    return orig(handle)
                # a timer: what it wakes was ready at its due time, not when it ran
                state = entry[0]
                try:
                    state.acct_due = perf() - max(0.0, handle._loop.time() - when)
                except Exception:
                    state.acct_due = None
                try:
                    return orig(handle)
                finally:
                    state.acct_due = None
            entry = loops.get(id(handle._loop))
            if entry is None:
                return _run_ends(handle)
            state = entry[0]  # per loop, so loops in several threads never mix their figures
            start = perf()
            ready = acc[READY]
            if ready >= 0:
                if start > ready:
                    acc[DELAYED] += start - ready
                    if start - ready >= MIN_SPAN_S:
                        me._span(ready, start, acc, 1)  # a list append: cannot fail
                acc[READY] = -1.0
            outer, state.acct_nested = state.acct_nested, 0.0
            try:
                return orig(handle)
            finally:
                try:  # never raise into the loop
                    end = perf()
                    whole = end - start
                    wall = whole - state.acct_nested  # an eager child's first step is the child's
                    state.acct_nested = outer + whole
                    acc[RUNNING] += wall
                    me.step_wall += wall
                    if 0 <= acc[READY] < end:
                        acc[READY] = end  # readied itself (sleep(0), a yield): delayed from now on
                    if wall >= MIN_SPAN_S:
                        me._span(start, end, acc, 0)
                    if wall >= LONG_STEP_S:
                        _charge_measured_cpu(state, acc, wall)
                    else:
                        acc[CPU] += wall
                        state.short_wall += wall
                    me.steps += 1
                    if me.steps & 1023 == 0:
                        me._check_rate(end)
                    if owner.done():
                        state.done_cb(owner, end)
                except Exception:
                    pass

        self._handle_cls = handle_cls
        self._orig_run = orig
        self._run_timed = _run
        self._run_ends = _run_ends
        self.session.interner.elide(_run)
        self.session.interner.elide(_run_ends)
        handle_cls._run = _run if self.enabled else _run_ends
        return True

    def _span(self, start: float, end: float, acc: List[float], kind: int) -> None:
        if len(self.spans) < MAX_UNSENT_SPANS:
            self.spans.append((start, end, int(acc[TID]), kind))
        else:
            self.spans_dropped += 1

    def take_spans(self, t0: float) -> List[Tuple[bytes, int]]:
        """A TASK_SPANS frame of the spans since the last call (session time), with its row count."""
        spans, self.spans = self.spans, []
        if not spans:
            return []
        starts, ends, tids, kinds = zip(*spans)  # noqa: B905 (3.9 has no strict=)
        return [(wire.task_spans_frame([a - t0 for a in starts], [b - t0 for b in ends], tids, kinds), len(spans))]

    def iteration(self, state: LoopState) -> None:
        """The loop left select: a fresh CPU reading for the steps of this iteration."""
        if self.enabled and state.short_wall >= 0:
            state.cpu_mark = own_thread_cpu()
            state.short_wall = 0.0

    def _check_rate(self, now: float) -> None:
        """Every 1,024 steps: too many steps a second, or too short ones, to time cheaply? Then stop.

        Decided on the last 4,096 steps (at least 20 ms of them), so a loop that
        steps too fast pays for a few thousand timed steps only.
        """
        if self._window_start < 0:
            self._window_start, self._window_steps, self._window_wall = now, self.steps, self.step_wall
            self._window_tasks = self.session.tasks.tasks_seen
            return
        span = now - self._window_start
        steps = self.steps - self._window_steps
        if steps < RATE_WINDOW_STEPS or span < RATE_WINDOW_S:
            return
        rate = steps / span
        mean = (self.step_wall - self._window_wall) / steps
        tasks = self.session.tasks.tasks_seen
        per_task = steps / max(1, tasks - self._window_tasks)
        self._window_start, self._window_steps, self._window_wall = now, self.steps, self.step_wall
        self._window_tasks = tasks
        if (rate > MAX_STEPS_PER_S or mean < MIN_MEAN_STEP_S) and not self.turned_off:  # said once
            if rate > MAX_STEPS_PER_S:
                self.turned_off = "%.0f task steps/s" % rate
            else:
                self.turned_off = "task steps of %.0f us on average" % (mean * 1e6)
            self.stop_timing()
            if per_task > ENDS_BY_CALLBACK_STEPS and self.on_step_heavy is not None:
                self.on_step_heavy()
            self.session.notice(
                "warning",
                OFF_NOTICE + ": the loop runs %s, too small to time at under 3%% cost; "
                "tasks finishing from now on show unknown CPU/running/waiting/delayed" % self.turned_off,
            )

    def stop_timing(self) -> None:
        """Stop timing steps (the step hook keeps telling task ends) and put every loop's
        call_soon back (any thread; idempotent)."""
        self.enabled = False
        cls = self._handle_cls
        if cls is not None and cls.__dict__.get("_run") is self._run_timed:
            try:
                cls._run = self._run_ends
            except Exception:
                pass
        for state, _orig in list(self._loops.values()):
            state.short_wall = -1.0  # the selector wrapper stops calling iteration()
            loop = state.loop_ref()
            if loop is not None and "call_soon" in getattr(loop, "__dict__", {}):
                try:
                    del loop.call_soon
                except Exception:
                    pass
        self._loops.clear()
        self.accounts.clear()

    def uninstall(self) -> None:
        """Stop timing and put Handle._run back, unless someone replaced it since (idempotent)."""
        self.stop_timing()
        cls = self._handle_cls
        if cls is not None and cls.__dict__.get("_run") in (self._run_timed, self._run_ends):
            try:
                cls._run = self._orig_run
            except Exception:
                pass
        self._orig_run = None

    # ------------------------------------------------------------ per task
    def open(self, task: Any, created: float, ready: bool, tid: int) -> None:
        """Start an account (the factory, in the loop thread); ``created`` is perf time."""
        if self.enabled:
            self.accounts[id(task)] = [0.0, 0.0, 0.0, created if ready else -1.0, created, float(tid)]

    def charge_eager(self, task: Any, state: LoopState, seconds: float) -> None:
        """An eager task's first step ran inside its factory call (inside the parent's step:
        charged to the child, and taken out of the parent's)."""
        acc = self.accounts.get(id(task))
        if acc is None:
            return
        acc[RUNNING] += seconds
        acc[READY] = -1.0
        state.acct_nested += seconds
        if seconds >= LONG_STEP_S and state.short_wall >= 0:
            _charge_measured_cpu(state, acc, seconds)
        else:
            acc[CPU] += seconds
            if state.short_wall >= 0:
                state.short_wall += seconds

    def close(self, task: Any, end: float) -> Tuple[float, float, float, float]:
        """(cpu_s, running_s, waiting_s, delayed_s) of a finished task; NaN when not measured."""
        acc = self.accounts.pop(id(task), None)
        if acc is None or not self.enabled:
            return _NAN, _NAN, _NAN, _NAN
        life = end - acc[CREATED]
        waiting = life - acc[RUNNING] - acc[DELAYED]
        return acc[CPU], acc[RUNNING], waiting if waiting > 0 else 0.0, acc[DELAYED]

    def forget(self, task_key: int) -> None:
        self.accounts.pop(task_key, None)
