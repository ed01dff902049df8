"""Small hand-built profiles that both the analysis tests (tests/core) and the pane tests (tests/app)
check against: one builder each, so the two sides always test the same samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pyrometer.core.formats.recording import write_profile
from pyrometer.core.model import UNIT_SAMPLES, Profile

# stack (root first) -> samples; the sandwich of F is known by hand from these.
SANDWICH_STACKS: dict[tuple[str, ...], int] = {
    ("A", "B", "F", "C"): 3,
    ("X", "F", "F", "D"): 2,  # recursion: counted once
    ("F",): 1,
    ("A", "F"): 4,
    ("Y", "Z"): 5,  # no F: in neither tree
}


def stacks_profile(stacks: dict[tuple[str, ...], int]) -> Profile:
    """One thread, one sample (weight 1, unit samples) per count of each stack; every frame in /m.py."""
    p = Profile(unit=UNIT_SAMPLES)
    names = sorted({n for path in stacks for n in path})
    frames = {n: p.intern_frame(n, "/m.py", 1, 1) for n in names}
    ids: list[int] = []
    for path, n in stacks.items():
        ids += [p.intern_stack_path([frames[f] for f in path])] * n
    p.add_samples(np.arange(len(ids)) * 0.01, np.zeros(len(ids), np.int32), np.asarray(ids, np.int32), weight=1.0)
    p.finish()
    return p


def work_idle_profile(half: int, loop: int, loop_start: float = 0.0) -> Profile:
    """Thread 1 (MainThread): main>work for `half` samples then main>idle for `half` (10 ms each);
    thread 2 (worker): loop for `loop` samples from `loop_start`."""
    p = Profile()
    main = p.intern_frame("main", "/a.py", 1, 1)
    work = p.intern_frame("work", "/a.py", 5, 4)
    idle = p.intern_frame("idle", "/a.py", 9, 8)
    loop_frame = p.intern_frame("loop", "/b.py", 2, 1)
    s_work = p.intern_stack_path([main, work])
    s_idle = p.intern_stack_path([main, idle])
    s_loop = p.intern_stack_path([loop_frame])
    p.ensure_thread(1, "MainThread")
    p.ensure_thread(2, "worker")
    t = np.arange(2 * half) * 0.01
    p.add_samples(t, np.ones(2 * half, np.int32), np.array([s_work] * half + [s_idle] * half), weight=0.01)
    p.add_samples(np.arange(loop) * 0.01 + loop_start, np.full(loop, 2, np.int32), np.array([s_loop] * loop), weight=0.01)
    p.finish()
    return p


def one_function_recording(path: Path, name: str, file: str, line: int) -> Path:
    """A .pyro at `path` with one function sampled twice (10 ms each): for names exporters must escape."""
    p = Profile()
    sid = p.intern_stack_path([p.intern_frame(name, file, line)])
    p.add_samples([0.0, 0.01], 1, [sid, sid], weight=0.01)
    p.finish()
    write_profile(p, path)
    return path
