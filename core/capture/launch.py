"""Launch a Python program with the agent started before user code.

Accepts what py-spy and ``python`` itself accept after ``--``: ``SCRIPT
[ARGS]``, ``-m MODULE [ARGS]``, ``-c CODE``, or an interpreter as the first
word (``python3 script.py``, ``/path/python -X dev -m mod``); an executable
script with a ``#!...python`` line runs under that interpreter. The command
becomes ``[python, *python_options, bootstrap.py, <the rest>]``; the
connection info travels in the environment and the bootstrap removes it
before user code runs. stdin/stdout/stderr are inherited untouched unless the
caller (the window) asks to capture them as OUTPUT frames.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from pyrometer.core.capture.collector import Collector
from pyrometer.core.capture.frozen import frozen_python, interpreter_env, is_bundle_interpreter

TYPE_CHECKING = False  # typing is not imported on `pyrometer record`'s start-up path
if TYPE_CHECKING:
    from typing import Any

_INTERPRETER_NAME = re.compile(r"^(python|pypy)(\d+(\.\d+)*)?[dmtu]*(\.exe)?$", re.IGNORECASE)
# interpreter options that take a separate argument
_OPTIONS_WITH_VALUE = {"-W", "-X", "--check-hash-based-pycs"}


class LaunchError(Exception):
    """The target command line cannot be run (the message is one line for the user)."""


class Target:
    """A parsed target command: what to run and under which interpreter.

    A plain class, not a dataclass: dataclasses (via inspect) cost `pyrometer
    record` ~10 ms of imports before the target can start.
    """

    def __init__(
        self,
        python: str,
        kind: str,  # "script" | "module" | "code"
        target: str,  # script path, module name or code
        args: list[str] | None = None,
        python_args: list[str] | None = None,
    ) -> None:
        self.python = python
        self.kind = kind
        self.target = target
        self.args = list(args or [])
        self.python_args = list(python_args or [])

    def __repr__(self) -> str:
        return f"Target({self.python!r}, {self.kind!r}, {self.target!r}, {self.args!r}, {self.python_args!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Target):
            return NotImplemented
        return vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it replaced

    def argv(self) -> list[str]:
        """What follows the bootstrap on its command line."""
        if self.kind == "module":
            return ["-m", self.target, *self.args]
        if self.kind == "code":
            return ["-c", self.target, *self.args]
        return [self.target, *self.args]

    def describe(self) -> str:
        import shlex

        return shlex.join([self.python, *self.python_args, *self.argv()])


def bootstrap_path() -> Path:
    """The agent's bootstrap script, run by the target interpreter as its main file."""
    return Path(__file__).resolve().parent.parent / "agent" / "bootstrap.py"


def _which(word: str) -> str | None:
    if os.sep in word or (os.altsep and os.altsep in word):
        return word if os.path.isfile(word) and os.access(word, os.X_OK) else None
    import shutil  # ~4 ms of imports (bz2, lzma): only when a bare name needs a PATH lookup

    return shutil.which(word)


def _is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False


def _shebang_python(path: str) -> list[str] | None:
    """The interpreter command of a script whose ``#!`` line names Python, else None."""
    try:
        with open(path, "rb") as fh:
            first = fh.readline(256)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    words = first[2:].decode("utf-8", "replace").split()
    if words and os.path.basename(words[0]) == "env":
        words = words[1:]
        while words and words[0].startswith("-"):  # env's own options (-S)
            words = words[1:]
    if not words or not _INTERPRETER_NAME.match(os.path.basename(words[0])):
        return None
    exe = _which(words[0]) or words[0]
    return [exe, *words[1:]]


def _looks_like_interpreter(word: str) -> str | None:
    """Resolve the first word when it names a Python interpreter (by name, or an ELF binary)."""
    if word.endswith((".py", ".pyw")):
        return None
    resolved = _which(word)
    if resolved is None:
        return None
    if _INTERPRETER_NAME.match(os.path.basename(word)) or _is_elf(resolved):
        return resolved
    return None


def default_python(script: str | None = None) -> str:
    """The interpreter for a bare ``SCRIPT``: ours, or in a frozen app see `frozen_python`."""
    if getattr(sys, "frozen", False):  # PyInstaller: sys.executable is the app itself
        return frozen_python(script)
    return sys.executable


