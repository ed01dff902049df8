"""The asyncio task tracker: ids, parents, lifetimes and where pending tasks wait.

Each loop's task factory is wrapped (calling through any factory already set,
so eager factories on 3.12+ keep working); the loop's ``set_task_factory`` /
``get_task_factory`` are shadowed by instance attributes so a program that
installs its own factory later gets it called *through* the wrapper and sees
its own factory when it asks. All of it is undone on stop.

Finished state is read from the task without ``exception()``, which would
mark the exception as retrieved and silence asyncio's "never retrieved"
warning in the user's program.
"""

from __future__ import annotations

import itertools
import sys

try:
    from _collections import _count_elements  # type: ignore[attr-defined]  # C: what Counter.update runs
except ImportError:  # pragma: no cover (every CPython has it)
    def _count_elements(mapping: Any, iterable: Any) -> None:
        for item in iterable:
            mapping[item] = mapping.get(item, 0) + 1
import threading
import weakref

from . import defaults, wire
from .accounting import OFF_NOTICE, TaskAccounting

TYPE_CHECKING = False  # typing stays unimported in the target (start-up cost); mypy knows the name
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Tuple

    from .loops import LoopState
    from .session import AgentSession

MAX_AWAIT_DEPTH = 128
MAX_BLAME = 1000  # ready handles / due timers looked at per stall
# CPython 3.13.0 calls task.set_name(name) after *any* task factory even when
# name is None, so installing a factory would rename every task to None; the
# tracker then also shadows create_task to put the default name back.
_SET_NAME_BUG = sys.version_info[:3] == (3, 13, 0)


def _task_coro(task: Any) -> Any:
    """``task.get_coro()``, but never on a finished task: CPython 3.12.0/3.12.1 crash
    (NULL dereference) on ``get_coro()`` of a task that completed during eager start."""
    try:
        if task.done():
            return None
        return task.get_coro()
    except Exception:
        return None


def _not_started(coro: Any) -> bool:
    """True for a coroutine that has not run yet (inspect.getcoroutinestate's CORO_CREATED)."""
    frame = getattr(coro, "cr_frame", None)
    if frame is None or getattr(coro, "cr_running", False):
        return False
    suspended = getattr(coro, "cr_suspended", None)  # 3.11+
    if suspended is not None:
        return not suspended
    return frame.f_lasti == -1


