"""A blocking event names the step that stalled the loop, on a loaded machine, or says it does not know.

Many waiting tasks make every busy period hold hundreds of short steps after
the block, and a busy-looping process next to the target makes the watchdog
look late. It used to report whatever ran when it finally looked (TimerHandle.cancel
by task w508, Handle._run) or, when the lag probe had wiped its look, the
sampler's latest stack; now each event shows the blocking function and task,
or an unknown stack (never a wrong one).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from agent_harness import run_agent_target

from pyrometer.core.model import Profile

STALLS = """
import asyncio, json, time
log = []
def block(ms):
    t = time.perf_counter(); time.sleep(ms / 1000); log.append([t, time.perf_counter(), "block"])
def cpu_block(ms):
    t = time.perf_counter()
    while time.perf_counter() - t < ms / 1000: pass
    log.append([t, time.perf_counter(), "cpu_block"])
async def waiter():
    while True: await asyncio.sleep(0.02)
async def main():
    ws = [asyncio.create_task(waiter(), name="w%d" % i) for i in range(600)]
    for ms in (70, 120, 90, 150):
        await asyncio.sleep(0.15); block(ms)
        await asyncio.sleep(0.15); cpu_block(ms)
    for w in ws: w.cancel()
    await asyncio.gather(*ws, return_exceptions=True)
session = start(block_threshold_ms=50)
asyncio.run(main())
session.stop(exit_status=0)
print(json.dumps(log))
"""


def blamed(p: Profile, stack: int) -> str:
    frames = p.stack_frames(stack) if stack >= 0 else []
    return p.func_name[p.frame_func(frames[-1])] if frames else ""


def test_each_block_names_its_function_and_task_or_nothing(tmp_path: Path) -> None:
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        p, out, _ = run_agent_target(sys.executable, STALLS, tmp_path)
    finally:
        busy.kill()
        busy.wait()
    truth = json.loads(next(line for line in out.splitlines() if line.startswith("[")))
    t0 = float(p.meta["t0"])
    named = 0
    for start, end, func in truth:
        a, b = start - t0, end - t0
        [ev] = [e for e in p.blocking if e.start <= a + 0.002 and e.start + e.duration >= b - 0.002]
        name = blamed(p, ev.stack)
        if name:
            named += 1
            assert (name, ev.task_name) == (func, "Task-1"), (func, name, ev.task_name, ev.duration)
    assert named >= len(truth) // 2, named
