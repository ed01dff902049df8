"""V8 .cpuprofile written by `node --cpu-prof`, read against V8's and DevTools' own figures.

tools/make_format_fixtures_16.py wrote the fixture and `node.expected.json`
with a node script: V8's hitCount per function, and self time per function
as Chrome DevTools counts it (a sample lasts until the next; the last until endTime).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from format_errors import expect_format_error
from leaf_sums import load_against_figures, self_by_leaf

from pyrometer.core.formats.registry import load_profile
from pyrometer.core.model import Profile

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "cpuprofile"


def per_function(profile: Profile, weights: np.ndarray) -> dict[str, float]:
    return self_by_leaf(profile, weights)


def test_node_cpu_prof_matches_v8_and_devtools() -> None:
    path = FIX / "node.cpuprofile"
    profile, expected = load_against_figures(path, FIX / "node.expected.json", "cpuprofile")
    w = profile.samples["weight"].astype(np.float64)
    assert float(w.sum()) == pytest.approx(expected["total_us"] * 1e-6, rel=1e-6)
    selfs = per_function(profile, w)
    want = {k: v * 1e-6 for k, v in expected["self_us"].items() if v}
    assert selfs == pytest.approx(want, rel=1e-5)
    top = max(selfs, key=selfs.__getitem__)
    assert top == max(want, key=want.__getitem__) == "hot file:///tmp/pyrometer-fixtures-16/work.js"
    # V8's own hitCount for the JavaScript functions it sampled. V8 itself is off by one
    # here: `hot` appears 84 times in `samples` but its nodes' hitCounts add up to 83.
    counts = per_function(profile, np.ones(profile.sample_count))
    for key, hits in expected["hit_count"].items():
        if hits and not key.startswith("("):
            assert abs(counts[key] - hits) <= 1, key


def test_line_numbers_are_one_based_and_root_is_dropped() -> None:
    profile = load_profile(FIX / "node.cpuprofile")
    hot = profile.func_name.index("hot")
    assert profile.func_line[hot] == 1  # `function hot` is on the first line of work.js
    assert "(root)" not in profile.func_name


def test_old_nested_head_form(tmp_path: Path) -> None:
    doc = {
        "head": {"functionName": "(root)", "url": "", "lineNumber": 0, "id": 1, "children": [
            {"functionName": "main", "url": "app.js", "lineNumber": 4, "id": 2, "children": [
                {"functionName": "leaf", "url": "app.js", "lineNumber": 9, "id": 3, "children": []}]}]},
        "startTime": 10.0, "endTime": 10.5, "samples": [2, 3, 3], "timestamps": [10_000_000, 10_001_000, 10_003_000],
    }
    path = tmp_path / "old.cpuprofile"
    path.write_text(json.dumps(doc))
    profile = load_profile(path)
    w = profile.samples["weight"].astype(np.float64)
    assert per_function(profile, w) == pytest.approx({"main app.js": 0.001, "leaf app.js": 0.002})


@pytest.mark.parametrize(
    "doc",
    [
        {"nodes": "x", "samples": [], "timeDeltas": []},
        {"nodes": [{"id": 1, "callFrame": {}, "children": [5]}], "samples": [1], "timeDeltas": [1]},
        {"nodes": [{"id": 1, "callFrame": {}, "children": [1]}], "samples": [1], "timeDeltas": [1]},
        {"nodes": [{"id": 1, "callFrame": {}}], "samples": [2], "timeDeltas": [1]},
        {"nodes": [{"id": 1, "callFrame": {}}], "samples": [1], "timeDeltas": [1, 2]},
        {"nodes": [{"id": 1, "callFrame": {}}], "samples": [1], "timeDeltas": ["a"]},
        {"nodes": [{"id": 1, "callFrame": {}}, {"id": 1, "callFrame": {}}], "samples": [], "timeDeltas": []},
    ],
)
def test_bad_cpuprofile_is_one_line(tmp_path: Path, doc: dict) -> None:
    path = tmp_path / "bad.cpuprofile"
    path.write_text(json.dumps(doc))
    expect_format_error(path)
