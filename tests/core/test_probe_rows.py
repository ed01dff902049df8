"""Counting and finding lag probes by time from chunks of rows equals a pass over every probe, whatever their order."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pyrometer.core.analysis import probe_rows
from pyrometer.core.analysis.probe_rows import probe_time_ranges
from pyrometer.core.model import Profile


@pytest.mark.parametrize("disorder", [0.0, 0.05, 100.0])
def test_counts_and_rows_equal_a_pass_over_every_probe(monkeypatch: pytest.MonkeyPatch, disorder: float) -> None:
    monkeypatch.setattr(probe_rows, "CHUNK_ROWS", 32)
    rng = np.random.default_rng(3)
    p = Profile()
    n = 1000
    times = np.cumsum(rng.uniform(0.0, 0.01, n)) + rng.uniform(-disorder, disorder, n)
    times[[5, 500]] = np.nan  # no probe time, counted nowhere
    p.add_lag(times[:700], np.zeros(700, np.int32), np.zeros(700, np.float32))
    ranges = probe_time_ranges(p)
    assert ranges.n == 700
    p.add_lag(times[700:], np.zeros(300, np.int32), np.zeros(300, np.float32))  # a live session's new probes
    t = p.lag["time"]
    probes = np.concatenate((t[::7], t[::11] + 1e-5, [-1.0, 1e9]))
    probes = probes[np.isfinite(probes)]
    for t1 in probes:
        assert probe_time_ranges(p).count_before(t, t1) == int(np.count_nonzero(t < t1)), t1
    for a, b in itertools.pairwise(probes):
        lo, hi = min(a, b), max(a, b)
        assert probe_time_ranges(p).rows_between(t, lo, hi).tolist() == np.flatnonzero((t >= lo) & (t < hi)).tolist()
    assert probe_time_ranges(p).n == n


def test_rows_dropped_start_the_chunks_over() -> None:
    p = Profile()
    p.add_lag(np.arange(100.0), np.zeros(100, np.int32), np.zeros(100, np.float32))
    assert probe_time_ranges(p).count_before(p.lag["time"], 50.0) == 50
    p.lag.truncate(10)
    p.generation += 1
    assert probe_time_ranges(p).count_before(p.lag["time"], 50.0) == 10


def test_lag_values_of_a_range_of_probes_out_of_order_equal_sorting_them_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """A range's probes (a selected stall's, under a replay) come from the chunks that can hold them, sorted
    stably by time: what sorting every probe then slicing gave (7.5M probes argsorted at every refresh)."""
    from pyrometer.core.analysis.loop import lag_values
    from pyrometer.core.analysis.selection import Selection, time_slice

    monkeypatch.setattr(probe_rows, "CHUNK_ROWS", 64)
    rng = np.random.default_rng(8)
    p = Profile()
    n = 5000
    times = np.round(np.arange(n) * 0.01 + rng.uniform(-0.05, 0.05, n), 2)  # out of order, with ties
    p.add_lag(times, rng.integers(0, 2, n).astype(np.int32), rng.lognormal(-6, 1, n).astype(np.float32))
    order = np.argsort(p.lag["time"], kind="stable")
    t_all, v_all = p.lag["time"][order], p.lag["lag"][order].astype(np.float64)
    for t0, t1 in ((None, 12.0), (3.0, 3.5), (0.0, 50.0), (49.99, 60.0), (7.77, 7.77), (-5.0, 0.02)):
        sl = time_slice(t_all, t0, t1)
        t, v = lag_values(p, Selection(t0=t0, t1=t1))
        assert t.tolist() == t_all[sl].tolist() and v.tolist() == v_all[sl].tolist(), (t0, t1)
