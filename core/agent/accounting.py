"""Per-task accounting: CPU, running, waiting and delayed seconds of every asyncio task.

Every step of a task is a loop callback run by ``asyncio.events.Handle._run``
(the pure-Python loops of 3.9-3.13 run every callback through it); the agent
replaces that method while it runs (restored on stop). This step hook tells
the tracker when a step finished its task (the exact end time; cheaper than a
done callback per task), and while accounting is on it times the steps of
tracked tasks:

- ``running_s``: wall time of its steps (a task that calls ``time.sleep(0.12)``
  holds the loop 120 ms). One clock reading per step boundary: a step that
  follows another task step of the same loop iteration starts where that one
  ended (the loop's own bookkeeping between two steps, well under a
  microsecond, is charged to the step it leads to); after select, a timer or any
  other callback the clock is read afresh;
- ``cpu_s``: CPU of its steps. Reading the thread's CPU clock costs a system
  call (~1.5 us), too much for every step, so it is read once per loop
  iteration (the selector wrapper) and after every step longer than
  ``LONG_STEP_S``: a long step gets the CPU the clock moved since the previous
  reading less the wall time of everything the loop did in between (short steps
  count as all-CPU), so a task that matters (over 100 ms) is within a few ms of
  its true CPU;
- ``delayed_s``: from the moment the task was ready (its wakeup was scheduled
  with ``call_soon``, or, for a timer, its due time; a task that readied itself,
  e.g. ``sleep(0)``, from the end of that step) to the start of its step;
- ``waiting_s``: the rest of its life (suspended, awaiting something).

The loop's ``call_soon`` is shadowed by an instance attribute to see when a
task becomes ready (the C Task and Future call it by name). Timing costs ~1 us
per step (a Python hook around it and around call_soon; see
benchmarks/bench_task_accounting.py), which no pure-Python hook can bring near
3% of the ~2.5 us steps of a tiny-step program. So when a loop runs more than
``MAX_STEPS_PER_S`` callbacks a second, or callbacks shorter than
``MIN_MEAN_STEP_S`` on average (its busy time per callback, checked once per
loop iteration), accounting turns itself off for the rest of the session (the
step hook then only tells ends), says so in a notice, and tasks finishing after
that report unknown figures (NaN on the wire), never 0.

An eager task's first step runs inside its task factory, before the agent knows
the task: it is charged as the factory call's duration.

While accounting is on, every step of LONG_STEP_S or more (a task's, or any other
callback's: those are timed too, two clock readings each) is kept until the loop's
iteration ends, so a stall names each step that held the loop with its own share
(loops.py), not one task for the whole stall.
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
# above this a loop's steps are too small to time cheaply: at ~1 us a timed step, 25,000 a second
# cost 2.5% of the loop thread (20,000 cut off a loop kept fully busy by 50 us steps, ~2% cost)
MAX_STEPS_PER_S = 25000.0
# Timing a step costs ~1 us (a Python hook around it and around call_soon): on steps
# shorter than this on average, that is over ~2% of the loop's own work, even when the
# loop runs few steps a second because another thread holds the GIL most of the time
MIN_MEAN_STEP_S = 50e-6
# When accounting turns itself off on a loop whose tasks took more steps than this each,
# a done callback per task tells their ends more cheaply than the step hook on every step
# (ends are then late by the rest of their loop iteration; exact while the hook runs)
ENDS_BY_CALLBACK_STEPS = 4.0
RATE_WINDOW_S = 0.02
RATE_WINDOW_STEPS = 4096
RATE_CHECK_STEPS = 1024  # loop callbacks between two rate checks
_NAN = float("nan")
MIN_SPAN_S = 0.001  # running / delayed stretches shorter than this are not sent as spans
MAX_LONG_STEPS = 256  # long steps one loop iteration keeps for its stall report (the longest are sent)
MAX_UNSENT_SPANS = 100000
OFF_NOTICE = "per-task accounting turned off"  # the notice's first words: readers find the moment by them
# one account per tracked task: [cpu_s - running_s (only long steps' CPU differs from their wall),
# running_s, delayed_s, ready_at (perf; NOT_READY, STEPPING or SELF_READY), created (perf), id,
# its loop's state, its latest span (a list, extended while the next stretch adjoins it)]
CPU, RUNNING, DELAYED, READY, CREATED, TID, STATE, LAST_SPAN = 0, 1, 2, 3, 4, 5, 6, 7
NOT_READY = -1.0  # suspended (waiting)
STEPPING = -2.0  # its step runs now
SELF_READY = -3.0  # its step runs now and has scheduled its next one (ready from the step's end)


def new_account(created: float, ready: bool, tid: int, state: LoopState) -> List[Any]:
    """The account of a task created at ``created`` (perf time); ready if its first step is scheduled."""
    return [0.0, 0.0, 0.0, created if ready else NOT_READY, created, float(tid), state, None]


def _report(handle: Any, exc: BaseException) -> None:
    """What ``Handle._run`` does with an exception its callback raised (a task step lets none
    but SystemExit and KeyboardInterrupt through, which are re-raised before this)."""
    helpers = sys.modules["asyncio.format_helpers"]
    try:
        cb = helpers._format_callback_source(handle._callback, handle._args, debug=handle._loop.get_debug())
    except TypeError:  # before 3.13
        cb = helpers._format_callback_source(handle._callback, handle._args)
    context = {"message": "Exception in callback %s" % (cb,), "exception": exc, "handle": handle}
    if handle._source_traceback:
        context["source_traceback"] = handle._source_traceback
    handle._loop.call_exception_handler(context)


def _plain_call_soon(loop: Any) -> bool:
    """Whether the loop schedules callbacks with BaseEventLoop's own call_soon (nothing overridden)."""
    base = getattr(sys.modules.get("asyncio.base_events"), "BaseEventLoop", None)
    if base is None or not isinstance(loop, base) or not hasattr(loop, "_ready"):
        return False
    cls = type(loop)
    return all(getattr(cls, name, None) is getattr(base, name) for name in ("call_soon", "_call_soon", "_check_closed"))


