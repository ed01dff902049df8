"""speedscope import/export on files written by the real py-spy and pyinstrument."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from stack_counts import self_and_total

from pyrometer.core.formats.registry import (
    FormatError,
    detect,
    export_profile,
    exporter_for,
    load_profile,
)
from pyrometer.core.model import Profile

# Written by the real py-spy and pyinstrument from script.py; regenerate with tools/make_fixtures.py.
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats"


@pytest.fixture(scope="module")
def pyspy_file() -> Path:
    return FIXTURES / "pyspy.speedscope.json"


@pytest.fixture(scope="module")
def pyinstrument_file() -> Path:
    return FIXTURES / "pyinstrument.speedscope.json"


def model_stacks(p: Profile) -> Counter[tuple[int, tuple[str, ...]]]:
    """Weight per (thread id, root-first frame labels), as the model holds it."""
    cache: dict[int, tuple[str, ...]] = {}
    out: Counter[tuple[int, tuple[str, ...]]] = Counter()
    for t, s, w in zip(p.samples["thread"].tolist(), p.samples["stack"].tolist(), p.samples["weight"].tolist(), strict=True):
        if s not in cache:
            cache[s] = tuple(p.frame_label(f) for f in p.stack_frames(s))
        out[(t, cache[s])] += w
    return out


def model_by_name(p: Profile) -> Counter[tuple[str, tuple[str, ...]]]:
    """Like model_stacks but keyed by thread name (ids may be renumbered by a round trip)."""
    out: Counter[tuple[str, tuple[str, ...]]] = Counter()
    for (t, names), w in model_stacks(p).items():
        out[(p.threads[t].name, names)] += w
    return out


def function_times(p: Profile) -> tuple[Counter[str], Counter[str]]:
    """Self and total weight per function name (total counts a function once per sample)."""
    return self_and_total(model_stacks(p))


def assert_counters_close(a: Counter, b: Counter, rel: float = 1e-5) -> None:
    a = Counter({k: v for k, v in a.items() if v})
    b = Counter({k: v for k, v in b.items() if v})
    assert set(a) == set(b)
    for k in a:
        assert a[k] == pytest.approx(b[k], rel=rel, abs=1e-9), k


def _label(fr: dict) -> str:
    return f"{fr['name']} ({fr['file']}:{fr['line']})"


# ---------------------------------------------------------------- py-spy (sampled)
def test_pyspy_sampled_matches_the_file(pyspy_file: Path) -> None:
    doc = json.loads(pyspy_file.read_text())
    frames = doc["shared"]["frames"]
    expected: Counter[tuple[int, tuple[str, ...]]] = Counter()
    names = {}
    n_samples = 0
    for prof in doc["profiles"]:
        m = re.match(r'Thread (\d+) "(.*)"', prof["name"])
        assert m, prof["name"]
        tid = int(m.group(1))
        names[tid] = m.group(2) or f"Thread {tid}"
        n_samples += len(prof["samples"])
        for stack, w in zip(prof["samples"], prof["weights"], strict=True):
            expected[(tid, tuple(_label(frames[i]) for i in stack))] += w

    p = load_profile(pyspy_file)
    assert detect(pyspy_file).name == "speedscope"
    assert p.source_format == "speedscope" and p.unit == "seconds"
    assert p.sample_count == n_samples
    assert {t: i.name for t, i in p.threads.items()} == names
    assert len(names) >= 2  # main thread and worker (py-spy names them only when it can read the name)
    assert_counters_close(model_stacks(p), expected)
    self_t, total_t = function_times(p)
    for fn in ("leaf_busy", "middle", "worker", "main"):
        assert total_t[fn] > 0, fn
    assert total_t["middle"] >= self_t["leaf_busy"] * 0.5
    # py-spy's line is the executing line: a function's lines merge into one function
    keys = [(p.func_name[f], p.func_file[f]) for f in range(len(p.func_name))]
    assert len(keys) == len(set(keys))
    # times run from startValue by the running sum of weights, per thread
    for tid in names:
        t = p.samples["time"][p.samples["thread"] == tid]
        w = p.samples["weight"][p.samples["thread"] == tid]
        assert t[0] == pytest.approx(0.0, abs=1e-9)
        assert np.all(np.diff(t) >= 0)
        assert t[-1] == pytest.approx(float(w[:-1].sum()), rel=1e-5)


def test_pyspy_round_trip_every_exporter(pyspy_file: Path, tmp_path: Path) -> None:
    p = load_profile(pyspy_file)
    before = model_by_name(p)
    non_empty = Counter({k: v for k, v in before.items() if k[1]})
    for name in ("again.speedscope.json", "again.trace.json", "again.collapsed"):
        out = tmp_path / name
        export_profile(p, out)
        q = load_profile(out)
        after = model_by_name(q)
        if name.endswith(".collapsed"):  # sample counts (issue 10), not microseconds
            assert q.unit == "samples"
            counts: Counter[tuple[str, tuple[str, ...]]] = Counter()
            for t, s in zip(p.samples["thread"].tolist(), p.samples["stack"].tolist(), strict=True):
                counts[(p.threads[t].name, tuple(p.frame_label(f) for f in p.stack_frames(s)))] += 1
            assert_counters_close(after, counts)
        elif name.endswith(".trace.json"):  # samples without frames leave no span
            assert_counters_close(after, non_empty, rel=1e-4)
        else:
            assert q.unit == "seconds"
            assert_counters_close(after, before)
            assert q.sample_count == p.sample_count


# ---------------------------------------------------------------- pyinstrument (evented)
def _evented_totals(doc: dict) -> tuple[Counter[str], float]:
    """Per function name: summed open..close time of its outermost activations."""
    frames = doc["shared"]["frames"]
    totals: Counter[str] = Counter()
    prof = doc["profiles"][0]
    open_at: list[tuple[str, float]] = []
    for ev in prof["events"]:
        name = frames[ev["frame"]]["name"]
        if ev["type"] == "O":
            open_at.append((name, ev["at"]))
        else:
            n, at = open_at.pop()
            assert n == name
            if all(other != name for other, _ in open_at):
                totals[name] += ev["at"] - at
    return totals, prof["endValue"] - prof["startValue"]


def test_pyinstrument_evented_matches_the_file(pyinstrument_file: Path) -> None:
    doc = json.loads(pyinstrument_file.read_text())
    expected_total, span = _evented_totals(doc)
    p = load_profile(pyinstrument_file)
    assert p.unit == "seconds" and len(p.threads) == 1
    assert next(iter(p.threads.values())).name == doc["profiles"][0]["name"]
    self_t, total_t = function_times(p)
    for fn, secs in expected_total.items():
        assert total_t[fn] == pytest.approx(secs, rel=1e-4, abs=1e-6), fn
    # the self-time segments tile the run: their sum is the root's open..close time
    root = doc["shared"]["frames"][doc["profiles"][0]["events"][0]["frame"]]["name"]
    assert float(p.samples["weight"].sum()) == pytest.approx(expected_total[root], rel=1e-5)
    assert float(p.samples["weight"].sum()) <= span + 1e-6
    assert total_t["sleeper"] == pytest.approx(0.1, abs=0.05)  # script.py sleeps 0.1 s
    assert self_t["leaf_busy"] > 0
    # segments are contiguous in time and never overlap
    t, w = p.samples["time"], p.samples["weight"].astype(np.float64)
    assert np.all(t[1:] >= t[:-1] + w[:-1] - 1e-6)


def test_pyinstrument_round_trip(pyinstrument_file: Path, tmp_path: Path) -> None:
    p = load_profile(pyinstrument_file)
    out = tmp_path / "pyi.speedscope.json"
    export_profile(p, out)
    q = load_profile(out)
    assert_counters_close(model_by_name(q), model_by_name(p))
    out = tmp_path / "pyi.trace.json"
    export_profile(p, out)
    assert_counters_close(model_by_name(load_profile(out)), model_by_name(p), rel=1e-4)


# ---------------------------------------------------------------- hand-made files
def _doc(profiles: list[dict], frames: list[dict] | None = None) -> dict:
    return {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": frames if frames is not None else [{"name": "a", "file": "a.py", "line": 1}, {"name": "b"}]},
        "profiles": profiles,
    }


def test_units_and_fast_path_equals_plain_parse(tmp_path: Path) -> None:
    prof = {"type": "sampled", "name": "x", "unit": "milliseconds", "startValue": 10, "endValue": 16,
            "samples": [[0, 1], [0], [], [0, 1]], "weights": [1, 2, 1, 2]}  # fmt: skip
    compact = tmp_path / "c.speedscope.json"
    compact.write_text(json.dumps(_doc([prof]), separators=(",", ":")))
    pretty = tmp_path / "p.speedscope.json"
    pretty.write_text(json.dumps(_doc([prof]), indent=3))
    # "samples" inside a string and a non-list "samples" key force the plain parse
    tricky_doc = _doc([prof], [{"name": 'a ,"samples":[[0]] ', "file": "a.py", "line": 1}, {"name": "b"}])
    tricky_doc["samples"] = 5
    tricky = tmp_path / "t.speedscope.json"
    tricky.write_text(json.dumps(tricky_doc))
    results = []
    for f in (compact, pretty, tricky):
        p = load_profile(f)
        assert p.unit == "seconds"
        np.testing.assert_allclose(p.samples["time"], [0.010, 0.011, 0.013, 0.014])
        np.testing.assert_allclose(p.samples["weight"], [0.001, 0.002, 0.001, 0.002], rtol=1e-6)
        assert p.samples["stack"][2] == -1
        results.append(sorted((k[1], v) for k, v in model_stacks(p).items()))
    assert results[0] == results[1]
    assert [len(k) for k, _ in results[2]] == [len(k) for k, _ in results[0]]


def test_none_unit_is_samples_and_evented_nesting(tmp_path: Path) -> None:
    sampled = {"type": "sampled", "name": "s", "unit": "none", "startValue": 0, "endValue": 3,
               "samples": [[0], [0, 1]], "weights": [1, 2]}  # fmt: skip
    f = tmp_path / "n.json"
    f.write_text(json.dumps(_doc([sampled])))
    p = load_profile(f)
    assert p.unit == "samples" and float(p.samples["weight"].sum()) == 3.0

    events = [{"type": "O", "at": 0, "frame": 0}, {"type": "O", "at": 2, "frame": 1},
              {"type": "C", "at": 5, "frame": 1}, {"type": "C", "at": 6, "frame": 0}]  # fmt: skip
    evented = {"type": "evented", "name": "e", "unit": "microseconds", "startValue": 0, "endValue": 6, "events": events}
    f.write_text(json.dumps(_doc([evented])))
    p = load_profile(f)
    self_t, total_t = function_times(p)
    assert self_t["a"] == pytest.approx(3e-6) and total_t["a"] == pytest.approx(6e-6)
    assert self_t["b"] == pytest.approx(3e-6)


@pytest.mark.parametrize(
    "profile, message",
    [
        ({"type": "sampled", "unit": "seconds", "samples": [[7]], "weights": [1]}, "frame 7"),
        ({"type": "sampled", "unit": "seconds", "samples": [[0]], "weights": [1, 2]}, "2 weights for 1 samples"),
        ({"type": "sampled", "unit": "parsecs", "samples": [], "weights": []}, "unknown unit"),
        ({"type": "flame", "unit": "seconds"}, "unknown profile type"),
        ({"type": "evented", "unit": "seconds", "events": [{"type": "C", "at": 1, "frame": 0}]}, "not open"),
        ({"type": "evented", "unit": "seconds", "events": [{"type": "O", "at": "x", "frame": 0}]}, "'at'"),
        ({"type": "sampled", "unit": "seconds", "samples": [["a"]], "weights": [1]}, "non-integer"),
        ({"type": "evented", "unit": "seconds", "events": [{"type": "O", "at": 5, "frame": 0}, {"type": "C", "at": 1, "frame": 0}]}, "back in time"),
        ({"type": "evented", "unit": "seconds", "events": [{"type": "X", "at": 5, "frame": 0}]}, "unknown type"),
        ({"type": "evented", "unit": "seconds", "events": [{"type": "O", "at": 5, "frame": 9}]}, "undefined frame"),
        ({"type": "sampled", "unit": "seconds", "samples": [[0]], "weights": [1e300]}, "finite numbers below"),
        ({"type": "sampled", "unit": "seconds", "samples": [[0]], "weights": "1"}, "'weights' must be a list"),
        ({"type": "sampled", "unit": "seconds", "samples": [[0]], "weights": ["x"]}, "must be numbers"),
    ],
)
def test_bad_content_names_file_and_problem(tmp_path: Path, profile: dict, message: str) -> None:
    f = tmp_path / "bad.speedscope.json"
    f.write_text(json.dumps(_doc([profile])))
    with pytest.raises(FormatError) as err:
        load_profile(f)
    assert str(f) in str(err.value) and message in str(err.value)


def test_exporter_choice_by_extension(tmp_path: Path) -> None:
    assert exporter_for(tmp_path / "x.speedscope.json").name == "speedscope"
    assert exporter_for(tmp_path / "x.trace.json").name == "chrome_trace"
    assert exporter_for(tmp_path / "x.collapsed").name == "collapsed"
    assert exporter_for(tmp_path / "x.folded").name == "collapsed"
    assert exporter_for(tmp_path / "x.json").name == "speedscope"  # the common interchange format
    assert exporter_for(tmp_path / "x.trace.json.gz").name == "chrome_trace"


def test_export_of_samples_profile_says_none(tmp_path: Path) -> None:
    p = Profile(unit="samples")
    a = p.intern_frame("a", "a.py", 3, 1)
    s = p.intern_stack_path([a])
    p.add_samples(np.array([0.0, 1.0]), 0, np.array([s, s]), weight=np.array([1.0, 4.0]))
    p.finish()
    out = tmp_path / "s.speedscope.json"
    export_profile(p, out)
    doc = json.loads(out.read_text())
    assert doc["profiles"][0]["unit"] == "none" and doc["profiles"][0]["weights"] == [1.0, 4.0]
    assert doc["shared"]["frames"][0] == {"name": "a", "file": "a.py", "line": 3, "def_line": 1}  # issue 10: both lines
    q = load_profile(out)
    assert q.unit == "samples" and float(q.samples["weight"].sum()) == 5.0
