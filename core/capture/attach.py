"""Attach to a running Python process: inject the agent's bootstrap, which connects back.

On Python >= 3.14, when we run the same minor version as the target,
``sys.remote_exec`` runs the injection script at the target's next
eval-breaker check. Otherwise gdb injects it: first as a pending call
(``Py_AddPendingCall(PyRun_SimpleString, ...)``, run by the main thread at its
next eval-breaker check, i.e. at a safe point between bytecodes); if that has
not run within a short time the main thread is idle in C code (``sleep``,
``select``, a lock) and gdb takes the GIL directly around
``PyRun_SimpleString`` -- but only if the main thread does not hold the GIL,
which would mean it is in the middle of C code we must not re-enter.

The injected code is tiny: it execs a script in the collector's private
directory that loads ``bootstrap.py`` and starts the agent on a thread. Every
failure is an `AttachError` with a one-line message that says what to do.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from pyrometer.core.capture.collector import Collector
from pyrometer.core.capture.launch import MIN_VERSION, bootstrap_path

PENDING_WAIT_S = 1.0  # how long the pending call gets before we take the GIL directly
CONNECT_TIMEOUT_S = 10.0
GDB_TIMEOUT_S = 60.0
_VERSION_IN_NAME = re.compile(r"python(\d)\.(\d+)")
_MARK = "PYROMETER-INJECT"

PTRACE_HINT = (
    "run pyrometer as the target's user or with sudo, or allow ptrace with "
    "`echo 0 | sudo tee /proc/sys/kernel/yama/ptrace_scope`"
)


class AttachError(Exception):
    """Attaching failed; str() is one line for the user."""


@dataclass
class ProcessInfo:
    """What /proc says about the target."""

    pid: int
    uid: int
    gid: int
    exe: str
    version: tuple[int, int] | None  # the target's Python minor version, when visible


def ptrace_hint() -> str:
    """What to try when ptrace was refused; "with sudo" means nothing to someone already root
    (e.g. PID 1 of a container, where the missing piece is CAP_SYS_PTRACE)."""
    if os.geteuid() != 0:
        return PTRACE_HINT
    return (
        "running as root did not help: in a container, grant CAP_SYS_PTRACE (docker run "
        "--cap-add=SYS_PTRACE) and check /proc/sys/kernel/yama/ptrace_scope (3 forbids all ptrace)"
    )


def _state(pid: int) -> tuple[str, int]:
    """(scheduler state letter, tracer pid) from /proc; ("?", 0) when unreadable."""
    state, tracer = "?", 0
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("State:"):
                    state = line.split()[1]
                elif line.startswith("TracerPid:"):
                    tracer = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return state, tracer


def program_name(pid: int) -> str | None:
    """What a person calls the process: its script's or module's name from /proc/PID/cmdline
    ("server.py", "-m http.server", "python -c"), or the executable's; None if unreadable."""
    try:
        raw = Path(f"/proc/{int(pid)}/cmdline").read_bytes()
    except OSError:
        return None
    argv = [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]
    if not argv:
        return None
    exe = Path(argv[0]).name
    if not exe.startswith("python"):
        return exe
    args = iter(argv[1:])
    for arg in args:
        if arg == "-m":
            return "-m " + next(args, "?")
        if arg == "-c":
            return f"{exe} -c"
        if arg in ("-W", "-X", "--check-hash-based-pycs"):
            next(args, None)  # an option that takes a value
            continue
        if not arg.startswith("-"):
            return Path(arg).name
    return exe


