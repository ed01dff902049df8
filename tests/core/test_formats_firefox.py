"""Firefox Profiler: export checked against the documented processed format 57; Gecko and processed imports.

The schema checks follow firefox-devtools/profiler's src/types/profile.ts as of
processed version 57 (the version we write) and docs-developer/CHANGELOG-formats.md:
53 dropped stackTable.category/subcategory, 54 dropped frameTable.implementation,
56 moved strings to shared.stringArray, 58 replaced funcTable.fileName by source.
Inputs to the importer are written by hand from gecko-profile.ts / profile.ts,
with totals known in advance.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from format_errors import expect_format_error

from pyrometer.core import example_profiles as ex
from pyrometer.core.formats.firefox import build_document
from pyrometer.core.formats.recording import write_profile
from pyrometer.core.formats.registry import FormatError, detect, export_profile, load_profile
from pyrometer.core.model import Profile

# Columns of each v57 table (src/types/profile.ts), "length" aside.
TABLES = {
    "stackTable": {"frame", "prefix"},
    "frameTable": {"address", "inlineDepth", "category", "subcategory", "func", "nativeSymbol", "innerWindowID", "line", "column"},
    "funcTable": {"name", "isJS", "relevantForJS", "resource", "fileName", "lineNumber", "columnNumber"},
    "resourceTable": {"lib", "name", "host", "type"},
    "nativeSymbols": {"libIndex", "address", "name", "functionSize"},
    "markers": {"data", "name", "startTime", "endTime", "phase", "category"},
}
THREAD_KEYS = {
    "processType", "processStartupTime", "processShutdownTime", "registerTime", "unregisterTime", "pausedRanges",
    "name", "isMainThread", "pid", "tid", "samples", "markers", "stackTable", "frameTable", "funcTable",
    "resourceTable", "nativeSymbols",
}
META_KEYS = {"interval", "startTime", "processType", "product", "stackwalk", "version", "preprocessedProfileVersion", "markerSchema"}


def check_processed_57(doc: dict[str, Any]) -> None:
    """Every structural rule of processed format 57 that the profiler's loader relies on."""
    assert {"meta", "libs", "shared", "threads"} <= set(doc)
    meta = doc["meta"]
    assert META_KEYS <= set(meta) and meta["preprocessedProfileVersion"] == 57
    cats = meta["categories"]
    assert any(c["color"] == "grey" for c in cats) and all(c["subcategories"] for c in cats)
    strings = doc["shared"]["stringArray"]
    assert all(isinstance(s, str) for s in strings)
    for th in doc["threads"]:
        assert THREAD_KEYS <= set(th) and "stringArray" not in th and "stringTable" not in th
        assert isinstance(th["pid"], str) and isinstance(th["isMainThread"], bool)
        for key, columns in TABLES.items():
            table = th[key]
            assert set(table) == columns | {"length"}, key
            assert all(len(table[c]) == table["length"] for c in columns), key
        st, ft, fn = th["stackTable"], th["frameTable"], th["funcTable"]
        for i, (prefix, frame) in enumerate(zip(st["prefix"], st["frame"], strict=True)):
            assert prefix is None or 0 <= prefix < i
            assert 0 <= frame < ft["length"]
        for func, cat, sub in zip(ft["func"], ft["category"], ft["subcategory"], strict=True):
            assert 0 <= func < fn["length"]
            assert 0 <= cat < len(cats) and 0 <= sub < len(cats[cat]["subcategories"])
        for name, file in zip(fn["name"], fn["fileName"], strict=True):
            assert 0 <= name < len(strings) and (file is None or 0 <= file < len(strings))
        samples = th["samples"]
        assert samples["weightType"] in ("samples", "tracing-ms", "bytes")
        n = samples["length"]
        assert len(samples["stack"]) == len(samples["time"]) == n
        assert samples["weight"] is None or len(samples["weight"]) == n
        assert all(s is None or 0 <= s < st["length"] for s in samples["stack"])
        assert samples["time"] == sorted(samples["time"])
        for name in th["markers"]["name"]:
            assert 0 <= name < len(strings)


