"""A thread's last moments stay on its own lane.

A finishing thread leaves `threading._active` a moment before its frames stop
running; a sample then found no Thread object for it and started a new lane named
"thread-140315669374656" (seen for a churn of short worker threads, and for a
ThreadPool's worker in the timeline). The thread keeps its record and name now.
"""

from __future__ import annotations

import sys
from pathlib import Path

from agent_harness import run_agent_target

BODY = """
import threading, time
def spin(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass
def worker():
    spin(0.2)  # sampled as "w"
    me = threading.get_ident()
    with threading._active_limbo_lock:  # as Thread._delete does when run() has returned
        th = threading._active.pop(me)
    spin(0.2)  # still running Python: the state a sample can catch at a thread's end
    with threading._active_limbo_lock:
        threading._active[me] = th  # _delete removes it again
session = start(rate_hz=200)
t = threading.Thread(target=worker, name="w")
t.start()
t.join()
session.stop()
"""


def test_a_finishing_thread_keeps_its_lane_and_name(tmp_path: Path) -> None:
    profile, _out, _err = run_agent_target(sys.executable, BODY, tmp_path)
    names = sorted(t.name for t in profile.threads.values())
    assert names == ["MainThread", "w"], names
    (w,) = [t.id for t in profile.threads.values() if t.name == "w"]
    in_w = profile.samples["thread"] == w
    assert in_w.sum() >= 20  # both halves of its life, ~0.4 s at 200 Hz (fewer on a starved machine)
