"""Chrome trace-event JSON: VizTracer and py-spy traces (plain and gzipped) from the real tools, B/E pairs, export."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from stack_counts import self_and_total
from stack_counts import stacks_by_thread_name as model_stacks

from pyrometer.core.formats.registry import FormatError, detect, export_profile, load_profile
from pyrometer.core.model import Profile

# Written by the real tools from script.py; regenerate with tools/make_fixtures.py.
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats"


def def_line(name: str) -> int:
    """The line of `def name` in the profiled script."""
    lines = (FIXTURES / "script.py").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith(f"def {name}("))


@pytest.fixture(scope="module")
def trace_file() -> Path:
    return FIXTURES / "viztracer.trace.json"


@pytest.fixture(scope="module")
def trace_gz(trace_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("chrome") / "trace.json.gz"
    out.write_bytes(gzip.compress(trace_file.read_bytes()))
    return out


def function_totals(p: Profile) -> tuple[Counter[str], Counter[str]]:
    return self_and_total(model_stacks(p))


def assert_close(a: Counter, b: Counter, rel: float = 1e-5, abs_: float = 1e-9) -> None:
    a = Counter({k: v for k, v in a.items() if v > abs_})
    b = Counter({k: v for k, v in b.items() if v > abs_})
    assert set(a) == set(b)
    for k in a:
        assert a[k] == pytest.approx(b[k], rel=rel, abs=abs_), k


def _file_expectations(doc: dict) -> tuple[dict[int, str], Counter[tuple[int, str]], dict[int, float]]:
    """From the JSON alone: thread names; per (tid, function name) summed `dur` of X events; per tid covered time."""
    names = {}
    dur: Counter[tuple[int, str]] = Counter()
    spans: dict[int, list[tuple[float, float]]] = {}
    for ev in doc["traceEvents"]:
        if ev["ph"] == "M" and ev["name"] == "thread_name":
            names[ev["tid"]] = ev["args"]["name"]
        elif ev["ph"] == "X":
            dur[(ev["tid"], ev["name"].split(" (")[0])] += ev["dur"] * 1e-6
            spans.setdefault(ev["tid"], []).append((ev["ts"], ev["ts"] + ev["dur"]))
    covered: dict[int, float] = {}
    for tid, ss in spans.items():  # union of intervals = time inside any span
        end = -np.inf
        for s, e in sorted(ss):
            if e > end:
                covered[tid] = covered.get(tid, 0.0) + (e - max(s, end)) * 1e-6
                end = e
    return names, dur, covered


def test_viztracer_trace_matches_the_file(trace_file: Path, trace_gz: Path) -> None:
    doc = json.loads(trace_file.read_text())
    names, dur, covered = _file_expectations(doc)
    for f in (trace_file, trace_gz):
        p = load_profile(f)
        assert detect(f).name == "chrome_trace"
        assert p.unit == "seconds" and p.source_format == "chrome_trace"
        assert {tid: p.threads[tid].name for tid in covered} == {tid: names[tid] for tid in covered}
        assert "worker-thread" in {i.name for i in p.threads.values()}
        per_thread: Counter[int] = Counter()
        for tid, w in zip(p.samples["thread"].tolist(), p.samples["weight"].tolist(), strict=True):
            per_thread[tid] += w
        assert_close(per_thread, Counter(covered), rel=1e-4, abs_=1e-6)
        # functions that do not recurse: total time = summed durations of their events
        _, total_t = function_totals(p)
        for (tid, fn), secs in dur.items():
            if fn in ("leaf_busy", "middle", "worker", "main", "sleeper"):
                per = sum(w for (tn, labels), w in model_stacks(p).items()
                          if tn == names[tid] and any(lb.split(" (")[0] == fn for lb in labels))  # fmt: skip
                assert per == pytest.approx(secs, rel=1e-4), (tid, fn)
        assert total_t["sleeper"] == pytest.approx(0.1, abs=0.05)
        i = p.func_name.index("middle")
        assert p.func_file[i].endswith("script.py") and p.func_line[i] == def_line("middle")


def test_viztracer_round_trip(trace_file: Path, tmp_path: Path) -> None:
    p = load_profile(trace_file)
    for name in ("again.trace.json", "again.trace.json.gz", "again.speedscope.json"):
        out = tmp_path / name
        export_profile(p, out)
        q = load_profile(out)
        assert q.unit == "seconds"
        assert_close(model_stacks(q), model_stacks(p), rel=1e-4, abs_=2e-9)
    out = tmp_path / "again.collapsed"
    export_profile(p, out)
    q = load_profile(out)  # integer microseconds: compare what is at least 1 µs
    got = Counter({k: v * 1e-6 for k, v in model_stacks(q).items()})
    want = model_stacks(p)
    for k, v in want.items():
        if v >= 1e-5:
            assert got[k] == pytest.approx(v, rel=0.1, abs=1e-6), k


def test_begin_end_pairs_and_bare_list(tmp_path: Path) -> None:
    events = [
        {"ph": "M", "pid": 1, "tid": 7, "name": "thread_name", "args": {"name": "T7"}},
        {"ph": "B", "pid": 1, "tid": 7, "ts": 100, "name": "outer (a.py:1)"},
        {"ph": "B", "pid": 1, "tid": 7, "ts": 110, "name": "inner (a.py:5)"},
        {"ph": "E", "pid": 1, "tid": 7, "ts": 130},
        {"ph": "X", "pid": 1, "tid": 7, "ts": 140, "dur": 10, "name": "inner (a.py:5)"},
        {"ph": "E", "pid": 1, "tid": 7, "ts": 200},
        {"ph": "i", "pid": 1, "tid": 7, "ts": 150, "name": "instant"},
        {"ph": "B", "pid": 1, "tid": 8, "ts": 120, "name": "unfinished"},
        {"ph": "X", "pid": 1, "tid": 8, "ts": 125, "dur": 5, "name": "child"},
    ]
    f = tmp_path / "be.json"
    f.write_text(json.dumps(events))
    p = load_profile(f)
    assert detect(f).name == "chrome_trace"
    assert p.threads[7].name == "T7" and p.threads[8].name == "thread 8"
    self_t, total_t = function_totals(p)
    assert total_t["outer"] == pytest.approx(100e-6)
    assert self_t["outer"] == pytest.approx(70e-6) and self_t["inner"] == pytest.approx(30e-6)
    # an unmatched B lasts until the thread's last timestamp
    assert total_t["unfinished"] == pytest.approx(10e-6) and self_t["child"] == pytest.approx(5e-6)
    assert float(p.samples["time"].min()) == 0.0


def test_samples_unit_survives_round_trip(tmp_path: Path) -> None:
    p = Profile(unit="samples")
    a, b = p.intern_frame("a", "m.py", 1), p.intern_frame("b", "m.py", 2)
    sa, sb = p.intern_stack_path([a]), p.intern_stack_path([a, b])
    p.add_samples(np.array([0.0, 1.0, 2.0, 5.0]), 3, np.array([sa, sb, sb, sa]), weight=np.array([1.0, 1.0, 2.0, 1.0]))
    p.finish()
    out = tmp_path / "s.chrome.json"
    export_profile(p, out)
    doc = json.loads(out.read_text())
    xs = sorted((e["name"], e["ts"], e["dur"]) for e in doc["traceEvents"] if e["ph"] == "X")
    # `a` stays open over the first three back-to-back samples; the gap before t=5 closes it
    assert xs == [("a (m.py:1)", 0.0, 4e6), ("a (m.py:1)", 5e6, 1e6), ("b (m.py:2)", 1e6, 3e6)]
    q = load_profile(out)
    assert q.unit == "samples"
    assert model_stacks(q) == model_stacks(p)


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"traceEvents": {"ph": "X"}}, "'traceEvents' is not a list"),
        ({"traceEvents": [1, 2]}, "trace event 0 is not an object"),
        ({"traceEvents": [{"ph": "X", "ts": "soon", "dur": 1, "name": "f"}]}, "'ts' must be a finite number"),
        ({"traceEvents": [{"ph": "X", "ts": 1, "dur": -5, "name": "f"}]}, "negative duration"),
        ({"traceEvents": [{"ph": "X", "ts": 1, "dur": 1}]}, "has no name"),
        ({"traceEvents": [{"ph": "X", "ts": 1, "dur": 1, "name": "f", "tid": [1]}]}, "pid/tid"),
        ({"traceEvents": [{"ph": "M", "name": "thread_name", "args": {"name": "x"}}]}, "no complete"),
    ],
)
def test_bad_traces(tmp_path: Path, doc: dict, message: str) -> None:
    f = tmp_path / "bad.trace.json"
    f.write_text(json.dumps(doc))
    with pytest.raises(FormatError) as err:
        load_profile(f)
    assert str(f) in str(err.value) and message in str(err.value)


@pytest.fixture(scope="module")
def pyspy_trace() -> Path:
    return FIXTURES / "pyspy.chrometrace.json"


def test_pyspy_chrometrace_begin_end_with_args(pyspy_trace: Path) -> None:
    """py-spy's chrometrace: a bare list of B/E pairs, names bare, location in args."""
    events = json.loads(pyspy_trace.read_text())
    covered: Counter[int] = Counter()
    totals: Counter[str] = Counter()
    open_: dict[int, list[tuple[str, float]]] = {}
    for ev in events:
        st = open_.setdefault(ev["tid"], [])
        if ev["ph"] == "B":
            st.append((ev["name"], ev["ts"]))
        elif ev["ph"] == "E":
            name, ts = st.pop()
            if all(n != name for n, _ in st):
                totals[name] += (ev["ts"] - ts) * 1e-6
            if not st:
                covered[ev["tid"]] += (ev["ts"] - ts) * 1e-6
    p = load_profile(pyspy_trace)
    assert detect(pyspy_trace).name == "chrome_trace"
    natives = {info.native_id: tid for tid, info in p.threads.items()}
    per_thread: Counter[int] = Counter()
    for tid, w in zip(p.samples["thread"].tolist(), p.samples["weight"].tolist(), strict=True):
        per_thread[tid] += w
    assert_close(per_thread, Counter({natives[t]: v for t, v in covered.items()}), rel=1e-5, abs_=1e-6)
    _, total_t = function_totals(p)
    for fn in ("leaf_busy", "middle", "worker"):
        assert total_t[fn] == pytest.approx(totals[fn], rel=1e-5), fn
    i = p.func_name.index("middle")
    assert p.func_file[i].endswith("script.py") and p.func_line[i] > 0


