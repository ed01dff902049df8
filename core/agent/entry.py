"""What the bootstrap runs once the agent package is loaded (stdlib only, 3.9+).

Kept out of ``bootstrap.py`` on purpose: the interpreter compiles its main
script on every start, while this module's bytecode is cached like any other.
Launch: `main` starts the agent, runs the user's program as ``python`` would
and stops the agent with the program's exit status. Attach: `attach` starts
the agent on a thread and returns at once.

The user's program must not notice us: its exit status, its traceback on an
uncaught exception, Ctrl-C and `SystemExit` behave as under plain Python.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import sys
import threading
import types

from . import session as session_mod
from . import transport, wire

TYPE_CHECKING = False  # typing stays unimported in the target (start-up cost); mypy knows the name
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Tuple

ENV_VAR = "PYROMETER_AGENT"
AGENT_DIR = os.path.dirname(os.path.abspath(__file__))
BOOTSTRAP_FILE = os.path.join(AGENT_DIR, "bootstrap.py")
_THIS_FILE = os.path.abspath(__file__)
_SIGINT = 2  # signal.SIGINT everywhere CPython runs; signal.py's enums cost ~1 ms to import

_attached_tokens: set = set()
_attach_lock = threading.Lock()


def start_agent(
    config: Dict[str, Any], attached: bool, prepare: Optional[Callable[[Any], None]] = None
) -> Tuple[Any, Any]:
    """Connect to the collector and start an AgentSession; returns (session, sink).

    A process profiles one session at a time (the sampler and the hooks are
    process-wide): a second attach gets a refusal it records and reports.
    """
    pkg = sys.modules[__package__ or ""]  # the agent package: it holds the active session
    options = dict(config.get("options") or {})
    options["attached"] = attached
    options.setdefault("argv", list(sys.argv))
    sink = transport.SocketSink(str(config["address"]), str(config["token"]))
    active = getattr(pkg, "active_session", None)
    if active is not None and not getattr(active, "stopped", True):
        message = "this process is already being profiled by another Pyrometer session"
        sink.start()
        sink.send(wire.json_frame(wire.NOTICE, {"t": 0.0, "level": "error", "message": message}))
        sink.send(wire.json_frame(wire.END, {"t": 0.0, "exit_status": None, "reason": "refused"}))
        sink.close()
        raise RuntimeError(message)
    try:
        session = session_mod.AgentSession(options, sink)
    except BaseException:
        sink.close(0.5)
        raise

    def collector_lost() -> None:
        session.stop("collector-lost")

    def detach() -> None:
        try:
            session.stop("detached")
        finally:
            sink.close()

    sink.on_close = collector_lost
    sink.on_stop_request = detach
    sink.start()
    register = getattr(session, "add_agent_thread", None)
    if register is not None:
        for ident in sink.thread_idents():
            register(ident)
    try:
        if prepare is not None:
            prepare(session)  # before the sampler's first tick
        session.start()
    except BaseException:
        sink.close(0.5)
        raise
    pkg.active_session = session  # type: ignore[attr-defined]
    return session, sink


# ------------------------------------------------------------------ attach
def attach(config: Dict[str, Any]) -> None:
    """Entry point of the injected snippet: start the agent on a thread, return at once."""
    token = str(config.get("token"))
    with _attach_lock:
        if token in _attached_tokens:
            return  # the pending call and the direct route both ran: start once
        _attached_tokens.add(token)

    def run() -> None:
        try:
            start_agent(config, attached=True)
        except BaseException:
            pass  # the collector reports "agent never connected"; the target runs on

    threading.Thread(target=run, name="pyrometer-attach", daemon=True).start()


# ------------------------------------------------------------------ launch
def _exit_status(code: Any) -> int:
    """The process exit status Python derives from ``SystemExit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int) and not isinstance(code, bool):
        return code
    return 1


