"""Launching a target under the agent: command-line forms and real `pyrometer record` runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pyrometer.core.capture.feed import ProfileFeed
from pyrometer.core.capture.launch import (
    LaunchError,
    Target,
    bootstrap_path,
    build_command,
    launch,
    parse_target,
)
from pyrometer.core.formats.recording import read_recording
from pyrometer.core.model import Profile

PYENV_ROOT = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))


def _record(
    out: Path, *target: str, cwd: Path | None = None, timeout: float = 60, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pyrometer",
            "record",
            "-o",
            str(out),
            "--rate",
            "200",
            "--",
            *target,
        ],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        input=stdin,
    )


def _pyenv_python(prefix: str) -> str | None:
    versions = sorted((PYENV_ROOT / "versions").glob(prefix + "*"))
    for v in versions:
        exe = v / "bin" / "python3"
        if exe.exists():
            return str(exe)
    return None


def _write(path: Path, code: str) -> Path:
    path.write_text(textwrap.dedent(code))
    return path


SPIN = """
import sys, threading, time

# Spin for CPU time of this thread, not wall time: on a starved machine the program then
# runs (and is sampled) longer instead of ending after a handful of samples.
def spin_worker(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass

def main_spin(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
"""


# ------------------------------------------------------------ command-line forms
def test_script_module_code_and_interpreter_forms(tmp_path: Path) -> None:
    script = _write(tmp_path / "s.py", "print(1)\n")
    t = parse_target([str(script), "a", "-b"])
    assert (t.python, t.kind, t.target, t.args) == (
        sys.executable,
        "script",
        str(script),
        ["a", "-b"],
    )
    t = parse_target(["-m", "http.server", "8000"])
    assert (t.kind, t.target, t.args) == ("module", "http.server", ["8000"])
    t = parse_target(["-c", "print(2)", "x"])
    assert (t.kind, t.target, t.args) == ("code", "print(2)", ["x"])
    t = parse_target([sys.executable, "-X", "dev", "-u", "-m", "json.tool", "f"])
    assert (t.python, t.python_args, t.kind, t.target, t.args) == (
        sys.executable,
        ["-X", "dev", "-u"],
        "module",
        "json.tool",
        ["f"],
    )
    python3 = shutil.which("python3")
    if python3 is not None:
        t = parse_target(["python3", str(script)])
        assert (t.python, t.kind, t.target) == (python3, "script", str(script))
    other = sys.executable
    t = parse_target([str(script)], python=other)
    assert t.python == other
    cmd = build_command(Target(sys.executable, "module", "m", ["1"], ["-I"]))
    assert cmd == [sys.executable, "-I", str(bootstrap_path()), "-m", "m", "1"]


def test_shebang_script_runs_under_its_interpreter(tmp_path: Path) -> None:
    script = _write(tmp_path / "tool", "#!/usr/bin/env python3 -u\nprint(1)\n")
    script.chmod(0o755)
    t = parse_target([str(script), "x"])
    assert (t.kind, t.target, t.args, t.python_args) == ("script", str(script), ["x"], ["-u"])
    assert os.path.basename(t.python).startswith("python3")


@pytest.mark.parametrize(
    ("words", "python", "message"),
    [
        ([], None, "no program to run"),
        (["missing.py"], None, "no such file: missing.py"),
        (["-m"], None, "-m needs an argument"),
        ([sys.executable, "-"], None, "stdin is not supported"),
        ([sys.executable, "s.py"], sys.executable, "not both"),
        (["s.py"], "/no/such/python", "no such interpreter"),
    ],
)
def test_bad_target_command_lines(words: list[str], python: str | None, message: str) -> None:
    with pytest.raises(LaunchError, match=message):
        parse_target(words, python)


# ------------------------------------------------------------ real launches
def test_record_script_keeps_status_output_threads_and_samples(tmp_path: Path) -> None:
    script = _write(
        tmp_path / "target.py",
        SPIN
        + """
print("hello", sys.argv[1:], input(), flush=True)
print("to stderr", file=sys.stderr, flush=True)
t = threading.Thread(target=spin_worker, args=(0.3,), name="spinner")
t.start()
main_spin(0.4)
t.join()
sys.exit(3)
""",
    )
    out = tmp_path / "run.pyro"
    res = _record(out, str(script), "one", "two", stdin="typed\n")
    assert res.returncode == 3, res.stderr
    assert res.stdout == "hello ['one', 'two'] typed\n"
    assert res.stderr.startswith("to stderr\n")
    assert "pyrometer: recorded" in res.stderr
    profile, report = read_recording(out)
    assert report.clean, report.problems
    assert (
        profile.end is not None
        and profile.end["exit_status"] == 3
        and profile.end["reason"] == "exit"
    )
    assert profile.meta["argv"] == [str(script), "one", "two"]
    assert profile.meta["attached"] is False
    names = {t.name for t in profile.threads.values()}
    assert {"MainThread", "spinner"} <= names
    assert not any(n.startswith("pyrometer") for n in names)
    assert profile.sample_count >= 10  # a starved CI machine samples less; the rate is the session tests' job
    labels = {profile.frame_label(f) for f in range(len(profile.frames))}
    assert any("main_spin" in lb for lb in labels) and any("spin_worker" in lb for lb in labels)


def test_record_module_form_and_interpreter_word(tmp_path: Path) -> None:
    pkg = tmp_path / "mypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    _write(
        pkg / "__main__.py",
        SPIN
        + "import os\nprint(__name__, sys.argv[1:], sys.path[0] == os.getcwd())\nmain_spin(0.2)\n",
    )
    out = tmp_path / "mod.pyro"
    res = _record(out, "-m", "mypkg", "arg", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "__main__ ['arg'] True\n"
    profile, _ = read_recording(out)
    assert profile.sample_count > 3
    assert profile.end is not None and profile.end["exit_status"] == 0

    script = _write(tmp_path / "p.py", "import sys\nprint(sys.argv)\nraise SystemExit(4)\n")
    python3 = shutil.which("python3") or sys.executable
    res = _record(tmp_path / "p.pyro", python3, str(script), "z")
    assert res.returncode == 4, res.stderr
    assert res.stdout == f"{[str(script), 'z']}\n"


def test_user_code_sees_plain_python(tmp_path: Path) -> None:
    """sys.path[0], __main__, no leftover environment, and the traceback of an uncaught error."""
    script = _write(
        tmp_path / "probe.py",
        """
        import os, sys
        here = os.path.dirname(os.path.realpath(__file__))
        print(sys.path[0] == here, __name__, "PYROMETER_AGENT" in os.environ)
        print(any(p.endswith(os.path.join("core", "agent")) for p in sys.path))
        def fail():
            raise ValueError("boom")
        fail()
        """,
    )
    out = tmp_path / "probe.pyro"
    res = _record(out, str(script))
    plain = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=30
    )
    assert res.returncode == plain.returncode == 1
    assert res.stdout == plain.stdout == "True __main__ False\nFalse\n"
    assert res.stderr.startswith(plain.stderr), (res.stderr, plain.stderr)
    profile, _ = read_recording(out)
    assert profile.end is not None and profile.end["exit_status"] == 1


def test_forked_child_is_not_profiled_and_parent_keeps_recording(tmp_path: Path) -> None:
    script = _write(
        tmp_path / "forker.py",
        SPIN
        + """
import os
main_spin(0.1)
pid = os.fork()
if pid == 0:
    main_spin(0.2)
    print("child done", flush=True)
    os._exit(7)
_, status = os.waitpid(pid, 0)
print("parent saw", os.waitstatus_to_exitcode(status), flush=True)
main_spin(0.1)
""",
    )
    out = tmp_path / "fork.pyro"
    res = _record(out, str(script))
    assert res.returncode == 0, res.stderr
    assert res.stdout == "child done\nparent saw 7\n"
    profile, report = read_recording(out)
    assert report.clean
    assert profile.end is not None and profile.end["exit_status"] == 0
    assert profile.sample_count > 5


@pytest.mark.parametrize("version", ["3.9", "3.13"])
def test_other_interpreter_without_pyrometer_installed(tmp_path: Path, version: str) -> None:
    python = _pyenv_python(version)
    if python is None:
        pytest.skip(f"no pyenv Python {version} on this machine")
    script = _write(tmp_path / "t.py", SPIN + "main_spin(0.3)\nprint(sys.version_info[:2])\n")
    out = tmp_path / "other.pyro"
    res = _record(out, python, "-I", str(script))
    assert res.returncode == 0, res.stderr
    major, minor = version.split(".")
    assert res.stdout == f"({major}, {minor})\n"
    assert "agent not started" not in res.stderr
    profile, report = read_recording(out)
    assert report.clean
    assert profile.meta["python"].startswith(version)
    assert profile.sample_count > 5


def test_too_old_interpreter_is_refused_before_the_program_runs(tmp_path: Path) -> None:
    python = _pyenv_python("3.8")
    if python is None:
        pytest.skip("no pyenv Python 3.8 on this machine")
    marker = tmp_path / "ran"
    res = _record(tmp_path / "old.pyro", python, "-c", f"open({str(marker)!r}, 'w')")
    assert res.returncode == 1
    assert "is Python 3.8; the agent needs Python 3.9 or newer" in res.stderr
    assert not marker.exists()


def test_pipe_mode_launch_for_the_window(tmp_path: Path) -> None:
    """The window's route: launch() with captured output and a live Profile."""
    script = _write(
        tmp_path / "talk.py",
        SPIN + "print('out line')\nmain_spin(0.2)\nprint('err line', file=sys.stderr)\n",
    )
    feed = ProfileFeed()
    out = tmp_path / "pipe.pyro"
    with feed.collector(out) as coll:
        proc = launch(parse_target([str(script)]), coll, {"rate_hz": 200.0}, capture_output=True)
        assert proc.wait(30) == 0
        assert coll.wait_finished(10)
        assert feed.ended.wait(5)
    live = Profile()
    feed.apply(live)
    for profile in (live, read_recording(out)[0]):
        streams = {stream: "" for stream in ("stdout", "stderr")}
        for _t, stream, text in profile.output:
            streams[stream] += text
        assert streams == {"stdout": "out line\n", "stderr": "err line\n"}
        assert profile.sample_count > 3
        assert profile.end is not None and profile.end["exit_status"] == 0


def test_agent_warnings_reach_the_user(tmp_path: Path) -> None:
    """Trace mode in an interpreter without yappi: the agent samples instead and we say so."""
    python = _pyenv_python("3.9")
    if python is None:
        pytest.skip("no pyenv Python 3.9 on this machine")
    probe = subprocess.run([python, "-I", "-c", "import yappi"], capture_output=True, timeout=30)
    if probe.returncode == 0:
        pytest.skip("yappi is installed in the pyenv 3.9 interpreter")
    script = _write(tmp_path / "w.py", SPIN + "main_spin(0.1)\n")
    res = subprocess.run(
        [sys.executable, "-m", "pyrometer", "record", "-o", str(tmp_path / "w.pyro"), "--mode", "trace",
         "--", python, "-I", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "pyrometer: warning: trace mode unavailable" in res.stderr
    assert "sampling instead" in res.stderr
