"""`python -m pyrometer` and the `pyrometer` console script."""

from __future__ import annotations

import os
import sys

# Commands with no window, whose last act is closing their files: they leave with
# os._exit once their output is flushed. Tearing down the interpreter (modules,
# threads, the GC) would add ~6 ms to every `pyrometer record`, which is all
# overhead to the program it wraps; windowed commands exit normally (Qt and
# QSettings clean up on the way out).
HEADLESS = frozenset({"record", "stats", "convert", "diff", "report"})


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the command-line interface (which imports Qt only for GUI commands)."""
    from pyrometer.cli import main as cli_main

    return cli_main(sys.argv[1:] if argv is None else argv)


def run() -> None:
    """The process entry point: `main`, then a quick exit after a headless command."""
    argv = sys.argv[1:]
    code = main(argv)
    if argv and argv[0] in HEADLESS:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass  # a closed pipe: nothing more can be said there
        os._exit(code & 0xFF if code >= 0 else 1)
    sys.exit(code)


if __name__ == "__main__":
    run()
