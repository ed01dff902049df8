"""Weight per stack of frame labels, and self/total per function name from it: how the importer
tests read a loaded profile back without going through our own analysis code."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pyrometer.core.model import Profile


def stacks_by_thread_name(p: Profile) -> Counter[tuple[str, tuple[str, ...]]]:
    """Weight per (thread name, root-first frame labels)."""
    out: Counter[tuple[str, tuple[str, ...]]] = Counter()
    for t, s, w in zip(p.samples["thread"].tolist(), p.samples["stack"].tolist(), p.samples["weight"].tolist(), strict=True):
        out[(p.threads[t].name, tuple(p.frame_label(f) for f in p.stack_frames(s)))] += w
    return out


def self_and_total(stacks: Counter[tuple[Any, tuple[str, ...]]]) -> tuple[Counter[str], Counter[str]]:
    """Self and total weight per function name, from labels `name (file:line)`; total counts a
    function once per stack, however often it recurs there."""
    self_t: Counter[str] = Counter()
    total_t: Counter[str] = Counter()
    for (_, labels), w in stacks.items():
        names = [label.split(" (")[0] for label in labels]
        if names:
            self_t[names[-1]] += w
        for name in set(names):
            total_t[name] += w
    return self_t, total_t
