"""`pyrometer stats --json` with today's writer or the `json.dumps(..., indent=1)` it replaced (issue 15).

    .venv/bin/python benchmarks/bench_stats_json.py [--before] -- stats --json FILE > out.json

Runs the command in this process; `--before` puts the old encoder back first,
so the two outputs can be timed (`/usr/bin/time`) and compared with `cmp`.
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    argv = sys.argv[1:]
    before = "--before" in argv[: argv.index("--")] if "--" in argv else "--before" in argv
    command = argv[argv.index("--") + 1 :] if "--" in argv else [a for a in argv if a != "--before"]
    from pyrometer.core.cli import commands, pretty_json

    if before:
        commands.emit_json = lambda obj: commands.emit(json.dumps(pretty_json.finite(obj), indent=1, allow_nan=False))
    from pyrometer.__main__ import main as cli

    return cli(command)


if __name__ == "__main__":
    sys.exit(main())
