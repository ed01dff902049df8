"""The one formatter for amounts: the panes, the CLI, the HTML report and the SVG flame graph all print through it."""

from __future__ import annotations

import math

import pytest

from pyrometer.core import fmt
from pyrometer.core.model import UNIT_SAMPLES, UNIT_SECONDS


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0, "0"), (2.5e-5, "25 µs"), (2.8e-7, "280 ns"), (2.8e-6, "2.8 µs"), (1e-6, "1 µs"), (0.6, "600.0 ms"), (1.234, "1.23 s"), (125.0, "2 min 05.0 s"), (math.nan, "–"), (None, "–")],
)
def test_seconds_for_people(value: float | None, text: str) -> None:
    assert fmt.weight(value, UNIT_SECONDS) == text


@pytest.mark.parametrize(("value", "text"), [(0.6, "0.600"), (12.19, "12.190"), (None, "-"), (math.inf, "-")])
def test_seconds_in_fixed_columns(value: float | None, text: str) -> None:
    assert fmt.weight(value, UNIT_SECONDS, fixed=True) == text


@pytest.mark.parametrize("fixed", [False, True])
def test_counts_are_whole_unless_weighted(fixed: bool) -> None:
    assert fmt.weight(1234.0, UNIT_SAMPLES, fixed) == "1,234"
    assert fmt.weight(1234.5, UNIT_SAMPLES, fixed) == "1,234.50"


def test_clock_percent_count() -> None:
    assert fmt.clock(75.5) == "1:15.500" and fmt.clock(None) == "–"
    assert fmt.percent(0.4614) == "46.1%" and fmt.count(1234567) == "1,234,567" and fmt.count(-1) == "–"


def test_file_line_leaves_out_an_unknown_line() -> None:
    assert fmt.file_line("t.py", 12) == "t.py:12"
    assert fmt.file_line("t.py", 0) == "t.py" and fmt.file_line("~", None) == "~"


@pytest.mark.parametrize(
    ("t", "text"),
    [(27750.004, "7:42:30.004"), (75000.01, "20:50:00.010"), (3599.9996, "1:00:00.000"), (59.9996, "1:00.000"), (3599.0, "59:59.000")],
)
def test_clock_of_a_day_long_recording_counts_hours(t: float, text: str) -> None:
    """A 21 h replay said "1250:00.010": minutes past sixty, and 59.9996 s was "0:60.000"."""
    assert fmt.clock(t) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(15528.9, "4 h 19 min"), (101667.3, "28 h 14 min"), (119.96, "119.96 s"), (3599.97, "1 h 00 min"), (-125.0, "-2 min 05.0 s"), (-4000.0, "-1 h 07 min")],
)
def test_seconds_of_a_day_long_recording_count_hours(value: float, text: str) -> None:
    """Totals of a 21 h recording read "1694 min 27.3 s"; a negative change read "-3 min 55.0 s" for -125 s."""
    assert fmt.seconds(value) == text
    assert len(text) <= len(fmt.seconds(244.5)) + 1  # fits where "4 min 04.5 s" does (the tables' columns)
