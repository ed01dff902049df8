"""Diff of two profiles per function and per call path, normalised to each total."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyrometer.core.analysis.diff import diff_functions, diff_paths
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.model import UNIT_SAMPLES, Profile


def build(rows: list[tuple[str, float]], line_shift: int = 0, unit: str = "seconds") -> Profile:
    p = Profile(unit=unit)
    for i, (path, w) in enumerate(rows):
        frames = [p.intern_frame(n, f"/app/{n}.py", 5 + line_shift, firstline=1 + line_shift) for n in path.split(";")]
        p.add_samples(np.array([float(i)]), np.array([0]), np.array([p.intern_stack_path(frames)]), weight=w)
    p.finish()
    return p


def test_diff_functions_normalises_and_sorts() -> None:
    base = build([("main;slow", 6.0), ("main;fast", 2.0), ("main", 2.0)])  # total 10
    # a different run: sample counts, twice as long, def lines moved
    new = build([("main;slow", 4.0), ("main;fast", 8.0), ("main;added", 8.0)], line_shift=3, unit=UNIT_SAMPLES)
    d = diff_functions(base, new)
    assert d.by == "self" and d.base_sum == 10.0 and d.new_sum == 20.0
    rows = {n: i for i, n in enumerate(d.name)}
    assert d.name == ["added", "slow", "fast", "main"]  # equal |delta|: by name
    assert d.base_frac[rows["slow"]] == pytest.approx(0.6) and d.new_frac[rows["slow"]] == pytest.approx(0.2)
    assert d.delta.tolist() == pytest.approx([0.4, -0.4, 0.2, -0.2])
    assert d.base_self[rows["added"]] == 0.0 and d.new_self[rows["added"]] == 8.0
    assert d.file[rows["slow"]] == "/app/slow.py"
    assert d.base_total[rows["main"]] == 10.0 and d.new_total[rows["main"]] == 20.0
    tot = diff_functions(base, new, by="total")
    assert tot.delta[tot.name.index("main")] == 0.0


def test_diff_paths() -> None:
    base = build([("main;a;x", 1.0), ("main;b;x", 3.0)])
    new = build([("main;a;x", 3.0), ("main;b;x", 1.0)])
    d = diff_paths(base, new)
    got = {"/".join(n for n, _ in path): delta for path, delta in zip(d.path, d.delta.tolist(), strict=True)}
    assert got == pytest.approx({"main": 0.0, "main/a": 0.5, "main/a/x": 0.5, "main/b": -0.5, "main/b/x": -0.5})
    assert abs(d.delta[0]) == 0.5 and d.delta[-1] == 0.0
    assert d.name[-1] == "main" and len(d) == 5


def test_diff_with_selections_and_empty() -> None:
    base = build([("a", 1.0), ("b", 1.0)])
    d = diff_functions(base, base, sel_base=Selection(0.0, 1.0), sel_new=Selection(1.0, 2.0))
    assert dict(zip(d.name, d.delta.tolist(), strict=True)) == {"a": -1.0, "b": 1.0}
    assert len(diff_functions(Profile(), Profile())) == 0
    half = diff_functions(Profile(), base)
    assert half.base_frac.tolist() == [0.0, 0.0] and half.new_frac.tolist() == [0.5, 0.5]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from("abcd"), min_size=1, max_size=4).map(";".join), st.integers(1, 5).map(float)), min_size=1, max_size=15))
def test_diff_properties(rows: list[tuple[str, float]]) -> None:
    p = build(rows)
    same = diff_functions(p, build(rows, line_shift=7))
    assert np.all(same.delta == 0.0)
    assert same.base_frac.sum() == pytest.approx(1.0)
    doubled = diff_paths(p, build([(path, 2 * w) for path, w in rows], unit=UNIT_SAMPLES))
    assert np.allclose(doubled.delta, 0.0)
    assert doubled.new_value.sum() == pytest.approx(2 * doubled.base_value.sum())


def node_deltas(base: Profile, new: Profile) -> dict[str, tuple[float, float, bool]]:
    """Each node of `new`'s call tree by its path: (delta, new share, new path?), from diff_tree_paths."""
    from pyrometer.core.analysis.calltree import call_tree
    from pyrometer.core.analysis.diff import diff_tree_paths

    tree = call_tree(new)
    d = diff_tree_paths(base, new, tree)
    out = {}
    for node in range(1, tree.node_count):
        path = "/".join(new.func_name[f] for f in tree.path(node))
        out[path] = (float(d.delta[node]), float(d.new_frac[node]), bool(d.is_new[node]))
    return out


