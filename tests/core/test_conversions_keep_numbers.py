"""Conversions keep the numbers: checked against the source tool's reader, never our writer.

- a real cProfile file exported to speedscope / collapsed keeps every
  function's self time as `pstats.Stats` reads it (a stand-alone parser reads
  the export);
- a real callgrind file exported to speedscope keeps gprof2dot's total;
- sample counts written where a format wants call counts are said on stderr;
- a round trip through speedscope or Chrome trace keeps the set of functions
  and each frame's line.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from cli_runs import run_cli

from pyrometer.core.formats.registry import export_profile, load_profile
from pyrometer.core.model import Profile

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
if not CORPUS.is_dir():
    CORPUS = Path("/work/shared/corpus")


def _leaf(n: int) -> int:
    return sum(i * i for i in range(n))


def _shared(n: int) -> int:
    return _leaf(n) + _leaf(n // 2)


def _rec(k: int) -> int:
    return _shared(800) if k == 0 else _rec(k - 1) + _shared(300)


def _a() -> int:
    return sum(_shared(3000) for _ in range(8))


def _b() -> int:
    return sum(_rec(6) for _ in range(10)) + _shared(20000)


@pytest.fixture(scope="module")
def cprofile_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real cProfile run with a callee shared by two callers and recursion (where estimates go wrong)."""
    path = tmp_path_factory.mktemp("cprof") / "run.prof"
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(3):
        _a()
        _b()
    prof.disable()
    prof.dump_stats(str(path))
    return path


def pstats_self(path: Path) -> dict[tuple[str, str], float]:
    """Self seconds per (name, file) as pstats.Stats reads the file (builtins have file '')."""
    st = pstats.Stats(str(path))
    out: dict[tuple[str, str], float] = defaultdict(float)
    for (file, _line, name), v in st.stats.items():  # type: ignore[attr-defined]
        out[(name, "" if file == "~" else file)] += v[2]
    return dict(out)


def speedscope_self(path: Path) -> dict[tuple[str, str], float]:
    """Self weight per (name, file) of a sampled speedscope file, read stand-alone."""
    doc = json.loads(path.read_text())
    frames = doc["shared"]["frames"]
    out: dict[tuple[str, str], float] = defaultdict(float)
    for prof in doc["profiles"]:
        assert prof["type"] == "sampled"
        for stack, w in zip(prof["samples"], prof["weights"], strict=True):
            if stack:
                fr = frames[stack[-1]]
                out[(fr["name"], fr.get("file", ""))] += w
    return dict(out)


def test_cprofile_to_speedscope_keeps_each_functions_self_time(cprofile_file: Path, tmp_path: Path) -> None:
    want = pstats_self(cprofile_file)
    out = tmp_path / "run.speedscope.json"
    export_profile(load_profile(cprofile_file), out)
    got = speedscope_self(out)
    for key, secs in want.items():
        if secs > 1e-6:
            assert got.get(key, 0.0) == pytest.approx(secs, rel=1e-4, abs=1e-7), key
    assert sum(got.values()) == pytest.approx(sum(want.values()), rel=1e-5)


def test_cprofile_to_collapsed_keeps_self_time_in_microseconds(cprofile_file: Path, tmp_path: Path) -> None:
    want = pstats_self(cprofile_file)
    out = tmp_path / "run.collapsed"
    export_profile(load_profile(cprofile_file), out)
    got: dict[str, int] = defaultdict(int)
    lines = out.read_text().splitlines()
    for line in lines:
        stack, _, count = line.rpartition(" ")
        got[stack.split(";")[-1].split(" (")[0]] += int(count)
    by_name: dict[str, float] = defaultdict(float)
    for (name, _file), secs in want.items():
        by_name[name] += secs
    for name, secs in by_name.items():
        if secs > 1e-4:
            assert got[name] == pytest.approx(secs * 1e6, abs=len(lines)), name  # 1 µs rounding per line


