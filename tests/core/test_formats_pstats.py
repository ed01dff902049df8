"""pstats import/export on real cProfile files; the stdlib `pstats.Stats` reader is the oracle.

Also: the safe marshal reader against `marshal.dumps`, and bad input that must
give a one-line FormatError naming the file (never another exception or a hang).
"""

from __future__ import annotations

import gzip
import marshal
import math
import pstats
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyrometer.core import example_profiles as ex
from pyrometer.core.formats import registry, safe_marshal
from pyrometer.core.formats.pstats_format import pstats_dict
from pyrometer.core.model import Profile

SCRIPT = textwrap.dedent(
    """
    import cProfile, sys, time

    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    def nap():
        time.sleep(0.02)

    def work():
        nap()
        return fib(14)

    def main():
        for _ in range(3):
            work()
        sorted(range(1000), key=lambda x: -x)

    prof = cProfile.Profile()
    prof.enable()
    main()
    prof.disable()
    prof.dump_stats(sys.argv[1])
    """
)


@pytest.fixture(scope="module")
def cprofile_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("cprofile")
    script = d / "workload.py"
    script.write_text(SCRIPT)
    out = d / "run.prof"
    subprocess.run([sys.executable, str(script), str(out)], check=True, timeout=60)
    return out


def key_of(p: Profile, fid: int) -> tuple[str, int, str]:
    return (p.func_file[fid] or "~", p.func_line[fid], p.func_name[fid])


def stats_by_key(p: Profile) -> dict[tuple[str, int, str], tuple[int, int, float, float]]:
    fs = p.func_stats
    assert fs is not None
    return {
        key_of(p, int(f)): (int(fs.prim_calls[i]), int(fs.calls[i]), float(fs.self_time[i]), float(fs.total_time[i]))
        for i, f in enumerate(fs.func)
    }


def edges_by_key(p: Profile) -> dict[tuple[Any, Any], tuple[int, float, float]]:
    fs = p.func_stats
    assert fs is not None
    return {
        (key_of(p, int(a)), key_of(p, int(b))): (int(c), float(s), float(t))
        for a, b, c, s, t in zip(fs.edge_caller, fs.edge_callee, fs.edge_calls, fs.edge_self, fs.edge_total, strict=True)
    }


# ---------------------------------------------------------------- import, against pstats.Stats
def test_cprofile_file_matches_pstats_oracle(cprofile_file: Path) -> None:
    oracle = pstats.Stats(str(cprofile_file)).stats  # type: ignore[attr-defined]
    p = registry.load_profile(cprofile_file)
    assert p.source_format == "pstats" and p.unit == "seconds" and p.meta["deterministic"] is True
    ours = stats_by_key(p)
    assert set(ours) == set(oracle)
    for key, (cc, nc, tt, ct, _callers) in oracle.items():
        assert ours[key] == (cc, nc, tt, ct), key  # exact: floats survive marshal bit for bit
    edges = edges_by_key(p)
    n_edges = 0
    for callee, (*_, callers) in oracle.items():
        for caller, (enc, _ecc, ett, ect) in callers.items():
            assert edges[(caller, callee)] == (enc, ett, ect)
            n_edges += 1
    assert len(edges) == n_edges


def test_cprofile_names_are_readable(cprofile_file: Path) -> None:
    p = registry.load_profile(cprofile_file)
    names = set(p.func_name)
    assert {"fib", "nap", "work", "main", "<lambda>", "<built-in method time.sleep>"} <= names
    sleep = p.func_name.index("<built-in method time.sleep>")
    assert p.func_file[sleep] == "" and p.func_line[sleep] == 0
    fib = p.func_name.index("fib")
    assert p.func_file[fib].endswith("workload.py") and p.func_line[fib] == 4
    fs = p.func_stats
    assert fs is not None
    row = int(np.flatnonzero(fs.func == fib)[0])
    # fib(14) makes 1219 calls, three times; 3 of them primitive
    assert (int(fs.calls[row]), int(fs.prim_calls[row])) == (3 * 1219, 3)


def stack_names(p: Profile, sid: int) -> list[str]:
    return [p.func_name[p.frame_func(fr)] for fr in p.stack_frames(sid)]


