"""pstats files from the `profile` module hold a code object as a function name.

`profile.Profile().run(code)` keys the simulated call `('profile', 0, <code>)`.
Each available CPython writes such a file and reads it back with its own
`pstats.Stats` (the independent reader); ours must find the same total,
function count and top self function, and must read the code object as plain
data (its fields), never by building one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pyrometer.core.formats import safe_marshal
from pyrometer.core.formats.registry import load_profile
from pyrometer.core.formats.tables import function_rows

PYENV = Path("/root/.pyenv/versions")
WRITER = r"""
import json, profile, pstats, sys
src = "def work(n):\n    return sum(i * i for i in range(n))\nfor _ in range(10):\n    work(1000)\n"
p = profile.Profile()
p.run(compile(src, "main.py", "exec"))
p.dump_stats(sys.argv[1])
s = pstats.Stats(sys.argv[1])
def name(k):
    return k[2] if isinstance(k[2], str) else k[2].co_name
top = max(s.stats.items(), key=lambda kv: (kv[1][2], kv[1][3]))
codes = [[k[0], k[1], k[2].co_name, k[2].co_filename, k[2].co_firstlineno] for k in s.stats if not isinstance(k[2], str)]
print(json.dumps({"total": s.total_tt, "n": len(s.stats), "top": name(top[0]), "codes": codes}))
"""


def _interpreters() -> list[str]:
    found = [sys.executable]
    if PYENV.is_dir():
        for minor in ("3.7", "3.8", "3.9", "3.10", "3.12", "3.13"):
            hits = sorted(PYENV.glob(f"{minor}.*/bin/python"))
            if hits:
                found.append(str(hits[-1]))
    return found


@pytest.mark.parametrize("python", _interpreters())
def test_profile_module_code_key_reads_like_pstats(python: str, tmp_path: Path) -> None:
    out = tmp_path / "code.prof"
    res = subprocess.run([python, "-c", WRITER, str(out)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    want = json.loads(res.stdout)
    assert want["codes"], "the writer no longer keys a code object: the test needs another source"
    profile = load_profile(out)
    rows, total = function_rows(profile)
    assert len(rows) == want["n"]
    assert total == pytest.approx(want["total"], rel=1e-9, abs=1e-12)
    assert rows[0]["name"] == want["top"]
    filename, line, co_name = want["codes"][0][0], want["codes"][0][1], want["codes"][0][2]
    assert any(r["name"] == co_name and r["file"] == filename and r["line"] == line for r in rows)


def test_code_object_decodes_to_plain_fields() -> None:
    import marshal

    code = compile("def f():\n    return {1, 2} , 1j, ...\n", "src.py", "exec")
    value = safe_marshal.loads(marshal.dumps({("profile", 0, code): 1}))
    (key,) = value
    info = key[2]
    assert isinstance(info, safe_marshal.CodeInfo) and not isinstance(info, type(code))
    assert (info.name, info.filename, info.firstlineno) == ("<module>", "src.py", 1)


def test_code_object_as_a_value_is_still_not_a_profile(tmp_path: Path) -> None:
    import marshal

    from pyrometer.core.formats.registry import FormatError

    bad = tmp_path / "bad.prof"
    bad.write_bytes(marshal.dumps({("f", 1, "g"): compile("x = 1", "f", "exec")}))
    with pytest.raises(FormatError, match="not a"):
        load_profile(bad)
