"""asyncio loop discovery, the lag probe and the blocking watchdog.

Discovery without polling: ``asyncio.events._set_running_loop`` is what every
``BaseEventLoop.run_forever`` calls (via the module attribute, on 3.9–3.13)
when a loop starts and stops running in a thread, so wrapping it sees every
loop, in any thread, started after the agent. Loops already running at attach
time are found by walking ``sys._current_frames()`` for ``run_forever`` /
``_run_once`` frames. If asyncio is not imported yet, a one-shot meta-path hook
installs the wrapper right after ``asyncio.events`` is executed, so a program
that never uses asyncio never pays for importing it.

Per loop: a probe re-armed with ``call_at`` every ``loop_interval`` measures
how late it woke (LAG). On a loop that spent less than ``IDLE_BUSY_SHARE``
of the time since the previous probe out of select (idle), the probe backs
off, doubling its interval up to ``PROBE_BACKOFF`` times: a timer every 10 ms
alone costs an idle loop ~0.8% of a core in wake-ups. Any other wake-up
re-arms it one interval ahead, so a block that starts right after an idle
stretch is measured as on a busy loop, and blocking detection does not
depend on the probe at all (see below). The loop's selector ``select`` is wrapped (an instance
attribute, removed on stop) to know exactly when the loop leaves and re-enters
its idle wait: the loop is *busy* from leaving select to re-entering it. The
watchdog thread sleeps on a condition (with a timeout, never a busy poll; no
timeout at all while no loop runs) until a busy loop reaches half of
``block_threshold`` and then the threshold, and captures that loop thread's
stack each time (the blocking code). When the loop reaches select again after
more than the threshold, the loop thread emits BLOCKING with the exact busy
duration and the latest capture, or, if the watchdog was starved, the
sampler's latest stack of that thread inside the busy period. Loops without a
hookable selector (e.g. uvloop) fall back to probe timing.

A busy period is one loop iteration and may run several long steps (two
handlers each sleeping 0.3 s). While per-task accounting times the steps
(accounting.py keeps each one of LONG_STEP_S or more until the iteration ends),
BLOCKING lists the longest steps with their own seconds, task and a stack a look
took inside each, and blames the longest step, not whatever ran when the
watchdog looked.
"""

from __future__ import annotations

import itertools
import sys
import threading
import weakref
from types import FrameType

from . import wire
from .clock import own_thread_cpu
from .frames import AGENT_DIR
from .tasks import unrecorded_key

TYPE_CHECKING = False  # typing stays unimported in the target (start-up cost); mypy knows the name
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Tuple

    from .session import AgentSession

SNAPSHOT_SECONDS = 0.25
SLOW_SAMPLER_S = 0.1  # with a sampler ticking less often than this, the probe pumps a backlog
PUMP_BACKLOG = 5000  # task events waiting that make the probe pump (slow sampler)
LOOP_PUMPS_AT = 20000  # task events waiting that make the probe pump whatever the sampler's rate
MAX_DELAYED = 1000  # tasks listed per blocking event (most delayed first)
PROBE_BACKOFF = 8  # an idle loop is probed at most this many intervals apart
IDLE_BUSY_SHARE = 0.05  # a loop out of select less than this share of the time is idle
SNAPSHOT_BUDGET = 0.01  # await snapshots may take at most ~1% of a loop's time
_LOOP_FRAME_NAMES = ("run_forever", "_run_once")
ON_TIME_S = 0.003  # a look at most this (plus a GIL switch interval) late shows what ran when it was due
MAX_LOOKS = 64  # distinct steps remembered per busy period
MAX_STALL_STEPS = 8  # long steps a blocking event lists (the longest)


