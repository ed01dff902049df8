"""The Tasks pane's first fill on a big recording (issue 15): the column-backed pane, or the one before it.

    .venv/bin/python benchmarks/bench_tasks_pane.py /work/scale-data/scale-30M-f300-v2.pyro [--before]

Reads the recording, shows a TasksPane (offscreen) and times its first and
second refresh, each with the paint that follows. `--before` loads the pane's
module as it was at c619f7d (git show) to compare on the same machine load.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
BEFORE = "c619f7d"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", type=Path)
    ap.add_argument("--before", action="store_true", help=f"the pane as it was at {BEFORE}")
    args = ap.parse_args()
    from PySide6 import QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    import pyrometer.app.main_window  # noqa: F401  (what the window imports first)
    from pyrometer.app.document import Document
    from pyrometer.core.formats.recording import read_recording

    if args.before:
        root = Path(__file__).resolve().parents[1]
        source = subprocess.run(["git", "-C", str(root), "show", f"{BEFORE}:app/panes/tasks.py"],
                                capture_output=True, text=True, check=True).stdout
        path = Path(tempfile.mkdtemp()) / "tasks_before.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location("tasks_before", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        pane_class = module.TasksPane
    else:
        from pyrometer.app.panes.tasks import TasksPane as pane_class
    profile, _ = read_recording(args.path)
    profile.finish()
    pane = pane_class(Document(profile))
    pane.resize(1200, 600)
    pane.show()
    app.processEvents()
    which = f"before ({BEFORE})" if args.before else "now"
    for label in ("first", "second"):
        t = time.perf_counter()
        pane.refresh()
        app.processEvents()
        print(f"{which}: {len(profile.tasks):,} tasks, {label} refresh + paint {time.perf_counter() - t:.2f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
