"""Trace mode counts the program's threads, not the agent's (tryout 2).

`pyrometer record --mode trace` of a script that starts one thread showed
Thread.start, Thread.__init__ and Thread.run called 4 times: the agent's
sampler, watchdog and tracer threads were started after yappi started. The
counts are checked against the program's own count of the threads it started.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from cli_runs import run_cli_process

from pyrometer.core.formats.recording import read_recording

HAVE_YAPPI = importlib.util.find_spec("yappi") is not None

PROGRAM = """
import sys, threading, time

started = 0

def work(n):
    return sum(range(n))

def spawn(n):
    global started
    t = threading.Thread(target=work, args=(n,), name="work-%d" % n)
    t.start()
    started += 1
    t.join()

for n in range(THREADS):
    spawn(1000 * (n + 1))
time.sleep(0.05)
with open(sys.argv[1], "w") as fh:
    fh.write(str(started))
"""


@pytest.mark.skipif(not HAVE_YAPPI, reason="yappi is not installed in this environment")
@pytest.mark.parametrize("threads", [1, 2])
def test_thread_calls_are_the_programs_own(tmp_path: Path, threads: int) -> None:
    script = tmp_path / "prog.py"
    script.write_text(PROGRAM.replace("THREADS", str(threads)))
    out, count = tmp_path / "trace.pyro", tmp_path / "count"
    done = run_cli_process("record", "--no-history", "--mode", "trace", "-o", out, "--", script, count,
                           env=dict(os.environ, PYROMETER_HOME=str(tmp_path / "home")))
    assert done.returncode == 0, done.stderr
    truth = int(count.read_text())
    assert truth == threads
    profile, report = read_recording(out)
    assert report.clean and profile.meta["mode"] == "trace"
    fs = profile.func_stats
    assert fs is not None
    calls: dict[str, int] = {}
    for row, f in enumerate(fs.func.tolist()):
        name, file = profile.func_name[int(f)], profile.func_file[int(f)]
        if os.path.basename(file) == "threading.py" or name == "work":
            calls[name] = calls.get(name, 0) + int(fs.calls[row])
    assert calls.get("work") == truth
    for name in ("Thread.__init__", "Thread.start"):
        assert calls.get(name) == truth, (name, calls)
    # yappi names Thread.run "run" when a new thread's first frame is it (no class known yet)
    assert calls.get("Thread.run", 0) + calls.get("run", 0) == truth, calls
