"""A small agent stream (meta, two frames, one stack, one thread, 10 samples per batch) for the
collector tests: the bytes an agent would send, without running one."""

from __future__ import annotations

import time

from pyrometer.core.agent import wire


def small_stream(n_batches: int) -> bytes:
    parts = [
        wire.json_frame(wire.META, {"pid": 1, "start_wall": time.time() - 1.0}),
        wire.frames_frame([(0, "a.py", 1, "outer", 1), (1, "a.py", 5, "inner", 4)]),
        wire.stacks_frame(0, [-1, 0], [0, 1]),
        wire.json_frame(wire.THREADS, [[0, "MainThread", 10]]),
    ]
    for i in range(n_batches):
        t = [i * 0.1 + k * 0.01 for k in range(10)]
        parts.append(wire.samples_frame(t, [0] * 10, [1] * 10, [-1] * 10, [0.01] * 10, [-1.0] * 10))
    return b"".join(parts)