def _trim(tb: Optional[types.TracebackType]) -> Optional[types.TracebackType]:
    """Drop our frames and runpy's from the head of a traceback, as plain Python shows it."""
    runpy_file = getattr(sys.modules.get("runpy"), "__file__", None) or ""
    ours = {_THIS_FILE, BOOTSTRAP_FILE, os.path.abspath(runpy_file), "<frozen runpy>"}
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename in ours or os.path.abspath(filename) in ours:
            tb = tb.tb_next
        else:
            break
    return tb


def _silent_excepthook(*_: Any) -> None:
    """Installed after we printed the user's traceback ourselves."""


def _join_user_threads() -> None:
    """Wait for non-daemon threads like interpreter shutdown would, so they stay profiled."""
    me = threading.current_thread()
    for thread in threading.enumerate():
        if thread is me or thread.daemon or thread is threading.main_thread():
            continue
        thread.join()


def _fix_sys_path(entry: Optional[str]) -> None:
    """Replace our directory (sys.path[0] when run as a script) with what Python would put there."""
    if sys.path and os.path.abspath(sys.path[0] or os.curdir) == AGENT_DIR:
        if entry is None:
            del sys.path[0]
        else:
            sys.path[0] = entry


def _exec_as_main(code: types.CodeType, filename: Optional[str]) -> None:
    """Run compiled code as ``__main__`` in a fresh module, as the interpreter does."""
    main = types.ModuleType("__main__")
    main.__dict__["__builtins__"] = builtins  # the module, as in the real __main__
    if sys.version_info < (3, 14):
        main.__dict__["__annotations__"] = {}  # noqa: RUF063  # as the interpreter's own __main__
    import importlib.machinery

    if filename is not None:
        main.__dict__["__file__"] = filename
        main.__dict__["__cached__"] = None
        main.__dict__["__loader__"] = importlib.machinery.SourceFileLoader("__main__", filename)
    else:  # -c
        main.__dict__["__loader__"] = importlib.machinery.BuiltinImporter
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = main
    try:
        exec(code, main.__dict__)
    finally:
        if saved is not None:
            sys.modules["__main__"] = saved


def _run_target(argv: List[str], kind: str) -> None:
    """Run argv (see `_kind_of` for `kind`) as the interpreter would."""
    if not argv:
        raise SystemExit("pyrometer bootstrap: nothing to run")
    if kind == "module":
        if len(argv) < 2:
            raise SystemExit("pyrometer bootstrap: -m needs a module name")
        import runpy

        sys.argv = argv[1:]
        _fix_sys_path(os.getcwd())
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    elif kind == "code":
        if len(argv) < 2:
            raise SystemExit("pyrometer bootstrap: -c needs an argument")
        sys.argv = ["-c", *argv[2:]]
        _fix_sys_path("")
        # dont_inherit: our own `from __future__` imports must not apply to user code
        _exec_as_main(compile(argv[1], "<string>", "exec", dont_inherit=True), None)
    else:
        script = argv[0]
        sys.argv = list(argv)
        _fix_sys_path(os.path.dirname(os.path.realpath(script)))
        if kind == "source":
            # a plain source file: compile it ourselves, as `python script.py` does;
            # runpy.run_path would import pkgutil (and typing with it), ~7 ms the
            # plain interpreter does not spend
            path = os.path.abspath(script)  # __file__ of __main__ is absolute since 3.9
            with io.open_code(path) as fh:
                source = fh.read()
            _exec_as_main(compile(source, path, "exec", dont_inherit=True), path)
        else:  # a directory, a zip file or compiled code: runpy knows them all
            import runpy

            runpy.run_path(script, run_name="__main__")


