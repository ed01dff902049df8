"""Trace mode: yappi function statistics, sent as one FUNC_STATS at stop (sampling runs too).

The statistics are read once, when the session stops, never while the program
runs: yappi's enumeration writes into the entries of functions still on a
stack (a first call in flight gets ``callcount = 1``, a negative running self
time is clamped to 0), so each mid-run read added a call to every active
function and charged its finished children's time to its self time (a
``main`` called once showed 2 calls and its callees' 0.6 s as self).

The default clock is the thread's CPU time: a function's self time is then
time it really ran, so one thread's self times add up to no more than that
thread's life even when many coroutines interleave on it (yappi's wall clock
charges a suspended coroutine its awaits, and concurrent ones overlap).
Built-in functions are counted (``builtins=True``): without them yappi takes
their time out of the caller's self and lists it nowhere, so self times
would not add up to the total.

yappi is imported lazily, only here, only when trace mode is asked for; when
it is missing (or already in use by the program) the session says so in a
NOTICE and samples instead. yappi starts last, once the agent's threads run
(starting them after it counted 3 extra Thread.start, __init__ and run), and
the statistics of the agent's threads (yappi hooks every running thread) are
left out by their yappi context; the agent's threads also unhook themselves.
"""

from __future__ import annotations

import os
import sys
import threading

from . import wire
from .clock import own_thread_cpu

TYPE_CHECKING = False  # typing stays unimported in the target (start-up cost); mypy knows the name
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional

    from .session import AgentSession

SNAPSHOT_SECONDS = 1.0
_AGENT_DIR = os.path.dirname(os.path.abspath(__file__))


class TracerUnavailable(Exception):
    """yappi cannot be used in this target (the message says why)."""