def _measure_cpu(state: LoopState, acc: List[Any], start: float, end: float, wall: float) -> None:
    """A long step reads the thread's CPU clock: it used what the clock moved since the last
    reading less the wall time of what the loop did before the step (all-CPU short steps and
    bookkeeping), at most its own wall; the difference from its wall goes to the account."""
    cpu = own_thread_cpu()
    before = start - state.cpu_mark_wall
    spent = cpu - state.cpu_mark - (before if before > 0 else 0.0)
    acc[CPU] += (min(wall, spent) if spent > 0 else 0.0) - wall
    state.cpu_mark = cpu
    state.cpu_mark_wall = end


def _long_step(state: LoopState, start: float, seconds: float, owner: Any, tid: int, callback: Any) -> None:
    """Keep a step of at least LONG_STEP_S for the stall report (the loop's iteration ends it):
    the callback's owner (a task, or None), the task's id now (-1: none; a finished task's is
    forgotten by the report), and the callback of a step that is not a timed task's."""
    steps = state.long_steps
    if len(steps) < MAX_LONG_STEPS:
        steps.append([start, seconds, owner, tid, callback])


def _nested_since(state: LoopState, start: float) -> float:
    """Seconds of the eager first steps that ran inside the step that began at ``start`` (the
    children's, not the step's); sets state.acct_nested_first/last (-1: none) and clears the list.
    Older ones ran inside steps too short to look at again (or outside any step): not this one's."""
    total, first, last = 0.0, -1.0, -1.0
    flat = iter(state.acct_nested)
    for a, b in zip(flat, flat):  # noqa: B905 (3.9 has no strict=)
        if a >= start:
            total += b - a
            if first < 0:
                first = a
            last = b
    state.acct_nested = []
    state.acct_nested_first, state.acct_nested_last = first, last
    return total


def _own_start(start: float, end: float, own: float, first: float, last: float) -> float:
    """Where a step of ``own`` seconds between ``start`` and ``end``, around eager first steps that
    ran from ``first`` to ``last`` (-1: none), is placed: before or after them, on the side where
    more of its own time ran (a stall matches watchdog looks and delayed tasks' waits to steps by time)."""
    if last >= 0 and end - last > first - start:
        return end - own
    return start


