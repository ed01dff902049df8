"""An agent-like profile of any size for the level-of-detail tests (timeline, stack chart, lag curve)."""

from __future__ import annotations

import numpy as np

from pyrometer.core.model import LoopInfo, Profile


def agent_like_profile(n: int, seed: int = 1, threads: int = 3) -> Profile:
    """An agent-like profile: threads sampled in turn every ~10 ms, on/off CPU in runs, a lag probe every 10 ms."""
    rng = np.random.default_rng(seed)
    p = Profile()
    p.meta["agent_version"] = "test"
    frames = [p.intern_frame(f"f{i}", "/a.py", i) for i in range(10)]
    stacks = [p.intern_stack_path([frames[j] for j in rng.integers(0, 10, 1 + i % 6)]) for i in range(30)]
    ticks = n // threads
    t = np.repeat(np.arange(ticks) * 0.01, threads) + np.tile(np.arange(threads) * 0.001, ticks) + 0.01
    thread = np.tile(np.arange(threads, dtype=np.int32), ticks)
    on = (np.cumsum(rng.random(len(t)) < 0.05) % 2).astype(bool)
    cpu = np.where(on, 0.0095, 0.0001).astype(np.float32)
    # stacks change in runs too (a stack chart of random stacks per sample would be all edges)
    stack = np.asarray(stacks, np.int32)[np.cumsum(rng.random(len(t)) < 0.1) % len(stacks)]
    p.add_samples(t, thread, stack, weight=np.float32(0.01), cpu=cpu)
    p.loops[0] = LoopInfo(0, 0, "loop")
    lag_t = np.arange(0.0, float(t[-1]), 0.01)
    p.add_lag(lag_t, np.zeros(len(lag_t), np.int32), rng.gamma(1.5, 0.002, len(lag_t)).astype(np.float32))
    p.finish()
    return p
