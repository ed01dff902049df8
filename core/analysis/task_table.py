"""Every asyncio task as numpy columns, and the task tree of a moment as arrays (the Tasks pane's data).

A day of a service holds ~150k tasks: building a TaskNode, a TaskCosts and a
row object per task, sorting children in Python and walking the tree took the
Tasks pane 8 s at 30M samples. Here the tasks are copied once into columns
(followed through `Profile.task_log` while live), and the tree as of `t`
(states, filters, ancestors of matches, siblings in creation order, costs)
is computed with array operations; a view formats only the rows it shows.
The figures are those of `analysis.tasks.task_tree` and
`analysis.task_costs.task_costs`, value for value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyrometer.core.analysis.task_costs import (
    NO_ACCOUNTING,
    _stopped_reason,
    accounting_stopped_at,
    clipped_span_sums,
    has_accounting,
)
from pyrometer.core.model import Profile, TaskInfo

STATES = ("pending", "done", "cancelled", "failed")
PENDING, DONE = 0, 1
_NAN = float("nan")


def _num(x: float | None) -> float:
    return _NAN if x is None else x


class TaskColumns:
    """The profile's tasks as columns (row = position in `profile.tasks`), kept current from its task log."""

    def __init__(self) -> None:
        self.tasks: dict[int, TaskInfo] | None = None
        self.seen = 0  # task_log entries consumed
        self.row: dict[int, int] = {}  # task id -> row
        self.state_names: list[str] = list(STATES)
        self._lists: dict[str, list[object]] = {k: [] for k in _FIELDS}
        self.infos: list[TaskInfo] = []
        self._arrays: dict[str, np.ndarray] | None = None
        self.version = 0  # bumped whenever a task's row changes
        self._parents: tuple[int, np.ndarray] | None = None  # (version, parent_rows())
        self._parent_dirty: list[int] = []  # rows set again since parent_rows() last ran (their parent may differ)
        self._unresolved = np.zeros(0, np.int64)  # rows whose parent id names no task yet (looked up again)
        self._changed: list[int] = []  # rows set again since arrays() last ran

    def __len__(self) -> int:
        return len(self.infos)

    def follows(self, profile: Profile) -> bool:
        """Whether `update` can bring these columns to `profile` by its log (else: rebuild)."""
        log_names_all = len(profile.task_log) > 0 or not profile.tasks
        return self.tasks is profile.tasks and log_names_all and self.seen <= len(profile.task_log)

    def rebuild(self, profile: Profile) -> TaskColumns:
        """Every task, a column at a time (a comprehension per field: ~10x faster than a row at a time)."""
        version = self.version
        self.__init__()  # type: ignore[misc]
        self.version = version + 1
        self.tasks = profile.tasks
        self.seen = len(profile.task_log)
        infos = self.infos = list(profile.tasks.values())
        self.row = {t.id: r for r, t in enumerate(infos)}
        codes = {s: i for i, s in enumerate(self.state_names)}
        for t in infos:
            if t.state not in codes:
                codes[t.state] = self._code(t.state)
        self._lists = {
            "id": [t.id for t in infos],
            "parent": [-1 if t.parent is None else t.parent for t in infos],
            "created": [t.created for t in infos],  # None: NaN in the float column
            "ended": [t.ended for t in infos],
            "state": [codes[t.state] for t in infos],
            "cpu": [t.cpu_s for t in infos],
            "running": [t.running_s for t in infos],
            "waiting": [t.waiting_s for t in infos],
            "delayed": [t.delayed_s for t in infos],
        }
        return self

    def update(self, profile: Profile) -> TaskColumns:
        if not self.follows(profile):
            return self.rebuild(profile)
        log = profile.task_log
        tasks = profile.tasks
        for tid in dict.fromkeys(log[self.seen :]):
            info = tasks.get(tid)
            if info is not None:
                self._put(info)
        self.seen = len(log)
        if len(self.row) != len(tasks):  # tasks the log never named: start over
            return self.rebuild(profile)
        return self

    def _put(self, info: TaskInfo) -> None:
        code = self._code(info.state)
        values = (info.id, -1 if info.parent is None else info.parent, _num(info.created), _num(info.ended), code,
                  _num(info.cpu_s), _num(info.running_s), _num(info.waiting_s), _num(info.delayed_s))
        r = self.row.get(info.id)
        lists = self._lists
        if r is None:
            self.row[info.id] = len(self.infos)
            self.infos.append(info)
            for name, v in zip(_FIELDS, values, strict=True):
                lists[name].append(v)
        else:
            self.infos[r] = info
            for name, v in zip(_FIELDS, values, strict=True):
                lists[name][r] = v
            self._changed.append(r)
            self._parent_dirty.append(r)
        self.version += 1

    def _code(self, state: str) -> int:
        try:
            return self.state_names.index(state)
        except ValueError:
            self.state_names.append(state)
            return len(self.state_names) - 1

    def parent_rows(self) -> np.ndarray:
        """The row of each task's parent (-1: none, or not a known task), made once per version.

        Live, only the rows added or set again since, and those whose parent was not known yet, are
        looked up (an argsort of every task id at each refresh: ~20 ms of a day's Tasks pane).
        """
        if self._parents is None or self._parents[0] != self.version:
            parent_ids = self.arrays()["parent"]
            n = len(parent_ids)
            prev = self._parents[1] if self._parents is not None else np.zeros(0, np.int64)
            have = min(len(prev), n)
            rows = np.empty(n, np.int64)
            rows[:have] = prev[:have]
            todo = np.concatenate((np.arange(have, n), np.asarray(self._parent_dirty, np.int64), self._unresolved))
            todo = np.unique(todo[todo < n])
            pids = parent_ids[todo].tolist()
            get = self.row.get
            rows[todo] = np.fromiter((get(p, -1) if p >= 0 else -1 for p in pids), np.int64, len(pids))
            self._unresolved = todo[(parent_ids[todo] >= 0) & (rows[todo] < 0)]
            self._parent_dirty = []
            self._parents = (self.version, rows)
        return self._parents[1]

    def arrays(self) -> dict[str, np.ndarray]:
        """The columns; after a live update only the new rows are converted and the changed ones set
        (converting every row again took a day's Tasks pane ~0.1 s a refresh)."""
        lists = self._lists
        if self._arrays is None:
            self._arrays = {name: np.array(lists[name], dt) if lists[name] else np.zeros(0, dt)
                            for name, dt in _FIELDS.items()}  # None -> NaN in the float columns
            self._changed = []
            return self._arrays
        have, n = len(self._arrays["id"]), len(self.infos)
        if have < n or self._changed:
            changed = sorted({r for r in self._changed if r < have})
            arrays = {}
            for name, dt in _FIELDS.items():
                arr = self._arrays[name]
                if have < n:
                    arr = np.concatenate((arr, np.array(lists[name][have:], dt)))
                elif changed:
                    arr = arr.copy()  # views made earlier keep the columns they were made of
                if changed:
                    arr[changed] = np.array([lists[name][r] for r in changed], dt)
                arrays[name] = arr
            self._arrays = arrays
            self._changed = []
        return self._arrays


