"""No invented axes or counts: what a file does not hold, we do not show.

Collapsed stacks, call statistics and sampled speedscope have no timestamps
(no time axis); a row of a collapsed file stands for its count of samples;
VizTracer traces are trace events, not samples, and a wrapped VizTracer ring
buffer is said. Ground truth is read off the files themselves.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pyrometer.core.cli.summary import build_summary, render_text
from pyrometer.core.formats.registry import load_profile
from pyrometer.core.formats.tables import function_rows, sample_total

COLLAPSED = "main;parse;read 505\nmain;parse 12\nmain;render 300\nmain 7\n"


def test_collapsed_samples_column_counts_samples(tmp_path: Path) -> None:
    path = tmp_path / "x.collapsed"
    path.write_text(COLLAPSED)
    profile = load_profile(path)
    rows = {r["name"]: r for r in function_rows(profile)[0]}
    assert (rows["read"]["samples"], rows["read"]["self_samples"]) == (505, 505)
    assert (rows["parse"]["samples"], rows["parse"]["self_samples"]) == (517, 12)
    assert rows["main"]["samples"] == 824
    assert sample_total(profile) == build_summary(profile)["samples"] == 824
    assert not profile.has_time


def _speedscope(kind: str) -> dict[str, object]:
    frames = [{"name": "main"}, {"name": "work"}]
    if kind == "sampled":
        prof: dict[str, object] = {"type": "sampled", "name": "t", "unit": "seconds", "startValue": 0, "endValue": 3,
                                   "samples": [[0, 1], [0, 1], [0]], "weights": [1, 1, 1]}
    else:
        prof = {"type": "evented", "name": "t", "unit": "seconds", "startValue": 0, "endValue": 3,
                "events": [{"type": "O", "frame": 0, "at": 0}, {"type": "O", "frame": 1, "at": 1},
                           {"type": "C", "frame": 1, "at": 2}, {"type": "C", "frame": 0, "at": 3}]}
    return {"$schema": "https://www.speedscope.app/file-format-schema.json", "shared": {"frames": frames}, "profiles": [prof]}


@pytest.mark.parametrize(("kind", "timed"), [("sampled", False), ("evented", True)])
def test_speedscope_time_axis_only_with_timestamps(tmp_path: Path, kind: str, timed: bool) -> None:
    path = tmp_path / f"{kind}.speedscope.json"
    path.write_text(json.dumps(_speedscope(kind)))
    profile = load_profile(path)
    assert profile.has_time is timed
    assert (build_summary(profile)["duration_s"] is None) is (not timed)


def test_viztracer_trace_is_trace_events_not_samples(tmp_path: Path) -> None:
    pytest.importorskip("viztracer", reason="VizTracer writes the trace")
    script = tmp_path / "fib.py"
    script.write_text("def f(n):\n    return 1 if n < 2 else f(n - 1) + f(n - 2)\nfor _ in range(3):\n    f(12)\n")
    out = tmp_path / "small.json"
    subprocess.run([sys.executable, "-m", "viztracer", "--quiet", "-o", str(out), str(script)], check=True, timeout=60, capture_output=True)
    doc = json.loads(out.read_text())
    assert doc["viztracer_metadata"]["overflow"] is False
    spans = sum(1 for ev in doc["traceEvents"] if ev.get("ph") == "X")
    profile = load_profile(out)
    data = build_summary(profile, source_path=str(out))
    assert data["samples"] is None and data["trace_events"] == spans
    head = render_text(data).splitlines()[0]
    assert f"{spans:,} trace events" in head and "samples" not in head
    assert not any("ring buffer" in n["message"] for n in profile.notices)


def test_viztracer_wrapped_ring_buffer_is_warned(tmp_path: Path) -> None:
    pytest.importorskip("viztracer", reason="VizTracer writes the trace")
    script = tmp_path / "fib.py"
    script.write_text("def f(n):\n    return 1 if n < 2 else f(n - 1) + f(n - 2)\nfor _ in range(5):\n    f(15)\n")
    out = tmp_path / "wrapped.json"
    subprocess.run(
        [sys.executable, "-m", "viztracer", "--quiet", "--tracer_entries", "1000", "-o", str(out), str(script)],
        check=True, timeout=60, capture_output=True,
    )
    assert json.loads(out.read_text())["viztracer_metadata"]["overflow"] is True  # VizTracer says it wrapped
    profile = load_profile(out)
    assert any("ring buffer wrapped" in n["message"] and n["level"] == "warning" for n in profile.notices)


def test_call_tree_counts_samples_of_collapsed_lines(tmp_path: Path) -> None:
    from pyrometer.core.analysis.calltree import call_tree

    path = tmp_path / "x.collapsed"
    path.write_text(COLLAPSED)
    profile = load_profile(path)
    tree = call_tree(profile)
    counts = {profile.func_name[int(tree.func[n])]: int(tree.count[n]) for n in range(1, tree.node_count)}
    assert counts == {"main": 824, "parse": 517, "read": 505, "render": 300}  # the Call tree's Samples column
