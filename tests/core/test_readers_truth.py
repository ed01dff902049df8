"""Small files in the shapes real tools write, checked against an independent reader.

Each case is a shape the corpus showed us reading wrong (see test_corpus.py for
the real files): callgrind totals inflated by recursion, lsprofcalltree's
`fi=` without `fl=`, names used before their definition, event units, the
"truncated file?" warning on rounding, Chrome traces with unfinished `X`
events. The independent reader is gprof2dot or plain arithmetic on the file.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from pyrometer.core.cli.summary import build_summary, render_text
from pyrometer.core.formats.registry import load_profile
from pyrometer.core.formats.tables import function_rows

RECURSIVE = """\
events: Hits
summary: 21
fn=main
0 1
cfn=walk
calls=1 0
0 20
fn=walk
0 5
cfn=walk
calls=9 0
0 15
cfn=leaf
calls=5 0
0 15
fn=leaf
0 15
"""

LSPROF = """\
events: Ticks
summary: 100
fi=~
fn=<built-in method sleep>
0 60

fi=/app/mod.py
fn=fib mod:3
3 10
cfn=fib mod:3
cfi=/app/mod.py
calls=7 3
3 50
cfn=<built-in method sleep>
cfi=~
calls=4 0
0 60
fi=/app/main.py
fn=<module> main:1
1 30
cfn=fib mod:3
cfi=/app/mod.py
calls=1 3
1 70
"""

FORWARD = """\
version: 1
creator: callgrind-0.10.1
events: Ir
fl=(1) /src/a.c
fn=(1) main
cob=(2)
cfl=(1)
cfn=(2) helper
calls=3 10
5 300
5 40
ob=(2) /lib/libhelper.so
fl=(1)
fn=(2)
10 300
"""


def gprof2dot_total(text: str) -> float:
    gprof2dot = pytest.importorskip("gprof2dot", reason="gprof2dot (pip install gprof2dot) is the independent reader")
    err, sys.stderr = sys.stderr, io.StringIO()
    try:
        prof = gprof2dot.CallgrindParser(io.StringIO(text)).parse()
    finally:
        sys.stderr = err
    return float(prof[gprof2dot.SAMPLES])


def write(tmp_path: Path, text: str, name: str = "x.callgrind") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_callgrind_total_is_self_sum_not_recursive_inclusive(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, RECURSIVE))
    rows, total = function_rows(profile)
    assert total == gprof2dot_total(RECURSIVE) == 21
    assert {r["name"]: r["self"] for r in rows} == {"main": 1, "walk": 5, "leaf": 15}
    assert max(r["self_pct"] for r in rows) == pytest.approx(100 * 15 / 21)


def test_lsprofcalltree_fi_without_fl_is_one_function_with_self_recursion(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, LSPROF))
    rows, total = function_rows(profile)
    by_name = {r["name"]: r for r in rows}
    assert total == gprof2dot_total(LSPROF) == 100
    assert len(rows) == 3  # fib is one function: the calls into it name the same file as its fi=
    fib = by_name["fib mod:3"]
    assert fib["file"] == "/app/mod.py" and fib["calls"] == 8
    assert fib["total"] == 10 + 60  # self + sleep; the recursive call is already inside
    assert by_name["<module> main:1"]["total"] == 100


def test_name_used_before_its_definition_is_accepted(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, FORWARD))
    rows, total = function_rows(profile)
    assert total == gprof2dot_total(FORWARD) == 340
    helper = next(r for r in rows if r["name"] == "helper")
    assert (helper["self"], helper["calls"], helper["file"]) == (300, 3, "/src/a.c")


def test_instruction_counts_are_not_seconds(tmp_path: Path) -> None:
    path = write(tmp_path, FORWARD)
    data = build_summary(load_profile(path), source_path=str(path))
    text = render_text(data)
    assert data["duration_s"] is None and " s," not in text.splitlines()[0]
    assert "total: 340 Ir" in text and "seconds" not in text and "samples" not in text.split("\n", 2)[1]


def test_rounding_difference_from_summary_is_no_truncation_warning(tmp_path: Path) -> None:
    big = "events: Ir\nsummary: 1000000\nfn=a\n0 999600\n"  # 0.04% short: rounding, as pyprof2calltree writes
    assert not load_profile(write(tmp_path, big, "r.callgrind")).notices
    cut = "events: Ir\nsummary: 1000000\nfn=a\n0 500000\n"
    assert any("truncated" in n["message"] for n in load_profile(write(tmp_path, cut, "c.callgrind")).notices)


def test_pstats_and_callgrind_have_no_time_axis(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, LSPROF))
    assert not profile.has_time
    assert build_summary(profile)["duration_s"] is None


def _trace(events: list[dict[str, object]]) -> str:
    return json.dumps({"traceEvents": events})


def test_chrome_unfinished_complete_event_closes_at_thread_end(tmp_path: Path) -> None:
    events: list[dict[str, object]] = [
        {"ph": "X", "name": "RunTask", "pid": 1, "tid": 1, "ts": 100, "dur": 50},
        {"ph": "X", "name": "Inner", "pid": 1, "tid": 1, "ts": 110, "dur": 10},
        {"ph": "X", "name": "Unfinished", "pid": 1, "tid": 1, "ts": 200},  # Chrome 65-70 leave these
        {"ph": "X", "name": "Late", "pid": 1, "tid": 1, "ts": 220, "dur": 30},
    ]
    path = tmp_path / "t.json"
    path.write_text(_trace(events))
    profile = load_profile(path)
    rows, total = function_rows(profile)
    # by hand: RunTask 40 self, Inner 10; Unfinished 200..250 holds Late 220..250 -> 20 self, Late 30
    assert {r["name"]: round(r["self"] * 1e6, 3) for r in rows} == {"RunTask": 40, "Inner": 10, "Unfinished": 20, "Late": 30}
    assert total == pytest.approx(100e-6)
    assert any("unfinished" in n["message"] for n in profile.notices)


def test_chrome_label_with_a_number_in_parentheses_is_a_name(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(_trace([{"ph": "X", "name": "PyTorch Profiler (0)", "pid": 1, "tid": 1, "ts": 0, "dur": 5}]))
    rows, _ = function_rows(load_profile(path))
    assert (rows[0]["name"], rows[0]["file"]) == ("PyTorch Profiler (0)", "")


def test_chrome_profile_chunk_samples_are_read(tmp_path: Path) -> None:
    nodes = [
        {"id": 1, "callFrame": {"functionName": "(root)"}},
        {"id": 2, "parent": 1, "callFrame": {"functionName": "main", "url": "file:///a.js", "lineNumber": 0}},
        {"id": 3, "parent": 2, "callFrame": {"functionName": "work", "url": "file:///a.js", "lineNumber": 9}},
    ]
    events: list[dict[str, object]] = [
        {"ph": "M", "name": "thread_name", "pid": 7, "tid": 3, "args": {"name": "CrRendererMain"}},
        {"ph": "X", "name": "RunTask", "pid": 7, "tid": 3, "ts": 1000, "dur": 900},
        {"ph": "P", "name": "Profile", "id": "0x1", "pid": 7, "tid": 3, "ts": 1000, "args": {"data": {"startTime": 1000}}},
        {
            "ph": "P", "name": "ProfileChunk", "id": "0x1", "pid": 7, "tid": 9, "ts": 1500,
            "args": {"data": {"cpuProfile": {"nodes": nodes, "samples": [3, 3, 2, 3]}, "timeDeltas": [100, 100, 300, 100]}},
        },
    ]
    path = tmp_path / "devtools.json"
    path.write_text(_trace(events))
    profile = load_profile(path)
    rows, total = function_rows(profile)
    # samples at 1100, 1200, 1500, 1600: each lasts until the next; the last has no known end
    by = {r["name"]: round(r["self"] * 1e6, 3) for r in rows}
    assert by == {"work": 400, "main": 100}
    assert total == pytest.approx(500e-6)
    assert next(r for r in rows if r["name"] == "work")["line"] == 10
    assert [t.name for t in profile.threads.values()] == ["CrRendererMain"]
