"""`stats` and `history` state a sampled run's on-CPU time, checked against the threads' own CPU clocks.

A recording's samples carry each thread's CPU time (the agent reads the thread CPU clock), yet
`stats` and `history` showed wall time only. The workload measures, with time.thread_time inside
each function, what it spent on CPU: a main-thread burner, a sleeper (no CPU) and a worker thread;
the figures shown must agree within 10% (plus one sample's worth: a thread's first sample has no
earlier CPU reading to subtract).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_runs import run_cli

WORKLOAD = """
import json, sys, threading, time
truth = {}
def burn():
    t = time.thread_time()
    while time.thread_time() - t < 0.4: pass
    truth["burn"] = time.thread_time() - t
def nap():
    t = time.thread_time(); time.sleep(0.3); truth["nap"] = time.thread_time() - t
def work():
    t = time.thread_time()
    while time.thread_time() - t < 0.3: pass
    truth["work"] = time.thread_time() - t
w = threading.Thread(target=work, name="worker")
w.start(); burn(); nap(); w.join()
with open(sys.argv[1], "w") as fh: json.dump(truth, fh)
"""
SLACK = 0.03  # one 10 ms sample at each end, and a little


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, float], Path]:
    root = tmp_path_factory.mktemp("cpu")
    script, truth, out, home = root / "cpu_work.py", root / "truth.json", root / "run.pyro", root / "home"
    script.write_text(WORKLOAD)
    proc = subprocess.run(
        [sys.executable, "-m", "pyrometer", "record", "-o", str(out), "--name", "cpu-work", "--", str(script), str(truth)],
        capture_output=True, text=True, timeout=60, env={**os.environ, "PYROMETER_HOME": str(home)},
    )
    assert proc.returncode == 0, proc.stderr
    return out, json.loads(truth.read_text()), home


def near(got: float, want: float) -> bool:
    return abs(got - want) <= 0.1 * want + SLACK


def check_functions(data: dict[str, Any], truth: dict[str, float]) -> None:
    funcs = {f["name"]: f for f in data["functions"]}
    for name in ("burn", "nap", "work"):
        assert near(funcs[name]["cpu_total"], truth[name]), (name, funcs[name], truth)
    assert funcs["nap"]["total"] > 0.25  # wall time of the sleep, beside its (near) zero CPU


def test_stats_shows_cpu_time_total_per_thread_and_per_function(recorded: tuple[Path, dict[str, float], Path]) -> None:
    out, truth, _ = recorded
    res = run_cli("stats", out, "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    cpu = data["cpu"]
    assert cpu is not None and "thread CPU" in cpu["clock"]
    threads = {t["name"]: t["cpu_s"] for t in cpu["threads"]}
    assert near(threads["worker"], truth["work"]), (threads, truth)
    assert near(threads["MainThread"], truth["burn"] + truth["nap"]), (threads, truth)
    assert near(cpu["total_s"], sum(truth.values())), (cpu, truth)
    check_functions(data, truth)
    text = run_cli("stats", out).stdout
    assert "on-CPU time:" in text and "cpu total" in text and "worker [" in text


def test_stats_of_a_time_range_reads_the_samples_and_agrees(recorded: tuple[Path, dict[str, float], Path]) -> None:
    """A range (read sample by sample, not from the index) covering the run gives the same CPU figures."""
    out, truth, _ = recorded
    data = json.loads(run_cli("stats", out, "--json", "--from", "0", "--to", "1000").stdout)
    assert data["selection"] is not None  # a range: the samples were read, not the index
    check_functions(data, truth)


def test_history_shows_each_runs_cpu_time(recorded: tuple[Path, dict[str, float], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    _, truth, home = recorded
    monkeypatch.setenv("PYROMETER_HOME", str(home))
    res = run_cli("history", "cpu-work", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    (run,) = data["runs"]
    assert near(run["cpu_s"], sum(truth.values())), (run, truth)
    funcs = {f["name"]: f for f in data["functions"]}
    for name in ("burn", "nap", "work"):  # each function's on-CPU self seconds, as stats has them
        assert near(funcs[name]["last_cpu_s"], truth[name]) and funcs[name]["avg_cpu_s"] == funcs[name]["last_cpu_s"], funcs[name]
    text = run_cli("history", "cpu-work").stdout
    assert "on-CPU" in text and "avg cpu" in text


def test_the_on_cpu_line_names_its_clock_without_brackets_in_brackets() -> None:
    """It read 'on-CPU time: 1.371 s (thread CPU clock (CLOCK_THREAD_CPUTIME_ID, as time.thread_time))'."""
    from pyrometer.core.analysis.cpu_time import CLOCK_NAME
    from pyrometer.core.cli.summary import render_text

    data: dict[str, Any] = {
        "file": "x.pyro", "format": "pyro", "unit": "seconds", "duration_s": 1.0, "samples": 10, "total": 1.0,
        "threads": [{"id": 0, "name": "MainThread", "samples": 10}], "functions_count": 0, "functions": [],
        "cpu": {"clock": CLOCK_NAME, "total_s": 0.5, "threads": [{"id": 0, "name": "MainThread", "cpu_s": 0.5}]},
    }
    line = next(ln for ln in render_text(data).splitlines() if ln.startswith("on-CPU time:"))
    assert line == f"on-CPU time: 0.500 s, by the {CLOCK_NAME}", line
    assert "))" not in line
