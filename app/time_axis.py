"""A time axis that reads like a clock once the view spans minutes: "2:00:00", not "7.2 (ks)".

pyqtgraph puts an SI prefix on seconds, which is right for milliseconds and
microseconds but turned a day-long recording's axis into "time (ks)" with ticks
at 10, 20, 30 (and the event loop's lag plot, without the prefix, into
10000, 20000). From CLOCK_FROM_S on this axis labels ticks as m:ss or h:mm:ss
at spacings a person counts in (1, 5, 15, 30 s, 1, 5, 15, 30 min, 1, 2, 6 h...);
below it, it is pyqtgraph's axis as before.
"""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg

CLOCK_FROM_S = 100.0  # the largest visible time from which ticks are clock times
NICE_S = (
    1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
    0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
    172800, 432000, 864000,
)  # tick spacings, seconds (down to microseconds: a stall zoomed into an hour into the session)
TICK_PX = 90  # about one major tick per this many pixels (a "12:34:56" label and air)


def clock_text(seconds: float, spacing: float, hours: bool) -> str:
    """A tick's label: h:mm:ss (or m:ss), with as many decimals as ticks `spacing` apart need (tenths at
    0.1 s, milliseconds at 0.001 s), rounded once (59.96 s at tenths is 1:00.0, never 0:60.0)."""
    places = max(0, min(6, -math.floor(math.log10(spacing) + 1e-9))) if spacing > 0 else 0
    sign = "-" if seconds < 0 else ""
    units = round(abs(seconds) * 10**places)  # the whole label in units of its last digit
    whole, frac = divmod(units, 10**places)
    h, rest = divmod(int(whole), 3600)
    m, sec = divmod(rest, 60)
    tail = f".{frac:0{places}d}" if places else ""
    if hours:
        return f"{sign}{h}:{m:02d}:{sec:02d}{tail}"
    return f"{sign}{h * 60 + m}:{sec:02d}{tail}"


def clock_spacing(span: float, size_px: float) -> tuple[float, float]:
    """(major, minor) spacings: the smallest nice step giving ticks at least TICK_PX apart, and the one below."""
    want = span * TICK_PX / max(size_px, 1.0)
    for i, step in enumerate(NICE_S):
        if step >= want:
            return float(step), float(NICE_S[i - 1]) if i else float(step) / 2
    top = NICE_S[-1] * math.ceil(want / NICE_S[-1])
    return float(top), float(NICE_S[-1])


class TimeAxis(pg.AxisItem):
    """An AxisItem for seconds: pyqtgraph's below CLOCK_FROM_S, clock times from there on."""

    def _clock(self) -> bool:
        """Ticks as clock times: an axis in seconds (units "s": not sample counts) that reaches CLOCK_FROM_S."""
        lo, hi = getattr(self, "range", (0.0, 1.0))  # (pyqtgraph sets a range in its constructor)
        return getattr(self, "labelUnits", "") == "s" and max(abs(lo), abs(hi)) >= CLOCK_FROM_S and not self.logMode

    def _hours(self) -> bool:
        lo, hi = getattr(self, "range", (0.0, 1.0))
        return max(abs(lo), abs(hi)) >= 3600

    def updateAutoSIPrefix(self) -> None:
        if self._clock():  # no "k" prefix: the ticks say hours and minutes themselves
            self.autoSIPrefixScale = 1.0
            self.labelUnitPrefix = ""
            self._updateLabel()
            return
        super().updateAutoSIPrefix()

    def labelString(self) -> str:
        if not self._clock():
            return str(super().labelString())
        style = ";".join(f"{k}: {v}" for k, v in self.labelStyle.items())
        return f"<span style='{style}'>{self.labelText} ({'h:mm:ss' if self._hours() else 'm:ss'})</span>"

    def setRange(self, mn: float, mx: float) -> None:
        was = (self._clock(), self._hours())
        super().setRange(mn, mx)
        if (self._clock(), self._hours()) != was and not self.autoSIPrefix:  # (with the prefix on, pyqtgraph
            self._updateLabel()  # re-labelled already; without it, the label's form changed with the range)

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:
        if not self._clock():
            return list(super().tickSpacing(minVal, maxVal, size))
        major, minor = clock_spacing(maxVal - minVal, size)
        return [(major, 0.0), (minor, 0.0)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[Any]:
        if not self._clock():
            return list(super().tickStrings(values, scale, spacing))
        hours = self._hours()
        return [clock_text(v, spacing, hours) for v in values]
