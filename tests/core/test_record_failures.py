"""`pyrometer record` never hides a failure and never destroys a file it was not asked to write.

Issue 11 items 2, 3 and the recorder parts of 11: a full disk (a real tmpfs
when we may mount one, and an injected write error always), a damaged agent
stream, an existing output that a failed start must leave intact, an output
that is the program itself, a FIFO, and signals that must reach the target.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyrometer.core.agent import wire
from pyrometer.core.capture.collector import Collector
from pyrometer.core.formats.recording import RecordingError, read_recording

RECORD = [sys.executable, "-m", "pyrometer", "record"]

BUSY = """
import os, sys, time
with open(sys.argv[1], "w") as fh:
    fh.write(str(os.getpid()))
end = time.perf_counter() + float(sys.argv[2])
def spin():
    while time.perf_counter() < end:
        sum(range(300))
spin()
print("target ran to its end", flush=True)
"""


def _script(tmp_path: Path) -> Path:
    path = tmp_path / "busy.py"
    path.write_text(BUSY)
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as fh:
        return fh.read().split(")")[-1].split()[0] != "Z"
    return True


def _samples_in(out: Path) -> int:
    """Samples the recording holds so far (0 before its header is written)."""
    try:
        return read_recording(out)[0].sample_count
    except (RecordingError, OSError):
        return 0


@contextlib.contextmanager
def _small_tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs to fill needs root (the injected-error test covers the logic)")
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


# ---------------------------------------------------------------- item 2: a full disk
def test_full_disk_says_why_exits_nonzero_and_counts_what_the_file_holds(tmp_path: Path) -> None:
    with _small_tmpfs(tmp_path / "small", "8k") as disk:
        out = disk / "run.pyro"
        res = subprocess.run([*RECORD, "--rate", "1000", "-o", str(out), "--", str(_script(tmp_path)),
                              str(tmp_path / "pid"), "3"], capture_output=True, text=True, timeout=60)
        assert "target ran to its end" in res.stdout  # the target was not hurt
        assert "No space left on device" in res.stderr, res.stderr
        assert res.returncode == 1, res.stderr
        profile, report = read_recording(out)
        assert profile.sample_count > 0
        # the summary's count is the file's count, not what arrived
        assert f"recorded {profile.sample_count} samples" in res.stderr, (profile.sample_count, res.stderr)
        assert report.clean, report.problems  # cut back to the last whole frame
        assert "Traceback" not in res.stderr


class _NearlyFullDisk:
    """A file object over the real one that has `left` bytes of room: a short write, then ENOSPC."""

    def __init__(self, fh: object, left: int) -> None:
        self.fh = fh
        self.left = left

    def write(self, data: bytes) -> int:
        if not self.left:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = min(len(data), self.left)
        self.left -= n
        return self.fh.write(bytes(data[:n]))  # type: ignore[attr-defined, no-any-return]

    def __getattr__(self, name: str) -> object:
        return getattr(self.fh, name)


def test_a_failed_write_ends_the_session_and_keeps_only_whole_frames(tmp_path: Path) -> None:
    out = tmp_path / "out.pyro"
    told: list[str] = []
    coll = Collector(out)
    coll.on_failure = told.append
    with coll:
        assert coll._writer is not None
        coll._writer._fh = _NearlyFullDisk(coll._writer._fh, 3000)  # type: ignore[assignment]
        sock = _connect(coll)
        sock.sendall(b"PYROMETER " + coll.token.encode() + b"\n" + wire.file_header())
        frames = [wire.json_frame(wire.META, {"pid": 1}), wire.frames_frame([(0, "a.py", 1, "f", 1)]),
                  wire.stacks_frame(0, [-1], [0]), wire.json_frame(wire.THREADS, [[0, "MainThread", 10]])] + [
            wire.samples_frame([i * 0.01] * 10, [0] * 10, [0] * 10, [-1] * 10, [0.01] * 10, [-1.0] * 10)
            for i in range(40)
        ]
        for data in frames:
            with contextlib.suppress(OSError):
                sock.sendall(data)
            time.sleep(0.002)
        assert coll.wait_finished(5.0)  # the collector dropped the agent itself
        sock.close()
    assert coll.failure is not None and "No space left on device" in coll.failure
    assert told == [coll.failure]
    profile, report = read_recording(out)
    assert report.clean, report.problems
    assert profile.sample_count == coll.stats.samples > 0
    assert out.stat().st_size == wire.FILE_HEADER_SIZE + coll.stats.bytes


def _connect(coll: Collector) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(coll.address[5:])
    return sock


def test_garbage_after_the_token_is_a_damaged_stream_not_a_missing_agent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pyrometer.core.cli.record_command import _ending

    with Collector(tmp_path / "out.pyro") as coll:
        sock = _connect(coll)
        sock.sendall(b"PYROMETER " + coll.token.encode() + b"\n" + b"\xde\xad" * 40)
        assert coll.wait_finished(5.0)
        sock.close()
    assert _ending(coll, "out.pyro", 0) == 1
    err = capsys.readouterr().err
    assert "never connected" not in err
    assert "stream was unreadable (agent stream has a bad header)" in err


def test_a_corrupt_frame_mid_stream_fails_the_recording(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pyrometer.core.cli.record_command import _ending

    with Collector(tmp_path / "out.pyro") as coll:
        sock = _connect(coll)
        bad = bytearray(wire.samples_frame([0.1], [0], [0], [-1], [0.01], [-1.0]))
        bad[-1] ^= 1
        sock.sendall(b"PYROMETER " + coll.token.encode() + b"\n" + wire.file_header()
                     + wire.json_frame(wire.META, {"pid": 1}) + bytes(bad))
        assert coll.wait_finished(5.0)
        sock.close()
    assert _ending(coll, "out.pyro", 0) == 1
    err = capsys.readouterr().err
    assert "recorded 0 samples (1 messages" in err and "stopped early: agent sent a frame with a bad checksum" in err


# ---------------------------------------------------------------- item 3: existing outputs
@pytest.mark.parametrize("how", ["dead pid", "bad python"])
def test_a_failed_start_leaves_an_existing_recording_intact(tmp_path: Path, how: str) -> None:
    out = tmp_path / "keep.pyro"
    old = wire.file_header() + wire.json_frame(wire.META, {"pid": 1, "precious": True}) * 500
    out.write_bytes(old)
    if how == "dead pid":
        argv = [*RECORD, "-o", str(out), "--pid", "999999"]
    else:
        argv = [*RECORD, "-o", str(out), "--python", "/bin/false", "--", str(_script(tmp_path)), "x", "0"]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert res.returncode != 0
    assert out.read_bytes() == old, res.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left behind


def test_output_equal_to_the_script_is_refused(tmp_path: Path) -> None:
    victim = _script(tmp_path)
    before = victim.read_bytes()
    res = subprocess.run([*RECORD, "-o", str(victim), "--", str(victim), str(tmp_path / "pid"), "0"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert "refusing to overwrite" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert victim.read_bytes() == before
    assert not (tmp_path / "pid").exists()  # refused before the target started


def test_a_fifo_output_is_refused_before_launching(tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    res = subprocess.run([*RECORD, "-o", str(fifo), "--", str(_script(tmp_path)), str(tmp_path / "pid"), "0"],
                         capture_output=True, text=True, timeout=20)
    assert res.returncode == 2 and "not a regular file" in res.stderr
    assert not (tmp_path / "pid").exists()


def test_a_successful_recording_replaces_the_old_one(tmp_path: Path) -> None:
    out = tmp_path / "again.pyro"
    out.write_bytes(wire.file_header() + wire.json_frame(wire.META, {"pid": 1}))  # an old recording (anything else is refused)
    res = subprocess.run([*RECORD, "-o", str(out), "--", str(_script(tmp_path)), str(tmp_path / "pid"), "0.3"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    profile, report = read_recording(out)
    assert report.clean and profile.sample_count > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.pyro", "busy.py", "pid"]


# ---------------------------------------------------------------- item 11: signals reach the target
@pytest.mark.parametrize("signame", ["SIGQUIT", "SIGUSR1"])
def test_signals_that_would_kill_the_recorder_go_to_the_target(tmp_path: Path, signame: str) -> None:
    sig = getattr(signal, signame)
    out = tmp_path / "sig.pyro"
    proc = subprocess.Popen([*RECORD, "-o", str(out), "--", str(_script(tmp_path)), str(tmp_path / "pid"), "30"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 20
    while not (tmp_path / "pid").exists() or not (tmp_path / "pid").read_text():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    target = int((tmp_path / "pid").read_text())
    try:
        deadline = time.monotonic() + 30  # samples on disk before the signal (not a fixed 0.3 s: a starved
        while _samples_in(out) == 0:  # recorder may not have written any by then)
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.02)
        proc.send_signal(sig)  # only the recorder, as `kill -QUIT <pid>` would
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == 128 + sig, err  # the target died of it and we report that, like a shell
        deadline = time.monotonic() + 5
        while _alive(target) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _alive(target), "the target was orphaned"
        assert read_recording(out)[0].sample_count > 0
    finally:
        with contextlib.suppress(OSError):
            os.kill(target, signal.SIGKILL)
        with contextlib.suppress(OSError):
            proc.kill()


# ---------------------------------------------------------------- item 11: the token leaves the environment
def test_the_session_token_is_not_in_the_targets_environment(tmp_path: Path) -> None:
    script = tmp_path / "env.py"
    script.write_text(
        "import os\n"
        "raw = open('/proc/self/environ', 'rb').read().decode('utf-8', 'replace')\n"
        "print('\"token\"' in raw, '\"token\"' in repr(dict(os.environ)))\n"
        "print(sorted(name for name in os.listdir(os.environ.get('TMPDIR', '/tmp')) if name.startswith('pyrometer-')))\n"
    )
    res = subprocess.run([*RECORD, "-o", str(tmp_path / "e.pyro"), "--", str(script)], capture_output=True, text=True,
                         timeout=60, env=dict(os.environ, TMPDIR=str(tmp_path)))
    assert res.returncode == 0, res.stderr
    first, second = res.stdout.splitlines()
    assert first == "False False"  # before: the whole config, token included, in /proc/PID/environ
    (folder,) = eval(second)
    assert os.listdir(tmp_path) and not (tmp_path / folder).exists()  # and removed on exit
    assert read_recording(tmp_path / "e.pyro")[0].meta


@pytest.mark.parametrize("how", ["dead pid", "python 3.8"])
def test_a_failed_start_creates_no_file(tmp_path: Path, how: str) -> None:
    """`record -o new.pyro --pid DEAD` (and an interpreter the agent cannot run in) said one clear
    line and left new.pyro behind: 16 bytes of header that `stats` then showed as an empty run."""
    out = tmp_path / "new.pyro"
    if how == "dead pid":
        argv = [*RECORD, "-o", str(out), "--pid", "999999"]
    else:
        found = sorted(Path("/root/.pyenv/versions").glob("3.8.*/bin/python"))
        if not found:
            pytest.skip("no Python 3.8 interpreter here (pyenv versions 3.8.*)")
        old = found[0]
        argv = [*RECORD, "-o", str(out), "--python", str(old), "--", str(_script(tmp_path)), "x", "0"]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert res.returncode != 0
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert not out.exists(), res.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_target_killed_by_a_signal_is_said(tmp_path: Path) -> None:
    """A program killed by SIGKILL (or a C extension's SIGSEGV) sends no END: the recording keeps
    its samples but nothing said why it stopped; `record` printed only 'recorded 59 samples'."""
    script = tmp_path / "killed.py"
    script.write_text("import os, signal, time\ntime.sleep(0.3)\nos.kill(os.getpid(), signal.SIGKILL)\n")
    out = tmp_path / "killed.pyro"
    res = subprocess.run([*RECORD, "-o", str(out), "--no-history", "--", str(script)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 128 + signal.SIGKILL, res.stderr
    assert "killed by SIGKILL" in res.stderr, res.stderr
    assert "recorded" in res.stderr and out.exists()
