"""`pyrometer diff BASE NEW` on two recordings with known shares (in this process: cli_runs.run_cli)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cli_runs import run_cli, run_cli_process

from pyrometer.core import example_profiles as ex
from pyrometer.core.formats.recording import write_profile

BASE_COUNTS = [60, 20, 10, 30, 10]  # compute, dumps, main, fetch, worker_loop (130 samples)
NEW_COUNTS = [120, 20, 10, 30, 10]  # compute doubled (190 samples)


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    base, new = tmp_path / "base.pyro", tmp_path / "new.pyro"
    write_profile(ex.server_profile(BASE_COUNTS), base)
    write_profile(ex.server_profile(NEW_COUNTS), new)
    return base, new


def test_diff_json_shares_and_order(pair: tuple[Path, Path]) -> None:
    base, new = pair
    proc = run_cli("diff", base, new, "--json")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    data = json.loads(proc.stdout)
    assert data["base"]["samples"] == 130 and data["new"]["samples"] == 190
    assert data["base"]["total"] == pytest.approx(1.3, rel=1e-5)
    assert data["new"]["total"] == pytest.approx(1.9, rel=1e-5)
    funcs = data["functions"]
    assert [abs(f["delta_pct"]) for f in funcs] == sorted((abs(f["delta_pct"]) for f in funcs), reverse=True)
    first = funcs[0]
    assert (first["name"], first["file"]) == ("compute", ex.APP)
    assert first["base_pct"] == pytest.approx(100 * 60 / 130, rel=1e-5)
    assert first["new_pct"] == pytest.approx(100 * 120 / 190, rel=1e-5)
    assert first["delta_pct"] == pytest.approx(100 * (120 / 190 - 60 / 130), rel=1e-5)
    assert first["new_self"] == pytest.approx(1.2, rel=1e-5)
    fetch = next(f for f in funcs if f["name"] == "fetch")
    assert fetch["delta_pct"] == pytest.approx(100 * (30 / 190 - 30 / 130), rel=1e-5)
    assert sum(f["base_pct"] for f in funcs) == pytest.approx(100.0)
    top_path = data["paths"][0]
    assert top_path["path"][-1] == f"compute ({ex.APP})" and len(top_path["path"]) == 4


def test_diff_top_and_text(pair: tuple[Path, Path]) -> None:
    base, new = pair
    proc = run_cli("diff", base, new, "--top", "2")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("base: base.pyro: pyro") and lines[1].startswith("new:  new.pyro: pyro")
    rows = [ln for ln in lines if ln.rstrip().endswith(")") and "%" in ln and "base%" not in ln and ">" not in ln]
    assert len(rows) == 2
    assert "compute (" in rows[0] and "+17.0%" in rows[0]


def test_diff_against_itself_is_all_zero(pair: tuple[Path, Path]) -> None:
    base, _ = pair
    data = json.loads(run_cli("diff", base, base, "--json").stdout)
    assert all(f["delta_pct"] == 0 for f in data["functions"])


def test_diff_names_the_bad_file(pair: tuple[Path, Path], tmp_path: Path) -> None:
    base, _ = pair
    missing = tmp_path / "missing.pyro"
    proc = run_cli("diff", base, missing)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and str(missing) in lines[0] and "Traceback" not in proc.stderr


def test_diff_deterministic_against_sampled(pair: tuple[Path, Path], tmp_path: Path) -> None:
    base, _ = pair
    det = tmp_path / "det.pyro"
    write_profile(ex.deterministic_profile(), det)
    proc = run_cli("diff", det, base, "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["base"]["samples"] is None
    parse = next(f for f in data["functions"] if f["name"] == "parse")
    assert parse["base_pct"] == pytest.approx(37.5) and parse["new_pct"] == 0


LIGHT = """
import json

def payload(i):
    return {"id": i, "items": list(range(30)), "name": "x" * 20}

def encode_all(n):
    return sum(len(json.dumps(payload(i))) for i in range(n))

if __name__ == "__main__":
    print(encode_all(30000))