def test_cprofile_estimated_tree(cprofile_file: Path) -> None:
    p = registry.load_profile(cprofile_file)
    fs = p.func_stats
    assert fs is not None
    assert p.meta["tree_estimated"] is True and p.meta["tree_truncated"] is False
    weights = p.samples["weight"].astype(np.float64)
    stacks = [stack_names(p, int(s)) for s in p.samples["stack"]]
    # the tree conserves time: all samples add up to the roots' total time
    roots = {"main", "<method 'disable' of '_lsprof.Profiler' objects>"}
    root_total = sum(float(fs.total_time[i]) for i, f in enumerate(fs.func) if p.func_name[int(f)] in roots)
    assert math.isclose(float(weights.sum()), root_total, rel_tol=1e-5)
    # recursion is cut: no path repeats a function
    assert all(len(s) == len(set(s)) for s in stacks)
    # the sleep sits under main > work > nap with all of its time
    sleep_paths = [(s, w) for s, w in zip(stacks, weights, strict=True) if s[-1] == "<built-in method time.sleep>"]
    assert [s for s, _ in sleep_paths] == [["main", "work", "nap", "<built-in method time.sleep>"]]
    sleep_row = p.func_name.index("<built-in method time.sleep>")
    sleep_total = float(fs.total_time[int(np.flatnonzero(fs.func == sleep_row)[0])])
    assert math.isclose(sleep_paths[0][1], sleep_total, rel_tol=1e-5)
    assert sleep_total >= 0.05
    # per-function self time from the tree equals the exact statistics here (no cycles between functions)
    for i, f in enumerate(fs.func):
        name = p.func_name[int(f)]
        tree_self = sum(w for s, w in zip(stacks, weights, strict=True) if s[-1] == name)
        assert math.isclose(tree_self, max(float(fs.self_time[i]), 0.0), rel_tol=1e-4, abs_tol=1e-6), name
    # times are laid out back to back
    t = p.samples["time"]
    assert np.allclose(t[1:], (t + weights)[:-1], rtol=0, atol=1e-6)


def test_gzipped_and_misnamed_pstats_load_by_content(cprofile_file: Path, tmp_path: Path) -> None:
    gz = tmp_path / "profile.data.gz"
    gz.write_bytes(gzip.compress(cprofile_file.read_bytes()))
    plain = tmp_path / "profile.bin"
    plain.write_bytes(cprofile_file.read_bytes())
    want = stats_by_key(registry.load_profile(cprofile_file))
    assert stats_by_key(registry.load_profile(gz)) == want
    assert stats_by_key(registry.load_profile(plain)) == want


# ---------------------------------------------------------------- export
def test_pstats_export_is_read_by_pstats_and_round_trips(cprofile_file: Path, tmp_path: Path) -> None:
    p = registry.load_profile(cprofile_file)
    out = tmp_path / "again.pstats"
    assert registry.export_profile(p, out).name == "pstats"
    oracle = pstats.Stats(str(cprofile_file)).stats  # type: ignore[attr-defined]
    written = pstats.Stats(str(out)).stats  # type: ignore[attr-defined]
    assert set(written) == set(oracle)
    for key, (cc, nc, tt, ct, callers) in oracle.items():
        wcc, wnc, wtt, wct, wcallers = written[key]
        assert (wcc, wnc, wtt, wct) == (cc, nc, tt, ct)
        assert set(wcallers) == set(callers)
        for ck, (enc, _ecc, ett, ect) in callers.items():
            # per-edge primitive counts are not kept in the model: written as the call count
            assert wcallers[ck] == (enc, enc, ett, ect)
    again = registry.load_profile(out)
    assert stats_by_key(again) == stats_by_key(p)
    assert edges_by_key(again) == edges_by_key(p)
    # pstats' own report works on what we wrote
    with open(tmp_path / "report.txt", "w") as report:
        pstats.Stats(str(out), stream=report).sort_stats("cumulative").print_stats(5)
    assert "fib" in (tmp_path / "report.txt").read_text()


def test_pstats_export_from_sampled_profile(tmp_path: Path) -> None:
    p = ex.server_profile()
    out = tmp_path / "server.prof"
    registry.export_profile(p, out)
    stats = pstats.Stats(str(out))
    d = stats.stats  # type: ignore[attr-defined]
    assert d == pstats_dict(p)
    total_weight = float(p.samples["weight"].astype(np.float64).sum())
    assert math.isclose(sum(v[2] for v in d.values()), total_weight, rel_tol=1e-6)  # self times add up
    back = registry.load_profile(out)
    assert stats_by_key(back) == {k: (v[0], v[1], v[2], v[3]) for k, v in d.items()}


def test_deterministic_example_exports_exactly(tmp_path: Path) -> None:
    p = ex.deterministic_profile()
    out = tmp_path / "det.prof"
    registry.export_profile(p, out)
    back = registry.load_profile(out)
    assert stats_by_key(back) == stats_by_key(p)
    assert edges_by_key(back) == edges_by_key(p)


# ---------------------------------------------------------------- the safe marshal reader
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.binary(max_size=20)
)
hashables = st.recursive(scalars, lambda inner: st.tuples(inner, inner) | st.tuples(inner), max_leaves=6)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5)
    | st.lists(inner, max_size=5).map(tuple)
    | st.dictionaries(hashables, inner, max_size=5),
    max_leaves=30,
)


