"""Async-aware stacks: each sample that ran in an asyncio task, under its task's chain ("by task").

A sampling profiler sees `handle_request` under `_run_once` under
`run_forever`, whichever request it served. `by_task_view` derives a Profile
(`Profile.derive`) in which every sample that ran in a task has its stack
prefixed with synthetic frames naming the task's chain up to the root, the
root task outermost: `<task server>` > `<task request-7>` > the real stack.
Time then rolls up per request in the flame graph and call tree. Under a
task the stack starts at the task's own code: the event loop's frames above
it (`asyncio.run` › `run_forever` › `_run_once` › `Handle._run`, the same for
every task) are left out. Samples outside any task keep their whole stack;
weights are untouched, so the total and every real function's self time are
the plain profile's (the loop's frames lose the task time from their totals).

Who a task hangs under (the rule, also in docs/guide.md):

- its awaiters where the recording saw them: each blocking event's
  `await_chain` names the blocking task, the task awaiting it and so on up to
  the root; every consecutive pair there is "awaited by" evidence, and so is
  each `task_awaiters` row (the agent names every awaiter of a task several
  tasks await, when its await snapshots or a stall see them). Where that
  awaiter is not the task's creator (a task handed over, or shared), the
  label says both: `<task fetch (awaited by request-2; created by server)>`;
- else its creator (`TaskInfo.parent`);
- a task seen awaited by several tasks (a shared task two requests await,
  seen with one awaiter in one stall and another in the next) is not charged
  to either: it hangs under a `<several awaiters>` frame, placed under the
  chain its awaiters have in common (the root when none), as
  `<task shared (2 awaiters: request-1, request-2)>`.

A stall's chain follows the first awaiter found; the others come from the
`task_awaiters` rows (agent 0.2.1 and later), so a task that two tasks await
shows both as soon as a snapshot (every 0.25 s or so) or a stall saw them
together; a recording from an older agent shows a second awaiter only once a
stall saw it. The evidence is the whole recording's, not only what precedes a
replay's playhead. Synthetic frames live in the file `<task>`
(`TASK_FILE`) with the task id as line, so tables can tell them apart.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass

import numpy as np

from pyrometer.core import fmt
from pyrometer.core.analysis.classify import classify_file
from pyrometer.core.analysis.stall_steps import steps_restacked
from pyrometer.core.columns import ColumnTable
from pyrometer.core.model import AWAIT_DTYPES, SAMPLE_DTYPES, Profile, StallStep
from pyrometer.core.prefix_tree import PrefixTree

TASK_FILE = "<task>"
SEVERAL_AWAITERS = "<several awaiters>"
NAMED_AWAITERS = 3  # a several-awaiters label names this many, then "+N more"
MAX_CHAIN = 256  # deeper chains (a task spawning a task spawning ...) are cut at the root


@dataclass(frozen=True)
class TaskLink:
    """One synthetic frame of a chain: a task (`task` >= 0) or the several-awaiters node (-1)."""

    label: str
    task: int
    awaiters: tuple[int, ...] = ()  # for a task awaited by several: who awaits it


def has_tasks(profile: Profile) -> bool:
    """Whether any sample ran in an asyncio task (otherwise "by task" changes nothing).

    Kept on the profile and extended over new rows only: a live window asks on every refresh, and a
    scan of a day's 30M samples took 33 ms.
    """

    def scan(seen: tuple[int, bool]) -> tuple[int, bool]:
        rows, found = seen
        task = profile.samples["task"]
        if found or rows > len(task):
            return (len(task), found) if rows <= len(task) else (len(task), bool((task >= 0).any()))
        return len(task), bool((task[rows:] >= 0).any())

    return profile.cached(("has_tasks",), lambda: scan((0, False)), scan, rows=True)[1]


def is_task_function(profile: Profile, func: int) -> bool:
    """True for a synthetic `<task ...>` / `<several awaiters>` function of a by-task view."""
    return 0 <= func < len(profile.func_file) and profile.func_file[func] == TASK_FILE


def frame_location(file: str, line: int) -> str:
    """`file:line` of a frame, or what a by-task frame stands for (`<task>` is no file to open)."""
    if file == TASK_FILE:
        return f"asyncio task [{line}]" if line >= 0 else "a task several tasks await"
    return fmt.file_line(file, line)


def observed_awaiters(profile: Profile) -> dict[int, list[int]]:
    """task id -> ids of the tasks seen awaiting it, first seen first: the blocking events' await
    chains, then the agent's `task_awaiters` (every awaiter of a task several tasks await)."""
    pairs: list[tuple[float, int, int]] = []
    for ev in profile.blocking:
        chain = ev.await_chain or []
        pairs.extend((ev.start, int(child), int(awaiter)) for (child, _), (awaiter, _) in itertools.pairwise(chain))
    pairs.extend(profile.task_awaiters)
    pairs.sort(key=lambda row: row[0])  # stable: within a chain, its order
    out: dict[int, list[int]] = {}
    for _, child, awaiter in pairs:
        if child < 0 or awaiter < 0 or child == awaiter:
            continue
        seen = out.setdefault(child, [])
        if awaiter not in seen:
            seen.append(awaiter)
    return out


