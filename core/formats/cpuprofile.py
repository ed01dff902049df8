"""V8 / Node `.cpuprofile` (`node --cpu-prof`, Chrome DevTools' "Save profile"): import.

The file is a node tree (`nodes`, each with a `callFrame` and `children` ids)
plus one node id per sample (`samples`) and the microseconds since the
previous sample (`timeDeltas`, the first one from `startTime`). As in Chrome
DevTools, a sample lasts until the next one and the last until `endTime`;
deltas may be negative (V8 records samples slightly out of order), so samples
are ordered by time first. The synthetic `(root)` node is dropped from stacks;
`(program)`, `(idle)` and `(garbage collector)` stay, as DevTools shows them.
The older nested form (`head` with inline `children`, `timestamps`) is read too.
V8's `lineNumber` is 0-based; ours are 1-based.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from pyrometer.core.formats import jsonload
from pyrometer.core.formats.registry import FormatError, Importer, ProgressFn
from pyrometer.core.formats.stackbuild import StackBuilder
from pyrometer.core.model import UNIT_SECONDS, Profile

_NODES = re.compile(rb'^\s*\{\s*"(nodes|head)"\s*:')


def _sniff(head: bytes, path: Path) -> bool:
    if not head.lstrip()[:1] == b"{" or b'"traceEvents"' in head:
        return False
    if _NODES.match(head) and b'"callFrame"' in head:
        return True
    return b'"callFrame"' in head and b'"timeDeltas"' in head and b'"nodes"' in head


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or abs(value) > 2**62:
        raise FormatError(f"{where} must be a number, not {value!r}")
    return int(value)


def _flatten_head(head: Any, path: Path) -> list[dict[str, Any]]:
    """The old nested tree -> the flat `nodes` list (iteratively: deep trees are fine)."""
    out: list[dict[str, Any]] = []
    todo = [head]
    while todo:
        node = todo.pop()
        if not isinstance(node, dict):
            raise FormatError(f"{path}: a profile node is not an object")
        kids = node.get("children") or []
        if not isinstance(kids, list):
            raise FormatError(f"{path}: node children must be a list")
        frame = {k: node.get(k) for k in ("functionName", "url", "lineNumber", "columnNumber")}
        out.append({"id": node.get("id"), "callFrame": frame, "children": [k.get("id") if isinstance(k, dict) else None for k in kids]})
        todo.extend(reversed(kids))
    return out


def _frame(profile: Profile, call: Any, path: Path) -> int:
    if not isinstance(call, dict):
        raise FormatError(f"{path}: node without a callFrame")
    name = call.get("functionName")
    url = call.get("url")
    line = call.get("lineNumber")
    name = name if isinstance(name, str) and name else "(anonymous)"
    url = url if isinstance(url, str) else ""
    line_no = int(line) + 1 if isinstance(line, int) and not isinstance(line, bool) and 0 <= line < 2**31 - 1 else 0
    return profile.intern_frame(name, url, line_no, line_no)


def _load(path: Path, progress: ProgressFn | None) -> Profile:
    doc = jsonload.load_json(path)
    if not isinstance(doc, dict):
        raise FormatError(f"{path}: not a .cpuprofile (top level is not an object)")
    nodes = doc.get("nodes")
    if nodes is None and "head" in doc:
        nodes = _flatten_head(doc["head"], path)
    if not isinstance(nodes, list):
        raise FormatError(f"{path}: not a .cpuprofile (no 'nodes' list)")
    samples = doc.get("samples", [])
    if not isinstance(samples, list):
        raise FormatError(f"{path}: 'samples' must be a list")
    if progress:
        progress(0.3)
    profile = Profile(UNIT_SECONDS, "cpuprofile")
    by_id: dict[int, dict[str, Any]] = {}
    parent: dict[int, int] = {}
    for i, node in enumerate(nodes):
        if not isinstance(node, dict):
            raise FormatError(f"{path}: node {i} is not an object")
        nid = _int(node.get("id"), f"{path}: node {i} id")
        if nid in by_id:
            raise FormatError(f"{path}: node id {nid} defined twice")
        by_id[nid] = node
    for nid, node in by_id.items():
        kids = node.get("children") or []
        if not isinstance(kids, list):
            raise FormatError(f"{path}: node {nid} children must be a list")
        for kid in kids:
            k = _int(kid, f"{path}: a child of node {nid}")
            if k not in by_id:
                raise FormatError(f"{path}: node {nid} has undefined child {k}")
            if k in parent:
                raise FormatError(f"{path}: node {k} has two parents")
            parent[k] = nid
        if "parent" in node and nid not in parent and node["parent"] is not None:  # some writers give parents
            parent[nid] = _int(node["parent"], f"{path}: node {nid} parent")

    builder = StackBuilder(profile)
    stack_of: dict[int, int] = {}

    def stack(nid: int) -> int:
        chain: list[int] = []
        n: int | None = nid
        while n is not None and n not in stack_of:
            if len(chain) > len(by_id):
                raise FormatError(f"{path}: node parents form a cycle")
            chain.append(n)
            n = parent.get(n)
        sid = stack_of[n] if n is not None else -1
        for m in reversed(chain):
            call = by_id[m].get("callFrame")
            if parent.get(m) is None and isinstance(call, dict) and call.get("functionName") == "(root)":
                stack_of[m] = sid = -1
                continue
            sid = builder.intern(sid, _frame(profile, call, path))
            stack_of[m] = sid
        return sid

    ids = []
    for s in samples:
        nid = _int(s, f"{path}: sample")
        if nid not in by_id:
            raise FormatError(f"{path}: sample refers to undefined node {nid}")
        ids.append(stack(nid))
    n = len(ids)
    start = float(_int(doc.get("startTime", 0), f"{path}: startTime"))
    end = doc.get("endTime")
    if "timeDeltas" in doc:
        deltas = doc["timeDeltas"]
        if not isinstance(deltas, list) or len(deltas) != n:
            raise FormatError(f"{path}: {len(deltas) if isinstance(deltas, list) else 'no'} timeDeltas for {n} samples")
        t = start + np.cumsum(np.asarray([_int(d, f"{path}: timeDelta") for d in deltas], np.float64))
    elif "timestamps" in doc:  # old format: absolute microseconds, startTime in seconds
        stamps = doc["timestamps"]
        if not isinstance(stamps, list) or len(stamps) != n:
            raise FormatError(f"{path}: timestamps do not match the samples")
        t = np.asarray([_int(x, f"{path}: timestamp") for x in stamps], np.float64)
        start = float(t[0]) if n else 0.0
        end = None
    else:
        raise FormatError(f"{path}: samples without timeDeltas")
    order = np.argsort(t, kind="stable")
    t = t[order]
    stacks = np.asarray(ids, np.int32)[order] if n else np.zeros(0, np.int32)
    stop = float(_int(end, f"{path}: endTime")) if end is not None else (float(t[-1]) if n else start)
    weights = np.diff(np.append(t, max(stop, float(t[-1]) if n else stop)))
    builder.flush()
    if n:
        origin = float(t[0])
        profile.add_samples((t - origin) * 1e-6, np.zeros(n, np.int32), stacks, weight=weights / 1e6)  # / 1e6: exact µs, not * 1e-6
    profile.ensure_thread(0, "main")
    if progress:
        progress(1.0)
    return profile


IMPORTER = Importer("cpuprofile", "V8 .cpuprofile", (".cpuprofile",), _sniff, _load)
