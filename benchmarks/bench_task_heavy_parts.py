"""Where the agent's cost on the task-heavy target (issue 11) comes from, one feature at a time.

Not a timed test: run it by hand,
`python benchmarks/bench_task_heavy_parts.py [--seconds 4] [--runs 3] [--configs a,b]`,
or one configuration in this process with `--child CONFIG` (under callgrind:
`valgrind --tool=callgrind python benchmarks/bench_task_heavy_parts.py --child full --rounds 400 --no-busy`
gives instruction counts that the machine's load does not change).

Each configuration runs the task-heavy workload (200 tiny tasks gathered in a
loop, plus a busy thread) in a fresh process, in-process with the agent and a
real `transport.FileSink` (its sender thread included), and reports the loop's
rounds per second, the loop thread's CPU per round, the sampler's rate, and how
many times a second each thread went off CPU to wait (voluntary context
switches from /proc: a thread that waits for the GIL, a sleep or a condition
shows there). Configurations run interleaved, so the load of the shared
machine falls on all alike; the ratios to `plain` are what to read.

`bare-factory` installs a task factory that only creates the task: the cost of
the least any per-task hook written in Python must do; `min-tracker` the least
a complete record of every task (creation, parent, end) costs in Python. `tick100` is no profiler at all: only an empty thread that wakes 100 times a
second (what any in-process sampler at 100 Hz must at least do); it is the
floor an in-process sampler cannot go under next to a CPU-bound thread.

`full` is the agent at its defaults (task sampling starts once the pump has measured the rate:
~0.2 s on a loaded machine, ~1 s where the sampler is starved, so a 4 s run records a quarter of
its tasks in full and overstates what a long run pays), `sampled` the agent with task sampling
from the first task (`task_sampling_rate=0`; under valgrind the loop is too slow to reach the
rate), `sampled-dictcount` the same with the pump counting names as it did before
`tasks.count_names` (a dict update per task), `every-task` the agent recording every task
(`every_task=True`, accounting on).
`--yardstick` adds, to every config, a thread that sleeps 10 ms in a loop and counts its
wake-ups: how often this process, at this load and next to these threads, gives a sleeping
thread the GIL -- what any in-process sampler can do at best. `main Hz` is MainThread's samples
per second of the loop's run, read back from the recording; `sampler Hz` the sampler's own
tick rate since it started (the same samples, plus start-up and shut-down); `hook ms/s` the
agent's time inside the loop's thread (probes, snapshots, pumps), `agent ms/s` its threads' CPU.
`--callgrind` runs the instruction counts below (the difference of an 80- and a 20-round run,
`--no-busy --threshold-ms 100000`, so start-up cancels; "loop thread" is the thread that runs
the loop; time-driven agent threads do ~50x more per task under valgrind than natively, so
"all threads" overstates them); `BENCH_AGENT_OPTIONS='{...}'` adds session options by hand.

Measured 2026-12-03 (CPython 3.11.7, 2 shared cores, load 5-12), callgrind, instructions per
task of the loop's thread (one config measured twice differs by up to ~200: the time-driven
work that runs in the loop's thread):

    plain           39,600
    bare-factory    39,959   (+0.9%: calling a Python factory at all, and 3.11's
                              create_task then calling _set_task_name)
    no-tasks        39,864   (+0.7%: sampler, lag probe, select hook, watchdog, sender)
    sampled         41,184-41,562 (+4.0-4.9%, two runs; all threads 48,166-52,833)
    sampled-dictcount 41,326-41,520 (+4.4-4.8%, three runs; all threads 53,754-54,248)
    sampled, 1 in 1,000 recorded in full (`BENCH_AGENT_OPTIONS='{"task_sample_every": 1000}'`)
                    41,126   (+3.8%; all threads 51,570; one run)
    no-accounting   71,258  (+79.9%; main's agent by the same method: 70,447, +77.9%)
    every-task      87,415 (+120.7%)

Where `sampled`'s cost goes (standalone factories under callgrind, same method): any Python
factory +0.9%; appending each unrecorded task's coroutine name for the pump to count +1.2%
(a per-task test of "record this one or not" cost more, which is why sampling swaps the loop's
factory instead of branching in it); the instance attributes that shadow the loop's
set/get_task_factory +0.3%; the agent's other hooks +0.7%; the 1 in 100 tasks recorded in full
(and the done callback that tells their end) the rest (under valgrind the time-driven await
snapshots of the recorded tasks run ~50x more often per task than natively, so their share is
overstated; natively a full record costs ~1.8 us, 1 in 100 of them ~0.45% of a 4 us task).
The pump's count of the unrecorded tasks' names cost 543 instructions a task with a dict update
per name (`_count_elements`), 8 with `tasks.count_names` (200,000 names of one coroutine, under
callgrind): ~1.4% of a tiny task, paid under the GIL by whichever thread pumps -- the sampler
under valgrind (so "all threads" above, not the loop's), often the loop itself natively, where
a starved sampler leaves the pumping to it: on the emulated quiet machine below the agent's
time in the loop's thread went from 10.7 to 5.2 ms a second (`sampled-dictcount` vs `sampled`).
Tried and not kept: appending the coroutine object instead of its `__qualname__` (the pump
reading the names) took 41,483 -> 41,275 off the loop's thread but added ~2,500 to all threads:
it only moved the coroutines' deallocation to the pumping thread, which holds the GIL as well,
and kept every coroutine alive until the next pump.

Natively the sampler's rate and the loop's speed depend on how the OS schedules the threads:

* A quiet machine (emulated with `chrt -r 1`, so the benchmark's threads run before any other
  process; a run on a really quiet machine, load 0.7-0.9, gave the same picture: plain 709
  rounds/s, sampler 14-30 ticks/s). The loop thread releases the GIL at every select (~2,700 times a second) for
  microseconds and takes it back before a woken waiter can; each such wake-up restarts that
  waiter's switch-interval timeout, so no other thread ever forces a switch: the loop holds the
  GIL ~95% of the time, the busy thread starves, and a thread that sleeps gets the GIL a few
  times a second. `chrt -r 1 python benchmarks/bench_task_heavy_parts.py --configs
  plain,no-tasks,full,sampled --runs 8 --seconds 4 --yardstick` (load ~10 outside):

      config   rounds/s  slowdown (range)    cpu/round x (range)  sampler Hz  main Hz  yardstick
      plain       897.2  1.000x              1.000x                     -        -        4.2
      no-tasks    822.5  1.075x (0.94-1.19)  1.066x (0.95-1.16)      14.3      7.9        6.2
      full        710.5  1.341x (1.12-1.82)  1.263x (1.08-1.67)      11.6      4.6        6.6
      sampled     800.3  1.112x (0.93-1.43)  1.126x (0.95-1.41)      16.1      9.3        5.2

  py-spy, reading the process from outside (`py-spy record --rate 100 --idle --threads
  --nonblocking`), took 431 samples of MainThread in the same 4 s run (~95/s) where the agent
  took 8.7/s and the yardstick woke 7.2 times a second. No in-process thread gets 100 Hz next
  to this loop; `--main-signal` (the main thread samples itself from SIGALRM, no GIL hand-off)
  did: `main Hz` 100.0 (`BENCH_AGENT_OPTIONS='{"main_signal": true}'`). A shorter switch
  interval (`--switch-ms 1`) gave the sampler 70 Hz, but changes the program's thread fairness.
  The time the sampler cannot see there is counted (`unsampled_s`, 6-22 s of a 20 s
  `bench_agent.py --only taskheavy` under `chrt -r 1`, all threads together). Every other
  agent thread is starved too (the watchdog checked 5.9 times a second), and the sampler,
  made to drop the GIL in the middle of a pump that packed 4,000 task events (4-15 ms of CPU),
  held the pump lock 0.2-0.6 s at a time while the loop's own pumps failed: task sampling
  started 1.0-1.4 s late. It now packs 1,000 (tasks.AGENT_PUMP_ROWS): sampling starts at
  0.4-0.7 s and peak memory there went from 42-45 to 38 MB.
* A loaded machine (load 3-10, this machine's usual state): the OS preempts the loop thread
  while it holds the GIL, the convoy breaks, the busy thread gets ~5x as much of the GIL, the
  yardstick wakes ~50 times a second and the sampler (absolute deadlines, catching up late
  ticks) 75-95. `--configs plain,tick100,full,no-tasks --runs 6 --seconds 4 --yardstick`
  (load 3.4 -> 6.1):

      config   rounds/s  slowdown (range)    cpu/round x (range)  sampler Hz  main Hz  yardstick
      plain       196.0  1.000x              1.000x                     -        -       49.0
      tick100     196.0  0.925x (0.56-1.70)  0.944x (0.89-1.27)         -        -       50.4
      full        161.6  0.836x (0.57-1.85)  1.175x (0.93-1.32)      77.0     76.8       51.9
      no-tasks    200.0  0.781x (0.52-1.79)  1.012x (0.79-1.29)      79.6     79.5       50.5

Run by run the loop's speed swings by more than a factor of 1.5 either way, and its CPU per
round by +-30% even with the machine to itself (`chrt`: caches and the other core's work), so a
3% slowdown cannot be shown or refuted natively here; the instruction counts are the figure to
read. The agent threads' wake-ups are the rest: each one that takes the GIL can hand it, on
release, to the busy thread for a switch interval while the loop waits (`no-tasks`, the agent
without task tracking, costs the loop ~7% of its rounds on the emulated quiet machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from null_sink import NullSink

CONFIGS = (
    "plain", "tick100", "bare-factory", "min-tracker", "full", "no-sampler", "no-tasks", "no-probe", "no-watchdog",
    "no-accounting", "no-asyncio", "null-sink", "sampled", "sampled-dictcount", "every-task",
)


def busy(stop: threading.Event, done: list[int] | None = None) -> None:
    """Burn CPU; count thousands of iterations in `done` (how much of the GIL the busy thread got)."""
    x = 0
    while not stop.is_set():
        for i in range(1000):
            x += i * i
        if done is not None:
            done[0] += 1


async def tiny(i: int) -> int:
    return i


def _min_tracker(loop: Any) -> None:
    """The least a complete per-task record costs in Python: an id, parent, coroutine name and
    time per task at its creation (factory), its end time, state and name at its last step (a
    Handle._run hook, cheaper than a done callback per task), kept as one tuple row each."""
    from asyncio import events, tasks

    task_cls, perf, wref, counter = asyncio.Task, time.perf_counter, __import__("weakref").ref, iter(range(1 << 62))
    current_get = tasks._current_tasks.get  # type: ignore[attr-defined]
    ids: dict[int, int] = {}
    created: list[tuple[Any, ...]] = []
    ended: list[tuple[Any, ...]] = []

    def factory(loop_: Any, coro: Any, **kwargs: Any) -> Any:
        t = perf()
        parent = current_get(loop_)
        task = task_cls(coro, loop=loop_, **kwargs)
        tid = next(counter)
        ids[id(task)] = tid
        created.append((wref(task), tid, ids.get(id(parent), -1), coro.__qualname__, t))
        return task

    orig = events.Handle._run

    def _run(handle: Any) -> Any:
        owner = getattr(handle._callback, "__self__", None)
        if owner is None or id(owner) not in ids:
            return orig(handle)
        try:
            return orig(handle)
        finally:
            if owner.done():
                ended.append((ids.pop(id(owner)), perf(), owner.cancelled(), owner.get_name()))

    events.Handle._run = _run  # type: ignore[method-assign]
    loop.set_task_factory(factory)


async def workload(seconds: float, rounds_max: int, hook: str = "") -> int:
    if hook == "bare-factory":  # the cheapest per-task hook there is: a Python task factory that does nothing else
        task_cls = asyncio.Task

        def factory(loop: Any, coro: Any, **kwargs: Any) -> Any:
            return task_cls(coro, loop=loop, **kwargs)

        asyncio.get_running_loop().set_task_factory(factory)
    elif hook == "min-tracker":
        _min_tracker(asyncio.get_running_loop())
    end = time.perf_counter() + seconds
    rounds = 0
    while time.perf_counter() < end and rounds < rounds_max:
        await asyncio.gather(*(tiny(i) for i in range(200)))
        rounds += 1
    return rounds


def _switches(native_id: int | None) -> tuple[int, int]:
    """(voluntary, involuntary) context switches of one thread of this process."""
    if native_id is None:
        return -1, -1
    vol = invol = -1
    try:
        with open(f"/proc/self/task/{native_id}/status") as fh:
            for line in fh:
                if line.startswith("voluntary_ctxt_switches"):
                    vol = int(line.split()[1])
                elif line.startswith("nonvoluntary_ctxt_switches"):
                    invol = int(line.split()[1])
    except OSError:
        pass
    return vol, invol


def _agent(config: str, out: str, threshold_ms: float | None) -> tuple[Any, Any]:
    """Start an agent session the way `config` says (monkeypatches switch single features off)."""
    from pyrometer.core.agent import loops, tasks, transport
    from pyrometer.core.agent.session import AgentSession

    options: dict[str, Any] = {"block_threshold_ms": threshold_ms}
    if config == "no-sampler":
        options["rate_hz"] = 0.1  # the slowest the sampler goes: one tick in 10 s
    elif config == "no-asyncio":
        options["asyncio"] = False
    elif config == "no-accounting":
        options["task_accounting"] = False
    elif config == "sampled":  # task sampling from the first task (natively it starts within ~0.2 s)
        options["task_sampling_rate"] = 0.0
    elif config == "sampled-dictcount":  # as before count_names: every name looked up in a dict
        options["task_sampling_rate"] = 0.0
        tasks.count_names = tasks._count_elements  # type: ignore[attr-defined]
    elif config == "every-task":  # every task recorded, whatever the rate (--every-task)
        options["every_task"] = True
    elif config == "no-tasks":
        tasks.TaskTracker.attach_loop = lambda self, loop, state: None  # type: ignore[method-assign]
    elif config == "no-probe":
        loops.LoopMonitor._arm = lambda self, state, loop: None  # type: ignore[method-assign]
    elif config == "no-watchdog":
        loops.LoopMonitor._watch = lambda self: None  # type: ignore[method-assign]
    options.update(json.loads(os.environ.get("BENCH_AGENT_OPTIONS", "{}")))  # more session options, by hand
    sink: Any = NullSink() if config == "null-sink" else transport.FileSink(out)
    if config != "null-sink":
        sink.start()
    session = AgentSession(options, sink)
    pump = session.pump
    session.pumps_by_thread = {}  # type: ignore[attr-defined]

    def counted_pump(force: bool = False) -> None:
        name = threading.current_thread().name
        session.pumps_by_thread[name] = session.pumps_by_thread.get(name, 0) + 1  # type: ignore[attr-defined]
        pump(force)

    session.pump = counted_pump  # type: ignore[method-assign]
    monitor, check = session.loops, session.loops._check
    session.watchdog_checks = [0]  # type: ignore[attr-defined]

    def counted_check() -> Any:
        session.watchdog_checks[0] += 1  # type: ignore[attr-defined]
        return check()

    monitor._check = counted_check  # type: ignore[method-assign]
    session.start()
    return session, sink


def _ticker(stop: threading.Event, wakeups: list[int] | None = None) -> None:
    """Sleep 10 ms in a loop; count the wake-ups in `wakeups` (the yardstick: how often this
    process, at this load and with these threads, wakes a sleeping thread and gives it the GIL)."""
    while not stop.is_set():
        time.sleep(0.01)
        if wakeups is not None:
            wakeups[0] += 1


def _main_thread_rate(path: str, t0: float, t1: float) -> float:
    """MainThread's samples per second in the recording between session times t0 and t1."""
    import numpy as np

    from pyrometer.core.formats.recording import read_recording

    profile, _ = read_recording(path)
    main = [t.id for t in profile.threads.values() if t.name == "MainThread"]
    times = profile.samples["time"][np.isin(profile.samples["thread"], main)]
    return float(((times >= t0) & (times < t1)).sum()) / (t1 - t0)