def _chain_names(profile: Profile) -> dict[int, str]:
    """Names the stalls' await chains give (tasks whose creation the recording lost have one here)."""
    names: dict[int, str] = {}
    for ev in profile.blocking:
        for tid, name in ev.await_chain or []:
            names.setdefault(int(tid), str(name))
    return names


class TaskChains:
    """The chain of links (root first) of every task, by the module's rule.

    Reads the profile's tasks as they are now (a live profile gains them) and the
    stalls' evidence as it was when made (make a new one when stalls arrive). A
    chain is *settled* when every task on it is known and it ends at a task with
    no creator: only settled chains are memoised, since a task whose creation
    has not arrived yet (samples and task events travel apart) may still move.
    """

    def __init__(self, profile: Profile) -> None:
        self.awaiters = observed_awaiters(profile)
        self.tasks = profile.tasks
        self.chain_names = _chain_names(profile)
        self._memo: dict[int, tuple[TaskLink, ...]] = {}

    def name(self, task: int) -> str:
        info = self.tasks.get(task)
        return (info.name if info is not None else self.chain_names.get(task)) or f"#{task}"

    def chain(self, task: int) -> tuple[TaskLink, ...]:
        return self._chain(int(task), set(), 0)[0]

    def settled(self, task: int) -> bool:
        """Whether `chain(task)` is final (it cannot change until new stalls arrive)."""
        return int(task) in self._memo or self._chain(int(task), set(), 0)[1]

    def _chain(self, task: int, visiting: set[int], depth: int) -> tuple[tuple[TaskLink, ...], bool]:
        hit = self._memo.get(task)
        if hit is not None:
            return hit, True
        visiting.add(task)
        known = task in self.tasks
        seen = self.awaiters.get(task, [])
        ups = [a for a in seen if a not in visiting]
        settled = known and len(ups) == len(seen) and depth < MAX_CHAIN
        if len(ups) > 1 and depth < MAX_CHAIN:
            walks = [self._chain(a, visiting, depth + 1) for a in ups]
            settled = settled and all(ok for _, ok in walks)
            common = walks[0][0]
            for other, _ in walks[1:]:
                k = 0
                while k < min(len(common), len(other)) and common[k] == other[k]:
                    k += 1
                common = common[:k]
            names = [self.name(a) for a in ups[:NAMED_AWAITERS]]
            more = f", +{len(ups) - NAMED_AWAITERS} more" if len(ups) > NAMED_AWAITERS else ""
            label = f"<task {self.name(task)} ({len(ups)} awaiters: {', '.join(names)}{more})>"
            out = (*common, TaskLink(SEVERAL_AWAITERS, -1), TaskLink(label, task, tuple(ups)))
        else:
            info = self.tasks.get(task)
            up = ups[0] if ups else (info.parent if info is not None else None)
            prefix: tuple[TaskLink, ...] = ()
            if up is not None and up >= 0:
                if up in visiting or depth >= MAX_CHAIN:
                    settled = False
                elif up in self.tasks or up in self.chain_names:
                    prefix, ok = self._chain(up, visiting, depth + 1)
                    settled = settled and ok
                else:
                    settled = False  # its creator is not known (yet): a root for now
            label = f"<task {self.name(task)}>"
            creator = info.parent if info is not None else None
            if ups and up is not None and creator is not None and creator >= 0 and creator != up:
                # handed over or shared: say both, so the choice of the awaiter is not silent
                label = f"<task {self.name(task)} (awaited by {self.name(up)}; created by {self.name(creator)})>"
            out = (*prefix, TaskLink(label, task))
        visiting.discard(task)
        if settled:
            self._memo[task] = out
        return out, settled


_OUTSIDE, _IN_LOOP, _PAST_LOOP = 0, 1, 2