_FIELDS = {"id": np.int64, "parent": np.int64, "created": np.float64, "ended": np.float64, "state": np.int16,
           "cpu": np.float64, "running": np.float64, "waiting": np.float64, "delayed": np.float64}


def task_columns(profile: Profile) -> TaskColumns:
    """The profile's task columns (cached on it, followed through its log while live)."""
    cols: TaskColumns = profile.cached(("task_columns",), lambda: TaskColumns().rebuild(profile),
                                       lambda c: c.update(profile))
    if not cols.follows(profile) or len(cols) != len(profile.tasks):
        cols.rebuild(profile)  # a hand-built profile (no log) changed without telling
    return cols


# ---------------------------------------------------------------- costs
WHY_NONE, WHY_NO_ACCOUNTING, WHY_STOPPED = 0, 1, 2


@dataclass
class CostColumns:
    """task_costs as columns over TaskColumns rows: NaN = unknown; `why` codes index `reasons`."""

    cpu: np.ndarray
    running: np.ndarray
    waiting: np.ndarray
    delayed: np.ndarray
    partial: np.ndarray
    why: np.ndarray
    reasons: tuple[str, ...]


def cost_columns(profile: Profile, cols: TaskColumns, t0: float | None = None, t1: float | None = None) -> CostColumns:
    """What `task_costs(profile, t0, t1)` gives each task, row for row (a task it leaves out: unknown, no reason)."""
    a = cols.arrays()
    n = len(cols)
    nan = np.full(n, np.nan)
    why = np.zeros(n, np.int8)
    partial = np.zeros(n, bool)
    if not has_accounting(profile):
        why[:] = WHY_NO_ACCOUNTING
        return CostColumns(nan, nan.copy(), nan.copy(), nan.copy(), partial, why, ("", NO_ACCOUNTING, ""))
    stopped = accounting_stopped_at(profile)
    reasons = ("", NO_ACCOUNTING, "" if stopped is None else _stopped_reason(*stopped))
    created, ended = a["created"], a["ended"]
    cpu, running, waiting, delayed = nan.copy(), nan.copy(), nan.copy(), nan.copy()
    has_created = ~np.isnan(created)
    whole = has_created & ~np.isnan(ended) & ~np.isnan(a["running"])
    inside = whole.copy()
    if t0 is not None:
        inside &= created >= t0
    if t1 is not None:
        inside &= ended <= t1
    for out, name in ((cpu, "cpu"), (running, "running"), (waiting, "waiting"), (delayed, "delayed")):
        out[inside] = a[name][inside]
    rest = np.flatnonzero(~inside & has_created)
    lo = created[rest] if t0 is None else np.maximum(created[rest], t0)
    end = np.where(np.isnan(ended[rest]), profile.duration(), ended[rest])
    hi = end if t1 is None else np.minimum(end, t1)
    alive = ~(hi < lo)
    rest, lo, hi = rest[alive], lo[alive], hi[alive]
    if stopped is not None:
        late = hi > stopped[0]
        why[rest[late]] = WHY_STOPPED
        rest, lo, hi = rest[~late], lo[~late], hi[~late]
    if not len(rest):
        return CostColumns(cpu, running, waiting, delayed, partial, why, reasons)
    run, dly = clipped_span_sums(profile, a["id"][rest].astype(np.int64), lo, hi)
    running[rest] = run
    delayed[rest] = dly
    waiting[rest] = np.clip((hi - lo) - run - dly, 0.0, None)
    partial[rest] = True
    return CostColumns(cpu, running, waiting, delayed, partial, why, reasons)


