"""lag_values checks the probes' time order once per probe (kept on the profile), and answers as before."""

from __future__ import annotations

import numpy as np

from pyrometer.core.analysis.loop import lag_in_time_order, lag_stats, lag_values
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.model import LoopInfo, Profile


def _probes(p: Profile, t: list[float], loop: int = 0) -> None:
    p.add_lag(np.asarray(t), np.full(len(t), loop, np.int32), np.asarray([0.001 * (1 + i % 7) for i in range(len(t))], np.float32))


def _by_hand(p: Profile, sel: Selection | None, loop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The answer computed from scratch: every probe sorted by time, then filtered."""
    order = np.argsort(p.lag["time"], kind="stable")
    t, v, lp = p.lag["time"][order], p.lag["lag"][order].astype(np.float64), p.lag["loop"][order]
    keep = np.ones(len(t), bool)
    if sel is not None and sel.t0 is not None:
        keep &= t >= sel.t0
    if sel is not None and sel.t1 is not None:
        keep &= t < sel.t1
    if loop is not None:
        keep &= lp == loop
    if sel is not None and sel.threads is not None:
        keep &= np.isin(lp, [lid for lid, info in p.loops.items() if info.thread in sel.threads])
    return t[keep], v[keep]


def test_order_is_followed_as_probes_arrive_and_answers_stay_exact() -> None:
    p = Profile()
    p.loops[0] = LoopInfo(0, 1, "loop")
    p.loops[1] = LoopInfo(1, 2, "loop")
    _probes(p, [0.1 * i for i in range(100)])
    assert lag_in_time_order(p)
    _probes(p, [10.0 + 0.1 * i for i in range(50)], loop=1)  # still in order
    assert lag_in_time_order(p)
    _probes(p, [5.05, 5.15])  # late: out of order from here on
    assert not lag_in_time_order(p)
    _probes(p, [20.0])
    assert not lag_in_time_order(p)  # stays out of order
    for sel, loop in [(None, None), (Selection(2.0, 12.0), None), (Selection(None, 7.5), 0),
                      (Selection(1.0, None, frozenset({2})), None), (Selection(t1=30.0), None)]:
        got_t, got_v = lag_values(p, sel, loop)
        want_t, want_v = _by_hand(p, sel, loop)
        assert np.array_equal(got_t, want_t) and np.array_equal(got_v, want_v), (sel, loop)
    stats = lag_stats(p, Selection(2.0, 12.0))
    assert stats.probes == len(_by_hand(p, Selection(2.0, 12.0))[0])


def test_rows_added_by_hand_without_a_new_generation_are_checked_too() -> None:
    p = Profile()
    _probes(p, [1.0, 2.0, 3.0])
    assert lag_in_time_order(p)
    p.lag.extend(time=np.asarray([0.5]), loop=np.zeros(1, np.int32), lag=np.asarray([0.002], np.float32))
    assert not lag_in_time_order(p)
    assert np.array_equal(lag_values(p)[0], [0.5, 1.0, 2.0, 3.0])
    p.lag.truncate(3)  # the late probe dropped: a cut, every probe checked again
    assert lag_in_time_order(p)