def self_from_document(doc: dict[str, Any]) -> dict[str, float]:
    """Self seconds per function name, read straight from the tables (not through our importer)."""
    strings = doc["shared"]["stringArray"]
    out: dict[str, float] = {}
    for th in doc["threads"]:
        s = th["samples"]
        assert s["weightType"] == "tracing-ms"
        for stack, w in zip(s["stack"], s["weight"], strict=True):
            if stack is None:
                continue
            func = th["frameTable"]["func"][th["stackTable"]["frame"][stack]]
            name = strings[th["funcTable"]["name"][func]]
            out[name] = out.get(name, 0.0) + w / 1000.0
    return out


def test_export_follows_processed_format_57(tmp_path: Path) -> None:
    profile = ex.server_profile()
    profile.samples["cpu"][:] = 0.003
    profile.meta["start_wall"] = 1_700_000_000.25
    out = tmp_path / "server.firefox.json"
    export_profile(profile, out)
    doc = json.loads(out.read_text())
    check_processed_57(doc)
    assert self_from_document(doc) == pytest.approx({k: ex.SERVER_SELF.get(k, 0.0) for k in ex.SERVER_SELF})
    names = {th["name"]: th for th in doc["threads"]}
    assert set(names) == set(ex.SERVER_THREADS.values())
    assert names["MainThread"]["isMainThread"] and not names["worker-1"]["isMainThread"]
    # each thread carries only its own functions
    strings = doc["shared"]["stringArray"]
    worker_funcs = {strings[i] for i in names["worker-1"]["funcTable"]["name"]}
    assert worker_funcs == {"worker_loop", "fetch"}
    assert doc["meta"]["interval"] == pytest.approx(10.0)
    # sample times are milliseconds since meta.startTime, not since the epoch
    assert doc["meta"]["startTime"] == pytest.approx(1_700_000_000_250.0)
    last = max(t for th in doc["threads"] for t in th["samples"]["time"])
    assert last == pytest.approx(1290.0) and last <= doc["meta"]["profilingEndTime"]
    cpu = names["worker-1"]["samples"]["threadCPUDelta"]
    assert cpu == [3000.0] * 40  # µs, as meta.sampleUnits says
    # the blocking event is an interval marker on the loop's thread
    markers = names["MainThread"]["markers"]
    assert markers["length"] == 1 and markers["phase"] == [1]
    assert markers["endTime"][0] - markers["startTime"][0] == pytest.approx(ex.BLOCKING_MS)


