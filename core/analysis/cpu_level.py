"""How much of a stretch of time a thread spent on CPU, in the three levels the timeline draws.

A thread that shares the GIL (or a core) with another one runs for part of
each sampling interval: drawn with two states cut at one half, such a thread
running 45% of the time looked idle. So a sample's on-CPU share (its CPU time
over its span) is one of three levels: on CPU, partly on CPU, or waiting.
Unknown CPU (formats without it) counts as on CPU, as it always did.
"""

from __future__ import annotations

import numpy as np

WAITING_LEVEL, PARTLY_LEVEL, ON_LEVEL = 0, 1, 2
ON_SHARE = 0.75  # at least this share of the span on CPU: on CPU
PARTLY_SHARE = 0.15  # at least this share (and under ON_SHARE): partly on CPU; less: waiting
LEVEL_NAME = {
    ON_LEVEL: "on CPU",
    PARTLY_LEVEL: "partly on CPU",
    WAITING_LEVEL: "waiting (off CPU)",
}


def cpu_levels(cpu: np.ndarray, span: np.ndarray) -> np.ndarray:
    """Each sample's level (int8) from its CPU time and span; negative CPU = unknown = on CPU."""
    return share_levels(cpu_shares(cpu, span))


def cpu_level(cpu: float, span: float) -> int:
    """One sample's level (the same rule as `cpu_levels`, for plain floats)."""
    if cpu < 0:
        return ON_LEVEL
    share = cpu / max(span, 1e-12)
    return ON_LEVEL if share >= ON_SHARE else PARTLY_LEVEL if share >= PARTLY_SHARE else WAITING_LEVEL


def cpu_shares(cpu: np.ndarray, span: np.ndarray) -> np.ndarray:
    """Each sample's on-CPU share in [0, 1] (unknown CPU = 1), what a column of several samples averages."""
    share = np.clip(np.asarray(cpu, np.float64) / np.maximum(np.asarray(span, np.float64), 1e-12), 0.0, 1.0)
    return np.where(np.asarray(cpu) < 0, 1.0, share)


def share_levels(share: np.ndarray) -> np.ndarray:
    """Levels of mean shares (a column of samples), by the same thresholds."""
    return np.where(share >= ON_SHARE, ON_LEVEL, np.where(share >= PARTLY_SHARE, PARTLY_LEVEL, WAITING_LEVEL)).astype(np.int8)
