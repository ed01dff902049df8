"""Transforms (focus, merge, collapse recursion, my code only) and callers/callees."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyrometer.core.analysis.callers import callers_callees
from pyrometer.core.analysis.calltree import call_tree, inverted_tree, tree_text
from pyrometer.core.analysis.classify import classify_file
from pyrometer.core.analysis.functions import function_table
from pyrometer.core.analysis.transforms import Transform, apply_transform
from pyrometer.core.model import FuncStats, Profile

SITE = "/venv/lib/python3.11/site-packages/lib.py"


def frame(p: Profile, spec: str) -> int:
    """`name`, `name:line` (file `<name>.py`) or `lib.name` (a site-packages file)."""
    name, _, line = spec.partition(":")
    file = SITE if name.startswith("lib.") else os.__file__ if name.startswith("os.") else f"/app/{name}.py"
    return p.intern_frame(name, file, int(line or 1), firstline=1)


def build(rows: list[tuple[str, float]], profile: Profile | None = None, t_start: float = 0.0) -> Profile:
    p = profile if profile is not None else Profile()
    for i, (path, w) in enumerate(rows):
        sid = p.intern_stack_path([frame(p, s) for s in path.split(";")]) if path else -1
        p.add_samples(np.array([t_start + i]), np.array([0]), np.array([sid]), weight=w)
    p.finish()
    return p


def fid(p: Profile, name: str) -> int:
    return p.func_name.index(name)


def text(p: Profile, t: Transform) -> str:
    return tree_text(call_tree(p, transform=t), apply_transform(p, t))


ROWS = [
    ("main;a;b;c", 1.0),
    ("main;b;c", 2.0),
    ("main;a;a:2;a:3;d", 4.0),
    ("main;x", 8.0),
    ("", 16.0),
]


def test_identity_transform_is_the_profile() -> None:
    p = build(ROWS)
    assert apply_transform(p, Transform()) is p
    assert apply_transform(p, None) is p


def test_focus_function_reroots_at_outermost_occurrence() -> None:
    p = build(ROWS)
    t = Transform(focus_function=fid(p, "b"))
    assert text(p, t) == "b: total=3 self=0\n  c: total=3 self=3"
    assert text(p, Transform(focus_function=fid(p, "a"))) == "\n".join(
        ["a: total=5 self=0", "  a: total=4 self=0", "    a: total=4 self=0", "      d: total=4 self=4", "  b: total=1 self=0", "    c: total=1 self=1"]
    )
    view = apply_transform(p, t)
    assert view.func_name is p.func_name  # ids shared with the source
    assert apply_transform(p, t) is view  # cached


def test_focus_path_keeps_the_subtree_only() -> None:
    p = build(ROWS)
    t = Transform(focus_path=(fid(p, "main"), fid(p, "a")))
    assert text(p, t) == "a: total=5 self=0\n  a: total=4 self=0\n    a: total=4 self=0\n      d: total=4 self=4\n  b: total=1 self=0\n    c: total=1 self=1"
    assert call_tree(p, transform=Transform(focus_path=(fid(p, "a"),))).total == 0.0


def test_merge_gives_time_to_the_caller() -> None:
    p = build(ROWS)
    t = Transform(merge_functions=frozenset({fid(p, "b"), fid(p, "main")}))
    assert text(p, t) == "\n".join(
        ["x: total=8 self=8", "a: total=5 self=0", "  a: total=4 self=0", "    a: total=4 self=0", "      d: total=4 self=4", "  c: total=1 self=1", "c: total=2 self=2"]
    )
    # the empty stack stays at the root
    assert call_tree(p, transform=t).self_weight[0] == 16.0


def test_collapse_recursion() -> None:
    p = build(ROWS)
    both = "main: total=15 self=0\n  x: total=8 self=8\n  a: total=5 self=0\n    d: total=4 self=4\n    b: total=1 self=0\n      c: total=1 self=1\n  b: total=2 self=0\n    c: total=2 self=2"
    assert text(p, Transform(collapse_recursion=True)) == both
    assert text(p, Transform(collapse_recursion=frozenset({fid(p, "a")}))) == both
    assert "a: total=4" in text(p, Transform(collapse_recursion=frozenset({fid(p, "b")})))


def test_my_code_only_hides_library_frames() -> None:
    p = build([("main;lib.call;cb", 1.0), ("main;lib.call;lib.inner", 2.0), ("lib.boot;os.walk", 4.0), ("main;os.walk", 8.0)])
    t = Transform(my_code_only=True)
    view = apply_transform(p, t)
    assert view.func_name is not p.func_name and len(p.func_name) == 6  # the source is untouched
    assert text(p, t) == "main: total=11 self=10\n  cb: total=1 self=1\n[library]: total=4 self=4"
    table = function_table(p, transform=t)
    assert {view.func_name[int(f)] for f in table.func} == {"main", "cb", "[library]"}


def test_transforms_follow_a_growing_profile() -> None:
    p = build(ROWS)
    for t in (Transform(focus_function=fid(p, "a")), Transform(my_code_only=True), Transform(collapse_recursion=True)):
        before = call_tree(p, transform=t).total
        build([("main;a;newfunc", 32.0)], profile=p, t_start=100.0)
        assert call_tree(p, transform=t).total == before + 32.0
        assert "newfunc: total=" in text(p, t)


def test_transforms_compose_in_order() -> None:
    p = build(ROWS)
    t = Transform(merge_functions=frozenset({fid(p, "a")}), focus_path=(fid(p, "main"), fid(p, "b")))
    assert text(p, t) == "b: total=3 self=0\n  c: total=3 self=3"


def test_callers_and_callees_from_samples() -> None:
    p = build([("main;a;c", 1.0), ("main;b;c", 2.0), ("main;c;c;d", 4.0), ("c", 8.0)])
    cc = callers_callees(p, fid(p, "c"))
    assert sorted(cc.callers, key=lambda e: (-e[1], e[0])) == cc.callers
    assert dict((f, (w, n)) for f, w, n in cc.callers) == {
        fid(p, "main"): (4.0, 1),
        fid(p, "c"): (4.0, 1),
        fid(p, "b"): (2.0, 1),
        fid(p, "a"): (1.0, 1),
    }
    assert cc.root_weight == 8.0
    assert cc.callees == [(fid(p, "c"), 4.0, 1), (fid(p, "d"), 4.0, 1)]
    main = callers_callees(p, fid(p, "main"))
    assert main.callers == [] and main.root_weight == 7.0
    assert [e[0] for e in main.callees] == [fid(p, "c"), fid(p, "b"), fid(p, "a")]


def test_callers_count_a_recursive_edge_once_per_sample() -> None:
    p = build([("f;g;f;g;f", 1.0)])
    cc = callers_callees(p, fid(p, "f"))
    assert cc.callers == [(fid(p, "g"), 1.0, 1)]
    assert cc.callees == [(fid(p, "g"), 1.0, 1)]


def test_callers_from_func_stats_edges() -> None:
    p = Profile(source_format="pstats")
    main, f, g = (p.intern_function(n, "m.py", i) for i, n in enumerate(("main", "f", "g")))
    p.func_stats = FuncStats(
        clock="cpu",
        func=np.array([main, f, g], np.int32),
        calls=np.array([1, 3, 5]),
        prim_calls=np.array([1, 3, 5]),
        self_time=np.array([1.0, 2.0, 3.0]),
        total_time=np.array([6.0, 5.0, 3.0]),
        edge_caller=np.array([main, f, main], np.int32),
        edge_callee=np.array([f, g, g], np.int32),
        edge_calls=np.array([3, 4, 1]),
        edge_self=np.array([2.0, 2.5, 0.5]),
        edge_total=np.array([5.0, 2.5, 0.5]),
    )
    cc = callers_callees(p, g)
    assert cc.count_kind == "calls"
    assert cc.callers == [(f, 2.5, 4), (main, 0.5, 1)]
    assert callers_callees(p, main).callees == [(f, 5.0, 3), (g, 0.5, 1)]


def test_classify_file() -> None:
    assert classify_file(os.__file__) == "stdlib"
    assert classify_file(np.__file__) == "site-packages"
    assert classify_file("/usr/lib/python3/dist-packages/apt/x.py") == "site-packages"
    assert classify_file("/usr/lib/python3.9/asyncio/events.py") == "stdlib"
    assert classify_file("C:\\Python311\\Lib\\os.py") == "stdlib"
    # frozen into the interpreter, but the standard library all the same
    assert classify_file("<frozen importlib._bootstrap>") == "stdlib"
    assert classify_file("<frozen importlib._bootstrap_external>") == "stdlib"
    assert classify_file("<frozen posixpath>") == "stdlib"
    assert classify_file("<frozen runpy>") == "stdlib"
    assert classify_file("<frozen mytool.main>") == "builtin"  # frozen, not the standard library's
    assert classify_file("<built-in>") == "builtin"
    assert classify_file("~") == "builtin"
    assert classify_file("/home/me/project/app.py") == "user"
    assert classify_file("app.py") == "user"
    # a frozen app (PyInstaller) names standard-library modules by their archive path
    assert classify_file("threading.py") == "stdlib"
    assert classify_file("asyncio/events.py") == "stdlib"
    assert classify_file("mypkg/threading.py") == "user"


# ------------------------------------------------------------------ properties
names = st.sampled_from(["a", "b", "c", "lib.x", "os.y"])
rows = st.lists(st.tuples(st.lists(names, max_size=6).map(";".join), st.integers(1, 4).map(float)), min_size=1, max_size=25)


@settings(max_examples=50, deadline=None)
@given(rows, st.sampled_from(["a", "b", "lib.x"]))
def test_transform_properties(sample_rows: list[tuple[str, float]], name: str) -> None:
    p = build(sample_rows)
    total = sum(w for _, w in sample_rows)
    f = p.func_name.index(name) if name in p.func_name else 999
    table = function_table(p)
    expected_focus = float(table.total_weight[table.row_of(f)]) if table.row_of(f) >= 0 else 0.0
    # focus on a function keeps exactly the samples that contain it
    assert call_tree(p, transform=Transform(focus_function=f)).total == pytest.approx(expected_focus)
    # merge, collapse and my-code-only never lose weight
    for t in (Transform(merge_functions=frozenset({f})), Transform(collapse_recursion=True), Transform(my_code_only=True)):
        tree = call_tree(p, transform=t)
        assert tree.total == pytest.approx(total)
        assert tree.self_weight.sum() == pytest.approx(total)
    merged = apply_transform(p, Transform(merge_functions=frozenset({f})))
    assert f not in {int(x) for x in call_tree(merged).func[1:]}
    collapsed = call_tree(p, transform=Transform(collapse_recursion=True))
    assert not np.any(collapsed.func[1:] == collapsed.func[np.maximum(collapsed.parent[1:], 0)])


@settings(max_examples=40, deadline=None)
@given(rows, rows, st.sampled_from(["a", "b", "lib.x"]))
def test_caches_grow_like_a_fresh_build(first: list[tuple[str, float]], second: list[tuple[str, float]], name: str) -> None:
    live = build(first)
    fresh = build(first + second)

    def views(p: Profile) -> list[str]:
        f = p.func_name.index(name) if name in p.func_name else 999
        ts = [Transform(focus_function=f), Transform(merge_functions=frozenset({f})), Transform(my_code_only=True), Transform(collapse_recursion=True)]
        return [tree_text(call_tree(p), p), tree_text(inverted_tree(p), p)] + [text(p, t) for t in ts]

    views(live)  # warm every cache on the first half
    build(second, profile=live, t_start=len(first))
    assert views(live) == views(fresh)
