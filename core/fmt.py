"""Number formatting shared by the panes, the CLI and the exporters: durations, amounts in a unit, percentages."""

from __future__ import annotations

import math

from pyrometer.core.model import UNIT_SECONDS


def seconds(value: float | None) -> str:
    """A duration with a unit a human reads at a glance (µs/ms/s/min)."""
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
    return f"{int(value // 60)} min {value % 60:04.1f} s"


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
    """Session-relative time as m:ss.mmm (transport bar, tables)."""
    if t is None or not math.isfinite(t):
        return "–"
    m, s = divmod(max(0.0, t), 60)
    return f"{int(m)}:{s:06.3f}"


def file_line(file: str, line: int | None) -> str:
    """`file:line`, or just `file` when the line is unknown (0: built-ins, collapsed stacks, Austin)."""
    return f"{file}:{line}" if line and line > 0 else file
