"""`pyrometer stats` on real recordings with known numbers: in this process (cli_runs.run_cli),
and as a real process where the process is the point (exit status, environment, imports)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_runs import run_cli, run_cli_process

from pyrometer.core import example_profiles as ex
from pyrometer.core.formats.recording import write_profile


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str, status: int = 2) -> str:
    assert proc.returncode == status, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.fixture
def server_pyro(tmp_path: Path) -> Path:
    path = tmp_path / "server.pyro"
    write_profile(ex.server_profile(), path)
    return path


@pytest.fixture
def det_pyro(tmp_path: Path) -> Path:
    path = tmp_path / "det.pyro"
    write_profile(ex.deterministic_profile(), path)
    return path


def stats_json(*args: str | Path, process: bool = False) -> dict:
    proc = (run_cli_process if process else run_cli)("stats", *args, "--json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return json.loads(proc.stdout)


def by_name(functions: list[dict]) -> dict[str, dict]:
    return {f["name"]: f for f in functions}


def test_stats_json_has_every_key_with_the_known_numbers(server_pyro: Path) -> None:
    data = stats_json(server_pyro, process=True)  # the console entry, end to end
    assert data["format"] == "pyro"
    assert data["unit"] == "seconds"
    assert data["duration_s"] == pytest.approx(1.30, abs=1e-6)
    assert data["samples"] == ex.SERVER_SAMPLES
    assert data["threads"] == [
        {"id": 1, "name": "MainThread", "samples": 90},
        {"id": 2, "name": "worker-1", "samples": 40},
    ]
    funcs = data["functions"]
    selfs = [f["self"] for f in funcs]
    assert selfs == sorted(selfs, reverse=True)
    assert {f["name"] for f in funcs} == set(ex.SERVER_TOTAL)
    rows = by_name(funcs)
    for name, value in ex.SERVER_SELF.items():
        assert rows[name]["self"] == pytest.approx(value, rel=1e-5)
        assert rows[name]["self_pct"] == pytest.approx(100 * value / 1.3, rel=1e-5)
    for name, value in ex.SERVER_TOTAL.items():
        assert rows[name]["total"] == pytest.approx(value, rel=1e-5)
        assert rows[name]["total_pct"] == pytest.approx(100 * value / 1.3, rel=1e-5)
    compute = rows["compute"]
    assert (compute["file"], compute["line"], compute["calls"]) == (ex.APP, 10, None)
    assert set(compute) >= {"name", "file", "line", "self", "total", "self_pct", "total_pct", "calls"}
    # extras from telemetry
    assert data["dropped_samples"] == 2
    assert data["effective_rate_hz"] == pytest.approx(99.5)


def test_stats_json_loop_and_tasks(server_pyro: Path) -> None:
    data = stats_json(server_pyro)
    loop = data["loop"]
    lags = np.asarray(ex.SERVER_LAGS_MS)
    assert loop["probes"] == len(lags)
    for key, q in (("p50", 50), ("p95", 95), ("p99", 99)):
        assert loop["lag_ms"][key] == pytest.approx(float(np.percentile(lags, q)), rel=1e-4)
    assert loop["lag_ms"]["max"] == pytest.approx(400.0, rel=1e-5)
    [block] = loop["blocking"]
    assert block["start_s"] == pytest.approx(ex.BLOCKING_START)
    assert block["duration_ms"] == pytest.approx(ex.BLOCKING_MS)
    assert (block["function"], block["file"], block["line"]) == ("compute", ex.APP, 12)
    assert block["stack"] == [
        f"compute ({ex.APP}:12)",
        f"Server.handle ({ex.APP}:42)",
        f"main ({ex.APP}:80)",
        f"<module> ({ex.APP}:90)",
    ]
    tasks = data["tasks"]
    assert tasks["created"] == 3
    listed = {t["id"]: t for t in tasks["list"]}
    assert {t["state"] for t in listed.values()} == {"done", "cancelled", "pending"}
    assert listed[2] == {
        "id": 2,
        "name": "fetch-a",
        "parent": 1,
        "parent_unrecorded": False,  # (task sampling left its parent unrecorded)
        "state": "cancelled",
        "coroutine": "fetch()",
        "created_s": pytest.approx(0.1),
        "ended_s": pytest.approx(0.4),
        "exception": None,
        # an example without per-task accounting: unknown, never 0
        "cpu_s": None,
        "running_s": None,
        "waiting_s": None,
        "delayed_s": None,
    }
    assert listed[1]["parent"] is None and listed[3]["ended_s"] is None
    # blame the recording does not carry is unknown (null), not "nobody"
    assert (block["task_name"], block["await_chain"], block["delayed"]) == (None, None, None)


def test_stats_top_limits_rows_not_totals(server_pyro: Path) -> None:
    data = stats_json(server_pyro, "--top", "2")
    assert [f["name"] for f in data["functions"]] == ["compute", "fetch"]
    assert data["functions_count"] == 7
    assert data["samples"] == ex.SERVER_SAMPLES


@pytest.mark.parametrize("spec", ["worker-1", "2", "WORKER-1"])
def test_stats_thread_filter_by_name_or_id(server_pyro: Path, spec: str) -> None:
    data = stats_json(server_pyro, "--thread", spec)
    assert data["samples"] == 40
    assert {f["name"] for f in data["functions"]} == {"fetch", "worker_loop"}
    assert by_name(data["functions"])["worker_loop"]["total_pct"] == pytest.approx(100.0)
    # the blocking event happened on the main thread's loop: not in this selection
    assert data["loop"]["blocking"] == []


def test_stats_unknown_thread_lists_the_threads(server_pyro: Path) -> None:
    line = assert_one_line_error(run_cli("stats", server_pyro, "--thread", "nope"), str(server_pyro), "nope")
    assert "1 (MainThread)" in line and "2 (worker-1)" in line


def test_stats_time_range(server_pyro: Path) -> None:
    profile = ex.server_profile()
    t = profile.samples["time"]
    # a sample stands for [t, t + 10 ms): the samples at 0.19 and 0.49 lie half in the range
    expected = int(((t + ex.WEIGHT > 0.195) & (t < 0.495)).sum())
    data = stats_json(server_pyro, "--from", "0.195", "--to", "0.495")
    assert data["samples"] == expected == 31
    assert sum(th["samples"] for th in data["threads"]) == expected
    assert sum(f["self"] for f in data["functions"]) == pytest.approx(0.3, rel=1e-5)  # the range, no more
    assert data["selection"] == {"thread": None, "from_s": 0.195, "to_s": 0.495}
    assert data["loop"]["probes"] == int(((np.arange(100) * 0.013 >= 0.195) & (np.arange(100) * 0.013 < 0.495)).sum())
    assert [b["start_s"] for b in data["loop"]["blocking"]] == []  # starts at 0.5


def test_stats_empty_range_is_a_usage_error(server_pyro: Path) -> None:
    assert_one_line_error(run_cli("stats", server_pyro, "--from", "2", "--to", "1"), "empty time range")
    assert_one_line_error(run_cli("stats", server_pyro, "--top", "-3"), "--top")


def test_stats_deterministic_source(det_pyro: Path) -> None:
    data = stats_json(det_pyro)
    assert data["samples"] is None
    assert data["format"] == "pstats"
    assert data["loop"] is None and data["tasks"] is None
    rows = by_name(data["functions"])
    for name, _file, _line, calls, _prim, self_t, total_t in ex.DETERMINISTIC_FUNCS:
        assert rows[name]["calls"] == calls
        assert rows[name]["self"] == pytest.approx(self_t)
        assert rows[name]["total"] == pytest.approx(total_t)
    assert rows["main"]["total_pct"] == pytest.approx(100.0)
    assert [f["self"] for f in data["functions"]] == sorted((f["self"] for f in data["functions"]), reverse=True)


def test_stats_text_table(server_pyro: Path) -> None:
    proc = run_cli("stats", server_pyro, "--top", "3")
    assert proc.returncode == 0 and proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("server.pyro: pyro, 1.300 s, 130 samples, 2 threads")
    assert "threads (samples): MainThread [1] 90, worker-1 [2] 40" in lines
    table = [ln for ln in lines if ln.rstrip().endswith(")") and "%" in ln and "self%" not in ln]
    assert len(table) == 3
    assert "compute (/srv/app/server.py:10)" in table[0] and "46.2%" in table[0]
    assert any("blocked 120.0 ms in compute" in ln for ln in lines)
    assert any(ln.startswith("asyncio tasks: 3 created") for ln in lines)


def test_stats_text_deterministic_shows_calls(det_pyro: Path) -> None:
    proc = run_cli("stats", det_pyro)
    assert proc.returncode == 0
    assert "deterministic" in proc.stdout.splitlines()[0]
    assert any("5,000" in ln and "tokenize" in ln for ln in proc.stdout.splitlines())


# ---------------------------------------------------------------- bad input
def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pyro"
    assert_one_line_error(run_cli("stats", missing), str(missing), "no such file")


def test_directory(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("stats", tmp_path), str(tmp_path), "directory")


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    assert_one_line_error(run_cli("stats", empty), str(empty), "empty")


def test_random_bytes(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(np.random.default_rng(3).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    assert_one_line_error(run_cli("stats", junk), str(junk))


def test_bad_pyro_header(tmp_path: Path, server_pyro: Path) -> None:
    broken = tmp_path / "broken.pyro"
    data = bytearray(server_pyro.read_bytes())
    data[8:10] = b"\x00\x00"  # header size 0: not a valid header, magic intact
    data[10:12] = b"\x00\x00"
    broken.write_bytes(bytes(data))
    assert_one_line_error(run_cli("stats", broken), str(broken))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files without read permission")
def test_unreadable_file(server_pyro: Path) -> None:
    server_pyro.chmod(0)
    try:
        assert_one_line_error(run_cli("stats", server_pyro), str(server_pyro), "permission")
    finally:
        server_pyro.chmod(0o644)


def test_damaged_tail_loads_with_one_warning(tmp_path: Path, server_pyro: Path) -> None:
    torn = tmp_path / "torn.pyro"
    data = server_pyro.read_bytes()
    torn.write_bytes(data[:-7])  # the last frame (a JSON record) loses its end
    proc = run_cli("stats", torn, "--json")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("pyrometer: warning:") and str(torn) in lines[0]
    data_out = json.loads(proc.stdout)
    assert data_out["samples"] == ex.SERVER_SAMPLES  # everything before the tail is kept
    assert any("torn" in n or "incomplete" in n for n in data_out["notices"])


def test_usage_error_exit_status_is_2() -> None:
    proc = run_cli_process("stats")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_headless_commands_never_import_qt(server_pyro: Path, tmp_path: Path) -> None:
    runs = [
        ["stats", str(server_pyro), "--json"],
        ["convert", str(server_pyro), str(tmp_path / "out.svg")],
        ["convert", str(server_pyro), str(tmp_path / "out.csv")],
        ["diff", str(server_pyro), str(server_pyro), "--json"],
        ["report", str(server_pyro), "-o", str(tmp_path / "r.html")],
    ]
    # one fresh interpreter runs the commands in turn and says after each what Qt it has loaded
    code = (
        "import json, sys\n"
        "from pyrometer.cli import main\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    rc = main(argv)\n"
        "    qt = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6'))\n"
        "    sys.stderr.write(f'{argv[0]} {rc} QT:' + ','.join(qt) + '\\n')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(runs)], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    said = [line for line in proc.stderr.splitlines() if " QT:" in line]
    assert said == [f"{argv[0]} 0 QT:" for argv in runs], proc.stderr


def test_collapsed_counts_are_samples(tmp_path: Path) -> None:
    src = tmp_path / "stacks.collapsed"
    src.write_text("main;handle;compute 60\nmain;handle 20\nworker;fetch 30\n")
    data = stats_json(src)
    assert data["unit"] == "samples"
    assert data["samples"] == 110  # a collapsed line stands for `count` samples
    rows = by_name(data["functions"])
    assert rows["compute"]["self"] == 60 and rows["handle"]["total"] == 80
    assert rows["compute"]["self_pct"] == pytest.approx(100 * 60 / 110)
    assert sum(t["samples"] for t in data["threads"]) == 110


def test_blocking_function_skips_builtin_frames(tmp_path: Path) -> None:
    from pyrometer.core.model import BlockingEvent

    p = ex.server_profile()
    frames = [p.intern_frame(n, f, line, first) for n, f, line, first in ex.SERVER_STACKS[0][1]]
    sleep = p.intern_frame("<built-in method time.sleep>", "~", 0)
    stack = p.intern_stack_path([*frames, sleep])
    p.blocking = [BlockingEvent(0.2, 0.3, loop=0, thread=1, stack=stack)]
    path = tmp_path / "sleepy.pyro"
    write_profile(p, path)
    [block] = stats_json(path)["loop"]["blocking"]
    assert (block["function"], block["line"]) == ("compute", 12)
    assert block["stack"][0] == "<built-in method time.sleep> (~:0)" and len(block["stack"]) == 5


def test_time_range_on_call_statistics_warns(det_pyro: Path) -> None:
    proc = run_cli("stats", det_pyro, "--from", "1", "--json")
    assert proc.returncode == 0
    assert len(proc.stderr.splitlines()) == 1 and "--from/--to ignored" in proc.stderr
    assert len(json.loads(proc.stdout)["functions"]) == len(ex.DETERMINISTIC_FUNCS)


def test_unencodable_names_are_escaped_not_fatal(tmp_path: Path) -> None:
    from pyrometer.core.model import Profile

    p = Profile()
    sid = p.intern_stack_path([p.intern_frame("caf\u00e9_\u2603", "/x.py", 1)])
    p.add_samples([0.0], 1, [sid], weight=0.01)
    p.finish()
    path = tmp_path / "u.pyro"
    write_profile(p, path)
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    proc = run_cli_process("stats", path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "caf\\xe9_\\u2603" in proc.stdout


def test_no_sampling_rate_for_traced_spans(tmp_path: Path) -> None:
    from pyrometer.core.model import Profile

    p = Profile()
    sid = p.intern_stack_path([p.intern_frame("main", "/t.py", 1)])
    weights = np.array([0.5, 0.001, 0.2, 0.0001, 0.03])  # spans of a tracer, not timer ticks
    p.add_samples(np.cumsum(weights) - weights, 1, [sid] * 5, weight=weights)
    p.finish()
    path = tmp_path / "spans.pyro"
    write_profile(p, path)
    data = stats_json(path)
    assert data["effective_rate_hz"] is None
    assert data["samples"] == 5


def test_sampling_rate_for_timer_ticks(tmp_path: Path) -> None:
    p = ex.server_profile()
    p.telemetry.clear()  # an imported sampler profile: no agent telemetry, rate from the samples
    path = tmp_path / "ticks.pyro"
    write_profile(p, path)
    data = stats_json(path)
    assert data["effective_rate_hz"] == pytest.approx(130 / 2 / 1.3)  # per thread, over the duration


def test_no_sampling_rate_for_one_traced_span(tmp_path: Path) -> None:
    """pyinstrument's evented speedscope of a program that slept once is one 3.78 s span:
    one weight is trivially 'near-equal' to itself, and stats printed '1 samples, 0 Hz'."""
    doc = {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "exporter": "pyinstrument",
        "profiles": [
            {
                "type": "evented",
                "name": "one sleep",
                "unit": "seconds",
                "startValue": 0.0,
                "endValue": 3.782,
                "events": [
                    {"type": "O", "at": 0.0, "frame": 0},
                    {"type": "O", "at": 0.0, "frame": 1},
                    {"type": "C", "at": 3.7775, "frame": 1},
                    {"type": "C", "at": 3.7775, "frame": 0},
                ],
            }
        ],
        "shared": {"frames": [{"name": "<module>", "file": "decorators.py", "line": 1}, {"name": "sleep", "file": "<built-in>", "line": 0}]},
    }
    path = tmp_path / "one.speedscope.json"
    path.write_text(json.dumps(doc))
    data = stats_json(path)
    assert data["samples"] == 1
    assert data["effective_rate_hz"] is None
    proc = run_cli("stats", path)
    assert proc.returncode == 0, proc.stderr
    header = proc.stdout.splitlines()[0]
    assert "Hz" not in header and "1 sample," in header, header


def test_agent_losses_line_reads_as_words_with_units(tmp_path: Path) -> None:
    """It printed 'agent losses: unsampled s 0.308852': a raw key, the unit in the middle."""
    p = ex.server_profile()
    p.telemetry.update({"unsampled_s": 0.308852, "samples_dropped": 12, "lag_dropped": 0})
    path = tmp_path / "lossy.pyro"
    write_profile(p, path)
    proc = run_cli("stats", path)
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("agent losses:"))
    assert "0.309 s unsampled" in line and "12 samples dropped" in line, line
    assert "unsampled s" not in line and "lag" not in line, line
    assert stats_json(path)["losses"] == {"samples_dropped": 12.0, "unsampled_s": 0.308852}
