"""An agent thread packs small batches of task events per pump (tasks.AGENT_PUMP_ROWS).

Next to a loop that keeps the GIL, the sampler gets it a few times a second; packing 4,000
rows took it 4-15 ms, past the switch interval, so it was made to drop the GIL in the middle
of the pump and held the pump lock for 0.2-0.6 s, while the loop's own pumps (its fallback
for a starved sampler) failed to take the lock: task sampling started a second late and the
backlog grew. The loop's thread still packs big batches; the last pump takes everything.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_harness import MINOR_VERSIONS, interpreter, run_agent_target

from pyrometer.core.agent.tasks import AGENT_PUMP_ROWS, PUMP_ROWS

TARGET = """
import asyncio, threading

async def tiny(i):
    return i

async def main():
    await asyncio.gather(*(tiny(i) for i in range(3000)))

session = start(rate_hz=100, every_task=True)
session.sampler.stop()          # nobody pumps but this test (the loop pumps past 20,000 rows)
asyncio.run(main())
tracker = session.tasks
taken = {}

def pump(name):
    before = len(tracker.finished)
    session.pump()
    taken[name] = before - len(tracker.finished)

def as_agent():
    session.add_agent_thread(threading.get_ident())
    pump("agent")

th = threading.Thread(target=as_agent)
th.start(); th.join()
pump("main")
print("taken", taken["agent"], taken["main"])
session.stop(exit_status=0)
"""


@pytest.mark.parametrize("version", MINOR_VERSIONS)
def test_an_agent_thread_pumps_small_batches_and_nothing_is_lost(tmp_path: Path, version: str) -> None:
    p, out, _ = run_agent_target(interpreter(version), TARGET, tmp_path)
    agent, main = (int(x) for x in out.split("taken", 1)[1].split()[:2])
    assert 0 < agent <= AGENT_PUMP_ROWS < PUMP_ROWS, out
    assert main > AGENT_PUMP_ROWS, out  # the loop's (any non-agent) thread takes big batches
    tiny = [t for t in p.tasks.values() if t.coro == "tiny"]
    assert len(tiny) == 3000 and all(t.ended is not None for t in tiny)
    assert int(p.telemetry["task_events_dropped"]) == 0
