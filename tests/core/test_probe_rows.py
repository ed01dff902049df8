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