class LoopState:
    """Everything the agent keeps about one event loop."""

    def __init__(self, loop: Any, lid: int, ident: int, tid: int) -> None:
        self.loop_ref = weakref.ref(loop)
        self.lid = lid
        self.ident = ident  # thread ident the loop last ran in
        self.tid = tid
        self.active = True  # False once the session unhooks this loop
        self.running = False
        self.handle: Any = None  # the armed probe TimerHandle
        self.step = 0.0  # the interval the probe is armed with
        self.level = 0.0  # the backed-off interval an idle loop is probed at
        self.busy_total = 0.0  # seconds the loop spent out of select (the select wrapper)
        self.busy_at_probe = 0.0
        self.expected = 0.0  # loop.time() the probe is due
        self.last_tick = 0.0  # perf_counter of the last probe run
        self.busy_since: Optional[float] = None  # perf_counter when the loop left select
        self.selector: Any = None
        self.select_wrapper: Any = None
        # stack, task, callback, busy-period start it belongs to, stage (1 early, 2 at threshold)
        self.capture: Optional[Tuple[int, int, str, float, int]] = None
        # every look at the busy period starting at looks_ref: [step frame, first seen, last seen,
        # stack, task id, callback, chain, on time, the task]; a step seen twice ran at least that long
        self.looks: List[List[Any]] = []
        self.looks_ref = -1.0
        self.next_look = 0.0  # perf time of the next look at a period past the threshold
        self.next_snapshot = 0.0
        # blame of the busy period starting at blame[0]: the blocking task's await chain
        # [(id, name)] and {task id: (name, first seen)} of tasks seen ready meanwhile
        self.blame: Optional[Tuple[float, List[Tuple[int, str]], Dict[int, Tuple[str, float]]]] = None
        # steps of this loop iteration that held the loop at least LONG_STEP_S, timed by the step
        # hook while accounting is on: [start (perf), seconds, owner, task id, callback] (accounting._long_step)
        self.long_steps: List[List[Any]] = []
        # task tracker state (see tasks.py)
        self.user_factory: Any = None
        self.factory: Any = None
        self.pending: Dict[int, Any] = {}  # task id -> weakref to the pending task
        self.default_name: Any = None  # (task, name) across a 3.13.0 create_task call
        self.done_cb: Any = None  # this loop's task done callback (tasks.py)
        # per-task accounting (accounting.py)
        self.accounted = False  # its task steps are timed
        self.cpu_mark = 0.0  # the loop thread's CPU at the last reading
        self.cpu_mark_wall = 0.0  # ... and perf time then
        self.acct_mark = -1.0  # perf time the last timed step ended, while the next may start there
        self.acct_busy_seen = 0.0  # busy_total already counted in the accounting's rate check
        self.acct_due: Optional[float] = None  # perf time the timer callback running now was due
        # [start, end, start, end, ...] perf times of eager tasks' first steps run inside loop steps
        # (each inside its factory call), outermost only; the step they ran in takes them (accounting.py)
        self.acct_nested: List[float] = []
        self.acct_nested_first = 0.0  # the nested steps a step took: when the first began
        self.acct_nested_last = 0.0  # ... and the last ended
        self.acct_call_soon: Any = None  # the loop's call_soon wrapper while accounting times it
        self.ends_in_steps = False  # the step hook tells this loop's task ends (else done callbacks)
        # task sampling (tasks.py): the 1-in-K the pump asked for (1: record every task) and the
        # one in effect; names of unrecorded tasks (appended by the sampled factory) and their
        # counts; tasks the full factory may still record before the sampled one is put back
        self.sampled: Any = None  # the sampled factory
        self.sample_ask = 1
        self.sample_every = 1
        self.names: List[str] = []
        self.unrecorded: Dict[str, int] = {}
        self.quota = 0
        self.quota_due = 0.0
        self.quota_mark = 0
        self.recorded = itertools.count()  # tasks of this loop recorded in full (read by repr)
        self.sampling_periods: List[List[Any]] = []  # [start, end or None, K, tasks/s]
        self.rate_mark: Optional[Tuple[float, int, float]] = None  # (perf, tasks made, busy s) at the last rate check
        self.in_eager = 0  # a user (eager) factory call is running: an unknown parent may be mid-creation
        self.can_sample = False  # the default factory's fast path runs this loop's tasks, and sampling is allowed
        self.ask_rate = 0.0  # tasks/s that made the pump ask for sampling (wall clock)
        self.ask_heavy = 0.0  # ... per second of the loop's busy time

    def busy_time(self, now: float) -> float:
        """Seconds out of select so far, the busy period still running included."""
        since = self.busy_since
        return self.busy_total + (now - since if since is not None else 0.0)