@settings(deadline=None)  # examples: the profile's (tests/conftest.py)
@given(values, st.integers(min_value=0, max_value=4))
def test_safe_marshal_reads_what_marshal_writes(value: Any, version: int) -> None:
    data = marshal.dumps(value, version)
    assert repr(safe_marshal.loads(data)) == repr(value)


@settings(deadline=None)  # examples: the profile's (tests/conftest.py)
@given(values, st.data())
def test_safe_marshal_agrees_with_marshal_on_damaged_data(value: Any, data: st.DataObject) -> None:
    raw = bytearray(marshal.dumps(value))
    pos = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    raw[pos] = data.draw(st.integers(min_value=0, max_value=255))
    cut = data.draw(st.integers(min_value=1, max_value=len(raw)))
    blob = bytes(raw[:cut])
    try:
        ours = safe_marshal.loads(blob)
    except safe_marshal.MarshalError:
        return  # refusing is always allowed (we accept a strict subset)
    assert repr(ours) == repr(marshal.loads(blob))  # what we accept, we read as marshal does


def test_safe_marshal_real_file_equals_marshal(cprofile_file: Path) -> None:
    data = cprofile_file.read_bytes()
    assert safe_marshal.loads(data) == marshal.loads(data)
    assert data[0] & 0x7F == ord("{") and b"r" in data  # real files use references (shared keys)


def _i32(n: int) -> bytes:
    return struct.pack("<i", n)


HOSTILE = {
    "code object": marshal.dumps({("f", 1, "g"): compile("x = 1", "f", "exec")}),
    "deep nesting": b"{" + b")\x01" * 100_000 + b"N" + b"N0",
    "list cycle": b"{" + b"\xdb" + _i32(1) + b"r" + _i32(0) + b"N0",
    "huge tuple count": b"{(" + _i32(2**31 - 1) + b"N0",
    "huge string": b"{u" + _i32(2**31 - 1) + b"abc",
    "bad reference": b"{r" + _i32(7) + b"N0",
    "set": marshal.dumps({("f", 1, "g"): frozenset({1})}),
    "dict of ints": marshal.dumps({1: 2, 3: 4}),
    "list at top": marshal.dumps([("f", 1, "g")]),
    "wrong arity": marshal.dumps({("f", 1, "g"): (1, 2, 3.0)}),
    "negative count": marshal.dumps({("f", 1, "g"): (-1, 2, 0.0, 0.0, {})}),
    "nan time": marshal.dumps({("f", 1, "g"): (1, 1, float("nan"), 0.0, {})}),
    "huge int": marshal.dumps({("f", 1, "g"): (2**80, 1, 0.0, 0.0, {})}),
    "huge line": marshal.dumps({("f", 2**40, "g"): (1, 1, 0.0, 0.0, {})}),
    "bad caller": marshal.dumps({("f", 1, "g"): (1, 1, 0.0, 0.0, {("f", 1, "g"): "x"})}),
    "trailing bytes": marshal.dumps({("f", 1, "g"): (1, 1, 0.0, 0.0, {})}) + b"xx",
    "empty dict": marshal.dumps({}),
}


def _exponential_key() -> bytes:
    """A dict key whose expansion doubles 60 times through references (hashing it would hang)."""
    out = bytearray(b"{")
    out += b"\xa9\x01N"  # ref 0: (None,)
    for i in range(60):
        out += b"\xa9\x02" + b"r" + _i32(i) + b"r" + _i32(i)  # ref i+1: (ref i, ref i)
    out += b"N0"
    return bytes(out)


def _shared_callers_bomb() -> bytes:
    """Every entry's callers dict is the same big dict (quadratic work if walked naively)."""
    callers = {("c", i, "f"): (1, 1, 0.0, 0.0) for i in range(3000)}
    big = marshal.dumps({("x", 0, "x"): (1, 1, 0.0, 0.0, callers)})
    # marshal shares the callers dict only if it is the same object
    shared = {("k", i, "g"): (1, 1, 0.0, 0.0, callers) for i in range(3000)}
    data = marshal.dumps(shared)
    assert len(data) < 4 * len(big)  # shared, not 3000 copies
    return data


