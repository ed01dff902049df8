"""How many samples came late because the sampler waited for the GIL: said in one line, never hidden.

The agent's sampler is a thread: a tick that falls while another thread runs
Python waits for that thread to let the GIL go. A thread that does a few ms of
work and then waits lets it go at the wait, so the late sample lands in the
wait and the work is under-counted (measured: 3 ms bursts shown at 5-25% of
their true time). The agent counts those ticks (``late_ticks``, telemetry);
this module turns them into the sentence `stats` and the Session pane show.

A thread that holds the GIL and lets it go only for moments (an event loop
beside a CPU-bound thread, at each select) starves the sampler outright: each
release restarts its wait for the switch interval, and the holder takes the
GIL back first. On a quiet machine it then ticks ~10 times a second of the 100
asked (py-spy, outside, sees 95), and its few samples land where the GIL is
let go. The ticks are not "late" in the sense above (the wait is forced), so
``starved_text`` says it from the rate the agent reached while threads ran.
"""

from __future__ import annotations

import math
from typing import Any

SHOWN_FROM = 0.05  # below this share of the ticks the bias is within sampling noise: say nothing

EXPLANATION = (
    "short CPU bursts are charged to where threads release the GIL (e.g. a wait);"
    " for the main thread, record with --main-signal"
)


STARVED_BELOW = 0.5  # reached under half the asked rate while threads ran: starved, not backed off when idle
STARVED_MIN_TICKS = 10


def late_share(telemetry: dict[str, Any]) -> float | None:
    """Late ticks / all ticks of the sampler; None when the recording does not say (older agents, imports)."""
    late, ticks = _number(telemetry, "late_ticks"), _number(telemetry, "sampler_ticks")
    if late is None or ticks is None:
        return None
    return min(1.0, max(0.0, late / ticks)) if ticks > 0 else None


def late_samples_text(share: float | None) -> str | None:
    """The one line for people when the share (``late_share``) is significant, else None."""
    if share is None or share < SHOWN_FROM:
        return None
    return f"{share * 100:.0f}% of samples were taken late, waiting for the GIL: {EXPLANATION}"


def _number(telemetry: dict[str, Any], key: str) -> float | None:
    v = telemetry.get(key)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def starved_text(telemetry: dict[str, Any]) -> str | None:
    """One line when the sampler reached under half its rate while threads ran (not an idle back-off), else None."""
    asked, reached = _number(telemetry, "rate_hz"), _number(telemetry, "effective_rate_hz")
    ticks, busy = _number(telemetry, "sampler_ticks"), _number(telemetry, "busy_ticks")
    if asked is None or reached is None or ticks is None or busy is None or asked <= 0:
        return None
    if ticks < STARVED_MIN_TICKS or busy < 0.5 * ticks or reached >= STARVED_BELOW * asked:
        return None
    advice = (
        "the main thread was sampled from a signal (--main-signal), the others were not"
        if telemetry.get("main_signal") is True
        else "for the main thread, record with --main-signal"
    )
    return (
        f"the sampler reached {reached:.0f} Hz of the {asked:.0f} Hz asked while threads ran: it waits for the GIL, and a"
        " thread that holds it and lets it go only for moments (a busy event loop beside a CPU-bound thread) starves it;"
        f" its few samples land where threads let the GIL go, so the busiest code is under-counted; {advice}"
    )
