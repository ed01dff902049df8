"""main_signal="auto": the SIGALRM main-thread sampler is armed when, and only when, the sampler thread is starved.

The decision is driven on virtual time (a real Sampler's loop, its wake-ups
made late by the test as a GIL held elsewhere makes them); the end-to-end test
starves the sampler for real (a switch interval of half a second: a thread
running Python keeps the GIL that long) and checks the main thread's sample
rate against the busy span the target measures itself.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from agent_harness import AGENT_DIR, HARNESS, interpreter, run_agent_target

from pyrometer.core.agent import defaults, wire
from pyrometer.core.agent.auto_signal import AutoMainSignal, StarvationWatch
from pyrometer.core.agent.clock import SessionClock
from pyrometer.core.agent.sampler import Sampler
from pyrometer.core.agent.session import AgentSession
from pyrometer.core.model import Profile


class VirtualClock:
    def __init__(self) -> None:
        self.t = 100.0

    def perf(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)


class ListSink:
    closed = False

    def __init__(self) -> None:
        self.notices: list[dict[str, Any]] = []

    def send(self, data: bytes, droppable: bool = False) -> bool:
        for kind, _flags, payload in wire.iter_frames(wire.file_header() + data):
            if kind == wire.NOTICE:
                self.notices.append(wire.decode_json(payload))
        return True

    def flush(self) -> None:
        pass


class FakeMain:
    """Stands for an installed, unarmed MainSignalSampler (no real timer in the test process)."""

    def __init__(self) -> None:
        self.armed_at: list[float] = []
        self.clock: VirtualClock | None = None

    def arm(self) -> bool:
        assert self.clock is not None
        self.armed_at.append(self.clock.t)
        return True

    def set_period(self, seconds: float) -> None:
        pass

    def stop(self) -> None:
        pass


def run_sampler(main: Any, late_s: float, busy: bool, seconds: float = 3.0) -> tuple[Sampler, ListSink, VirtualClock]:
    """A real Sampler loop over `seconds` of virtual time, every wake-up `late_s` late, its ticks seeing
    threads run (`busy`) or all waiting (the idle back-off)."""
    clock = VirtualClock()
    sink = ListSink()
    session = AgentSession({"rate_hz": 100, "asyncio": False}, sink, SessionClock(perf=clock.perf, sleep=clock.sleep))
    sampler = Sampler(session, 100)
    session.sampler = sampler
    sampler.auto_signal = AutoMainSignal(main, 100, clock.t)
    if isinstance(main, FakeMain):
        main.clock = clock
    end = clock.t + seconds

    def sleep(delay: float) -> None:
        clock.t += max(0.0, delay) + late_s
        if clock.t >= end:
            sampler._stop.set()

    def tick() -> float:
        sampler.busy = sampler.worked = busy
        clock.t += 0.0002
        sampler.last_tick_at = clock.t
        sampler.ticks += 1
        return clock.t

    session.clock.sleep = sleep
    sampler._tick = tick  # type: ignore[method-assign]
    sampler._loop()
    return sampler, sink, clock


def test_a_sampler_starved_while_threads_run_arms_the_signal_once() -> None:
    main = FakeMain()
    sampler, sink, _ = run_sampler(main, late_s=0.07, busy=True)  # ~12 Hz of 100
    assert len(main.armed_at) == 1, main.armed_at
    assert 100.0 + 1.0 <= main.armed_at[0] <= 100.0 + 1.2, main.armed_at  # at the end of the first window
    assert sampler.main_signal is main and sampler.auto_signal is None
    assert sampler.main_signal_at is not None and abs(sampler.main_signal_at - (main.armed_at[0] - 100.0)) < 1e-9
    said = [n["message"] for n in sink.notices]
    assert len(said) == 1, said
    assert said[0].startswith("the sampler was starved of the GIL (1"), said  # 12-13 Hz
    assert said[0].endswith(" Hz of 100 asked): the main thread is sampled from SIGALRM from now on"), said


def test_the_idle_back_off_does_not_arm_it() -> None:
    main = FakeMain()
    sampler, sink, _ = run_sampler(main, late_s=0.0, busy=False)  # every thread waits: ~10 Hz by design
    assert sampler.ticks < 0.5 * 100 * 3  # backed off under half the rate...
    assert main.armed_at == [] and sampler.main_signal is None and sink.notices == []  # ...and not starved


def test_a_sampler_at_its_rate_does_not_arm_it() -> None:
    main = FakeMain()
    sampler, sink, _ = run_sampler(main, late_s=0.004, busy=True)  # late wake-ups it makes up for
    assert sampler.effective_rate_hz > 90
    assert main.armed_at == [] and sampler.main_signal is None and sink.notices == []


def test_the_watch_judges_whole_windows() -> None:
    watch = StarvationWatch(100, 0.0)
    # 12 busy ticks in the first second: starved; the next window starts afresh
    got = [watch.tick(t / 12, True) for t in range(1, 13)]
    assert got[:-1] == [None] * 11 and got[-1] == pytest.approx(12.0)
    # a window with a busy minority of ticks (mostly idle) is not starvation
    got = [watch.tick(1 + t / 12, t % 3 == 0) for t in range(1, 13)]
    assert got == [None] * 12


def test_auto_is_the_default() -> None:
    assert defaults.MAIN_SIGNAL == "auto"


# The sampler starved for real: a switch interval of 0.5 s lets the main thread, running Python,
# keep the GIL that long, so the sampler ticks ~2 times a second; the SIGALRM handler runs in the
# main thread itself. The target measures its own busy span (session time).
STARVED = """
import json, time
session = start(main_signal=MAIN_SIGNAL, switch_interval_ms=500)
PROGRAM
start_t = session.clock.now()
cpu0 = time.thread_time()
end = time.perf_counter() + 2.6
n = 0
while time.perf_counter() < end:
    n += 1
