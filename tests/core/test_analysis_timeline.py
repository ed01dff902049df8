"""Stack-chart spans, thread activity, loop lag, blocking events and the task tree."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyrometer.core.analysis.loop import (
    LAG_EDGES,
    blocking_events,
    innermost_frame,
    lag_stats,
    stack_labels,
)
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.analysis.spans import stack_chart, thread_activity
from pyrometer.core.analysis.tasks import task_roots, task_tree
from pyrometer.core.model import UNIT_SAMPLES, BlockingEvent, LoopInfo, Profile, TaskInfo


def stack(p: Profile, path: str) -> int:
    return p.intern_stack_path([p.intern_frame(n, f"/app/{n}.py", 10 + i, firstline=1) for i, n in enumerate(path.split(";"))])


def spans_of(p: Profile, thread: int, sel: Selection | None = None) -> list[tuple[float, float, int, str]]:
    s = stack_chart(p, thread, sel)
    return [(a, b, d, p.func_name[f]) for a, b, d, f in zip(s.start.tolist(), s.end.tolist(), s.depth.tolist(), s.func.tolist(), strict=True)]


def test_stack_chart_joins_consecutive_samples() -> None:
    p = Profile()
    paths = ["main;a;b", "main;a;c", "main;a", "main;d", "main;a"]
    sids = [stack(p, s) for s in paths]
    p.add_samples(np.arange(5.0), np.zeros(5), np.array(sids), weight=1.0)
    p.add_samples(np.array([2.5]), np.array([1]), np.array([stack(p, "other")]), weight=0.5)
    p.finish()
    assert spans_of(p, 0) == [
        (0.0, 5.0, 0, "main"),
        (0.0, 3.0, 1, "a"),
        (0.0, 1.0, 2, "b"),
        (1.0, 2.0, 2, "c"),
        (3.0, 4.0, 1, "d"),
        (4.0, 5.0, 1, "a"),
    ]
    assert spans_of(p, 1) == [(2.5, 3.0, 0, "other")]
    assert spans_of(p, 0, Selection(1.0, 3.0)) == [(1.0, 3.0, 0, "main"), (1.0, 3.0, 1, "a"), (1.0, 2.0, 2, "c")]
    assert len(stack_chart(p, 5)) == 0


def test_stack_chart_sample_counts_last_until_next_sample() -> None:
    p = Profile(unit=UNIT_SAMPLES)
    sids = [stack(p, s) for s in ["f", "f;g", "h"]]
    p.add_samples(np.array([0.0, 0.5, 2.0]), np.zeros(3), np.array(sids), weight=1.0)
    p.finish()
    # the last sample lasts the median interval (1.0 s)
    assert spans_of(p, 0) == [(0.0, 2.0, 0, "f"), (0.5, 2.0, 1, "g"), (2.0, 3.0, 0, "h")]


def test_thread_activity() -> None:
    p = Profile()
    s = stack(p, "f")
    p.add_samples(np.arange(4.0) * 0.01, np.zeros(4), np.full(4, s), weight=0.01, cpu=np.array([0.01, 0.001, -1.0, 0.005]))
    p.finish()
    t, on = thread_activity(p, 0)
    assert t.tolist() == pytest.approx([0.0, 0.01, 0.02, 0.03])
    assert on.tolist() == [True, False, True, True]
    t, on = thread_activity(p, 0, Selection(0.015, None))
    assert on.tolist() == [True, True]


def test_lag_stats_and_histogram() -> None:
    p = Profile()
    p.loops[0] = LoopInfo(0, thread=0)
    p.loops[1] = LoopInfo(1, thread=9)
    lags = np.array([0.001] * 90 + [0.02] * 9 + [0.3], np.float32)
    p.add_lag(np.arange(100.0) * 0.1, np.zeros(100, np.int32), lags)
    p.add_lag(np.array([20.0]), np.array([1], np.int32), np.array([5.0], np.float32))
    st = lag_stats(p, loop=0)
    assert st.probes == 100
    assert st.p50 == pytest.approx(0.001)
    assert st.p95 == pytest.approx(0.02)
    assert st.max == pytest.approx(0.3)
    assert st.p99 == pytest.approx(0.02 + 0.01 * (0.3 - 0.02), rel=1e-5)  # linear between ranks 98 and 99
    assert len(st.hist_edges) == len(st.hist_counts) + 1 and st.hist_counts.sum() == 100
    assert st.hist_counts[np.searchsorted(LAG_EDGES, 0.001, side="right") - 1] == 90
    assert lag_stats(p).probes == 101 and lag_stats(p).max == pytest.approx(5.0)
    assert np.isfinite(st.hist_edges).all() and st.hist_edges[-1] == 20.0
    huge = Profile()
    huge.add_lag(np.array([0.0, 1.0]), np.zeros(2, np.int32), np.array([0.001, 30.0], np.float32))
    assert lag_stats(huge).hist_counts[-1] == 1 and lag_stats(huge).hist_edges[-1] == pytest.approx(30.0)
    assert lag_stats(p, Selection(threads=frozenset({9}))).probes == 1
    assert lag_stats(p, Selection(0.0, 1.0)).probes == 10
    empty = lag_stats(Profile())
    assert empty.probes == 0 and empty.p99 == 0.0 and empty.hist_counts.sum() == 0


def test_blocking_events_and_stack_labels() -> None:
    p = Profile()
    s = stack(p, "main;handler;sleep")
    p.blocking = [
        BlockingEvent(start=5.0, duration=0.2, loop=0, thread=0, stack=s),
        BlockingEvent(start=1.0, duration=0.1, loop=0, thread=1, stack=-1),
    ]
    assert [b.start for b in blocking_events(p)] == [1.0, 5.0]
    assert [b.start for b in blocking_events(p, Selection(2.0, 6.0))] == [5.0]
    assert [b.start for b in blocking_events(p, Selection(threads=frozenset({1})))] == [1.0]
    assert blocking_events(p, Selection(1.0, 5.0))[-1].start == 1.0
    fr = innermost_frame(p, s)
    assert p.func_name[p.frame_func(fr)] == "sleep"
    assert innermost_frame(p, -1) == -1
    assert stack_labels(p, s) == ["sleep (/app/sleep.py:12)", "handler (/app/handler.py:11)", "main (/app/main.py:10)"]
    assert stack_labels(p, -1) == []


def test_task_tree_as_of_t() -> None:
    p = Profile()
    p.tasks[1] = TaskInfo(1, None, "main", "main()", created=0.0, ended=10.0, state="done")
    p.tasks[2] = TaskInfo(2, 1, "worker-1", "work()", created=1.0, ended=4.0, state="cancelled")
    p.tasks[3] = TaskInfo(3, 1, "worker-2", "work()", created=2.0, ended=None, state="pending")
    p.tasks[4] = TaskInfo(4, 3, "child", "sub()", created=6.0, ended=7.0, state="failed", exc="ValueError")
    s1, s2 = stack(p, "work;sleep"), stack(p, "work;read")
    p.add_awaits(1.5, np.array([2], np.int32), np.array([s1], np.int32))
    p.add_awaits(3.0, np.array([2, 3], np.int32), np.array([s2, s1], np.int32))
    tree = task_tree(p, 3.5)
    assert sorted(tree) == [1, 2, 3]
    assert tree[1].children == [2, 3] and tree[1].state == "pending"
    assert tree[2].await_stack == s2 and tree[2].state == "pending" and tree[2].ended is None
    assert tree[3].await_stack == s1
    assert task_tree(p, 2.0)[2].await_stack == s1
    assert task_tree(p, 1.2)[2].await_stack == -1
    later = task_tree(p, 8.0)
    assert later[2].state == "cancelled" and later[4].state == "failed" and later[4].exc == "ValueError"
    assert later[3].children == [4]
    final = task_tree(p)
    assert final[1].state == "done" and final[3].state == "pending" and len(final) == 4
    assert task_roots(p, 3.5) == [1]
    assert task_roots(p, 0.5) == [1]
    assert task_tree(p, -1.0) == {}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.lists(st.sampled_from("abc"), max_size=5), st.sampled_from([0.5, 1.0, 2.0]), st.integers(0, 1)),
        min_size=1,
        max_size=30,
    )
)
def test_stack_chart_matches_a_naive_scan(rows: list[tuple[list[str], float, int]]) -> None:
    p = Profile()
    t = 0.0
    times = []
    for path, w, thread in rows:
        sid = stack(p, ";".join(path)) if path else -1
        p.add_samples(np.array([t]), np.array([thread]), np.array([sid]), weight=w)
        times.append(t)
        t += 1.0
    p.finish()
    for thread in (0, 1):
        expected: list[tuple[float, float, int, str]] = []
        open_spans: list[list] = []  # per depth: [start, end, name]
        for time_, (path, w, th) in zip(times, rows, strict=True):
            if th != thread:
                continue
            k = 0
            while k < min(len(path), len(open_spans)) and open_spans[k][2] == path[k]:
                k += 1
            expected.extend((sp[0], sp[1], d, sp[2]) for d, sp in enumerate(open_spans) if d >= k)
            open_spans = open_spans[:k]
            for sp in open_spans:
                sp[1] = max(sp[1], time_ + w)
            open_spans.extend([time_, time_ + w, name] for name in path[k:])
        expected.extend((sp[0], sp[1], d, sp[2]) for d, sp in enumerate(open_spans))
        assert spans_of(p, thread) == sorted(expected, key=lambda s: (s[0], s[2]))
