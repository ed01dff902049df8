"""Attaching to running Python processes with gdb (or sys.remote_exec on 3.14+), and detaching."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pyrometer.core.capture.attach import AttachError, attach
from pyrometer.core.capture.collector import Collector
from pyrometer.core.formats.recording import RecordingError, read_recording

PYENV_ROOT = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
RECORD = [sys.executable, "-m", "pyrometer", "record"]

needs_gdb = pytest.mark.skipif(
    shutil.which("gdb") is None and sys.version_info < (3, 14), reason="gdb is not installed"
)

PRINTER = """
import itertools, sys, time
def tick(i):
    names = sorted(k for k in globals() if not k.startswith("__"))
    print("line", i, " ".join(names), flush=True)
for i in itertools.count():
    tick(i)
    time.sleep(0.02)
"""

# main thread parked in C code (an Event wait) while a worker prints: the pending call cannot run
PARKED = """
import itertools, threading, time
def worker():
    for i in itertools.count():
        print("line", i, flush=True)
        time.sleep(0.02)
threading.Thread(target=worker, name="printer", daemon=True).start()
threading.Event().wait()
"""


class Target:
    """A running Python process whose stdout lines we follow."""

    def __init__(self, python: str, code: str) -> None:
        self.proc = subprocess.Popen(
            [python, "-u", "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def next_lines(self, n: int, timeout: float = 10.0) -> list[str]:
        out: list[str] = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            out.append(self.lines.get(timeout=max(0.01, deadline - time.monotonic())))
        return out

    def drain(self) -> None:
        while not self.lines.empty():
            self.lines.get_nowait()

    def stop(self) -> str:
        self.proc.kill()
        _, err = self.proc.communicate(timeout=10)
        return err


TargetFactory = Callable[..., Target]


@pytest.fixture
def target_factory() -> Iterator[TargetFactory]:
    started: list[Target] = []

    def make(code: str = PRINTER, python: str = sys.executable) -> Target:
        t = Target(python, code)
        started.append(t)
        t.next_lines(1)  # running
        return t

    yield make
    for t in started:
        if t.proc.poll() is None:
            t.stop()


def _pyenv_python(prefix: str) -> str | None:
    for v in sorted((PYENV_ROOT / "versions").glob(prefix + "*")):
        exe = v / "bin" / "python3"
        if exe.exists():
            return str(exe)
    return None


def _record_attach(out: Path, pid: int, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RECORD, "-o", str(out), "--pid", str(pid), *extra],
        capture_output=True,
        text=True,
        timeout=90,
    )


def _samples_in(out: Path) -> int:
    try:
        profile, _ = read_recording(out)
    except (RecordingError, OSError):  # not created, or its header not written yet
        return 0
    return profile.sample_count


def _record_attach_until_sampled(out: Path, pid: int, samples: int = 5) -> subprocess.CompletedProcess[str]:
    """`record --pid` until the recording holds `samples` samples, then Ctrl-C (detach).

    Waits for the samples, not for a fixed time: a starved machine samples at a fraction
    of the rate (14 a second seen at load 12 on 2 cores, so `--duration 0.5` gave 7)."""
    rec = subprocess.Popen([*RECORD, "-o", str(out), "--pid", str(pid)], stderr=subprocess.PIPE, text=True)
    assert rec.stderr is not None
    first = rec.stderr.readline()
    if "attached" in first:
        deadline = time.monotonic() + 60
        while _samples_in(out) < samples and time.monotonic() < deadline:
            time.sleep(0.05)
        rec.send_signal(signal.SIGINT)
    _, rest = rec.communicate(timeout=60)
    return subprocess.CompletedProcess(rec.args, rec.returncode, "", first + rest)


def _skip_if_ptrace_denied(stderr: str) -> None:
    if "ptrace not permitted" in stderr or "not permitted to inspect" in stderr:
        pytest.skip("ptrace is not permitted on this machine: " + stderr.strip())


def _check_attached_recording(out: Path, pid: int, injected_later: bool = False) -> None:
    profile, report = read_recording(out)
    assert report.clean, report.problems
    assert profile.meta["pid"] == pid and profile.meta["attached"] is True
    assert profile.end is not None and profile.end["reason"] == "detached"
    assert profile.sample_count >= 5
    if not injected_later:  # a later injection runs in the (sampled) main thread for a moment
        labels = {profile.frame_label(f) for f in range(len(profile.frames))}
        assert not any("bootstrap" in lb or "transport" in lb for lb in labels)


def _attach_and_detach(tmp_path: Path, target: Target) -> str:
    before = target.next_lines(1)[0].split()[2:]  # the names in the target's __main__
    out = tmp_path / "attach.pyro"
    res = _record_attach_until_sampled(out, target.proc.pid)
    _skip_if_ptrace_denied(res.stderr)
    assert res.returncode == 0, res.stderr
    assert f"detached from {target.proc.pid}" in res.stderr
    target.drain()
    after = target.next_lines(3)  # it keeps printing after we left
    assert target.proc.poll() is None
    assert after[-1].split()[2:] == before  # we left no name behind in __main__
    _check_attached_recording(out, target.proc.pid)
    err = target.stop()
    assert "Traceback" not in err  # nothing leaked into the target's console
    return res.stderr


@needs_gdb
def test_attach_collects_samples_and_detach_leaves_target_running(
    tmp_path: Path, target_factory: TargetFactory
) -> None:
    stderr = _attach_and_detach(tmp_path, target_factory())
    assert "pending-call" in stderr or "remote_exec" in stderr


@needs_gdb
@pytest.mark.slow
@pytest.mark.parametrize("version", ["3.9", "3.13"])
def test_attach_to_other_interpreter_versions(
    tmp_path: Path, target_factory: TargetFactory, version: str
) -> None:
    python = _pyenv_python(version)
    if python is None:
        pytest.skip(f"no pyenv Python {version} on this machine")
    _attach_and_detach(tmp_path, target_factory(python=python))


@needs_gdb
def test_main_thread_idle_in_c_takes_the_gil_directly(
    tmp_path: Path, target_factory: TargetFactory
) -> None:
    target = target_factory(PARKED)
    out = tmp_path / "parked.pyro"
    res = _record_attach(out, target.proc.pid, "--duration", "0.6")
    _skip_if_ptrace_denied(res.stderr)
    assert res.returncode == 0, res.stderr
    if sys.version_info < (3, 14):
        assert f"attached to {target.proc.pid} (direct)" in res.stderr
    target.drain()
    target.next_lines(3)
    profile, report = read_recording(out)
    assert report.clean and profile.end is not None and profile.end["reason"] == "detached"
    assert "printer" in {t.name for t in profile.threads.values()}
    assert "Traceback" not in target.stop()


@needs_gdb
def test_ctrl_c_detaches(tmp_path: Path, target_factory: TargetFactory) -> None:
    target = target_factory()
    out = tmp_path / "ctrlc.pyro"
    rec = subprocess.Popen(
        [*RECORD, "-o", str(out), "--pid", str(target.proc.pid)],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert rec.stderr is not None
    first = rec.stderr.readline()
    if "attached" not in first:
        rec.wait(30)
        _skip_if_ptrace_denied(first)
        pytest.fail(first)
    deadline = time.monotonic() + 60
    while _samples_in(out) < 5 and time.monotonic() < deadline:  # what _check_attached_recording asks
        time.sleep(0.05)
    rec.send_signal(signal.SIGINT)
    rest = rec.communicate(timeout=30)[1]
    assert rec.returncode == 0
    assert f"detached from {target.proc.pid}" in rest
    target.drain()
    target.next_lines(3)
    _check_attached_recording(out, target.proc.pid)


# ------------------------------------------------------------------ errors
def _one_line_error(res: subprocess.CompletedProcess[str], expected: str) -> None:
    assert res.returncode == 2, res.stderr  # refused, as `pyrometer attach` refuses it
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert expected in lines[0], lines[0]


def test_no_such_process(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    _one_line_error(_record_attach(tmp_path / "x.pyro", gone.pid), f"no such process: {gone.pid}")


def test_not_a_python_process(tmp_path: Path) -> None:
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        _one_line_error(_record_attach(tmp_path / "x.pyro", sleeper.pid), "is not a Python process")
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="3.14+ attaches without gdb")
def test_gdb_missing(tmp_path: Path, target_factory: TargetFactory) -> None:
    target = target_factory()
    env = dict(os.environ, PATH=str(tmp_path))  # no gdb on this PATH
    res = subprocess.run(
        [*RECORD, "-o", str(tmp_path / "x.pyro"), "--pid", str(target.proc.pid)],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    _one_line_error(res, "gdb not found: install gdb")


@needs_gdb
def test_ptrace_not_permitted_says_what_to_do(
    tmp_path: Path, target_factory: TargetFactory
) -> None:
    # A process that is already traced (by its parent, us) cannot be attached by anyone else.
    target = target_factory("import ctypes; ctypes.CDLL(None).ptrace(0, 0, None, None)\n" + PRINTER)
    res = _record_attach(tmp_path / "x.pyro", target.proc.pid)
    # named before gdb is tried: which process holds it, rather than "not permitted" + "use sudo"
    _one_line_error(res, f"process {target.proc.pid} is already being traced (by process {os.getpid()})")


@needs_gdb
@pytest.mark.skipif(sys.version_info >= (3, 14), reason="3.14+ attaches with sys.remote_exec first")
@pytest.mark.parametrize("when", ["before", "after"])
def test_process_exiting_during_attach(tmp_path: Path, target_factory: TargetFactory, when: str) -> None:
    """The target dies while gdb attaches ("before" its batch runs: ptrace then fails with EPERM on
    the zombie, which is no permission problem) or between the injection and the agent's connection
    ("after"). A gdb on PATH that kills the target makes the moment exact:
    a target that watched for a tracer itself missed it now and then (its threads are stopped
    while gdb is attached), and `record` then rightly kept recording the live program for 90 s."""
    target = target_factory(PARKED)  # its main thread never runs the pending call: no agent connects
    real_gdb = shutil.which("gdb")
    assert real_gdb is not None
    pid = target.proc.pid
    kill = f"kill -9 {pid}"
    run = f'"{real_gdb}" "$@"'
    body = f"{kill}\nexec {run}\n" if when == "before" else f"{run}\nstatus=$?\n{kill}\nexit $status\n"
    wrapper = tmp_path / "bin" / "gdb"
    wrapper.parent.mkdir()
    wrapper.write_text("#!/bin/sh\n" + body)
    wrapper.chmod(0o755)
    env = dict(os.environ, PATH=f"{wrapper.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    res = subprocess.run(
        [*RECORD, "-o", str(tmp_path / "x.pyro"), "--pid", str(pid)],
        capture_output=True, text=True, timeout=90, env=env,
    )  # fmt: skip
    if when == "after":  # ("before": the target is gone, whatever ptrace allows)
        _skip_if_ptrace_denied(res.stderr)
    _one_line_error(res, f"process {pid} exited during attach")
    assert target.proc.wait(timeout=10) == -signal.SIGKILL  # (our wrapper ran)


@needs_gdb
def test_agent_that_never_connects_times_out(tmp_path: Path, target_factory: TargetFactory) -> None:
    # A stand-in bootstrap that does nothing: injection succeeds, nobody connects.
    dud = tmp_path / "dud_bootstrap.py"
    dud.write_text("def attach(config):\n    pass\n")
    target = target_factory()
    with Collector(tmp_path / "x.pyro") as coll:
        t0 = time.monotonic()
        with pytest.raises(AttachError, match=r"did not connect within 1\.5 s") as info:
            attach(target.proc.pid, coll, {"rate_hz": 100.0}, connect_timeout=1.5, bootstrap=dud)
        assert time.monotonic() - t0 < 20
    if "ptrace" in str(info.value):
        pytest.skip(str(info.value))
    assert "\n" not in str(info.value)
    target.drain()
    target.next_lines(2)


@needs_gdb
@pytest.mark.skipif(sys.version_info >= (3, 14), reason="3.14+ attaches with sys.remote_exec first")
def test_a_pending_call_slower_than_the_wait_is_not_a_busy_target(
    tmp_path: Path, target_factory: TargetFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a starved machine the pending call had not run within the wait, and gdb then found
    the main thread holding the GIL (running Python, or our late call itself): `record` said
    "busy in C code ... try again", or took the direct route too and ran our bootstrap a second
    time in the sampled main thread. What was queued is waited for instead.

    That moment is made exact here: the real pending call is queued only once gdb has found
    the main thread busy (a real target, real gdb, only the order forced)."""
    import pyrometer.core.capture.attach as attach_module

    queue_for_real = attach_module.gdb_pending_call
    queued: list[tuple[int, str]] = []

    def slow_to_run(pid: int, snippet: str, workdir: Path) -> None:
        queued.append((pid, snippet))

    def main_thread_busy(pid: int, snippet: str, workdir: Path) -> bool:
        queue_for_real(*queued[0], workdir)
        return False

    monkeypatch.setattr(attach_module, "gdb_pending_call", slow_to_run)
    monkeypatch.setattr(attach_module, "gdb_direct", main_thread_busy)
    target = target_factory()
    with Collector(tmp_path / "x.pyro") as coll:
        try:
            route = attach(target.proc.pid, coll, {"rate_hz": 100.0}, pending_wait=0.1)
        except AttachError as exc:
            if "ptrace" in str(exc):
                pytest.skip(str(exc))
            raise
        assert route == "pending-call" and coll.connected
    target.drain()
    target.next_lines(2)
    assert "Traceback" not in target.stop()


