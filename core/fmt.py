"""Number formatting shared by the panes, the CLI and the exporters: durations, amounts in a unit, percentages."""

from __future__ import annotations

import math

from pyrometer.core.model import UNIT_SECONDS


def seconds(value: float | None) -> str:
    """A duration with a unit a human reads at a glance (µs/ms/s/min/h)."""
    if value is None or not math.isfinite(value):
        return "–"
    v = abs(value)
    if v == 0:
        return "0"
    if v < 1e-6:
        return f"{value * 1e9:.0f} ns"
    if v < 1e-5:  # 0.28 µs per call is not "0 µs": two significant digits below 10 µs
        return f"{value * 1e6:.2g} µs"
    if v < 1e-3:
        return f"{value * 1e6:.0f} µs"
    if v < 1:
        return f"{value * 1e3:.1f} ms"
    if v < 120:
        return f"{value:.2f} s"
    sign = "-" if value < 0 else ""
    tenths = round(v * 10)  # rounded once, so 119.96 s is "2 min 00.0 s", never "1 min 60.0 s"
    if tenths < 36000:
        m, tenths = divmod(tenths, 600)
        return f"{sign}{m} min {tenths / 10:04.1f} s"
    # a day-long recording's totals: "1694 min 27.3 s" is read as hours by no one; to the minute, as
    # wide as "4 min 04.5 s" (the tables' columns are sized for that), and the % column says the rest
    h, m = divmod(round(v / 60), 60)
    return f"{sign}{h} h {m:02d} min"


def weight(value: float | None, unit: str, fixed: bool = False) -> str:
    """A self/total amount in the profile's unit (seconds or sample counts): the one formatter for amounts.

    By default for people: seconds with a unit read at a glance (`seconds`),
    counts with thousands separators. `fixed` is for aligned text columns
    headed by the unit (the CLI): plain seconds to the millisecond, "-" when
    unknown. Counts are whole numbers unless the source weighted them (two
    decimals then).
    """
    if value is None or not math.isfinite(value):
        return "-" if fixed else "–"
    if unit == UNIT_SECONDS:
        return f"{value:.3f}" if fixed else seconds(value)
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def percent(fraction: float) -> str:
    if not math.isfinite(fraction):
        return "–"
    return f"{fraction * 100:.1f}%"


def count(n: int | float) -> str:
    if n is None or (isinstance(n, float) and not math.isfinite(n)) or n < 0:
        return "–"
    return f"{int(n):,}"


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """ "1 thread", "3 threads", "1,204 tasks": a count with its noun in the right number."""
    return f"{int(n):,} {noun if int(n) == 1 else (nouns or noun + 's')}"


def clock(t: float | None) -> str:
    """Session-relative time as m:ss.mmm, or h:mm:ss.mmm from an hour on (transport bar, tables).

    Rounded to the millisecond first, so 59.9996 s is "1:00.000", not "0:60.000".
    """
    if t is None or not math.isfinite(t):
        return "–"
    ms = round(max(0.0, t) * 1000)
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    if h:
        return f"{h}:{m:02d}:{ms / 1000:06.3f}"
    return f"{m}:{ms / 1000:06.3f}"


def file_line(file: str, line: int | None) -> str:
    """`file:line`, or just `file` when the line is unknown (0: built-ins, collapsed stacks, Austin)."""
    return f"{file}:{line}" if line and line > 0 else file
