"""Small things the command line said wrong: each checked on the real `pyrometer` process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pyrometer.core import example_profiles as ex
from pyrometer.core.formats.recording import write_profile


def run_cli(*args: str | Path, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if home is not None:
        env["PYROMETER_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "pyrometer", *map(str, args)], capture_output=True, text=True, timeout=60, env=env)


@pytest.fixture
def server_pyro(tmp_path: Path) -> Path:
    path = tmp_path / "server.pyro"
    write_profile(ex.server_profile(), path)
    return path


def test_a_torn_tail_is_said_once(tmp_path: Path, server_pyro: Path) -> None:
    torn = tmp_path / "torn.pyro"
    torn.write_bytes(server_pyro.read_bytes()[:-7])
    res = run_cli("stats", torn)
    assert res.returncode == 0, res.stderr
    assert (res.stdout + res.stderr).count("torn tail") == 1, res.stdout + res.stderr


def test_diff_of_collapsed_files_counts_samples_once(tmp_path: Path) -> None:
    a, b = tmp_path / "a.collapsed", tmp_path / "b.collapsed"
    a.write_text("main;a 100\nmain;b 46\nmain 50\nmain;a;c 30\nx 20\n")  # 5 lines, 246 samples
    b.write_text("main;a 80\nmain;b 66\nmain 50\n")
    res = run_cli("diff", a, b)
    assert res.returncode == 0, res.stderr
    head = res.stdout.splitlines()[:2]
    assert head[0].endswith("a.collapsed: collapsed, 246 samples"), head
    assert head[1].endswith("b.collapsed: collapsed, 196 samples"), head


def test_history_wording_top_and_unknown_runs(tmp_path: Path, server_pyro: Path) -> None:
    home = tmp_path / "home"
    added = run_cli("history", "--import", server_pyro, "--name", "srv", home=home)
    assert added.returncode == 0, added.stderr
    text = run_cli("history", "srv", "--top", "1", home=home)
    assert text.returncode == 0, text.stderr
    assert "over 1 run;" in text.stdout and "1 runs" not in text.stdout
    listed = text.stdout.split("bottlenecks (average self share):")[1].split("\n\n")[0]
    assert len(re.findall(r"^\s+\d+\. ", listed, re.M)) == 1, listed  # --top 1 limits the bottlenecks too
    gone = run_cli("history", "--forget", "9999", home=home)
    assert gone.returncode == 2 and "no run 9999" in gone.stderr and len(gone.stderr.strip().splitlines()) == 1
    assert run_cli("history", "srv", home=home).stdout.count("server.pyro") >= 1  # nothing was forgotten
    nothing = run_cli("history", "--forget", "3", home=tmp_path / "empty-home")
    assert nothing.returncode == 2 and "no run 3" in nothing.stderr


def test_report_labels_the_lag_plots_maximum_as_lag(tmp_path: Path, server_pyro: Path) -> None:
    out = tmp_path / "r.html"
    res = run_cli("report", server_pyro, "-o", out)
    assert res.returncode == 0, res.stderr
    html = out.read_text()
    assert re.search(r"max lag \d+\.\d ms", html)
    assert not re.search(r">max \d", html)  # a bare "max" beside the blocking events read as the worst block


def test_attach_offers_no_interpreter_option() -> None:
    """`attach --help` listed `--python PATH: interpreter for the target (default: the one after
    --, ...)` and `attach PID --python X` was accepted and ignored; an attached process already
    runs its own interpreter (`record --pid` refuses the option with a message)."""
    res = run_cli("attach", "--help")
    assert res.returncode == 0, res.stderr
    assert "--python" not in res.stdout, res.stdout
    res = run_cli("attach", "999999", "--python", sys.executable)
    assert res.returncode == 2 and "--python" in res.stderr, res.stderr
    assert "--python" in run_cli("run", "--help").stdout  # still there where a program is launched


@pytest.mark.parametrize("command", ["record", "run", "attach"])
def test_duration_help_says_the_program_runs_on(command: str) -> None:
    """`--duration` stops profiling, never the program (README: "lets the program run to its
    end"); the help said "stop (or detach) after this many seconds", which reads as a timeout."""
    res = run_cli(command, "--help")
    assert res.returncode == 0, res.stderr
    text = " ".join(res.stdout.split())
    assert "--duration S stop profiling after this many seconds of it; the program runs on" in text, text
