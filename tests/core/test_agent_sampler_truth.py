"""Sampled time is true time: the sampler's weights on virtual time against a scripted thread.

A fake thread follows a script of stretches (function, seconds, on CPU or
waiting); the sampler's own loop runs on a virtual clock and sees that
thread's stack and CPU clock at each tick. The time it charges each function
must match the script to within sampling error (a couple of intervals per
burst), whatever the back-off does between bursts: after a sleep, a short
burst of CPU gets its own time, not the gap before it. Real programs are
checked end to end in test_agent_sampler_truth_e2e.py.
"""

from __future__ import annotations

import bisect
import random
import types

import pytest

from pyrometer.core.agent import sampler as sampler_mod
from pyrometer.core.agent.clock import SessionClock
from pyrometer.core.agent.sampler import Sampler
from pyrometer.core.agent.session import AgentSession

FAKE_IDENT = 987654321


class VirtualClock:
    def __init__(self) -> None:
        self.t = 100.0

    def perf(self) -> float:
        return self.t


class ScriptedThread:
    """Stretches (function, seconds, on_cpu) laid end to end from ``start``."""

    def __init__(self, start: float, script: list[tuple[str, float, bool]]) -> None:
        self.starts: list[float] = []
        self.cpu_before: list[float] = []
        self.script = script
        t, cpu = start, 0.0
        for _name, seconds, on_cpu in script:
            self.starts.append(t)
            self.cpu_before.append(cpu)
            t += seconds
            cpu += seconds if on_cpu else 0.0
        self.end = t
        self.names = sorted({s[0] for s in script})

    def _at(self, t: float) -> int:
        return max(0, min(len(self.script) - 1, bisect.bisect_right(self.starts, t) - 1))

    def function(self, t: float) -> str:
        return self.script[self._at(t)][0]

    def cpu(self, t: float) -> float:
        i = self._at(t)
        _name, seconds, on_cpu = self.script[i]
        into = min(max(0.0, t - self.starts[i]), seconds)
        return self.cpu_before[i] + (into if on_cpu else 0.0)

    def truth(self, until: float) -> dict[str, float]:
        out = dict.fromkeys(self.names, 0.0)
        for i, (name, seconds, _on) in enumerate(self.script):
            out[name] += max(0.0, min(seconds, until - self.starts[i]))
        return out


def sample_script(
    monkeypatch: pytest.MonkeyPatch, script: list[tuple[str, float, bool]], late: dict[int, float] | None = None,
) -> tuple[dict[str, float], dict[str, float], Sampler]:
    """Run the sampler's loop (100 Hz) over the script; (charged seconds, truth) per function."""
    clock = VirtualClock()
    thread = ScriptedThread(clock.t + 0.0001, script)
    wakeups = [0]
    stop_at = thread.end - 0.001

    def sleep(seconds: float) -> None:
        wakeups[0] += 1
        clock.t += max(0.0, seconds) + (late or {}).get(wakeups[0], 0.0)
        if clock.t >= stop_at:
            sampler._stop.set()

    session = AgentSession({"rate_hz": 100}, types.SimpleNamespace(
        send=lambda data, droppable=False: True, flush=lambda: None, closed=False,
    ), clock=SessionClock(perf=clock.perf, sleep=sleep))
    session.started = True
    sampler = Sampler(session, 100)
    names = thread.names
    session.interner.intern_frame_chain = lambda frame: names.index(frame)  # type: ignore[method-assign]
    fake_sys = types.SimpleNamespace(_current_frames=lambda: {FAKE_IDENT: thread.function(clock.t)})
    monkeypatch.setattr(sampler_mod, "sys", fake_sys)
    monkeypatch.setattr(sampler_mod, "read_cpu", lambda _clock_id: thread.cpu(clock.t))
    charged = dict.fromkeys(names, 0.0)
    seen: list[tuple[float, int, float]] = []

    def flush() -> None:
        seen.extend(zip(sampler._times, sampler._stacks, sampler._weights, strict=True))
        sampler._times, sampler._tids, sampler._stacks = [], [], []
        sampler._tasks, sampler._weights, sampler._cpus = [], [], []

    monkeypatch.setattr(sampler, "flush", flush)
    monkeypatch.setattr(session, "pump", lambda: None)
    monkeypatch.setattr(session, "send_telemetry", lambda: None)
    sampler._loop()
    flush()
    for _t, stack, weight in seen:
        charged[names[stack]] += weight
    times = [t for t, _s, _w in seen]
    assert times == sorted(times), "samples go out in time order"
    end = times[-1] + session.clock.t0
    return charged, thread.truth(end), sampler


def test_short_bursts_after_sleeps_get_their_own_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # the user's after_sleep.py: 20 x (0.3 s asleep in waiter, 20 ms on CPU in short_cpu)
    script = [("waiter", 0.3, False), ("short_cpu", 0.02, True)] * 20 + [("waiter", 0.05, False)]
    charged, truth, sampler = sample_script(monkeypatch, script)
    assert charged["short_cpu"] == pytest.approx(truth["short_cpu"], abs=0.02), (charged, truth)
    assert charged["waiter"] == pytest.approx(truth["waiter"], abs=0.02), (charged, truth)
    assert sampler.unsampled_s == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_random_sleeps_and_spins_are_charged_within_sampling_error(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    rng = random.Random(seed)
    script: list[tuple[str, float, bool]] = []
    for _ in range(60):
        script.append(("sleeper", rng.uniform(0.001, 0.2), False))
        script.append(rng.choice([("spin_a", rng.uniform(0.001, 0.05), True), ("spin_b", rng.uniform(0.001, 0.05), True)]))
    charged, truth, _ = sample_script(monkeypatch, script)
    for name in truth:
        # sampling error: up to an interval per burst, +-, over 60 bursts (it was up to 0.29 s)
        assert charged[name] == pytest.approx(truth[name], abs=0.1), (name, charged, truth)


def test_a_starved_sampler_charges_no_stack_with_the_gap_it_did_not_see(monkeypatch: pytest.MonkeyPatch) -> None:
    # 1 s in a C call holding the GIL (the sampler cannot run), then 400 tiny calls in uniform
    script = [("busy_c_call", 1.0, True), ("uniform", 0.005, True), ("after", 0.2, True)]
    charged, truth, sampler = sample_script(monkeypatch, script, late={2: 0.99})
    assert charged["uniform"] <= 0.02, charged  # was charged the whole 0.99 s gap before
    assert sampler.unsampled_s == pytest.approx(0.99, abs=0.03)
    total = sum(charged.values()) + sampler.unsampled_s
    assert total == pytest.approx(sum(truth.values()), abs=0.02)
