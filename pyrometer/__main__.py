"""`python -m pyrometer` and the `pyrometer` console script."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the command-line interface (which imports Qt only for GUI commands)."""
    from pyrometer.cli import main as cli_main

    return cli_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