# ---------------------------------------------------------------- the tree of a moment
@dataclass
class TaskView:
    """The tasks shown as of a moment, one entry per shown task (k), rows of TaskColumns in `row`.

    `parent[k]` is the k of its shown parent (-1: top level); `group_start`
    and `natural` list each parent's children (the top level last, at
    index n) in creation order: natural[group_start[p]:group_start[p + 1]].
    """

    cols: TaskColumns
    version: int  # cols.version when made: the same tasks' names, coroutines and exceptions while equal
    row: np.ndarray
    parent: np.ndarray
    state: np.ndarray  # codes into cols.state_names, as of the moment
    over: np.ndarray  # the task had ended by then (its exception shows)
    ended: np.ndarray  # NaN: not ended by then (or never said when)
    duration: np.ndarray  # NaN: unknown
    await_stack: np.ndarray  # -1: none (only pending tasks show theirs)
    matches: np.ndarray
    costs: CostColumns  # indexed by k
    natural: np.ndarray
    group_start: np.ndarray
    counts: dict[str, int]

    def __len__(self) -> int:
        return len(self.row)

    def info(self, k: int) -> TaskInfo:
        return self.cols.infos[int(self.row[k])]

    def state_name(self, k: int) -> str:
        return self.cols.state_names[int(self.state[k])]

    def same_as(self, other: TaskView | None) -> bool:
        """Same tasks, shape and values (a refresh that changed nothing)."""
        if other is None or not self.same_shape(other):
            return False
        c, d = self.costs, other.costs
        pairs = [(self.state, other.state), (self.over, other.over), (self.ended, other.ended), (self.duration, other.duration),
                 (self.await_stack, other.await_stack), (self.matches, other.matches), (c.cpu, d.cpu),
                 (c.running, d.running), (c.waiting, d.waiting), (c.delayed, d.delayed), (c.partial, d.partial),
                 (c.why, d.why)]
        return (self.version == other.version and c.reasons == d.reasons
                and all(np.array_equal(x, y, equal_nan=x.dtype.kind == "f") for x, y in pairs))

    def same_shape(self, other: TaskView) -> bool:
        return (self.cols is other.cols and np.array_equal(self.row, other.row) and np.array_equal(self.parent, other.parent)
                and np.array_equal(self.natural, other.natural))