end_t = session.clock.now()
cpu = time.thread_time() - cpu0
session.stop(exit_status=0)
import signal
restored = signal.getsignal(signal.SIGALRM) == signal.SIG_DFL and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
print(json.dumps({"start": start_t, "end": end_t, "cpu": cpu, "restored": restored}))
"""


def main_sample_times(p: Profile, start: float, end: float) -> list[float]:
    main = {t.id for t in p.threads.values() if t.name == "MainThread"}
    return [
        float(t) for t, tid in zip(p.samples["time"].tolist(), p.samples["thread"].tolist(), strict=True)
        if tid in main and start < t <= end
    ]


@pytest.mark.parametrize("version", ["3.9", "current", "3.13"])
def test_auto_samples_a_starved_main_thread_at_the_asked_rate(tmp_path: Any, version: str) -> None:
    target = STARVED.replace("MAIN_SIGNAL", '"auto"').replace("PROGRAM", "")
    p, out, _ = run_agent_target(interpreter(version), target, tmp_path)
    truth = json.loads(out.strip().splitlines()[-1])
    assert truth["restored"], truth
    assert p.telemetry["main_signal"] is True, p.telemetry
    armed = p.telemetry["main_signal_at"]
    # at the end of the first starved window (~1 s in; later on a machine so loaded that the sampler got its rate)
    assert truth["start"] < armed < truth["end"] - 0.5, (armed, truth)
    assert any(str(n.get("message", "")).startswith("the sampler was starved of the GIL") for n in p.notices), p.notices
    times = main_sample_times(p, armed, truth["end"])
    # a timer's signals while the thread waits for a CPU (a loaded machine) arrive as one: the
    # thread's own share of a CPU (measured inside it, ~1 on a quiet machine) bounds the rate
    share = min(1.0, truth["cpu"] / (truth["end"] - truth["start"]))
    span = truth["end"] - armed
    assert len(times) >= 0.8 * 100 * span * share, (len(times), span, share)


def test_without_the_signal_the_main_thread_is_starved(tmp_path: Any) -> None:
    target = STARVED.replace("MAIN_SIGNAL", "False").replace("PROGRAM", "")
    p, out, _ = run_agent_target(interpreter("current"), target, tmp_path)
    truth = json.loads(out.strip().splitlines()[-1])
    assert p.telemetry["main_signal"] is False and p.telemetry["main_signal_at"] is None, p.telemetry
    assert not any("starved of the GIL" in str(n.get("message", "")) for n in p.notices), p.notices
    span = truth["end"] - truth["start"]
    times = main_sample_times(p, truth["start"], truth["end"])
    assert len(times) < 0.2 * 100 * span, (len(times), span)  # ~2 Hz: what auto mode rescues


# The program installs its own SIGALRM handler once the agent has started (ours was installed unarmed):
# starved or not, the timer is never armed over it, and the program's handler stays its own.
PROGRAM_HANDLER = """
import signal
program = []
signal.signal(signal.SIGALRM, lambda signum, frame: program.append(signum))
"""


def test_a_program_that_took_sigalrm_is_left_alone(tmp_path: Any) -> None:
    target = STARVED.replace("MAIN_SIGNAL", '"auto"').replace("PROGRAM", PROGRAM_HANDLER.strip())
    target = target.replace('"restored": restored', '"restored": restored, "program": len(program), "theirs": signal.getsignal(signal.SIGALRM) is not signal.SIG_DFL')
    p, out, _ = run_agent_target(interpreter("current"), target, tmp_path)
    truth = json.loads(out.strip().splitlines()[-1])
    assert p.telemetry["main_signal"] is False and p.telemetry["main_signal_at"] is None, p.telemetry
    assert not any("starved of the GIL" in str(n.get("message", "")) for n in p.notices), p.notices
    assert truth["program"] == 0 and truth["theirs"], truth  # no tick of ours reached it; its handler kept


# A program's alarm() keeps its default action (the process ends by SIGALRM) in auto mode: when it
# fires during a long C call that also starves the sampler (which then arms our timer before the
# main thread gets to run the Python handler), and when the program calls it after we armed.
ALARM_IN_C_CALL = """
import signal, time
session = start(main_signal="auto")
t = time.perf_counter(); sum(range(1_000_000)); per_million = time.perf_counter() - t
signal.setitimer(signal.ITIMER_REAL, 0.3)  # the program's alarm, with the default action
sum(range(int(1.6 / per_million) * 1_000_000))  # ~1.6 s holding the GIL: the sampler is starved
time.sleep(3)
print("the alarm was swallowed")
"""

ALARM_AFTER_ARMED = STARVED.replace("MAIN_SIGNAL", '"auto"').replace("PROGRAM", "").replace(
    "end_t = session.clock.now()",
    "assert session.telemetry()['main_signal']\nsignal_mod = __import__('signal')\nsignal_mod.alarm(1)\ntime.sleep(3)\n"
    "print('the alarm was swallowed')\nend_t = session.clock.now()",
)


@pytest.mark.parametrize(("body", "why"), [(ALARM_IN_C_CALL, "fired in a C call"), (ALARM_AFTER_ARMED, "after armed")])
def test_the_programs_alarm_keeps_its_default_action(tmp_path: Any, body: str, why: str) -> None:
    script = tmp_path / "target.py"
    script.write_text(HARNESS + textwrap.dedent(body))
    proc = subprocess.run(
        [sys.executable, "-I", str(script), str(AGENT_DIR), str(tmp_path / "out.pyro")],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == -signal.SIGALRM, (why, proc.returncode, proc.stdout, proc.stderr)


@pytest.mark.parametrize(("flags", "expected"), [([], "auto"), (["--main-signal"], True), (["--no-main-signal"], False)])
def test_the_cli_gives_the_agent_auto_on_or_off(flags: list[str], expected: object) -> None:
    from pyrometer.cli import build_parser
    from pyrometer.core.capture.launch import options_from_args

    for command in (["record", "-o", "x.pyro", *flags, "--", "x.py"], ["attach", *flags, "1"], ["run", *flags, "--", "x.py"]):
        assert options_from_args(build_parser().parse_args(command))["main_signal"] == expected, command
