"""V8 CPU samples inside a Chrome DevTools trace (`Profile` / `ProfileChunk` events).

A DevTools Performance recording keeps the JavaScript profile as trace
events of phase `P`: one `Profile` event per profiled thread (`id`, and
`args.data.startTime` in microseconds) and `ProfileChunk` events with the same
`id` carrying `args.data.cpuProfile.nodes` (a call tree: `id`, `parent`,
`callFrame{functionName, url, lineNumber}`), `cpuProfile.samples` (node ids)
and `timeDeltas` (microseconds since the previous sample). Each sample stands
for the time until the next sample of its profile (the last one, whose end
the trace does not give, weighs nothing), which is how DevTools and
speedscope show them. A function is (name, url, def line): V8's `lineNumber`
is the 0-based line where the function starts. The `(root)` node is no
frame; `(program)`, `(idle)` and `(garbage collector)` are, as in DevTools.

When a trace holds such samples they are its profile (as speedscope reads
it); the timeline's `X`/`B`/`E` events, which wrap the same work in browser
tasks, are then left out with a notice rather than counted twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pyrometer.core.formats.registry import FormatError
from pyrometer.core.formats.stackbuild import INT32_MAX, ThreadIds
from pyrometer.core.model import Profile

_MAX_US = 4e15


def _data(ev: dict[str, Any]) -> dict[str, Any]:
    args = ev.get("args")
    data = args.get("data") if isinstance(args, dict) else None
    return data if isinstance(data, dict) else {}


def has_samples(events: list[Any]) -> bool:
    """True if some ProfileChunk carries samples."""
    for ev in events:
        if type(ev) is dict and ev.get("name") == "ProfileChunk":
            cpu = _data(ev).get("cpuProfile")
            if isinstance(cpu, dict) and cpu.get("samples"):
                return True
    return False


class _Stream:
    __slots__ = ("deltas", "nodes", "pid", "samples", "start", "tid")

    def __init__(self, pid: Any, tid: Any) -> None:
        self.pid, self.tid = pid, tid
        self.start: float | None = None
        self.nodes: dict[int, tuple[int | None, str, str, int]] = {}  # id -> (parent, name, url, def line)
        self.samples: list[int] = []
        self.deltas: list[float] = []


def _number(v: Any, where: str) -> float:
    if type(v) not in (int, float) or not -_MAX_US <= v <= _MAX_US:
        raise FormatError(f"{where}: expected a time in microseconds, got {v!r:.40}")
    return float(v)


def _streams(events: list[Any], path: Path) -> dict[tuple[Any, Any], _Stream]:
    streams: dict[tuple[Any, Any], _Stream] = {}
    for n, ev in enumerate(events):
        if type(ev) is not dict or ev.get("name") not in ("Profile", "ProfileChunk"):
            continue
        where = f"{path}: trace event {n}"
        pid, tid, ident = ev.get("pid", 0), ev.get("tid", 0), ev.get("id", "")
        if not all(isinstance(v, (int, str)) and not isinstance(v, bool) for v in (pid, tid, ident)):
            raise FormatError(f"{where}: pid/tid/id must be integers or strings")
        s = streams.get((pid, ident))
        if s is None:
            s = streams[(pid, ident)] = _Stream(pid, tid)
        data = _data(ev)
        if ev["name"] == "Profile":
            s.tid = tid  # the profiled thread (chunks may come from the profiler's own thread)
            if "startTime" in data:
                s.start = _number(data["startTime"], where)
            continue
        cpu = data.get("cpuProfile")
        if not isinstance(cpu, dict):
            continue
        for node in cpu.get("nodes") or []:
            if not isinstance(node, dict) or type(node.get("id")) is not int:
                raise FormatError(f"{where}: a cpuProfile node without an integer id")
            raw_call = node.get("callFrame")
            call: dict[str, Any] = raw_call if isinstance(raw_call, dict) else {}
            fn_name, fn_url = call.get("functionName"), call.get("url")
            name = fn_name if isinstance(fn_name, str) else ""
            url = fn_url if isinstance(fn_url, str) else ""
            line = call.get("lineNumber")
            def_line = line + 1 if type(line) is int and 0 <= line < INT32_MAX else 0
            parent = node.get("parent")
            s.nodes[node["id"]] = (parent if type(parent) is int else None, name or "(anonymous)", url, def_line)
        samples = cpu.get("samples") or []
        deltas = data.get("timeDeltas") or cpu.get("timeDeltas") or []
        if not isinstance(samples, list) or not isinstance(deltas, list) or len(samples) != len(deltas):
            raise FormatError(f"{where}: cpuProfile samples and timeDeltas differ in length")
        if not all(type(v) is int for v in samples):
            raise FormatError(f"{where}: cpuProfile samples must be node ids")
        s.samples.extend(samples)
        s.deltas.extend(_number(d, where) for d in deltas)
    return streams


def load_samples(events: list[Any], path: Path, profile: Profile) -> None:
    """Fill `profile` (fresh, seconds) with the trace's V8 samples; FormatError on malformed data."""
    thread_names: dict[tuple[Any, Any], str] = {}
    process_names: dict[Any, str] = {}
    timeline = 0
    for ev in events:
        if type(ev) is not dict:
            continue
        ph = ev.get("ph")
        if ph in ("X", "B"):
            timeline += 1
        elif ph == "M":
            args = ev.get("args")
            label = args.get("name") if isinstance(args, dict) else None
            if isinstance(label, str):
                try:
                    if ev.get("name") == "thread_name":
                        thread_names[(ev.get("pid", 0), ev.get("tid", 0))] = label
                    elif ev.get("name") == "process_name":
                        process_names[ev.get("pid", 0)] = label
                except TypeError:  # an unhashable pid/tid: no name for it
                    continue
    streams = [s for s in _streams(events, path).values() if s.samples]
    ids = ThreadIds(profile)
    pids = {s.pid for s in streams}
    batches: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
    for s in streams:
        stack_of: dict[int, int] = {}

        def stack(node_id: int, s: _Stream = s, stack_of: dict[int, int] = stack_of) -> int:
            """The stack of a node (root first; `(root)` is no frame), walking up iteratively."""
            path_ids: list[int] = []
            nid: int | None = node_id
            seen: set[int] = set()
            while nid is not None and nid not in stack_of:
                node = s.nodes.get(nid)
                if node is None or nid in seen:
                    raise FormatError(f"{path}: a cpuProfile sample refers to an unknown node {nid}")
                seen.add(nid)
                path_ids.append(nid)
                nid = node[0]
            sid = stack_of.get(nid, -1) if nid is not None else -1
            for pid_ in reversed(path_ids):
                _, name, url, line = s.nodes[pid_]
                if name == "(root)" and sid == -1 and s.nodes[pid_][0] is None:
                    stack_of[pid_] = -1
                    continue
                sid = profile.intern_stack(sid, profile.intern_frame(name, url, line, line))
                stack_of[pid_] = sid
            return stack_of[node_id]

        start = s.start or 0.0
        t = start + np.cumsum(np.asarray(s.deltas, np.float64))
        order = np.argsort(t, kind="stable")
        t = t[order]
        w = np.append(np.diff(t), 0.0)
        stacks = np.asarray([stack(s.samples[i]) for i in order.tolist()], np.int32)
        keep = stacks >= 0  # samples in `(root)` alone stand for nothing
        name = thread_names.get((s.pid, s.tid)) or f"thread {s.tid}"
        if len(pids) > 1:
            name = f"{name} ({process_names.get(s.pid) or f'pid {s.pid}'})"
        tid = ids.get((s.pid, s.tid), s.tid if isinstance(s.tid, int) else None, name)
        batches.append((tid, t[keep], stacks[keep], w[keep]))
    t0 = min((float(b[1][0]) for b in batches if len(b[1])), default=0.0)
    for tid, t, st, w in batches:
        if len(t):
            profile.add_samples((t - t0) * 1e-6, np.full(len(t), tid, np.int32), st, weight=w / 1e6)  # / 1e6: exact µs, not * 1e-6
    if not len(profile.samples):
        raise FormatError(f"{path}: the trace's CPU profile has no samples")
    if timeline:
        profile.notices.append(
            {
                "level": "info",
                "message": f"{path}: read the JavaScript CPU samples; the {timeline:,} timeline events "
                "(browser tasks around the same work) are not counted again",
            }
        )
