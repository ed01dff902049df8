"""A target that stalls its loop while task sampling is on from the first task: 50 sleepers whose timers
fall due inside a 0.25 s blocking sleep. Read by the agent's test (the stall counts the unrecorded tasks
it delayed) and the Tasks pane's (the note says so)."""

from __future__ import annotations

SAMPLED_STALL = """
import asyncio, time

async def sleeper():
    await asyncio.sleep(0.01)

async def blocker():
    await asyncio.sleep(0.002)
    time.sleep(0.25)  # the stall: every sleeper's timer falls due inside it

async def main():
    tasks = [asyncio.create_task(sleeper()) for _ in range(50)]
    tasks.append(asyncio.create_task(blocker()))
    await asyncio.gather(*tasks)

session = start(task_sampling_rate=0, block_threshold_ms=50)
asyncio.run(main())
session.stop(exit_status=0)
"""