class LoopMonitor:
    """Finds loops, arms probes, runs the blocking watchdog; ``stop()`` undoes everything."""

    def __init__(self, session: AgentSession, interval_s: float, threshold_s: float) -> None:
        self.session = session
        self.perf = session.clock.perf  # injectable: tests run this logic on virtual time
        self.interval = max(0.001, interval_s)
        self.threshold = max(0.001, threshold_s)
        self.states: Dict[int, LoopState] = {}  # id(loop) -> state
        self.by_thread: Dict[int, LoopState] = {}  # thread ident -> running loop's state
        self.lag: List[Tuple[float, int, float]] = []
        self.blocking_count = 0
        self.cpu_s = 0.0
        self.hook_s = 0.0  # time spent in probes / snapshots inside loop threads
        self._next_lid = 0
        self.loops_seen = 0
        self._lock = threading.RLock()
        self._cond = threading.Condition(threading.RLock())
        self._stopped = False
        self._kick = False
        self._watchdog: Optional[threading.Thread] = None
        self._events: Any = None
        self._orig_set_running_loop: Optional[Callable[[Any], None]] = None
        self._wrapper: Optional[Callable[[Any], None]] = None
        self._finder: Optional[_AsyncioImportHook] = None
        self._current_tasks: Any = None

    # ------------------------------------------------------------ install
    def start(self) -> None:
        self._watchdog = threading.Thread(target=self._watch, name="pyrometer-watchdog", daemon=True)
        self._watchdog.start()
        events = sys.modules.get("asyncio.events")
        if events is not None and hasattr(events, "_set_running_loop"):
            self._hook_events(events)
            self.discover_running()
        else:
            self._finder = _AsyncioImportHook(self._on_asyncio_imported)
            sys.meta_path.insert(0, self._finder)

    def _on_asyncio_imported(self, events: Any) -> None:
        if not self._stopped:
            self._hook_events(events)

    def _hook_events(self, events: Any) -> None:
        with self._lock:
            if self._stopped or self._events is not None:
                return
            orig = events._set_running_loop
            monitor = self

            def _set_running_loop(loop: Any) -> None:
                orig(loop)
                try:
                    if loop is not None:
                        monitor.loop_started(loop)
                    else:
                        monitor.loop_stopped()
                except Exception:
                    pass

            self.session.interner.elide(_set_running_loop)
            self._events = events
            self._orig_set_running_loop = orig
            self._wrapper = _set_running_loop
            events._set_running_loop = _set_running_loop
            tasks_mod = sys.modules.get("asyncio.tasks")
            self._current_tasks = getattr(tasks_mod, "_current_tasks", None)

    def discover_running(self) -> None:
        """Register loops that were already running when the agent started (attach)."""
        me = threading.get_ident()
        base = sys.modules.get("asyncio.events")
        if base is None:
            return
        abstract = base.AbstractEventLoop
        for ident, frame in sys._current_frames().items():
            if ident in self.session.threads.agent_idents:
                continue
            f: Optional[FrameType] = frame
            found = None
            while f is not None:
                if f.f_code.co_name in _LOOP_FRAME_NAMES:
                    try:
                        cand = f.f_locals.get("self")
                    except Exception:
                        cand = None
                    if isinstance(cand, abstract):
                        found = cand
                f = f.f_back
            if found is None or id(found) in self.states:
                continue
            try:
                if ident == me:
                    self.loop_started(found)
                elif found.is_running() and not found.is_closed():
                    found.call_soon_threadsafe(self.loop_started, found)
            except Exception:
                pass
        frame = f = None  # type: ignore[assignment]

    # ------------------------------------------------------------ loop lifecycle
    def loop_started(self, loop: Any) -> None:
        """Called in the loop's thread when it starts running."""
        if self._stopped:
            return
        ident = threading.get_ident()
        if self._current_tasks is None:
            self._current_tasks = getattr(sys.modules.get("asyncio.tasks"), "_current_tasks", None)
        state = self.states.get(id(loop))
        if state is None or state.loop_ref() is not loop:
            rec = self.session.threads.get(ident)
            with self._lock:
                lid = self._next_lid
                self._next_lid += 1
                self.loops_seen = self._next_lid
                state = LoopState(loop, lid, ident, rec.tid)
                key = id(loop)
                self.states[key] = state
                states = self.states

                def _gone(_ref: Any, k: int = key) -> None:
                    states.pop(k, None)

                state.loop_ref = weakref.ref(loop, _gone)
            self.session.interner.announce_loop(
                lid, rec.tid, "%s #%d in %s" % (type(loop).__name__, lid, rec.name)
            )
            self._hook_selector(state, loop)
            self.session.tasks.attach_loop(loop, state)
        elif state.ident != ident:
            rec = self.session.threads.get(ident)
            state.ident, state.tid = ident, rec.tid
        state.running = True
        state.capture = None
        state.long_steps = []  # steps of an iteration that never reached select (the loop stopped) are no stall's
        now = self.perf()
        state.last_tick = now
        state.busy_since = now if state.select_wrapper is not None else None
        self.by_thread[ident] = state
        self._arm(state, loop)
        self._wake_watchdog()

    def loop_stopped(self) -> None:
        """Called in the loop's thread when it stops running (``_set_running_loop(None)``)."""
        state = self.by_thread.pop(threading.get_ident(), None)
        if state is None:
            return
        state.running = False
        state.busy_since = None
        state.capture = None
        if state.handle is not None:
            state.handle.cancel()
            state.handle = None

    def _arm(self, state: LoopState, loop: Any) -> None:
        if state.handle is not None:
            state.handle.cancel()
        state.step = state.level = self.interval
        state.busy_at_probe = state.busy_time(self.perf())
        state.expected = loop.time() + self.interval
        state.handle = loop.call_at(state.expected, self._probe, state)

    def _hook_selector(self, state: LoopState, loop: Any) -> None:
        sel = getattr(loop, "_selector", None)
        orig = getattr(sel, "select", None)
        if sel is None or orig is None:
            return
        monitor = self
        accounting = self.session.tasks.accounting

        def select(timeout: Optional[float] = None) -> Any:
            if state.active:
                try:
                    monitor._loop_idle(state)
                except Exception:
                    pass
            try:
                return orig(timeout)
            finally:
                if state.active:
                    state.busy_since = monitor.perf()
                    if state.accounted:
                        accounting.iteration(state)
                    if state.step > monitor.interval:
                        monitor._probe_soon(state)

        try:
            sel.select = select
        except (AttributeError, TypeError):
            return
        self.session.interner.elide(select)
        state.selector = sel
        state.select_wrapper = select

    # ------------------------------------------------------------ in the loop thread
    def _probe_soon(self, state: LoopState) -> None:
        """The loop woke while the probe was backed off: re-arm it at the interval."""
        try:
            loop = state.loop_ref()
            handle = state.handle
            if loop is None or handle is None or not state.running:
                return
            now = loop.time()
            if now >= state.expected - 0.0005:
                return  # this wake-up is the probe's own timer
            handle.cancel()
            state.step = self.interval  # the level stays: an idle loop backs off again at once
            state.expected = now + self.interval
            state.handle = loop.call_at(state.expected, self._probe, state)
        except Exception:
            pass

    def _probe(self, state: LoopState) -> None:
        if not state.active or not state.running:
            return
        try:
            start = self.perf()
            loop = state.loop_ref()
            if loop is None:
                return
            lag = loop.time() - state.expected
            session = self.session
            self.lag.append((start - session.clock.t0, state.lid, lag))
            if state.select_wrapper is None:
                if lag > self.threshold:
                    self._report_block(state, state.last_tick + self.interval, start)
                state.capture = None  # probe-timed: a new period starts (a hooked loop's runs to select)
            state.last_tick = start
            total = state.busy_time(start)  # the busy period running now (this probe) counts too
            busy = total - state.busy_at_probe
            state.busy_at_probe = total
            if state.select_wrapper is not None and busy < IDLE_BUSY_SHARE * state.step:
                state.level = min(state.level * 2, self.interval * PROBE_BACKOFF)  # idle
            else:
                state.level = self.interval
            state.step = state.level
            state.expected = loop.time() + state.step
            state.handle = loop.call_at(state.expected, self._probe, state)
            if start >= state.next_snapshot:
                cpu = own_thread_cpu()  # CPU, not wall: a preempted snapshot is not a costly one
                session.tasks.snapshot(state)
                cost = own_thread_cpu() - cpu
                state.next_snapshot = start + max(SNAPSHOT_SECONDS, cost / SNAPSHOT_BUDGET)
            sampler = session.sampler
            if sampler is None:  # the sampler pumps otherwise, off this thread
                session.pump_if_due(start)
            else:
                backlog = session.tasks.backlog()
                if backlog > LOOP_PUMPS_AT or (sampler.interval > SLOW_SAMPLER_S and backlog > PUMP_BACKLOG):
                    # a slow sampler (--rate 1) batches once a second, a starved one (loaded
                    # machine) falls behind: on a task-heavy loop its task events would pile
                    # up (96 MB) and be dropped; the loop that makes them packs them instead
                    session.pump()
            self.hook_s += self.perf() - start
        except Exception:
            pass

    def _loop_idle(self, state: LoopState) -> None:
        """The loop is about to wait in select: close a busy period that crossed the threshold."""
        since = state.busy_since
        if since is None:
            if state.long_steps:
                state.long_steps = []
            return
        now = self.perf()
        state.busy_total += now - since
        state.busy_since = None  # closed first: a look while the report runs is no longer this period's
        if now - since > self.threshold:
            self._report_block(state, since, now)
        state.capture = None
        state.looks = []
        if state.long_steps:
            state.long_steps = []

    def _report_block(self, state: LoopState, since: float, now: float) -> None:
        capture = state.capture
        state.capture = None
        t0 = self.session.clock.t0
        stack, task, callback = -1, -1, ""
        if capture is not None and capture[3] == since and capture[0] >= 0:
            stack, task, callback = capture[0], capture[1], capture[2]
        elif state.looks_ref != since:
            # the watchdog was starved (loaded machine) and missed this period: the
            # sampler's latest sample of the loop thread inside the period shows it too
            rec = self.session.threads.peek(state.ident)
            if rec is not None and rec.last_stack >= 0 and since - t0 <= rec.last_time <= now - t0:
                stack, task = rec.last_stack, rec.last_task
                ref = state.pending.get(task)
                running = ref() if ref is not None else None
                if running is not None:
                    callback = self.session.tasks.describe(running)
                    try:  # in the loop thread, after the stall: the chain is still there if it awaits
                        state.blame = (since, self.session.tasks.await_chain_of(running), {})
                    except Exception:
                        pass
        chain: List[Tuple[int, str]] = []
        delayed: List[List[Any]] = []
        unrecorded: List[int] = []  # keys of delayed tasks the agent did not record (task sampling)
        blame, state.blame = state.blame, None
        steps: Optional[List[List[Any]]] = None  # None: the steps were not timed (accounting off)
        stepped: Dict[int, float] = {}  # task id -> perf time its (first) long step began
        try:
            if blame is not None and blame[0] == since:
                chain = blame[1]
            if state.accounted:
                steps, top = self._stall_steps(state, since, stepped)
                if top is not None and top[1] >= self.threshold / 8:
                    # the step that held the loop longest is the blocker (one a look could
                    # prove too: see _blocker), with the stack a look took inside it, or none
                    stack, task, callback, chain = top[4], top[2], top[5], top[6]
            delayed = self._delayed(
                state, since, now, blame[2] if blame is not None and blame[0] == since else {}, chain, unrecorded,
                stepped)
        except Exception:
            pass
        if chain and task < 0:
            task = chain[0][0]
        self.blocking_count += 1
        self.session.emit(
            wire.json_frame(
                wire.BLOCKING,
                {
                    "start": since - t0,
                    "duration": now - since,
                    "loop": state.lid,
                    "thread": state.tid,
                    "stack": stack,
                    "task": task,
                    "callback": callback,
                    "task_name": chain[0][1] if chain and chain[0][0] == task else None,
                    "await_chain": [list(c) for c in chain],
                    "delayed": delayed,
                    "delayed_unrecorded": len(unrecorded),
                    # each long step with its own share, longest first: [start, seconds, task, name, stack]
                    "steps": None if steps is None else [[r[0] - t0, r[1], r[2], r[3], r[4]] for r in steps],
                },
            )
        )

    def _stall_steps(
        self, state: LoopState, since: float, stepped: Dict[int, float],
    ) -> Tuple[List[List[Any]], Optional[List[Any]]]:
        """The longest steps of the stall starting at ``since`` and the longest one's blame.

        Rows [start (perf), seconds, task id, name, stack, callback text] for the
        MAX_STALL_STEPS longest steps the step hook timed (the agent's own aside);
        a step's stack is the one a watchdog look took inside it (-1 when none
        did). The longest row also gets its await chain (the look's, else read
        now). ``stepped`` gets each task's earliest long step start.
        """
        tasks = self.session.tasks
        kept = []
        for start, seconds, owner, tid, callback in state.long_steps:
            if start < since or (callback is not None and _is_agent_callback(callback)):
                continue
            is_task = owner is not None and callable(getattr(owner, "get_coro", None))
            if tid >= 0 and (tid not in stepped or start < stepped[tid]):
                stepped[tid] = start
            kept.append((seconds, start, tid, owner if is_task else None, callback))
        kept.sort(key=lambda r: -r[0])
        looks = list(state.looks) if state.looks_ref == since else []
        t0 = self.session.clock.t0
        sampled = self.session.threads.peek(state.ident)  # the sampler's latest sample of the loop thread
        rows: List[List[Any]] = []
        top_chain: Optional[List[Tuple[int, str]]] = None
        for seconds, start, tid, task, callback in kept[:MAX_STALL_STEPS]:
            # a look inside the step's time at the same task (an eager child's first step runs
            # inside its parent's, before the tracker knows its id: matched by the task itself)
            look = next((lk for lk in looks if start <= lk[1] <= start + seconds and lk[8] is task and lk[3] >= 0), None)
            stack = look[3] if look is not None else -1
            if (stack < 0 and sampled is not None and sampled.last_stack >= 0 and sampled.last_task == tid
                    and start - t0 <= sampled.last_time <= start + seconds - t0):
                stack = sampled.last_stack  # no look inside this step (a starved watchdog): the sampler saw it
            if task is not None:
                name = tasks.name_of(task)
                if look is not None and look[5]:
                    text = look[5]  # described while it ran (a finished task has no coroutine left)
                else:
                    text = "<Task %s>" % (name,) if task.done() else tasks.describe(task)
            else:
                name = text = _callback_text(callback)
            rows.append([start, seconds, tid, name, stack, text, []])
            if top_chain is None:
                top_chain = list(look[6]) if look is not None and look[6] else []
                if not top_chain and task is not None:
                    try:  # in the loop thread, after the stall: the chain is still there if it awaits
                        top_chain = tasks.await_chain_of(task)
                    except Exception:
                        top_chain = []
                if top_chain and task is not None:
                    # the chain starts at this task, maybe read before it had its id or its name (an
                    # eager step runs inside its factory call) or after it ended: its own, as now
                    top_chain[0] = (tid if tid >= 0 else top_chain[0][0], name)
                rows[0][6] = top_chain
        return rows, (rows[0] if rows else None)

    def _delayed(
        self, state: LoopState, since: float, now: float, ready: Dict[int, Tuple[str, float]],
        blocker: List[Tuple[int, str]], unrecorded: List[int], stepped: Optional[Dict[int, float]] = None,
    ) -> List[List[Any]]:
        """[task id, name, seconds past due] of each task the busy period [since, now] delayed.

        Timers still waiting in the loop's heap whose time came before now were due
        during the stall: their delay is exact (now minus their due time). Tasks the
        watchdog saw in the ready queue while the loop was blocked are counted as
        delayed by the whole stall (an upper bound for one the blocking step itself
        readied, which the agent cannot tell apart). A task whose timer falls after
        ``now`` slept through the stall and is not listed; neither is the blocking
        task or any task of its await chain. A task seen ready that then ran a long
        step of its own in the stall (``stepped``: task id -> its start) waited until
        that step began, not to the stall's end: another step held the loop before
        it (listed so even when it is the blocker). Tasks the agent did not record (task
        sampling) are not listed but their keys go to ``unrecorded`` (counted).
        """
        loop = state.loop_ref()
        if loop is None:
            return []
        tasks = self.session.tasks
        loop_now = loop.time()
        out: Dict[int, List[Any]] = {}
        others = set()
        for tid, (name, _seen) in ready.items():
            if tid < 0:
                others.add(tid)
                continue
            out[tid] = [tid, name, now - since]
        for when, task in tasks.due_timers(loop, loop_now):
            tid = tasks.known_id(task)
            if tid < 0:
                others.add(unrecorded_key(task))
                continue
            delay = loop_now - when
            prev = out.get(tid)
            if prev is None or delay > prev[2]:
                out[tid] = [tid, tasks.name_of(task), delay]
        stepped = stepped or {}
        for tid, began in stepped.items():
            row = out.get(tid)
            if row is not None:
                row[2] = min(row[2], began - since)
                if row[2] < ON_TIME_S:
                    del out[tid]  # ran (almost) at once: delayed by nothing in this stall
        for tid, _name in blocker:
            if tid not in stepped:
                out.pop(tid, None)
        unrecorded.extend(others)
        rows = sorted(out.values(), key=lambda r: -r[2])
        return rows[:MAX_DELAYED]

    # ------------------------------------------------------------ watchdog thread
    def _watch(self) -> None:
        sys.setprofile(None)  # a profiler (yappi in trace mode) must not count the agent
        self.session.add_agent_thread(threading.get_ident())
        cond = self._cond
        try:
            while not self._stopped:
                sys.setprofile(None)  # yappi (trace mode) hooks every running thread as it starts
                timeout = self._check()  # not under the condition: it interns stacks
                self.cpu_s = own_thread_cpu()
                with cond:
                    if not self._kick and not self._stopped:
                        cond.wait(timeout)
                    self._kick = False
        except Exception as exc:
            self.session.notice("error", "blocking watchdog stopped: %r" % (exc,))
        finally:
            self.cpu_s = own_thread_cpu()
            self.session.note_agent_cpu(threading.get_ident(), self.cpu_s)

    def _wake_watchdog(self, timeout: float = -1) -> None:
        """Make the watchdog re-plan (a loop appeared, or stop); never blocks for long."""
        cond = self._cond
        if cond.acquire(True, timeout):
            try:
                self._kick = True
                cond.notify()
            finally:
                cond.release()

    def _check(self) -> Optional[float]:
        """Capture stacks of busy loops; seconds until the next check (None = no loop running).

        A busy period is looked at early (at half the threshold), at the
        threshold, then every quarter threshold while it lasts; see ``_capture``
        for which look names the blocker.
        """
        now = self.perf()
        half = self.threshold / 2
        wait: Optional[float] = None
        for state in list(self.states.values()):
            if not state.running or not state.active:
                continue
            if state.select_wrapper is not None:
                ref = state.busy_since
            else:
                ref = state.last_tick + self.interval
            if ref is None:
                due = self.threshold  # idle in select: look again later
            else:
                cap = state.capture
                stage = cap[4] if cap is not None and cap[3] == ref else 0
                age = now - ref
                if stage < 2 and age >= self.threshold:
                    self._capture(state, ref, 2, ref + self.threshold)
                    stage = 2
                elif stage < 1 and age >= half:
                    self._capture(state, ref, 1, ref + half)
                    stage = 1
                elif stage == 2 and now >= state.next_look:
                    self._capture(state, ref, 2, state.next_look)
                if stage == 2:
                    due = state.next_look - now
                else:
                    due = ref + (half if stage == 0 else self.threshold) - now + 0.0005
            due = max(due, 0.001)
            wait = due if wait is None else min(wait, due)
        return wait

    def _capture(self, state: LoopState, ref: float, stage: int, due: float) -> None:
        """Look at the loop thread: which step runs, its stack and task.

        A busy period is many loop steps; the blocker is the long one. The
        watchdog can look late (a loaded machine, the GIL), after the blocker
        ended and a short step runs, so a look is trusted only if it is proven
        to be the blocker: the same step (the very frame ``_run_once`` called)
        seen by two looks at least an eighth of the threshold apart ran that long; or
        the look was on time (what ran at half / at the threshold). A look at
        the loop outside any step, or in the agent's own step, names nothing.
        """
        start = self.perf()
        # the watchdog cannot look sooner than one GIL switch interval into a CPU-bound step
        on_time = ON_TIME_S + sys.getswitchinterval()
        frame = sys._current_frames().get(state.ident)
        step = _step_frame(frame)
        stack = self.session.interner.intern_frame_chain(frame) if step is not None else -1
        del frame
        task_id, callback = -1, ""
        loop = state.loop_ref()
        current = self._current_tasks
        task = None
        if step is not None and loop is not None and current is not None:
            task = current.get(loop)  # read once: the stack, id and chain describe one task
            if task is not None:
                task_id = self.session.tasks.known_id(task)
                callback = self.session.tasks.describe(task)
        if step is not None and not callback and loop is not None:
            handle = getattr(loop, "_current_handle", None)  # only set in asyncio debug mode
            if handle is not None:
                try:
                    callback = repr(handle)
                except Exception:
                    callback = ""
        chain: List[Tuple[int, str]] = []
        ready: Dict[int, Tuple[str, float]] = {}
        if loop is not None:
            tasks = self.session.tasks
            try:
                if task is not None:
                    chain = tasks.await_chain_of(task)
                ready = tasks.ready_tasks(loop, self.perf())
            except Exception:
                pass
        if not (state.busy_since == ref or state.select_wrapper is None):
            return  # the period ended meanwhile: this look belongs to none
        if state.looks_ref != ref:
            state.looks, state.looks_ref = [], ref
        looks = state.looks
        if step is not None:
            if looks and looks[-1][0] is step and looks[-1][8] is task:
                # the same step still runs: it ran at least since its first look, whose stack is
                # kept (the step may have gone on to short work after the part that blocked); an
                # eager child's first step inside it (another current task) is a look of its own
                looks[-1][2] = start
            elif len(looks) < MAX_LOOKS:
                looks.append([step, start, start, stack, task_id, callback, chain, start - due <= on_time, task])
        best = _blocker(looks, self.threshold / 8)
        confirmed = best is not None and best is looks[-1] and best[2] > best[1]
        # an unproven look is followed up soon: if the same step still runs, it is the blocker
        state.next_look = max(start, due) + self.threshold / (4 if confirmed else 8)
        if best is None:
            state.capture = (-1, -1, "", ref, stage)
        else:
            state.capture = (best[3], best[4], best[5], ref, stage)
        blame = state.blame
        if blame is not None and blame[0] == ref:
            for tid, seen in blame[2].items():
                ready[tid] = seen  # first sight wins
        state.blame = (ref, best[6] if best is not None else [], ready)

    def current_task_id(self, ident: int) -> int:
        """Id of the task the loop running in thread ``ident`` is stepping, else -1 (any thread)."""
        state = self.by_thread.get(ident)
        current = self._current_tasks
        if state is None or current is None:
            return -1
        loop = state.loop_ref()
        task = current.get(loop) if loop is not None else None
        if task is None:
            return -1
        return self.session.tasks.known_id(task)

    # ------------------------------------------------------------ stop
    def take_lag(self) -> List[Tuple[float, int, float]]:
        rows, self.lag = self.lag, []
        return rows

    def stop(self, in_child: bool = False) -> None:
        """Remove every hook (safe from any thread, idempotent).

        ``in_child``: in a forked child only the forking thread exists and a lock
        some vanished thread held stays locked forever, so take none and cancel
        the probes directly (the other loops' threads are gone).
        """
        if in_child:
            if self._stopped:
                return
            self._stopped = True
        else:
            with self._lock:
                if self._stopped:
                    return
                self._stopped = True
        if self._finder is not None:
            try:
                sys.meta_path.remove(self._finder)
            except ValueError:
                pass
        events = self._events
        if events is not None and getattr(events, "_set_running_loop", None) is self._wrapper:
            events._set_running_loop = self._orig_set_running_loop
        me = threading.get_ident()
        for state in list(self.states.values()):
            state.active = False
            loop = state.loop_ref()
            sel = state.selector
            if sel is not None:
                try:
                    # an instance attribute shadows the method: no sel.__dict__ (see accounting.stop_timing)
                    if getattr(sel, "select", None) is state.select_wrapper:
                        del sel.select
                except Exception:
                    pass
            if loop is None:
                continue
            self.session.tasks.detach_loop(loop, state)
            handle = state.handle
            state.handle = None
            if handle is not None:
                try:
                    if state.running and state.ident != me and not in_child and not loop.is_closed():
                        loop.call_soon_threadsafe(handle.cancel)
                    else:
                        handle.cancel()
                except Exception:
                    pass
        # the step hook is global (Handle._run): put it back even when every loop is gone
        self.session.tasks.accounting.uninstall()
        if in_child:
            return
        self._wake_watchdog(1.0)
        wd = self._watchdog
        if wd is not None and wd is not threading.current_thread() and wd.is_alive():
            wd.join(1.0)


