"""Exact call statistics of nested spans (trace events): one span is one call.

A tracer such as VizTracer writes one complete event per call, so the calls
are known exactly and must not be guessed from time. The importer nests each
thread's spans and tells this accumulator, per span, its function, its
caller's function, its (clipped) duration and its own self time. A span of a
function that is already open on its thread is a recursive call: it counts as
a call but not as a primitive one, and its time is already inside the outer
call's total, as in cProfile.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from pyrometer.core.model import FuncStats


class SpanCalls:
    """Per-function calls, primitive calls, self and total time (integer ns) and caller edges."""

    def __init__(self, frame_func: list[int]) -> None:
        self.frame_func = frame_func
        self.calls: dict[int, int] = defaultdict(int)
        self.prim: dict[int, int] = defaultdict(int)
        self.self_ns: dict[int, int] = defaultdict(int)
        self.total_ns: dict[int, int] = defaultdict(int)
        self.edges: dict[tuple[int, int], list[int]] = {}  # (caller, callee) -> [calls, self ns, total ns]

    def add(self, func: int, caller: int, duration_ns: int, self_ns: int, recursive: bool) -> None:
        """One call of `func` from `caller` (-1: none)."""
        self.calls[func] += 1
        self.self_ns[func] += self_ns
        if not recursive:
            self.prim[func] += 1
            self.total_ns[func] += duration_ns
        if caller >= 0:
            e = self.edges.setdefault((caller, func), [0, 0, 0])
            e[0] += 1
            e[1] += self_ns
            if not recursive:
                e[2] += duration_ns

    def func_stats(self, scale: float) -> FuncStats | None:
        """The statistics in seconds (`scale` per ns), or None when no span was seen."""
        funcs = sorted(self.calls)
        if not funcs:
            return None
        edges = sorted(self.edges.items())
        return FuncStats(
            clock="wall",
            func=np.asarray(funcs, np.int32),
            calls=np.asarray([self.calls[f] for f in funcs], np.int64),
            prim_calls=np.asarray([self.prim[f] for f in funcs], np.int64),
            self_time=np.asarray([self.self_ns[f] for f in funcs], np.float64) * scale,
            total_time=np.asarray([self.total_ns[f] for f in funcs], np.float64) * scale,
            edge_caller=np.asarray([k[0] for k, _ in edges], np.int32),
            edge_callee=np.asarray([k[1] for k, _ in edges], np.int32),
            edge_calls=np.asarray([v[0] for _, v in edges], np.int64),
            edge_self=np.asarray([v[1] for _, v in edges], np.float64) * scale,
            edge_total=np.asarray([v[2] for _, v in edges], np.float64) * scale,
        )
