"""Time per asyncio task, rolled up along task chains: the by-task tree's task levels as a table.

The same chains as the by-task flame graph (`task_stacks.TaskChains`), summed
straight from the sample columns rather than through a stack table: each
task's samples (wall weight, the thread CPU the sampler measured, count) are
added to every link of its chain. `total` is a link's whole subtree; `own` the
samples that ran in that very task (its child tasks excluded). The
`stats --by-task` section and its JSON are this list.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyrometer.core.analysis.selection import Selection, clipped_samples
from pyrometer.core.analysis.task_stacks import TaskChains, TaskLink
from pyrometer.core.model import Profile


@dataclass
class TaskTotal:
    """One link of the task tree with what ran under it."""

    path: tuple[TaskLink, ...]  # root first; the last is this row's link
    total: float  # weight (seconds) of the samples under it
    own: float  # weight of the samples that ran in this task itself
    cpu: float | None  # CPU seconds the sampler measured for those samples (None: not measured)
    samples: int

    @property
    def link(self) -> TaskLink:
        return self.path[-1]

    @property
    def depth(self) -> int:
        return len(self.path) - 1


def task_totals(profile: Profile, sel: Selection | None = None) -> tuple[list[TaskTotal], float]:
    """(rows depth first, heaviest sibling first; the selection's whole sampled weight)."""
    idx, clipped = clipped_samples(profile, sel)
    s = profile.samples
    weight = s["weight"][idx].astype(np.float64)
    cpu = s["cpu"][idx].astype(np.float64)
    if clipped is not None:  # a range edge cuts a sample's span: its CPU in proportion
        share = np.divide(clipped, weight, out=np.ones_like(clipped), where=weight > 0)
        cpu = np.where(cpu >= 0, cpu * share, cpu)
        weight = clipped
    whole = float(weight.sum())
    tasks = s["task"][idx]
    in_task = tasks >= 0
    if not bool(in_task.any()):
        return [], whole
    ids, inverse = np.unique(tasks[in_task], return_inverse=True)
    w = np.bincount(inverse, weights=weight[in_task], minlength=len(ids))
    c_in = cpu[in_task]
    known = c_in >= 0
    c = np.bincount(inverse[known], weights=c_in[known], minlength=len(ids))
    c_known = np.bincount(inverse[known], minlength=len(ids)) > 0
    n = np.bincount(inverse, minlength=len(ids))
    chains = TaskChains(profile)
    rows: dict[tuple[TaskLink, ...], TaskTotal] = {}
    for tid, tw, tc, has_c, tn in zip(ids.tolist(), w.tolist(), c.tolist(), c_known.tolist(), n.tolist(), strict=True):
        chain = chains.chain(tid)
        for k in range(1, len(chain) + 1):
            key = chain[:k]
            row = rows.get(key)
            if row is None:
                row = rows[key] = TaskTotal(key, 0.0, 0.0, None, 0)
            row.total += tw
            row.samples += tn
            if has_c:
                row.cpu = (row.cpu or 0.0) + tc
        rows[chain].own += tw
    return _depth_first(rows), whole


def _depth_first(rows: dict[tuple[TaskLink, ...], TaskTotal]) -> list[TaskTotal]:
    children: dict[tuple[TaskLink, ...], list[TaskTotal]] = {}
    for key, row in rows.items():
        children.setdefault(key[:-1], []).append(row)
    out: list[TaskTotal] = []
    todo = sorted(children.get((), []), key=_order, reverse=True)
    while todo:
        row = todo.pop()
        out.append(row)
        todo.extend(sorted(children.get(row.path, []), key=_order, reverse=True))
    return out


def _order(row: TaskTotal) -> tuple[float, int]:
    return (-row.total, row.link.task)  # popped from the end: heaviest first, then by task id