def child(
    config: str, seconds: float, rounds_max: int, with_busy: bool, switch_ms: float | None, threshold_ms: float | None,
    yardstick: bool = False, read_back: bool = False,
) -> None:
    """Run the workload once under `config` and print its figures as `KEY value` lines."""
    if switch_ms:
        sys.setswitchinterval(switch_ms / 1000.0)
    stop = threading.Event()
    threads: list[threading.Thread] = []
    burnt = [0]
    if with_busy:
        threads.append(threading.Thread(target=busy, args=(stop, burnt), name="busy"))
    if config == "tick100":
        threads.append(threading.Thread(target=_ticker, args=(stop,), name="tick100", daemon=True))
    wakeups = [0]
    if yardstick:
        threads.append(threading.Thread(target=_ticker, args=(stop, wakeups), name="yardstick", daemon=True))
    for th in threads:
        th.start()
    session = sink = None
    tmp = tempfile.mkdtemp(prefix="bench_parts_")
    if config not in ("plain", "tick100", "bare-factory", "min-tracker"):
        session, sink = _agent(config, os.path.join(tmp, "out.pyro"), threshold_ms)
    before = {th.native_id: _switches(th.native_id) for th in threading.enumerate()}
    start, cpu0, woke0, burnt0 = time.perf_counter(), time.thread_time(), wakeups[0], burnt[0]
    rounds = asyncio.run(workload(seconds, rounds_max, config))
    elapsed, cpu, woke = time.perf_counter() - start, time.thread_time() - cpu0, wakeups[0] - woke0
    burnt_k = burnt[0] - burnt0
    after = {th.name: (th.native_id, _switches(th.native_id)) for th in threading.enumerate()}
    stop.set()
    for th in threads:
        th.join()
    print(f"ROUNDS_PER_S {rounds / elapsed:.3f}")
    print(f"LOOP_CPU_US_PER_ROUND {cpu / max(rounds, 1) * 1e6:.1f}")
    print(f"LOOP_CPU_SHARE {cpu / elapsed:.3f}")
    if with_busy:
        print(f"BUSY_KITER_PER_S {burnt_k / elapsed:.1f}")
    if yardstick:
        print(f"YARDSTICK_HZ {woke / elapsed:.1f}")
    for name, (nid, (vol, invol)) in after.items():
        vol0, invol0 = before.get(nid, (0, 0))
        print(f"WAITS_PER_S {name.replace(' ', '_')} {(vol - vol0) / elapsed:.1f} {(invol - invol0) / elapsed:.1f}")
    if session is not None:
        sampler = session.sampler
        if sampler is not None:
            print(f"SAMPLER_HZ {sampler.effective_rate_hz:.1f}")
        print(f"WATCHDOG_CHECKS_PER_S {session.watchdog_checks[0] / elapsed:.1f}")
        for name, count in session.pumps_by_thread.items():
            print(f"PUMPS_PER_S {name} {count / elapsed:.1f}")
        tel = session.telemetry()
        print(f"TASK_EVENTS_DROPPED {tel['task_events_dropped']}")
        # the agent's work in the loop's thread (probes, snapshots, pumps) and in its own threads
        print(f"LOOP_HOOK_MS_PER_S {float(tel['loop_hook_s']) / elapsed * 1000:.2f}")
        print(f"AGENT_CPU_MS_PER_S {float(tel['agent_cpu_s']) / elapsed * 1000:.2f}")
        session.stop(exit_status=0)
        if hasattr(sink, "close"):
            sink.close()
        if read_back and config != "null-sink":  # the samples the recording holds, not the sampler's count
            t0 = start - session.clock.t0
            print(f"MAIN_SAMPLES_HZ {_main_thread_rate(os.path.join(tmp, 'out.pyro'), t0, t0 + elapsed):.1f}")


