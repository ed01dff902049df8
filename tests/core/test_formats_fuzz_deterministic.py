"""Hypothesis against the deterministic importers (pstats, yappi, callgrind) through `load_profile`.

Random bytes and mutations of real files (cProfile, yappi, our own exports) must
load or give a one-line FormatError naming the file - never another exception
or a hang. Also properties of the call-graph -> estimated call-tree step.
"""

from __future__ import annotations

import marshal
import math
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pyrometer.core.formats import registry
from pyrometer.core.formats.deterministic import CallGraph, profile_from_graph
from pyrometer.core.model import Profile

# cProfile and yappi files of deterministic_workload.py; regenerate with tools/make_fixtures.py.
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats"

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def real_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    files = {name: (FIXTURES / name).read_bytes() for name in ("run.prof", "run.pstat", "run.callgrind")}
    # and what our exporters write for them
    d = tmp_path_factory.mktemp("real")
    p = registry.load_profile(FIXTURES / "run.prof")
    registry.export_profile(p, d / "ours.callgrind")
    registry.export_profile(p, d / "ours.prof")
    files["ours.callgrind"] = (d / "ours.callgrind").read_bytes()
    files["ours.prof"] = (d / "ours.prof").read_bytes()
    return files


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def load_or_format_error(path: Path) -> Profile | None:
    """The contract: a Profile, or a one-line FormatError naming the file; quickly."""
    start = time.process_time()
    try:
        p = registry.load_profile(path)
    except registry.FormatError as exc:
        msg = str(exc)
        assert str(path) in msg and "\n" not in msg, msg
        p = None
    assert time.process_time() - start < 10
    return p


def test_real_files_load(real_files: dict[str, bytes], scratch: Path) -> None:
    for name, data in real_files.items():
        path = scratch / name
        path.write_bytes(data)
        p = registry.load_profile(path)
        assert p.func_stats is not None and len(p.samples) > 0, name
        names = set(p.func_name)
        assert {"fib", "even", "odd", "main"} <= names, name
        # mutual recursion is cut in the tree: no path repeats a function
        for sid in np.unique(p.samples["stack"]).tolist():
            funcs = [p.frame_func(f) for f in p.stack_frames(int(sid))]
            assert len(funcs) == len(set(funcs)), name


@FUZZ
@given(st.binary(max_size=2000), st.sampled_from(["x.prof", "x.pstats", "x.callgrind", "callgrind.out.1", "noext"]))
def test_random_bytes(scratch: Path, data: bytes, name: str) -> None:
    path = scratch / name
    path.write_bytes(data)
    load_or_format_error(path)


@FUZZ
# found by hypothesis, pinned: counts and costs beyond 64 bits
@example(b"events: Ir\n", b"fn=f\ncfn=g\ncalls=" + b"9" * 40 + b" 1\n1 1\n")
@example(b"events: Ir\n", b"fn=f\n1 " + b"9" * 40 + b"\n")
@given(st.sampled_from([b"{", b"\xfb", b"{)\x03", b"{\xa9\x03", b"events: Ir\n", b"# callgrind format\n", b"version: 1\n"]), st.binary(max_size=500))
def test_plausible_prefix_then_noise(scratch: Path, prefix: bytes, noise: bytes) -> None:
    path = scratch / "prefixed"
    path.write_bytes(prefix + noise)
    load_or_format_error(path)


mutation = st.tuples(
    st.sampled_from(["flip", "cut", "insert", "delete", "duplicate"]), st.integers(min_value=0), st.binary(min_size=1, max_size=8)
)


def mutate(data: bytes, ops: list[tuple[str, int, bytes]]) -> bytes:
    b = bytearray(data)
    for op, where, blob in ops:
        if not b:
            break
        i = where % len(b)
        if op == "flip":
            b[i] ^= blob[0] or 0xFF
        elif op == "cut":
            del b[i:]
        elif op == "insert":
            b[i:i] = blob
        elif op == "delete":
            del b[i : i + len(blob)]
        else:
            b[i:i] = b[i : i + 64]
    return bytes(b)


