"""A live session in the window: launch or attach, collect on worker threads, grow the model.

The collector (pyrometer.core.capture.collector) receives the agent's stream on its
own threads and writes it verbatim to a recording file from the first frame.
Its consumer thread hands frame batches to `_on_frames`, which only queues
them and wakes the GUI thread with one queued signal per burst; the GUI
thread applies the frames to the Profile (cheap numpy appends) and tells the
Document, whose view refreshes visible panes at most ~10 times a second.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from pyrometer.app.document import Document
from pyrometer.core.agent import wire
from pyrometer.core.capture.collector import Collector
from pyrometer.core.capture.launch import Target
from pyrometer.core.formats.recording import apply_message
from pyrometer.core.model import Profile

DEFAULT_OPTIONS: dict[str, Any] = {
    "rate_hz": 100.0,
    "mode": "sample",
    "clock": "cpu",
    "loop_interval_ms": 10.0,
    "block_threshold_ms": 50.0,
}
STOP_GRACE_S = 3.0
DRAIN_INTERVAL_S = 0.1  # frames are applied to the model at most ~10 times a second
DRAIN_IDLE_INTERVAL_S = 0.5  # ... and twice a second while only a trickle arrives
IDLE_DRAIN_SAMPLES = 50  # a drain that added fewer samples than this was a trickle (program waiting)
DRAIN_BUDGET_S = 0.015  # GUI-thread time one drain may take; a backlog continues on the next turn
OUTPUT_GRACE_S = 2.0  # after the program exits, how long its last output may take to be read


def demo_script() -> Path:
    """The demo target shipped in resources/demo."""
    import pyrometer.resources as res

    return Path(res.__file__).resolve().parent / "demo" / "demo_service.py"


def demo_target(duration: float | None = None) -> list[str]:
    words = [str(demo_script())]
    if duration is not None:
        words += ["--duration", f"{duration:g}"]
    return words


class LiveSession(QObject):
    """One launched or attached target feeding a growing Document."""

    stateChanged = Signal(str)
    failed = Signal(str)
    ended = Signal(object)  # END dict or None
    _wake = Signal()  # emitted from worker threads; connected queued to the GUI thread
    _exited = Signal(int)
    _attach_failed = Signal(str)

    def __init__(
        self,
        options: dict[str, Any],
        command: str,
        save_path: str | os.PathLike[str] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.options = {**DEFAULT_OPTIONS, **options}
        self.attached = False
        self.proc: subprocess.Popen[bytes] | None = None
        self.pid: int | None = None
        self.exit_status: int | None = None
        self.state = "starting"
        self._tmpdir = Path(tempfile.mkdtemp(prefix="pyrometer-live-"))
        self.recording_path = Path(save_path) if save_path is not None else self._tmpdir / "session.pyro"
        self.keep_path = Path(save_path) if save_path is not None else None
        profile = Profile()
        profile.meta["command"] = command
        self.doc = Document(profile, None, is_live=True)
        self._lock = threading.Lock()
        self._pending: list[tuple[int, bytes]] = []
        self._woken = False
        self._end: dict[str, Any] | None = None
        self._stream_done = False
        self._rate_marks: list[tuple[float, int]] = []
        self.collector = Collector(self.recording_path, on_frames=self._on_frames, on_end=self._on_end)
        self._wake.connect(self._schedule_drain, Qt.ConnectionType.QueuedConnection)
        self._drain_timer = QTimer(self)
        self._drain_timer.setSingleShot(True)
        self._drain_timer.timeout.connect(self._drain)
        self._last_drain = 0.0
        self._last_drain_samples = IDLE_DRAIN_SAMPLES  # start at full pace
        self._exited.connect(self._on_exit, Qt.ConnectionType.QueuedConnection)
        self._attach_failed.connect(self._on_attach_failed, Qt.ConnectionType.QueuedConnection)
        self._duration_timer: QTimer | None = None
        self._target: Target | None = None
        self._kill_timer: QTimer | None = None
        self.cwd: str | None = None  # launch only: where the program runs (None: here)
        self.extra_env: dict[str, str] = {}  # launch only: added to the program's environment

    # ------------------------------------------------------------ construction
    @classmethod
    def launch(
        cls,
        words: list[str],
        options: dict[str, Any] | None = None,
        python: str | None = None,
        save_path: str | os.PathLike[str] | None = None,
        parent: QObject | None = None,
        cwd: str | os.PathLike[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> LiveSession:
        """Prepare a launch (raises LaunchError with a one-line reason for a bad command).

        `cwd`: the directory the program runs in (a relative script is looked
        up there first); `env`: variables added to this process's environment
        for the program.
        """
        from pyrometer.core.capture.launch import LaunchError, parse_target

        if not words:
            raise LaunchError("nothing to run: give a script, -m MODULE or -c CODE after --")
        words = list(words)
        if cwd is not None:
            if not os.path.isdir(cwd):
                raise LaunchError(f"working directory {cwd} does not exist")
            first = words[0]
            if not first.startswith("-") and not os.path.isabs(first) and os.path.isfile(os.path.join(cwd, first)):
                words[0] = os.path.join(os.path.abspath(cwd), first)  # a script named relative to where it runs
        target = parse_target(words, python)
        self = cls(options or {}, target.describe(), save_path, parent)
        self._target = target
        self.cwd = None if cwd is None else os.path.abspath(cwd)
        self.extra_env = dict(env or {})
        if self.cwd is not None:
            self.doc.profile.meta["cwd"] = self.cwd
        self.doc.name = Path(target.target).name if target.kind == "script" else f"{target.kind} {target.target[:30]}"
        return self

    @classmethod
    def attach(
        cls,
        pid: int,
        options: dict[str, Any] | None = None,
        save_path: str | os.PathLike[str] | None = None,
        parent: QObject | None = None,
    ) -> LiveSession:
        self = cls(options or {}, f"PID {pid}", save_path, parent)
        self.doc.name = f"PID {pid}"
        self.attached = True
        self.pid = int(pid)
        return self

    # ------------------------------------------------------------ lifecycle
    @property
    def running(self) -> bool:
        return self.state in ("starting", "running", "stopping", "detaching")

    def start(self) -> None:
        """Start collecting; errors go to `failed` (the window shows them) and end the session."""
        try:
            self.collector.start()
            options = dict(self.options)
            duration = options.pop("duration", None)
            if self.attached:
                self._start_attach(options)
            else:
                from pyrometer.core.capture.launch import launch

                assert self._target is not None
                options["argv"] = self._target.argv()
                env = {**os.environ, **self.extra_env} if self.extra_env else None
                self.proc = launch(self._target, self.collector, options, capture_output=True, cwd=self.cwd, env=env)
                self.pid = self.proc.pid
                threading.Thread(target=self._wait_proc, name="pyrometer-wait", daemon=True).start()
        except Exception as exc:
            self._set_state("failed")
            self.failed.emit(str(exc))
            self.collector.close()
            return
        self.doc.profile.meta.setdefault("pid", self.pid)
        self._set_state("running")
        if duration:
            self._duration_timer = QTimer(self)
            self._duration_timer.setSingleShot(True)
            self._duration_timer.timeout.connect(self.detach if self.attached else self._duration_over)
            self._duration_timer.start(int(float(duration) * 1000))

    def _start_attach(self, options: dict[str, Any]) -> None:
        """Inject the agent on a worker thread (gdb can take seconds); failures come back queued."""
        from pyrometer.core.capture.attach import attach

        options["attached"] = True
        pid = int(self.pid or 0)

        def run() -> None:
            try:
                attach(pid, self.collector, options)
            except Exception as exc:
                self._attach_failed.emit(str(exc))
                return
            self.collector.wait_finished(None)
            self._exited.emit(-1)

        threading.Thread(target=run, name="pyrometer-attach", daemon=True).start()

    def _on_attach_failed(self, message: str) -> None:
        self.collector.close()
        self._set_state("failed")
        self.failed.emit(message)

    def _wait_proc(self) -> None:
        assert self.proc is not None
        status = self.proc.wait()
        # the output pumps close the pipes at EOF: wait for them (briefly, and only here at the end)
        # so the program's last lines are applied before the exit is, in order
        deadline = time.monotonic() + OUTPUT_GRACE_S
        for pipe in (self.proc.stdout, self.proc.stderr):
            while pipe is not None and not pipe.closed and time.monotonic() < deadline:
                time.sleep(0.01)
        # give the stream a moment to deliver END and the last batches
        self.collector.wait_finished(5.0)
        self._exited.emit(int(status))

    def _duration_over(self) -> None:
        """--duration on a launch: stop profiling, let the program finish on its own."""
        self.detach()

    def stop(self) -> None:
        """End the launched program (SIGINT, then SIGTERM, then SIGKILL); keep everything."""
        if self.attached:
            self.detach()
            return
        if self.proc is None or self.proc.poll() is not None:
            return
        self._set_state("stopping")
        with contextlib.suppress(OSError):
            self.proc.send_signal(signal.SIGINT)
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.timeout.connect(self._escalate)
        self._kill_timer.start(int(STOP_GRACE_S * 1000))

    def _escalate(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(OSError):
            self.proc.terminate()
        QTimer.singleShot(int(STOP_GRACE_S * 1000), self._kill)

    def _kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()

    def detach(self) -> None:
        """Stop profiling and leave the target running."""
        if not self.running:
            return
        self._set_state("detaching")
        if not self.collector.request_stop():
            self.collector.close()

    def shutdown(self) -> None:
        """Window closing: stop a launched target, detach from an attached one, release files."""
        if self.running:
            if self.attached:
                self.collector.request_stop()
            elif self.proc is not None and self.proc.poll() is None:
                with contextlib.suppress(OSError):
                    self.proc.send_signal(signal.SIGINT)
                try:
                    self.proc.wait(STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
        self.collector.close()
        self._drain(None)
        if self.keep_path is None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)

    def save(self, path: Path) -> None:
        """Keep the recording: copy the file written so far (it is always readable)."""
        if Path(path).resolve() == self.recording_path.resolve():
            return
        shutil.copyfile(self.recording_path, path)

    # ------------------------------------------------------------ stream (worker threads)
    def _on_frames(self, frames: list[tuple[int, bytes]]) -> None:
        with self._lock:
            self._pending.extend(frames)
            if self._woken:
                return
            self._woken = True
        self._wake.emit()

    def _on_end(self, end: dict[str, Any] | None) -> None:
        self._adopt_late_output()
        with self._lock:
            self._end = end
            self._stream_done = True
            if self._woken:
                return
            self._woken = True
        self._wake.emit()

    def _adopt_late_output(self) -> None:
        """From now on take the collector's batches directly (consumer thread, at the stream's end).

        The program's stdout/stderr are read by pump threads, which can lag
        behind the agent's END: output they add after the consumer thread has
        ended would wait in a queue nobody reads. It is still recorded to the
        file; this makes it reach the model (the Console) as well.
        """
        old = getattr(self.collector, "_queue", None)
        if old is None:
            return
        session = self

        class _Direct:
            def put(self, batch: list[tuple[int, bytes]] | None) -> None:
                if batch:
                    session._on_frames(batch)

        self.collector._queue = _Direct()  # type: ignore[assignment]
        while True:  # anything put between the consumer's last batch and the switch
            try:
                batch = old.get_nowait()
            except queue.Empty:
                break
            if batch:
                self._on_frames(batch)

    # ------------------------------------------------------------ GUI thread
    def _schedule_drain(self) -> None:
        """Apply queued frames now, or within DRAIN_INTERVAL_S of the last drain (fewer, larger appends)."""
        if self._drain_timer.isActive():
            return
        # a waiting program sends a few samples ten times a second; applying them (and
        # waking the GUI thread twice for it) that often was most of an idle session's cost
        interval = DRAIN_IDLE_INTERVAL_S if self._last_drain_samples < IDLE_DRAIN_SAMPLES else DRAIN_INTERVAL_S
        wait = interval - (time.monotonic() - self._last_drain)
        self._drain_timer.start(max(0, int(wait * 1000)))

    def _drain(self, budget_s: float | None = DRAIN_BUDGET_S) -> None:
        """Apply queued frames to the model; after `budget_s` of work, leave the rest for the next turn.

        A backlog (the GUI was busy, or a burst arrived) is applied in slices so
        input, painting and timers get in between; None applies everything.
        """
        start = time.monotonic()
        self._last_drain = start
        with self._lock:
            frames, self._pending = self._pending, []
            self._woken = False
            done = self._stream_done
        applied = 0
        before = self.doc.profile.sample_count
        if frames:
            profile = self.doc.profile
            for kind, payload in frames:
                try:
                    apply_message(profile, kind, payload)
                except (ValueError, KeyError, TypeError, IndexError) as exc:
                    profile.notices.append({"level": "warning", "message": f"bad {wire.describe(kind)} frame: {exc}"})
                applied += 1
                if budget_s is not None and time.monotonic() - start > budget_s and applied < len(frames):
                    break
            self.doc.model_grew()
        self._last_drain_samples = self.doc.profile.sample_count - before
        if applied < len(frames):
            with self._lock:
                self._pending[:0] = frames[applied:]  # before anything that arrived meanwhile
                self._woken = True  # a drain is scheduled: workers need not wake the GUI thread
            self._drain_timer.start(0)
            return
        if done and self.state == "detaching":
            self._finish_state()

    def _on_exit(self, status: int) -> None:
        self._drain(None)
        if status >= 0:
            self.exit_status = status
        self._finish_state()

    def _finish_state(self) -> None:
        if not self.running and self.state != "starting":
            return
        end = self.doc.profile.end or self._end or {}
        if self.attached or self.state == "detaching":
            text = "detached"
            if self.proc is not None and self.proc.poll() is None:
                text = "detached (the program keeps running)"
        else:
            status = end.get("exit_status", self.exit_status)
            if status is None:
                status = self.exit_status
            text = f"ended, exit status {status}"
            if self.exit_status is not None and self.exit_status < 0:
                text = f"ended by signal {-self.exit_status}"
        self.doc.profile.finish()
        self.doc.model_grew()
        self.collector.close()  # the stream is over: release the socket and threads; the file stays
        self._set_state(text)
        self.ended.emit(end)
        if self._duration_timer is not None:
            self._duration_timer.stop()

    def _set_state(self, state: str) -> None:
        self.state = state
        self.doc.set_state(state)
        self.stateChanged.emit(state)

    # ------------------------------------------------------------ status
    def samples_per_second(self) -> float:
        now = time.monotonic()
        n = self.doc.profile.sample_count
        self._rate_marks.append((now, n))
        while len(self._rate_marks) > 2 and now - self._rate_marks[0][0] > 2.0:
            self._rate_marks.pop(0)
        t0, n0 = self._rate_marks[0]
        return (n - n0) / (now - t0) if now > t0 else 0.0

    def status_text(self) -> str:
        p = self.doc.profile
        dropped = p.telemetry.get("samples_dropped", 0) or 0
        rate = self.samples_per_second() if self.running else 0.0
        parts = [self.state]
        if self.pid:
            parts.append(f"PID {self.pid}")
        if self.running:
            parts.append(f"{rate:,.0f} samples/s")
        parts.append(f"{p.sample_count:,} samples")
        parts.append(f"{int(dropped):,} dropped")
        return " · ".join(parts)