class TaskAccounting:
    """Times the steps of tracked tasks; ``close(task)`` gives its four figures."""

    def __init__(self, session: AgentSession) -> None:
        self.session = session
        self.perf = session.clock.perf
        self.enabled = True
        self.accounts: Dict[int, List[Any]] = {}  # id(task) -> account (see new_account)
        self._handle_cls: Any = None
        self._orig_run: Any = None  # Handle._run as found; None while the step hook is not installed
        self._run_timed: Any = None  # the step hook that times steps (accounting on)
        self._run_ends: Any = None  # the one that only tells task ends (accounting off)
        self._loops: Dict[int, LoopState] = {}  # id(loop) -> state of each loop whose steps are timed
        self.steps = 0  # loop callbacks run by accounted loops (counted per iteration)
        self._window_start = -1.0
        self._window_steps = 0
        self._next_check = 0
        self.step_wall = 0.0  # busy seconds of accounted loops (the selector wrapper's)
        self._window_wall = 0.0
        self._window_tasks = 0
        self.on_step_heavy: Any = None  # the tracker's switch to done callbacks (see _check_rate)
        self.turned_off = ""
        # [start, end, task id, state] in perf time: state 0 running, 1 delayed (-1 once taken by the pump)
        self.spans: List[List[Any]] = []
        self.spans_dropped = 0

    # ------------------------------------------------------------ install
    def attach_loop(self, loop: Any, state: LoopState) -> None:
        """Start timing this loop's task steps (in the loop's thread).

        Only a loop whose steps go through the step hook and whose selector is wrapped (the
        iterations' boundaries, where the clock is read afresh) is timed; the tasks of any
        other loop (uvloop, a loop without a selector to wrap) show unknown figures.
        """
        if not self.enabled or id(loop) in self._loops or self._orig_run is None or not state.ends_in_steps:
            return
        if state.select_wrapper is None:
            return
        try:
            orig = loop.call_soon
        except AttributeError:
            return
        accounts_get, perf = self.accounts.get, self.perf
        inline = _plain_call_soon(loop)
        handle_cls: Any = getattr(sys.modules.get("asyncio.events"), "Handle", None)
        ready_append = loop._ready.append if inline and handle_cls is not None else None

        def call_soon(callback: Any, *args: Any, context: Any = None) -> Any:
            # keyword-only context: the C Task and Future pass it by name, and no **kwargs
            # dict is built per call
            acc = accounts_get(id(getattr(callback, "__self__", None)))
            if acc is not None:
                ready = acc[3]  # READY
                if ready == -1.0:  # NOT_READY: ready from now, or from the due time of the timer running
                    due = state.acct_due
                    acc[3] = perf() if due is None else due
                elif ready == -2.0:  # STEPPING: it readies itself, from its step's end (no clock read)
                    acc[3] = -3.0  # SELF_READY
            if ready_append is not None and not loop._closed and not loop._debug:
                # BaseEventLoop.call_soon and _call_soon inlined (the same in 3.9-3.13; a closed
                # loop's error and debug mode's checks are the original's): this wrapper then
                # costs the loop less than the two calls it saves
                handle = handle_cls(callback, args, loop, context)
                ready_append(handle)
                return handle
            return orig(callback, *args, context=context)

        try:
            loop.call_soon = call_soon
        except (AttributeError, TypeError):
            return
        self.session.interner.elide(call_soon)
        state.acct_call_soon = call_soon
        self._loops[id(loop)] = state
        state.acct_mark = -1.0
        state.cpu_mark = own_thread_cpu()
        state.cpu_mark_wall = perf()
        state.acct_busy_seen = state.busy_total
        state.accounted = True

    def install_steps(self, ids: Dict[int, int], states: Dict[int, LoopState]) -> bool:
        """Replace ``Handle._run`` with the step hook (once; the loop thread of the first loop).

        The hook sees every task step: it times them while accounting is on, and
        always tells the tracker when a step has finished its task (the done
        callback would say so only after every other callback of the loop
        iteration, up to a whole stall later, and costs a loop callback per task).
        ``ids`` is the tracker's id(task) -> task id, ``states`` id(loop) -> state.

        A task's step is run inline (the body of ``Handle._run``: its context runs
        the callback) rather than through the original method, which would cost a
        second Python call per step; every other callback goes through the original.
        """
        if self._orig_run is not None:
            return True
        events = sys.modules.get("asyncio.events")
        handle_cls = getattr(events, "Handle", None)
        orig = getattr(handle_cls, "_run", None)
        if handle_cls is None or orig is None:
            return False
        accounts_get, perf, loops_get = self.accounts.get, self.perf, self._loops.get
        span = self._span
        long_s = LONG_STEP_S
        if MIN_SPAN_S != LONG_STEP_S:
            raise AssertionError("one comparison per step checks both")  # pragma: no cover

        def _run_ends(handle: Any) -> Any:
            """The step hook while accounting is off: only a finished task's end time."""
            callback = handle._callback
            owner: Any = getattr(callback, "__self__", None)
            if id(owner) not in ids:
                return orig(handle)
            try:
                handle._context.run(callback, *handle._args)
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                _report(handle, exc)
            try:
                if owner.done():
                    state = states.get(id(handle._loop))
                    if state is not None:
                        state.done_cb(owner, perf())
            except Exception:
                pass
            return None

        def _run(handle: Any) -> Any:
            callback = handle._callback
            owner: Any = getattr(callback, "__self__", None)
            acc = accounts_get(id(owner))
            if acc is None:
                state = loops_get(id(handle._loop))
                if state is None:
                    return _run_ends(handle)  # a loop not timed
                state.acct_mark = -1.0  # the next step reads the clock afresh
                when = getattr(handle, "_when", None)
                begin = perf()  # timed too: a stall lists every long step, a task's or not
                if when is None:
                    try:
                        return _run_ends(handle)  # another callback, or a task tracked, not accounted
                    finally:
                        took = perf() - begin
                        if took >= long_s:
                            at = begin
                            if state.acct_nested:  # eager first steps ran inside: their share, not this one's
                                end = begin + took
                                took -= _nested_since(state, begin)
                                at = _own_start(begin, end, took, state.acct_nested_first, state.acct_nested_last)
                            if took >= long_s:
                                _long_step(state, at, took, owner, ids.get(id(owner), -1), callback)
                # a timer: what it wakes was ready at its due time, not when it ran
                try:
                    state.acct_due = begin - max(0.0, handle._loop.time() - when)
                except Exception:
                    state.acct_due = None
                try:
                    return orig(handle)
                finally:
                    state.acct_due = None
                    took = perf() - begin
                    if took >= long_s:
                        at = begin
                        if state.acct_nested:
                            end = begin + took
                            took -= _nested_since(state, begin)
                            at = _own_start(begin, end, took, state.acct_nested_first, state.acct_nested_last)
                        if took >= long_s:
                            _long_step(state, at, took, owner, ids.get(id(owner), -1), callback)
            state = acc[6]  # STATE: per loop, so loops in several threads never mix their figures
            start = state.acct_mark  # the previous step's end, when this one follows it
            if start < 0:
                start = perf()
            ready = acc[3]  # READY
            if ready >= 0.0:
                if start > ready:
                    acc[2] += start - ready  # DELAYED
                    if start - ready >= long_s:
                        last = acc[7]  # LAST_SPAN: extended while delay follows delay (see _span)
                        if last is not None and last[3] == 1 and ready - last[1] < long_s:
                            last[1] = start
                        else:
                            span(acc, ready, start, 1)
            acc[3] = -2.0  # STEPPING
            try:
                handle._context.run(callback, *handle._args)
            except (SystemExit, KeyboardInterrupt):
                state.acct_mark = -1.0
                acc[3] = -1.0
                raise
            except BaseException as exc:
                _report(handle, exc)
            try:  # never raise into the loop
                end = perf()
                state.acct_mark = end
                wall = end - start
                nested = state.acct_nested
                if nested:
                    wall -= _nested_since(state, start)  # an eager child's first step is the child's
                acc[1] += wall  # RUNNING
                # suspended (NOT_READY), or readied itself (sleep(0), a yield): ready from now
                acc[3] = -1.0 if acc[3] == -2.0 else end
                if wall >= long_s:
                    span(acc, start, end, 0)
                    _measure_cpu(state, acc, start, end, wall)
                    at = start
                    if nested:  # its own time around its eager children's first steps
                        at = _own_start(start, end, wall, state.acct_nested_first, state.acct_nested_last)
                    _long_step(state, at, wall, owner, int(acc[5]), None)  # TID
                if owner.done():
                    state.done_cb(owner, end)
            except Exception:
                pass
            return None

        self._handle_cls = handle_cls
        self._orig_run = orig
        self._run_timed = _run
        self._run_ends = _run_ends
        self.session.interner.elide(_run)
        self.session.interner.elide(_run_ends)
        handle_cls._run = _run if self.enabled else _run_ends
        return True

    def _span(self, acc: List[Any], start: float, end: float, kind: int) -> None:
        """A stretch of at least MIN_SPAN_S. One that adjoins the task's previous stretch of the
        same kind extends it: a 1,000-task loop delays every task ~2 ms a step, between steps of
        ~2 us (not spans), so its tasks' delayed stretches become one span each, not one a step.
        (The step hook inlines the extension of a delayed stretch.)"""
        last = acc[LAST_SPAN]
        if last is not None and last[3] == kind and start - last[1] < MIN_SPAN_S:
            last[1] = end
        elif len(self.spans) < MAX_UNSENT_SPANS:
            last = acc[LAST_SPAN] = [start, end, int(acc[TID]), kind]
            self.spans.append(last)
        else:
            self.spans_dropped += 1

    def take_spans(self, t0: float) -> List[Tuple[bytes, int]]:
        """A TASK_SPANS frame of the spans since the last call (session time), with its row count.

        Taken spans get kind -1, so the loop thread no longer extends them (it may have
        extended one between the swap and the packing: that stretch then ends a little early).
        """
        spans, self.spans = self.spans, []
        if not spans:
            return []
        starts, ends, tids, kinds = zip(*spans)  # noqa: B905 (3.9 has no strict=)
        for row in spans:
            row[3] = -1
        return [(wire.task_spans_frame([a - t0 for a in starts], [b - t0 for b in ends], tids, kinds), len(spans))]

    def iteration(self, state: LoopState) -> None:
        """The loop left select (``state.busy_since`` is now): a fresh CPU reading for the steps of
        this iteration, and every RATE_CHECK_STEPS callbacks the check whether to stay on."""
        if not self.enabled:
            return
        now = state.busy_since
        loop: Any = state.loop_ref()
        if now is None or loop is None:
            return
        state.acct_mark = -1.0
        if state.acct_nested:  # eager first steps of short steps (or outside any): no later step's
            state.acct_nested = []
        state.cpu_mark = own_thread_cpu()
        state.cpu_mark_wall = now
        try:
            self.steps += len(loop._ready)  # what this iteration runs (timers and I/O callbacks aside)
        except Exception:
            return
        self.step_wall += state.busy_total - state.acct_busy_seen
        state.acct_busy_seen = state.busy_total
        if self.steps >= self._next_check:
            self._next_check = self.steps + RATE_CHECK_STEPS
            self._check_rate(now)

    def _check_rate(self, now: float) -> None:
        """Too many loop callbacks a second, or too short ones, to time cheaply? Then stop.

        Decided on the last 4,096 callbacks (at least 20 ms of them), so a loop that
        steps too fast pays for a few thousand timed steps only. A callback's length
        is the loop's busy time (out of select) per callback.
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
        for state in list(self._loops.values()):
            state.accounted = False  # the selector wrapper stops calling iteration()
            loop = state.loop_ref()
            # never through loop.__dict__: on 3.11/3.12 reading an object's __dict__ stops the
            # interpreter specialising its attribute reads for good (~6 a loop step: +7% on tiny steps)
            if loop is not None and getattr(loop, "call_soon", None) is state.acct_call_soon:
                try:
                    del loop.call_soon
                except Exception:
                    pass
            state.acct_call_soon = None
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
    def open(self, task: Any, created: float, ready: bool, tid: int, state: LoopState) -> None:
        """Start an account (the factory, in the loop thread); ``created`` is perf time."""
        if state.accounted:
            self.accounts[id(task)] = new_account(created, ready, tid, state)

    def charge_eager(self, task: Any, state: LoopState, begin: float, end: float, nested_before: int = 0) -> None:
        """An eager task's first step ran inside its factory call, from ``begin`` to ``end`` (perf
        time; inside the parent's step: charged to the child, and taken out of the parent's).
        ``nested_before`` is the length of ``state.acct_nested`` before the call: what the call
        added are the first steps of eager tasks the child started, the grandchildren's, not the
        child's (the whole call is taken out of the parent's step once)."""
        acc = self.accounts.get(id(task))
        if acc is None:
            return  # not timed: its step stays its parent's (its children's are theirs)
        seconds = end - begin
        nested = state.acct_nested
        at = begin
        if len(nested) > nested_before:
            inner = nested[nested_before:]
            del nested[nested_before:]
            seconds -= sum(inner[1::2]) - sum(inner[0::2])
            at = _own_start(begin, end, seconds, inner[0], inner[-1])
        nested += (begin, end)  # flat floats: a burst of eager tasks in one step makes no GC-tracked tuples
        acc[RUNNING] += seconds
        acc[READY] = NOT_READY
        if seconds >= LONG_STEP_S and state.accounted:
            _measure_cpu(state, acc, at, end, seconds)  # (ends now: the CPU clock is read now)
            _long_step(state, at, seconds, task, int(acc[TID]), None)

    def close(self, task: Any, end: float) -> Tuple[float, float, float, float]:
        """(cpu_s, running_s, waiting_s, delayed_s) of a finished task; NaN when not measured."""
        acc = self.accounts.pop(id(task), None)
        if acc is None or not self.enabled:
            return _NAN, _NAN, _NAN, _NAN
        life = end - acc[CREATED]
        waiting = life - acc[RUNNING] - acc[DELAYED]
        return acc[RUNNING] + acc[CPU], acc[RUNNING], waiting if waiting > 0 else 0.0, acc[DELAYED]

    def forget(self, task_key: int) -> None:
        self.accounts.pop(task_key, None)
