"""The agent's own threads are never listed as the program's threads.

Attaching starts the agent from a short-lived "pyrometer-attach" thread; when the
sampler's first tick found it still alive, the recording announced it, and `stats`
printed "pyrometer-attach [0] 0" among the program's threads (and the window gave it
a timeline row), though the program has no such thread.
"""

from __future__ import annotations

import sys
from pathlib import Path

from agent_harness import run_agent_target

BODY = """
import threading, time
release = threading.Event()
started = threading.Event()
def bootstrap_like():  # like entry.attach's thread: named by the agent, alive while sampling starts
    started.set()
    release.wait()
def user_work():
    release.wait()
threading.Thread(target=bootstrap_like, name="pyrometer-attach", daemon=True).start()
threading.Thread(target=user_work, name="user-worker", daemon=True).start()
started.wait()
session = start(rate_hz=200)
deadline = time.monotonic() + 10
while session.sampler is not None and session.sampler.ticks < 5 and time.monotonic() < deadline:
    time.sleep(0.01)
release.set()
session.stop()
print("ticks", session.sampler.ticks if session.sampler is not None else -1)
"""


def test_agent_thread_alive_at_first_tick_is_not_announced(tmp_path: Path) -> None:
    profile, out, _ = run_agent_target(sys.executable, BODY, tmp_path)
    assert int(out.split()[-1]) >= 5, out  # the sampler ticked while the thread was alive
    names = {t.name for t in profile.threads.values()}
    assert "user-worker" in names and "MainThread" in names
    assert not any(name.startswith("pyrometer") for name in names), names