def test_column_fast_path_equals_general_loop(trace_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """VizTracer's X-only traces take a column-wise path; it must give exactly what the loop gives."""
    from pyrometer.core.formats import chrome_trace

    events = json.loads(trace_file.read_text())["traceEvents"]
    assert chrome_trace._complete_events_only(events, trace_file, lambda *a: 0) is not None  # the fast path applies
    fast = load_profile(trace_file)
    monkeypatch.setattr(chrome_trace, "_complete_events_only", lambda *args: None)
    slow = load_profile(trace_file)
    for col in ("time", "thread", "stack", "weight"):
        np.testing.assert_array_equal(fast.samples[col], slow.samples[col])
    np.testing.assert_array_equal(fast.stacks["parent"], slow.stacks["parent"])
    np.testing.assert_array_equal(fast.stacks["frame"], slow.stacks["frame"])
    assert fast.func_name == slow.func_name and fast.func_file == slow.func_file
    assert {t: i.name for t, i in fast.threads.items()} == {t: i.name for t, i in slow.threads.items()}


def test_event_list_without_closing_bracket(tmp_path: Path) -> None:
    """The trace-event format lets a bare event list end without `]` (a trace cut short)."""
    f = tmp_path / "cut.json"
    f.write_text('[{"ph":"X","pid":1,"tid":1,"ts":0,"dur":5,"name":"f (a.py:1)"},\n{"ph":"X","pid":1,"tid":1,"ts":5,"dur":5,"name":"g"},\n')
    p = load_profile(f)
    assert float(p.samples["weight"].sum()) == pytest.approx(10e-6)
    f.write_text('[{"ph":"X","pid":1,"tid":1,"ts":0,"dur":5,"name":"f"},{"ph":"X","ts"')
    with pytest.raises(FormatError, match="invalid JSON"):
        load_profile(f)
