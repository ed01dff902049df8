"""Trace mode (yappi) in a real interpreter: call counts, edges, snapshots, clocks, fallback.

Targets run in a subprocess (``python -I`` plus the venv's site-packages for
yappi) with the agent loaded from ``core/agent`` under a private name and a
tiny synchronous file sink; the recording is read back with ``read_recording``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from agent_harness import AGENT_DIR, run_agent_target

from pyrometer.core.agent import wire
from pyrometer.core.formats.recording import iter_raw_frames
from pyrometer.core.model import Profile

HAVE_YAPPI = importlib.util.find_spec("yappi") is not None

def run_target(body: str, tmp_path: Path) -> tuple[Profile, str]:
    # not -I: the target needs the venv's site-packages to import yappi
    profile, out, _ = run_agent_target(sys.executable, body, tmp_path, isolated=False)
    return profile, out


TRACE = """
import asyncio, time

def leaf(i):
    return i * 2

def mid():
    return sum(leaf(i) for i in range(100))

async def napper():
    await asyncio.sleep(0.2)

def worker():
    for _ in range(5):
        mid()

session = start(mode="trace", clock=CLOCK)
for _ in range(10):
    mid()
t = threading.Thread(target=worker, name="worker")
t.start()
t.join()
asyncio.run(napper())
time.sleep(1.1)                         # the tracer thread wakes at least once
session.stop()
import yappi
print("after", yappi.is_running(), len(yappi.get_func_stats()))
"""


def stats_by_name(p: Profile) -> dict[str, int]:
    fs = p.func_stats
    assert fs is not None
    return {p.func_name[int(f)]: row for row, f in enumerate(fs.func.tolist())}


@pytest.mark.skipif(not HAVE_YAPPI, reason="yappi is not installed in this environment")
def test_trace_mode_function_statistics(tmp_path: Path) -> None:
    p, out = run_target("CLOCK = 'wall'\n" + TRACE, tmp_path)
    assert "after False 0" in out  # yappi stopped and cleared on stop
    assert p.meta["mode"] == "trace" and p.meta["trace_clock"] == "wall"
    kinds = [kind for kind, _ in iter_raw_frames(tmp_path / "out.pyro")]
    assert kinds.count(wire.FUNC_STATS) == 1  # only at stop: reading yappi mid-run corrupts it
    fs = p.func_stats
    assert fs is not None and fs.clock == "wall"
    rows = stats_by_name(p)
    assert fs.calls[rows["leaf"]] == 1500  # 10 + 5 calls of mid, 100 leaves each
    assert fs.calls[rows["mid"]] == 15
    assert fs.calls[rows["worker"]] == 1  # the worker thread is profiled too
    # coroutine-aware wall clock: the napper's 200 ms await counts in its total
    assert fs.total_time[rows["napper"]] >= 0.19
    assert fs.self_time[rows["leaf"]] <= fs.total_time[rows["leaf"]]
    edges = {
        (p.func_name[int(a)], p.func_name[int(b)]): int(c)
        for a, b, c in zip(fs.edge_caller.tolist(), fs.edge_callee.tolist(), fs.edge_calls.tolist(), strict=True)
    }
    callers_of_leaf = {a: c for (a, b), c in edges.items() if b == "leaf"}
    assert list(callers_of_leaf.values()) == [1500] and "genexpr" in next(iter(callers_of_leaf))
    assert edges[("run", "worker")] == 1
    # only the program's calls: nothing only the agent does (JSON encoding of batches)
    assert "dumps" not in rows and "JSONEncoder.encode" not in rows
    # the agent's own code is not in the statistics
    assert not [f for f in p.func_file if f.startswith(str(AGENT_DIR))]
    assert p.end is not None and p.telemetry["trace_snapshots"] == 1


@pytest.mark.skipif(not HAVE_YAPPI, reason="yappi is not installed in this environment")
def test_trace_mode_cpu_clock(tmp_path: Path) -> None:
    p, _ = run_target("CLOCK = 'cpu'\n" + TRACE, tmp_path)
    fs = p.func_stats
    assert fs is not None and fs.clock == "cpu"
    assert fs.total_time[stats_by_name(p)["napper"]] < 0.05  # sleeping costs no CPU


NO_YAPPI = """
import time
sys.modules["yappi"] = None             # yappi is not importable in this target

def busy():
    end = time.perf_counter() + 0.3
    while time.perf_counter() < end:
        pass

session = start(mode="trace")
busy()
session.stop()
"""


def test_trace_mode_without_yappi_falls_back_to_sampling(tmp_path: Path) -> None:
    p, _ = run_target(NO_YAPPI, tmp_path)
    assert p.meta["mode"] == "sample" and p.meta["requested_mode"] == "trace"
    assert any("yappi" in n["message"] and "sampling instead" in n["message"] for n in p.notices), p.notices
    assert p.func_stats is None
    assert len(p.samples) >= 10


EXACT = """
import asyncio, json, time
from concurrent.futures import ThreadPoolExecutor

