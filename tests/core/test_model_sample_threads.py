"""Profile.note_sample_threads: every thread a sample names is known, and rows seen once are not scanned again.

A live session notes each batch's threads as it arrives, so the finish() at its
end does not pass over a day's 30M rows on the GUI thread (issue 15).
"""

from __future__ import annotations

import numpy as np
import pytest

from pyrometer.core import model as model_module
from pyrometer.core.columns import ColumnTable
from pyrometer.core.model import SAMPLE_DTYPES, Profile


def _add(p: Profile, t0: float, threads: list[int]) -> None:
    n = len(threads)
    if not len(p.stacks):
        p.intern_stack_path([p.intern_frame("f", "f.py", 1)])
    p.add_samples(np.arange(n) * 0.01 + t0, np.asarray(threads, np.int32), np.zeros(n, np.int32))


def test_threads_of_new_rows_only(monkeypatch: pytest.MonkeyPatch) -> None:
    p = Profile()
    _add(p, 0.0, [1, 1, 2])
    p.note_sample_threads()
    assert sorted(p.threads) == [1, 2]
    scanned: list[int] = []
    bincount = np.bincount
    monkeypatch.setattr(model_module.np, "bincount", lambda x, *a, **k: (scanned.append(len(x)), bincount(x, *a, **k))[1])
    _add(p, 1.0, [7, 2])
    p.finish()  # the end of a live session: only the two new rows are looked at
    assert sorted(p.threads) == [1, 2, 7] and scanned == [2]
    scanned.clear()
    p.finish()
    assert scanned == []


def test_a_replaced_or_cut_table_is_scanned_again() -> None:
    p = Profile()
    _add(p, 0.0, [1, 2, 3])
    p.note_sample_threads()
    other = ColumnTable(SAMPLE_DTYPES)
    other.extend(time=np.array([0.5]), thread=np.array([9], np.int32), stack=np.array([0], np.int32),
                 task=np.array([-1], np.int32), weight=np.array([0.01], np.float32), cpu=np.array([-1.0], np.float32))
    p.set_samples(other, True)
    p.finish()
    assert 9 in p.threads
    q = Profile()
    _add(q, 0.0, [1, 1, 1, 1])
    q.note_sample_threads()
    q.samples.truncate(1)
    _add(q, 1.0, [4])
    q.finish()
    assert 4 in q.threads


def test_duration_follows_growth_cuts_and_new_stalls() -> None:
    """duration() keeps running maxima (a day's 30M rows were passed over at each of a refresh's calls);
    they must stay what a full pass gives, whatever happens to the rows."""
    from pyrometer.core.model import BlockingEvent

    def full(p: Profile) -> float:
        t, w = p.samples["time"], p.samples["weight"]
        ends = [0.0, float(t.max()), float((t + w).max())] if len(t) else [0.0]
        ends += [b.start + b.duration for b in p.blocking]
        return max(ends)

    p = Profile()
    _add(p, 0.0, [1, 1, 2])
    assert p.duration() == full(p)
    _add(p, 5.0, [1])
    assert p.duration() == full(p) == pytest.approx(5.0 + 1.0)  # add_samples' default weight: 1 s
    p.blocking.append(BlockingEvent(start=9.0, duration=0.5, loop=0, thread=1, stack=0))
    assert p.duration() == full(p) == 9.5
    p.samples.truncate(2)  # cut, then grown back past the rows seen before with smaller times
    p.blocking = [p.blocking[0]]
    _add(p, 0.1, [3, 3, 3])
    assert p.duration() == full(p)
    p.blocking = []
    assert p.duration() == full(p) < 9.5
