"""A live session in the window: launch or attach, collect on worker threads, grow the model.

The collector (pyrometer.core.capture.collector) receives the agent's stream on its
own threads and writes it verbatim to a recording file from the first frame.
The thread that read a batch puts it into the session's ProfileFeed (one hop),
which wakes the GUI thread with one queued signal per burst; the GUI thread
applies the frames to the Profile (cheap numpy appends, the feed's code) and
tells the Document, whose view refreshes visible panes at most ~10 times a second.
"""

from __future__ import annotations

import contextlib
import os
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
from pyrometer.app.live_state import LiveState, Phase
from pyrometer.core.agent import defaults
from pyrometer.core.capture.feed import ProfileFeed
from pyrometer.core.capture.launch import Target
from pyrometer.core.model import Profile

DEFAULT_OPTIONS: dict[str, Any] = dict(defaults.COLLECTION)
STOP_GRACE_S = 3.0
DRAIN_INTERVAL_S = 0.1  # frames are applied to the model at most ~10 times a second
DRAIN_IDLE_INTERVAL_S = 0.5  # ... and twice a second while only a trickle arrives
IDLE_DRAIN_SAMPLES = 50  # a drain that added fewer samples than this was a trickle (program waiting)
DRAIN_BUDGET_S = 0.015  # GUI-thread time one drain may take; a backlog continues on the next turn
# address space reserved up front for the live columns (memory is used only as rows arrive): a day at
# 100 Hz on 8 threads (1.9 GB of address space), and at 100 probes/s on 2 loops; past that they grow by doubling
LIVE_SAMPLE_ROWS = 1 << 26
LIVE_LAG_ROWS = 1 << 24
QUIT_FINISH_S = 3.0  # quitting waits this long for a kept recording's index, then leaves it to the first open
OUTPUT_GRACE_S = 2.0  # after the program exits, how long its last output may take to be read


def live_profile() -> Profile:
    """The empty profile a live session grows: its sample and lag columns reserved for a day without
    copies, in files of their own (columns.ColumnTable.reserve(spill=True)) so that all but the rows
    that just arrived leave the window's memory (a day's 30M samples are ~0.9x the recording)."""
    profile = Profile()
    profile.samples.reserve(LIVE_SAMPLE_ROWS, spill=True)  # grows without copies for a day at 100 Hz on ~8 threads
    profile.lag.reserve(LIVE_LAG_ROWS, spill=True)
    return profile


def demo_script() -> Path:
    """The demo target shipped in resources/demo."""
    import pyrometer.resources as res

    return Path(res.__file__).resolve().parent / "demo" / "demo_service.py"


def demo_target(duration: float | None = None) -> list[str]:
    words = [str(demo_script())]
    if duration is not None:
        words += ["--duration", f"{duration:g}"]
    return words


def _emit_to_live(signal: Any, value: Any) -> None:
    """Emit from a worker thread to a session that may be gone: its window closed while gdb was
    attaching or the program was ending (the signal's source deleted); nobody is left to tell."""
    with contextlib.suppress(RuntimeError):
        signal.emit(value)