def task_view(
    profile: Profile,
    t: float | None,
    states: frozenset[str],
    now: float | None = None,
    text: str = "",
    since: float | None = None,
) -> TaskView:
    """The task tree as of `t` (see tasks.task_tree), filtered like the Tasks pane filters it.

    A task is shown when its state is in `states` and its name or coroutine
    contains `text` (case-insensitive), or when a descendant is (its
    ancestors stay, `matches` False). `since`: a range's start (tasks over
    before it are not the range's). Costs are task_costs over [since, t].
    """
    cols = task_columns(profile)
    a = cols.arrays()
    created, ended_all, state_all = a["created"], a["ended"], a["state"]
    alive = np.ones(len(cols), bool)
    if t is not None:
        alive &= ~(created > t)
    if since is not None:
        alive &= ~(ended_all < since)
    nodes = np.flatnonzero(alive)
    has_end = ~np.isnan(ended_all[nodes])
    if t is None:  # the end of the recording: the final word
        state = state_all[nodes]
        ended = ended_all[nodes]
        over = has_end | (state != PENDING)
    else:
        over = has_end & (ended_all[nodes] <= t)
        state = np.where(over, state_all[nodes], PENDING).astype(np.int16)
        state[over & (state == PENDING)] = DONE
        ended = np.where(over, ended_all[nodes], np.nan)
    counts = dict.fromkeys(STATES, 0)
    for code, n in enumerate(np.bincount(state, minlength=len(cols.state_names)).tolist()):
        if n:
            counts[cols.state_names[code]] = counts.get(cols.state_names[code], 0) + n
    wanted = np.array([cols.state_names.index(s) for s in states if s in cols.state_names], np.int16)
    match = np.isin(state, wanted)
    needle = text.strip().lower()
    if needle:
        infos = cols.infos
        hit = np.fromiter((needle in infos[r].name.lower() or needle in infos[r].coro.lower() for r in nodes.tolist()),
                          bool, len(nodes))
        match &= hit
    # parents among the nodes (by position in `nodes`), -1 when absent
    at = np.full(len(cols) + 1, -1, np.int64)  # row -> position in nodes; row -1 (no parent) -> -1
    at[nodes] = np.arange(len(nodes))
    parent = at[cols.parent_rows()[nodes]]
    keep = _with_ancestors(match, parent)
    keep &= _reaches_top(parent)  # tasks in a parent cycle are reachable from no top-level task
    shown = np.flatnonzero(keep)
    renumber = np.full(len(nodes) + 1, -1, np.int64)
    renumber[shown] = np.arange(len(shown))
    view_parent = renumber[parent[shown]]  # parent -1 -> renumber[-1] == -1
    rows = nodes[shown]
    end = ended[shown].copy()
    t_ref = t if t is not None else (now if now is not None else profile.duration())
    end[np.isnan(end)] = t_ref
    duration = np.maximum(0.0, end - created[rows])  # NaN created -> NaN
    awaits = _latest_awaits(profile, t, a["id"][rows])
    awaits[state[shown] != PENDING] = -1
    costs = cost_columns(profile, cols, since, t)
    costs_k = CostColumns(costs.cpu[rows], costs.running[rows], costs.waiting[rows], costs.delayed[rows],
                          costs.partial[rows], costs.why[rows], costs.reasons)
    n = len(shown)
    group = np.where(view_parent < 0, n, view_parent)
    created_key = np.where(np.isnan(created[rows]), -1.0, created[rows])
    natural = np.lexsort((a["id"][rows], created_key, group))
    # where each parent's children begin in `natural` (n + 1: the top level): counts summed, not n searches
    group_start = np.concatenate(([0], np.cumsum(np.bincount(group, minlength=n + 1)))).astype(np.int64)
    return TaskView(cols, cols.version, rows, view_parent, state[shown], over[shown], ended[shown], duration, awaits, match[shown], costs_k,
                    natural, group_start, counts)


def _with_ancestors(match: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """`match` plus every ancestor of a match (each task is visited once, however deep the chain)."""
    keep = match.copy()
    if keep.all():  # nothing filtered out (the pane's default): every ancestor is in already
        return keep
    front = parent[match]
    while len(front):
        front = front[front >= 0]
        front = np.sort(front[~keep[front]])  # each once (np.unique would import numpy.ma: 0.2 s)
        if len(front) > 1:
            front = front[np.concatenate(([True], front[1:] != front[:-1]))]
        keep[front] = True
        front = parent[front]
    return keep


def _reaches_top(parent: np.ndarray) -> np.ndarray:
    """Which tasks have a top-level ancestor (pointer doubling: log2(depth) passes)."""
    jump = parent.copy()
    for _ in range(max(1, len(parent).bit_length() + 1)):
        up = jump >= 0
        if not up.any():
            break
        jump[up] = jump[jump[up]]
    return jump < 0


def _latest_awaits(profile: Profile, t: float | None, ids: np.ndarray) -> np.ndarray:
    """The stack of each task's latest await snapshot at or before t (-1: none), as tasks._latest_awaits."""
    out = np.full(len(ids), -1, np.int64)
    aw = profile.awaits
    if not len(aw) or not len(ids):
        return out
    times, tasks, stacks = aw["time"], aw["task"], aw["stack"]
    idx = np.arange(len(times)) if t is None else np.flatnonzero(times <= t)
    if not len(idx):
        return out
    order = idx[np.lexsort((idx, times[idx], tasks[idx]))]
    last = np.ones(len(order), bool)
    last[:-1] = tasks[order][1:] != tasks[order][:-1]
    sel = order[last]
    task_of, stack_of = tasks[sel].astype(np.int64), stacks[sel]
    pos = np.clip(np.searchsorted(task_of, ids), 0, len(task_of) - 1)
    found = task_of[pos] == ids
    out[found] = stack_of[pos[found]]
    return out
