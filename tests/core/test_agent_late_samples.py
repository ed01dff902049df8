"""Late samples (the sampler waited for the GIL) are counted by the agent and said by `stats`.

A thread that runs ~3 ms of Python and then waits is seen in its wait: the
sampler, woken during the burst, gets the GIL only when the thread lets it go
at the wait. The agent cannot avoid that from a thread, so it counts those
ticks and `stats` says so in one line. The yardstick is inside the target:
time.perf_counter around each burst, against what the samples charge it.
A sleeper and a CPU-bound loop (whose samples are where they should be) must
not get the line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from agent_harness import interpreter, run_agent_target

from pyrometer.core.cli.summary import build_summary, render_text
from pyrometer.core.late_samples import SHOWN_FROM, late_samples_text, late_share
from pyrometer.core.model import Profile


def charged(p: Profile) -> dict[str, float]:
    """Wall seconds charged to each function (inclusive, once per sample)."""
    out: dict[str, float] = {}
    for sid, w in zip(p.samples["stack"].tolist(), p.samples["weight"].tolist(), strict=True):
        for name in {p.func_name[p.frame_func(f)] for f in p.stack_frames(int(sid))}:
            out[name] = out.get(name, 0.0) + w
    return out


def truth_of(out: str) -> dict[str, float]:
    return dict(json.loads(next(line for line in out.splitlines() if line.startswith("{"))))

BURSTS = """
import json, threading, time
session = start()
ev = threading.Event()
acc = {"work": 0.0, "span": 0.0}
def work():
    w0 = time.perf_counter(); end = w0 + 0.0031
    while time.perf_counter() < end: pass
    acc["work"] += time.perf_counter() - w0
def worker():
    t = time.perf_counter()
    while time.perf_counter() - t < 1.5:
        work(); ev.wait(0.0043)
    acc["span"] = time.perf_counter() - t
th = threading.Thread(target=worker, name="w"); th.start(); th.join()
session.stop(exit_status=0)
print(json.dumps(acc))
"""

SLEEPER = """
import json, threading, time
session = start()
def nap():
    for _ in range(100): time.sleep(0.01)
th = threading.Thread(target=nap, name="w"); th.start(); th.join()
session.stop(exit_status=0)
print("{}")
"""

SPINNER = """
import json, threading, time
session = start()
def spin():
    t = time.perf_counter(); x = 0
    while time.perf_counter() - t < 1.0: x += 1
th = threading.Thread(target=spin, name="w"); th.start(); th.join()
session.stop(exit_status=0)
print("{}")
"""


@pytest.mark.parametrize("version", ["current", "3.9", "3.13"])
def test_bursts_then_waits_are_undercounted_and_the_line_says_so(tmp_path: Path, version: str) -> None:
    p, out, _ = run_agent_target(interpreter(version), BURSTS, tmp_path)
    truth, got = truth_of(out), charged(p)
    # the bias this line is about is real here: the bursts get well under their time
    assert got.get("work", 0.0) < 0.8 * truth["work"], (got, truth)
    share = late_share(p.telemetry)
    assert share is not None and share >= SHOWN_FROM, p.telemetry
    assert p.telemetry["late_ticks"] <= p.telemetry["busy_ticks"] <= p.telemetry["sampler_ticks"], p.telemetry
    text = render_text(build_summary(p))
    assert "of samples were taken late, waiting for the GIL" in text, text


@pytest.mark.parametrize("body", [SLEEPER, SPINNER], ids=["sleeper", "cpu-bound"])
def test_no_line_for_a_sleeper_or_a_cpu_bound_loop(tmp_path: Path, body: str) -> None:
    p, _, _ = run_agent_target(sys.executable, body, tmp_path)
    assert p.telemetry["sampler_ticks"] > 20, p.telemetry
    share = late_share(p.telemetry)
    assert share is not None and share < SHOWN_FROM, p.telemetry
    assert "taken late" not in render_text(build_summary(p))


def test_recordings_without_the_counter_say_nothing() -> None:
    assert late_share({}) is None
    assert late_share({"late_ticks": 3, "sampler_ticks": 0}) is None
    assert late_share({"late_ticks": True, "sampler_ticks": 10}) is None
    assert late_samples_text(None) is None
    assert late_samples_text(0.04) is None
    assert late_samples_text(0.25) == (
        "25% of samples were taken late, waiting for the GIL: "
        "short CPU bursts are charged to where threads release the GIL (e.g. a wait);"
        " for the main thread, record with --main-signal"
    )
