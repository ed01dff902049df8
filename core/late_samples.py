"""How many samples came late because the sampler waited for the GIL: said in one line, never hidden.

The agent's sampler is a thread: a tick that falls while another thread runs
Python waits for that thread to let the GIL go. A thread that does a few ms of
work and then waits lets it go at the wait, so the late sample lands in the
wait and the work is under-counted (measured: 3 ms bursts shown at 5-25% of
their true time). The agent counts those ticks (``late_ticks``, telemetry);
this module turns them into the sentence `stats` and the Session pane show.
"""

from __future__ import annotations

import math
from typing import Any

SHOWN_FROM = 0.05  # below this share of the ticks the bias is within sampling noise: say nothing

EXPLANATION = (
    "short CPU bursts are charged to where threads release the GIL (e.g. a wait);"
    " for the main thread, record with --main-signal"
)


def late_share(telemetry: dict[str, Any]) -> float | None:
    """Late ticks / all ticks of the sampler; None when the recording does not say (older agents, imports)."""
    late, ticks = telemetry.get("late_ticks"), telemetry.get("sampler_ticks")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (late, ticks)):
        return None
    assert isinstance(late, (int, float)) and isinstance(ticks, (int, float))  # for mypy
    return min(1.0, max(0.0, late / ticks)) if ticks > 0 else None


def late_samples_text(share: float | None) -> str | None:
    """The one line for people when the share (``late_share``) is significant, else None."""
    if share is None or share < SHOWN_FROM:
        return None
    return f"{share * 100:.0f}% of samples were taken late, waiting for the GIL: {EXPLANATION}"
