"""`python -m pyrometer` and the `pyrometer` console script."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the command-line interface (which imports Qt only for GUI commands)."""
    from pyrometer.cli import main as cli_main

    return cli_main(sys.argv[1:] if argv is None else argv)


def _headless(argv: list[str]) -> bool:
    """A command with no window (its handler lives in pyrometer.core, see cli.HANDLERS)."""
    from pyrometer.cli import HANDLERS

    return bool(argv) and HANDLERS.get(argv[0], "").startswith("pyrometer.core.")


def run() -> None:
    """The process entry point: `main`, then a quick exit after a headless command.

    Headless commands' last act is closing their files, so they leave with
    os._exit once their output is flushed: tearing down the interpreter
    (modules, threads, the GC) would add ~6 ms to every `pyrometer record`,
    all of it overhead to the program it wraps. Windowed commands exit
    normally, so Qt and QSettings clean up on the way out.
    """
    argv = sys.argv[1:]
    code = main(argv)
    if _headless(argv):
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass  # a closed pipe: nothing more can be said there
        os._exit(code & 0xFF if code >= 0 else 1)
    sys.exit(code)


if __name__ == "__main__":
    run()