@FUZZ
@given(st.sampled_from(["run.prof", "run.pstat", "run.callgrind", "ours.callgrind", "ours.prof"]), st.lists(mutation, min_size=1, max_size=4))
def test_mutated_real_files(real_files: dict[str, bytes], scratch: Path, name: str, ops: list[tuple[str, int, bytes]]) -> None:
    path = scratch / name
    path.write_bytes(mutate(real_files[name], ops))
    p = load_or_format_error(path)
    if p is not None and p.source_format in ("pstats", "callgrind"):  # (damaged text may look like another format)
        assert p.func_stats is not None
        assert np.all(np.isfinite(p.samples["weight"]))


@FUZZ
@given(st.sampled_from(["run.callgrind", "ours.callgrind"]), st.data())
def test_mutated_callgrind_lines(real_files: dict[str, bytes], scratch: Path, name: str, data: st.DataObject) -> None:
    lines = real_files[name].decode().splitlines()
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        i = data.draw(st.integers(min_value=0, max_value=len(lines) - 1))
        choice = data.draw(st.sampled_from(["drop", "swap", "number", "dup"]))
        if choice == "drop":
            del lines[i]
        elif choice == "swap":
            j = data.draw(st.integers(min_value=0, max_value=len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif choice == "number":
            lines[i] = data.draw(st.sampled_from(["+5 7", "-3 1", "* 0", "0x1f 9", "calls=4 0", "cfn=(999)", "fn=(0)", "fl=(77) x.py", "1 99999999999999999999"]))
        else:
            lines.insert(i, lines[i])
        if not lines:
            break
    path = scratch / name
    path.write_text("\n".join(lines))
    load_or_format_error(path)


# ---------------------------------------------------------------- shapes that parse as marshal but are not pstats
json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.lists(inner, max_size=4).map(tuple) | st.dictionaries(st.text(max_size=3), inner, max_size=4),
    max_leaves=8,
)
keys = st.tuples(st.text(max_size=8), st.integers(min_value=-3, max_value=2**33), st.text(max_size=8))
entry = st.tuples(
    st.integers(min_value=-2, max_value=2**64),
    st.integers(min_value=-2, max_value=2**64),
    st.floats() | st.integers(),
    st.floats() | st.integers(),
    st.dictionaries(keys, st.tuples(st.integers(), st.integers(), st.floats(), st.floats()) | st.integers() | json_like, max_size=3),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# found by hypothesis, pinned: times beyond float32 gave infinite weights
@example({("a.py", 1, "f"): (1, 1, 1e300, 1e300, {})})
@given(st.dictionaries(keys | st.integers() | st.text(max_size=4) | st.tuples(st.integers(), st.text(max_size=3)), entry | json_like, max_size=6))
def test_pstats_shaped_values(scratch: Path, obj: dict) -> None:
    try:
        data = marshal.dumps(obj)
    except ValueError:
        return
    path = scratch / "shaped.prof"
    path.write_bytes(data)
    p = load_or_format_error(path)
    if p is not None:
        assert p.source_format == "pstats"
        fs = p.func_stats
        assert fs is not None and len(fs.func) >= 1
        assert np.all(np.isfinite(fs.self_time)) and np.all(fs.calls >= 0)
        assert np.all(np.isfinite(p.samples["weight"]))  # float32 in the model


# ---------------------------------------------------------------- the estimated call tree
@st.composite
def graphs(draw: st.DrawFn) -> CallGraph:
    n = draw(st.integers(min_value=1, max_value=12))
    g = CallGraph()
    for i in range(n):
        s = draw(st.floats(min_value=0, max_value=10))
        g.add_function(f"f{i}", "g.py", i + 1, 1, 1, s, s)
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.floats(min_value=0, max_value=10)), max_size=30, unique_by=lambda e: (e[0], e[1])))
    for a, b, t in edges:
        g.add_edge(a, b, 1, 0.0, t)
    # a function's total: its self plus what it hands to others (as a deterministic profiler reports)
    for a, b, t in edges:
        if a != b:
            g.total_cost[a] += t
    return g


def _graph(self_costs: list[float], edges: list[tuple[int, int, float]]) -> CallGraph:
    """A call graph as `graphs()` draws it (for pinning the examples hypothesis found)."""
    g = CallGraph()
    for i, s in enumerate(self_costs):
        g.add_function(f"f{i}", "g.py", i + 1, 1, 1, s, s)
    for a, b, t in edges:
        g.add_edge(a, b, 1, 0.0, t)
        if a != b:
            g.total_cost[a] += t
    return g


