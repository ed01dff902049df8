"""An interned (parent, frame) prefix tree kept in plain lists, for building stack tables fast.

Stacks are a prefix tree (as in the Firefox Profiler): a node is
`(parent node, frame)`, interned once, parents before children. Importers
build one before handing it to a Profile in one batch; transforms build one
per step. Lists and a dict beat numpy here: nodes arrive one at a time.
"""

from __future__ import annotations

from collections.abc import Iterable


class PrefixTree:
    """Nodes `(parent, frame)`; -1 is the root (the empty stack)."""

    def __init__(self) -> None:
        self.parent: list[int] = []
        self.frame: list[int] = []
        self.index: dict[tuple[int, int], int] = {}

    def __len__(self) -> int:
        return len(self.parent)

    def intern(self, parent: int, frame: int) -> int:
        key = (parent, frame)
        node = self.index.get(key)
        if node is None:
            node = len(self.parent)
            self.index[key] = node
            self.parent.append(parent)
            self.frame.append(frame)
        return node

    def path(self, frames: Iterable[int]) -> int:
        """Node of a root-first frame path; -1 for an empty path."""
        index, parent, frame = self.index, self.parent, self.frame  # inlined `intern`: importers call this per sample
        node = -1
        for fr in frames:
            key = (node, fr)
            nxt = index.get(key)
            if nxt is None:
                nxt = len(parent)
                index[key] = nxt
                parent.append(node)
                frame.append(fr)
            node = nxt
        return node
