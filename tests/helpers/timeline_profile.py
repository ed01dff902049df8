"""A two-thread profile with lag, one blocking event and two tasks: the timeline's tests share it."""

from __future__ import annotations

import numpy as np

from pyrometer.core.model import BlockingEvent, LoopInfo, Profile, TaskInfo


def make_profile() -> Profile:
    """Thread 1 (MainThread): on CPU 0–1 s, waiting 1–2 s; thread 2 (worker): on CPU 0–2 s.

    Samples every 10 ms with weight 0.01 s; cpu = 0.01 (on) or 0 (waiting).
    A lag curve, one blocking event at 0.5 s for 0.2 s, two tasks.
    """
    p = Profile()
    p.ensure_thread(1, "MainThread")
    p.ensure_thread(2, "worker-1")
    p.loops[0] = LoopInfo(0, 1)
    f = p.intern_frame("work", "/srv/app.py", 3, 1)
    s = p.intern_stack_path([f])
    t = np.arange(200) * 0.01
    both_t = np.concatenate([t, t])
    threads = np.concatenate([np.full(200, 1), np.full(200, 2)]).astype(np.int32)
    cpu = np.concatenate([np.where(t < 1.0 - 1e-9, 0.01, 0.0), np.full(200, 0.01)]).astype(np.float32)
    order = np.argsort(both_t, kind="stable")
    p.add_samples(both_t[order], threads[order], np.full(400, s), weight=0.01, cpu=cpu[order])
    p.add_lag(np.arange(20) * 0.1, np.zeros(20, np.int32), np.full(20, 0.002, np.float32))
    p.blocking.append(BlockingEvent(start=0.5, duration=0.2, loop=0, thread=1, stack=s))
    p.tasks[1] = TaskInfo(1, None, "main", "main()", created=0.0)
    p.tasks[2] = TaskInfo(2, 1, "fetch", "fetch()", created=0.2, ended=0.9, state="done")
    p.finish()
    return p