def count_names(counts: Dict[str, int], names: List[str]) -> None:
    """Add to ``counts`` how many times each name occurs in ``names``, exactly.

    A task-heavy loop makes its many tasks from few coroutines: the distinct names of
    a small sample are counted with ``list.count`` (a comparison per element, ~3 ns,
    mostly by identity), and only when they do not add up to the whole list (a name
    the sample missed) is every element looked up in a dict (``_count_elements``, ~50-190 ns
    an element: 180k tasks a second cost the pumping thread 1-3% of the GIL).
    """
    n = len(names)
    if n >= 64:
        sample = set(names[:: n // 32])  # ~32-64 elements hashed
        if len(sample) <= 4:
            found = [(name, names.count(name)) for name in sample]
            if sum(k for _, k in found) == n:
                for name, k in found:
                    counts[name] = counts.get(name, 0) + k
                return
    _count_elements(counts, names)


def _coro_name(coro: Any) -> str:
    name = getattr(coro, "__qualname__", None) or getattr(coro, "__name__", None)
    name = str(name) if name else type(coro).__name__
    return _asyncio_own(coro, name) if name in _SHUTDOWN_STEPS else name


# asyncio.run's shutdown runs these loop methods as tasks of its own: not the program's tasks.
# Their coroutine name goes out as ASYNCIO_OWN + qualname, which no qualname can be (a colon).
ASYNCIO_OWN = "asyncio:"
_SHUTDOWN_STEPS = frozenset(("BaseEventLoop.shutdown_asyncgens", "BaseEventLoop.shutdown_default_executor"))


def _asyncio_own(coro: Any, name: str) -> str:
    """``name``, marked ASYNCIO_OWN when ``coro`` runs asyncio's own method of that name (its code
    object, not just the name: a program's class may be called BaseEventLoop too)."""
    base = getattr(sys.modules.get("asyncio.base_events"), "BaseEventLoop", None)
    method = getattr(base, name.rpartition(".")[2], None)
    code = getattr(coro, "cr_code", None)
    if code is not None and code is getattr(method, "__code__", None):
        return ASYNCIO_OWN + name
    return name


_NAN = float("nan")  # a figure not measured (accounting off)
PARENT_UNRECORDED = -2  # a recorded task's parent is a task sampling left unrecorded
SAMPLING_NOTICE = "tasks sampled"  # the sampling notice's first words
MIN_SAMPLING_RATE = 1000.0  # tasks/s (wall clock): recording fewer costs a loop under ~0.5% of its time
SAMPLING_WINDOW_S = 0.2  # a loop's task-creation rate is measured over at least this long (by the pump)
SAMPLING_SEND_S = 0.5  # counts of unrecorded tasks are sent at most this often (and at each switch, and at the end)
PUMP_ROWS = 4000  # task events packed per pump (20 pumps a second: 80,000 a second)
# ... when an agent thread (the sampler) pumps: packing 4,000 rows took it 4-15 ms of CPU, past
# the switch interval, so next to a loop that keeps the GIL it was made to drop the GIL in the
# middle of the pump and held the pump lock for 0.2-0.6 s waiting to get it back, while the
# loop's own pumps (its fallback for a starved sampler) failed to take the lock
AGENT_PUMP_ROWS = 1000
MAX_UNSENT_EVENTS = 100000  # task events waiting for the next pump; beyond this they are dropped and counted


class TaskTracker:
    """Assigns task ids and produces TASKS_CREATED / TASKS_FINISHED / TASK_AWAIT.

    Ids are assigned only in a loop's own thread (its task factory, or discovery
    at attach); the sampler and the watchdog only look them up (``known_id``), so
    no other thread does task bookkeeping. Events are kept as plain columns of
    ints and floats plus a weak reference per new task (its name is read when the
    batch is taken): a finished task is never kept alive by the agent. At most
    ``MAX_UNSENT_EVENTS`` events wait between pumps; any beyond are dropped and
    counted in ``events_dropped`` (shown in telemetry and `stats`).

    Task sampling: recording a task costs its loop ~1.8 us, as much as a tiny task's
    own life, and no Python hook can record each task for less. So when a loop
    creates more than ``task_sampling_rate`` tasks a second (measured by the pump),
    only 1 in ``task_sample_every`` of its new tasks is recorded in full (creation,
    parent, end, await stacks); the others are only counted, exactly, per coroutine
    name, by the cheapest path there is (no id, no weak reference, no callback), and
    sent as TASK_SAMPLING frames. Below ``TASK_SAMPLING_OFF_RATE`` every task is
    recorded again. Per-task accounting (which times every step, recorded or not)
    and the step hook go for the rest of the session: recorded tasks then tell their
    end by a done callback. A recorded task whose parent was not recorded gets the
    parent ``PARENT_UNRECORDED``; samples taken while an unrecorded task runs carry no
    task, and a stall names the recorded tasks it delayed and counts the others.
    ``every_task=True`` turns sampling off.
    """

    def __init__(self, session: AgentSession) -> None:
        self.session = session
        # id(task) -> task id while the task is pending (set by the loop thread only;
        # overwritten when a new task reuses the address of a freed one; the entry of one
        # destroyed while pending stays until snapshot() sweeps it)
        self._ids: Dict[int, int] = {}
        self._counter = itertools.count()  # next() is atomic
        self._chain_cache: Dict[Tuple[Tuple[int, int], ...], int] = {}
        # one tuple per event: a list append is atomic, so take() in another thread
        # can swap the list without a lock and never splits a row
        self.created: List[Tuple[Any, int, int, str, int, float]] = []  # (weakref or None, id, parent, coro, loop, t)
        # (id, t, state code, exception name, task name, cpu_s, running_s, waiting_s, delayed_s)
        self.finished: List[Tuple[int, float, int, str, str, float, float, float, float]] = []
        self._early: set = set()  # ids given by id_of() to tasks whose creation is still running
        self._unnamed: List[Tuple[Any, int]] = []  # (task, id) finished before create_task named it
        self._late_names: Dict[int, str] = {}
        self.events_dropped = 0  # created/finished events lost (queue bound or full sink)
        self._loop_states: Dict[int, LoopState] = {}
        self._by_loop: Dict[int, LoopState] = {}  # id(loop) -> state, for the step hook
        self.accounting = TaskAccounting(session)
        self.accounting.enabled = bool(session.options.get("task_accounting", True))
        # (session time, task id, awaiter id) of tasks seen awaited by several tasks, each pair
        # once (see note_awaiters); appended by the loop thread and the watchdog, taken by the pump
        self.awaiter_rows: List[Tuple[float, int, int]] = []
        self._awaiter_pairs: set = set()
        opts = session.options
        self.sampling_rate = float(opts.get("task_sampling_rate", defaults.TASK_SAMPLING_RATE))
        self.sampling_off_rate = min(self.sampling_rate, defaults.TASK_SAMPLING_OFF_RATE)
        self.sample_every = max(1, int(opts.get("task_sample_every", defaults.TASK_SAMPLE_EVERY)))
        self.every_task = bool(opts.get("every_task", False))
        self.sampling_said = False  # the sampling notice is given once a session
        self._sampling_sent: Dict[int, Tuple[float, Any]] = {}  # loop id -> (perf time, what) last sent

    # ------------------------------------------------------------ ids
    def id_of(self, task: Any, state: Optional[LoopState] = None) -> int:
        """The task's id, assigned on first sight (call only in the task's loop thread)."""
        key = id(task)
        tid = self._ids.get(key)
        if tid is None:
            tid = next(self._counter)
            self._ids[key] = tid
            self._early.add(tid)  # seen before its factory call ended (an eager task's parent)
        return tid

    def _created_before(self, fin: List[Any], rows: int = PUMP_ROWS) -> int:
        """How many creation rows to take so that every task ending in ``fin`` is created first."""
        if not fin:
            return 0
        last = max([row[0] for row in fin])
        created = self.created
        n = min(len(created), rows)
        while n < len(created) and created[n - 1][1] < last:
            n = min(len(created), n * 2)
        return n

    @property
    def tasks_seen(self) -> int:
        """Task ids given out: every task seen (read from the id counter, so the factory pays
        nothing for it; itertools.count's repr is "count(N)", N the next id)."""
        try:
            return int(repr(self._counter)[6:-1])
        except ValueError:
            return -1

    def backlog(self) -> int:
        """Task events (and names of unrecorded tasks) waiting for the next pump."""
        return len(self.created) + len(self.finished) + self.backlog_names()

    def known_id(self, task: Any) -> int:
        """The id of a task the tracker has seen, else -1 (any thread; never assigns)."""
        tid = self._ids.get(id(task), -1)
        if tid >= 0:
            for state in list(self._by_loop.values()):
                ref = state.pending.get(tid)
                if ref is not None:
                    return tid if ref() is task else -1  # a dead task's address, not swept yet
        return tid

    @staticmethod
    def describe(task: Any) -> str:
        """Short repr-like text of a task, safe to compute from another thread."""
        try:
            return "<Task %s coro=%s()>" % (task.get_name(), _coro_name(_task_coro(task)))
        except Exception:
            return "<Task>"

    # ------------------------------------------------------------ hooks
    def attach_loop(self, loop: Any, state: LoopState) -> None:
        """Install the factory wrapper on a loop (called in the loop's thread)."""
        try:
            state.user_factory = loop.get_task_factory()
        except Exception:
            return
        tracker = self
        clock = self.session.clock
        perf, t0 = clock.perf, clock.t0
        monitor = self.session.loops
        tasks_mod = sys.modules.get("asyncio.tasks")
        task_cls: Any = getattr(tasks_mod, "Task", None)
        ids, early, counter = self._ids, self._early, self._counter
        pending, lid = state.pending, state.lid
        wref = weakref.ref
        self._loop_callbacks(state)
        done_cb = state.done_cb
        acct = self.accounting
        self._by_loop[id(loop)] = state
        # a pure-Python loop runs every step through Handle._run: the step hook tells each
        # task's end as its last step ends; other loops (uvloop) get a done callback per task
        base = getattr(sys.modules.get("asyncio.base_events"), "BaseEventLoop", None)
        state.ends_in_steps = bool(
            base is not None and isinstance(loop, base) and acct.install_steps(self._ids, self._by_loop))
        acct.on_step_heavy = self._ends_by_callbacks
        acct.attach_loop(loop, state)

        current = monitor._current_tasks
        current_get: Any = current.get if isinstance(current, dict) else None
        accounts = acct.accounts
        created_rows = self.created
        fast_ok = task_cls is not None and current_get is not None and not _SET_NAME_BUG
        # sampling swaps the loop's factory (BaseEventLoop._task_factory, 3.9-3.13) between this
        # full one and `sampled` below: a per-task test of which to run would cost more than all
        # of `sampled` (~800 instructions a task on 3.11)
        state.can_sample = task_cls is not None and not self.every_task and base is not None and isinstance(loop, base)
        recorded = state.recorded
        name_append = state.names.append
        if state.can_sample and self.sampling_rate <= 0:
            state.sample_ask, state.ask_rate = self.sample_every, 0.0  # sampled from the first task

        def sampled(loop_: Any, coro: Any, **kwargs: Any) -> Any:
            # Not recorded (a loop creating tasks too fast to record each), only counted: the
            # pump counts the names, exactly. The least a Python factory can do beside creating
            # the task: no id, no weak reference, no done callback, no dict.
            task = task_cls(coro, loop=loop_, **kwargs)
            try:
                name_append(coro.__qualname__)
            except AttributeError:  # an awaitable registered as a Coroutine, without one
                name_append(_coro_name(coro))
            return task

        def sampled_keep_name(loop_: Any, coro: Any, **kwargs: Any) -> Any:
            """3.13.0's: its create_task renames the task after the factory (see _keep_default_name)."""
            task = task_cls(coro, loop=loop_, **kwargs)
            state.default_name = (task, task.get_name())
            try:
                name_append(coro.__qualname__)
            except AttributeError:
                name_append(_coro_name(coro))
            return task

        def factory(loop_: Any, coro: Any, **kwargs: Any) -> Any:
            # The hot path of a task-heavy program: no user factory, nothing unusual. Inline,
            # no method calls of ours: every operation here is paid once per task.
            if state.user_factory is not None or not fast_ok or not state.active or early or tracker._unnamed:
                return general(loop_, coro, kwargs)
            t = perf()
            parent = current_get(loop_)
            task = task_cls(coro, loop=loop_, **kwargs)
            try:
                key = id(task)
                tid = next(counter)
                next(recorded)
                ids[key] = tid
                pid = -1
                if parent is not None:
                    pid = ids.get(id(parent), -1)
                    if pid < 0:
                        # not recorded (sampled out), else seen before its factory call ended
                        pid = PARENT_UNRECORDED if state.sampling_periods else tracker.id_of(parent)
                if state.accounted:  # its first step is scheduled: ready now
                    accounts[key] = [0.0, 0.0, 0.0, t, t, float(tid), state, None]  # accounting.new_account
                ref = wref(task)  # no callback: one destroyed while pending is swept by snapshot()
                if len(created_rows) < MAX_UNSENT_EVENTS:
                    name = getattr(coro, "__qualname__", None)
                    if type(name) is not str or name in _SHUTDOWN_STEPS:
                        name = _coro_name(coro)  # (which marks asyncio.run's own shutdown tasks)
                    created_rows.append((ref, tid, pid, name, lid, t - t0))
                else:
                    tracker.events_dropped += 1
                pending[tid] = ref
                if state.sample_every > 1:  # sampling: recording the quota the pump gave
                    state.quota -= 1
                    if state.quota <= 0:
                        tracker._install(loop_, state.sampled)
                elif state.sample_ask > 1:
                    tracker._switch_sampling(loop_, state)  # the pump asked to sample this loop
                if not state.ends_in_steps:
                    task.add_done_callback(done_cb)
            except Exception:
                pass
            return task

        def general(loop_: Any, coro: Any, kwargs: Dict[str, Any]) -> Any:
            """Every case: a user (or eager) factory, an early id, 3.13.0's renaming, a stopped session."""
            inner = state.user_factory
            parent = None
            t = perf() - t0
            if state.active:
                current = monitor._current_tasks
                if current is not None:
                    try:
                        parent = current.get(loop_)
                    except Exception:
                        parent = None
            name = _coro_name(coro)
            if inner is not None:
                state.in_eager += 1
                nested = len(state.acct_nested)  # an eager grandchild's first step adds to it meanwhile
                try:
                    task = inner(loop_, coro, **kwargs)
                finally:
                    state.in_eager -= 1
                if state.accounted and state.active:  # an eager factory may have run a first step
                    acct.open(task, t + t0, False, tracker.id_of(task), state)
                    acct.charge_eager(task, state, t + t0, perf(), nested)
            elif task_cls is not None:
                task = task_cls(coro, loop=loop_, **kwargs)
            else:
                task = _default_task(loop_, coro, kwargs)
            if not state.active:
                return task
            try:
                if _SET_NAME_BUG:
                    state.default_name = (task, task.get_name())
                if tracker._unnamed or task.done():
                    tracker._created(task, state, parent, t, name)  # the rare paths
                    return task
                key = id(task)
                pid = tracker._parent_id(parent, state)
                tid = ids.get(key)
                if tid is None or tid not in early:
                    tid = next(counter)
                    ids[key] = tid
                else:
                    early.discard(tid)
                next(recorded)
                if inner is None and state.accounted:
                    acct.open(task, t + t0, True, tid, state)  # its first step is scheduled: ready now
                ref = wref(task)  # no callback: one destroyed while pending is swept by snapshot()
                rows = tracker.created
                if len(rows) < MAX_UNSENT_EVENTS:
                    rows.append((ref, tid, pid, name, lid, t))
                else:
                    tracker.events_dropped += 1
                pending[tid] = ref
                if inner is None:  # (as the fast path does: 3.13.0 records every task here)
                    if state.sample_every > 1:
                        state.quota -= 1
                        if state.quota <= 0:
                            tracker._install(loop_, state.sampled)
                    elif state.sample_ask > 1:
                        tracker._switch_sampling(loop_, state)
                if not state.ends_in_steps:
                    task.add_done_callback(done_cb)
            except Exception:
                pass
            return task

        def set_task_factory(new: Any) -> None:
            if new is not None and not callable(new):
                raise TypeError("task factory must be a callable or None")
            state.user_factory = new
            if new is not None:
                tracker._stop_sampling(state)  # the sampled factory would not call it

        def get_task_factory() -> Any:
            return state.user_factory

        state.factory = factory
        state.sampled = sampled_keep_name if _SET_NAME_BUG else sampled
        self.session.interner.elide(factory)
        self.session.interner.elide(state.sampled)
        try:
            type(loop).set_task_factory(loop, factory)
        except Exception:
            state.factory = None
            return
        try:
            loop.set_task_factory = set_task_factory
            loop.get_task_factory = get_task_factory
            if _SET_NAME_BUG:
                loop.create_task = _keep_default_name(loop, state)
                self.session.interner.elide(loop.create_task)
        except (AttributeError, TypeError):
            pass  # e.g. an extension-type loop: a later user factory replaces ours
        self._loop_states[state.lid] = state
        self.discover(loop, state)

    def detach_loop(self, loop: Any, state: LoopState) -> None:
        """Restore the loop's own factory methods and the user's factory (any thread)."""
        # deleting the instance attributes (the methods stay): never through loop.__dict__, which
        # on 3.11/3.12 would slow every attribute read of the loop for the rest of its life
        for name in ("set_task_factory", "get_task_factory", "create_task"):
            try:
                delattr(loop, name)
            except Exception:
                pass
        installed = getattr(loop, "_task_factory", None)
        if state.factory is not None and (installed is state.factory or installed is state.sampled):
            try:
                type(loop).set_task_factory(loop, state.user_factory)
            except Exception:
                pass
        state.factory = None
        state.can_sample = False
        self.accounting.uninstall()
        state.pending.clear()
        self._by_loop.pop(id(loop), None)

    def _ends_by_callbacks(self) -> None:
        """Accounting turned itself off on a loop whose tasks take many steps each: tell their
        ends by a done callback per task, and take the step hook off every step (in the loop's
        thread, from the hook; only with one loop: another loop's tasks belong to its thread)."""
        if len(self._by_loop) != 1:
            return
        state = next(iter(self._by_loop.values()))
        if state.ident != threading.get_ident() or not state.ends_in_steps:
            return
        state.ends_in_steps = False
        for ref in list(state.pending.values()):
            task = ref()
            if task is not None and not task.done():
                task.add_done_callback(state.done_cb)
        self.accounting.uninstall()

    # ------------------------------------------------------------ sampling
    def _parent_id(self, parent: Any, state: LoopState) -> int:
        """The id of a new task's parent (loop thread): -1 none; PARENT_UNRECORDED one sampling
        left out; an unknown parent is otherwise one whose creation is still running (eager)."""
        if parent is None:
            return -1
        pid = self._ids.get(id(parent), -1)
        if pid < 0:
            if state.sampling_periods and not state.in_eager:
                return PARENT_UNRECORDED
            pid = self.id_of(parent)
        return pid

    @staticmethod
    def tasks_made(state: LoopState) -> Tuple[int, int]:
        """(recorded in full, counted only) tasks this loop's factories made so far (any thread)."""
        try:
            recorded = int(repr(state.recorded)[6:-1])  # itertools.count's repr is "count(N)"
        except ValueError:
            recorded = 0
        # list(): one C call, atomic; names not counted yet are unrecorded tasks too
        return recorded, sum(list(state.unrecorded.values())) + len(state.names)

    def tasks_unrecorded(self) -> int:
        """Tasks counted but not recorded (sampled out), all loops."""
        return sum(self.tasks_made(state)[1] for state in list(self._loop_states.values()))

    def backlog_names(self) -> int:
        """Names of unrecorded tasks waiting for the pump to count them."""
        return sum(len(state.names) for state in list(self._loop_states.values()))

    @staticmethod
    def _count_names(state: LoopState) -> None:
        """Count the names the sampled factory appended (the pump, any thread: the loop thread
        only appends, so taking the front of the list needs no lock)."""
        names = state.names
        n = len(names)
        if n:
            batch = names[:n]
            del names[:n]
            count_names(state.unrecorded, batch)
            # asyncio.run's shutdown steps, made while sampling, are counted as asyncio's own (the
            # sampled factory keeps no coroutine to check its code object: the name alone marks them)
            for name in _SHUTDOWN_STEPS:
                if name in state.unrecorded:
                    state.unrecorded[ASYNCIO_OWN + name] = state.unrecorded.get(ASYNCIO_OWN + name, 0) + state.unrecorded.pop(name)

    @staticmethod
    def _install(loop: Any, factory: Any) -> None:
        """Make ``factory`` the loop's task factory (BaseEventLoop's attribute; any thread)."""
        try:
            type(loop).set_task_factory(loop, factory)
        except Exception:
            pass

    def check_sampling(self, now: float) -> None:
        """Count unrecorded tasks, measure each loop's task-creation rate and ask it to sample,
        or to record all again (the pump's thread; ``now`` is perf time). Sampling starts in the
        loop's thread, at its next recorded task (``_switch_sampling``); it stops here, at once.
        While sampling, each pump gives the loop a quota of 1 in K of the tasks it made since
        the last pump, which its full factory records (then puts the sampled one back)."""
        for state in list(self._loop_states.values()):
            self._count_names(state)
            recorded, counted = self.tasks_made(state)
            made = recorded + counted
            loop = state.loop_ref()
            if state.sample_every > 1 and loop is not None and state.factory is not None:
                state.quota_due += (made - state.quota_mark) / float(state.sample_every)
                state.quota_mark = made
                if state.quota <= 0 and state.quota_due >= 1.0:
                    state.quota = int(state.quota_due)
                    state.quota_due -= state.quota
                installed = getattr(loop, "_task_factory", None)
                if state.quota > 0 and installed is state.sampled:
                    self._install(loop, state.factory)
            busy = state.busy_time(now) if state.select_wrapper is not None else -1.0
            mark = state.rate_mark
            if mark is None or made < mark[1]:
                state.rate_mark = (now, made, busy)
                continue
            span = now - mark[0]
            if span < SAMPLING_WINDOW_S:
                continue
            rate = (made - mark[1]) / span
            # per second of the loop's busy time (out of select) where known: what recording
            # costs is relative to the loop's own work, not to the wall clock (a loop waiting
            # for the GIL held by a busy thread runs its tiny tasks at a lower rate, and pays
            # as much for recording each)
            busy_span = busy - mark[2] if busy >= 0 and mark[2] >= 0 else span
            heavy = (made - mark[1]) / max(busy_span, 1e-9)
            state.rate_mark = (now, made, busy)
            if state.sample_every == 1 and state.sample_ask == 1:
                if (
                    rate > MIN_SAMPLING_RATE and heavy > self.sampling_rate and state.can_sample
                    and state.user_factory is None and state.active
                ):
                    state.ask_rate, state.ask_heavy = rate, heavy
                    state.sample_ask = self.sample_every
            elif state.sample_every > 1 and self.sampling_rate > 0 and (
                rate < MIN_SAMPLING_RATE or heavy < self.sampling_off_rate
            ):
                self._stop_sampling(state)

    def _stop_sampling(self, state: LoopState) -> None:
        """Record every new task of this loop again (any thread)."""
        state.sample_ask = 1
        if state.sample_every > 1:
            state.sample_every = 1
            state.quota = 0
            periods = state.sampling_periods
            if periods and periods[-1][1] is None:
                periods[-1][1] = self.session.clock.now()
        loop = state.loop_ref()
        if loop is not None and state.factory is not None and getattr(loop, "_task_factory", None) is state.sampled:
            self._install(loop, state.factory)

    def _switch_sampling(self, loop: Any, state: LoopState) -> None:
        """Start sampling this loop's new tasks, as the pump asked (the loop's thread, from its
        full factory: taking the step hook off needs it)."""
        every = state.sample_ask
        if every <= 1 or state.user_factory is not None or not state.active or not state.can_sample:
            state.sample_ask = 1
            return
        state.sampling_periods.append([self.session.clock.now(), None, every, round(state.ask_rate, 1)])
        recorded, counted = self.tasks_made(state)
        state.quota, state.quota_due, state.quota_mark = 0, 0.0, recorded + counted
        state.sample_every = every
        acct = self.accounting
        timing = acct.enabled and bool(acct._loops)
        # the step hook runs Python code on every step of every task, recorded or not: a recorded
        # task tells its end by a done callback instead (one in K tasks pays for one)
        if state.ends_in_steps and len(self._by_loop) == 1 and state.ident == threading.get_ident():
            self._ends_by_callbacks()
        else:
            acct.stop_timing()  # several loops: the step hook stays, only telling recorded tasks' ends
        self._install(loop, state.sampled)
        if not self.sampling_said:
            self.sampling_said = True
            if self.sampling_rate > 0:
                why = "the loop created %s tasks/s (%s per second of its own busy time, over %s)" % (
                    _thousands(state.ask_rate), _thousands(state.ask_heavy), _thousands(self.sampling_rate))
            else:
                why = "sampling was asked from the first task"
            self.session.notice(
                "warning",
                SAMPLING_NOTICE + ": %s, so about 1 in %d new tasks is recorded in full and the others are "
                "only counted, exactly, by coroutine, until the rate falls under %s per second of busy time "
                "or %s/s (every_task=True, --every-task, records every task)"
                % (why, every, _thousands(self.sampling_off_rate), _thousands(MIN_SAMPLING_RATE)),
            )
        if timing and not acct.turned_off:
            acct.turned_off = "task sampling"
            self.session.notice(
                "warning",
                OFF_NOTICE + ": the loop creates tasks too fast to record each (tasks are sampled); "
                "tasks finishing from now on show unknown CPU/running/waiting/delayed",
            )

    def sampling_frames(self, now: float, final: bool = False) -> List[bytes]:
        """TASK_SAMPLING frames of the loops whose counts or periods changed (the pump; at most
        every SAMPLING_SEND_S unless a period began or ended, always when ``final``)."""
        out: List[bytes] = []
        for lid, state in list(self._loop_states.items()):
            if not state.sampling_periods:
                continue
            recorded, counted = self.tasks_made(state)
            periods = [list(p) for p in state.sampling_periods]
            what = (recorded, counted, len(periods), periods[-1][1] is None)
            last = self._sampling_sent.get(lid)
            if last is not None and last[1] == what:
                continue
            if last is not None and not final and last[1][2:] == what[2:] and now - last[0] < SAMPLING_SEND_S:
                continue
            self._sampling_sent[lid] = (now, what)
            out.append(wire.json_frame(wire.TASK_SAMPLING, {
                "t": self.session.clock.now(), "loop": lid, "every": state.sample_every,
                "recorded": recorded, "unrecorded": dict(list(state.unrecorded.items())), "periods": periods,
            }))
        return out

    def discover(self, loop: Any, state: LoopState) -> None:
        """Record tasks that already exist on the loop (attach); the parent is the
        task awaiting it, when its done callbacks show one, else unknown."""
        mod = sys.modules.get("asyncio")
        if mod is None:
            return
        try:
            existing = list(mod.all_tasks(loop))
        except Exception:
            return
        t = self.session.clock.now()
        known = {id(ref()) for ref in state.pending.values()}
        task_type = getattr(mod, "Task", None)
        for task in existing:
            if id(task) not in known:
                self._created(task, state, _awaiting_task(task, task_type), t)

    # ------------------------------------------------------------ events
    def _created(self, task: Any, state: LoopState, parent: Any, t: float, coro_name: Optional[str] = None) -> None:
        if self._unnamed:
            self._name_unnamed()
        key = id(task)
        # an eager task's parent may be mid-creation itself (its id assigned here, first)
        pid = self._parent_id(parent, state)
        tid = self._ids.get(key)
        if tid is None or tid not in self._early:
            # new, or an address reused after a pending task was freed: a fresh id
            tid = next(self._counter)
            self._ids[key] = tid
        else:
            self._early.discard(tid)
        next(state.recorded)
        if coro_name is None:
            coro = _task_coro(task)
            coro_name = _coro_name(coro) if coro is not None else ""
        acct = self.accounting
        if state.accounted and id(task) not in acct.accounts:
            # found at the loop's start (asyncio.run's main task) or at attach: accounted
            # from now on, which is also the creation time the stream gives it; ready if its
            # coroutine has not started yet (its first step is scheduled)
            acct.open(task, t + self.session.clock.t0, _not_started(_task_coro(task)), tid, state)
        try:
            ref: Any = weakref.ref(task)
        except TypeError:
            ref = None  # not weak-referenceable: its name is read when it finishes
        # The name is read when the batch is taken: create_task(name=...) sets it
        # only after the factory has returned.
        if len(self.created) < MAX_UNSENT_EVENTS:
            self.created.append((ref, tid, pid, coro_name, state.lid, t))
        else:
            self.events_dropped += 1
        if task.done():
            # finished during an eager start: create_task(name=...) names it only after
            # the factory returns, so its name is read at the next task event (one task
            # held at most that long)
            self._finish(task, tid, state, named=False)
            self._unnamed.append((task, tid))
        else:
            # weak: a pending task the program drops must still be destroyed (and
            # asyncio still say "Task was destroyed but it is pending!")
            if ref is not None:
                state.pending[tid] = ref
            else:
                state.pending[tid] = lambda t=task: t
            task.add_done_callback(state.done_cb)

    def _loop_callbacks(self, state: LoopState) -> None:
        """This loop's task-finished callback (a closure: no lookups)."""
        if state.done_cb is not None:
            return
        tracker = self
        clock = self.session.clock
        perf, t0 = clock.perf, clock.t0
        ids, pending, rows = self._ids, state.pending, self.finished
        acct = self.accounting
        accounts, close = acct.accounts, acct.close

        def on_done(task: Any, end: float = -1.0) -> None:
            """A tracked task finished at ``end`` (perf time): called by the step hook as its last
            step ends, or as its done callback (then ``end`` is now; runs in its loop's thread)."""
            try:
                key = id(task)
                tid = ids.pop(key, None)
                if tid is None:
                    return
                ref = pending.pop(tid, None)
                if ref is None or ref() is not task or not state.active:
                    return  # not ours: a tracked task was destroyed pending and this took its address
                if tracker._unnamed:
                    tracker._name_unnamed()
                if len(rows) >= MAX_UNSENT_EVENTS:
                    tracker.events_dropped += 1
                    return
                if task.cancelled():
                    kind, exc_name = 1, ""
                else:
                    exc = task._exception  # not exception(): that would mark it retrieved
                    kind, exc_name = (0, "") if exc is None else (2, type(exc).__name__)
                if end < 0:
                    end = perf()
                if accounts:
                    cpu, running, waiting, delayed = close(task, end)
                else:
                    cpu = running = waiting = delayed = _NAN
                rows.append((tid, end - t0, kind, exc_name, task.get_name(), cpu, running, waiting, delayed))
            except Exception:
                pass

        state.done_cb = on_done

    def _name_unnamed(self) -> None:
        held, self._unnamed = self._unnamed, []
        for task, tid in held:
            try:
                self._late_names[tid] = str(task.get_name())
            except Exception:
                pass

    def _finish(self, task: Any, tid: int, state: LoopState, named: bool = True) -> None:
        exc_name = ""
        if task.cancelled():
            kind = 1
        else:
            exc = getattr(task, "_exception", None)
            if exc is not None:
                kind = 2
                exc_name = type(exc).__name__
            else:
                kind = 0
        state.pending.pop(tid, None)
        key = id(task)
        if self._ids.get(key) == tid:
            del self._ids[key]
        if len(self.finished) >= MAX_UNSENT_EVENTS:
            self.events_dropped += 1
            return
        name = ""
        if named:
            try:
                name = str(task.get_name())
            except Exception:
                pass
        end = self.session.clock.perf()
        cpu, running, waiting, delayed = self.accounting.close(task, end)
        self.finished.append((tid, end - self.session.clock.t0, kind, exc_name, name, cpu, running, waiting, delayed))

    def take(self, rows: int = PUMP_ROWS) -> List[Tuple[bytes, int]]:
        """TASKS_NEW and TASKS_END frames for the events since the last call, with their row counts.

        Runs in whichever thread pumps; it only swaps lists, reads names and packs
        columns, so the loop thread's appends (atomic) never need a lock.
        """
        # At most PUMP_ROWS of each per call, so one pump never holds the pumping thread
        # (the sampler) long: a task-heavy loop otherwise made it fall behind, take bigger
        # batches, fall further behind, and sample at 1 Hz. Slicing and deleting the front
        # are single operations, and the loop thread only appends: no lock needed.
        # Finished first: a task whose end is taken now must have its creation taken too.
        fin = self.finished[:rows]
        del self.finished[: len(fin)]
        new = self.created[: max(rows, self._created_before(fin, rows))]
        del self.created[: len(new)]
        self._name_unnamed()
        late, self._late_names = self._late_names, {}
        out: List[Tuple[bytes, int]] = []
        # Column operations (zip, map, dict) rather than a Python loop per row: this runs in
        # the sampler's thread, and on a task-heavy program every microsecond per task here
        # is taken from the program's threads (the GIL) -- it cost ~1.6 us a task.
        fin_cols: List[Any] = list(zip(*fin))  # noqa: B905 (3.9 has no strict=; rows are tuples of one size)
        if new:
            refs, ids, parents, coros, loops, times = zip(*new)  # noqa: B905 (as above)
            # the name of a task still alive is read now (create_task(name=...) names it after
            # the factory returns); one that ended has the name its end row read
            ended: Dict[int, str] = dict(zip(fin_cols[0], fin_cols[4])) if fin else {}  # noqa: B905
            ended.update(late)
            names: List[str] = list(map(ended.get, ids, itertools.repeat("", len(ids))))
            alive: List[Any] = [r() if r is not None else None for r in refs]
            for i in [i for i, task in enumerate(alive) if task is not None]:
                try:
                    names[i] = str(alive[i].get_name())
                except Exception:
                    pass
            del alive
            out.append((wire.tasks_new_frame(times, ids, parents, loops, names, coros), len(new)))
        out.extend(self.accounting.take_spans(self.session.clock.t0))
        if self.awaiter_rows:
            awaiters = self.awaiter_rows[:]  # copy and cut: the watchdog may append meanwhile
            del self.awaiter_rows[: len(awaiters)]
            out.append((wire.json_frame(wire.TASK_AWAITERS, [list(r) for r in awaiters]), len(awaiters)))
        if fin:
            ids, times, states, excs, _, cpu, running, waiting, delayed = fin_cols
            out.append((wire.tasks_end_frame(times, ids, cpu, running, waiting, delayed, states, excs), len(fin)))
        return out

    # ------------------------------------------------------------ blame (watchdog / stall end)
    @staticmethod
    def name_of(task: Any) -> str:
        try:
            return str(task.get_name())
        except Exception:
            return ""

    def await_chain_of(self, task: Any) -> List[Tuple[int, str]]:
        """(id, name) of ``task``, the task awaiting it, and so on up to the root.

        Read from each future's done callbacks (see ``_awaiting_task``): safe from
        another thread while the loop is blocked, since nothing changes them then.
        """
        chain: List[Tuple[int, str]] = []
        task_type = getattr(sys.modules.get("asyncio"), "Task", None)
        seen = set()
        while task is not None and id(task) not in seen and len(chain) < MAX_AWAIT_DEPTH:
            seen.add(id(task))
            tid = self.known_id(task)
            chain.append((tid, self.name_of(task)))
            awaiters = _awaiting_tasks(task, task_type)
            if len(awaiters) > 1:  # the chain follows the first; the others are told too
                self.note_awaiters(tid, awaiters)
            task = awaiters[0] if awaiters else None
        return chain

    def note_awaiters(self, tid: int, awaiters: List[Any]) -> None:
        """Record that the task ``tid`` is awaited by each of ``awaiters`` (a task several tasks
        await), every (task, awaiter) pair once a session (loop thread or watchdog)."""
        if tid < 0:
            return
        pairs = self._awaiter_pairs
        t = -1.0
        for awaiter in awaiters:
            aid = self.known_id(awaiter)
            if aid >= 0 and aid != tid and (tid, aid) not in pairs:
                pairs.add((tid, aid))
                if t < 0:
                    t = self.session.clock.now()
                self.awaiter_rows.append((t, tid, aid))

    def ready_tasks(self, loop: Any, now: float) -> Dict[int, Tuple[str, float]]:
        """{id: (name, now)} of tasks whose next step waits in the loop's ready queue."""
        out: Dict[int, Tuple[str, float]] = {}
        try:
            ready = loop._ready
            # the first MAX_BLAME handles only: this runs while the loop is blocked, and
            # must not lengthen the stall it describes
            handles = list(ready) if len(ready) <= MAX_BLAME else [ready[i] for i in range(MAX_BLAME)]
        except Exception:
            return out
        for handle in handles:
            task = _handle_task(handle, self._task_type())
            if task is not None:
                tid = self.known_id(task)
                if tid < 0:
                    tid = unrecorded_key(task)  # not recorded (task sampling): counted, not named
                if tid not in out:
                    out[tid] = (self.name_of(task) if tid >= 0 else "", now)
        return out

    def due_timers(self, loop: Any, loop_now: float) -> List[Tuple[float, Any]]:
        """(due time, task) of timers in the loop's heap already due at ``loop_now`` (loop clock)."""
        out: List[Tuple[float, Any]] = []
        try:
            heap = loop._scheduled
        except Exception:
            return out
        task_type = self._task_type()
        # the due timers are the top of the heap: walk only down branches that are due
        # (a child is never due before its parent), at most MAX_BLAME of them
        todo = [0]
        n = len(heap)
        while todo and len(out) < MAX_BLAME:
            i = todo.pop()
            if i >= n:
                continue
            try:
                handle = heap[i]
            except IndexError:
                continue
            when = getattr(handle, "_when", None)
            if when is None or when > loop_now:
                continue
            todo.append(2 * i + 1)
            todo.append(2 * i + 2)
            if getattr(handle, "_cancelled", False):
                continue
            task = _handle_task(handle, task_type)
            if task is not None:
                out.append((when, task))
        return out

    @staticmethod
    def _task_type() -> Any:
        return getattr(sys.modules.get("asyncio"), "Task", None)

    # ------------------------------------------------------------ await snapshots
    def snapshot(self, state: LoopState) -> None:
        """Where each pending task of this loop waits (called in the loop's thread)."""
        if not state.pending:
            return
        interner = self.session.interner
        cache = self._chain_cache
        if len(cache) > 20000:
            cache.clear()
        ids: List[int] = []
        stacks: List[int] = []
        dead: List[int] = []
        task_type = self._task_type()
        # several awaiters need several done callbacks, besides the tracker's own where it has one
        several = 2 if state.ends_in_steps else 3
        for tid, ref in list(state.pending.items()):
            task = ref()
            if task is None:
                state.pending.pop(tid, None)  # destroyed while pending: it never finishes
                dead.append(tid)
                continue
            if task.done():
                # finished but not told (something replaced the step hook; a done callback
                # not run yet): ended now, at the latest
                state.done_cb(task)
                continue
            callbacks = getattr(task, "_callbacks", None)  # (the C Task builds this list: read once)
            if callbacks and len(callbacks) >= several:
                awaiters = _awaiting_tasks(task, task_type)
                if len(awaiters) > 1:
                    self.note_awaiters(tid, awaiters)
            frames = coro_frames(task)
            if not frames:
                continue
            # Many tasks wait at the same place: key the chain by (code, instruction
            # offset) per level, which is much cheaper to read than line numbers.
            key = tuple([(id(f.f_code), f.f_lasti) for f in frames])
            stack = cache.get(key)
            if stack is None:
                stack = interner.intern_codes([(f.f_code, f.f_lineno or 0) for f in reversed(frames)])
                cache[key] = stack  # the interner keeps these code objects alive
            ids.append(tid)
            stacks.append(stack)
        if dead:
            self._forget(dead)
        if ids:
            self.session.emit(wire.task_await_frame(self.session.clock.now(), ids, stacks), droppable=True)

    def _forget(self, tids: List[int]) -> None:
        """Forget the ids and accounts of tasks destroyed while pending (in the loop's thread).

        Swept here rather than by a weakref callback per task, which cost the factory of
        a task-heavy program ~10% of a tiny task's life; until then ``known_id`` and the
        task-finished callback check the weak reference, so an object that takes such a
        task's address is never taken for it.
        """
        gone = set(tids)
        forget = self.accounting.forget
        for key, tid in list(self._ids.items()):
            if tid in gone:
                self._ids.pop(key, None)
                forget(key)


def unrecorded_key(task: Any) -> int:
    """A key for a task the agent did not record, never a task id (those are >= 0): blame counts
    such tasks (``delayed_unrecorded``) instead of naming them."""
    return -2 - id(task)


def _thousands(x: float) -> str:
    return "{:,.0f}".format(x)


def _handle_task(handle: Any, task_type: Any) -> Any:
    """The task a loop callback will step or wake: the callback's owner (a task's step or
    wakeup), or the task awaiting a future in its arguments (a sleep's timer)."""
    if task_type is None:
        return None
    cb = getattr(handle, "_callback", None)
    owner = getattr(cb, "__self__", None)
    if isinstance(owner, task_type):
        return owner
    for arg in getattr(handle, "_args", None) or ():
        if hasattr(arg, "_callbacks") and hasattr(arg, "add_done_callback"):
            found = _awaiting_task(arg, task_type)
            if found is not None:
                return found
    return None


def _awaiting_task(fut: Any, task_type: Any) -> Any:
    """The first task found awaiting ``fut`` (see ``_awaiting_tasks``), if any."""
    found = _awaiting_tasks(fut, task_type, first=True)
    return found[0] if found else None


def _awaiting_tasks(fut: Any, task_type: Any, depth: int = 0, first: bool = False) -> List[Any]:
    """Every task that awaits ``fut`` (directly, or through gather, shield or a plain future),
    in the order of its done callbacks; with ``first``, at most one.

    Read from the future's done callbacks: an awaiting task registers its wakeup
    method (``__self__`` is the task); gather and shield register a closure over
    their outer future, which the awaiting task waits on in turn.
    """
    found: List[Any] = []
    if depth > 3 or task_type is None:
        return found
    try:
        callbacks = list(fut._callbacks or ())
    except Exception:
        return found
    for entry in callbacks:
        cb = entry[0] if isinstance(entry, tuple) else entry
        owner = getattr(cb, "__self__", None)
        if isinstance(owner, task_type):
            more = [owner]
        else:
            parent = getattr(owner, "_parent_task", None)  # a TaskGroup's child: its group's task
            if isinstance(parent, task_type):
                more = [parent]
            else:
                more = []
                for cell in getattr(cb, "__closure__", None) or ():
                    try:
                        value = cell.cell_contents
                    except ValueError:
                        continue
                    if value is not fut and hasattr(value, "_callbacks") and hasattr(value, "add_done_callback"):
                        more = _awaiting_tasks(value, task_type, depth + 1, first)
                        if more:
                            break
        for task in more:
            if all(task is not f for f in found):
                found.append(task)
        if first and found:
            return found
    return found


def coro_frames(task: Any) -> List[Any]:
    """Frames of the coroutines the task is suspended in, outermost first."""
    coro = _task_coro(task)
    frames: List[Any] = []
    while coro is not None and len(frames) < MAX_AWAIT_DEPTH:
        try:
            f = coro.cr_frame
            nxt = coro.cr_await
        except AttributeError:
            f = getattr(coro, "gi_frame", None)
            nxt = getattr(coro, "gi_yieldfrom", None)
        if f is None:
            break
        frames.append(f)
        coro = nxt
    return frames


def await_chain(task: Any) -> List[Tuple[Any, int]]:
    """(code, line) of each coroutine frame the task is suspended in, innermost first."""
    coro = _task_coro(task)
    pairs: List[Tuple[Any, int]] = []
    depth = 0
    while coro is not None and depth < MAX_AWAIT_DEPTH:
        depth += 1
        frame = getattr(coro, "cr_frame", None)
        if frame is None:
            frame = getattr(coro, "gi_frame", None)
        if frame is None:
            break
        pairs.append((frame.f_code, frame.f_lineno or 0))
        nxt = getattr(coro, "cr_await", None)
        if nxt is None:
            nxt = getattr(coro, "gi_yieldfrom", None)
        coro = nxt
    pairs.reverse()
    return pairs


def _keep_default_name(loop: Any, state: LoopState) -> Any:
    orig = type(loop).create_task

    def create_task(coro: Any, **kwargs: Any) -> Any:
        task = orig(loop, coro, **kwargs)  # (frame elided from stacks by attach_loop)
        stash = state.default_name
        state.default_name = None
        if kwargs.get("name") is None and stash is not None and stash[0] is task:
            try:
                task.set_name(stash[1])
            except Exception:
                pass
        return task

    return create_task


def _default_task(loop: Any, coro: Any, kwargs: Dict[str, Any]) -> Any:
    """What BaseEventLoop.create_task does without a factory."""
    tasks = sys.modules["asyncio.tasks"]
    return tasks.Task(coro, loop=loop, **kwargs)

