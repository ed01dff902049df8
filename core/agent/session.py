"""One profiling session inside the target: starts the collectors, owns the stream order.

``AgentSession(options, sink)`` is the contract with the transport: ``start()``
sends META and installs everything, ``stop()`` removes everything and ends
the stream. All messages go through ``emit()``, which first sends any new
frame/stack/thread/loop definitions under one lock, so a definition always
precedes its first use whatever thread produced the data.

Options (all optional):
  rate_hz             float  100      sampling rate
  mode                str    "sample" "sample" | "trace" (sampling plus yappi's exact calls;
                                      without yappi: sampling only)
  clock               str    "cpu"    yappi clock in trace mode: "cpu" (self times of a thread
                                      add up to at most its life) | "wall" (suspended coroutines
                                      are charged their awaits, so concurrent ones overlap)
  loop_interval_ms    float  10       lag probe period
  block_threshold_ms  float  50       a loop busy longer than this is a BLOCKING event
  attached            bool   False    started inside an already running process
  argv                list   sys.argv what the target runs
  asyncio             bool   True     watch event loops (lag, blocking, tasks)
  main_signal         bool   False    sample the main thread from a SIGALRM timer (main_signal.py)
  switch_interval_ms  float  None     set sys.setswitchinterval while sampling (restored on stop);
                                      None leaves the interpreter's setting alone
  follow_fork         bool   False    in a forked child the session goes quiet and unhooks itself
  task_accounting     bool   True     per-task CPU/running/waiting/delayed seconds (accounting.py);
                                      turns itself off on loops stepping too fast to time cheaply
  every_task          bool   False    record every asyncio task, never sample them (tasks.py)
  task_sampling_rate  float  10000    tasks/s a loop must create for its new tasks to be sampled
                                      (0: from the first task); defaults.TASK_SAMPLING_RATE
  task_sample_every   int    100      while sampling, 1 in this many new tasks is recorded in full
Threads whose name starts with "pyrometer" (and idents given to
``add_agent_thread``) are the agent's and are never sampled.
"""

from __future__ import annotations

import _socket  # not socket.py: see transport
import os
import sys
import threading
import time
import weakref

from . import children, defaults, wire
from .clock import SessionClock, read_cpu, thread_cpu_clock
from .defaults import COLLECTION, MAIN_SIGNAL
from .frames import Interner, ThreadTable
from .loops import LoopMonitor
from .sampler import Sampler
from .tasks import AGENT_PUMP_ROWS, PUMP_ROWS, TaskTracker
from .tracer import Tracer, TracerUnavailable

CHILD_PROCESSES = "child_processes"  # the kind of the notice that says children are not profiled

TYPE_CHECKING = False  # typing stays unimported in the target (start-up cost); mypy knows the name
if TYPE_CHECKING:
    from typing import Any, Dict, Optional, Protocol

    class Sink(Protocol):
        """Where the stream goes (the transport provides it; tests use a file)."""

        closed: bool  # True once the collector is gone: the session then stops itself

        def send(self, data: bytes, droppable: bool = False) -> bool:
            """Queue framed bytes; False when a droppable frame was dropped (buffer full)."""
            ...

        def flush(self) -> object:
            """Push queued bytes out; transports may take a timeout and report success."""
            ...


AGENT_VERSION = "0.2.3"  # 0.2: packed task events, per-task accounting, task spans, loop blame; 0.2.1: task_awaiters;
# 0.2.2: task sampling (task_sampling); 0.2.3: a stall's steps (blocking.steps)


PUMP_SECONDS = 0.05

DEFAULTS: Dict[str, Any] = {
    **COLLECTION,
    "attached": False,
    "argv": None,
    "asyncio": True,
    "switch_interval_ms": None,
    "main_signal": MAIN_SIGNAL,
    "follow_fork": False,
    "task_accounting": True,
    "every_task": False,
    "task_sampling_rate": defaults.TASK_SAMPLING_RATE,
    "task_sample_every": defaults.TASK_SAMPLE_EVERY,
}


