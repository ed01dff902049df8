"""Sampled time against truth measured inside real programs, at the default rate (end to end).

Margins are generous (the machine is shared and loaded); the exact checks are
the virtual-time ones in test_agent_sampler_truth.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from agent_harness import run_agent_target

from pyrometer.core.model import Profile


def charged(p: Profile, field: str = "weight") -> dict[str, float]:
    """Seconds charged to each function (inclusive, once per sample)."""
    out: dict[str, float] = {}
    values = p.samples[field]
    for sid, value in zip(p.samples["stack"].tolist(), values.tolist(), strict=True):
        if value < 0:
            continue
        for name in {p.func_name[p.frame_func(f)] for f in p.stack_frames(int(sid))}:
            out[name] = out.get(name, 0.0) + value
    return out


def truth_of(out: str) -> dict[str, float]:
    return json.loads(next(line for line in out.splitlines() if line.startswith("{")))


AFTER_SLEEP = """
import json, random, time
session = start()
acc = {"waiter": 0.0, "short_cpu": 0.0, "c_call": 0.0, "tiny": 0.0}
def waiter():
    t = time.perf_counter(); time.sleep(0.3); acc["waiter"] += time.perf_counter() - t
def short_cpu():
    t = time.perf_counter()
    while time.perf_counter() - t < 0.02: pass
    acc["short_cpu"] += time.perf_counter() - t
def c_call(xs):
    t = time.perf_counter(); xs.sort(); acc["c_call"] += time.perf_counter() - t  # holds the GIL throughout
def tiny():
    t = time.perf_counter()
    for _ in range(400): random.uniform(0, 1)
    acc["tiny"] += time.perf_counter() - t
for _ in range(8):
    waiter(); short_cpu()
xs = [random.random() for _ in range(1500000)]
time.sleep(0.05)
c_call(xs); tiny()
time.sleep(0.05)
session.stop(exit_status=0)
print(json.dumps(acc))
"""


def test_bursts_after_sleeps_and_a_gil_holding_call(tmp_path: Path) -> None:
    p, out, _ = run_agent_target(sys.executable, AFTER_SLEEP, tmp_path)
    truth, got = truth_of(out), charged(p)
    # the burst after each sleep keeps the full rate (it used to get the back-off gap or nothing)
    assert 0.4 * truth["short_cpu"] <= got.get("short_cpu", 0.0) <= 1.6 * truth["short_cpu"] + 0.02, (got, truth)
    assert abs(got["waiter"] - truth["waiter"]) <= 0.1 * truth["waiter"], (got, truth)
    # the sort holds the GIL: the sampler sees nothing of it, and the 400 tiny calls after it
    # (under a ms) must not be charged the gap; it is counted as unsampled instead
    assert got.get("tiny", 0.0) <= 0.06, (got, truth)
    assert p.telemetry["unsampled_s"] >= 0.5 * truth["c_call"] - 0.06, (p.telemetry, truth)


TWO_THREADS = """
import json, threading, time
session = start()
acc = {}
def spin(name, seconds):
    t = time.thread_time()
    while time.thread_time() - t < seconds: pass
    acc[name] = time.thread_time() - t
threads = [threading.Thread(target=spin, args=(n, s), name=n) for n, s in (("one", 0.4), ("two", 0.25))]
for t in threads: t.start()
for t in threads: t.join()
session.stop(exit_status=0)
print(json.dumps(acc))
"""


def test_two_cpu_threads_cpu_matches_thread_time(tmp_path: Path) -> None:
    p, out, _ = run_agent_target(sys.executable, TWO_THREADS, tmp_path)
    truth = truth_of(out)
    for name, seconds in truth.items():
        tid = next(t.id for t in p.threads.values() if t.name == name)
        rows = np.flatnonzero(p.samples["thread"] == tid)
        cpu = p.samples["cpu"][rows]
        assert abs(float(cpu[cpu >= 0].sum()) - seconds) <= 0.25 * seconds + 0.03, (name, seconds)
