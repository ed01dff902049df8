"""A time a user types to jump a replay to: session time, a share of it, a step from here, or a clock time.

Pure parsing (no Qt), so "Go to time" in the window and its tests agree on what
`1:02:03.5`, `90 s`, `1h30m`, `50%`, `+10s` and `@14:05` mean.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from pyrometer.core import fmt

UNITS = {
    "ms": 0.001, "msec": 0.001,
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "m": 60.0, "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
}  # fmt: skip
_NUMBER = r"\d+(?:\.\d*)?|\.\d+"
_AMOUNT = re.compile(rf"\s*({_NUMBER})\s*([a-z]*)\s*")
_CLOCK = re.compile(rf"^(?:(\d+):)?(\d+):({_NUMBER})$|^({_NUMBER})$")
HELP = (
    "Time into the session: 1:02:03.5, 90, 90 s, 5 min, 1h30m, 50%\n"
    "From the playhead: +10s, -1 min\n"
    "Clock time of day: @14:05 or @14:05:30"
)


def _span(text: str) -> float:
    """`1:02:03.5`, `90`, `90 s`, `1h30m`, `2 min 5 s` -> seconds."""
    m = _CLOCK.match(text)
    if m:
        if m.group(4) is not None:
            return float(m.group(4))
        h, mins, secs = int(m.group(1) or 0), int(m.group(2)), float(m.group(3))
        if (mins >= 60 and m.group(1) is not None) or secs >= 60:
            raise ValueError(f"{text!r}: minutes and seconds go up to 59")
        return h * 3600 + mins * 60 + secs
    total, at = 0.0, 0
    while at < len(text):
        part = _AMOUNT.match(text, at)
        if part is None or part.end() == at or part.group(2) not in UNITS:
            raise ValueError(f"{text!r} is not a time")
        total += float(part.group(1)) * UNITS[part.group(2)]
        at = part.end()
    return total


def _clock_of_day(text: str, start_wall: float | None) -> float:
    """`14:05[:30[.5]]` local time -> seconds into a recording that started at `start_wall` (the first such moment)."""
    if start_wall is None:
        raise ValueError("this recording does not say when it started: give a time into the session")
    m = re.fullmatch(rf"(\d+):(\d+)(?::({_NUMBER}))?", text)
    if m is None:
        raise ValueError(f"{text!r} is not a clock time (HH:MM or HH:MM:SS)")
    hour, minute, second = int(m.group(1)), int(m.group(2)), float(m.group(3) or 0)
    if hour > 23 or minute > 59 or second >= 60:
        raise ValueError(f"{text!r} is not a clock time (HH:MM or HH:MM:SS)")
    start = datetime.fromtimestamp(start_wall)
    when = start.replace(hour=hour, minute=minute, second=0, microsecond=0) + timedelta(seconds=second)
    if when < start:  # earlier in the day than the start: the next day's (a recording over midnight)
        when += timedelta(days=1)
    return (when - start).total_seconds()


def parse_time(text: str, *, now: float, duration: float, start_wall: float | None = None) -> float:
    """Seconds into the session that `text` names; ValueError with a message for the user when it names none.

    `now` is the playhead (for `+10s`), `duration` the session's length (for `50%`
    and the bounds), `start_wall` the recording's start in epoch seconds (for `@14:05`).
    """
    s = text.strip().lower()
    if not s:
        raise ValueError("type a time")
    if s.startswith("@"):
        t = _clock_of_day(s[1:].strip(), start_wall)
    elif s.endswith("%"):
        try:
            share = float(s[:-1].strip())
        except ValueError:
            raise ValueError(f"{text.strip()!r} is not a percentage") from None
        t = duration * share / 100.0
    elif s[0] in "+-":  # a step from the playhead stops at either end, as a video player's does
        t = min(max(now + (1.0 if s[0] == "+" else -1.0) * _span(s[1:].strip()), 0.0), duration)
    else:
        t = _span(s)
    if t < 0:
        raise ValueError(f"{text.strip()!r} is before the start of the session")
    if t > duration + 1e-9:
        raise ValueError(f"{text.strip()!r} is after the end of the session ({fmt.clock(duration)})")
    return t
