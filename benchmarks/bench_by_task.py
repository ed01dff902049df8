"""By-task benchmark (issue 13, item 3): what the "By task" view costs on a big profile.

A synthetic profile, deterministic from a seed: --samples samples (1,000,000)
over 2,000 stacks of depth 5-24, --tasks asyncio tasks (20,000; 99 children
of one root, the rest spread under them), each task's samples on 3 of the
stacks. This is a worst case: every task has stacks of its own, so the view
holds about one stack per (task, stack prefix). Prints, in one run:

  first build     by_task_view of the whole profile (toggling "By task" on)
  tree (view)     call_tree of the by-task view / of the plain profile
  live sync       by_task_view after 50 new tasks and 1,000 samples arrive (one refresh)
  tree after      call_tree of the grown view

Not a test: it prints, it does not assert.

    .venv/bin/python benchmarks/bench_by_task.py [--samples 1000000] [--tasks 20000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from pyrometer.core.analysis.calltree import call_tree
from pyrometer.core.analysis.task_stacks import by_task_view
from pyrometer.core.model import Profile, TaskInfo


def synthetic(samples: int, tasks: int, seed: int = 1) -> tuple[Profile, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = Profile()
    frames = [p.intern_frame(f"f{i}", "/app.py", i + 1, i + 1) for i in range(200)]
    stacks = np.asarray(
        [p.intern_stack_path([frames[(k * 7 + d * 13) % 200] for d in range(5 + k % 20)]) for k in range(2000)], np.int32
    )
    for t in range(tasks):
        parent = None if t == 0 else (0 if t < 100 else int(rng.integers(1, 100)))
        p.tasks[t] = TaskInfo(t, parent, f"t{t}", "c", created=0.0)
    task = rng.integers(-1, tasks, samples).astype(np.int32)
    stack = stacks[(task.astype(np.int64) * 3 + rng.integers(0, 3, samples)) % len(stacks)]
    p.add_samples(np.arange(samples) * 1e-3, np.zeros(samples, np.int32), stack, task=task, weight=1e-3)
    return p, stacks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--tasks", type=int, default=20_000)
    args = ap.parse_args()
    p, stacks = synthetic(args.samples, args.tasks)
    t0 = time.perf_counter()
    view = by_task_view(p)
    t1 = time.perf_counter()
    call_tree(view)
    t2 = time.perf_counter()
    call_tree(p)
    t3 = time.perf_counter()
    print(f"profile       {args.samples:,} samples, {args.tasks:,} tasks, {len(p.stacks):,} stacks")
    print(f"first build   {t1 - t0:.2f} s ({len(view.stacks):,} stacks in the view)")
    print(f"tree (view)   {t2 - t1:.2f} s   tree (plain) {t3 - t2:.2f} s")
    n = args.tasks
    for t in range(n, n + 50):
        p.tasks[t] = TaskInfo(t, 1, f"t{t}", "c", created=1.0)
    k = 1000
    rng = np.random.default_rng(2)
    p.add_samples(
        args.samples * 1e-3 + np.arange(k) * 1e-3,
        np.zeros(k, np.int32),
        stacks[:k],
        task=rng.integers(n, n + 50, k).astype(np.int32),
        weight=1e-3,
    )
    t0 = time.perf_counter()
    again = by_task_view(p)
    t1 = time.perf_counter()
    call_tree(again)
    t2 = time.perf_counter()
    print(f"live sync     {t1 - t0:.3f} s (same view: {again is view})")
    print(f"tree after    {t2 - t1:.3f} s")


if __name__ == "__main__":
    main()
