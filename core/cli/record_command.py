"""`pyrometer record`: profile a launched program or an attached process into a .pyro file, headless.

Launch (``-- TARGET...``): the target inherits our terminal and process
group, so Ctrl-C reaches it exactly as without Pyrometer; we ignore SIGINT
while waiting, pass SIGTERM and SIGHUP sent to us on to the target, and exit
with the target's status (128 + N when a signal N ended it, as shells report
it). ``--duration S`` stops *recording* S seconds after the agent started (it
sends END and unhooks itself); the target keeps running and we still wait for
it and return its status.

Attach (``--pid PID``): Ctrl-C or the end of ``--duration`` detaches (the
agent removes its hooks, the target keeps running); exit status 0, or 2 with
a one-line error when the process cannot be attached (as `attach` exits).

A recording that stopped early (a full disk, a damaged stream) is never
passed off as a normal one: we say why on stderr as soon as it happens and
exit non-zero (the target's own failure status if it had one, else 1). The
output is checked before anything starts (not a directory, a FIFO or the
program itself) and an existing file is only replaced once data arrives.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from types import FrameType

from pyrometer.core.agent import wire
from pyrometer.core.capture.collector import Collector, CollectorError
from pyrometer.core.capture.launch import LaunchError, launch, options_from_args, parse_target
from pyrometer.core.cli.output_guard import recording_output_problem

END_WAIT_S = 5.0  # how long we wait for the agent's last frames after it was told to stop


def _say(message: str) -> None:
    from pyrometer.core.cli.terminal_text import printable  # the agent's notices quote the target

    sys.stderr.write(f"pyrometer: {printable(message)}\n")
    sys.stderr.flush()


def _check_output(output: str, inputs: list[str]) -> str | None:
    """Why OUTPUT cannot be the recording, checked before the target starts (None: fine)."""
    if os.path.isdir(output):
        return f"{output}: is a directory; give a file name such as run.pyro"
    if os.path.lexists(output) and not os.path.isfile(output):
        return f"{output}: not a regular file (a FIFO or device would block or never hold a recording)"
    parent = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(parent):
        return f"{output}: no such directory {parent}"
    if os.path.exists(output):
        for name in inputs:
            with contextlib.suppress(OSError):
                if os.path.isfile(name) and os.path.samefile(name, output):
                    return f"{output}: refusing to overwrite {name}, an input of the program being recorded"
    return recording_output_problem(output)


def _size_text(n: int) -> str:
    """A file size as people read it: 812 bytes, 4.4 KiB, 463 KiB, 12.5 MiB."""
    if n < 1024:
        return f"{n} bytes"
    value, unit = n / 1024.0, "KiB"
    for bigger in ("MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024.0, bigger
    return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"


def _summary(collector: Collector, output: str) -> str:
    st = collector.stats
    try:  # the file as it is on disk: with its index (the stream's bytes alone understated it 200x)
        size = os.path.getsize(output)
    except OSError:
        size = wire.FILE_HEADER_SIZE + st.bytes
    what = f"{st.samples} samples"
    if st.by_kind.get("func_stats"):
        what += " and function statistics"
    for note in collector.notices:  # e.g. "trace mode unavailable ...; sampling instead"
        if note.get("level") in ("warning", "error"):
            _say(f"{note.get('level')}: {note.get('message')}")
    return f"recorded {what} ({st.frames} messages, {_size_text(size)}) to {output}"


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _status_of(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Keep Ctrl-C for the target: a no-op handler (not SIG_IGN, which children would inherit)."""

    def ignore(_signum: int, _frame: FrameType | None) -> None:
        return None

    try:
        previous = signal.signal(signal.SIGINT, ignore)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


# Signals whose default action would kill us and orphan the target: passed on instead.
_FORWARDED = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2") if hasattr(signal, name)
)


@contextlib.contextmanager
def _forwarded(proc: subprocess.Popen[bytes]) -> Iterator[None]:
    """SIGTERM/SIGHUP/SIGQUIT/SIGUSR1/2 sent to us (e.g. by `timeout` or a closing terminal) go to the target,
    and we keep recording until it exits, as a transparent wrapper should."""

    def forward(signum: int, _frame: FrameType | None) -> None:
        with contextlib.suppress(OSError):
            proc.send_signal(signum)

    previous = {}
    try:
        for sig in _FORWARDED:
            previous[sig] = signal.signal(sig, forward)
    except ValueError:  # not the main thread
        pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop_recording(collector: Collector) -> None:
    """Ask the agent to end its stream and wait (bounded) for its last frames."""
    if collector.request_stop():
        collector.wait_finished(END_WAIT_S)


def _on_failure(reason: str) -> None:
    _say(f"recording stopped: {reason}; the program keeps running")


def _ending(collector: Collector, output: str, status: int, prefix: str = "") -> int:
    """Say what the file holds and why it stopped; a recording that stopped early fails."""
    reason = collector.stop_reason
    if not collector.stats.frames:
        if reason is not None and collector.connected:
            _say(f"the agent's stream was unreadable ({reason}); nothing recorded, {output} not written")
        elif reason is not None:
            _say(f"recording failed ({reason}); nothing recorded, {output} not written")
        else:
            _say(f"the agent never connected; nothing recorded, {output} not written")
    else:
        _say(prefix + _summary(collector, output))
        if reason is not None:
            _say(f"recording stopped early: {reason}")
    if reason is not None and status == 0:
        return 1
    return status


