"""pyinstrument session JSON (`pyinstrument -r session -o FILE`, `Session.save`): import.

A session is a list of `frame_records`: `[call_stack, seconds]`, root first,
each sample lasting `seconds` since the previous one. A frame is
`function\\x00file\\x00firstline` followed by attributes, each after `\\x01`:
`l<line>` the executing line, `c<Class>` the class of a method, `h` a frame
hidden from tracebacks. pyinstrument 5 puts the thread first
(`MainThread\\x00<thread>\\x00<ident>`); that becomes the thread. Synthetic
frames such as `[await]` have no separators and stay as they are. As
pyinstrument's own `root_frame()` does, the stem of the profiler's own frames
(`start_call_stack`) is trimmed while no sample ends in it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from pyrometer.core.formats import jsonload
from pyrometer.core.formats.registry import FormatError, Importer, ProgressFn
from pyrometer.core.formats.stackbuild import StackBuilder, ThreadIds
from pyrometer.core.model import UNIT_SECONDS, Profile

_KEYS = re.compile(rb'"(frame_records|start_call_stack|min_interval)"')
MAX_WEIGHT = 1e38


def _sniff(head: bytes, path: Path) -> bool:
    return head.lstrip()[:1] == b"{" and len(set(_KEYS.findall(head))) >= 2


def _identifier(info: str) -> str:
    return info.split("\x01", 1)[0]


def _frame(profile: Profile, info: str, cache: dict[str, int]) -> int:
    fr = cache.get(info)
    if fr is not None:
        return fr
    ident, *attrs = info.split("\x01")
    parts = ident.split("\x00")
    name, file, first = (parts[0], parts[1], parts[2]) if len(parts) >= 3 else (ident, "", "0")
    line = first_line = int(first) if first.isdigit() and len(first) < 10 else 0
    for attr in attrs:
        if attr.startswith("l") and attr[1:].isdigit() and len(attr) < 11:
            line = int(attr[1:])
        elif attr.startswith("c") and len(attr) > 1:
            name = f"{attr[1:]}.{name}"
    fr = cache[info] = profile.intern_frame(name, file, line, first_line)
    return fr


def _thread(info: str) -> tuple[str, int | None] | None:
    parts = _identifier(info).split("\x00")
    if len(parts) == 3 and parts[1] == "<thread>":
        return parts[0], int(parts[2]) if parts[2].isdigit() and len(parts[2]) < 20 else None
    return None


def _stem(records: list[Any], start_stack: list[str]) -> int:
    """How many leading frames pyinstrument's `_trim_stem` drops: it walks down from the
    root while the node has no self time, one child, and that child is the next frame of
    `start_call_stack`; the node where it stops becomes the root."""
    ids = [_identifier(x) for x in start_stack]
    if not records or not ids or any(not stack or _identifier(stack[0]) != ids[0] for stack, _ in records):
        return 0
    depth = 0
    while depth + 1 < len(ids):
        if any(len(stack) <= depth + 1 or _identifier(stack[depth + 1]) != ids[depth + 1] for stack, _ in records):
            break
        depth += 1
    return depth


def _load(path: Path, progress: ProgressFn | None) -> Profile:
    doc = jsonload.load_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("frame_records"), list):
        raise FormatError(f"{path}: not a pyinstrument session (no 'frame_records' list)")
    records = doc["frame_records"]
    for i, rec in enumerate(records):
        if (
            not isinstance(rec, list)
            or len(rec) != 2
            or not isinstance(rec[0], list)
            or not all(isinstance(x, str) for x in rec[0])
            or isinstance(rec[1], bool)
            or not isinstance(rec[1], (int, float))
            or not 0 <= rec[1] <= MAX_WEIGHT
        ):
            raise FormatError(f"{path}: frame record {i} is not [[frames...], seconds]")
    if progress:
        progress(0.3)
    start_stack = doc.get("start_call_stack")
    skip = _stem(records, start_stack) if isinstance(start_stack, list) and all(isinstance(x, str) for x in start_stack) else 0
    profile = Profile(UNIT_SECONDS, "pyinstrument")
    for key in ("target_description", "cpu_time", "sample_count"):
        if isinstance(doc.get(key), (str, int, float)) and not isinstance(doc.get(key), bool):
            profile.meta[key] = doc[key]
    if isinstance(doc.get("start_time"), (int, float)) and not isinstance(doc.get("start_time"), bool):
        profile.meta["start_wall"] = float(doc["start_time"])
    builder = StackBuilder(profile)
    threads = ThreadIds(profile)
    cache: dict[str, int] = {}
    stacks, tids, weights = [], [], []
    for stack, seconds in records:
        thread = _thread(stack[0]) if stack else None
        tid = threads.get(thread or "", thread[1] if thread else None, thread[0] if thread else "main")
        first = max(skip, 1 if thread else 0)
        stacks.append(builder.path([_frame(profile, info, cache) for info in stack[first:]]))
        tids.append(tid)
        weights.append(float(seconds))
    builder.flush()
    w = np.asarray(weights, np.float64)
    times = np.concatenate([[0.0], np.cumsum(w)[:-1]]) if len(w) else w
    profile.add_samples(times, np.asarray(tids, np.int32), np.asarray(stacks, np.int32), weight=w)
    if progress:
        progress(1.0)
    return profile


IMPORTER = Importer("pyinstrument", "pyinstrument session", (".pyisession", ".session.json"), _sniff, _load)