def _step_frame(frame: Optional[FrameType]) -> Optional[FrameType]:
    """The frame of the loop step ``frame`` is inside (the ``_run`` that ``_run_once`` called),
    or None: outside any step, or in a step of the agent's own (the lag probe)."""
    above: Optional[FrameType] = None  # the innermost frame seen so far that is not a `_run`
    f = frame
    while f is not None:
        back = f.f_back
        code = f.f_code
        # Handle._run, or the agent's step hook in its place (`_run` while accounting times
        # steps, `_run_ends` once it only tells task ends)
        run = code.co_name == "_run" or (code.co_name == "_run_ends" and code.co_filename.startswith(AGENT_DIR))
        if back is not None and back.f_code.co_name == "_run_once":
            if not run:
                return None  # _run_once's own work (select and its wrapper, timers)
            if above is not None and above.f_code.co_filename.startswith(AGENT_DIR):
                return None
            return f
        if not run:
            above = f
        f = back
    return None


def _is_agent_callback(callback: Any) -> bool:
    """A loop callback of the agent's own (the lag probe): not the program's step."""
    code = getattr(getattr(callback, "__func__", callback), "__code__", None)
    return code is not None and code.co_filename.startswith(AGENT_DIR)


def _callback_text(callback: Any) -> str:
    """``name() at file:line`` of a plain loop callback (functools.partial unwrapped)."""
    func = callback
    for _ in range(4):
        inner = getattr(func, "func", None)  # functools.partial
        if inner is None:
            break
        func = inner
    try:
        name = getattr(func, "__qualname__", None) or type(func).__name__
        code = getattr(getattr(func, "__func__", func), "__code__", None)
        if code is not None:
            return "%s() at %s:%d" % (name, code.co_filename, code.co_firstlineno)
        return "%s()" % (name,)
    except Exception:
        return "<callback>"


