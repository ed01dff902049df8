"""`pyrometer convert`: format choice, round trips through stats, one-line errors (in this process,
cli_runs.run_cli; one end-to-end run of the real console entry)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cli_runs import run_cli, run_cli_process

from pyrometer.core import example_profiles as ex
from pyrometer.core.formats import registry
from pyrometer.core.formats.recording import write_profile


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.fixture
def server_pyro(tmp_path: Path) -> Path:
    path = tmp_path / "server.pyro"
    write_profile(ex.server_profile(), path)
    return path


def stats(path: Path) -> dict:
    proc = run_cli("stats", path, "--json", "--top", "0")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_pyro_to_pyro_keeps_everything(tmp_path: Path, server_pyro: Path) -> None:
    out = tmp_path / "copy.pyro"
    proc = run_cli_process("convert", server_pyro, out)  # the console entry, end to end
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"wrote {out} (Pyrometer recording)"
    a, b = stats(server_pyro), stats(out)
    for key in ("format", "unit", "duration_s", "samples", "threads", "functions", "loop", "tasks"):
        assert a[key] == b[key], key


# Exporters whose output our importers read back (round-trip through the CLI).
ROUND_TRIP = [name for name in ("speedscope", "collapsed", "chrome_trace", "pprof") if name in {e.name for e in registry.exporters()}]
SUFFIX = {"speedscope": ".speedscope.json", "collapsed": ".collapsed", "chrome_trace": ".trace.json", "pprof": ".pb.gz"}


@pytest.mark.parametrize("fmt", ROUND_TRIP)
def test_sampled_exports_read_back_with_the_same_function_costs(tmp_path: Path, server_pyro: Path, fmt: str) -> None:
    out = tmp_path / f"server{SUFFIX[fmt]}"
    proc = run_cli("convert", server_pyro, out)
    assert proc.returncode == 0, proc.stderr
    back = stats(out)
    assert back["samples"] is None or back["samples"] > 0
    original = stats(server_pyro)
    # Percentages are unit-free, so they compare across formats that store samples or seconds.
    # Formats without a separate def line may split one function by line: sum per (name, file).
    assert self_pct_by_name(back) == self_pct_by_name(original)


def self_pct_by_name(data: dict) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for f in data["functions"]:
        key = (f["name"], f["file"])
        out[key] = out.get(key, 0.0) + f["self_pct"]
    return {k: round(v, 3) for k, v in out.items()}


def test_format_from_to_overrides_the_extension(tmp_path: Path, server_pyro: Path) -> None:
    out = tmp_path / "table.txt"
    proc = run_cli("convert", server_pyro, out, "--to", "csv")
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().splitlines()[0].startswith("name,file,line,self,total")


def test_to_pprof_whatever_the_extension(tmp_path: Path, server_pyro: Path) -> None:
    out = tmp_path / "server.out"
    proc = run_cli("convert", server_pyro, out, "--to", "pprof")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:2] == b"\x1f\x8b"
    assert self_pct_by_name(stats(out)) == self_pct_by_name(stats(server_pyro))


def test_unknown_format_name(tmp_path: Path, server_pyro: Path) -> None:
    out = tmp_path / "x.out"
    assert_one_line_error(run_cli("convert", server_pyro, out, "--to", "bogus"), "bogus", "csv")
    assert not out.exists()


def test_unknown_extension_asks_for_to(tmp_path: Path, server_pyro: Path) -> None:
    out = tmp_path / "x.unknownext"
    assert_one_line_error(run_cli("convert", server_pyro, out), str(out), "--to")


def test_output_directory_missing(tmp_path: Path, server_pyro: Path) -> None:
    out = tmp_path / "no" / "such" / "dir" / "x.svg"
    assert_one_line_error(run_cli("convert", server_pyro, out), str(out))


def test_output_is_a_directory(tmp_path: Path, server_pyro: Path) -> None:
    d = tmp_path / "outdir.svg"
    d.mkdir()
    assert_one_line_error(run_cli("convert", server_pyro, d), str(d), "directory")


def test_output_would_overwrite_input(server_pyro: Path) -> None:
    before = server_pyro.read_bytes()
    assert_one_line_error(run_cli("convert", server_pyro, server_pyro), "overwrite")
    assert server_pyro.read_bytes() == before


def test_bad_input_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"shared": 1, "profiles": "nope"}')
    out = tmp_path / "out.svg"
    assert_one_line_error(run_cli("convert", bad, out), str(bad))
    assert not out.exists()


def test_converted_copy_of_a_damaged_file_does_not_warn_again(tmp_path: Path, server_pyro: Path) -> None:
    torn = tmp_path / "torn.pyro"
    torn.write_bytes(server_pyro.read_bytes()[:-7])
    out = tmp_path / "fixed.pyro"
    proc = run_cli("convert", torn, out)
    assert proc.returncode == 0
    assert len(proc.stderr.splitlines()) == 1 and "warning" in proc.stderr  # warned once, about the source
    again = run_cli("stats", out, "--json")
    assert again.returncode == 0 and again.stderr == ""
    notes = json.loads(again.stdout)["notices"]
    assert any(n.startswith(f"converted from {torn}") for n in notes)  # the history is kept



def test_convert_with_a_sample_type(tmp_path: Path) -> None:
    heap = Path(__file__).resolve().parent.parent / "fixtures" / "pprof" / "go_heap.pb.gz"
    out = tmp_path / "alloc.collapsed"
    proc = run_cli("convert", heap, out, "--sample-type", "alloc_space")
    assert proc.returncode == 0, proc.stderr
    total = sum(int(line.rpartition(" ")[2]) for line in out.read_text().splitlines())
    # `go tool pprof -top -sample_index=alloc_space` says "of 2692.16kB total"
    assert total == pytest.approx(2692.16 * 1024, rel=1e-5)
    assert_one_line_error(run_cli("convert", heap, tmp_path / "x.collapsed", "--sample-type", "bogus"), "no sample type 'bogus'")


def test_convert_help_lists_every_name_to_accepts() -> None:
    """`convert --help` names the formats `--to` takes (the issue: it did not list them)."""
    proc = run_cli("convert", "--help")
    assert proc.returncode == 0, proc.stderr
    listed = proc.stdout.split("formats for --to:", 1)[1].split()
    for ex_ in registry.exporters():
        assert ex_.name in listed, (ex_.name, proc.stdout)


@pytest.mark.parametrize("ext", ["prof", "callgrind", "trace.json"])
def test_samples_without_a_stack_that_the_output_drops_are_said(tmp_path: Path, ext: str) -> None:
    """py-spy writes a sample with no frames for a thread it saw outside Python (336 of 5,060 in a
    real file): stats counts them in the total, speedscope/pprof/Firefox keep them, but pstats,
    callgrind and Chrome traces have no place for them and the converted total was 6.6% smaller
    with no word said."""
    doc = {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "exporter": "py-spy@0.4.1",
        "profiles": [
            {
                "type": "sampled",
                "name": "MainThread",
                "unit": "seconds",
                "startValue": 0.0,
                "endValue": 1.0,
                "samples": [[0, 1]] * 6 + [[]] * 4,
                "weights": [0.1] * 10,
            }
        ],
        "shared": {"frames": [{"name": "main", "file": "/p.py", "line": 1}, {"name": "work", "file": "/p.py", "line": 5}]},
    }
    src = tmp_path / "pyspy.speedscope.json"
    src.write_text(json.dumps(doc))
    assert stats(src)["total"] == pytest.approx(1.0)
    out = tmp_path / f"out.{ext}"
    proc = run_cli("convert", src, out)
    assert proc.returncode == 0, proc.stderr
    assert stats(out)["total"] == pytest.approx(0.6)  # what the format can hold
    notes = [line for line in proc.stderr.splitlines() if "no stack" in line]
    assert len(notes) == 1, proc.stderr
    assert "4 samples" in notes[0] and "0.400 s" in notes[0] and "40.0%" in notes[0], notes[0]


def test_samples_without_a_stack_are_kept_by_speedscope_without_a_note(tmp_path: Path) -> None:
    doc = {
        "profiles": [{"type": "sampled", "name": "t", "unit": "seconds", "startValue": 0.0, "endValue": 1.0,
                      "samples": [[0]] * 3 + [[]], "weights": [0.25] * 4}],
        "shared": {"frames": [{"name": "main", "file": "/p.py", "line": 1}]},
    }
    src = tmp_path / "in.speedscope.json"
    src.write_text(json.dumps(doc))
    out = tmp_path / "out.speedscope.json"
    proc = run_cli("convert", src, out)
    assert proc.returncode == 0 and "no stack" not in proc.stderr, proc.stderr
    assert stats(out)["total"] == pytest.approx(1.0)
