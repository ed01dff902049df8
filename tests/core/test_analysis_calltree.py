"""Call tree, inverted tree, flame layout and function table on hand-built profiles."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyrometer.core.analysis.calltree import call_tree, inverted_tree, tree_text
from pyrometer.core.analysis.flame import flame_layout
from pyrometer.core.analysis.functions import FunctionTable, function_table
from pyrometer.core.analysis.selection import Selection, sample_indices
from pyrometer.core.model import UNIT_SAMPLES, FuncStats, Profile


def frame(p: Profile, spec: str) -> int:
    """`name` or `name:line` in file `<name>.py` (firstline 1)."""
    name, _, line = spec.partition(":")
    return p.intern_frame(name, f"{name}.py", int(line or 1), firstline=1)


def build(rows: list[tuple[float, str, float]], thread: int = 0, profile: Profile | None = None) -> Profile:
    """rows: (time, "a;b:3;c" root first, weight)."""
    p = profile if profile is not None else Profile()
    for t, path, w in rows:
        sid = p.intern_stack_path([frame(p, s) for s in path.split(";")]) if path else -1
        p.add_samples(np.array([t]), np.array([thread]), np.array([sid]), weight=w)
    p.finish()
    return p


def simple() -> Profile:
    return build(
        [
            (0.0, "main;work;compute", 3.0),
            (3.0, "main;work:2;io", 1.0),
            (4.0, "main;work", 2.0),
            (6.0, "main;helper;compute", 1.0),
            (7.0, "main", 0.5),
        ]
    )


def test_tree_text_merges_lines_of_one_function() -> None:
    p = simple()
    tree = call_tree(p)
    assert tree.total == 7.5
    assert tree_text(tree, p) == "\n".join(
        [
            "main: total=7.5 self=0.5",
            "  work: total=6 self=2",
            "    compute: total=3 self=3",
            "    io: total=1 self=1",
            "  helper: total=1 self=0",
            "    compute: total=1 self=1",
        ]
    )
    assert tree.node_count == 7
    assert tree.parent[0] == -1 and tree.func[0] == -1 and tree.depth[0] == 0
    assert int(tree.count[0]) == 5
    work = tree.find([p.func_name.index("main"), p.func_name.index("work")])
    assert tree.path(work) == [p.func_name.index("main"), p.func_name.index("work")]
    assert int(tree.count[work]) == 3 and int(tree.self_count[work]) == 1
    kids = tree.children(work)
    assert [p.func_name[int(tree.func[k])] for k in kids] == ["compute", "io"]
    assert tree_text(tree, p, min_fraction=0.5) == "main: total=7.5 self=0.5\n  work: total=6 self=2"


def test_inverted_tree() -> None:
    p = simple()
    inv = inverted_tree(p)
    assert inv.inverted and inv.total == 7.5
    assert tree_text(inv, p) == "\n".join(
        [
            "compute: total=4 self=4",
            "  work: total=3 self=0",
            "    main: total=3 self=0",
            "  helper: total=1 self=0",
            "    main: total=1 self=0",
            "work: total=2 self=2",
            "  main: total=2 self=0",
            "io: total=1 self=1",
            "  work: total=1 self=0",
            "    main: total=1 self=0",
            "main: total=0.5 self=0.5",
        ]
    )


def test_empty_stack_samples_count_at_root() -> None:
    p = build([(0.0, "a", 1.0), (1.0, "", 2.0)])
    tree = call_tree(p)
    assert tree.total == 3.0 and tree.self_weight[0] == 2.0
    assert tree_text(tree, p) == "a: total=1 self=1"
    inv = inverted_tree(p)
    assert inv.total == 3.0 and inv.self_weight[0] == 2.0 and int(inv.self_count[0]) == 1


def test_selection_range_and_threads() -> None:
    p = simple()
    build([(2.5, "other", 10.0)], thread=7, profile=p)
    assert isinstance(sample_indices(p, Selection(1.0, 6.0)), slice)
    # [3, 6): io and work, and 3 s of other's span [2.5, 12.5) (a sample stands for a span)
    tree = call_tree(p, Selection(t0=3.0, t1=6.0))
    assert tree.total == 6.0
    tree = call_tree(p, Selection(threads=frozenset({7})))
    assert tree_text(tree, p) == "other: total=10 self=10"
    # [2, 7) of thread 0: 1 s of compute's [0, 3), io, work, helper's [6, 7)
    tree = call_tree(p, Selection(t0=2.0, t1=7.0, threads=frozenset({0})))
    assert tree.total == 5.0
    assert call_tree(p, Selection(t0=100.0)).node_count == 1


def test_flame_layout_orders() -> None:
    p = simple()
    tree = call_tree(p)
    lay = flame_layout(tree, "alphabetical")
    names = [p.func_name[int(f)] for f in lay.func]
    got = list(zip(names, lay.x.tolist(), lay.width.tolist(), lay.depth.tolist(), strict=True))
    assert got == [
        ("main", 0.0, 7.5, 0),
        ("helper", 0.0, 1.0, 1),
        ("work", 1.0, 6.0, 1),
        ("compute", 0.0, 1.0, 2),
        ("compute", 1.0, 3.0, 2),
        ("io", 4.0, 1.0, 2),
    ]
    assert all(tree.func[n] == f for n, f in zip(lay.node, lay.func, strict=True))
    heavy = flame_layout(tree, "left-heavy")
    got = [(p.func_name[int(f)], x) for f, x in zip(heavy.func, heavy.x.tolist(), strict=True)]
    assert got == [("main", 0.0), ("work", 0.0), ("helper", 6.0), ("compute", 0.0), ("io", 3.0), ("compute", 6.0)]
    assert heavy.total == 7.5 and heavy.max_depth == 3
    assert len(flame_layout(call_tree(Profile()))) == 0


def test_function_table_counts_recursion_once() -> None:
    p = build(
        [
            (0.0, "main;fib;fib;fib", 1.0),
            (1.0, "main;fib;other;fib", 1.0),
            (2.0, "main;other", 2.0),
        ]
    )
    table = function_table(p)
    rows = {p.func_name[int(f)]: i for i, f in enumerate(table.func)}
    fib, other, main = rows["fib"], rows["other"], rows["main"]
    assert [p.func_name[int(f)] for f in table.func] == ["other", "fib", "main"]  # self tie: by total
    assert table.self_weight[fib] == 2.0 and table.total_weight[fib] == 2.0
    assert table.samples[fib] == 2 and table.self_samples[fib] == 2
    assert table.total_weight[other] == 3.0 and table.self_weight[other] == 2.0
    assert table.total_weight[main] == 4.0 and table.total_pct[main] == 100.0
    assert table.self_pct[fib] == 50.0
    assert (table.calls == -1).all() and np.isnan(table.per_call).all()
    assert table.row_of(p.func_name.index("main")) == main


def _stats(p: Profile, funcs: list[int], calls: list[int], self_t: list[float], total_t: list[float]) -> FuncStats:
    return FuncStats(
        clock="wall",
        func=np.array(funcs, np.int32),
        calls=np.array(calls, np.int64),
        prim_calls=np.array(calls, np.int64),
        self_time=np.array(self_t),
        total_time=np.array(total_t),
    )


def test_function_table_from_func_stats_only() -> None:
    p = Profile(source_format="pstats")
    main = p.intern_function("main", "m.py", 1)
    f = p.intern_function("f", "m.py", 5)
    p.func_stats = _stats(p, [main, f], [1, 4], [1.0, 3.0], [4.0, 3.0])
    table = function_table(p)
    assert table.func.tolist() == [f, main]
    assert table.calls.tolist() == [4, 1]
    assert table.per_call.tolist() == [0.75, 4.0]
    assert table.total == 4.0 and table.self_pct.tolist() == [75.0, 25.0]


def test_function_table_takes_calls_from_func_stats() -> None:
    p = build([(0.0, "main;f", 3.0), (3.0, "main", 1.0)])
    main, f = p.func_name.index("main"), p.func_name.index("f")
    p.func_stats = _stats(p, [main, f], [1, 6], [1.0, 3.0], [4.0, 3.0])
    table = function_table(p)
    assert table.func.tolist() == [f, main]
    assert table.calls.tolist() == [6, 1]
    assert table.per_call.tolist() == [0.5, 4.0]
    assert table.samples.tolist() == [1, 2]


def test_live_growth_extends_caches() -> None:
    p = build([(0.0, "a;b", 1.0)])
    assert call_tree(p).node_count == 3
    build([(1.0, "a;c", 1.0), (2.0, "d", 1.0)], profile=p)
    tree = call_tree(p)
    assert tree_text(tree, p) == "a: total=2 self=0\n  b: total=1 self=1\n  c: total=1 self=1\nd: total=1 self=1"
    assert tree_text(inverted_tree(p), p).splitlines()[0] == "b: total=1 self=1"


# ------------------------------------------------------------------ properties
paths = st.lists(st.integers(0, 4), min_size=0, max_size=7)
sample_rows = st.lists(st.tuples(paths, st.integers(1, 5), st.integers(0, 2)), min_size=1, max_size=40)


def random_profile(rows: list[tuple[list[int], int, int]]) -> Profile:
    p = Profile(unit=UNIT_SAMPLES)
    for i, (path, w, thread) in enumerate(rows):
        sid = p.intern_stack_path([frame(p, f"f{k}:{k + i % 2}") for k in path])
        p.add_samples(np.array([float(i)]), np.array([thread]), np.array([sid]), weight=float(w))
    p.finish()
    return p


@settings(max_examples=60, deadline=None)
@given(sample_rows, st.integers(0, 40), st.integers(0, 40))
def test_tree_properties(rows: list[tuple[list[int], int, int]], a: int, b: int) -> None:
    p = random_profile(rows)
    weights = float(sum(w for _, w, _ in rows))
    tree = call_tree(p)
    inv = inverted_tree(p)
    assert tree.total == pytest.approx(weights) and inv.total == pytest.approx(weights)
    assert tree.self_weight.sum() == pytest.approx(tree.total)
    assert inv.self_weight.sum() == pytest.approx(inv.total)
    # a row of a "samples" profile stands for its weight in samples (issue 10: counts are samples)
    assert int(inv.self_count.sum()) == weights
    assert int(tree.count[0]) == weights == int(inv.count[0])
    assert (tree.parent[1:] < np.arange(1, tree.node_count)).all()
    for node in range(tree.node_count):
        kids = tree.children(node)
        assert tree.total_weight[kids].sum() + tree.self_weight[node] == pytest.approx(tree.total_weight[node])
    for order in ("alphabetical", "left-heavy"):
        lay = flame_layout(tree, order)  # type: ignore[arg-type]
        assert len(lay) == tree.node_count - 1
        x = np.zeros(tree.node_count)
        x[lay.node] = lay.x
        for box in range(len(lay)):
            par = int(tree.parent[lay.node[box]])
            if par > 0:
                assert x[par] - 1e-9 <= lay.x[box]
                assert lay.x[box] + lay.width[box] <= x[par] + tree.total_weight[par] + 1e-9
    # a range aggregates like the sliced profile
    t0, t1 = sorted((a, b))
    sliced = random_profile(rows[t0:t1])
    part = call_tree(p, Selection(float(t0), float(t1)))
    assert tree_text(part, p) == tree_text(call_tree(sliced), sliced)
    assert tree_text(inverted_tree(p, Selection(float(t0), float(t1))), p) == tree_text(inverted_tree(sliced), sliced)
    part_table = function_table(p, Selection(float(t0), float(t1)))
    sliced_table = function_table(sliced)

    def rows_by_name(prof: Profile, t: FunctionTable) -> dict[str, tuple[float, float, int, int]]:
        return {
            prof.func_name[int(f)]: (float(a), float(b), int(c), int(d))
            for f, a, b, c, d in zip(t.func, t.self_weight, t.total_weight, t.samples, t.self_samples, strict=True)
        }

    assert rows_by_name(p, part_table) == rows_by_name(sliced, sliced_table)
    # the function table agrees with the tree
    table = function_table(p)
    assert table.self_weight.sum() == pytest.approx(weights - tree.self_weight[0])
    assert (table.total_weight <= weights + 1e-9).all()


def test_aggregation_is_fast_enough() -> None:
    rng = np.random.default_rng(1)
    p = Profile()
    for i in range(400):
        p.intern_frame(f"f{i}", f"m{i % 50}.py", i)
    # 5000 stacks in one batch: mostly extending the previous stack (deep), sometimes a new branch
    ids = np.arange(5000)
    parents = np.where(rng.random(5000) < 0.8, ids - 1, rng.integers(-1, np.maximum(ids, 1)))
    parents[0] = -1
    p.add_stack_definitions(0, parents.astype(np.int32), rng.integers(0, 400, 5000).astype(np.int32))
    n = 200_000
    p.add_samples(np.arange(n) * 1e-3, rng.integers(0, 4, n), rng.choice(ids, n), weight=1e-3)
    t = time.process_time()  # CPU time: what the work costs, whatever else runs on the machine
    tree = call_tree(p)
    flame_layout(tree, "alphabetical")
    function_table(p)
    call_tree(p, Selection(10.0, 30.0))
    inverted_tree(p, Selection(10.0, 30.0))
    assert time.process_time() - t < 5.0  # generous: a sanity bound, not a benchmark
    assert int(tree.count[0]) == n and tree.total == pytest.approx(n * 1e-3)


def _random_deep_profile(seed: int, n_stacks: int) -> Profile:
    rng = np.random.default_rng(seed)
    p = Profile(unit=UNIT_SAMPLES)
    for i in range(30):
        p.intern_frame(f"f{i}", "m.py", i)
    ids = np.arange(n_stacks)
    parents = np.where(rng.random(n_stacks) < 0.7, ids - 1, rng.integers(-1, np.maximum(ids, 1)))
    parents[0] = -1
    p.add_stack_definitions(0, parents.astype(np.int32), rng.integers(0, 30, n_stacks).astype(np.int32))
    p.add_samples(np.arange(3000.0), np.zeros(3000), rng.integers(-1, n_stacks, 3000), weight=1.0)
    return p


@pytest.mark.parametrize("seed", [1, 2])
def test_bulk_inverted_build_matches_the_incremental_walk(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from pyrometer.core.analysis import _nodes

    bulk = _random_deep_profile(seed, 600)
    bulk_text = tree_text(inverted_tree(bulk), bulk)
    monkeypatch.setattr(_nodes, "_BULK_MIN", 10**9)
    walked = _random_deep_profile(seed, 600)
    assert tree_text(inverted_tree(walked), walked) == bulk_text
    # a bulk-built table keeps growing incrementally like a walked one
    monkeypatch.setattr(_nodes, "_BULK_MIN", 1)
    grown = _random_deep_profile(seed, 600)
    inverted_tree(grown)
    for p in (grown, walked):
        sid = p.intern_stack_path([p.intern_frame("new", "n.py", 1), *p.stack_frames(599)])
        p.add_samples(np.array([5000.0]), np.array([0]), np.array([sid]), weight=7.0)
    assert tree_text(inverted_tree(grown), grown) == tree_text(inverted_tree(walked), walked)
    assert len(_nodes.node_table(grown, True).stack_node) == len(grown.stacks)
