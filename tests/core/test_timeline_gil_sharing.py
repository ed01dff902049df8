"""Two CPU-bound threads sharing the GIL are drawn as running part of the time, not as idle.

A user saw such threads grey (waiting) on the timeline: a thread box was on CPU only when its
samples were on CPU for at least half their span, and a thread sharing the GIL runs about half
of each interval. The truth is measured inside the program (time.thread_time per thread); the
lanes must draw each thread mostly in the colour its measured share calls for, and a box's
tooltip figure (`cpu_in_span`) must agree with the thread's own CPU time.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from agent_harness import run_agent_target

from pyrometer.core.analysis.cpu_level import ON_SHARE, PARTLY_SHARE
from pyrometer.core.analysis.lane_palette import ON_CPU, PARTLY_CPU, WAITING
from pyrometer.core.analysis.lanes import build_lanes
from pyrometer.core.analysis.lod import cpu_in_span
from pyrometer.core.model import UNIT_SECONDS, Profile

SHARING = """
import json, threading, time
session = start(rate_hz=25)  # 40 ms samples: each spans ~8 GIL switch intervals
acc = {}
def spin(name):
    c, t = time.thread_time(), time.perf_counter()
    x = 0
    while time.perf_counter() - t < 1.0:
        for i in range(500): x += i * i
    acc[name] = [time.thread_time() - c, time.perf_counter() - t]
threads = [threading.Thread(target=spin, args=(n,), name=n) for n in ("one", "two")]
for t in threads: t.start()
for t in threads: t.join()
session.stop(exit_status=0)
print(json.dumps(acc))
"""


def lane_time(p: Profile, name: str) -> dict[int, float]:
    """Seconds of the thread's lane drawn in each colour."""
    lanes = build_lanes(p, None)
    _x, w, row, color = lanes.arrays()
    lane = lanes.names.index(name)
    mine = row == lane
    return {c: float(w[mine & (color == c)].sum()) for c in (ON_CPU, PARTLY_CPU, WAITING)}


def level_of(share: float) -> int:
    """The colour a thread running `share` of the time must be drawn in (the legend's thresholds)."""
    return ON_CPU if share >= ON_SHARE else PARTLY_CPU if share >= PARTLY_SHARE else WAITING


def test_threads_sharing_the_gil_are_drawn_as_the_share_they_ran(tmp_path: Path) -> None:
    p, out, _ = run_agent_target(sys.executable, SHARING, tmp_path)
    truth = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    for name, (cpu, wall) in truth.items():
        share = cpu / wall  # under 1/2: the two threads take turns holding the GIL (less on a loaded machine)
        drawn = lane_time(p, name)
        dominant = max(drawn, key=drawn.__getitem__)
        # the colour most of the lane is drawn in is the one the thread's own CPU clock gives (give or
        # take 5 points at a threshold); a thread that ran 40% of the time was drawn grey (waiting)
        assert dominant in {level_of(share - 0.05), level_of(share + 0.05)}, (name, share, drawn)
        tid = next(t.id for t in p.threads.values() if t.name == name)
        assert p.unit == UNIT_SECONDS
        measured = cpu_in_span(p, tid, 0.0, float(p.samples["time"].max()) + 1.0)
        assert measured is not None  # what the box tooltips state: CPU seconds of the samples in the box
        assert abs(measured[0] - cpu) <= 0.1 * cpu + 0.02, (name, measured, cpu)