def _start_collector(output: str, inputs: list[str]) -> Collector | int:
    """Check OUTPUT and start listening before any target runs; on failure, one line and the exit
    status (2: unusable output, 1: no listening socket) instead of a collector."""
    problem = _check_output(output, inputs)
    if problem is not None:
        _say(problem)
        return 2
    try:
        collector = Collector(output)
        collector.on_failure = _on_failure
        collector.start()
    except (CollectorError, OSError) as exc:
        _say(str(exc))
        return 1
    return collector


def _close(collector: Collector, output: str, existed: bool) -> None:
    """Close the recording; one that this run created and that got no frame (a dead PID, an
    interpreter the agent cannot run in) is removed: a 16-byte header is not a recording.
    An existing file is the collector's to keep intact (it writes beside it until data comes)."""
    collector.close()
    if existed or collector.stats.frames:
        return
    with contextlib.suppress(OSError):
        if os.path.getsize(output) <= wire.FILE_HEADER_SIZE:
            os.unlink(output)


def _record_launch(args: argparse.Namespace) -> int:
    try:
        target = parse_target(list(args.target), args.python)
    except LaunchError as exc:
        _say(str(exc))
        return 2
    existed = os.path.lexists(args.output)
    collector = _start_collector(args.output, [target.python, target.target, *target.args])
    if isinstance(collector, int):
        return collector
    try:
        with _sigint_ignored():
            try:
                proc = launch(target, collector, options_from_args(args))
            except LaunchError as exc:
                _say(str(exc))
                return 1
            with _forwarded(proc):
                returncode = _wait_target(proc, collector, args.duration)
        # A short-lived target may still sit in the listen backlog: let it be accepted.
        if collector.wait_connected(1.0):
            collector.wait_finished(END_WAIT_S)
    finally:
        _close(collector, args.output, existed)
    status = _ending(collector, args.output, _status_of(returncode))
    if returncode < 0:  # no END from an agent that died with its process: say why it stopped
        _say(f"the program was killed by {_signal_name(-returncode)}")
    elif returncode > 0:  # our status is the program's: say whose it is (a traceback may be far above)
        _say(f"the program exited with status {returncode}")
    if collector.stats.frames and getattr(args, "history", True):
        from pyrometer.core.history.runs import add_recording, program_key_for_target

        key = program_key_for_target(target.kind, target.target, getattr(args, "name", None))
        add_recording(args.output, key, _status_of(returncode))
    return status


def _wait_target(
    proc: subprocess.Popen[bytes], collector: Collector, duration: float | None
) -> int:
    if duration is not None:
        # --duration counts from the agent's start, not from the interpreter's launch.
        while not collector.wait_connected(0.05):
            if proc.poll() is not None:
                return proc.wait()
        try:
            return proc.wait(timeout=max(0.0, duration))
        except subprocess.TimeoutExpired:
            _stop_recording(collector)
            _say(f"stopped recording after {duration:g} s; waiting for the target to exit")
    return proc.wait()


def _record_attach(args: argparse.Namespace) -> int:
    if args.target:
        _say("give either --pid or a program after --, not both")
        return 2
    if args.python is not None:
        _say("--python applies to launched programs, not to --pid")
        return 2
    from pyrometer.core.capture.attach import (  # gdb plumbing: not on the launch path
        AttachError,
        attach,
    )

    existed = os.path.lexists(args.output)
    collector = _start_collector(args.output, [])
    if isinstance(collector, int):
        return collector
    detached = False
    try:
        try:
            route = attach(args.pid, collector, options_from_args(args))
        except AttachError as exc:  # a dead PID, not Python, not permitted: refused, as `attach` refuses it
            _say(str(exc))
            return 2
        except KeyboardInterrupt:
            _say("interrupted while attaching")
            return 130
        try:  # the line is inside: a Ctrl-C the moment it is read (still in print's flush) detaches too
            _say(f"attached to {args.pid} ({route}); Ctrl-C to detach")
            # --duration counts from the agent's start, as for a launch: attach() returns only
            # after the first frame and gdb's exit (0.5-1 s on a loaded machine)
            started = collector.connected_at or time.monotonic()
            deadline = None if args.duration is None else started + args.duration
            while not collector.finished:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                collector.wait_finished(left)
        except KeyboardInterrupt:
            pass
        with _sigint_ignored():
            if not collector.finished:
                detached = True
                _stop_recording(collector)
    finally:
        _close(collector, args.output, existed)
    prefix = f"detached from {args.pid}; " if detached else f"process {args.pid} ended; "
    status = _ending(collector, args.output, 0, prefix)
    if collector.stats.frames and getattr(args, "history", True):
        _add_attached_run(args)
    return status


def _add_attached_run(args: argparse.Namespace) -> None:
    """An attached process's run: named by --name, else by the script the agent saw in its argv."""
    from pyrometer.core.history.runs import add_recording

    add_recording(args.output, getattr(args, "name", None), fallback=f"pid {args.pid}")


def run_record(args: argparse.Namespace) -> int:
    """Handler of `pyrometer record` (see pyrometer.cli)."""
    if args.pid is not None:
        return _record_attach(args)
    return _record_launch(args)
