"""A real asyncio server recorded with `pyrometer record`, whose tasks measure their own truth.

Shared by the by-task tests (tests/core/test_analysis_task_stacks.py, tests/app/test_by_task_toggle.py).
`server` creates `request-0..2`, each burning a known CPU in two steps (time.thread_time and
perf_counter around each step, so only its own steps count; each step's perf_counter span too,
which the recording's clock shares: its meta "t0" is perf_counter at its time 0); then `shared` is awaited by two
tasks: `first` (it gives up waiting after 50 ms) and `second`. Each of shared's two steps blocks
the loop (a stall whose await chain names its awaiter of the moment: `first`, then `second`), so
the recording sees both awaiters.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REQUESTS = 3

PROGRAM = f"""
import asyncio, json, sys, time

truth = {{"cpu": {{}}, "wall": {{}}, "spans": {{}}}}

def burn(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass

def step(name, seconds):
    c, w = time.thread_time(), time.perf_counter()
    burn(seconds)
    truth["cpu"][name] = truth["cpu"].get(name, 0.0) + time.thread_time() - c
    end = time.perf_counter()
    truth["wall"][name] = truth["wall"].get(name, 0.0) + end - w
    truth["spans"].setdefault(name, []).append((w, end))

async def request(i):
    for _ in range(2):
        step("request-%d" % i, 0.04 * (i + 1))
        await asyncio.sleep(0.005)

async def shared_work():
    await asyncio.sleep(0.01)
    step("shared", 0.07)          # a stall while `first` is the first awaiter
    await asyncio.sleep(0.1)      # `first` stops waiting meanwhile
    step("shared", 0.07)          # a stall while only `second` awaits it

async def first(shared):
    await asyncio.wait({{shared}}, timeout=0.05)

async def second(shared):
    await asyncio.sleep(0.001)
    await shared

async def server():
    reqs = [asyncio.create_task(request(i), name="request-%d" % i) for i in range({REQUESTS})]
    await asyncio.gather(*reqs)
    shared = asyncio.create_task(shared_work(), name="shared")
    await asyncio.gather(asyncio.create_task(first(shared), name="first"),
                         asyncio.create_task(second(shared), name="second"))

async def main():
    await asyncio.create_task(server(), name="server")

asyncio.run(main())
with open(sys.argv[1], "w") as f:
    json.dump(truth, f)
"""


def record_by_task_workload(directory: Path) -> tuple[Path, dict[str, Any]]:
    """(the .pyro recording, the program's own truth {"cpu": {task: s}, "wall": {task: s}, "spans": {task: [(start, end)]}})."""
    script, out, truth = directory / "server.py", directory / "server.pyro", directory / "truth.json"
    script.write_text(PROGRAM)
    proc = subprocess.run(
        [sys.executable, "-m", "pyrometer", "record", "-o", str(out), "--", str(script), str(truth)],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert proc.returncode == 0, proc.stderr
    return out, json.loads(truth.read_text())