def test_tree_path_deltas_tell_one_function_under_two_callers_apart() -> None:
    """x doubled under a and halved under b: the per-function delta of x is 0, each path's is not."""
    base = build([("main;a;x", 1.0), ("main;b;x", 3.0)])
    new = build([("main;a;x", 3.0), ("main;b;x", 1.0), ("main;c", 4.0)], line_shift=2)  # def lines moved: same functions
    got = node_deltas(base, new)
    assert got["main/a/x"] == pytest.approx((3 / 8 - 1 / 4, 3 / 8, False))
    assert got["main/b/x"] == pytest.approx((1 / 8 - 3 / 4, 1 / 8, False))
    assert got["main/c"] == pytest.approx((0.0, 0.5, True))  # the baseline never ran it: new, no delta
    assert got["main"] == pytest.approx((0.0, 1.0, False))
    fx = diff_functions(base, new, by="total")
    assert fx.delta[fx.name.index("x")] == pytest.approx(4 / 8 - 1.0)  # as a function: one number for both


def test_tree_path_deltas_match_across_a_tracer_and_a_sampler() -> None:
    """A tracer sees built-ins between Python frames, a sampler does not: the Python paths still match."""
    sampled = build([("main;gen", 2.0), ("main;work", 2.0)])
    traced = Profile()
    main = traced.intern_frame("main", "/app/main.py", 5, 1)
    summ = traced.intern_frame("<built-in method builtins.sum>", "~", 0, 0)
    gen = traced.intern_frame("gen", "/app/gen.py", 5, 1)
    work = traced.intern_frame("work", "/app/work.py", 5, 1)
    for i, (frames, w) in enumerate((([main, summ, gen], 3.0), ([main, summ], 1.0), ([main, work], 4.0))):
        traced.add_samples(np.array([float(i)]), np.array([0]), np.array([traced.intern_stack_path(frames)]), weight=w)
    traced.finish()
    got = node_deltas(sampled, traced)
    name = "<built-in method builtins.sum>"
    assert got[f"main/{name}/gen"] == pytest.approx((3 / 8 - 1 / 2, 3 / 8, False))  # main > gen in the sampler's run
    assert got[f"main/{name}"][2] is True  # the built-in box itself: the sampler never saw it
    assert got["main/work"] == pytest.approx((0.0, 0.5, False))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from("abcd"), min_size=1, max_size=4).map(";".join), st.integers(1, 5).map(float)), min_size=1, max_size=15),
       st.lists(st.tuples(st.lists(st.sampled_from("abce"), min_size=1, max_size=4).map(";".join), st.integers(1, 5).map(float)), min_size=1, max_size=15))
def test_tree_path_deltas_agree_with_diff_paths(rows: list[tuple[str, float]], other: list[tuple[str, float]]) -> None:
    """Every node's delta is the delta diff_paths (one row per path, built another way) gives its path."""
    base, new = build(rows), build(other)
    by_path = diff_paths(base, new)
    want = {"/".join(n for n, _ in path): (delta, b, nv) for path, delta, b, nv in
            zip(by_path.path, by_path.delta.tolist(), by_path.base_value.tolist(), by_path.new_value.tolist(), strict=True)}
    for path, (delta, share, is_new) in node_deltas(base, new).items():
        expect, base_value, _ = want[path]
        assert is_new == (base_value == 0.0), path
        if not is_new:
            assert delta == pytest.approx(expect, abs=1e-12), path
        assert share == pytest.approx(by_path.new_frac[list(want).index(path)], abs=1e-12)