@settings(deadline=None)  # examples: the profile's (tests/conftest.py)
@given(graphs(), st.integers(min_value=1, max_value=40), st.integers(min_value=1, max_value=50))
# a subnormal total under a 1 s edge: amount / denom overflowed and gave infinite weights
@example(_graph([1.0, 5e-324, 0.0], [(0, 1, 1.0), (1, 2, 5e-324)]), 10, 10)
# weights that round to zero in float32 (the model's weight column) were kept as 0-weight samples
@example(_graph([1e-50, 1.0], [(1, 0, 1e-50)]), 10, 10)
def test_estimated_tree_properties(g: CallGraph, max_depth: int, max_paths: int) -> None:
    p = profile_from_graph(g, "pstats", max_depth=max_depth, max_paths=max_paths)
    p.finish()
    fs = p.func_stats
    assert fs is not None
    # the function table is exactly what was given
    assert sorted(fs.self_time.tolist()) == sorted(g.self_cost)
    depths = p.stack_depths()
    stacks = p.samples["stack"]
    w = p.samples["weight"].astype(np.float64)
    assert np.all(w > 0)
    assert p.meta["synthesized_paths"] <= max_paths
    if len(stacks):
        assert int(depths[stacks].max()) <= max_depth
    for sid in np.unique(stacks).tolist():
        funcs = [p.frame_func(f) for f in p.stack_frames(int(sid))]
        assert len(funcs) == len(set(funcs))  # recursion and cycles are cut
    # the tree conserves time: each root's total is handed down, never invented
    # (entry points of caller-less cycles count as roots too, hence the upper bound)
    assert float(w.sum()) <= sum(g.total_cost) * (1 + 1e-5) + 1e-9
    if not p.meta["tree_truncated"]:
        # issue 10: every function keeps its exact self time in the tree (so exports keep it)
        assert float(w.sum()) == pytest.approx(sum(g.self_cost), rel=1e-5, abs=1e-6)
    # times are consecutive
    t = p.samples["time"]
    assert np.allclose(t[1:], (t + w)[:-1], rtol=1e-6, atol=1e-6)


def test_path_budget_keeps_the_heaviest_paths() -> None:
    """A wide, deep graph: the budget caps the paths, and the heavy branch survives it."""
    g = CallGraph()
    root = g.add_function("root", "w.py", 1, 1, 1, 0.0, 0.0)
    heavy = g.add_function("heavy", "w.py", 2, 1, 1, 100.0, 100.0)
    g.add_edge(root, heavy, 1, 100.0, 100.0)
    light_total = 0.0
    for i in range(3000):  # a fan of light leaves next to the heavy one
        f = g.add_function(f"light{i}", "w.py", 10 + i, 1, 1, 0.001, 0.001)
        g.add_edge(root, f, 1, 0.001, 0.001)
        light_total += 0.001
    g.total_cost[root] = 100.0 + light_total
    start = time.process_time()
    p = profile_from_graph(g, "pstats", max_paths=100)
    assert time.process_time() - start < 5
    assert p.meta["synthesized_paths"] <= 100 and p.meta["tree_truncated"] is True
    stacks = [tuple(p.func_name[p.frame_func(f)] for f in p.stack_frames(int(s))) for s in p.samples["stack"]]
    assert ("root", "heavy") in stacks
    assert math.isclose(float(p.samples["weight"].astype(np.float64).sum()), 100.0 + light_total, rel_tol=1e-4)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["run.prof", "run.callgrind"]), st.integers(min_value=1, max_value=8), st.integers(min_value=0), st.booleans())
def test_damaged_gzip_of_real_files(real_files: dict[str, bytes], scratch: Path, name: str, copies: int, where: int, cut: bool) -> None:
    import gzip

    data = bytearray(gzip.compress(real_files[name] * (copies if name.endswith("callgrind") else 1)))
    i = 20 + where % max(1, len(data) - 20)
    if cut:
        del data[i:]
    else:
        data[i] ^= 0x5A
    path = scratch / (name + ".gz")
    path.write_bytes(bytes(data))
    load_or_format_error(path)
