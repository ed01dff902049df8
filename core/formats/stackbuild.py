"""Shared pieces of the text/JSON importers: bulk stack interning, frame labels, thread ids.

Importers see each distinct stack once and intern it here into local lists;
`flush()` hands the whole prefix tree to the Profile in one numpy batch
(`Profile.add_stack_definitions`), which is far cheaper than one
`intern_stack` call per node on files with hundreds of thousands of nodes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from pyrometer.core.model import Profile
from pyrometer.core.prefix_tree import PrefixTree

INT32_MAX = 2**31 - 1

# `func (file.py:12)`, `func (file.py)` -- py-spy, VizTracer and our own labels.
_LABEL = re.compile(r"^(?P<name>.*?) \((?P<file>.*?)(?::(?P<line>\d+))?\)$", re.DOTALL)


def split_label(label: str) -> tuple[str, str, int]:
    """`name (file:line)` -> (name, file, line); anything else is a bare name."""
    m = _LABEL.match(label)
    if m is None or not m.group("name"):
        return label, "", 0
    line = m.group("line")
    return m.group("name"), m.group("file"), int(line) if line and len(line) < 10 else 0


def frame_label(name: str, file: str, line: int) -> str:
    """Inverse of `split_label`."""
    if not file:
        return name
    return f"{name} ({file}:{line})" if line else f"{name} ({file})"


class StackBuilder(PrefixTree):
    """Interns root-first frame paths into a fresh Profile's stack table in bulk."""

    def __init__(self, profile: Profile) -> None:
        if len(profile.stacks):
            raise ValueError("StackBuilder needs a profile without stacks")
        super().__init__()
        self.profile = profile
        self._flushed = 0

    def flush(self) -> None:
        """Hand stacks interned since the last flush to the profile."""
        start = self._flushed
        if start == len(self.parent):
            return
        self.profile.add_stack_definitions(
            start,
            np.asarray(self.parent[start:], np.int32),
            np.asarray(self.frame[start:], np.int32),
        )
        self._flushed = len(self.parent)


class ThreadIds:
    """Maps a source's thread keys to int32 thread ids, keeping native ids when they fit."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.by_key: dict[object, int] = {}
        self._next = 0

    def get(self, key: object, native: int | None = None, name: str | None = None) -> int:
        tid = self.by_key.get(key)
        if tid is None:
            used = self.profile.threads
            if native is not None and 0 <= native <= INT32_MAX and native not in used:
                tid = native
            else:
                while self._next in used:
                    self._next += 1
                tid = self._next
            self.by_key[key] = tid
            info = self.profile.ensure_thread(tid, name or (f"thread {native}" if native is not None else None))
            if native is not None:
                info.native_id = native
        elif name:
            self.profile.ensure_thread(tid, name)
        return tid


def exclusive_cumsum(weights: np.ndarray) -> np.ndarray:
    """Start offset of each weighted sample laid end to end (float64)."""
    out = np.empty(len(weights), np.float64)
    if len(weights):
        out[0] = 0.0
        np.cumsum(weights[:-1], dtype=np.float64, out=out[1:])
    return out


def whole_counts(values: np.ndarray) -> np.ndarray:
    """Sums of weights as the int64 counts an export writes, adding up to their rounded total.

    Integers (the weights a file stated) come back as they are. Fractions (a call tree synthesized from
    callgrind or pstats costs splits a function's cost among its callers) are rounded so that the
    running sum stays the rounded running sum: each count is off by less than one, and the counts add
    up to the source's total instead of drifting by a rounding per line.
    """
    if not len(values):
        return np.zeros(0, np.int64)
    running = np.rint(np.cumsum(values, dtype=np.float64))
    return np.diff(running, prepend=0.0).astype(np.int64)  # type: ignore[no-any-return]


def stack_paths(profile: Profile, used: Iterable[int]) -> dict[int, list[int]]:
    """Root-first frame ids of the stacks in `used` (only those: deep trees stay cheap)."""
    parents = profile.stacks["parent"].tolist()
    frames = profile.stacks["frame"].tolist()
    out: dict[int, list[int]] = {}
    for sid in used:
        path: list[int] = []
        s = int(sid)
        while s >= 0:
            path.append(frames[s])
            s = parents[s]
        path.reverse()
        out[int(sid)] = path
    return out


def used_stacks(profile: Profile) -> list[int]:
    """Distinct non-empty stack ids that samples refer to."""
    ids = np.unique(profile.samples["stack"])
    return ids[ids >= 0].tolist()