def _is_asyncio(file: str) -> bool:
    """A frame of the standard library's asyncio (the event loop and task machinery)."""
    norm = "/" + file.replace("\\", "/")
    return "/asyncio/" in norm and classify_file(file) == "stdlib"


class _ByTask:
    """The by-task view of one source profile and what lets it follow the source as it grows."""

    def __init__(self, source: Profile) -> None:
        self.view = source.derive(own_functions=True, own_stacks=True)
        self.n_funcs = len(source.func_name)
        self.n_frames = len(source.frames)
        self.tree = PrefixTree()  # the view's stack table, pushed to it in batches
        self.n_pushed = 0
        self.src_parent: list[int] = []
        self.src_frame: list[int] = []
        self.src_cut: list[int] = []  # per source stack: its ancestor where the loop's frames end (-1: none)
        self.src_state: list[int] = []  # _OUTSIDE, _IN_LOOP, _PAST_LOOP
        self.asyncio_func = [_is_asyncio(f) for f in source.func_file]
        self.frame_func: list[int] = source.frames["func"].tolist()
        self.link_frame: dict[TaskLink, int] = {}
        self.chain_key: tuple[int, int, int] | None = None  # the stalls and awaiter pairs the chains were made from
        self.chains: TaskChains | None = None
        self.task_node: dict[int, int] = {}  # task id -> view stack of its chain's last link
        self.provisional: set[int] = set()  # tasks whose chain may still move (see TaskChains)
        self.mapped = np.zeros(0, np.int32)  # view stack of the source's first len(mapped) samples
        self.generation = -1

    def stale(self, source: Profile) -> bool:
        """The source gained functions or frames: the view's copies of those tables cannot follow."""
        return len(source.func_name) != self.n_funcs or len(source.frames) != self.n_frames

    # ------------------------------------------------------------ stacks
    def _frame(self, link: TaskLink) -> int:
        fr = self.link_frame.get(link)
        if fr is None:
            fr = self.view.intern_frame(link.label, TASK_FILE, max(link.task, 0), firstline=link.task)
            self.link_frame[link] = fr
        return fr

    def _chain_node(self, task: int) -> int:
        """The view stack of the task's chain, as the chains say now."""
        assert self.chains is not None
        node = -1
        for link in self.chains.chain(task):
            node = self.tree.intern(node, self._frame(link))
        if not self.chains.settled(task):
            self.provisional.add(task)
        return node

    def _node_of_task(self, task: int) -> int:
        node = self.task_node.get(task)
        if node is None:
            node = self.task_node[task] = self._chain_node(task)
        return node

    def _recheck_chains(self, source: Profile) -> bool:
        """Bring the tasks' chains up to date; True when one moved (its samples must be mapped again).

        New stalls (new awaiter evidence) recheck every task; otherwise only the
        provisional ones, whose creator or own creation may have arrived since.
        """
        key = (len(source.blocking), id(source.blocking), len(source.task_awaiters))
        if key != self.chain_key or self.chains is None:
            self.chains = TaskChains(source)
            self.chain_key = key
            todo = list(self.task_node)
        else:
            todo = list(self.provisional)
        self.provisional = set()
        moved = False
        for task in todo:
            node = self._chain_node(task)
            if node != self.task_node[task]:
                self.task_node[task] = node
                moved = True
        return moved

    def _add_source_stacks(self, parents: list[int], frames: list[int]) -> None:
        """Extend the source stack columns and where each stack's event-loop frames end."""
        for p, fr in zip(parents, frames, strict=True):
            in_asyncio = self.asyncio_func[self.frame_func[fr]]
            state, cut = (_OUTSIDE, -1) if p < 0 else (self.src_state[p], self.src_cut[p])
            if state == _OUTSIDE and in_asyncio:
                state = _IN_LOOP
            elif state == _IN_LOOP and not in_asyncio:
                state, cut = _PAST_LOOP, p  # the first frame out of asyncio: the task's own code starts here
            self.src_parent.append(p)
            self.src_frame.append(fr)
            self.src_state.append(state)
            self.src_cut.append(cut)

    def _graft(self, node: int, stack: int) -> int:
        """The view stack of source `stack` hung under view stack `node` (-1: the root).

        Under a task the stack starts at the task's own code: the event loop's
        frames above it (run_forever › _run_once › Handle._run) are left out.
        """
        src_parent, src_frame = self.src_parent, self.src_frame
        frames_up: list[int] = []
        s = stack
        stop = self.src_cut[stack] if node >= 0 else -1
        while s != stop:
            frames_up.append(src_frame[s])  # frame ids are shared: the view copied the source's
            s = src_parent[s]
        # PrefixTree.intern inlined: a big profile grafts ~10^6 nodes here, and a
        # (node, stack) memo cost more than it saved (its misses outnumber its hits)
        index, parents, frames = self.tree.index, self.tree.parent, self.tree.frame
        base = node
        for fr in reversed(frames_up):
            key = (base, fr)
            nxt = index.get(key)
            if nxt is None:
                nxt = index[key] = len(parents)
                parents.append(base)
                frames.append(fr)
            base = nxt
        return base

    def _step_stack(self, step: StallStep) -> int:
        """The view's stack for a stall step's (task, stack); -1 for a stack the source does not have."""
        if not -1 <= step.stack < len(self.src_parent):
            return -1
        return int(self._map(np.array([step.task], np.int32), np.array([step.stack], np.int32))[0])

    def _map(self, tasks: np.ndarray, stacks: np.ndarray) -> np.ndarray:
        """View stacks for rows of (task, source stack)."""
        if not len(tasks):
            return np.zeros(0, np.int32)
        width = np.int64(len(self.src_parent) + 1)
        key = (tasks.astype(np.int64) + 1) * width + (stacks.astype(np.int64) + 1)
        uniq, inverse = np.unique(key, return_inverse=True)
        out = np.empty(len(uniq), np.int32)
        for i, k in enumerate(uniq.tolist()):
            task, stack = divmod(k, int(width))
            task, stack = task - 1, stack - 1
            node = self._node_of_task(task) if task >= 0 else -1
            out[i] = self._graft(node, stack) if stack >= 0 else node
        return out[inverse.reshape(-1)]

    # ------------------------------------------------------------ following the source
    def sync(self, source: Profile) -> Profile:
        if self.generation == source.generation:
            return self.view
        n = len(source.stacks)
        if n > len(self.src_parent):
            have = len(self.src_parent)
            self._add_source_stacks(source.stacks["parent"][have:n].tolist(), source.stacks["frame"][have:n].tolist())
        if self._recheck_chains(source):
            self.mapped = np.zeros(0, np.int32)  # a chain moved: every sample of its tasks moves
        src = source.samples
        done = len(self.mapped)
        if len(src) > done:
            self.mapped = np.concatenate((self.mapped, self._map(src["task"][done:], src["stack"][done:])))
        self.mapped = self.mapped[: len(src)]
        events = source.blocking
        ev_stacks = self._map(
            np.fromiter((e.task for e in events), np.int32, len(events)), np.fromiter((e.stack for e in events), np.int32, len(events))
        )
        ev_steps = [steps_restacked(e.steps, self._step_stack) for e in events]
        aw = source.awaits
        aw_stacks = self._map(aw["task"], aw["stack"])
        self._push_stacks()
        table = ColumnTable(src.dtypes, capacity=max(16, len(src)))
        table.extend(**{name: self.mapped if name == "stack" else src[name] for name in SAMPLE_DTYPES})
        self.view.set_samples(table, source.samples_sorted)
        self.view.set_blocking([
            dataclasses.replace(e, stack=int(s), steps=steps)
            for e, s, steps in zip(events, ev_stacks.tolist(), ev_steps, strict=True)
        ])
        awaits = ColumnTable(AWAIT_DTYPES, capacity=max(16, len(aw)))
        awaits.extend(time=aw["time"], task=aw["task"], stack=aw_stacks)
        self.view.set_awaits(awaits)
        self.generation = source.generation
        return self.view

    def _push_stacks(self) -> None:
        tree = self.tree
        if len(tree) > self.n_pushed:
            self.view.add_stack_definitions(
                self.n_pushed,
                np.asarray(tree.parent[self.n_pushed :], np.int32),
                np.asarray(tree.frame[self.n_pushed :], np.int32),
            )
            self.n_pushed = len(tree)


def by_task_view(source: Profile) -> Profile:
    """The source with each task's samples under its task chain (cached on the source, followed while it grows).

    A profile whose samples ran in no task is returned as it is.
    """
    if not has_tasks(source):
        return source

    def update(entry: _ByTask) -> _ByTask:
        return _ByTask(source) if entry.stale(source) else entry

    entry = source.cached("by_task", lambda: _ByTask(source), update, rows=True)
    return entry.sync(source)