HOSTILE["exponential key"] = _exponential_key()
HOSTILE["shared callers"] = _shared_callers_bomb()


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_pstats_gives_format_error(name: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.prof"
    path.write_bytes(HOSTILE[name])
    start = time.process_time()
    with pytest.raises(registry.FormatError) as err:
        registry.load_profile(path)
    assert time.process_time() - start < 5
    msg = str(err.value)
    assert str(path) in msg and "\n" not in msg


def test_truncated_real_file_gives_format_error(cprofile_file: Path, tmp_path: Path) -> None:
    data = cprofile_file.read_bytes()
    path = tmp_path / "cut.prof"
    for cut in sorted({1, 2, 5, 17, len(data) // 3, len(data) // 2, len(data) - 1}):
        path.write_bytes(data[:cut])
        with pytest.raises(registry.FormatError, match=r"cut\.prof"):
            registry.load_profile(path)


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02garbage\xff" * 50])
def test_empty_and_random_pstats(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.prof"
    path.write_bytes(content)
    with pytest.raises(registry.FormatError, match=r"x\.prof"):
        registry.load_profile(path)


def test_directory_is_not_a_profile(tmp_path: Path) -> None:
    d = tmp_path / "dir.prof"
    d.mkdir()
    with pytest.raises(registry.FormatError, match="directory"):
        registry.load_profile(d)


def test_pstats_sniffer_claims_marshal_dicts_only(cprofile_file: Path, tmp_path: Path) -> None:
    from pyrometer.core.formats import pstats_format

    head = cprofile_file.read_bytes()[: registry.SNIFF_BYTES]
    assert pstats_format.IMPORTER.sniff(head, cprofile_file)
    assert pstats_format.IMPORTER.sniff(cprofile_file.read_bytes()[:100], cprofile_file)  # a head of a bigger file
    for i, other in enumerate((b'{"shared": {"frames": []}}', b"{(garbage", marshal.dumps([1, 2]), b"main;f 1\n")):
        path = tmp_path / f"other{i}"
        path.write_bytes(other)
        assert not pstats_format.IMPORTER.sniff(other, path), other


def test_sampled_export_writes_no_call_counts_and_stats_shows_none(tmp_path: Path) -> None:
    """A sampled profile has no calls: its pstats file must not carry sample counts as calls.

    A new user ran `pyrometer stats` on a .prof we wrote and saw each function's sample count under
    "calls". pstats.Stats (the independent reader) must see 0 (no call counted: blank per-call
    columns), and our own `stats` of the file must say unknown ("-", JSON null), never a number.
    """
    from io import StringIO

    from cli_runs import run_cli

    p = ex.server_profile()
    assert p.func_stats is None and p.sample_count > 0
    out = tmp_path / "sampled.prof"
    registry.export_profile(p, out)
    report = StringIO()
    st = pstats.Stats(str(out), stream=report)
    d: dict[Any, Any] = st.stats  # type: ignore[attr-defined]
    assert d and all(v[0] == 0 and v[1] == 0 for v in d.values())
    assert all(c[0] == 0 and c[1] == 0 for v in d.values() for c in v[4].values())
    assert st.total_calls == 0  # type: ignore[attr-defined]
    st.sort_stats("tottime").print_stats()
    rows = [line.split() for line in report.getvalue().splitlines() if line.strip().startswith("0 ") and "function calls" not in line]
    assert rows and all(len(r) == 4 for r in rows)  # ncalls, tottime, cumtime, where: no percall figures
    total_weight = float(p.samples["weight"].astype(np.float64).sum())
    assert math.isclose(sum(v[2] for v in d.values()), total_weight, rel_tol=1e-6)  # the times stay
    again = registry.load_profile(out)
    assert again.meta.get("calls_unknown") is True
    res = run_cli("stats", str(out), "--json", "--top", "0")
    assert res.returncode == 0, res.stderr
    import json

    data = json.loads(res.stdout)
    assert data["functions"] and all(r["calls"] is None and r["per_call"] is None for r in data["functions"])
    text = run_cli("stats", str(out)).stdout
    assert "without call counts" in text
    table = text.split("function (file:line)", 1)[1].splitlines()[1:4]
    assert table and all(line.split()[4] == "-" for line in table), text
    # converted on, the counts stay 0 (not made up) and convert says so
    for target in ("again.prof", "again.callgrind"):
        res = run_cli("convert", str(out), str(tmp_path / target))
        assert res.returncode == 0 and "call counts are 0" in res.stderr, res.stderr
    assert all(v[1] == 0 for v in pstats.Stats(str(tmp_path / "again.prof")).stats.values())  # type: ignore[attr-defined]
    # a real cProfile file keeps its counts (nothing is "unknown" there)
    real = tmp_path / "real.prof"
    import cProfile

    cProfile.runctx("sorted(range(10))", {}, {}, str(real))
    assert registry.load_profile(real).meta.get("calls_unknown") is None
    rows_real = json.loads(run_cli("stats", str(real), "--json").stdout)["functions"]
    assert all(isinstance(r["calls"], int) and r["calls"] > 0 for r in rows_real)
