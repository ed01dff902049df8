"""A real program recorded by `pyrometer record`: two threads that measure their own spinning.

The truth the index and preview tests check against: each thread's (CPU, wall)
seconds in `spin`, written by the program itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROGRAM = """
import threading, time, json, sys

def spin(seconds):
    t, w = time.thread_time(), time.perf_counter()
    x = 0
    while time.thread_time() - t < seconds:
        x += 1
    return time.thread_time() - t, time.perf_counter() - w

took = {}
def worker():
    took["worker"] = spin(0.6)

th = threading.Thread(target=worker, name="spinner")
th.start()
took["main"] = spin(0.3)
th.join()
json.dump(took, open(sys.argv[1], "w"))
"""


def record_spinners(folder: Path) -> tuple[Path, dict[str, list[float]]]:
    """The recording, and {"main"/"worker": [cpu_s, wall_s]} as the threads measured them."""
    script = folder / "spin.py"
    script.write_text(PROGRAM)
    out, truth = folder / "spin.pyro", folder / "took.json"
    res = subprocess.run([sys.executable, "-m", "pyrometer", "record", "-o", str(out), "--", str(script), str(truth)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return out, json.loads(truth.read_text())
