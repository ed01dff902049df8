"""What "Go to time" reads: session time in any common spelling, a share, a step from the playhead, a clock time."""

from __future__ import annotations

from datetime import datetime

import pytest

from pyrometer.core.time_text import parse_time

DAY = 21 * 3600.0
START = datetime(2026, 12, 3, 22, 30, 0).timestamp()  # local 22:30; the recording runs into the next day


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90.0), (" 90.5 ", 90.5), (".5", 0.5), ("90 s", 90.0), ("5 min", 300.0), ("1h30m", 5400.0),
        ("2 min 5 s", 125.0), ("250ms", 0.25), ("1:30", 90.0), ("90:00", 5400.0), ("1:02:03.5", 3723.5),
        ("7:42:30.004", 27750.004), ("50%", DAY / 2), ("+10s", 110.0), ("-1 min", 40.0),
        ("-5h", 0.0), ("+30h", DAY),  # a step from the playhead stops at the ends, as a video player's
        ("@23:00", 1800.0), ("@01:15:30", 9930.0), ("@22:30", 0.0),
    ],
)  # fmt: skip
def test_reads(text: str, seconds: float) -> None:
    assert parse_time(text, now=100.0, duration=DAY, start_wall=START) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "type a time"), ("abc", "is not a time"), ("5 x", "is not a time"), ("1:75", "up to 59"),
        ("@25:00", "not a clock time"), ("22h", "after the end"), ("x%", "not a percentage"),
    ],
)  # fmt: skip
def test_says_why_it_cannot(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_time(text, now=100.0, duration=DAY, start_wall=START)


def test_a_clock_time_needs_the_start() -> None:
    with pytest.raises(ValueError, match="does not say when it started"):
        parse_time("@14:00", now=0.0, duration=DAY, start_wall=None)