def test_export_then_import_through_the_cli(tmp_path: Path) -> None:
    src = tmp_path / "server.pyro"
    write_profile(ex.server_profile(), src)
    out = tmp_path / "server.gecko.json"
    proc = subprocess.run([sys.executable, "-m", "pyrometer", "convert", str(src), str(out)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert detect(out).name == "firefox"
    back = load_profile(out)
    original = ex.server_profile()
    assert back.sample_count == original.sample_count
    assert np.allclose(np.sort(back.samples["time"]), np.sort(original.samples["time"]), atol=1e-9)
    w = back.samples["weight"].astype(np.float64)
    funcs = back.frames["func"][back.stacks["frame"][back.samples["stack"]]]
    selfs = {back.func_name[f]: float(v) for f, v in enumerate(np.bincount(funcs, weights=w)) if v}
    assert selfs == pytest.approx(ex.SERVER_SELF)
    assert sorted(t.name for t in back.threads.values()) == sorted(ex.SERVER_THREADS.values())


def test_call_statistics_only_is_refused() -> None:
    with pytest.raises(FormatError, match="only call statistics"):
        build_document(ex.deterministic_profile())


def gecko_thread(name: str, tid: int, samples: list[list[Any]]) -> dict[str, Any]:
    return {
        "name": name, "tid": tid, "pid": 7, "processType": "default", "registerTime": 0, "unregisterTime": None,
        "stringTable": ["main (app.js:1:0)", "work (app.js:10:4)", "0x7f00beef", "GC"],
        "frameTable": {"schema": {"location": 0, "relevantForJS": 1, "innerWindowID": 2, "implementation": 3, "line": 4, "column": 5, "category": 6, "subcategory": 7},
                       "data": [[0, False, 0, None, 1, 0, 0, 0], [1, False, 0, None, 12, 4, 0, 0], [2, False, 0, None, None, None, 0, 0], [3, True, 0, None, None, None, 0, 0]]},
        "stackTable": {"schema": {"prefix": 0, "frame": 1}, "data": [[None, 0], [0, 1], [1, 2], [0, 3]]},
        "samples": {"schema": {"stack": 0, "time": 1, "eventDelay": 2}, "data": samples},
        "markers": {"schema": {"name": 0, "startTime": 1, "endTime": 2, "phase": 3, "category": 4, "data": 5}, "data": []},
    }


def test_gecko_profile_with_a_child_process(tmp_path: Path) -> None:
    child = {"meta": {"version": 31, "startTime": 1000.0, "interval": 2.0}, "libs": [],
             "threads": [gecko_thread("Child", 9, [[3, 5.0, 0], [3, 7.0, 0]])], "processes": []}
    doc = {
        "meta": {"version": 31, "startTime": 990.0, "interval": 2.0, "stackwalk": 1, "product": "Firefox", "categories": [{"name": "Other", "color": "grey", "subcategories": ["Other"]}]},
        "libs": [], "pausedRanges": [], "processes": [child],
        "threads": [gecko_thread("GeckoMain", 7, [[1, 0.0, 0], [2, 2.0, 0], [2, 4.0, 0], [None, 6.0, 0], [0, 8.0, 0]])],
    }
    path = tmp_path / "firefox.json"
    path.write_text(json.dumps(doc))
    assert detect(path).name == "firefox"
    profile = load_profile(path)
    assert profile.sample_count == 7
    assert float(profile.samples["weight"].sum()) == pytest.approx(7 * 0.002)
    w = profile.samples["weight"].astype(np.float64)
    keep = profile.samples["stack"] >= 0
    funcs = profile.frames["func"][profile.stacks["frame"][profile.samples["stack"][keep]]]
    selfs = {profile.func_name[f]: round(float(v), 9) for f, v in enumerate(np.bincount(funcs, weights=w[keep])) if v}
    assert selfs == {"work": 0.002, "0x7f00beef": 0.004, "GC": 0.004, "main": 0.002}
    assert profile.func_file[profile.func_name.index("work")] == "app.js"
    assert sorted(t.name for t in profile.threads.values()) == ["Child", "GeckoMain"]
    # the child started 10 ms after the parent: its samples at 5 and 7 ms are at 15 and 17 ms
    child_tid = next(t.id for t in profile.threads.values() if t.name == "Child")
    assert profile.samples["time"][profile.samples["thread"] == child_tid].tolist() == pytest.approx([0.015, 0.017])


def processed_thread(strings_here: list[str] | None = None, **samples: Any) -> dict[str, Any]:
    th: dict[str, Any] = {
        "name": "Thread-1", "tid": 5, "pid": "5", "processType": "default", "isMainThread": True,
        "samples": {"length": len(samples["stack"]), **samples},
        "stackTable": {"length": 3, "prefix": [None, 0, 0], "frame": [0, 1, 2]},
        "frameTable": {"length": 3, "func": [0, 1, 2], "line": [3, 9, None], "category": [1, 1, 1], "subcategory": [0, 0, 0]},
        "funcTable": {"length": 3, "name": [0, 1, 2], "fileName": [3, 3, None], "lineNumber": [1, 8, None], "isJS": [True, True, False]},
    }
    if strings_here is not None:
        th["stringArray"] = strings_here
    return th


STRINGS = ["<module>", "compute", "sleep", "app.py"]


def test_processed_57_as_cpython_writes_it(tmp_path: Path) -> None:
    # CPython 3.15's sampling profiler: shared strings, weight null, weightType "samples"
    doc = {"meta": {"interval": 1.5, "startTime": 1.7e12, "preprocessedProfileVersion": 57, "version": 32},
           "shared": {"stringArray": STRINGS},
           "threads": [processed_thread(stack=[1, 1, 2, None], time=[0.0, 1.5, 3.0, 4.5], weight=None, weightType="samples")]}
    path = tmp_path / "tachyon.json"
    path.write_text(json.dumps(doc))
    profile = load_profile(path)
    assert_selfs(profile, {"compute": 0.003, "sleep": 0.0015})
    assert float(profile.samples["weight"].sum()) == pytest.approx(4 * 0.0015)
    assert profile.func_line[profile.func_name.index("compute")] == 8


def test_older_processed_with_thread_strings_and_time_deltas(tmp_path: Path) -> None:
    doc = {"meta": {"interval": 1.0, "startTime": 0, "preprocessedProfileVersion": 50, "version": 27},
           "threads": [processed_thread(STRINGS, stack=[1, 2, 2], timeDeltas=[0.0, 1.0, 1.0], weight=[2, 1, 1], weightType="samples")]}
    path = tmp_path / "old.json"
    path.write_text(json.dumps(doc))
    profile = load_profile(path)
    assert_selfs(profile, {"compute": 0.002, "sleep": 0.002})
    assert profile.samples["time"].tolist() == pytest.approx([0.0, 0.001, 0.002])


def test_processed_58_sources_and_tracing_ms(tmp_path: Path) -> None:
    th = processed_thread(stack=[1, 2], time=[0.0, 4.0], weight=[4.0, 0.5], weightType="tracing-ms")
    th["funcTable"]["source"] = [0, 0, None]
    del th["funcTable"]["fileName"]
    doc = {"meta": {"interval": 1.0, "startTime": 0, "preprocessedProfileVersion": 58, "version": 31},
           "shared": {"stringArray": STRINGS, "sources": {"length": 1, "uuid": [None], "filename": [3]}}, "threads": [th]}
    path = tmp_path / "new.json"
    path.write_text(json.dumps(doc))
    profile = load_profile(path)
    assert_selfs(profile, {"compute": 0.004, "sleep": 0.0005})
    assert profile.func_file[profile.func_name.index("compute")] == "app.py"


def assert_selfs(profile: Profile, expected: dict[str, float]) -> None:
    keep = profile.samples["stack"] >= 0
    w = profile.samples["weight"].astype(np.float64)[keep]
    funcs = profile.frames["func"][profile.stacks["frame"][profile.samples["stack"][keep]]]
    got = {profile.func_name[f]: float(v) for f, v in enumerate(np.bincount(funcs, weights=w)) if v}
    assert got == pytest.approx(expected)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d["threads"][0]["stackTable"].update(prefix=[None, 5, 0]),
        lambda d: d["threads"][0]["stackTable"].update(prefix=[1, 0, 0]),  # a cycle
        lambda d: d["threads"][0]["frameTable"].update(func=[0, 9, 2]),
        lambda d: d["threads"][0]["funcTable"].update(name=[0, 99, 2]),
        lambda d: d["threads"][0]["samples"].update(stack=[7, 1, 2, None]),
        lambda d: d["threads"][0]["samples"].update(time=[0, "x", 1, 2]),
        lambda d: d["threads"][0]["samples"].update(weightType="furlongs"),
        lambda d: d["threads"][0].update(samples=[]),
        lambda d: d["shared"].update(stringArray=None),
        lambda d: d["threads"].append("nope"),
    ],
)
def test_bad_firefox_is_one_line(tmp_path: Path, mutate: Any) -> None:
    doc = {"meta": {"interval": 1.0, "startTime": 0, "preprocessedProfileVersion": 57, "version": 31},
           "shared": {"stringArray": STRINGS},
           "threads": [processed_thread(stack=[1, 1, 2, None], time=[0.0, 1.0, 2.0, 3.0], weight=None, weightType="samples")]}
    mutate(doc)
    path = tmp_path / "bad.gecko.json"
    path.write_text(json.dumps(doc))
    expect_format_error(path)