@pytest.mark.parametrize(
    ("name", "scale"),
    [("gprof2dot-bzr/bzr.callgrind", 1.0), ("ocr_wrapper/callgrind.out", 1e-6)],  # yappi: microsecond ticks
)
def test_callgrind_to_speedscope_keeps_the_total(tmp_path: Path, name: str, scale: float) -> None:
    gprof2dot = pytest.importorskip("gprof2dot", reason="gprof2dot reads the callgrind file")
    src = CORPUS / "callgrind" / name
    if not src.is_file():
        pytest.skip(f"no corpus at {CORPUS}")
    import io

    err, sys.stderr = sys.stderr, io.StringIO()
    try:
        truth = gprof2dot.CallgrindParser(open(src, encoding="utf-8", errors="replace")).parse()[gprof2dot.SAMPLES]
    finally:
        sys.stderr = err
    out = tmp_path / "out.speedscope.json"
    export_profile(load_profile(src), out)
    doc = json.loads(out.read_text())
    total = sum(sum(p["weights"]) for p in doc["profiles"])
    assert total == pytest.approx(truth * scale, rel=1e-5)  # bzr was 34M for 1.48M, yappi 6.067 s for 2.695 s


def test_missing_call_counts_are_said_on_stderr(tmp_path: Path) -> None:
    src = tmp_path / "stacks.collapsed"
    src.write_text("main;work 96\nmain 4\n")
    for target, says in (("out.prof", "are 0"), ("out.callgrind", "sample counts")):
        res = run_cli("convert", str(src), str(tmp_path / target))
        assert res.returncode == 0, res.stderr
        notes = [line for line in res.stderr.splitlines() if "no call counts" in line]
        assert len(notes) == 1 and says in notes[0], res.stderr
    st = pstats.Stats(str(tmp_path / "out.prof"))
    assert {k[2]: v[1] for k, v in st.stats.items()}["work"] == 0  # type: ignore[attr-defined]  # not the 96 samples
    # a real cProfile file has call counts: nothing to say
    prof = tmp_path / "real.prof"
    cProfile.runctx("sum(range(10))", {}, {}, str(prof))
    res = run_cli("convert", str(prof), str(tmp_path / "again.prof"))
    assert res.returncode == 0 and "no call counts" not in res.stderr


def test_collapsed_of_call_statistics_says_microseconds(cprofile_file: Path, tmp_path: Path) -> None:
    res = run_cli("convert", str(cprofile_file), str(tmp_path / "x.collapsed"))
    assert res.returncode == 0
    assert sum("microseconds" in line for line in res.stderr.splitlines()) == 1


def _recording_like() -> Profile:
    """A sampled profile whose functions ran at several lines (as every recording has)."""
    p = Profile(unit="seconds", source_format="pyro")
    main_a = p.intern_frame("main", "/app/m.py", 12, 10)
    main_b = p.intern_frame("main", "/app/m.py", 14, 10)
    work_a = p.intern_frame("work", "/app/m.py", 3, 1)
    work_b = p.intern_frame("work", "/app/m.py", 5, 1)
    stacks = [p.intern_stack_path(s) for s in ([main_a, work_a], [main_a, work_b], [main_b, work_a], [main_b])]
    p.ensure_thread(1, "MainThread")
    p.add_samples(np.arange(8) * 0.01, 1, np.array(stacks * 2, np.int32), weight=0.01)
    p.finish()
    return p


def _functions_and_frames(p: Profile) -> tuple[set[tuple[str, str, int]], set[tuple[str, int]]]:
    used = {int(f) for s in set(p.samples["stack"].tolist()) for f in p.stack_frames(int(s))}
    funcs = {(p.func_name[p.frame_func(f)], p.func_file[p.frame_func(f)], p.func_line[p.frame_func(f)]) for f in used}
    frames = {(p.func_name[p.frame_func(f)], int(p.frames["line"][f])) for f in used}
    return funcs, frames


@pytest.mark.parametrize("target", ["rt.speedscope.json", "rt.trace.json"])
def test_round_trip_keeps_functions_and_frame_lines(tmp_path: Path, target: str) -> None:
    p = _recording_like()
    out = tmp_path / target
    export_profile(p, out)
    q = load_profile(out)
    assert _functions_and_frames(q) == _functions_and_frames(p)
    assert _functions_and_frames(q)[0] == {("main", "/app/m.py", 10), ("work", "/app/m.py", 1)}