def _elide_launch_frames(session: Any, outer: List[Any], kind: str) -> None:
    """Leave the launcher's own frames (this module, runpy) out of every stack.

    Without this every main-thread sample starts with `<module> > main >
    _run_target > ...` (and runpy's functions for ``-m`` and non-source
    scripts) before the user's `<module>`, which clutters trees and flame
    graphs with our plumbing.
    """
    try:
        funcs: List[Any] = [*outer, main, _run_target, _exec_as_main]
        if kind in ("module", "runpy-script"):
            import runpy

            # every runpy function (a sample may land while run_path reads or compiles
            # the script), and pkgutil.get_importer, which run_path calls first
            for fn in list(vars(runpy).values()):
                if isinstance(fn, types.FunctionType) and fn.__module__ == "runpy":
                    funcs.append(fn)
            if kind == "runpy-script":
                import pkgutil

                funcs.append(pkgutil.get_importer)
        for fn in funcs:
            session.interner.elide(fn)
    except Exception:  # cosmetic only: never stop the target for it
        pass


def _kind_of(argv: List[str]) -> str:
    """How `_run_target` will run argv: module, code, source (compiled by us) or runpy-script."""
    first = argv[0] if argv else ""
    if first in ("-m", "-c"):
        return "module" if first == "-m" else "code"
    return "source" if first.endswith(".py") and os.path.isfile(first) else "runpy-script"


def _read_config(value: Optional[str]) -> Optional[str]:
    """The launch config: ``@PATH`` names a private file, read once and deleted (so the
    session token never sits in /proc/PID/environ); older collectors put the JSON itself."""
    if not value or not value.startswith("@"):
        return value
    path = value[1:]
    try:
        with open(path, "rb") as fh:
            data = fh.read(1 << 20)
    except OSError as exc:
        sys.stderr.write("pyrometer: agent not started (cannot read %s: %s); running unprofiled\n" % (path, exc))
        return None
    try:
        os.unlink(path)
    except OSError:
        pass
    return data.decode("utf-8", "replace")


def main(outer: List[Any]) -> None:
    """Launch mode: start the agent, run the target, stop the agent with its exit status.

    ``outer``: the bootstrap's functions (and its module code) below us on the
    main thread's stack, left out of every stack like our own.
    """
    raw = _read_config(os.environ.pop(ENV_VAR, None))
    main_ident = threading.get_ident()
    argv = sys.argv[1:]
    kind = _kind_of(argv)
    session = sink = None
    if raw:
        try:
            config = json.loads(raw)
            options = dict(config.get("options") or {})
            options["argv"] = list(argv)
            config["options"] = options

            def prepare(new_session: Any) -> None:
                # the main thread runs our code until the target starts: not sampled
                new_session.threads.agent_idents.add(main_ident)
                _elide_launch_frames(new_session, outer, kind)

            session, sink = start_agent(config, attached=False, prepare=prepare)
        except Exception as exc:
            sys.stderr.write("pyrometer: agent not started (%s); running unprofiled\n" % (exc,))
    pending: Optional[BaseException] = None
    status = 0
    try:
        if session is not None:
            session.threads.agent_idents.discard(main_ident)
        try:
            _run_target(argv, kind)
        finally:
            if session is not None:  # back in our code: waiting for threads, stopping
                session.threads.agent_idents.add(main_ident)
    except SystemExit as exc:
        pending, status = exc, _exit_status(exc.code)
    except BaseException as exc:  # including KeyboardInterrupt
        status = -_SIGINT if isinstance(exc, KeyboardInterrupt) else 1
        exc.__traceback__ = _trim(exc.__traceback__)
        try:
            sys.excepthook(type(exc), exc, exc.__traceback__)
        except BaseException:
            pass
        sys.excepthook = _silent_excepthook  # printed once, as Python would
        pending = exc
    try:
        _join_user_threads()
    except KeyboardInterrupt as exc:
        if pending is None or isinstance(pending, SystemExit):
            pending, status = exc, -_SIGINT
    finally:
        if session is not None:
            try:
                session.stop("exit", status)
            except Exception:
                pass
        if sink is not None:
            sink.close()
    if pending is not None:
        raise pending
