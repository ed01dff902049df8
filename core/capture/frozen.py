"""A frozen (PyInstaller) Pyrometer doubles as the Python interpreter for the programs it launches.

In a bundle `sys.executable` is the app, not Python, yet the demo (and any
launched script) needs an interpreter to run the agent's bootstrap in. The
bundle carries a complete CPython, so when the environment variable
`PYROMETER_AS_PYTHON` is set the bundle's entry script asks `python_mode()`
first and runs its command line the way `python [options] SCRIPT|-m
MODULE|-c CODE [ARGS]` would, without importing Qt. The variable stays set, so a target that starts
`sys.executable` again gets Python too. Only the standard-library modules the
bundle collected are importable there; scripts outside the bundle therefore
prefer a `python3` found on PATH (see `frozen_python`).

Standard library only: `pyrometer.core.capture.launch` imports this module.
"""

from __future__ import annotations

import builtins
import os
import sys
import types

TYPE_CHECKING = False  # on `pyrometer record`'s start-up path: typing and shutil stay unimported
if TYPE_CHECKING:
    from types import CodeType
    from typing import Any

ENV_VAR = "PYROMETER_AS_PYTHON"
# interpreter options that take a separate argument (accepted and ignored)
_OPTIONS_WITH_VALUE = {"-W", "-X", "--check-hash-based-pycs"}


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def bundle_dir() -> str | None:
    """The folder PyInstaller unpacked the bundle's files into (None when not frozen)."""
    if not is_frozen():
        return None
    return str(getattr(sys, "_MEIPASS", os.path.dirname(sys.executable)))


def is_bundle_interpreter(python: str) -> bool:
    """True when `python` is this frozen app, which must be started with `interpreter_env()`."""
    return is_frozen() and os.path.realpath(python) == os.path.realpath(sys.executable)


def interpreter_env() -> dict[str, str]:
    """Environment entries that make the frozen app run its arguments as Python."""
    return {ENV_VAR: "1"}


def frozen_python(script: str | None = None) -> str:
    """The interpreter for a target launched from a bundle.

    Scripts shipped inside the bundle (the demo) run on the bundle itself, so
    they work with no Python installed; other programs use `python3` from
    PATH (their packages live there) and fall back to the bundle when there
    is none.
    """
    root = bundle_dir()
    if script and root:
        path = os.path.realpath(os.path.abspath(script))
        if path.startswith(os.path.realpath(root) + os.sep):
            return sys.executable
    import shutil

    return shutil.which("python3") or shutil.which("python") or sys.executable


def python_main(argv: list[str]) -> tuple[CodeType, dict[str, Any]] | None:
    """Prepare `[options] SCRIPT|-m MODULE|-c CODE [ARGS]` as `python` would run it.

    Sets sys.argv and sys.path and returns (code, globals) for the caller to
    exec at top level — the caller's frame is the only one of ours under the
    program's, where runpy would add five — or None when there is nothing to run
    (`-V` printed the version). Raises SystemExit on a bad command line.
    """
    i = 0
    while i < len(argv) and argv[i].startswith("-") and argv[i] not in ("-m", "-c", "-"):
        if argv[i] in ("-V", "--version"):
            print("Python " + ".".join(map(str, sys.version_info[:3])))
            return None
        if argv[i].startswith(("-m", "-c")):  # -mMODULE / -cCODE
            argv = [*argv[:i], argv[i][:2], argv[i][2:], *argv[i + 1 :]]
            break
        i += 2 if argv[i] in _OPTIONS_WITH_VALUE else 1
    rest = argv[i:]
    if not rest or rest[0] == "-":
        raise SystemExit("pyrometer (as python): give SCRIPT, -m MODULE or -c CODE")
    if rest[0] in ("-m", "-c") and len(rest) < 2:
        raise SystemExit(f"pyrometer (as python): {rest[0]} needs an argument")
    main = types.ModuleType("__main__")
    main.__dict__["__builtins__"] = builtins
    if rest[0] == "-c":
        sys.argv = ["-c", *rest[2:]]
        sys.path.insert(0, "")
        code = compile(rest[1], "<string>", "exec")
    elif rest[0] == "-m":
        sys.argv = [rest[1], *rest[2:]]  # runpy puts the module's file in argv[0]
        sys.path.insert(0, os.getcwd())
        code = compile(
            f"import runpy\nrunpy.run_module({rest[1]!r}, run_name='__main__', alter_sys=True)\n",
            "<pyrometer -m>",
            "exec",
        )
    else:
        script = rest[0]
        with open(script, "rb") as fh:
            source = fh.read()
        sys.argv = list(rest)
        sys.path.insert(0, os.path.dirname(os.path.realpath(script)))
        main.__dict__["__file__"] = script
        code = compile(source, script, "exec")
    sys.modules["__main__"] = main
    return code, main.__dict__


def python_mode(argv: list[str] | None = None) -> tuple[CodeType, dict[str, Any]] | None:
    """(code, globals) to exec when started as an interpreter (ENV_VAR set), else None.

    Exits at once for `-V`. The entry script execs the code and exits with 0.
    """
    if not os.environ.get(ENV_VAR):
        return None
    prepared = python_main(list(sys.argv[1:] if argv is None else argv))
    if prepared is None:
        sys.exit(0)
    return prepared
