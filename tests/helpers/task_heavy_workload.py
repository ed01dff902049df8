"""The task-heavy workload (issue 11) as source text: the test (tests/core/test_agent_task_heavy.py)
and the benchmark (benchmarks/bench_agent.py --only taskheavy) append their own driver to the same
definitions, so the 1.5 s test and the 20 s benchmark measure one workload."""

from __future__ import annotations

# busy(stop) burns CPU on a second thread; main(seconds) gathers 200 tiny tasks per round and
# returns how many rounds it ran (the truth a recording's task count is checked against).
TASK_HEAVY_DEFS = """
def busy(stop):
    x = 0
    while not stop.is_set():
        for i in range(1000):
            x += i * i


async def tiny(i):
    return i


async def main(seconds):
    end = time.perf_counter() + seconds
    rounds = 0
    while time.perf_counter() < end:
        await asyncio.gather(*(tiny(i) for i in range(200)))
        rounds += 1
    return rounds
"""
