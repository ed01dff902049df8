"""Firefox-Profiler-style transforms that reshape stacks before any analysis.

`apply_transform` returns a derived Profile (`Profile.derive`) whose stack
table is remapped and whose samples, blocking events and await snapshots
point at the new stacks; every other table is shared with the source, and
every analysis then runs on it unchanged. Steps apply in a fixed order — my code only, merge, collapse
recursion, focus on a path, focus on a function — so a path or function the
user picked in an already-simplified tree still matches.

Each step maps an input prefix tree to an output prefix tree one node at a
time (parents before children), so the work is incremental: when the live
model gains stacks only the new ones are mapped. Function ids are those of
the source profile; only "my code only" adds one synthetic "[library]"
function (appended after the source's functions, so its id may change when the
source gains functions).
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from pyrometer.core.analysis.align import align_functions
from pyrometer.core.analysis.classify import classify_file
from pyrometer.core.analysis.on_cpu import on_cpu_view
from pyrometer.core.analysis.stall_steps import steps_restacked
from pyrometer.core.analysis.task_stacks import by_task_view
from pyrometer.core.columns import ColumnTable
from pyrometer.core.model import AWAIT_DTYPES, SAMPLE_DTYPES, Profile, unchanged
from pyrometer.core.prefix_tree import PrefixTree

LIBRARY_NAME = "[library]"
DROP = -2  # a sample at this node is left out; -1 means "the empty stack"


@dataclass(frozen=True)
class Transform:
    """What to do to every stack; the default changes nothing."""

    focus_function: int | None = None
    focus_path: tuple[int, ...] | None = None
    merge_functions: frozenset[int] = frozenset()
    collapse_recursion: frozenset[int] | bool = False
    my_code_only: bool = False

    def is_identity(self) -> bool:
        return (
            self.focus_function is None
            and self.focus_path is None
            and not self.merge_functions
            and not self.collapse_recursion
            and not self.my_code_only
        )


class _Step:
    """Maps input tree nodes to output tree nodes, one new input node at a time.

    `state[n]` is the output node a child of input node n hangs under (-1: the
    root); `out[n]` is where a sample at n goes (an output node, -1, or DROP).
    """

    empty_out = -1  # where a sample with the empty stack goes

    def __init__(self, frame_func: list[int]) -> None:
        self.frame_func = frame_func
        self.tree = PrefixTree()
        self.state: list[int] = []
        self.out: list[int] = []

    def feed(self, parents: list[int], frames: list[int]) -> None:
        for p, fr in zip(parents, frames, strict=True):
            s, o = self.step(p, fr)
            self.state.append(s)
            self.out.append(o)

    def step(self, parent: int, frame: int) -> tuple[int, int]:
        raise NotImplementedError

    def parent_state(self, parent: int) -> int:
        return -1 if parent < 0 else self.state[parent]


class _Drop(_Step):
    """Remove frames of some functions (merge into caller / hide library code)."""

    def __init__(self, frame_func: list[int], dropped: set[int], library_frame: int = -1) -> None:
        super().__init__(frame_func)
        self.dropped = dropped
        self.library_frame = library_frame

    def step(self, parent: int, frame: int) -> tuple[int, int]:
        ps = self.parent_state(parent)
        if self.frame_func[frame] not in self.dropped:
            s = self.tree.intern(ps, frame)
            return s, s
        if ps < 0 and self.library_frame >= 0:
            return ps, self.tree.intern(-1, self.library_frame)
        return ps, ps


class _Collapse(_Step):
    """Consecutive frames of one (recursive) function become one frame (the outermost)."""

    def __init__(self, frame_func: list[int], funcs: frozenset[int] | None) -> None:
        super().__init__(frame_func)
        self.funcs = funcs  # None: every function

    def step(self, parent: int, frame: int) -> tuple[int, int]:
        ps = self.parent_state(parent)
        f = self.frame_func[frame]
        if ps >= 0 and self.frame_func[self.tree.frame[ps]] == f and (self.funcs is None or f in self.funcs):
            return ps, ps
        s = self.tree.intern(ps, frame)
        return s, s


class _FocusPath(_Step):
    """Keep samples under one call path (function ids, outermost first), re-rooted at its end."""

    empty_out = DROP

    def __init__(self, frame_func: list[int], path: tuple[int, ...]) -> None:
        super().__init__(frame_func)
        self.path = path
        self.matched: list[int] = []  # prefix functions matched so far, -1 = off the path

    def feed(self, parents: list[int], frames: list[int]) -> None:
        path, n = self.path, len(self.path)
        for p, fr in zip(parents, frames, strict=True):
            m = 0 if p < 0 else self.matched[p]
            if m < 0 or (m < n and self.frame_func[fr] != path[m]):
                self.matched.append(-1)
                self.state.append(-1)
                self.out.append(DROP)
            elif m < n:
                self.matched.append(m + 1)
                if m + 1 == n:
                    s = self.tree.intern(-1, fr)
                    self.state.append(s)
                    self.out.append(s)
                else:
                    self.state.append(-1)
                    self.out.append(DROP)
            else:
                self.matched.append(n)
                s = self.tree.intern(self.state[p], fr)
                self.state.append(s)
                self.out.append(s)


class _FocusFunction(_Step):
    """Keep samples that contain a function, re-rooted at its outermost frame."""

    empty_out = DROP

    def __init__(self, frame_func: list[int], func: int) -> None:
        super().__init__(frame_func)
        self.func = func
        self.inside: list[bool] = []

    def feed(self, parents: list[int], frames: list[int]) -> None:
        for p, fr in zip(parents, frames, strict=True):
            if p >= 0 and self.inside[p]:
                s = self.tree.intern(self.state[p], fr)
            elif self.frame_func[fr] == self.func:
                s = self.tree.intern(-1, fr)
            else:
                self.inside.append(False)
                self.state.append(-1)
                self.out.append(DROP)
                continue
            self.inside.append(True)
            self.state.append(s)
            self.out.append(s)


class _Derived:
    """A transform's state for one source profile: steps, derived profile, sync marks."""

    def __init__(self, source: Profile, transform: Transform) -> None:
        self.transform = transform
        self.n_funcs = len(source.func_name)
        self.n_frames = len(source.frames)
        self.n_stacks = 0
        self.n_out = 0
        self.generation = -1
        view = source.derive(own_functions=transform.my_code_only, own_stacks=True)
        library_frame = -1
        if transform.my_code_only:  # interned in the view's own copy: the source never sees it
            library_frame = view.intern_frame(LIBRARY_NAME, "", 0, firstline=0)
        self.view = view
        self.frame_func: list[int] = view.frames["func"].tolist()
        steps: list[_Step] = []
        ff = self.frame_func
        if transform.my_code_only:
            hidden = {f for f in range(len(source.func_name)) if classify_file(source.func_file[f]) != "user"}
            steps.append(_Drop(ff, hidden, library_frame))
        if transform.merge_functions:
            steps.append(_Drop(ff, set(transform.merge_functions)))
        if transform.collapse_recursion:
            funcs = None if transform.collapse_recursion is True else frozenset(transform.collapse_recursion)
            steps.append(_Collapse(ff, funcs))
        if transform.focus_path is not None:
            steps.append(_FocusPath(ff, tuple(transform.focus_path)))
        if transform.focus_function is not None:
            steps.append(_FocusFunction(ff, transform.focus_function))
        self.steps = steps

    def stale(self, source: Profile) -> bool:
        """True when the source gained functions/frames a copied table cannot follow."""
        if not self.transform.my_code_only:
            return False
        return len(source.func_name) != self.n_funcs or len(source.frames) != self.n_frames

    def sync(self, source: Profile) -> Profile:
        if self.generation == source.generation and self.n_stacks == len(source.stacks):
            return self.view
        if len(self.frame_func) < len(self.view.frames):
            self.frame_func.extend(self.view.frames["func"][len(self.frame_func) :].tolist())
        n = len(source.stacks)
        if n > self.n_stacks:
            parents = source.stacks["parent"][self.n_stacks : n].tolist()
            frames = source.stacks["frame"][self.n_stacks : n].tolist()
            for step in self.steps:
                have = len(step.tree.parent)
                step.feed(parents, frames)
                parents, frames = step.tree.parent[have:], step.tree.frame[have:]
            self.n_stacks = n
            last = self.steps[-1].tree
            if len(last.parent) > self.n_out:
                self.view.add_stack_definitions(
                    self.n_out,
                    np.asarray(last.parent[self.n_out :], np.int32),
                    np.asarray(last.frame[self.n_out :], np.int32),
                )
                self.n_out = len(last.parent)
        self._map_samples(source)
        self.generation = source.generation
        return self.view

    def stack_map(self) -> tuple[np.ndarray, int]:
        """Final output stack per source stack (-1 empty, DROP) and the empty stack's fate."""
        mapping = np.asarray(self.steps[0].out, np.int64)
        empty = self.steps[0].empty_out
        for step in self.steps[1:]:
            out = np.asarray(step.out, np.int64)
            safe = np.maximum(mapping, 0)
            mapping = np.where(mapping >= 0, out[safe] if len(out) else DROP, np.where(mapping == -1, step.empty_out, DROP))
            if empty == -1:
                empty = step.empty_out
        return mapping, empty

    def _map_samples(self, source: Profile) -> None:
        mapping, empty = self.stack_map()
        full = np.concatenate(([empty], mapping)).astype(np.int64)
        src = source.samples
        new_stack = full[src["stack"].astype(np.intp) + 1]
        keep = new_stack != DROP
        table = ColumnTable(src.dtypes, capacity=max(16, int(keep.sum())))
        table.extend(**{name: new_stack[keep].astype(np.int32) if name == "stack" else src[name][keep] for name in SAMPLE_DTYPES})
        self.view.set_samples(table, source.samples_sorted)
        # events keep happening under any transform; their stacks point into the view's table
        # (-1, no stack, where the transform leaves the stack out)
        into = np.where(full == DROP, -1, full)
        events = source.blocking
        stacks = into[np.fromiter((e.stack for e in events), np.intp, len(events)) + 1].tolist()
        self.view.set_blocking([
            dataclasses.replace(e, stack=int(sid), steps=steps_restacked(e.steps, lambda st: into[st.stack + 1] if -1 <= st.stack < len(into) - 1 else -1))
            for e, sid in zip(events, stacks, strict=True)
        ])
        aw = source.awaits
        awaits = ColumnTable(AWAIT_DTYPES, capacity=max(16, len(aw)))
        awaits.extend(time=aw["time"], task=aw["task"], stack=into[aw["stack"].astype(np.intp) + 1].astype(np.int32))
        self.view.set_awaits(awaits)


