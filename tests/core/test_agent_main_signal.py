"""The main thread sampled from SIGALRM (option main_signal): short bursts found where they run.

Truth is measured inside the target (time.perf_counter around each asyncio
callback's 2.5 ms of work); the thread sampler alone charges them a fraction
of that (tests/core/test_agent_late_samples.py says so), the signal must give
them their time. The signal is the program's to own: a program with its own
SIGALRM handler or running alarm is left alone (a notice says why), and one
that installs its handler later gets its alarm, not our ticks.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from agent_harness import interpreter, run_agent_target

from pyrometer.core.formats.recording import read_recording
from pyrometer.core.model import Profile

ASYNC_BURSTS = """
import asyncio, json, time
session = start(main_signal=True)
acc = {"crunch": 0.0}
def crunch():
    w0 = time.perf_counter(); end = w0 + 0.0025
    while time.perf_counter() < end: pass
    acc["crunch"] += time.perf_counter() - w0
async def main():
    t = time.perf_counter()
    while time.perf_counter() - t < 1.2:
        crunch(); await asyncio.sleep(0.004)
asyncio.run(main())
session.stop(exit_status=0)
import signal
acc["restored"] = signal.getsignal(signal.SIGALRM) == signal.SIG_DFL and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
print(json.dumps(acc))
"""


def charged(p: Profile, name: str) -> float:
    total = 0.0
    for sid, w in zip(p.samples["stack"].tolist(), p.samples["weight"].tolist(), strict=True):
        if any(p.func_name[p.frame_func(f)] == name for f in p.stack_frames(int(sid))):
            total += w
    return total


def truth_of(out: str) -> dict:
    return dict(json.loads(next(line for line in out.splitlines() if line.startswith("{"))))


@pytest.mark.parametrize("version", ["current", "3.9", "3.13"])
def test_asyncio_bursts_on_the_main_thread_get_their_time(tmp_path: Path, version: str) -> None:
    p, out, _ = run_agent_target(interpreter(version), ASYNC_BURSTS, tmp_path)
    truth = truth_of(out)
    assert p.telemetry["main_signal"] is True, p.telemetry
    got = charged(p, "crunch")
    # the thread sampler alone finds 5-30% of it on this machine; sampling error at 100 Hz is ~10%
    assert 0.6 * truth["crunch"] <= got <= 1.4 * truth["crunch"] + 0.03, (got, truth)
    assert truth["restored"], "stop() must disarm the timer and give SIGALRM back"
    assert p.telemetry["late_ticks"] == 0, p.telemetry  # nothing left for the late-samples line to warn of


OWN_HANDLER = """
import json, signal, time
fired = []
signal.signal(signal.SIGALRM, lambda s, f: fired.append(1))
session = start(main_signal=True)
signal.setitimer(signal.ITIMER_REAL, 0.05)
time.sleep(0.3)
session.stop(exit_status=0)
print(json.dumps({"fired": len(fired), "ours": session.telemetry()["main_signal"]}))
"""

HANDLER_LATER = """
import json, signal, time
session = start(main_signal=True)
time.sleep(0.1)
fired = []
signal.signal(signal.SIGALRM, lambda s, f: fired.append(time.perf_counter()))
t0 = time.perf_counter()
signal.setitimer(signal.ITIMER_REAL, 0.15)
time.sleep(0.4)
session.stop(exit_status=0)
print(json.dumps({"fired": len(fired), "at": [t - t0 for t in fired]}))
"""


def test_a_program_with_its_own_handler_is_left_alone(tmp_path: Path) -> None:
    p, out, _ = run_agent_target(interpreter("current"), OWN_HANDLER, tmp_path)
    truth = truth_of(out)
    assert truth == {"fired": 1, "ours": False}, truth
    assert any("own SIGALRM handler" in str(n.get("message")) for n in p.notices), p.notices


def test_a_handler_installed_later_gets_its_alarm_not_our_ticks(tmp_path: Path) -> None:
    _, out, _ = run_agent_target(interpreter("current"), HANDLER_LATER, tmp_path)
    truth = truth_of(out)
    # our 10 ms ticks may reach the program's handler until the sampler's next tick sees it
    # (at most a couple), but its own alarm must fire, at its time
    assert 1 <= truth["fired"] <= 4, truth
    assert any(0.14 <= t <= 0.35 for t in truth["at"]), truth


FORKED_CHILD = """
import json, os, signal, time
session = start(main_signal=True)
time.sleep(0.05)
pid = os.fork()
if pid == 0:
    signal.alarm(1)  # no handler of its own: the default action must end the child
    time.sleep(3)
    os._exit(0)
_, status = os.waitpid(pid, 0)
session.stop(exit_status=0)
print(json.dumps({"signaled": os.WIFSIGNALED(status), "sig": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None}))
"""


def test_a_forked_child_alarm_keeps_its_default_action(tmp_path: Path) -> None:
    _, out, _ = run_agent_target(interpreter("current"), FORKED_CHILD, tmp_path)
    assert truth_of(out) == {"signaled": True, "sig": 14}, out


def test_record_main_signal_option_turns_it_on(tmp_path: Path) -> None:
    """`record --main-signal` reaches the agent: the bursts get their time (without it: 5-30%)."""
    script = tmp_path / "bursts.py"
    script.write_text(ASYNC_BURSTS.replace("session = start(main_signal=True)\n", "").replace("session.stop(exit_status=0)\n", ""))
    out = tmp_path / "out.pyro"
    cmd = [sys.executable, "-m", "pyrometer", "record", "--main-signal", "--no-history", "-o", str(out), "--", str(script)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    p = read_recording(out)[0]
    assert p.telemetry["main_signal"] is True, p.telemetry
    got, truth = charged(p, "crunch"), truth_of(r.stdout)
    assert 0.6 * truth["crunch"] <= got <= 1.4 * truth["crunch"] + 0.03, (got, truth)
