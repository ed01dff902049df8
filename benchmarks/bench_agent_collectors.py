"""Overhead of the in-process collectors (AgentSession on a null sink), side by side.

Not a timed test: run it by hand, `python benchmarks/bench_agent_collectors.py`.
Every configuration runs the same workload in the same process, interleaved
round by round, and the table gives the median slowdown against plain Python
plus the sampler's effective rate. It measures the agent alone (no socket, no
collector); `pyrometer record` adds the transport on top.

Workloads: a call-heavy CPU-bound recursion on the main thread (the GIL caps
what an in-process sampler gets: see the switch-interval rows), yappi alone
vs. trace mode, an asyncio program with 1,000 tasks (lag probe + task
tracker), and an idle process (CPU the agent burns while nothing happens).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from null_sink import NullSink

from pyrometer.core.agent.session import AgentSession


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def timed_fib(n: int) -> float:
    start = time.perf_counter()
    fib(n)
    return time.perf_counter() - start


def cpu_bound(rounds: int, n: int) -> None:
    configs: dict[str, Any] = {
        "plain": None,
        "sample 100 Hz": {},
        "sample 100 Hz, switch 1 ms": {"switch_interval_ms": 1},
        "sample 1000 Hz": {"rate_hz": 1000},
        "sample 1000 Hz, switch 1 ms": {"rate_hz": 1000, "switch_interval_ms": 1},
    }
    times: dict[str, list[float]] = {k: [] for k in configs}
    rates: dict[str, list[float]] = {k: [] for k in configs}
    timed_fib(n)
    for _ in range(rounds):
        for name, opts in configs.items():
            session = None
            if opts is not None:
                session = AgentSession(dict(opts), NullSink())
                session.start()
            times[name].extend(timed_fib(n) for _ in range(3))
            if session is not None:
                session.stop()
                if session.sampler is not None:
                    rates[name].append(session.sampler.effective_rate_hz)
    base = statistics.median(times["plain"])
    print(f"\nCPU-bound fib({n}) on the main thread, {rounds} rounds")
    print(f"{'configuration':32} {'median s':>9} {'slowdown':>9} {'rate':>9}")
    for name in configs:
        med = statistics.median(times[name])
        rate = f"{statistics.median(rates[name]):.0f} Hz" if rates[name] else "-"
        print(f"{name:32} {med:9.4f} {med / base:9.3f} {rate:>9}")


def trace_vs_yappi(rounds: int, n: int) -> None:
    try:
        import yappi
    except ImportError:
        print("\n(yappi not installed: trace mode skipped)")
        return
    res: dict[str, list[float]] = {"plain": [], "yappi wall": [], "trace mode": []}
    for _ in range(rounds):
        res["plain"].append(timed_fib(n))
        yappi.set_clock_type("wall")
        yappi.start(builtins=False)
        res["yappi wall"].append(timed_fib(n))
        yappi.stop()
        yappi.clear_stats()
        session = AgentSession({"mode": "trace"}, NullSink())
        session.start()
        res["trace mode"].append(timed_fib(n))
        session.stop()
    base = statistics.median(res["plain"])
    yap = statistics.median(res["yappi wall"])
    print(f"\nfib({n}) under deterministic tracing, {rounds} rounds")
    for name, values in res.items():
        med = statistics.median(values)
        print(f"{name:32} {med:9.4f} {med / base:9.3f}x plain {med / yap:6.3f}x yappi")


async def _worker(steps: int) -> None:
    for _ in range(steps):
        await asyncio.sleep(0)
        sum(range(50))


async def _many_tasks(tasks: int, steps: int) -> float:
    start = time.perf_counter()
    await asyncio.gather(*(_worker(steps) for _ in range(tasks)))
    return time.perf_counter() - start


def asyncio_tasks(rounds: int) -> None:
    plain: list[float] = []
    agent: list[float] = []
    asyncio.run(_many_tasks(1000, 50))
    for _ in range(rounds):
        plain.append(asyncio.run(_many_tasks(1000, 300)))
        session = AgentSession({"rate_hz": 1}, NullSink())  # isolate probe + tracker
        session.start()
        agent.append(asyncio.run(_many_tasks(1000, 300)))
        session.stop()
    ratio = statistics.median(agent) / statistics.median(plain)
    print(f"\nasyncio, 1000 tasks x 300 steps: lag probe + task tracker slowdown {ratio:.3f}")


def idle(seconds: float) -> None:
    for label, use_asyncio in (("idle (time.sleep)", False), ("idle asyncio loop", True)):
        session = AgentSession({}, NullSink())
        session.start()
        cpu0 = time.process_time()
        wall0 = time.perf_counter()
        if use_asyncio:
            asyncio.run(asyncio.sleep(seconds))
        else:
            time.sleep(seconds)
        share = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
        agent = session.agent_cpu_s()
        session.stop()
        print(f"{label:32} process CPU {100 * share:5.2f}% of a core (agent threads {agent:.4f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--fib", type=int, default=30)
    args = parser.parse_args()
    cpu_bound(args.rounds, args.fib)
    trace_vs_yappi(args.rounds, max(20, args.fib - 5))
    asyncio_tasks(args.rounds)
    print()
    idle(3.0)


if __name__ == "__main__":
    main()