def _alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[-1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return os.path.exists(f"/proc/{pid}")


def _ids(pid: int) -> tuple[int, int]:
    uid = gid = -1
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("Uid:"):
                uid = int(line.split()[2])  # effective
            elif line.startswith("Gid:"):
                gid = int(line.split()[2])
    return uid, gid


def _exe_has_python_symbols(exe: str) -> bool | None:
    """Does the executable carry the C API we call? None when it cannot be read (gdb decides)."""
    try:
        with open(exe, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return mm.find(b"Py_AddPendingCall") >= 0
    except (OSError, ValueError):
        return None


def inspect_process(pid: int) -> ProcessInfo:
    """Check that pid is a live Python process we may trace; raise AttachError otherwise."""
    if pid <= 0 or not _alive(pid):
        raise AttachError(f"no such process: {pid}")
    try:
        uid, gid = _ids(pid)
        maps = Path(f"/proc/{pid}/maps").read_text(errors="replace")
        exe = os.path.realpath(f"/proc/{pid}/exe")
    except PermissionError as exc:
        raise AttachError(f"not permitted to inspect process {pid}: {ptrace_hint()}") from exc
    except FileNotFoundError as exc:
        raise AttachError(f"no such process: {pid}") from exc
    if not maps.strip() and not _alive(pid):
        raise AttachError(f"no such process: {pid}")
    state, tracer = _state(pid)
    if tracer:
        raise AttachError(f"process {pid} is already being traced (by process {tracer}); detach that debugger first")
    if state in ("T", "t"):  # gdb would wait on it and print its raw complaints
        raise AttachError(f"process {pid} is stopped (SIGSTOP or Ctrl-Z); resume it with `kill -CONT {pid}` and retry")
    libpython = re.search(r"libpython(\d)\.(\d+)", maps)
    version: tuple[int, int] | None = None
    if libpython:
        version = (int(libpython.group(1)), int(libpython.group(2)))
    else:
        named = _VERSION_IN_NAME.search(os.path.basename(exe))
        if named:
            version = (int(named.group(1)), int(named.group(2)))
        if _exe_has_python_symbols(exe) is False:
            raise AttachError(f"process {pid} ({os.path.basename(exe)}) is not a Python process")
    if version is not None and version < MIN_VERSION:
        raise AttachError(
            f"process {pid} runs Python {version[0]}.{version[1]}; the agent needs Python "
            f"{MIN_VERSION[0]}.{MIN_VERSION[1]} or newer"
        )
    return ProcessInfo(pid, uid, gid, exe, version)


def injection_script(
    config: dict[str, Any],
    bootstrap: str | os.PathLike[str] | None = None,
    marker: str | os.PathLike[str] | None = None,
) -> str:
    """The script the target runs: note that it ran, load bootstrap.py privately, call attach()."""
    boot = str(bootstrap if bootstrap is not None else bootstrap_path())
    touch = ""
    if marker is not None:
        touch = f"    try:\n        open({str(marker)!r}, 'w').close()\n    except OSError:\n        pass\n"
    body = (
        "def _pyrometer_attach(config):\n"
        f"{touch}"
        "    import importlib.util, sys\n"
        "    name = '_pyrometer_agent_bootstrap'\n"
        "    mod = sys.modules.get(name)\n"
        "    if mod is None:\n"
        f"        spec = importlib.util.spec_from_file_location(name, {boot!r})\n"
        "        mod = importlib.util.module_from_spec(spec)\n"
        "        spec.loader.exec_module(mod)\n"
        "        sys.modules[name] = mod\n"
        "    mod.attach(config)\n"
        "try:\n"
        f"    _pyrometer_attach({config!r})\n"
        "except Exception:\n"
        "    pass\n"
    )
    # sys.remote_exec runs a script in the target's __main__ namespace (CPython gh-132859):
    # run the body in a namespace of its own so no name of ours lands there.
    return f"exec({body!r}, {{'__name__': '_pyrometer_inject'}})\n"


def _gdb_command(pid: int, script: Path) -> list[str]:
    gdb = shutil.which("gdb")
    if gdb is None:
        raise AttachError(
            "gdb not found: install gdb (e.g. `apt install gdb`) to attach to Python "
            f"{sys.version_info[0]}.{sys.version_info[1]} targets (Python 3.14+ attaches without it)"
        )
    return [
        gdb, "-nx", "-batch", "-q",
        "-iex", "set auto-load off",
        "-iex", "set debuginfod enabled off",
        "-iex", "set confirm off",
        "-iex", "set unwindonsignal on",  # a signal during our call unwinds it, never strands it
        "-p", str(pid),
        "-x", str(script),
    ]  # fmt: skip


@contextlib.contextmanager
def _ctrl_c_deferred() -> Iterator[list[int]]:
    """Hold SIGINT for the duration (main thread only); the yielded list is non-empty if it came."""
    received: list[int] = []

    def note(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    try:
        previous = signal.signal(signal.SIGINT, note)
    except ValueError:  # not the main thread: signals are not delivered here anyway
        yield received
        return
    try:
        yield received
    finally:
        signal.signal(signal.SIGINT, previous)


def _run_gdb(pid: int, commands: str, workdir: Path) -> str:
    """Run one gdb batch against pid; map its failures to AttachError; return its output."""
    script = workdir / "inject.gdb"
    script.write_text(commands)
    # gdb must never be interrupted in the middle of a call inside the target (that would
    # leave it with a half-restored stack): it runs in its own session, away from the
    # terminal's Ctrl-C, and our own Ctrl-C waits until gdb has detached.
    with _ctrl_c_deferred() as interrupted:
        try:
            proc = subprocess.run(
                _gdb_command(pid, script),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=GDB_TIMEOUT_S,
                errors="replace",
                start_new_session=True,
            )
        except subprocess.TimeoutExpired as exc:
            raise AttachError(
                f"gdb did not finish within {GDB_TIMEOUT_S:.0f} s while attaching to {pid}"
            ) from exc
    if interrupted:
        raise KeyboardInterrupt
    output = proc.stdout + proc.stderr
    # first: ptrace on a process that just died (a zombie) also fails with EPERM
    if (
        not _alive(pid)
        or "exited while in a function called from GDB" in output
        or "The program being debugged exited" in output
    ):
        raise AttachError(f"process {pid} exited during attach")
    if "Operation not permitted" in output and _MARK not in output:
        raise AttachError(f"ptrace not permitted on process {pid}: {ptrace_hint()}")
    if "No such process" in output and _MARK not in output:
        raise AttachError(f"no such process: {pid}")
    if "No symbol" in output and _MARK not in output:
        raise AttachError(f"process {pid} is not a Python process (no Python symbols found)")
    if _MARK not in output:
        last = [ln for ln in output.strip().splitlines() if ln.strip()]
        raise AttachError(
            f"gdb could not inject into process {pid}: {last[-1] if last else 'no output'}"
        )
    return output


def _c_string(code: str) -> str:
    """A C string literal for gdb's expression parser."""
    escaped = code.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def gdb_pending_call(pid: int, snippet: str, workdir: Path) -> None:
    """Queue the snippet as a pending call; the main thread runs it at its next eval-breaker check."""
    commands = (
        f"set $r = (int)Py_AddPendingCall((int (*)(void *))PyRun_SimpleString, (void *){_c_string(snippet)})\n"
        f'printf "{_MARK} pending %d\\n", $r\n'
    )
    output = _run_gdb(pid, commands, workdir)
    if f"{_MARK} pending 0" not in output:
        raise AttachError(f"the target's pending-call queue is full (process {pid}); try again")


def gdb_direct(pid: int, snippet: str, workdir: Path) -> bool:
    """Take the GIL from the (idle) main thread and run the snippet there, now.

    False, having run nothing, when the main thread holds the GIL: it is running
    Python (a queued pending call runs at its next safe point, and may be running
    this very moment) or C code that will return to Python."""
    commands = (
        "set $held = (int)PyGILState_Check()\n"
        "if $held == 0\n"
        "  set $g = (int)PyGILState_Ensure()\n"
        f"  set $r = (int)PyRun_SimpleString({_c_string(snippet)})\n"
        "  call (void)PyGILState_Release($g)\n"
        f'  printf "{_MARK} direct %d\\n", $r\n'
        "else\n"
        f'  printf "{_MARK} busy\\n"\n'
        "end\n"
    )
    return f"{_MARK} busy" not in _run_gdb(pid, commands, workdir)


def attach(
    pid: int,
    collector: Collector,
    options: dict[str, Any],
    connect_timeout: float = CONNECT_TIMEOUT_S,
    pending_wait: float = PENDING_WAIT_S,
    log: Callable[[str], None] | None = None,
    bootstrap: str | os.PathLike[str] | None = None,
) -> str:
    """Inject the agent into pid and wait until it connected to the (started) collector.

    Returns the route that worked: "remote_exec", "pending-call" or "direct".
    """
    info = inspect_process(pid)
    if collector.directory is None:
        raise AttachError("internal error: the collector is not listening")
    config = collector.agent_config({**options, "attached": True})
    script = collector.directory / "attach.py"
    marker = collector.directory / "injected"  # the target creates it when our code first runs
    script.write_text(injection_script(config, bootstrap, marker))
    os.chmod(script, 0o600)
    if os.geteuid() == 0 and info.uid not in (-1, 0):
        collector.give_to(info.uid, info.gid)  # the script too: by descriptor, never through a link
    say = log or (lambda _msg: None)
    if (
        sys.version_info >= (3, 14)
        and info.version == sys.version_info[:2]
        and hasattr(sys, "remote_exec")
    ):
        queued = "remote_exec"
        _remote_exec(pid, script)
        if _wait_started(collector, marker, pending_wait) or shutil.which("gdb") is None:
            _wait_connected(pid, collector, connect_timeout)
            return queued
        # Like a pending call, remote_exec waits for the main thread to run bytecode;
        # when that thread is parked in C code, gdb can still take the GIL directly.
    else:
        queued = "pending-call"
        say(f"injecting into {pid} with gdb (pending call)")
        with tempfile.TemporaryDirectory(prefix="pyrometer-gdb-") as tmp:
            gdb_pending_call(pid, _snippet(script, marker), Path(tmp))
        if _wait_started(collector, marker, pending_wait):
            _wait_connected(pid, collector, connect_timeout)
            return queued
    if not _alive(pid):
        raise AttachError(f"process {pid} exited during attach")
    say(f"main thread of {pid} is idle in C code; taking the GIL directly")
    with tempfile.TemporaryDirectory(prefix="pyrometer-gdb-") as tmp:
        ran = gdb_direct(pid, _snippet(script, marker), Path(tmp))
    if not ran:
        # The main thread held the GIL: not idle after all, only slow to reach a safe point
        # (a starved machine took over a second), or running our injection right then.
        # What was queued runs at that safe point.
        if not _wait_started(collector, marker, connect_timeout):
            raise AttachError(
                f"process {pid} is busy in C code holding the GIL and never reached a safe point; try again"
            )
        _wait_connected(pid, collector, connect_timeout)
        return queued
    _wait_connected(pid, collector, connect_timeout)
    return "direct"


def _snippet(script: Path, marker: Path) -> str:
    """The code gdb runs: it binds no name in the target's __main__, leaves no file open,
    stays silent when a late pending call finds the script already removed, and does
    nothing when the injection already ran (a pending call that ran late, after the
    direct route, would otherwise run our bootstrap in the user's sampled main thread)."""
    return (
        f"if not __import__('os').path.exists({str(marker)!r}):\n"
        " try:\n"
        f"  exec(__import__('pathlib').Path({str(script)!r}).read_text(), "
        "{'__name__': '_pyrometer_inject'})\n"
        " except Exception:\n  pass\n"
    )


def _wait_started(collector: Collector, marker: Path, timeout: float) -> bool:
    """Did the injected code start running within timeout (it may still be connecting)?"""
    deadline = time.monotonic() + timeout
    while not (collector.connected or marker.exists()):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        collector.wait_connected(min(0.02, left))
    return True


def _remote_exec(pid: int, script: Path) -> None:
    """Python 3.14+: ask the target's interpreter to run the script at its next safe point."""
    try:
        sys.remote_exec(pid, str(script))  # type: ignore[attr-defined,unused-ignore]
    except PermissionError as exc:
        raise AttachError(f"ptrace not permitted on process {pid}: {ptrace_hint()}") from exc
    except ProcessLookupError as exc:
        raise AttachError(f"no such process: {pid}") from exc
    except (OSError, RuntimeError) as exc:
        raise AttachError(f"sys.remote_exec failed on process {pid}: {exc}") from exc


def _wait_connected(pid: int, collector: Collector, timeout: float) -> None:
    """Wait for the agent's connection and its first frame; a refusal is an error."""
    deadline = time.monotonic() + timeout
    _wait_connection(pid, collector, deadline, timeout)
    collector.wait_streaming(max(0.0, deadline - time.monotonic()))
    end = collector.end or {}
    if end.get("reason") == "refused":
        raise AttachError(f"process {pid} is already being profiled by another Pyrometer session")


def _wait_connection(pid: int, collector: Collector, deadline: float, timeout: float) -> None:
    while not collector.wait_connected(min(0.5, max(0.0, deadline - time.monotonic()))):
        if not _alive(pid):
            raise AttachError(f"process {pid} exited during attach")
        if time.monotonic() >= deadline:
            raise AttachError(
                f"the agent in process {pid} did not connect within {timeout:g} s "
                "(is its main thread blocked, or is it not CPython 3.9+?)"
            )