def _parse(stdout: str) -> dict[str, Any]:
    out: dict[str, Any] = {"waits": {}}
    for line in stdout.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "PUMPS_PER_S":
            out.setdefault("pumps", {})[parts[1]] = float(parts[2])
        elif parts[0] == "WAITS_PER_S":
            out["waits"][parts[1]] = (float(parts[2]), float(parts[3]))
        elif len(parts) == 2:
            out[parts[0]] = float(parts[1])
    return out


def callgrind(configs: list[str], small: int = 20, large: int = 80) -> None:
    """Instructions per task of the loop's thread (and of all threads) under callgrind: the
    difference of a `large`- and a `small`-round run, so start-up and shut-down cancel."""
    import platform
    import shutil

    def run(config: str, rounds: int, tmp: str) -> tuple[int, int]:
        out = os.path.join(tmp, f"cg-{config}-{rounds}.out")
        cmd = [
            "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no", "--separate-threads=yes",
            sys.executable, __file__, "--child", config, "--rounds", str(rounds), "--seconds", "100000",
            "--no-busy", "--threshold-ms", "100000",
        ]
        if shutil.which("setarch"):  # the same addresses every run: id()-keyed dicts probe alike
            cmd = ["setarch", platform.machine(), "-R", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip()[-300:])
        main_thread = total = 0
        for name in sorted(os.listdir(tmp)):
            if not name.startswith(os.path.basename(out)):
                continue
            with open(os.path.join(tmp, name)) as fh:  # (the file without a thread suffix may hold nothing)
                n = next((int(line.split()[1]) for line in fh if line.startswith(("summary:", "totals:"))), 0)
            total += n
            if name.endswith("-01"):
                main_thread = n
            os.remove(os.path.join(tmp, name))
        return main_thread, total

    tasks = (large - small) * 200
    print(f"callgrind, instructions per task ({large} - {small} rounds of 200 tasks, no busy thread)")
    print(f"{'config':14} {'loop thread':>12} {'vs plain':>9} {'all threads':>12} {'vs plain':>9}")
    base: tuple[float, float] | None = None
    with tempfile.TemporaryDirectory(prefix="bench_parts_cg_") as tmp:
        for config in configs:
            (m1, t1), (m2, t2) = run(config, small, tmp), run(config, large, tmp)
            per = ((m2 - m1) / tasks, (t2 - t1) / tasks)
            if base is None:
                base = per
            print(f"{config:14} {per[0]:12,.0f} {per[0] / base[0] - 1:+8.1%} {per[1]:12,.0f} {per[1] / base[1] - 1:+8.1%}",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--child", choices=CONFIGS, help="run one configuration in this process")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=10**9, help="stop after this many rounds (callgrind)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-busy", action="store_true", help="no busy thread")
    parser.add_argument("--switch-ms", type=float, default=None, help="sys.setswitchinterval in ms")
    parser.add_argument(
        "--threshold-ms", type=float, default=None,
        help="blocking threshold (under callgrind every round is slow enough to count as a stall)",
    )
    parser.add_argument(
        "--yardstick", action="store_true",
        help="add a thread that sleeps 10 ms in a loop and counts its wake-ups (in every config, plain too)",
    )
    parser.add_argument(
        "--read-back", action="store_true",
        help="(--child) read the recording after the run for MainThread's samples per second (not under callgrind)",
    )
    parser.add_argument("--waits", action="store_true", help="print each thread's context switches per second too")
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--callgrind", action="store_true", help="instruction counts under valgrind (first config = base)")
    args = parser.parse_args()
    if args.callgrind:
        callgrind([c for c in args.configs.split(",") if c])
        return
    if args.child:
        child(args.child, args.seconds, args.rounds, not args.no_busy, args.switch_ms, args.threshold_ms, args.yardstick,
              args.read_back)
        return
    configs = [c for c in args.configs.split(",") if c]
    results: dict[str, list[dict[str, Any]]] = {c: [] for c in configs}
    load0 = os.getloadavg()[0]
    for _ in range(args.runs):
        for config in configs:
            cmd = [sys.executable, __file__, "--child", config, "--seconds", str(args.seconds), "--read-back"]
            if args.no_busy:
                cmd.append("--no-busy")
            if args.yardstick:
                cmd.append("--yardstick")
            if args.switch_ms:
                cmd += ["--switch-ms", str(args.switch_ms)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"{config}: failed: {proc.stderr.strip()[-300:]}")
                continue
            results[config].append(_parse(proc.stdout))
    load1 = os.getloadavg()[0]
    print(f"task-heavy parts: {args.seconds:g} s x {args.runs} run(s), busy thread {'off' if args.no_busy else 'on'}, "
          f"switch interval {args.switch_ms or 5} ms, load {load0:.2f} -> {load1:.2f}")
    _table(results, args.waits)


def _table(results: dict[str, list[dict[str, Any]]], waits_too: bool) -> None:
    """Medians per config, and the ratios to `plain` taken run by run (runs are interleaved, so
    run i of each config met about the same load): the median ratio and its range."""
    med: Callable[[list[float]], float] = lambda v: statistics.median(v) if v else float("nan")  # noqa: E731
    nan = float("nan")
    base = results.get("plain") or []

    def ratios(runs: list[dict[str, Any]], key: str, invert: bool) -> list[float]:
        out = []
        for b, r in zip(base, runs, strict=False):
            if b.get(key) and r.get(key):
                out.append(b[key] / r[key] if invert else r[key] / b[key])
        return out

    def span(v: list[float]) -> str:
        return f"{med(v):.3f}x ({min(v):.2f}-{max(v):.2f})" if v else "-"

    print(f"{'config':14} {'rounds/s':>9} {'slowdown (range)':>22} {'cpu/round':>10} {'x (range)':>22} {'loop cpu':>8}"
          f" {'busy k/s':>9} {'sampler Hz':>10} {'main Hz':>8} {'yardstick':>9} {'hook ms/s':>9} {'agent ms/s':>10}")
    for config, runs in results.items():
        if not runs:
            continue
        rate = med([r["ROUNDS_PER_S"] for r in runs])
        cpu = med([r["LOOP_CPU_US_PER_ROUND"] for r in runs])
        share = med([r.get("LOOP_CPU_SHARE", nan) for r in runs])
        burnt = med([r.get("BUSY_KITER_PER_S", nan) for r in runs])
        hz = med([r.get("SAMPLER_HZ", nan) for r in runs])
        main_hz = med([r.get("MAIN_SAMPLES_HZ", nan) for r in runs])
        yard = med([r.get("YARDSTICK_HZ", nan) for r in runs])
        hook = med([r.get("LOOP_HOOK_MS_PER_S", nan) for r in runs])
        agent = med([r.get("AGENT_CPU_MS_PER_S", nan) for r in runs])
        slow = span(ratios(runs, "ROUNDS_PER_S", True))
        cpu_x = span(ratios(runs, "LOOP_CPU_US_PER_ROUND", False))
        print(f"{config:14} {rate:9.1f} {slow:>22} {cpu:8.0f}us {cpu_x:>22} {share:8.2f} {burnt:9.1f} {hz:10.1f}"
              f" {main_hz:8.1f} {yard:9.1f} {hook:9.1f} {agent:10.1f}")
        if waits_too:
            names = sorted({n for r in runs for n in r["waits"]})
            waits = ", ".join(
                f"{n} {med([r['waits'][n][0] for r in runs if n in r['waits']]):.0f}/"
                f"{med([r['waits'][n][1] for r in runs if n in r['waits']]):.0f}"
                for n in names
            )
            pumps = ", ".join(f"{n} {med([r.get('pumps', {}).get(n, 0.0) for r in runs]):.0f}/s"
                              for n in sorted({n for r in runs for n in r.get("pumps", {})}))
            print(f"{'':14} waits/s per thread (vol/invol): {waits}" + (f"; pumps {pumps}" if pumps else ""))


if __name__ == "__main__":
    main()
