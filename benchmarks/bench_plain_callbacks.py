"""What the step hook costs a loop callback that is not a task step (a call_soon handler, a timer,
an I/O callback), per callback, for one or more agent source trees side by side.

Not a timed test: run it by hand, e.g. to compare this tree with another checkout's agent,

    .venv/bin/python benchmarks/bench_plain_callbacks.py core/agent /path/to/other/core/agent

Since a stall lists every long step with its own share, the hook times plain callbacks too
(two clock readings each) while per-task accounting is on. Each agent is loaded from its
directory under a private name (as the bootstrap does in a target) in a fresh interpreter,
started with accounting on, and 1,000 trivial handles are run through ``Handle._run`` 200
times inside the running loop; printed: ns per callback, the minimum over rounds (the
machine is shared: the minimum is the cost, the median the noise) and the median.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROUNDS = 3

CHILD = r"""
import asyncio, importlib.util, os, statistics, sys, time

def load(d):
    spec = importlib.util.spec_from_file_location("_pyro_agent_bench", os.path.join(d, "__init__.py"),
                                                  submodule_search_locations=[d])
    pkg = importlib.util.module_from_spec(spec)
    sys.modules["_pyro_agent_bench"] = pkg
    spec.loader.exec_module(pkg)
    import _pyro_agent_bench.session
    return pkg

class Sink:
    closed = False
    bytes_sent = 0
    def send(self, data, droppable=False):
        return True
    def flush(self):
        pass

agent = load(sys.argv[1])
session = agent.session.AgentSession({"rate_hz": 1}, Sink())
session.start()

def nothing():
    pass

async def main():
    loop = asyncio.get_running_loop()
    await asyncio.sleep(0.01)
    handles = [asyncio.Handle(nothing, (), loop) for _ in range(1000)]
    per = []
    for _ in range(200):
        t = time.perf_counter()
        for h in handles:
            h._run()
        per.append((time.perf_counter() - t) / len(handles))
    assert session.tasks.accounting.enabled
    print("%.0f %.0f" % (min(per) * 1e9, statistics.median(per) * 1e9))

asyncio.run(main())
session.stop()
"""


def main() -> None:
    dirs = [str(Path(d).resolve()) for d in sys.argv[1:]] or [str(Path(__file__).resolve().parents[1] / "core" / "agent")]
    for round_ in range(ROUNDS):
        for d in dirs:  # interleaved, round by round: the machine's load changes under us
            out = subprocess.run([sys.executable, "-I", "-c", CHILD, d], capture_output=True, text=True, check=True).stdout
            low, mid = out.split()
            print(f"round {round_ + 1}  {d}: min {low} ns, median {mid} ns per plain callback")


if __name__ == "__main__":
    main()
