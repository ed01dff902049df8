"""`stats` says when the sampler was starved of the GIL (issue 11: MainThread sampled at a few Hz of 100).

Measured on a quiet machine (`chrt -r 1`, benchmarks/bench_task_heavy_parts.py): an event loop that
gathers tiny tasks beside a CPU-bound thread let the sampler tick 12-17 times a second of the 100 asked,
its ticks classed busy, not late, so nothing was said; the flame graph put 61% of MainThread in
`call_soon`. The telemetry below is that recording's (126 samples, 64 ticks, 58 busy).
"""

from __future__ import annotations

from pyrometer.core.cli.summary import build_summary, render_text
from pyrometer.core.example_profiles import server_profile
from pyrometer.core.late_samples import starved_text

STARVED = {"rate_hz": 100.0, "effective_rate_hz": 10.02, "sampler_ticks": 64, "busy_ticks": 58, "late_ticks": 1,
           "main_signal": False}


def test_a_starved_sampler_is_said_with_its_rate_and_the_way_out() -> None:
    text = starved_text(STARVED)
    assert text is not None
    assert text.startswith("the sampler reached 10 Hz of the 100 Hz asked while threads ran")
    assert text.endswith("for the main thread, record with --main-signal")
    with_signal = starved_text({**STARVED, "main_signal": True})
    assert with_signal is not None and "--main-signal), the others were not" in with_signal


def test_an_idle_back_off_a_full_rate_and_old_recordings_say_nothing() -> None:
    assert starved_text({**STARVED, "busy_ticks": 10}) is None  # threads idle: the sampler backed off on purpose
    assert starved_text({**STARVED, "effective_rate_hz": 51.0}) is None
    assert starved_text({**STARVED, "sampler_ticks": 5, "busy_ticks": 5}) is None  # too short to tell
    assert starved_text({}) is None
    assert starved_text({**STARVED, "effective_rate_hz": float("nan")}) is None


def test_stats_prints_it_once_under_sampling() -> None:
    p = server_profile()
    p.telemetry = dict(STARVED)
    data = build_summary(p)
    assert data["sampler_starved"] == starved_text(STARVED)
    lines = render_text(data).splitlines()
    assert sum(line.startswith("sampling: the sampler reached 10 Hz") for line in lines) == 1
    p.telemetry = {**STARVED, "effective_rate_hz": 99.0}
    assert "the sampler reached" not in render_text(build_summary(p))
