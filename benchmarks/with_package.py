"""Run a benchmark script with the package `pyrometer` taken from DIR, not from this worktree's install.

For comparing branches in one session: export the other code as a package, e.g.
    mkdir -p DIR/pyrometer && git archive main pyrometer | tar -x -C DIR
    for d in core app resources; do mkdir -p DIR/pyrometer/$d && git archive main $d | tar -x -C DIR/pyrometer/$d --strip-components=1; done
    .venv/bin/python benchmarks/with_package.py DIR benchmarks/bench_live_session.py FILE --panes tasks --paint-each
(PYTHONPATH=DIR alone still imported this worktree's editable install.)
"""

from __future__ import annotations

import os
import runpy
import sys


def main() -> None:
    package_dir, script = sys.argv[1], sys.argv[2]
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    for name in [n for n in sys.modules if n == "pyrometer" or n.startswith("pyrometer.")]:
        del sys.modules[name]
    sys.path.insert(0, package_dir)
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    sys.argv = sys.argv[2:]
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
