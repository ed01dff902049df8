"""`history --import` of files without timestamps: the run's duration is the file's own total, else unknown.

A pstats file's own total is its `total_tt` (pstats.Stats says it); valgrind's
callgrind counts instructions, no time at all. Before, both were given the
length of the views' sample layout (126,645 "seconds" for 126,651 Ir).
"""

from __future__ import annotations

import gzip
import json
import pstats
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from pyrometer.core.history.analysis import sparkline, trend
from pyrometer.core.history.render import render_programs, trend_text
from pyrometer.core.history.store import DB_NAME, HistoryStore, RunRecord

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from pyrometer.cli import main

    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYROMETER_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _pstats_file(path: Path) -> Path:
    """A real cProfile run that sleeps 50 ms and spins ~20 ms (its file has no timestamps)."""
    import cProfile

    def spin() -> None:
        t = time.perf_counter()
        while time.perf_counter() - t < 0.02:
            pass

    prof = cProfile.Profile()
    prof.enable()
    time.sleep(0.05)
    spin()
    prof.disable()
    prof.dump_stats(str(path))
    return path


def test_a_pstats_run_lasts_its_files_total_tt(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _pstats_file(tmp_path / "run.prof")
    code, _, err = cli(capsys, "history", "--import", str(path), "--name", "prof")
    assert code == 0, err
    code, out, err = cli(capsys, "history", "prof", "--json")
    assert code == 0, err
    (run,) = json.loads(out)["runs"]
    truth = pstats.Stats(str(path)).total_tt  # the tool's own reader: the file's total
    assert truth > 0.06
    assert run["duration_s"] == pytest.approx(truth, rel=1e-6)


def test_a_callgrind_run_of_instructions_has_no_duration(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # valgrind's own file: 126,651 Ir (its summary line), not seconds
    path = tmp_path / "callgrind.out.1"
    with gzip.open(FIXTURES / "callgrind.out.plain.gz", "rb") as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert "events: Ir" in path.read_text()
    mtime = path.stat().st_mtime
    code, _, err = cli(capsys, "history", "--import", str(path), "--name", "cg")
    assert code == 0, err
    code, out, err = cli(capsys, "history", "cg", "--json")
    assert code == 0, err
    (run,) = json.loads(out)["runs"]
    assert run["duration_s"] is None
    with sqlite3.connect(home / DB_NAME) as c:  # stored as unknown, not as a measured number
        assert c.execute("SELECT duration_known FROM runs").fetchall() == [(0,)]
    with HistoryStore(home / DB_NAME) as store:
        (rec,) = store.runs("cg")
    assert rec.duration_s is None
    # with no duration, the run started when its file was written (not "duration" seconds before)
    assert abs(rec.started - mtime) < 1.0
    code, out, err = cli(capsys, "history", "cg")
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.strip().startswith(str(rec.id)) and "callgrind.out.1" in line)
    assert "unknown" in row and "126" not in row
    code, out, err = cli(capsys, "history")
    assert code == 0, err
    listed = next(line for line in out.splitlines() if line.rstrip().endswith(" cg"))
    assert "unknown" in listed


def test_unknown_durations_are_left_out_of_the_trend_not_counted_as_zero() -> None:
    assert trend([1.0, None, 2.0]) == pytest.approx(100.0)  # against the one known run before
    assert trend([1.0, 2.0, None]) is None  # the last run's duration is unknown
    assert trend([None, 2.0]) is None
    assert trend_text([1.0, None, 2.0]) == "↑ +100% vs the 1 before"
    assert trend_text([1.0, None]) == "duration unknown"
    assert trend_text([None, 3.0]) == "no earlier duration known"
    assert sparkline([1.0, None, 2.0]) == "▁·█"
    assert sparkline([None, None]) == "··"


def test_the_programs_list_shows_an_unknown_last_duration(tmp_path: Path) -> None:
    db = tmp_path / DB_NAME
    with HistoryStore(db) as store:
        store.add_run(RunRecord("a", 100.0, 2.0, 2.0))
        store.add_run(RunRecord("a", 200.0, None, 5.0, unit="samples", source_format="callgrind"))
        (summary,) = store.programs()
    assert summary.last_duration_s is None and summary.durations == [2.0, None]
    text = render_programs([summary], db)
    line = text.splitlines()[-1]
    assert "unknown" in line and "duration unknown" in line and "0.000" not in line


def test_runs_stored_before_the_column_existed_keep_their_duration(tmp_path: Path) -> None:
    db = tmp_path / DB_NAME
    with HistoryStore(db) as store:
        store.migrate()
    with sqlite3.connect(db) as c:  # a version-4 file: no duration_known or measures column
        c.execute("PRAGMA user_version = 4")
    old = sqlite3.connect(db)
    old.execute("ALTER TABLE runs DROP COLUMN duration_known")
    old.execute("ALTER TABLE runs DROP COLUMN measures")
    old.execute("INSERT INTO programs (key) VALUES ('old')")
    old.execute("INSERT INTO runs (program, started, duration_s, total) VALUES (1, 5.0, 1.5, 1.5)")
    old.commit()
    old.close()
    with HistoryStore(db) as store:
        assert store.version() >= 5
        (run,) = store.runs("old")
    assert run.duration_s == 1.5 and run.measures is None  # not known for runs of before


def _timed_cprofile(path: Path, *timer: object) -> Path:
    import cProfile

    prof = cProfile.Profile(*timer)  # type: ignore[arg-type]
    prof.enable()
    for _ in range(2):
        time.sleep(0.02)
    prof.disable()
    prof.dump_stats(str(path))
    return path


def test_runs_that_measure_different_things_are_said_to(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A CPU-timer cProfile imported among default-timer ones: its sleeps are 0 for the clock, not faster."""
    from pyrometer.core.history.analysis import common_measure
    from pyrometer.core.history.baseline import average_profile

    wall = _timed_cprofile(tmp_path / "wall.prof")
    cpu = _timed_cprofile(tmp_path / "cpu.prof", time.process_time)
    assert pstats.Stats(str(cpu)).total_tt < 0.02 < 0.04 <= pstats.Stats(str(wall)).total_tt  # the clocks, by pstats
    code, _, err = cli(capsys, "history", "--import", str(wall), str(wall), "--name", "same")
    assert code == 0, err
    code, out, _ = cli(capsys, "history", "same")
    assert "measure different things" not in out
    code, _, err = cli(capsys, "history", "--import", str(wall), str(cpu), "--name", "mixed")
    assert code == 0, err
    code, out, _ = cli(capsys, "history", "mixed")
    assert "note: the runs measure different things (1 CPU time, 1 wall time): a change between them may be only the clock" in out
    code, out, _ = cli(capsys, "history", "mixed", "--json")
    assert sorted(r["measures"] for r in json.loads(out)["runs"]) == ["cpu", "wall"]
    with HistoryStore(home / DB_NAME) as store:
        same, mixed = store.runs("same"), store.runs("mixed")
    assert common_measure(same) == "wall" and common_measure(mixed) is None
    from pyrometer.core.analysis.measures import measure_of

    assert measure_of(average_profile([], 2, "seconds", common_measure(same))).kind == "wall"
    assert measure_of(average_profile([], 2, "seconds", common_measure(mixed))).kind == "unknown"