"""


@pytest.fixture(scope="module")
def light(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """light.py and its recording by `pyrometer record` (one for every interpreter that runs cProfile)."""
    where = tmp_path_factory.mktemp("light")
    (where / "light.py").write_text(LIGHT)
    rec = run_cli_process("record", "-o", where / "light.pyro", "--", where / "light.py")
    assert rec.returncode == 0, rec.stderr
    return where


@pytest.mark.parametrize("cprofile_python", ["current", "3.9"])
def test_diff_matches_one_program_across_formats_paths_and_versions(tmp_path: Path, light: Path, cprofile_python: str) -> None:
    """`diff light.prof light.pyro` of one program matched nothing: `iterencode` (cProfile, co_name)
    vs `JSONEncoder.iterencode` (co_qualname), `light.py` vs an absolute path."""
    from agent_harness import interpreter

    python = interpreter(cprofile_python)
    # cProfile records the script as it was named on the command line: `light.py`
    prof = subprocess.run([python, "-m", "cProfile", "-o", str(tmp_path / "light.prof"), "light.py"], cwd=light, capture_output=True, timeout=60)
    assert prof.returncode == 0, prof.stderr
    proc = run_cli("diff", tmp_path / "light.prof", light / "light.pyro", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    rows = {f["name"]: f for f in data["functions"]}
    # the sampled recording's hot functions are each one row, found in both profiles
    for name in ("JSONEncoder.iterencode", "JSONEncoder.encode", "encode_all.<locals>.<genexpr>"):
        if name in rows:
            assert rows[name]["base_self"] > 0, rows[name]
    assert rows["JSONEncoder.iterencode"]["new_self"] > 0 and rows["JSONEncoder.iterencode"]["base_self"] > 0
    assert "iterencode" not in rows  # not a second, unmatched row
    sampled = data["new"]
    matched = data["matched"]
    assert matched["only_new"] == 0, [f["name"] for f in data["functions"] if f["base_self"] == 0 and f["base_total"] == 0]
    assert matched["functions"] >= 5 and matched["only_base"] > 0  # cProfile also saw imports and builtins
    assert sampled["samples"] > 0
    text = run_cli("diff", tmp_path / "light.prof", light / "light.pyro").stdout
    assert f"functions: {matched['functions']:,} in both, {matched['only_base']:,} only in base, 0 only in new" in text


def test_a_path_whose_time_is_all_one_longer_path_is_not_listed_twice() -> None:
    """`worker > Event.wait` and `worker > Event.wait > Condition.wait` had two rows with the same shares."""
    import numpy as np

    from pyrometer.core.cli.diff_summary import build_diff
    from pyrometer.core.model import Profile

    def build(rows: list[tuple[str, float]]) -> Profile:
        p = Profile()
        for i, (path, w) in enumerate(rows):
            frames = [p.intern_frame(n, f"/app/{n}.py", 5, firstline=1) for n in path.split(";")]
            p.add_samples(np.array([float(i)]), np.array([0]), np.array([p.intern_stack_path(frames)]), weight=w)
        p.finish()
        return p

    base = build([("worker;wait;cond_wait", 3.0), ("worker;checksum", 1.0)])
    new = build([("worker;wait;cond_wait", 1.0), ("worker;checksum", 3.0)])
    listed = [tuple(s.split(" (")[0] for s in p["path"]) for p in build_diff(base, new)["paths"]]
    assert ("worker", "wait", "cond_wait") in listed and ("worker", "checksum") in listed
    assert ("worker", "wait") not in listed  # all of its time is cond_wait's, in both runs
    assert ("worker",) in listed  # its time is split between two paths: a finding of its own


def test_functions_without_a_file_print_no_empty_parentheses(tmp_path: Path) -> None:
    """Collapsed stacks (py-spy raw, flamegraph.pl) and pstats built-ins have no file: every row
    read 'read ()', 'render ()'."""
    a, b = tmp_path / "a.collapsed", tmp_path / "b.collapsed"
    a.write_text("main;parse;read 50\nmain;render 30\n")
    b.write_text("main;parse;read 50\nmain;render 60\n")
    proc = run_cli("diff", a, b)
    assert proc.returncode == 0, proc.stderr
    assert "()" not in proc.stdout, proc.stdout
    rows = [line for line in proc.stdout.splitlines() if line.rstrip().endswith(("%  read", "%  render"))]
    assert len(rows) == 2, proc.stdout
    data = json.loads(run_cli("diff", a, b, "--json").stdout)
    assert {f["name"]: f["file"] for f in data["functions"]}["render"] == ""  # --json keeps the fields apart


def test_call_paths_of_collapsed_stacks_without_files(tmp_path: Path) -> None:
    """flamegraph.pl / perf collapsed stacks name functions only: with no file every frame looked
    like a built-in (the file key of '' is the built-ins'), was left out of the paths, and `diff`
    printed no call paths at all."""
    a, b = tmp_path / "a.collapsed", tmp_path / "b.collapsed"
    a.write_text("main;parse;read 50\nmain;render 30\n")
    b.write_text("main;parse;read 50\nmain;render 60\n")
    data = json.loads(run_cli("diff", a, b, "--json").stdout)
    paths = {tuple(p["path"]): p for p in data["paths"]}
    assert ("main", "render") in paths, data["paths"]
    render = paths[("main", "render")]
    assert render["base_pct"] == pytest.approx(100 * 30 / 80) and render["new_pct"] == pytest.approx(100 * 60 / 110)
    text = run_cli("diff", a, b).stdout
    assert "call paths" in text and "main > render" in text, text
