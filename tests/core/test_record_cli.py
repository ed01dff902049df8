"""`pyrometer record` as a user runs it: signals, killed collector or target, --duration, usage errors."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pyrometer.core.formats.recording import read_recording

RECORD = [sys.executable, "-m", "pyrometer", "record"]

TARGET = """
import os, sys, time
with open(sys.argv[1], "w") as fh:
    fh.write(str(os.getpid()))
print("start", flush=True)

def busy_loop(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        sum(range(200))

busy_loop(float(sys.argv[2]))
print("end", flush=True)
sys.exit(int(sys.argv[3]))
"""


def _target(tmp_path: Path) -> Path:
    path = tmp_path / "target.py"
    path.write_text(TARGET)
    return path


def _wait_for(predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def _pid_from(path: Path) -> int:
    _wait_for(lambda: path.exists() and path.read_text().strip() != "")
    return int(path.read_text())


def _samples_in(path: Path) -> int:
    try:
        profile, _ = read_recording(path)
    except Exception:
        return 0
    return profile.sample_count


def test_ctrl_c_ends_the_target_like_python_and_keeps_the_recording(tmp_path: Path) -> None:
    out = tmp_path / "int.pyro"
    proc = subprocess.Popen(
        [*RECORD, "-o", str(out), "--", str(_target(tmp_path)), str(tmp_path / "pid"), "30", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a terminal's foreground job
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "start\n"
    _wait_for(lambda: _samples_in(out) > 0)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGINT
    assert stdout == ""
    lines = stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert "KeyboardInterrupt" in lines
    assert "busy_loop" in stderr and "bootstrap" not in stderr and "runpy" not in stderr
    profile, report = read_recording(out)
    assert report.clean
    assert profile.end is not None and profile.end["exit_status"] == -signal.SIGINT
    assert profile.sample_count > 0


DRIVER = """
import ctypes, json, os, subprocess, sys, threading, time
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER: orphans come to us
out, target, pidfile = sys.argv[1:4]
rec = subprocess.Popen([sys.executable, "-m", "pyrometer", "record", "-o", out, "--",
                        target, pidfile, "1.5", "5"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
chunks = {"out": b"", "err": b""}
def pump(name, pipe):
    for chunk in iter(lambda: pipe.read1(4096), b""):
        chunks[name] += chunk
threads = [threading.Thread(target=pump, args=("out", rec.stdout)),
           threading.Thread(target=pump, args=("err", rec.stderr))]
for t in threads: t.start()
while not (os.path.exists(pidfile) and open(pidfile).read().strip()):
    time.sleep(0.02)
pid = int(open(pidfile).read())
from pyrometer.core.agent import wire
def has_samples():
    data = open(out, "rb").read()
    return any(kind == wire.SAMPLES for kind, _f, _p in wire.iter_frames(data))
while not has_samples():  # kill it mid-run, once samples are flowing
    time.sleep(0.02)
rec.kill()
rec.wait()
_, status = os.waitpid(pid, 0)
for t in threads: t.join()
print(json.dumps({"status": os.waitstatus_to_exitcode(status),
                  "out": chunks["out"].decode(), "err": chunks["err"].decode()}))
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="needs PR_SET_CHILD_SUBREAPER (Linux)"
)
def test_killed_collector_leaves_the_target_running_to_its_own_end(tmp_path: Path) -> None:
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    res = subprocess.run(
        [
            sys.executable,
            str(driver),
            str(tmp_path / "k.pyro"),
            str(_target(tmp_path)),
            str(tmp_path / "pid"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, TMPDIR=str(tmp_path)),  # the killed collector cannot clean up
    )
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["status"] == 5
    assert report["out"] == "start\nend\n"
    assert report["err"] == ""  # the agent stopped silently
    profile, read = read_recording(tmp_path / "k.pyro")
    assert read.clean and profile.sample_count > 0 and profile.end is None


def test_killed_target_leaves_a_recording_up_to_the_last_flush(tmp_path: Path) -> None:
    out = tmp_path / "dead.pyro"
    proc = subprocess.Popen(
        [*RECORD, "-o", str(out), "--", str(_target(tmp_path)), str(tmp_path / "pid"), "30", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    pid = _pid_from(tmp_path / "pid")
    _wait_for(lambda: _samples_in(out) >= 20)
    os.kill(pid, signal.SIGKILL)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGKILL
    profile, report = read_recording(out)
    assert report.clean  # the collector only ever writes whole frames
    assert profile.sample_count >= 20
    assert profile.end is None
    assert "recorded" in stderr


def test_duration_stops_recording_and_the_target_runs_on(tmp_path: Path) -> None:
    out = tmp_path / "dur.pyro"
    res = subprocess.run(
        [
            *RECORD,
            "-o",
            str(out),
            "--duration",
            "0.4",
            "--",
            str(_target(tmp_path)),
            str(tmp_path / "pid"),
            "1.2",
            "6",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 6
    assert res.stdout == "start\nend\n"
    assert "stopped recording after 0.4 s" in res.stderr
    profile, report = read_recording(out)
    assert report.clean
    assert profile.end is not None and profile.end["reason"] == "detached"
    assert 0.35 < profile.end["t"] < 2.0  # counted from the agent's start
    assert profile.sample_count > 0
    assert float(profile.samples["time"].max()) <= profile.end["t"] + 0.05


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--pid", "1", "--", "x.py"], "either --pid or a program"),
        ([], "no program to run"),
        (["--", "does-not-exist.py"], "no such file"),
    ],
)
def test_usage_errors_are_one_line(tmp_path: Path, argv: list[str], message: str) -> None:
    res = subprocess.run(
        [*RECORD, "-o", str(tmp_path / "x.pyro"), *argv], capture_output=True, text=True, timeout=30
    )
    assert res.returncode == 2
    assert message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_help_lists_the_record_options() -> None:
    res = subprocess.run([*RECORD, "--help"], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0
    for opt in (
        "--rate",
        "--mode",
        "--duration",
        "--pid",
        "--python",
        "--loop-interval",
        "--block-threshold",
    ):
        assert opt in res.stdout


def test_sigterm_to_the_recorder_reaches_the_target(tmp_path: Path) -> None:
    script = tmp_path / "graceful.py"
    script.write_text(
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *a: sys.exit(9))\n"
        "print('ready', flush=True)\n"
        "while True:\n"
        "    time.sleep(0.01)\n"
    )
    out = tmp_path / "term.pyro"
    proc = subprocess.Popen(
        [*RECORD, "-o", str(out), "--", str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"
    proc.terminate()  # SIGTERM to the recorder only, as `timeout` or a supervisor would send
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 9, stderr
    profile, report = read_recording(out)
    assert report.clean
    assert profile.end is not None and profile.end["exit_status"] == 9


TRACED = """
import threading, time

def work():
    end = time.thread_time() + 0.004
    while time.thread_time() < end:
        pass

def body():
    for _ in range(14):
        work()

threads = [threading.Thread(target=body) for _ in range(2)]
for t in threads:
    t.start()
for _ in range(14):
    work()
for t in threads:
    t.join()
"""


@pytest.mark.skipif(importlib.util.find_spec("yappi") is None, reason="yappi is not installed in this environment")
def test_trace_mode_records_samples_and_exact_calls(tmp_path: Path) -> None:
    """`record --mode trace` recorded "0 samples": trace mode replaced sampling instead of adding to it."""
    script = tmp_path / "traced.py"
    script.write_text(TRACED)
    out = tmp_path / "traced.pyro"
    res = subprocess.run([*RECORD, "-o", str(out), "--mode", "trace", "--", str(script)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert " 0 samples" not in res.stderr
    stats = subprocess.run(
        [sys.executable, "-m", "pyrometer", "stats", str(out), "--json", "--top", "0"], capture_output=True, text=True, timeout=60
    )
    data = json.loads(stats.stdout)
    assert data["samples"] >= 10 and not data["deterministic"]
    assert len([t for t in data["threads"] if t["samples"]]) >= 3
    assert data["trace_clock"] == "cpu"
    work = next(f for f in data["functions"] if f["name"] == "work")
    assert work["calls"] == 42  # every call, in every thread
    assert 0.9 * 42 * 0.004 <= work["traced_total"] <= 42 * 0.004 * 1.5  # CPU the program burnt in it
    # self times add up: their sum is no more than the sampled run (3 threads, CPU clock)
    assert sum(f["traced_self"] or 0.0 for f in data["functions"]) <= data["total"]
