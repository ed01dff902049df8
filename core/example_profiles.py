"""Small hand-built profiles whose every number is known in advance.

Tests of the CLI and the exporters (and anyone needing a tiny realistic
profile without running a profiler) build these, save them with
`recording.write_profile` and check outputs against the constants here. Kept
in the package rather than in a test file because several test files and the
benchmarks share them.
"""

from __future__ import annotations

import numpy as np

from pyrometer.core.model import UNIT_SECONDS, BlockingEvent, FuncStats, LoopInfo, Profile, TaskInfo

RATE_HZ = 100.0
WEIGHT = 1.0 / RATE_HZ
APP = "/srv/app/server.py"
WORKER = "/srv/app/worker.py"
JSONLIB = "/usr/lib/python3.11/json/__init__.py"

# (thread, root-first frames as (name, file, line, firstline), samples)
SERVER_STACKS: list[tuple[int, list[tuple[str, str, int, int]], int]] = [
    (1, [("<module>", APP, 90, 1), ("main", APP, 80, 75), ("Server.handle", APP, 42, 30), ("compute", APP, 12, 10)], 60),
    (1, [("<module>", APP, 90, 1), ("main", APP, 80, 75), ("Server.handle", APP, 44, 30), ("dumps", JSONLIB, 231, 183)], 20),
    (1, [("<module>", APP, 90, 1), ("main", APP, 81, 75)], 10),
    (2, [("worker_loop", WORKER, 20, 15), ("fetch", WORKER, 8, 5)], 30),
    (2, [("worker_loop", WORKER, 21, 15)], 10),
]
# expected per-function seconds (self, total) for the whole server profile
SERVER_SELF = {"compute": 0.60, "dumps": 0.20, "main": 0.10, "fetch": 0.30, "worker_loop": 0.10}
SERVER_TOTAL = {"<module>": 0.90, "main": 0.90, "Server.handle": 0.80, "compute": 0.60, "dumps": 0.20, "worker_loop": 0.40, "fetch": 0.30}
SERVER_SAMPLES = 130
SERVER_THREADS = {1: "MainThread", 2: "worker-1"}
SERVER_LAGS_MS = [1.0] * 95 + [200.0, 250.0, 300.0, 350.0, 400.0]
BLOCKING_START = 0.5
BLOCKING_MS = 120.0


def server_profile(counts: list[int] | None = None) -> Profile:
    """An asyncio server: two threads, 130 samples at 100 Hz, lag probes, one blocking event, three tasks.

    Samples are shuffled with a fixed seed over [0, 1.3) s, 10 ms apart.
    `counts` overrides the samples per SERVER_STACKS entry (to make a
    changed "new" run for diffs).
    """
    p = Profile(unit=UNIT_SECONDS, source_format="pyro")
    p.meta.update({"command": ["python", "server.py"], "pid": 4242, "python": "3.11.7", "rate_hz": RATE_HZ})
    for tid, name in SERVER_THREADS.items():
        p.ensure_thread(tid, name)
    stack_ids = []
    threads = []
    for (tid, frames, default), count in zip(SERVER_STACKS, counts or [c for *_, c in SERVER_STACKS], strict=True):
        del default
        sid = p.intern_stack_path([p.intern_frame(n, f, line, first) for n, f, line, first in frames])
        stack_ids += [sid] * count
        threads += [tid] * count
    order = np.random.default_rng(7).permutation(len(stack_ids))
    stacks = np.asarray(stack_ids, np.int32)[order]
    thread = np.asarray(threads, np.int32)[order]
    times = np.arange(len(stacks)) * WEIGHT
    tasks = np.where(thread == 1, 1, -1).astype(np.int32)
    p.add_samples(times, thread, stacks, tasks, WEIGHT)
    p.loops[0] = LoopInfo(0, 1, "asyncio main loop")
    lag_t = np.arange(len(SERVER_LAGS_MS)) * 0.013
    p.add_lag(lag_t, np.zeros(len(lag_t), np.int32), np.asarray(SERVER_LAGS_MS, np.float32) / 1000.0)
    block_stack = p.intern_stack_path(
        [p.intern_frame(n, f, line, first) for n, f, line, first in SERVER_STACKS[0][1]]
    )
    p.blocking.append(BlockingEvent(BLOCKING_START, BLOCKING_MS / 1000.0, loop=0, thread=1, stack=block_stack, task=1, callback="Task.__step"))
    p.tasks[1] = TaskInfo(1, None, "Task-1", "main()", loop=0, created=0.0, ended=1.29, state="done")
    p.tasks[2] = TaskInfo(2, 1, "fetch-a", "fetch()", loop=0, created=0.1, ended=0.4, state="cancelled")
    p.tasks[3] = TaskInfo(3, 1, "fetch-b", "fetch()", loop=0, created=0.2, ended=None, state="pending")
    p.telemetry.update({"samples_taken": SERVER_SAMPLES + 2, "samples_dropped": 2, "effective_rate_hz": 99.5})
    p.finish()
    return p


# (name, file, firstline, calls, prim_calls, self, total)
DETERMINISTIC_FUNCS = [
    ("main", "/srv/app/cli.py", 3, 1, 1, 0.05, 2.00),
    ("parse", "/srv/app/cli.py", 20, 200, 200, 0.75, 1.20),
    ("tokenize", "/srv/app/lex.py", 8, 5000, 5000, 0.45, 0.45),
    ("render", "/srv/app/out.py", 40, 10, 10, 0.75, 0.75),
]


def deterministic_profile() -> Profile:
    """A cProfile-like profile: function statistics with call counts, no samples."""
    p = Profile(unit=UNIT_SECONDS, source_format="pstats")
    p.meta["deterministic"] = True
    ids = [p.intern_function(name, file, line) for name, file, line, *_ in DETERMINISTIC_FUNCS]
    cols = list(zip(*DETERMINISTIC_FUNCS, strict=True))
    p.func_stats = FuncStats(
        clock="wall",
        func=np.asarray(ids, np.int32),
        calls=np.asarray(cols[3], np.int64),
        prim_calls=np.asarray(cols[4], np.int64),
        self_time=np.asarray(cols[5], np.float64),
        total_time=np.asarray(cols[6], np.float64),
        edge_caller=np.asarray([ids[0], ids[1], ids[0]], np.int32),
        edge_callee=np.asarray([ids[1], ids[2], ids[3]], np.int32),
        edge_calls=np.asarray([200, 5000, 10], np.int64),
        edge_self=np.asarray([0.75, 0.45, 0.75], np.float64),
        edge_total=np.asarray([1.20, 0.45, 0.75], np.float64),
    )
    p.finish()
    return p
