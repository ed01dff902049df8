"""A 100,000-deep stack is analysed in linear time (issue 11: `NodeTable._refresh_flags` was 4x per doubling).

The recursion flags ("is this the first occurrence of the function / the
caller->callee edge on the path?") are checked against their definition on a
chain whose answer is known, then timed on 100k levels.
"""

# Bounds are on CPU time (time.process_time): quadratic work misses them by minutes, and a
# loaded machine, which stretches wall time, does not move them.

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from pyrometer.core.analysis._nodes import node_table
from pyrometer.core.cli.summary import build_summary
from pyrometer.core.model import Profile

DEPTH = 100_000
CYCLE = 8  # functions f0..f7 repeat down the chain: real recursion


def _chain(depth: int) -> Profile:
    p = Profile()
    p.ensure_thread(0, "MainThread")
    frames = [p.intern_frame(f"f{i}", "deep.py", i + 1) for i in range(CYCLE)]
    leaf = p.intern_stack_path([frames[d % CYCLE] for d in range(depth)])
    p.add_samples(np.array([0.0, 0.01]), np.zeros(2, np.int32), np.array([leaf, leaf], np.int32),
                  weight=np.array([0.01, 0.01], np.float32))
    p.finish()
    return p


def test_recursion_flags_of_a_100k_deep_chain_are_right_and_quick() -> None:
    p = _chain(DEPTH)
    t0 = time.process_time()
    table = node_table(p)
    first = table.first_occurrence()
    edge_first = table.edge_first_occurrence()
    took = time.process_time() - t0
    _, _, depth = table.arrays()
    # node at depth d runs f((d-1) % 8): first seen at depths 1..8; edges (-1,f0), (f0,f1)..(f7,f0) at 1..9
    assert np.array_equal(np.flatnonzero(first & (depth > 0)), np.flatnonzero((depth >= 1) & (depth <= CYCLE)))
    assert np.array_equal(np.flatnonzero(edge_first & (depth > 0)), np.flatnonzero((depth >= 1) & (depth <= CYCLE + 1)))
    assert took < 3.0, took  # quadratic: 64k deep took 33 s


def test_stats_of_a_100k_deep_stack_counts_recursion_once() -> None:
    p = _chain(DEPTH)
    t0 = time.process_time()
    data = build_summary(p, source_path="deep.pyro", top=None)
    took = time.process_time() - t0
    rows = {row["name"]: row for row in data["functions"]}
    assert set(rows) == {f"f{i}" for i in range(CYCLE)}
    for row in rows.values():  # every function is on the stack of both samples: total 100%, once
        assert abs(row["total"] - 0.02) < 1e-6, row
    assert abs(rows[f"f{(DEPTH - 1) % CYCLE}"]["self"] - 0.02) < 1e-6
    assert took < 5.0, took


def test_speedscope_export_of_deep_stacks_is_evented_and_round_trips(tmp_path: Path) -> None:
    """A sampled export lists every frame of every sample: 100k samples climbing a 100k-deep
    stack were 5e9 frames (convert ran out of memory). Past a bound, events are written."""
    from pyrometer.core.formats.registry import export_profile, load_profile

    depth = 60_000
    p = Profile()
    p.ensure_thread(0, "MainThread")
    frames = [p.intern_frame(f"f{i}", "deep.py", i + 1) for i in range(CYCLE)]
    sid = -1
    ids = []
    for d in range(depth):  # every prefix of the chain is a stack: one sample each, up then down
        sid = p.intern_stack(sid, frames[d % CYCLE])
        ids.append(sid)
    order = ids + ids[::-1]
    n = len(order)
    p.add_samples(np.arange(n) * 0.001, np.zeros(n, np.int32), np.asarray(order, np.int32),
                  weight=np.full(n, 0.001, np.float32))
    p.finish()
    out = tmp_path / "deep.speedscope.json"
    t0 = time.process_time()
    export_profile(p, out)
    back = load_profile(out)
    took = time.process_time() - t0
    assert b'"type":"evented"' in out.read_bytes()
    assert out.stat().st_size < 50 << 20
    a = {r["name"]: (round(r["self"], 6), round(r["total"], 6)) for r in build_summary(p, source_path="a", top=None)["functions"]}
    b = {r["name"]: (round(r["self"], 6), round(r["total"], 6)) for r in build_summary(back, source_path="b", top=None)["functions"]}
    assert a == b
    assert took < 10.0, took



def test_collapsed_export_refuses_output_quadratic_in_the_depth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each collapsed line repeats its whole stack: 100k samples climbing a 100k-deep stack
    would be ~14 GB. Past a bound the export is refused in one line, and nothing is written."""
    from pyrometer.core.formats import collapsed
    from pyrometer.core.formats.registry import FormatError, export_profile

    monkeypatch.setattr(collapsed, "MAX_OUTPUT_BYTES", 1 << 20)  # the real bound is 1 GB
    p = Profile()
    p.ensure_thread(0, "MainThread")
    frames = [p.intern_frame(f"f{i}", "deep.py", i + 1) for i in range(CYCLE)]
    sid = -1
    ids = []
    for d in range(3000):
        sid = p.intern_stack(sid, frames[d % CYCLE])
        ids.append(sid)
    p.add_samples(np.arange(3000) * 0.001, np.zeros(3000, np.int32), np.asarray(ids, np.int32),
                  weight=np.full(3000, 0.001, np.float32))
    p.finish()
    out = tmp_path / "deep.collapsed"
    with pytest.raises(FormatError, match=r"would take about .* 3,000 frames deep"):
        export_profile(p, out)
    assert not out.exists()
    small = _chain(50)
    export_profile(small, out)  # an ordinary profile is written as before
    assert out.read_text().count("\n") == 1