def test_a_late_pending_call_after_the_direct_route_runs_nothing(tmp_path: Path) -> None:
    """gdb ran the snippet directly while the pending call stayed queued; when that call runs
    later it must not load our bootstrap again in the user's (sampled) main thread."""
    from pyrometer.core.capture.attach import _snippet

    ran = tmp_path / "ran"
    script = tmp_path / "attach.py"
    script.write_text(f"open({str(ran)!r}, 'a').write('x')\n")
    marker = tmp_path / "injected"  # the injection script creates it first thing
    snippet = _snippet(script, marker)
    namespace: dict[str, object] = {}
    exec(snippet, namespace)
    assert ran.read_text() == "x"
    marker.touch()
    exec(snippet, namespace)
    assert ran.read_text() == "x"  # the second run did nothing
    assert set(namespace) == {"__builtins__"}  # and bound no name where it ran (__main__)


def test_too_old_python_is_refused(tmp_path: Path, target_factory: TargetFactory) -> None:
    python = _pyenv_python("3.8")
    if python is None:
        pytest.skip("no pyenv Python 3.8 on this machine")
    target = target_factory(python=python)
    _one_line_error(
        _record_attach(tmp_path / "x.pyro", target.proc.pid), "runs Python 3.8; the agent needs"
    )


@needs_gdb
@pytest.mark.slow
def test_attach_again_after_detach_and_refuse_a_second_session(
    tmp_path: Path, target_factory: TargetFactory
) -> None:
    target = target_factory()
    first = _record_attach(tmp_path / "one.pyro", target.proc.pid, "--duration", "0.3")
    _skip_if_ptrace_denied(first.stderr)
    assert first.returncode == 0, first.stderr
    # a second attach to the same process works once the first detached
    second = subprocess.Popen(
        [*RECORD, "-o", str(tmp_path / "two.pyro"), "--pid", str(target.proc.pid)],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert second.stderr is not None
    assert "attached" in second.stderr.readline()
    # ...and while it is attached, a third one is refused with a clear message
    third = _record_attach(tmp_path / "three.pyro", target.proc.pid, "--duration", "0.3")
    _one_line_error(third, "already being profiled by another Pyrometer session")
    second.send_signal(signal.SIGINT)
    assert second.wait(30) == 0
    _check_attached_recording(tmp_path / "two.pyro", target.proc.pid, injected_later=True)
    target.drain()
    target.next_lines(3)


@needs_gdb
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a target as another user")
def test_root_attaches_to_another_users_process(tmp_path: Path) -> None:
    """The private directory is handed to the target's user so its agent can connect."""
    python = "/usr/bin/python3"
    if not os.access(python, os.X_OK):
        pytest.skip("no system /usr/bin/python3 that another user can run")
    probe = subprocess.run(
        [python, "-c", "import sys; print(sys.version_info >= (3, 9))"],
        capture_output=True,
        text=True,
        user="nobody",
    )
    if probe.stdout.strip() != "True":
        pytest.skip("the system Python is older than 3.9 or not runnable as nobody")
    target = subprocess.Popen(
        [python, "-u", "-c", PRINTER], stdout=subprocess.PIPE, text=True, user="nobody"
    )
    try:
        assert target.stdout is not None
        assert target.stdout.readline().startswith("line")
        out = tmp_path / "other-user.pyro"
        res = _record_attach_until_sampled(out, target.pid)
        assert res.returncode == 0, res.stderr
        _check_attached_recording(out, target.pid)
        assert target.poll() is None
    finally:
        target.kill()
        target.wait()


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


@needs_gdb
@pytest.mark.skipif(sys.version_info >= (3, 14), reason="3.14+ attaches without gdb")
def test_ctrl_c_while_gdb_runs_never_breaks_the_target(
    tmp_path: Path, target_factory: TargetFactory
) -> None:
    target = target_factory(PARKED)
    rec = subprocess.Popen(
        [*RECORD, "-o", str(tmp_path / "x.pyro"), "--pid", str(target.proc.pid)],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 20
    while not _children(rec.pid):  # gdb is running now
        assert time.monotonic() < deadline and rec.poll() is None
        time.sleep(0.005)
    os.killpg(rec.pid, signal.SIGINT)  # Ctrl-C at the terminal: the whole group
    _, stderr = rec.communicate(timeout=60)
    assert rec.returncode in (0, 130), stderr
    if rec.returncode == 130:
        assert "interrupted while attaching" in stderr
    target.drain()
    target.next_lines(5)  # alive and well
    assert target.proc.poll() is None
    assert "Traceback" not in target.stop()
