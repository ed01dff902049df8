"""`pyrometer history` over real recordings of one script: truth, regressions, JSON/CSV, import, forget, failures."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pyrometer.core.formats.recording import read_recording
from pyrometer.core.history.store import DB_NAME, HistoryStore

PYROMETER = [sys.executable, "-m", "pyrometer"]

# Each function runs for a known wall time and writes what it measured (the truth) to argv[1]. It
# mostly sleeps, with a ~2 ms burst of CPU (a C call) every 20 ms so the sampler never backs off as
# for an idle program: spinning, three runs at once on a loaded 2-core machine starved their
# samplers (20-30 samples a run instead of 100), and the share test rightly declined to flag the
# slowed beta in 1 of 5 suites at load 9-14; waiting, each run keeps ~100 samples at load 10. The
# loop is one line, so the thread is always seen in one stack: a late tick is then charged to it
# (a thread seen in another stack after a late tick, e.g. the sleep's line then the burst's, gets
# one interval and the rest of the gap goes to unsampled_s: 0.1-0.3 s of a run at load 10).
SCRIPT = """
import json, os, sys, time

def alpha():
    t = time.perf_counter()
    while time.perf_counter() < t + 0.5: time.sleep(0.018); sum(range(100000))
    return time.perf_counter() - t

SLOWER = float(os.environ.get("BETA_SLOWER", "1"))

def beta():
    t = time.perf_counter()
    while time.perf_counter() < t + 0.5 * SLOWER: time.sleep(0.018); sum(range(100000))
    return time.perf_counter() - t

truth = {"alpha": alpha(), "beta": beta()}
with open(sys.argv[1], "w") as fh:
    json.dump(truth, fh)
"""


class Result:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture(autouse=True)
def _capture(capsys: pytest.CaptureFixture[str]) -> None:
    global CAPSYS
    CAPSYS = capsys


CAPSYS: pytest.CaptureFixture[str] | None = None


def pyrometer(*args: str) -> Result:
    """A headless command run in this process (what the console script runs, minus start-up)."""
    from pyrometer.cli import main

    assert CAPSYS is not None
    CAPSYS.readouterr()
    code = main(list(args))
    out, err = CAPSYS.readouterr()
    return Result(code, out, err)


def record(script: Path, out: Path, truth: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*PYROMETER, "record", "-o", str(out), *extra, "--", str(script), str(truth)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})},
    )


def finish(proc: subprocess.Popen[str]) -> str:
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return err


def history_json(program: str, *extra: str) -> dict:  # type: ignore[type-arg]
    res = pyrometer("history", program, "--json", *extra)
    assert res.returncode == 0, res.stderr
    data: dict = json.loads(res.stdout)  # type: ignore[type-arg]
    return data


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Three runs of one script (finishing at once), then a run with beta ten times slower from a moved checkout.

    Ten, not five: the share test weighs the change against how much the three earlier runs
    disagree, and at load 10 a starved sampler made them disagree enough to hide a 5x beta in 1 of
    6 runs; 10x moves beta's share from 50% to 91% (z ~13 with no spread, was ~8). Mostly sleep:
    2.5 s more wall, 0.25 s more CPU."""
    root = tmp_path_factory.mktemp("bench")
    home = root / "home"
    old_home = os.environ.get("PYROMETER_HOME")
    os.environ["PYROMETER_HOME"] = str(home)  # the module's recordings share one history
    try:
        (root / "v1").mkdir()
        script = root / "v1" / "bench.py"
        script.write_text(SCRIPT)
        procs = [record(script, root / f"run{i}.pyro", root / f"truth{i}.json", "--name", "bench") for i in range(3)]
        errs = [finish(p) for p in procs]  # three at once: the history takes concurrent writers
        # then two more (not five at once: on a loaded 2-core machine each sampler starved)
        procs = [record(script, root / "by_path.pyro", root / "truth_p.json")]  # keyed by its resolved path
        procs.append(record(script, root / "not_kept.pyro", root / "truth_n.json", "--no-history"))
        errs += [finish(p) for p in procs]
        moved = root / "elsewhere" / "checkout"
        moved.mkdir(parents=True)
        shutil.copy(script, moved / "bench.py")
        errs.append(finish(record(moved / "bench.py", root / "run3.pyro", root / "truth3.json", "--name", "bench", env={"BETA_SLOWER": "10"})))
        truths = [json.loads((root / f"truth{i}.json").read_text()) for i in range(4)]
        # the longest gap between two samples of a thread (a sample's weight is the time since
        # the thread's previous one): what a starved sampler can shift across a function's edge
        recordings = [read_recording(root / f"{name}.pyro")[0] for name in ("run0", "run1", "run2", "run3")]
        gap = max(float(p.samples["weight"].max()) for p in recordings)
        # and the time a run says it did not sample: a late tick that finds the thread in another
        # function stands for one interval, the rest of its gap goes to unsampled_s (0.1 s at load 10)
        lost = max(float(p.telemetry.get("unsampled_s", 0.0)) for p in recordings)
    finally:
        if old_home is None:
            del os.environ["PYROMETER_HOME"]
        else:
            os.environ["PYROMETER_HOME"] = old_home
    return {"root": root, "home": home, "script": script, "truths": truths, "errs": errs, "gap": gap, "lost": lost}