_MAX_PER_PROFILE = 8


def apply_transform(profile: Profile, transform: Transform | None) -> Profile:
    """The profile as seen through `transform` (cached on the profile; the same object while it grows)."""
    if transform is None or transform.is_identity():
        return profile
    entries: OrderedDict[Transform, _Derived] = profile.cached("transforms", OrderedDict, unchanged)
    entry = entries.get(transform)
    if entry is None or entry.stale(profile) or entry.n_stacks > len(profile.stacks):
        entry = _Derived(profile, transform)
        entries[transform] = entry
    entries.move_to_end(transform)
    while len(entries) > _MAX_PER_PROFILE:
        entries.popitem(last=False)
    return entry.sync(profile)


def map_transform(transform: Transform | None, source: Profile, target: Profile) -> Transform | None:
    """The same transform for another profile: function ids translated by (name, file).

    A function the target lacks becomes -1, which matches no frame: focusing on it
    leaves the target empty (it spent no time there), merging it changes nothing.
    """
    if transform is None or transform.is_identity():
        return None
    ids = align_functions(source.func_name, source.func_file, target.func_name, target.func_file).tolist()

    def tr(func: int) -> int:
        return ids[func] if 0 <= func < len(ids) else -1

    collapse = transform.collapse_recursion
    if isinstance(collapse, frozenset):
        collapse = frozenset(f for f in (tr(g) for g in collapse) if f >= 0)
    return dataclasses.replace(
        transform,
        focus_function=None if transform.focus_function is None else tr(transform.focus_function),
        focus_path=None if transform.focus_path is None else tuple(tr(f) for f in transform.focus_path),
        merge_functions=frozenset(f for f in (tr(g) for g in transform.merge_functions) if f >= 0),
        collapse_recursion=collapse,
    )


def view_of(profile: Profile, transform: Transform | None, on_cpu_only: bool = False, by_task: bool = False) -> Profile:
    """The profile as the panes show it: on-CPU samples only if asked, then the transform, then
    (if asked) each task's samples under its task chain (all cached on it).

    "By task" comes last, so transforms keep working on real frames (a path or function picked
    in either mode matches) and the task frames sit above whatever they left.
    """
    view = apply_transform(on_cpu_view(profile) if on_cpu_only else profile, transform)
    return by_task_view(view) if by_task else view