spin_cpu = []

def spin(seconds):
    c0 = time.thread_time()
    end = c0 + seconds
    while time.thread_time() < end:
        pass
    spin_cpu.append(time.thread_time() - c0)

def counted():
    return 1

def worker():
    for _ in range(21):
        counted()
    spin(0.05)

async def waiter():
    await asyncio.sleep(0.1)
    counted()

async def main():
    await asyncio.gather(waiter(), waiter())

session = start(mode="trace")
threads = [threading.Thread(target=worker, name="w%d" % i) for i in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
with ThreadPoolExecutor(2) as pool:
    list(pool.map(lambda _: counted(), range(5)))
asyncio.run(main())
spin(0.05)
cpu = time.process_time()
session.stop()
print("TRUTH", json.dumps({"spin_cpu": sum(spin_cpu), "process_cpu": cpu}))
"""


@pytest.mark.skipif(not HAVE_YAPPI, reason="yappi is not installed in this environment")
def test_trace_mode_samples_and_adds_exact_cpu_statistics(tmp_path: Path) -> None:
    """Trace mode used to record 0 samples and yappi's wall clock, whose coroutine self
    times overlap; now it samples as sample mode does and adds exact CPU statistics."""
    import json

    from pyrometer.core.analysis.callers import callers_callees
    from pyrometer.core.analysis.functions import function_table

    p, out = run_target(EXACT, tmp_path)
    truth = json.loads(out.split("TRUTH", 1)[1])
    assert p.meta["mode"] == "trace" and p.meta["trace_clock"] == "cpu"
    # sampling is not replaced: every thread that ran is in the samples
    assert len(p.samples) >= 10
    sampled = {p.threads[int(t)].name for t in set(p.samples["thread"].tolist())}
    assert {"MainThread", "w0", "w1"} <= sampled
    fs = p.func_stats
    assert fs is not None and fs.clock == "cpu"
    rows = stats_by_name(p)
    # exact in every thread: 2 x 21 in threads, 5 in a pool, 2 in coroutines
    assert fs.calls[rows["counted"]] == 49
    assert fs.calls[rows["spin"]] == 3 and fs.calls[rows["waiter"]] == 2
    # the CPU clock against the CPU the program measured itself
    assert 0.85 * truth["spin_cpu"] <= fs.total_time[rows["spin"]] <= 1.2 * truth["spin_cpu"] + 0.01
    # self times add up: never more than the CPU the whole process used
    assert float(fs.self_time.sum()) <= truth["process_cpu"]
    assert float(fs.self_time[rows["waiter"]]) < 0.02  # its 100 ms await is not "self"
    table = function_table(p)
    assert table.trace_clock == "cpu" and table.task_wall_per_call is not None
    row = table.row_of(int(fs.func[rows["waiter"]]))
    assert table.calls[row] == 2
    assert 0.1 <= table.task_wall_per_call[row] < 0.3  # a coroutine's wall per call includes its awaits
    cc = callers_callees(p, int(fs.func[rows["counted"]]))
    assert {p.func_name[f]: n for f, n in cc.caller_calls.items()} == {"worker": 42, "<lambda>": 5, "waiter": 2}
    assert {p.func_name[f] for f, _, _ in cc.callers} >= {"worker", "<lambda>", "waiter"}  # unsampled edges listed too


IN_FLIGHT = """
import time
import _pyro_agent_test.tracer
_pyro_agent_test.tracer.SNAPSHOT_SECONDS = 0.02   # many tracer wake-ups while main() runs

def burn(sec):
    t = time.thread_time()
    while time.thread_time() - t < sec:
        pass

def hot():
    burn(0.15)

def small():
    burn(0.004)

def main():
    t0 = time.thread_time()
    hot()
    t1 = time.thread_time()
    for _ in range(42):
        small()
    print("truth", t1 - t0, time.thread_time() - t1)

session = start(mode="trace", clock="cpu")
main()
session.stop()
"""


@pytest.mark.skipif(not HAVE_YAPPI, reason="yappi is not installed in this environment")
def test_statistics_exact_for_functions_running_while_the_tracer_wakes(tmp_path: Path) -> None:
    """Reading yappi mid-run bumped in-flight calls and charged children to self (main: 2 calls, 0.6 s self)."""
    p, out = run_target(IN_FLIGHT, tmp_path)
    hot_truth, small_truth = (float(x) for x in out.split("truth", 1)[1].split()[:2])
    fs = p.func_stats
    assert fs is not None
    rows = stats_by_name(p)
    assert fs.calls[rows["main"]] == 1 and fs.calls[rows["hot"]] == 1
    assert fs.calls[rows["small"]] == 42 and fs.calls[rows["burn"]] == 43
    # main's own code does nothing: its callees' time is not its self time
    assert fs.self_time[rows["main"]] < 0.02
    assert abs(fs.total_time[rows["hot"]] - hot_truth) < 0.03
    assert abs(fs.total_time[rows["small"]] - small_truth) < 0.03
