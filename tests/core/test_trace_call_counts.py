"""Trace events are calls: `stats` and a pstats export give each function's exact call count.

The fixture is VizTracer's own trace of viztracer_calls_script.py (tools/make_fixtures.py
viztracer_calls), whose counts are known by construction; they are also read off the
file itself (one X event per call) and checked through pstats.Stats, the reader of the
format we export.
"""

from __future__ import annotations

import json
import pstats
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from pyrometer.core.formats.registry import load_profile
from pyrometer.core.formats.tables import function_rows

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "formats" / "viztracer.calls.json"
KNOWN = {"fa": 10, "fb": 15, "leaf": 45, "rec": 15}  # see viztracer_calls_script.py
REC_PRIMITIVE = 3


def _events() -> list[dict]:  # type: ignore[type-arg]
    return [e for e in json.loads(FIXTURE.read_text())["traceEvents"] if e.get("ph") == "X"]


def _short(name: str) -> str:
    return name.split(" (")[0]


def test_the_fixture_holds_the_known_calls() -> None:
    counts = Counter(_short(e["name"]) for e in _events())
    assert {k: counts[k] for k in KNOWN} == KNOWN


def test_stats_counts_each_span_as_one_call() -> None:
    rows, _ = function_rows(load_profile(FIXTURE))
    calls = {r["name"]: r["calls"] for r in rows}
    assert {k: calls[k] for k in KNOWN} == KNOWN
    file_counts = Counter(_short(e["name"]) for e in _events())
    assert all(calls[name] == n for name, n in file_counts.items() if name in calls)  # every function, not just ours


def _outermost_rec_seconds() -> float:
    """rec's total time as cProfile counts it: the outermost call of each recursion, from the file."""
    spans = sorted(((e["ts"], e["ts"] + e["dur"]) for e in _events() if _short(e["name"]) == "rec"), key=lambda s: (s[0], -s[1]))
    total, end = 0.0, -1.0
    for a, b in spans:
        if a >= end:
            total += b - a
            end = b
    return total / 1e6


def test_converted_pstats_has_the_real_call_counts(tmp_path: Path) -> None:
    out = tmp_path / "calls.prof"
    res = subprocess.run([sys.executable, "-m", "pyrometer", "convert", str(FIXTURE), str(out)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "sample count" not in res.stderr  # nothing to excuse: the counts are real
    st = pstats.Stats(str(out)).stats  # type: ignore[attr-defined]
    by_name = {k[2]: v for k, v in st.items()}
    assert {k: by_name[k][1] for k in KNOWN} == KNOWN  # nc: all calls
    assert by_name["rec"][0] == REC_PRIMITIVE  # cc: primitive calls; recursion counted once per call
    assert by_name["rec"][3] == pytest.approx(_outermost_rec_seconds(), abs=1e-6)
    callers = {k[2]: v for k, v in by_name["leaf"][4].items()}
    assert {k: v[1] for k, v in callers.items()} == {"fa": 30, "fb": 15}


def test_begin_end_pairs_count_calls_and_recursion_once(tmp_path: Path) -> None:
    # f calls itself once (B/E pairs), twice over; g is an X event called from the inner f
    ev = []
    for base in (0, 100):
        ev += [
            {"ph": "B", "name": "f (a.py:1)", "pid": 1, "tid": 1, "ts": base},
            {"ph": "B", "name": "f (a.py:1)", "pid": 1, "tid": 1, "ts": base + 10},
            {"ph": "X", "name": "g (a.py:5)", "pid": 1, "tid": 1, "ts": base + 20, "dur": 5},
            {"ph": "E", "pid": 1, "tid": 1, "ts": base + 40},
            {"ph": "E", "pid": 1, "tid": 1, "ts": base + 50},
        ]
    path = tmp_path / "be.json"
    path.write_text(json.dumps({"traceEvents": ev}))
    profile = load_profile(path)
    rows = {r["name"]: r for r in function_rows(profile)[0]}
    assert (rows["f"]["calls"], rows["g"]["calls"]) == (4, 2)
    fs = profile.func_stats
    assert fs is not None
    f_row = [profile.func_name[int(f)] for f in fs.func].index("f")
    assert int(fs.prim_calls[f_row]) == 2
    assert float(fs.total_time[f_row]) == pytest.approx(100e-6)  # 2 x 50 µs, the inner calls not again


def test_our_own_trace_export_of_samples_invents_no_calls(tmp_path: Path) -> None:
    from pyrometer.core import example_profiles as ex
    from pyrometer.core.formats.registry import export_profile

    out = tmp_path / "sampled.trace.json"
    export_profile(ex.server_profile(), out)  # spans here are runs of consecutive samples, not calls
    rows, _ = function_rows(load_profile(out))
    assert rows and all(r["calls"] is None for r in rows)