class Tracer:
    """Runs yappi for the session; its thread pumps the session, statistics go out at stop."""

    def __init__(self, session: AgentSession, clock: str = "cpu") -> None:
        self.session = session
        self.clock = "wall" if clock == "wall" else "cpu"
        self._yappi: Any = None
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._prev_clock: Optional[str] = None
        self._lock = threading.RLock()
        self.snapshots = 0
        self.cpu_s = 0.0

    def prepare(self) -> None:
        """Import yappi and check it is free (before the session says it traces); raises TracerUnavailable."""
        try:
            import yappi  # lazy: trace mode only
        except Exception as exc:
            raise TracerUnavailable("yappi is not importable in the target (%s: %s)" % (type(exc).__name__, exc)) from None
        if yappi.is_running():
            raise TracerUnavailable("yappi is already running in the target")
        self._yappi = yappi

    def start(self) -> None:
        """Start this thread, then yappi: the session starts it after all its other threads, so no
        Thread.__init__/start/run of the agent's is counted as the program's (raises when it cannot)."""
        if self._yappi is None:
            self.prepare()
        yappi = self._yappi
        try:
            self._prev_clock = str(yappi.get_clock_type().get("type", "")) or None
        except Exception:
            self._prev_clock = None
        self._thread = threading.Thread(target=self._run, name="pyrometer-tracer", daemon=True)
        self._thread.start()
        try:
            yappi.clear_stats()
            yappi.set_clock_type(self.clock)
            yappi.start(builtins=True, profile_threads=True)
        except BaseException:
            self._stop.set()
            self._yappi = None
            raise

    def _run(self) -> None:
        self.session.add_agent_thread(threading.get_ident())
        try:
            while not self._stop.wait(SNAPSHOT_SECONDS):
                sys.setprofile(None)  # yappi hooks every running thread as it starts: not the agent's
                if self.session.sink_closed():
                    self.session.stop_async("collector-lost")
                    return
                # no send_snapshot() here: reading yappi mid-run corrupts it (module docstring)
                self.session.pump()
                self.session.send_telemetry()
                self.cpu_s = own_thread_cpu()
        except Exception as exc:
            self.session.notice("error", "trace snapshots stopped: %r" % (exc,))
        finally:
            self.cpu_s = own_thread_cpu()
            self.session.note_agent_cpu(threading.get_ident(), self.cpu_s)

    def snapshot(self) -> Dict[str, Any]:
        """The FUNC_STATS JSON object for yappi's current statistics.

        The agent's own functions are left out, and so is every function that
        only the agent calls (json encoding of a batch inside a loop probe...).
        The agent's pass-through wrappers (the selector's ``select``, the task
        factory) are looked through instead: what they call is the program's,
        and is reported as called by the wrapper's own caller.
        """
        yappi = self._yappi
        stats = list(self._program_stats(yappi))
        # children name their function by full name: after yappi merges the threads'
        # statistics a child's `index` may point at another thread's row
        ids = {st.full_name: st.index for st in stats}
        places = self.session.interner.elided_places()
        wrappers = {st.index for st in stats if (st.module, st.lineno) in places}
        kids: Dict[int, List[Any]] = {}
        callers: Dict[int, List[int]] = {}
        via: Dict[int, Any] = {}  # wrapper -> (its busiest caller, calls)
        for st in stats:
            rows = kids[st.index] = []
            for child in st.children:
                cid = ids.get(child.full_name)
                if cid is None:
                    continue
                rows.append((cid, child))
                callers.setdefault(cid, []).append(st.index)
                if cid in wrappers and (cid not in via or child.ncall > via[cid][1]):
                    via[cid] = (st.index, child.ncall)
        agent = {st.index for st in stats if st.module.startswith(_AGENT_DIR)}
        changed = True
        while changed:
            changed = False
            for st in stats:
                idx = st.index
                if idx in agent:
                    continue
                up = callers.get(idx)
                if up and all(c in agent and c not in wrappers for c in up):
                    agent.add(idx)
                    changed = True
        funcs: List[Dict[str, Any]] = []
        edges: List[List[Any]] = []
        for st in stats:
            if st.index in agent and st.index not in wrappers:
                continue
            caller = st.index
            if st.index in wrappers:
                if st.index not in via or via[st.index][0] in agent:
                    continue
                caller = via[st.index][0]
            else:
                funcs.append(
                    {
                        "id": st.index,
                        "name": st.name,
                        "file": st.module,
                        "line": st.lineno,
                        "calls": st.ncall,
                        "prim_calls": st.nactualcall,
                        "self": st.tsub,
                        "total": st.ttot,
                    }
                )
            for cid, child in kids[st.index]:
                if cid not in agent:
                    edges.append([caller, cid, child.ncall, child.tsub, child.ttot])
        return {"t": self.session.clock.now(), "clock": self.clock, "funcs": funcs, "edges": edges}

    def _program_stats(self, yappi: Any) -> Any:
        """yappi's statistics of the program's threads: those of the agent's threads (running when yappi
        started, it hooked them all: the sender, the sampler...) are left out by their context."""
        agent = self.session.own_thread_idents()  # not agent_idents: the main thread is the program's
        try:
            ctxs = frozenset(ts.id for ts in yappi.get_thread_stats() if ts.tid in agent)
        except Exception:  # another context backend (greenlets): per function only, as before
            ctxs = frozenset()
        if not ctxs:
            return yappi.get_func_stats()
        return yappi.get_func_stats(filter_callback=lambda st: st.ctx_id not in ctxs)

    def send_snapshot(self) -> None:
        with self._lock:
            if self._yappi is None:
                return
            obj = self.snapshot()
            self.snapshots += 1
        self.session.emit(wire.json_frame(wire.FUNC_STATS, obj))

    def halt(self) -> None:
        """Stop yappi counting (first thing on session stop: the rest of stop() is not the program)."""
        self._stop.set()
        yappi = self._yappi
        if yappi is not None:
            try:
                yappi.stop()
            except Exception:
                pass

    def stop(self) -> None:
        """Stop yappi, send the final statistics, clear them and restore its clock type."""
        self.halt()
        yappi = self._yappi
        if yappi is None:
            return
        th = self._thread
        if th is not None and th is not threading.current_thread() and th.is_alive():
            th.join(2.0)
        try:
            self.send_snapshot()
        except Exception as exc:
            self.session.notice("error", "final trace statistics failed: %r" % (exc,))
        with self._lock:
            self._yappi = None
            try:
                yappi.clear_stats()
                if self._prev_clock:
                    yappi.set_clock_type(self._prev_clock)
            except Exception:
                pass
