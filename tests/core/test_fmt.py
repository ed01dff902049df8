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