@pytest.fixture
def in_bench(bench: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    monkeypatch.setenv("PYROMETER_HOME", str(bench["home"]))
    return bench


def test_every_record_adds_a_run_with_what_it_measured(in_bench: dict[str, object]) -> None:
    data = history_json("bench")
    names = [Path(r["path"]).name for r in data["runs"]]
    assert sorted(names[:3]) == ["run0.pyro", "run1.pyro", "run2.pyro"] and names[3] == "run3.pyro"  # the three that ended together all landed
    truths: list[dict[str, float]] = in_bench["truths"]  # type: ignore[assignment]
    # a run lasts at least what its two functions measured inside it
    for r in data["runs"]:
        truth = truths[int(Path(r["path"]).stem.removeprefix("run"))]
        assert r["exit_status"] == 0 and r["duration_s"] >= truth["alpha"] + truth["beta"] - 1e-3, (r, truth)
    # each run's samples are its recording's: the ones its function table counts (not "> 15": a
    # starved sampler at load 10 took fewer); at load 13 one run said 34 of the file's 36
    for r in data["runs"]:
        assert 0 < r["samples"] <= read_recording(Path(r["path"]))[0].sample_count, r
    funcs = {f["name"]: f for f in data["functions"]}
    # the history's seconds are the recordings' own: checked against what the functions measured inside,
    # within 20% or the time a sample can carry across each of a function's two edges, whichever is
    # more (~20 ms a gap on a quiet machine; 0.16 s was lost from one edge at load 7, 5 recordings at once),
    # plus what the runs said they could not sample (none on a quiet machine)
    edges = max(0.05, 2 * float(in_bench["gap"])) + float(in_bench["lost"])  # type: ignore[arg-type]
    for name in ("alpha", "beta"):
        f = funcs[name]
        assert f["runs"] == 4
        assert f["last_s"] == pytest.approx(truths[3][name], rel=0.2, abs=edges)
        assert f["min_s"] == pytest.approx(min(t[name] for t in truths), rel=0.2, abs=edges)
        assert f["max_s"] == pytest.approx(max(t[name] for t in truths), rel=0.2, abs=edges)
    assert funcs["beta"]["last_pct"] > funcs["alpha"]["last_pct"] * 2
    assert data["bottlenecks"][:2] == ["beta", "alpha"]
    with HistoryStore() as store:
        keys = store.program_keys()
    assert str(Path(str(in_bench["script"])).resolve()) in keys and len(keys) == 2  # --no-history added nothing


def test_the_slowed_run_is_flagged_slower_from_a_moved_checkout(in_bench: dict[str, object]) -> None:
    data = history_json("bench")
    seen = [(r["samples"], round(r["duration_s"], 2)) for r in data["runs"]], [(f["name"], f["last_pct"], f["avg_pct"]) for f in data["functions"]]
    assert [(g["name"], g["direction"]) for g in data["regressions"]] == [("beta", "slower")], seen
    (g,) = data["regressions"]
    truths: list[dict[str, float]] = in_bench["truths"]  # type: ignore[assignment]
    last, avg = truths[3]["beta"], sum(t["beta"] for t in truths[:3]) / 3
    truth_change = last / avg - 1
    # within 25%, or within what the seconds themselves may be off by (the edge allowance of
    # test_every_record_adds_a_run_with_what_it_measured, carried through the ratio): a starved
    # sampler at load 12 lost 0.1 s of beta in the concurrent runs and the change read 406% for 295%
    edges = max(0.05, 2 * float(in_bench["gap"])) + float(in_bench["lost"])  # type: ignore[arg-type]
    low = min(0.75 * truth_change, (last - edges) / (avg + edges) - 1)
    high = max(1.25 * truth_change, (last + edges) / max(avg - edges, 1e-9) - 1)
    assert 100 * low <= g["change_pct"] <= 100 * high, (g, truths, edges)
    assert Path(g["file"]).name == "bench.py"  # one function whichever checkout recorded it
    text = pyrometer("history", "bench").stdout
    assert "slower  beta (bench.py)" in text


def test_json_has_exactly_the_documented_keys(in_bench: dict[str, object]) -> None:
    assert len(history_json("bench", "--last", "2")["runs"]) == 2
    data = history_json("bench")
    assert set(data) == {"program", "runs", "functions", "bottlenecks", "regressions"}
    assert data["program"] == "bench"
    assert set(data["runs"][0]) == {"id", "started", "duration_s", "cpu_s", "samples", "exit_status", "path", "measures"}
    assert {r["measures"] for r in data["runs"]} == {"wall"}  # recordings: every thread sampled, waiting or not
    assert set(data["functions"][0]) == {
        "name", "file", "runs", "avg_s", "min_s", "max_s", "last_s", "avg_pct", "last_pct", "avg_cpu_s", "last_cpu_s",
    }
    assert set(data["regressions"][0]) == {"name", "file", "direction", "last_s", "avg_s", "change_pct"}
    # the history's functions are every run's: the union of what `stats` reads from each recording
    # (a run may catch a sample in start-up code, e.g. realpath, that another run missed)
    root = Path(str(in_bench["root"]))
    names: set[str] = set()
    for run in ("run0", "run1", "run2", "run3"):
        names |= {f["name"] for f in json.loads(pyrometer("stats", str(root / f"{run}.pyro"), "--json").stdout)["functions"]}
    assert {f["name"] for f in data["functions"]} == names


def test_csv_is_the_function_table(in_bench: dict[str, object]) -> None:
    res = pyrometer("history", "bench", "--csv")
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    beta = next(r for r in rows if r["name"] == "beta")
    assert beta["regression"] == "slower" and beta["bottleneck"] == "1" and beta["runs"] == "4"
    assert float(beta["avg_s"]) == pytest.approx(history_json("bench")["functions"][0]["avg_s"])


def test_listing_shows_programs_last_run_and_trend(in_bench: dict[str, object]) -> None:
    res = pyrometer("history")
    assert res.returncode == 0
    line = next(ln for ln in res.stdout.splitlines() if ln.rstrip().endswith(" bench"))
    assert line.split()[0] == "4" and "↑" in line  # the slowed run was the longest
    assert str(Path(str(in_bench["script"])).resolve()) in res.stdout


def test_the_same_recording_imported_three_times_flags_nothing(in_bench: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYROMETER_HOME", str(tmp_path / "fresh"))
    run = str(Path(str(in_bench["root"])) / "run0.pyro")
    res = pyrometer("history", "--import", run, run, run, "--name", "same")
    assert res.returncode == 0 and res.stdout.count("added run") == 3, res.stderr
    data = history_json("same")
    assert data["regressions"] == [] and len(data["runs"]) == 3
    assert all(f["min_s"] == f["max_s"] == f["last_s"] for f in data["functions"])
    assert "none beyond sampling noise" in pyrometer("history", "same").stdout


def test_import_reads_other_formats_and_needs_a_name(in_bench: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYROMETER_HOME", str(tmp_path / "fresh"))
    speedscope = tmp_path / "run0.speedscope.json"
    assert pyrometer("convert", str(Path(str(in_bench["root"])) / "run0.pyro"), str(speedscope)).returncode == 0
    assert pyrometer("history", "--import", str(speedscope), "--name", "conv").returncode == 0
    assert {f["name"] for f in history_json("conv")["functions"]} >= {"alpha", "beta"}
    res = pyrometer("history", "--import", str(speedscope))
    assert res.returncode == 2 and "--name" in res.stderr and "Traceback" not in res.stderr
    bad = tmp_path / "bad.pyro"
    bad.write_bytes(b"garbage")
    res = pyrometer("history", "--import", str(bad), "--name", "conv")
    assert res.returncode == 2 and res.stderr.count("\n") == 1


def test_a_deleted_recording_keeps_its_aggregates_and_forget_removes_runs(in_bench: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYROMETER_HOME", str(tmp_path / "fresh"))
    copy = tmp_path / "copy.pyro"
    shutil.copy(Path(str(in_bench["root"])) / "run1.pyro", copy)
    pyrometer("history", "--import", str(copy), str(copy), "--name", "gone")
    copy.unlink()
    data = history_json("gone")
    assert len(data["runs"]) == 2 and {f["name"] for f in data["functions"]} >= {"alpha", "beta"}
    assert "(deleted)" in pyrometer("history", "gone").stdout
    first = data["runs"][0]["id"]
    assert pyrometer("history", "--forget", str(first)).stdout.startswith("forgot 1 run")
    assert [r["id"] for r in history_json("gone")["runs"]] == [data["runs"][1]["id"]]
    assert pyrometer("history", "gone", "--forget").returncode == 0
    res = pyrometer("history", "gone")
    assert res.returncode == 2 and "no program 'gone'" in res.stderr


def test_a_corrupt_history_costs_one_warning_and_never_the_recording(in_bench: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "corrupt"
    home.mkdir()
    (home / DB_NAME).write_bytes(b"not sqlite at all\n" * 512)
    monkeypatch.setenv("PYROMETER_HOME", str(home))
    out = tmp_path / "kept.pyro"
    proc = record(Path(str(in_bench["script"])), out, tmp_path / "t.json", "--name", "x", env={"BETA_SLOWER": "0.1"})
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0
    warnings = [ln for ln in err.splitlines() if "warning" in ln]
    assert len(warnings) == 1 and "corrupt database" in warnings[0] and "Traceback" not in err
    stats = pyrometer("stats", str(out), "--json")
    assert stats.returncode == 0 and json.loads(stats.stdout)["samples"] > 10
    res = pyrometer("history")
    assert res.returncode == 1 and res.stderr.count("\n") == 1 and "corrupt database" in res.stderr


def test_reading_an_empty_history_creates_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYROMETER_HOME", str(tmp_path / "none"))
    res = pyrometer("history")
    assert res.returncode == 0 and "no runs in the history yet" in res.stdout
    res = pyrometer("history", "app.py", "--json")
    assert res.returncode == 2 and "no runs recorded yet" in res.stderr
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize("command", [["record", "-o", "x.pyro"], ["run"], ["attach", "123"], ["demo"]])
def test_every_recording_command_takes_no_history_and_name(command: list[str]) -> None:
    from pyrometer.cli import build_parser

    tail = ["--", "app.py"] if command[0] in ("record", "run") else []
    default = build_parser().parse_args([*command, *tail])
    assert default.history is True and default.name is None
    off = build_parser().parse_args([*command, "--no-history", "--name", "nightly", *tail])
    assert off.history is False and off.name == "nightly"


def test_functions_with_no_self_time_in_any_run_do_not_fill_the_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A trace-mode run lists every function yappi saw: 44 rows of 0.000 pushed out the ones that matter."""
    monkeypatch.setenv("PYROMETER_HOME", str(tmp_path / "home"))
    src = tmp_path / "run.collapsed"
    src.write_text("main;outer;work 5\nmain;outer;idle 3\n")  # main and outer: never innermost, 0 self
    assert pyrometer("history", "--import", str(src), "--name", "prog").returncode == 0
    out = pyrometer("history", "prog").stdout
    table = out.split("function (file)", 1)[1].split("bottlenecks", 1)[0]
    assert "work" in table and "idle" in table
    assert "main" not in table and "outer" not in table
    assert "2 of 4 functions, by average (2 with no self time in any run left out)" in out


def test_a_module_program_is_named_with_dash_m_as_the_help_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`record -- -m json.tool` files its runs under '-m json.tool' and `history --help` says
    'a script path, -m MODULE or --name'; but `pyrometer history -m json.tool` was an argparse
    error ('unrecognized arguments: -m'): only the quoted "-m json.tool" worked."""
    monkeypatch.setenv("PYROMETER_HOME", str(tmp_path / "home"))
    src = tmp_path / "run.collapsed"
    src.write_text("main;work 5\n")
    assert pyrometer("history", "--import", str(src), "--name=-m pkg.tool").returncode == 0
    try:
        res = pyrometer("history", "-m", "pkg.tool")
    except SystemExit as exc:  # argparse's usage error
        pytest.fail(f"history -m pkg.tool: usage error {exc.code}")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("-m pkg.tool: 1 run"), res.stdout
    assert pyrometer("history", "-m pkg.tool").stdout == res.stdout  # the quoted form still works