def _parse_python_command(python: str, words: list[str]) -> Target:
    """Parse ``[python options] (SCRIPT | -m MOD | -c CODE) [ARGS]`` after an interpreter."""
    opts: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in ("-m", "-c"):
            if i + 1 >= len(words):
                raise LaunchError(f"{word} needs an argument")
            kind = "module" if word == "-m" else "code"
            return Target(python, kind, words[i + 1], words[i + 2 :], opts)
        if word.startswith("-m") and len(word) > 2:
            return Target(python, "module", word[2:], words[i + 1 :], opts)
        if word.startswith("-c") and len(word) > 2:
            return Target(python, "code", word[2:], words[i + 1 :], opts)
        if word == "-":
            raise LaunchError(
                "reading the program from stdin is not supported; give a script, -m or -c"
            )
        if word == "--":
            i += 1
            break
        if not word.startswith("-"):
            break
        opts.append(word)
        if word in _OPTIONS_WITH_VALUE:
            if i + 1 >= len(words):
                raise LaunchError(f"{word} needs an argument")
            opts.append(words[i + 1])
            i += 1
        i += 1
    if i >= len(words):
        raise LaunchError("no program to run: give SCRIPT, -m MODULE or -c CODE after --")
    script = words[i]
    if not os.path.exists(script):
        raise LaunchError(f"no such file: {script}")
    return Target(python, "script", script, words[i + 1 :], opts)


def parse_target(words: list[str], python: str | None = None) -> Target:
    """Turn the words after ``--`` into a Target; raises LaunchError with a one-line reason."""
    if not words:
        raise LaunchError(
            "no program to run: give `-- SCRIPT [ARGS]`, `-- -m MODULE [ARGS]` or `--pid PID`"
        )
    if python is not None:
        resolved = _which(python)
        if resolved is None:
            raise LaunchError(f"--python {python}: no such interpreter")
        python = resolved
    first = words[0]
    interpreter = None if first.startswith("-") else _looks_like_interpreter(first)
    if interpreter is not None:
        if python is not None:
            raise LaunchError(
                "give the interpreter either with --python or as the first word after --, not both"
            )
        return _parse_python_command(interpreter, words[1:])
    if not first.startswith("-") and os.path.isfile(first) and python is None:
        shebang = _shebang_python(first)
        if shebang is not None:
            return _parse_python_command(shebang[0], [*shebang[1:], *words])
    script = None if first.startswith("-") else first
    return _parse_python_command(python or default_python(script), words)


def build_command(target: Target, bootstrap: str | os.PathLike[str] | None = None) -> list[str]:
    """The full command line: interpreter, its options, the bootstrap, then the program."""
    boot = str(bootstrap if bootstrap is not None else bootstrap_path())
    return [target.python, *target.python_args, boot, *target.argv()]


MIN_VERSION = (3, 9)
_PROBE = "import sys; sys.stdout.write('%d.%d' % tuple(sys.version_info[:2]))"


def interpreter_version(python: str) -> tuple[int, int] | None:
    """The Python version of an interpreter (works down to 2.7), or None if it does not answer."""
    # (a frozen app is its own interpreter too: launch() starts it as Python, see pyrometer.core.capture.frozen)
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        return (sys.version_info[0], sys.version_info[1])
    try:
        out = subprocess.run(
            [python, "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    major, _, minor = out.stdout.strip().partition(".")
    if out.returncode != 0 or not (major.isdigit() and minor.isdigit()):
        return None
    return (int(major), int(minor))


def check_interpreter(python: str) -> None:
    """Refuse interpreters the agent cannot run in, before the user's program starts."""
    version = interpreter_version(python)
    if version is None:
        raise LaunchError(f"{python} does not run as a Python interpreter")
    if version < MIN_VERSION:
        raise LaunchError(
            f"{python} is Python {version[0]}.{version[1]}; the agent needs Python "
            f"{MIN_VERSION[0]}.{MIN_VERSION[1]} or newer"
        )


def options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Session options (see AgentSession) from the shared collect options of the CLI."""
    return {
        "rate_hz": float(args.rate),
        "mode": str(args.mode),
        "clock": str(getattr(args, "clock", "cpu")),
        "loop_interval_ms": float(args.loop_interval),
        "block_threshold_ms": float(args.block_threshold),
        "every_task": bool(getattr(args, "every_task", False)),
        "main_signal": bool(getattr(args, "main_signal", False)),
    }


def launch(
    target: Target,
    collector: Collector,
    options: dict[str, Any],
    capture_output: bool = False,
    cwd: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    bootstrap: str | os.PathLike[str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start the target in our process group, connected to a started collector.

    With ``capture_output`` the target's stdout/stderr go through pipes into
    OUTPUT frames (the window's console); otherwise they are inherited.
    """
    check_interpreter(target.python)
    child_env = dict(os.environ if env is None else env)
    child_env.update(collector.agent_env(options))
    if is_bundle_interpreter(target.python):
        child_env.update(interpreter_env())
    pipe = subprocess.PIPE if capture_output else None
    try:
        proc = subprocess.Popen(
            build_command(target, bootstrap), cwd=cwd, env=child_env, stdout=pipe, stderr=pipe
        )
    except OSError as exc:
        raise LaunchError(f"cannot start {target.python}: {exc.strerror or exc}") from exc
    if capture_output:
        assert proc.stdout is not None and proc.stderr is not None
        collector.pump_output(proc.stdout, "stdout")
        collector.pump_output(proc.stderr, "stderr")
    return proc
