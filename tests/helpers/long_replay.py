"""A two-hour recording sampled at 2 Hz that started at 23:30 local time: replay tests step through it."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from pyrometer.core.model import UNIT_SECONDS, Profile

HOURS = 2
RATE_HZ = 2.0  # a sample every 0.5 s: a sampling interval is 0.5 s
START_WALL = datetime(2026, 3, 14, 23, 30, 0).timestamp()  # local 23:30: the recording runs past midnight


def long_profile() -> Profile:
    """One thread sampled at 2 Hz for two hours, alternating two stacks."""
    p = Profile(unit=UNIT_SECONDS, source_format="pyro")
    p.meta.update({"rate_hz": RATE_HZ, "start_wall": START_WALL})
    p.ensure_thread(0, "MainThread")
    work = p.intern_stack_path([p.intern_frame("main", "svc.py", 1, 1), p.intern_frame("work", "svc.py", 5, 4)])
    wait = p.intern_stack_path([p.intern_frame("main", "svc.py", 1, 1), p.intern_frame("wait", "svc.py", 9, 8)])
    n = int(HOURS * 3600 * RATE_HZ)
    times = np.arange(n) / RATE_HZ
    p.add_samples(times, np.zeros(n, np.int32), np.where(np.arange(n) % 2 == 0, work, wait).astype(np.int32), None, 1 / RATE_HZ)
    p.finish()
    return p