def _main_file() -> Optional[str]:
    """The running script's absolute path (``__main__.__file__``, absolute since 3.9), which names an
    attached process in its history when ``sys.argv[0]`` is relative to a directory we do not know."""
    try:
        path = getattr(sys.modules.get("__main__"), "__file__", None)
        return path if isinstance(path, str) and os.path.isabs(path) else None
    except Exception:
        return None


class AgentSession:
    """Runs the sampler / tracer, loop monitor and task tracker and writes their stream to a sink."""

    def __init__(self, options: Optional[Dict[str, Any]], sink: Sink, clock: Optional[SessionClock] = None) -> None:
        opts = dict(DEFAULTS)
        opts.update({k: v for k, v in (options or {}).items() if v is not None})
        if opts["argv"] is None:
            opts["argv"] = list(sys.argv)
        self.options = opts
        self.sink = sink
        self.clock = clock or SessionClock()  # tests pass a virtual clock
        self.interner = Interner()
        self.threads = ThreadTable(self.interner)
        self.tasks = TaskTracker(self)
        self.loops = LoopMonitor(
            self, float(opts["loop_interval_ms"]) / 1000.0, float(opts["block_threshold_ms"]) / 1000.0
        )
        self.sampler: Optional[Sampler] = None
        self.tracer: Optional[Tracer] = None
        self.mode = "sample"
        self.started = False
        self.stopped = False
        self._state_lock = threading.RLock()  # RLocks throughout: stop() may run in a signal handler
        self._send_lock = threading.RLock()
        self._pump_lock = threading.RLock()
        self._last_pump = 0.0
        self._quiet = False  # forked child: never write to the parent's sink
        self._child_seen = False  # the program started a Python child (said once: children.py)
        self._child_lock = threading.Lock()
        self._prev_switch: Optional[float] = None
        self._agent_clocks: Dict[int, Optional[int]] = {}
        self._agent_cpu: Dict[int, float] = {}
        self.lag_probes = 0
        self.lag_dropped = 0
        self.send_errors = 0
        self.bytes_emitted = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Send META, then start the collectors and install the hooks.

        Under the state lock, so a `stop` from another thread (the collector went away while
        this ran) waits and then undoes all of it; and a session stopped before it started
        (the collector was gone before we got here: a stalled attach) never starts.
        """
        with self._state_lock:
            if self.started or self.stopped:
                return
            self.started = True
            self._start()

    def _start(self) -> None:
        opts = self.options
        notice = None
        if opts["mode"] == "trace":
            tracer = Tracer(self, str(opts["clock"]))
            try:
                tracer.prepare()  # started last (below): yappi must not count the agent starting its threads
                self.tracer = tracer
                self.mode = "trace"
            except TracerUnavailable as exc:
                notice = "trace mode unavailable: %s; sampling instead" % (exc,)
            except Exception as exc:
                notice = "trace mode failed to start (%r); sampling instead" % (exc,)
        self.emit(wire.json_frame(wire.META, self._meta()))
        if notice:
            self.notice("warning", notice)
        # trace mode adds exact statistics to sampling, it never replaces it: the timeline,
        # flame graph, tasks and loop views need the samples in both modes
        sw = opts.get("switch_interval_ms")
        if sw:
            self._prev_switch = sys.getswitchinterval()
            sys.setswitchinterval(float(sw) / 1000.0)
        self.sampler = Sampler(self, float(opts["rate_hz"]))
        if opts.get("main_signal") and self.mode == "sample":
            self._start_main_signal()
        self.sampler.start()
        if opts.get("asyncio", True):
            self.loops.start()
        try:
            children.watch(self._child_started, bool(opts.get("attached")))
        except Exception:
            pass  # e.g. another audit hook refusing ours: profile on, without the note
        if hasattr(os, "register_at_fork"):
            ref = weakref.ref(self)

            def _child() -> None:
                session = ref()
                if session is not None:
                    session._after_fork_child()

            os.register_at_fork(after_in_child=_child)
        if self.tracer is not None:
            try:
                self.tracer.start()
            except Exception as exc:
                self.tracer = None
                self.mode = "sample"
                self.notice("warning", "trace mode failed to start (%r); sampling instead" % (exc,))

    def _start_main_signal(self) -> None:
        """Sample the main thread from SIGALRM (main_signal.py), or say in a notice why not."""
        from .main_signal import MainSignalSampler

        assert self.sampler is not None
        main = MainSignalSampler(self.clock.perf, self.sampler.interval)
        try:
            why = main.start()
        except Exception as exc:
            why = "%r" % (exc,)
        if why is None:
            self.sampler.main_signal = main
        else:
            self.notice("warning", "main thread sampled by the sampler thread, not by SIGALRM: %s" % (why,))

    def _meta(self) -> Dict[str, Any]:
        opts = self.options
        try:
            host = _socket.gethostname()
        except Exception:
            host = ""
        return {
            "pid": os.getpid(),
            "python": sys.version.split()[0],
            "implementation": sys.implementation.name,
            "executable": sys.executable,
            "host": host,
            "start_wall": time.time(),
            "clock": "perf_counter",
            "t0": self.clock.t0,
            "argv": list(opts["argv"]),
            "main_file": _main_file() if opts["attached"] else None,
            "mode": self.mode,
            "requested_mode": opts["mode"],
            "trace_clock": opts["clock"] if self.mode == "trace" else None,
            "rate_hz": float(opts["rate_hz"]),
            "loop_interval_ms": float(opts["loop_interval_ms"]),
            "block_threshold_ms": float(opts["block_threshold_ms"]),
            "attached": bool(opts["attached"]),
            "agent_version": AGENT_VERSION,
            "unit": "seconds",
        }

    def stop(self, reason: str = "exit", exit_status: Optional[int] = None) -> None:
        """Remove all hooks and end the stream; idempotent, safe from any thread or a signal handler."""
        with self._state_lock:
            if self.stopped or not self.started:
                self.stopped = True
                return
            self.stopped = True
        children.unwatch(self._child_started)
        if self.tracer is not None:
            self.tracer.halt()
        try:
            self.loops.stop()
        except Exception:
            pass
        if self.sampler is not None:
            try:
                self.sampler.stop()
            except Exception:
                pass
        if self.tracer is not None:
            try:
                self.tracer.stop()
            except Exception:
                pass
        self._restore_switch()
        try:
            self.pump(force=True)
            self.send_telemetry(final=True)
            self.emit(wire.json_frame(wire.END, {"t": self.clock.now(), "exit_status": exit_status, "reason": reason}))
        except Exception:
            pass
        if not self._quiet:
            try:
                self.sink.flush()
            except Exception:
                pass

    def stop_async(self, reason: str) -> None:
        """Stop from an agent thread (it is not joined on itself)."""
        self.stop(reason)

    def _restore_switch(self) -> None:
        if self._prev_switch is not None:
            try:
                sys.setswitchinterval(self._prev_switch)
            except Exception:
                pass
            self._prev_switch = None

    def _after_fork_child(self) -> None:
        """In a forked child the agent's threads are gone and the sink is the parent's: unhook quietly."""
        if self.options.get("follow_fork") or self.stopped:
            return
        self._quiet = True
        self.stopped = True
        try:
            self.loops.stop(in_child=True)
        except Exception:
            pass
        if self.tracer is not None and self.tracer._yappi is not None:
            try:
                self.tracer._yappi.stop()
                self.tracer._yappi.clear_stats()
            except Exception:
                pass
        self._restore_switch()

    # ------------------------------------------------------------------ output
    def sink_closed(self) -> bool:
        return bool(getattr(self.sink, "closed", False))

    def hold_output(self) -> None:
        """Several sends follow: let the sink wake its sender once, at `release_output`."""
        hold = getattr(self.sink, "hold", None)
        if hold is not None:
            hold()

    def release_output(self) -> None:
        release = getattr(self.sink, "release", None)
        if release is not None:
            release()

    def emit(self, data: bytes, droppable: bool = False) -> bool:
        """Send one or more frames after any pending definitions; never raises."""
        if self._quiet:
            return False
        with self._send_lock:
            if not self._send_definitions():
                return False  # data may refer to them: never send it without
            try:
                ok = bool(self.sink.send(data, droppable))
            except Exception:
                self.send_errors += 1
                return False
            if ok:
                self.bytes_emitted += len(data)
            return ok

    def _send_definitions(self) -> bool:
        """Send pending definitions (caller holds the send lock); keep them if the sink refuses."""
        defs = self.interner.take_definitions()
        if not defs:
            return True
        try:
            ok = bool(self.sink.send(defs, False))
        except Exception:
            self.send_errors += 1
            ok = False
        if ok:
            self.bytes_emitted += len(defs)
        else:
            self.interner.give_back(defs)
        return ok

    def notice(self, level: str, message: str, kind: str = "") -> None:
        body = {"t": self.clock.now(), "level": level, "message": message}  # type: Dict[str, Any]
        if kind:
            body["kind"] = kind  # what a viewer may show apart (e.g. the session bar's child-process note)
        self.emit(wire.json_frame(wire.NOTICE, body))

    def _child_started(self, what: str) -> None:
        """The program started a Python child process: say once that it is not profiled (children.py)."""
        with self._child_lock:  # not the state lock: a program's fork never waits for our start()
            if self._child_seen or self.stopped:
                return
            self._child_seen = True
        self.notice(
            "warning",
            "child processes are not profiled: the program started a Python child (%s); only this process (PID %d) is profiled"
            % (what, os.getpid()),
            kind=CHILD_PROCESSES,
        )

    def pump(self, force: bool = False) -> None:
        """Send the lag probes and task events gathered since the last pump."""
        # forced (by stop) waits a little for a pump in progress, never forever: stop()
        # may run in a signal handler that interrupted the thread holding other locks
        if not (self._pump_lock.acquire(True, 1.0) if force else self._pump_lock.acquire(False)):
            return
        try:
            self._last_pump = self.clock.perf()
            rows = self.loops.take_lag()
            if rows:
                self.lag_probes += len(rows)
                times = [r[0] for r in rows]
                lids = [r[1] for r in rows]
                lags = [r[2] for r in rows]
                if not self.emit(wire.lag_frame(times, lids, lags), droppable=True):
                    self.lag_dropped += len(rows)
            # droppable: a task-heavy program must not grow the sink's buffer without bound
            # (smaller batches in the agent's threads: see tasks.AGENT_PUMP_ROWS)
            most = AGENT_PUMP_ROWS if threading.get_ident() in self.threads.agent_idents else PUMP_ROWS
            while True:  # a bounded batch per pump; the last (forced) pump takes everything
                batch = self.tasks.take(most)
                for data, count in batch:
                    if not self.emit(data, droppable=True):
                        self.tasks.events_dropped += count
                if not (force and batch):
                    break
            self.tasks.check_sampling(self._last_pump)
            for data in self.tasks.sampling_frames(self._last_pump, final=force):
                self.emit(data)  # cumulative counts: small, and never dropped
            if not self._quiet:
                with self._send_lock:
                    self._send_definitions()
        except Exception:
            self.send_errors += 1
        finally:
            self._pump_lock.release()

    def pump_if_due(self, now: float) -> None:
        if now - self._last_pump >= PUMP_SECONDS:
            self.pump()

    # ------------------------------------------------------------------ threads
    def add_agent_thread(self, ident: Optional[int] = None) -> None:
        """Mark a thread as the agent's own (never sampled; its CPU counts as agent CPU)."""
        if ident is None:
            return
        self.threads.agent_idents.add(ident)
        native = None
        th = threading._active.get(ident)  # type: ignore[attr-defined]
        if th is not None:
            native = getattr(th, "native_id", None)
        self._agent_clocks[ident] = thread_cpu_clock(ident, native)

    def own_thread_idents(self) -> "frozenset[int]":
        """The threads the agent started (add_agent_thread), not the main thread it borrows while launching."""
        return frozenset(self._agent_clocks)

    def note_agent_cpu(self, ident: int, cpu_s: float) -> None:
        """An agent thread reports its own CPU time (done as it exits, when its clock disappears)."""
        if cpu_s >= 0:
            self._agent_cpu[ident] = max(cpu_s, self._agent_cpu.get(ident, 0.0))

    def agent_cpu_s(self) -> float:
        """CPU seconds used by the agent's threads so far (exited threads keep their last reading)."""
        for ident, clock_id in list(self._agent_clocks.items()):
            v = read_cpu(clock_id)
            if v >= 0:
                self._agent_cpu[ident] = max(v, self._agent_cpu.get(ident, 0.0))
        return sum(self._agent_cpu.values())

    def current_task_id(self, ident: int) -> int:
        try:
            return self.loops.current_task_id(ident)
        except Exception:
            return -1

    # ------------------------------------------------------------------ telemetry
    def telemetry(self, final: bool = False) -> Dict[str, Any]:
        s = self.sampler
        bytes_sent = getattr(self.sink, "bytes_sent", None)
        return {
            "t": self.clock.now(),
            "final": final,
            "mode": self.mode,
            "rate_hz": float(self.options["rate_hz"]),
            "samples_taken": s.samples_taken if s else 0,
            "samples_dropped": s.samples_dropped if s else 0,
            "unsampled_s": round(s.unsampled_s, 6) if s else 0.0,
            "sampler_ticks": s.ticks if s else 0,
            "late_ticks": s.late_ticks if s else 0,
            "busy_ticks": s.busy_ticks if s else 0,
            "late_s": round(s.late_s, 6) if s else 0.0,
            "main_signal": bool(s and s.main_signal is not None),
            "effective_rate_hz": round(s.effective_rate_hz, 2) if s else 0.0,
            "agent_cpu_s": round(self.agent_cpu_s(), 6),
            "loop_hook_s": round(self.loops.hook_s, 6),
            # the whole target's CPU: with a plain run's, it gives the agent's true cost,
            # including the work its hooks do inside the program's own threads
            "process_cpu_s": round(time.process_time(), 6),
            "bytes_sent": bytes_sent if isinstance(bytes_sent, int) else self.bytes_emitted,
            "lag_probes": self.lag_probes + len(self.loops.lag),
            "lag_dropped": self.lag_dropped,
            "frames_dropped": int(getattr(self.sink, "frames_dropped", 0) or 0),  # any kind, by a full transport
            "blocking_events": self.loops.blocking_count,
            "loops": self.loops.loops_seen,
            "tasks_seen": self.tasks.tasks_seen,
            "tasks_unrecorded": self.tasks.tasks_unrecorded(),  # counted, not recorded (task sampling)
            "task_events_dropped": self.tasks.events_dropped + self.tasks.accounting.spans_dropped,
            "frames": self.interner.frame_count,
            "stacks": self.interner.stack_count,
            "trace_snapshots": self.tracer.snapshots if self.tracer else 0,
            "switch_interval_s": sys.getswitchinterval(),
            "send_errors": self.send_errors,
        }

    def send_telemetry(self, final: bool = False) -> None:
        if self.options.get("attached") and not self._child_seen:
            children.poll()  # a multiprocessing launcher imported since (attached: no audit hook)
        self.emit(wire.json_frame(wire.TELEMETRY, self.telemetry(final)))