def _blocker(looks: List[List[Any]], min_span: float) -> Optional[List[Any]]:
    """The look that names the blocker: the step seen longest (if over ``min_span``), else the
    earliest look made on time, else None (the watchdog saw only later, short steps)."""
    best = max(looks, key=lambda look: look[2] - look[1], default=None)
    if best is not None and best[2] - best[1] >= min_span:
        return best
    return next((look for look in looks if look[7]), None)


class _AsyncioImportHook:
    """Meta-path finder that calls back once ``asyncio.events`` has been executed."""

    def __init__(self, callback: Callable[[Any], None]) -> None:
        self.callback = callback
        self._busy = False

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "asyncio.events" or self._busy:
            return None
        self._busy = True
        try:
            import importlib.util

            spec = importlib.util.find_spec(name)
        except Exception:
            return None
        finally:
            self._busy = False
        loader = getattr(spec, "loader", None)
        if spec is None or loader is None or not hasattr(loader, "exec_module"):
            return spec
        hook = self
        orig_exec = loader.exec_module
        real: Any = loader

        class _Loader:
            def __getattr__(self, attr: str) -> Any:
                return getattr(real, attr)

            def create_module(self, spec: Any) -> Any:
                return real.create_module(spec)

            def exec_module(self, module: Any) -> None:
                orig_exec(module)
                try:
                    module.__loader__ = real
                    module.__spec__.loader = real
                except Exception:
                    pass
                try:
                    sys.meta_path.remove(hook)
                except ValueError:
                    pass
                try:
                    hook.callback(module)
                except Exception:
                    pass

        spec.loader = _Loader()  # type: ignore[assignment]
        return spec