class LiveSession(QObject):
    """One launched or attached target feeding a growing Document."""

    stateChanged = Signal(object)  # LiveState
    failed = Signal(str)
    ended = Signal(object)  # END dict or None
    noticed = Signal(object)  # an agent NOTICE dict as it arrives (e.g. kind "child_processes")
    _wake = Signal()  # emitted from worker threads; connected queued to the GUI thread
    _exited = Signal(object)  # the launched program's returncode; None: the stream ended (attached)
    _attach_failed = Signal(str)
    _attached = Signal(object)  # from the attach thread: the agent streams (its route)
    # the recording is finished (its index appended) on a worker once the stream ends: its fraction
    # done, on the GUI thread; 1.0 when the file is final
    recordingProgress = Signal(float)
    _closing_progress = Signal(float)  # emitted from the closing thread; connected queued
    _history_added = Signal(str)  # from the history thread: the program the run was added under

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
        self.exit_status: int | None = None  # the launched program's returncode (negative: a signal)
        self.state = LiveState(Phase.STARTING)
        self._stop_requested = False
        self._tmpdir = Path(tempfile.mkdtemp(prefix="pyrometer-live-"))
        self.recording_path = Path(save_path) if save_path is not None else self._tmpdir / "session.pyro"
        self.keep_path = Path(save_path) if save_path is not None else None
        profile = live_profile()
        profile.meta["command"] = command
        self.doc = Document(profile, None, is_live=True)
        self._rate_marks: list[tuple[float, int]] = []
        self.feed = ProfileFeed(wake=self._wake.emit)
        self.collector = self.feed.collector(self.recording_path, profile=profile)
        self._wake.connect(self._schedule_drain, Qt.ConnectionType.QueuedConnection)
        self._drain_timer = QTimer(self)
        self._drain_timer.setSingleShot(True)
        self._drain_timer.timeout.connect(self._drain)
        self._last_drain = 0.0
        self._last_drain_samples = IDLE_DRAIN_SAMPLES  # start at full pace
        self._notices_seen = 0  # the profile's notices already passed on by `noticed`
        self._exited.connect(self._on_exit, Qt.ConnectionType.QueuedConnection)
        self._attach_failed.connect(self._on_attach_failed, Qt.ConnectionType.QueuedConnection)
        self._attached.connect(self._on_attached, Qt.ConnectionType.QueuedConnection)
        self._duration: float | None = None  # --duration: seconds of profiling, from the first frame when attaching
        self._closing_progress.connect(self.recordingProgress.emit, Qt.ConnectionType.QueuedConnection)
        self.collector.on_close_progress = lambda fraction: _emit_to_live(self._closing_progress, fraction)
        self._history_added.connect(self._on_history_added, Qt.ConnectionType.QueuedConnection)
        self.history_thread: threading.Thread | None = None  # adding the ended session to the run history
        self._duration_timer: QTimer | None = None
        self._target: Target | None = None
        self._kill_timer: QTimer | None = None
        self.cwd: str | None = None  # launch only: where the program runs (None: here)
        self.extra_env: dict[str, str] = {}  # launch only: added to the program's environment
        self.history = True  # add the session to its program's run history when it ends
        self.history_name: str | None = None  # the program's name there (default: script path, -m MODULE, PID's script)

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
        from pyrometer.core.capture.attach import program_name

        name = program_name(pid)
        self.doc.name = f"{name} (PID {pid})" if name else f"PID {pid}"
        self.attached = True
        self.pid = int(pid)
        return self

    # ------------------------------------------------------------ lifecycle
    @property
    def running(self) -> bool:
        return self.state.running

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
            self._set_state(LiveState(Phase.FAILED))
            self.failed.emit(str(exc))
            self.collector.close()
            return
        self.doc.profile.meta.setdefault("pid", self.pid)
        self._duration = float(duration) if duration else None
        if self.attached:  # "running" once the agent streams (_on_attached); --duration counts from there
            self._set_state(LiveState(Phase.ATTACHING))
            return
        self._set_state(LiveState(Phase.RUNNING))
        self._start_duration_timer()

    def _on_attached(self, _route: object) -> None:
        if self.state.phase is not Phase.ATTACHING:
            return  # detached (or closed) while gdb was still attaching
        self._set_state(LiveState(Phase.RUNNING))
        self._start_duration_timer()

    def _start_duration_timer(self) -> None:
        duration = self._duration
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
                route = attach(pid, self.collector, options)
            except Exception as exc:
                _emit_to_live(self._attach_failed, str(exc))
                return
            _emit_to_live(self._attached, route)
            self.collector.wait_finished(None)
            _emit_to_live(self._exited, None)

        threading.Thread(target=run, name="pyrometer-attach", daemon=True).start()

    def _on_attach_failed(self, message: str) -> None:
        self.collector.close()
        self._set_state(LiveState(Phase.FAILED))
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
        _emit_to_live(self._exited, int(status))

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
        self._stop_requested = True
        self._set_state(LiveState(Phase.STOPPING))
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
        self._set_state(LiveState(Phase.DETACHING))
        if not self.collector.request_stop():
            self.collector.close(background=True)

    @property
    def finishing(self) -> bool:
        """The stream ended and the recording's index is still being appended (on a worker)."""
        closing = self.collector.closing
        return closing is not None and closing.is_alive()

    def shutdown(self, quitting: bool = False) -> None:
        """Tab or window closing: stop a launched target, detach from an attached one, release files.

        A kept recording finishes its index in the background after its tab closed; when the app
        quits it gets QUIT_FINISH_S for that, then the index is abandoned (a temporary recording
        gets none): the file is whole without it, and its first open builds it.
        """
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
        if self.keep_path is None:
            self.collector.index_on_close = False  # the temporary file goes with its tab: no index for it
            self.collector.abandon_index()
        self.collector.close(background=True)
        if quitting and not self.collector.wait_closed(QUIT_FINISH_S):
            self.collector.close()  # abandons the index: the file is whole, its first open indexes it
        self._drain(None)
        if self.keep_path is None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)

    def save(self, path: Path) -> None:
        """Keep the recording: copy the file written so far (it is always readable)."""
        if Path(path).resolve() == self.recording_path.resolve():
            return
        self.collector.wait_closed()  # a copy taken while the index is appended would end in half of it
        shutil.copyfile(self.recording_path, path)

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
        self._last_drain = time.monotonic()
        done = self.feed.ended.is_set()
        before = self.doc.profile.sample_count
        if self.feed.apply(self.doc.profile, budget_s):
            self.doc.profile.note_sample_threads()  # the new rows' threads now: the end's finish() need not scan them all
            self.doc.model_grew()
        notices = self.doc.profile.notices
        while self._notices_seen < len(notices):
            self._notices_seen += 1
            self.noticed.emit(notices[self._notices_seen - 1])
        self._last_drain_samples = self.doc.profile.sample_count - before
        if self.feed.backlog:  # the budget ran out: the rest on the next turn (no wake comes for it)
            self._drain_timer.start(0)
            return
        if done and self.state.phase is Phase.DETACHING:
            self._finish_state()

    def _on_exit(self, returncode: int | None) -> None:
        self._drain(None)
        if returncode is not None:
            self.exit_status = returncode
        self._finish_state()

    def _final_state(self, end: dict[str, Any]) -> LiveState:
        """How the session ended: detached, or the program's exit status / signal (Stop or not)."""
        if self.attached or self.state.phase is Phase.DETACHING:
            keeps = self.attached or (self.proc is not None and self.proc.poll() is None)
            return LiveState(Phase.DETACHED, keeps_running=keeps)
        phase = Phase.STOPPED if self._stop_requested else Phase.ENDED
        returncode = self.exit_status  # the process's own status: it also knows about signals
        if returncode is None and isinstance(end.get("exit_status"), int):
            returncode = int(end["exit_status"])
        return LiveState.from_returncode(phase, returncode)

    def _finish_state(self) -> None:
        if not self.running:
            return
        end = self.doc.profile.end or self.feed.end_info or {}
        state = self._final_state(end)
        # the stream is over: release the socket and threads; the file stays, and its index (seconds
        # for a day's session) is appended on a worker while the window stays responsive
        self.collector.close(background=True)
        # what the receiver handed over while it closed is in the file: the model gets it too,
        # now, not after a wake that a paced growth refresh would show seconds later
        self.feed.apply(self.doc.profile, None)
        self.doc.profile.finish()
        self._add_to_history(state)
        self.doc.model_grew()
        self._set_state(state)  # the view does its last refresh on this state
        self.ended.emit(end)
        if self._duration_timer is not None:
            self._duration_timer.stop()

    def program_key(self) -> str:
        """This session's program in the run history."""
        from pyrometer.core.history.runs import program_key_for_target, program_key_from_meta

        if self.history_name:
            return self.history_name
        if self._target is not None:
            target = self._target.target
            if self._target.kind == "script" and self.cwd is not None and not os.path.isabs(target):
                target = os.path.join(self.cwd, target)
            return program_key_for_target(self._target.kind, target)
        return program_key_from_meta(self.doc.profile.meta, f"pid {self.pid}")

    def _add_to_history(self, state: LiveState) -> None:
        """The ended session joins its program's history (a failure is one warning line, never an error).

        On a worker: the per-function aggregate of a day's session took seconds of the GUI thread
        (0.8-3.8 s at 10M samples). It reads a view of the profile with a cache of its own (the panes
        keep theirs); the profile no longer grows once the session ended.
        """
        if not self.history or not self.doc.profile.sample_count:
            return
        from pyrometer.core.history.runs import add_profile

        key = self.program_key()
        status = None if self.attached or self.exit_status is None else state.shell_status()
        profile, keep = self.doc.profile.derive(), self.keep_path

        def run() -> None:
            if add_profile(profile, key, keep, status) is not None:
                _emit_to_live(self._history_added, key)

        self.history_thread = threading.Thread(target=run, name="pyrometer-history", daemon=True)
        self.history_thread.start()

    def _on_history_added(self, key: str) -> None:
        self.doc.program = key
        self.doc.touch()  # the History pane shows the run now

    def _set_state(self, state: LiveState) -> None:
        self.state = state
        self.doc.set_state(state.text())
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
        parts = [self.state.text()]
        if self.pid:
            parts.append(f"PID {self.pid}")
        if self.running:
            parts.append(f"{rate:,.0f} samples/s")
        parts.append(f"{p.sample_count:,} samples")
        parts.append(f"{int(dropped):,} dropped")
        return " · ".join(parts)
