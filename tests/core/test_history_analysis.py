"""Regressions told from noise: simulated sampled runs with known truth, identical runs, bigger inputs."""

from __future__ import annotations

import numpy as np
import pytest

from pyrometer.core.history.analysis import build_report, regressions, sparkline, trend
from pyrometer.core.history.store import FunctionAggregate, RunRecord

INTERVAL = 0.01  # 100 Hz


def sampled_run(counts: list[int] | np.ndarray, started: float = 0.0, deterministic: bool = False) -> RunRecord:
    """A run whose function i had counts[i] self samples at 100 Hz."""
    funcs = [
        FunctionAggregate(f"m.py\x1ff{i}\x1f0", f"f{i}", "/src/m.py", c * INTERVAL, c * INTERVAL, None if deterministic else int(c))
        for i, c in enumerate(counts)
        if c > 0
    ]
    n = int(sum(counts))
    return RunRecord("p", started, n * INTERVAL, n * INTERVAL, 0, None if deterministic else n, None, functions=funcs)


def draw(rng: np.random.Generator, probs: np.ndarray, n: int, runs: int) -> list[RunRecord]:
    return [sampled_run(rng.multinomial(n, probs), started=i) for i in range(runs)]


PROBS = np.array([0.30, 0.20, 0.12, 0.10, 0.08, 0.06, 0.05, 0.04, 0.03, 0.02]).astype(float)
PROBS = PROBS / PROBS.sum()


def test_identical_runs_flag_nothing_and_average_to_themselves() -> None:
    runs = [sampled_run([120, 80, 40, 3, 1], started=i) for i in range(5)]
    report = build_report("p", runs)
    assert report.regressions == []
    f0 = report.functions[0]
    assert (f0.name, f0.runs) == ("f0", 5)
    assert f0.avg_s == f0.min_s == f0.max_s == f0.last_s == pytest.approx(1.2)
    assert f0.avg_pct == pytest.approx(100 * 120 / 244) and f0.last_pct == pytest.approx(f0.avg_pct)
    assert [b.name for b in report.bottlenecks] == ["f0", "f1", "f2", "f3", "f4"]


def test_sampling_noise_alone_is_flagged_in_under_one_percent_of_histories() -> None:
    rng = np.random.default_rng(14)
    trials = 300
    flagged = sum(bool(regressions(draw(rng, PROBS, 300, 6))) for _ in range(trials))  # 3 s at 100 Hz each
    assert flagged / trials <= 0.01, flagged


def test_a_function_twice_as_slow_is_flagged_slower_almost_always() -> None:
    # 6 s at 100 Hz a run; at 3 s the same doubling of a 12 % function is caught ~70 % of the time
    rng = np.random.default_rng(15)
    slow = PROBS.copy()
    slow[2] *= 2  # f2 takes twice as long; the others take as long as before
    hits = 0
    wrong = 0
    for _ in range(100):
        runs = draw(rng, PROBS, 600, 5)
        extra = rng.multinomial(int(600 * (1 + PROBS[2])), slow / slow.sum())
        found = regressions([*runs, sampled_run(extra, started=9)])
        hits += any(g.name == "f2" and g.direction == "slower" for g in found)
        wrong += any(g.name != "f2" for g in found)
    assert hits >= 95 and wrong <= 1, (hits, wrong)


def test_a_function_that_got_faster_is_flagged_faster_with_its_size() -> None:
    before = [sampled_run([300, 200, 100], started=i) for i in range(4)]
    after = sampled_run([100, 200, 100], started=9)
    (g,) = regressions([*before, after])
    assert (g.name, g.direction) == ("f0", "faster")
    assert g.avg_s == pytest.approx(3.0) and g.last_s == pytest.approx(1.0)
    assert g.change_pct == pytest.approx(-200 / 3)


def test_a_bigger_input_making_everything_longer_is_not_a_regression() -> None:
    before = [sampled_run([300, 200, 100], started=i) for i in range(4)]
    assert regressions([*before, sampled_run([600, 400, 200], started=9)]) == []


def test_a_share_grown_only_because_another_function_got_faster_is_not_slower() -> None:
    before = [sampled_run([300, 200, 100], started=i) for i in range(4)]
    found = regressions([*before, sampled_run([50, 200, 100], started=9)])
    assert [(g.name, g.direction) for g in found] == [("f0", "faster")]


def test_runs_that_vary_more_than_sampling_widen_the_noise() -> None:
    # f0 swings between 25 % and 40 % from run to run; a last run at 45 % is within that history's habits
    before = [sampled_run([c, 1000 - c], started=i) for i, c in enumerate([250, 400, 260, 390, 300])]
    assert regressions([*before, sampled_run([450, 550], started=9)]) == []


def test_deterministic_runs_use_a_nominal_rate_and_still_catch_a_big_change() -> None:
    same = [sampled_run([300, 200, 100], started=i, deterministic=True) for i in range(3)]
    assert regressions([*same, sampled_run([300, 200, 100], started=9, deterministic=True)]) == []
    (g,) = regressions([*same, sampled_run([300, 200, 400], started=9, deterministic=True)])
    assert (g.name, g.direction) == ("f2", "slower")


def test_trend_and_sparkline() -> None:
    assert trend([1.0]) is None and trend([1.0, 1.0, 1.5]) == pytest.approx(50.0)
    assert sparkline([1.0, 2.0, 3.0]) == "▁▄█" and sparkline([2.0, 2.0]) == "▄▄"
