"""What per-task accounting and loop blame cost an asyncio program (issue 13), in one run.

Not a timed test: run it by hand,

    .venv/bin/python benchmarks/bench_task_accounting.py [--repeats 9] [--callgrind]

The workload is bench_agent.py's asyncio benchmark (1,000 tasks, each awaiting
``asyncio.sleep(0)`` and summing ``range(50)`` between awaits: ~2.5 us steps),
plus the same tasks with longer steps (--step-us, default 50 and 500 us of a
calibrated busy loop) where accounting stays on by default. Each row is one way of
running the agent in this process, on a null sink (no transport), the sampler at
1 Hz so that only the loop hooks are measured:

  plain              no agent
  tracker+probe      task tracker, lag probe, watchdog; task_accounting=False
  default            what `pyrometer record` runs: accounting and blame on, and
                     accounting switching itself off on loads too small to time
  accounting forced  the same with the switch-off disabled: the price of timing
                     every step

Configurations run interleaved, round by round (the machine is shared and
noisy); each ratio is the median over rounds of (configuration / plain of the
same round), for the loop thread's CPU (time.thread_time, less sensitive to
other processes) and wall time. --callgrind adds instruction counts under
valgrind, which are deterministic: per task step and per task (a task's
creation, first step and end), from the difference of two runs of different
sizes, so start-up cancels out (with hash seed and addresses fixed, two such runs still differ
by up to ~4% per step: compare configurations, not single digits).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from null_sink import NullSink

from pyrometer.core.agent import accounting
from pyrometer.core.agent.session import AgentSession

CONFIGS = ("plain", "tracker+probe", "default", "accounting forced")


def spin(n: int) -> None:
    """Busy work of a deterministic instruction count (n ~ calibrated to microseconds)."""
    for _ in range(n):
        pass


async def _tiny_worker(steps: int) -> None:
    for _ in range(steps):
        await asyncio.sleep(0)
        sum(range(50))


async def _spin_worker(steps: int, n: int) -> None:
    for _ in range(steps):
        await asyncio.sleep(0)
        spin(n)


async def _workload(tasks: int, steps: int, spin_n: int) -> None:
    if spin_n <= 0:
        await asyncio.gather(*(_tiny_worker(steps) for _ in range(tasks)))
    else:
        await asyncio.gather(*(_spin_worker(steps, spin_n) for _ in range(tasks)))


# under valgrind (~50x slower) the time-driven work (lag probe every 10 ms, await snapshots,
# the watchdog's looks at a loop busy 25+ ms, the 1 Hz sampler) would be charged to the steps that ran
# meanwhile; --child runs with them out of reach, so the counts are the per-step hooks'
QUIET_TIMERS: dict[str, Any] = {"loop_interval_ms": 1e5, "block_threshold_ms": 1e7, "rate_hz": 0.1}
EXTRA_OPTIONS: dict[str, Any] = {}


def _start(config: str) -> tuple[AgentSession | None, tuple[float, float]]:
    saved = (accounting.MIN_MEAN_STEP_S, accounting.MAX_STEPS_PER_S)
    if config == "plain":
        return None, saved
    if config == "accounting forced":
        accounting.MIN_MEAN_STEP_S, accounting.MAX_STEPS_PER_S = 0.0, math.inf
    opts: dict[str, Any] = {"rate_hz": 1, **EXTRA_OPTIONS}
    if config == "tracker+probe":
        opts["task_accounting"] = False
    session = AgentSession(opts, NullSink())
    session.start()
    return session, saved


def _stop(session: AgentSession | None, saved: tuple[float, float]) -> str:
    """Stop the session; what accounting ended as ("on", "off: reason", "disabled")."""
    accounting.MIN_MEAN_STEP_S, accounting.MAX_STEPS_PER_S = saved
    if session is None:
        return ""
    acct = session.tasks.accounting
    said = "off: " + acct.turned_off if acct.turned_off else ("on" if acct.enabled else "disabled")
    session.stop()
    return said


def run_once(config: str, tasks: int, steps: int, spin_n: int) -> tuple[float, float, str]:
    """(loop thread CPU s, wall s, accounting state) of one run of the workload."""
    session, saved = _start(config)
    try:
        cpu0, wall0 = time.thread_time(), time.perf_counter()
        asyncio.run(_workload(tasks, steps, spin_n))
        return time.thread_time() - cpu0, time.perf_counter() - wall0, ""
    finally:
        state = _stop(session, saved)
        run_once.last_state = state  # type: ignore[attr-defined]


def calibrate_spin(us: float) -> int:
    """Iterations of spin() that take about ``us`` microseconds of CPU here (best of 5)."""
    n = 20000
    best = min(_timed_spin(n) for _ in range(5))
    return max(1, round(n * us * 1e-6 / best))


def _timed_spin(n: int) -> float:
    c = time.thread_time()
    spin(n)
    return time.thread_time() - c


def interleaved(label: str, tasks: int, steps: int, spin_n: int, repeats: int) -> None:
    cpu: dict[str, list[float]] = {c: [] for c in CONFIGS}
    wall: dict[str, list[float]] = {c: [] for c in CONFIGS}
    states: dict[str, str] = {}
    run_once("plain", tasks, max(1, steps // 10), spin_n)  # warm-up
    for _ in range(repeats):
        for config in CONFIGS:
            c, w, _ = run_once(config, tasks, steps, spin_n)
            cpu[config].append(c)
            wall[config].append(w)
            states[config] = run_once.last_state  # type: ignore[attr-defined]
    n = tasks * steps
    plain_cpu = statistics.median(cpu["plain"])
    print(f"\n{label}: {tasks:,} tasks x {steps:,} steps, {repeats} interleaved rounds "
          f"(plain: {plain_cpu / n * 1e6:.2f} us loop CPU per step)")
    header = f"{'configuration':20} {'CPU ratio':>10} {'wall ratio':>11} {'+us/step':>9}  accounting"
    print(header)
    print("-" * len(header))
    for config in CONFIGS:
        r_cpu = statistics.median(a / b for a, b in zip(cpu[config], cpu["plain"], strict=True))
        r_wall = statistics.median(a / b for a, b in zip(wall[config], wall["plain"], strict=True))
        extra = (statistics.median(cpu[config]) - plain_cpu) / n * 1e6
        print(f"{config:20} {r_cpu:9.3f}x {r_wall:10.3f}x {extra:9.2f}  {states.get(config, '')}")


# ------------------------------------------------------------------ callgrind
def _child(config: str, tasks: int, steps: int, spin_n: int) -> None:
    """Run one configuration once (under valgrind): the parent reads the instruction total.

    Valgrind runs the program ~50-100x slower, which would carry every step across the
    accounting's wall-time thresholds (a 50 us step "lasts" over 1 ms and takes the long-step
    path; the switch-off sees slow steps): they are scaled by the slowdown measured here
    against the parent's native calibration, so the hooks take the paths they take natively.
    """
    EXTRA_OPTIONS.update(QUIET_TIMERS)
    native = float(os.environ.get(NATIVE_SPIN_ENV, "0"))
    if native > 0:
        k = native / (calibrate_spin(1000.0) / 1000.0)
        for name in ("LONG_STEP_S", "MIN_SPAN_S", "MIN_MEAN_STEP_S", "RATE_WINDOW_S"):
            setattr(accounting, name, getattr(accounting, name) * k)
        accounting.MAX_STEPS_PER_S /= k
    run_once(config, tasks, steps, spin_n)


NATIVE_SPIN_ENV = "BENCH_NATIVE_SPIN_PER_US"


def _instructions(config: str, tasks: int, steps: int, spin_n: int, tmp: Path) -> int:
    out = tmp / f"cg-{config.replace(' ', '_').replace('+', '_')}-{tasks}-{steps}.out"
    cmd = [
        "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no",
        sys.executable, __file__, "--child", config, str(tasks), str(steps), str(spin_n),
    ]
    if shutil.which("setarch"):  # the same addresses every run: id()-keyed dicts probe alike
        cmd = ["setarch", platform.machine(), "-R", *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip()[-300:])
    for line in out.read_text().splitlines():
        if line.startswith("summary:") or line.startswith("totals:"):
            return int(line.split()[1])
    raise RuntimeError("no summary line in " + str(out))


def callgrind(tasks: int, steps: int, step_us: list[float]) -> None:
    """Instructions per step (two step counts) and per task (two task counts), per configuration;
    then per step of ``step_us`` long steps (calibrated busy loops), plain vs default."""
    os.environ[NATIVE_SPIN_ENV] = str(calibrate_spin(1000.0) / 1000.0)  # the children's reference
    print(f"\ncallgrind instruction counts (deterministic; tiny steps, {tasks} tasks; differences of two runs)")
    header = f"{'configuration':20} {'per step':>10} {'x plain':>8} {'per task':>10} {'x plain':>8}"
    print(header)
    print("-" * len(header))
    base_step = base_task = 0.0
    with tempfile.TemporaryDirectory(prefix="bench_acct_") as name:
        tmp = Path(name)
        for config in CONFIGS:
            a = _instructions(config, tasks, steps, 0, tmp)
            b = _instructions(config, tasks, 5 * steps, 0, tmp)
            c = _instructions(config, 2 * tasks, 1, 0, tmp)
            d = _instructions(config, tasks, 1, 0, tmp)
            per_step = (b - a) / (tasks * 4 * steps)
            per_task = (c - d) / tasks
            if config == "plain":
                base_step, base_task = per_step, per_task
            print(f"{config:20} {per_step:10,.0f} {per_step / base_step:7.3f}x {per_task:10,.0f} {per_task / base_task:7.3f}x",
                  flush=True)
        print("  (per task: its creation, first step, one sleep(0) step and its end, gather's share included;"
              " the lag probe and the watchdog are timed out of reach (their cost is per second, not per step);"
              " the accounting's time thresholds are scaled by valgrind's slowdown; 'default' switches"
              " accounting off after ~4,000-8,000 callbacks, partway through these runs: see the steady state below)")
        a = _instructions("default", tasks, 50 * steps, 0, tmp)
        b = _instructions("default", tasks, 150 * steps, 0, tmp)
        per_step = (b - a) / (tasks * 100 * steps)
        print(f"default, steady state (after the switch-off): {per_step:,.0f} a step, "
              f"{per_step / base_step:.3f}x plain", flush=True)
        for us in step_us:
            n = calibrate_spin(us)
            row = []
            for config in ("plain", "default"):
                a = _instructions(config, 20, 5, n, tmp)
                b = _instructions(config, 20, 15, n, tmp)
                row.append((b - a) / 200)
            print(f"steps of ~{us:g} us: plain {row[0]:,.0f} instructions a step, default (accounting on) "
                  f"{row[1]:,.0f}: {row[1] / row[0]:.3f}x (+{row[1] - row[0]:,.0f})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="interleaved rounds (median)")
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=300, help="awaits per task, tiny-step workload")
    parser.add_argument("--step-us", type=float, action="append", default=None,
                        help="also run with steps of about this many microseconds (repeatable; default 50 and 500)")
    parser.add_argument("--callgrind", action="store_true", help="add valgrind instruction counts")
    parser.add_argument("--callgrind-only", action="store_true", help="only the valgrind instruction counts")
    parser.add_argument("--child", nargs=4, metavar=("CONFIG", "TASKS", "STEPS", "SPIN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], int(args.child[1]), int(args.child[2]), int(args.child[3]))
        return
    load0 = os.getloadavg()[0]
    began = time.perf_counter()
    step_us = args.step_us or [50.0, 500.0]
    if args.callgrind_only:
        callgrind(200, 10, step_us)
        return
    interleaved("tiny steps (bench_agent's asyncio benchmark)", args.tasks, args.steps, 0, args.repeats)
    for us in step_us:
        n = calibrate_spin(us)
        # about 0.5 s of work per run whatever the step size
        steps = max(2, round(0.5 / (us * 1e-6) / 100))
        interleaved(f"steps of ~{us:g} us", 100, steps, n, args.repeats)
    if args.callgrind:
        callgrind(200, 10, step_us)
    print(f"\n(python {sys.version.split()[0]}; {time.perf_counter() - began:.0f} s; 1-min load average "
          f"{load0:.2f} at start, {os.getloadavg()[0]:.2f} at end: other processes add noise to the wall ratios)")


if __name__ == "__main__":
    main()
