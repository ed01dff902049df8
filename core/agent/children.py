"""Tell the user, once, that the Python child processes the target starts are not profiled.

A program that hands its work to multiprocessing workers looked idle in the
profile, and nothing said why. The agent cannot follow children robustly
(a forked child inherits a half-copied agent; a spawned one would need the
bootstrap injected into its command line), so it says so instead: the first
time the target starts a Python child process, one NOTICE (kind
"child_processes") goes to the collector, which prints it and shows it in
the window's session bar.

How it notices, without wrapping any of the program's functions: in a launched
program an audit hook (sys.addaudithook, 3.8+) sees "os.fork" (multiprocessing's fork start
method, a bare fork), "subprocess.Popen" / "os.posix_spawn" / "os.spawn" /
"os.system" of a Python interpreter, and the import of multiprocessing's
spawn and forkserver launchers (those start children through
_posixsubprocess, which raises no audit event; the launcher module is
imported when the first such child starts). Attached to a running program,
which outlives the visit, it uses cheaper means (see `watch`) and looks once
for Python children that already exist (/proc, Linux).

Neither hook can be removed: each stays for the life of the process and does
nothing once its session has stopped. Neither ever raises into the program.
"""

import os
import sys

_LAUNCHERS = {
    "multiprocessing.popen_spawn_posix": "multiprocessing, spawn",
    "multiprocessing.popen_forkserver": "multiprocessing, forkserver",
    "multiprocessing.popen_spawn_win32": "multiprocessing, spawn",
}
_COMMANDS = ("subprocess.Popen", "os.posix_spawn", "os.spawn", "os.system")
_WATCHED = frozenset(("import", "os.fork", "os.forkpty", *_COMMANDS))  # every other event returns at once

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

_report = None  # type: Optional[Callable[[str], None]]  # the watching session's; None: stopped
_pid = 0  # the process the watch belongs to (a forked child inherits the hook, not the watch)
_installed = False  # the audit hook (launched targets)
_fork_hooked = False  # the fork handler (attached targets)


def python_program(program: "Any") -> "Optional[str]":
    """The file name of a program path or command line whose program is a Python interpreter, else None."""
    try:
        if isinstance(program, (list, tuple)):
            program = program[0] if program else ""
        if isinstance(program, bytes):
            program = os.fsdecode(program)
        text = str(program).strip()
        if not text:
            return None
        first = text if os.path.exists(text) else text.split()[0]  # os.system: a command line
        name = os.path.basename(first)
        if first == sys.executable:
            return name
        bare = name.lower()[:-4] if name.lower().endswith(".exe") else name.lower()
        if bare.startswith("python") and all(c.isdigit() or c in ".tmw" for c in bare[6:]):
            return name
        return None
    except Exception:
        return None


def _what(event: str, args: "Any") -> "Optional[str]":
    """What kind of Python child this audit event starts, or None (not one, or not a Python child)."""
    if event == "import":
        return _LAUNCHERS.get(args[0]) if args else None
    if event == "os.fork" or event == "os.forkpty":
        return "os.fork"
    if event in _COMMANDS and args:
        if event == "subprocess.Popen":  # (executable, args, cwd, env)
            program = args[0] if args[0] is not None else args[1]
        elif event == "os.spawn":  # (mode, path, args, env)
            program = args[1] if len(args) > 1 else None
        else:  # os.posix_spawn (path, argv, env), os.system (command,)
            program = args[0]
        name = python_program(program)
        if name is not None:
            return "%s of %s" % (event, name)
    return None


def _hook(event: str, args: "Any") -> None:
    if event not in _WATCHED:  # the hot path: sys._getframe, open, socket... cost one set lookup
        return
    report = _report
    if report is None:
        return
    try:
        what = _what(event, args)
        if what is not None and os.getpid() == _pid:
            report(what)
    except Exception:
        pass  # an audit hook that raises would fail the program's own call


def _existing_children() -> "Optional[str]":
    """A Python child this process already has (attached late), from /proc; None when none or unknown."""
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return None
    for tid in tasks:
        try:
            with open("/proc/self/task/%s/children" % tid) as fh:
                pids = fh.read().split()
        except OSError:
            continue
        for pid in pids:
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as fh:
                    argv = fh.read().split(b"\0")
            except OSError:
                continue
            if argv and python_program(argv[0]) is not None:
                return "already running (PID %s)" % pid
    return None


def _before_fork() -> None:
    _hook("os.fork", ())


def watch(report: "Callable[[str], None]", attached: bool) -> None:
    """Call report(what) when the process starts a Python child (the caller reports only the first).

    Launched, the program is ours for its life: the audit hook sees every start. Attached, the
    process outlives our visit and an audit hook would cost each of its audited calls (~0.4 us:
    sys._getframe, open, socket...) for good after we detach; so there it is a fork handler
    (called only at a fork), the launchers already imported, and `poll` (from the agent's
    telemetry tick) for the ones imported later; a subprocess of python is not seen then.
    """
    global _report, _pid, _installed, _fork_hooked
    _pid = os.getpid()
    _report = report
    if attached:
        if not _fork_hooked and hasattr(os, "register_at_fork"):
            os.register_at_fork(before=_before_fork)
            _fork_hooked = True
        if poll():
            return
        found = _existing_children()
        if found is not None:
            report(found)
    elif not _installed and hasattr(sys, "addaudithook"):
        sys.addaudithook(_hook)
        _installed = True


def poll() -> bool:
    """Report a multiprocessing launcher imported since (it is imported when its first child starts)."""
    report = _report
    if report is None:
        return False
    modules = sys.modules
    for name, what in _LAUNCHERS.items():
        if name in modules:
            report(what)
            return True
    return False


def unwatch(report: "Callable[[str], None]") -> None:
    """The hooks stay (neither can be removed) but do nothing from now on (unless a newer session watches)."""
    global _report
    if _report == report:
        _report = None
