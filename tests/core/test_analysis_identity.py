"""One function identity across formats, paths and Python versions (analysis.identity)."""

from __future__ import annotations

from pyrometer.core.analysis.diff import diff_functions
from pyrometer.core.analysis.identity import (
    file_key,
    identity_keys,
    key_lines,
    match_keys,
    name_key,
)
from pyrometer.core.model import FuncStats, Profile


def test_spellings_of_one_function_share_a_key() -> None:
    stdlib = [
        "/usr/lib/python3.9/json/encoder.py",
        "/root/.pyenv/versions/3.12.1/lib/python3.12/json/encoder.py",
        "C:\\Python311\\Lib\\json\\encoder.py",
    ]
    assert {file_key(f) for f in stdlib} == {"json/encoder.py"}
    assert file_key("/srv/venv/lib/python3.11/site-packages/numpy/core/a.py") == "numpy/core/a.py"
    assert file_key("light.py") == file_key("/tmp/tour/light.py") == "light.py"
    assert {file_key(f) for f in ("", "~", "<built-in>", "builtins")} == {"~"}  # pstats, callgrind, yappi
    assert name_key("JSONEncoder.iterencode") == name_key("iterencode") == "iterencode"
    assert name_key("outer.<locals>.inner") == "inner"
    assert name_key("<built-in method builtins.sum>", "~") == "<built-in method builtins.sum>"


def test_functions_that_share_a_short_name_stay_apart() -> None:
    keys = identity_keys(
        ["A.__init__", "B.__init__", "f", "f", "g"],
        ["x.py", "x.py", "/p/a/u.py", "/p/b/u.py", "x.py"],
        [1, 5, 3, 3, 9],
    )
    assert len(set(keys)) == 5
    assert keys[0] == ("x.py", "__init__", 1) and keys[2] == ("a/u.py", "f", 0)


def test_a_key_made_longer_on_one_side_still_matches() -> None:
    base = identity_keys(["A.__init__", "B.__init__"], ["x.py", "x.py"], [1, 5])
    new = identity_keys(["__init__"], ["/abs/x.py"], [5])  # only B ran in the new profile
    matched = match_keys(key_lines(base, [1, 5]), key_lines(new, [5]))
    assert matched == {new[0]: base[1]}


def _stats_profile(rows: list[tuple[str, str, int, float]], fmt: str) -> Profile:
    import numpy as np

    p = Profile(source_format=fmt)
    ids = [p.intern_function(n, f, line) for n, f, line, _ in rows]
    t = np.array([s for *_, s in rows])
    p.func_stats = FuncStats("wall", np.array(ids, np.int32), np.ones(len(ids), np.int64), np.ones(len(ids), np.int64), t, t)
    return p


def test_diff_of_pstats_and_callgrind_spellings_matches_everything() -> None:
    """Python 3.9 pstats (`co_name`, relative script, builtins in '') against a 3.12
    callgrind (qualified names, absolute paths, builtins in '~')."""
    base = _stats_profile(
        [
            ("iterencode", "/usr/lib/python3.9/json/encoder.py", 204, 0.5),
            ("main", "light.py", 3, 0.2),
            ("<built-in method builtins.len>", "", 0, 0.1),
        ],
        "pstats",
    )
    new = _stats_profile(
        [
            ("JSONEncoder.iterencode", "/opt/py/lib/python3.12/json/encoder.py", 205, 0.6),
            ("main", "/home/me/light.py", 3, 0.3),
            ("<built-in method builtins.len>", "~", 0, 0.1),
        ],
        "callgrind",
    )
    d = diff_functions(base, new)
    assert (d.matched, d.only_base, d.only_new) == (3, 0, 0)
    assert sorted(d.name) == ["<built-in method builtins.len>", "JSONEncoder.iterencode", "main"]
