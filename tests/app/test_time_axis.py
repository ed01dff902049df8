"""Time axes read like a clock from 100 s on ("2:00:00"), not "time (ks)" with ticks 10, 20, 30.

A day-long recording's timeline said "time (ks)" and the event loop's lag plot ticked 10000, 20000:
the seconds a user has to divide by 3600 to find the hour. Below 100 s the axes are pyqtgraph's,
with their SI prefix (ms, µs), as before.
"""

from __future__ import annotations

import pytest

from pyrometer.app.main_window import application
from pyrometer.app.time_axis import NICE_S, TimeAxis, clock_spacing, clock_text


@pytest.fixture
def axis() -> TimeAxis:
    application()
    axis = TimeAxis("bottom")
    axis.setLabel("time", units="s")
    return axis


def _ticks(axis: TimeAxis, lo: float, hi: float, px: float = 1200) -> tuple[float, list[str]]:
    axis.setRange(lo, hi)
    spacing, values = axis.tickValues(lo, hi, px)[0]
    return spacing, axis.tickStrings(list(values), axis.autoSIPrefixScale, spacing)


def test_a_day_reads_in_hours(axis: TimeAxis) -> None:
    spacing, labels = _ticks(axis, 0.0, 75_000.0)
    assert spacing == 7200 and labels[:4] == ["0:00:00", "2:00:00", "4:00:00", "6:00:00"]
    assert "h:mm:ss" in axis.labelString() and "ks" not in axis.labelString()


def test_minutes_read_as_minutes_and_seconds(axis: TimeAxis) -> None:
    spacing, labels = _ticks(axis, 0.0, 150.0)
    assert spacing == 15 and labels[:3] == ["0:00", "0:15", "0:30"] and "m:ss" in axis.labelString()
    _, labels = _ticks(axis, 100.0, 102.0)  # zoomed in late in a session: tenths
    assert labels[0] == "1:40.0"


def test_short_spans_keep_the_si_prefix(axis: TimeAxis) -> None:
    _, labels = _ticks(axis, 0.0, 0.05)
    assert "(ms)" in axis.labelString() and labels[:2] == ["0", "10"]
    _, labels = _ticks(axis, 0.0, 90.0)
    assert "(s)" in axis.labelString()


def test_an_axis_of_sample_counts_is_never_a_clock() -> None:
    application()
    axis = TimeAxis("bottom")
    axis.setLabel("sampled seconds, added up in the file's order")  # no unit: not time
    _ticks(axis, 0.0, 75_000.0)
    assert "h:mm:ss" not in axis.labelString()


@pytest.mark.parametrize(("span", "px"), [(75_000.0, 1300), (3_600.0, 400), (0.5, 1500), (10 * 86400.0, 200)])
def test_ticks_are_a_nice_step_at_least_a_label_apart(span: float, px: float) -> None:
    major, minor = clock_spacing(span, px)
    assert major in NICE_S or major % NICE_S[-1] == 0
    assert major / span * px >= 90 and minor < major


def test_clock_text() -> None:
    assert clock_text(7322.0, 60, hours=True) == "2:02:02"
    assert clock_text(-65.0, 5, hours=False) == "-1:05"
    assert clock_text(59.96, 0.1, hours=False) == "1:00.0"  # rounds once: never 0:60.0


@pytest.mark.parametrize(("lo", "hi"), [(3600.0, 3600.02), (250.0, 250.02), (100.0, 100.5), (7200.0, 7200.0005)])
def test_a_stall_zoomed_into_late_in_a_session_has_ticks_with_distinct_labels(axis: TimeAxis, lo: float, hi: float) -> None:
    """A 20 ms view an hour in had one tick, and ticks 50 ms apart printed the same tenths."""
    axis.setRange(lo, hi)
    for spacing, values in axis.tickValues(lo, hi, 1300):
        labels = axis.tickStrings(list(values), 1.0, spacing)
        assert len(set(labels)) == len(labels), labels
    spacing, major = axis.tickValues(lo, hi, 1300)[0]
    assert len(major) >= 4, (spacing, major)
