"""blocking_events under a playhead bisects the profile's stalls sorted once (a replay asked for a pass over every
stall and a sort at each frame), and lists what the full filter and sort lists, as stalls arrive."""

from __future__ import annotations

import numpy as np

from pyrometer.core.analysis.loop import blocking_events
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.model import BlockingEvent, Profile


def _full(profile: Profile, sel: Selection) -> list[BlockingEvent]:
    out = [
        b
        for b in profile.blocking
        if (sel.t0 is None or b.start + b.duration > sel.t0 or b.start >= sel.t0)
        and (sel.t1 is None or b.start < sel.t1)
        and (sel.threads is None or b.thread in sel.threads)
    ]
    return sorted(out, key=lambda b: b.start)


def _stall(rng: np.random.Generator, start: float) -> BlockingEvent:
    return BlockingEvent(start=start, duration=float(rng.uniform(0.01, 2.0)), loop=0, thread=int(rng.integers(1, 3)), stack=-1)


def test_a_playhead_lists_the_stalls_before_it_as_the_full_filter_does() -> None:
    rng = np.random.default_rng(2)
    p = Profile()
    starts = np.round(rng.uniform(0.0, 100.0, 300), 1)  # ties in start (kept in arrival order)
    p.blocking.extend(_stall(rng, float(s)) for s in starts)
    sels = [Selection(t1=float(t)) for t in (-1.0, 0.0, *starts[:40], 50.05, 100.0, 200.0)]
    sels += [Selection(), Selection(t0=30.0, t1=60.0), Selection(t0=30.0), Selection(t1=70.0, threads=frozenset({1}))]
    for step in range(3):
        for sel in sels:
            got, want = blocking_events(p, sel), _full(p, sel)
            assert len(got) == len(want) and all(a is b for a, b in zip(got, want, strict=True)), (step, sel)
        if step == 0:  # a live session appends later stalls, without a new generation (a profile built by hand)
            p.blocking.extend(_stall(rng, 100.0 + i) for i in range(5))
        else:  # ... and one that started before the last one
            p.blocking.append(_stall(rng, 12.34))
            p.generation += 1
    p.set_blocking(p.blocking[::-1])
    got, want = blocking_events(p, Selection(t1=42.0)), _full(p, Selection(t1=42.0))
    assert all(a is b for a, b in zip(got, want, strict=True)) and len(got) == len(want)
