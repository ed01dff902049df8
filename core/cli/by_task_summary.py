"""`pyrometer stats --by-task`: time per asyncio task, rolled up along task chains (JSON key `by_task`).

The rows are `task_totals` (the by-task flame graph's task levels): depth
first, heaviest first, each with `total_s` (its subtree's sampled time),
`own_s` (samples that ran in that task itself), `cpu_s` (thread CPU the sampler
measured for them; null when the recording has none) and `samples`. A task
seen awaited by several tasks sits under a row with `label`
`<several awaiters>` (`task` null) and lists its `awaiters`. `--top N` keeps
the first N rows.
"""

from __future__ import annotations

from typing import Any

from pyrometer.core import fmt
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.analysis.task_totals import task_totals
from pyrometer.core.model import UNIT_SECONDS, Profile

RULE = "each task under the task seen awaiting it in a stall, else its creator; a task seen awaited by several under <several awaiters>"


def by_task_summary(profile: Profile, sel: Selection | None, top: int | None) -> dict[str, Any]:
    rows, whole = task_totals(profile, sel)
    names = {tid: info.name for tid, info in profile.tasks.items()}
    index: dict[tuple[Any, ...], int] = {}
    out: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        index[row.path] = i
        link = row.link
        out.append(
            {
                "label": link.label,
                "task": link.task if link.task >= 0 else None,
                "name": names.get(link.task, link.label[6:-1]) if link.task >= 0 else None,
                "depth": row.depth,
                "parent": index.get(row.path[:-1]),
                "total_s": row.total,
                "own_s": row.own,
                "cpu_s": row.cpu,
                "samples": row.samples,
                "awaiters": [{"id": a, "name": names.get(a, f"#{a}")} for a in link.awaiters] if link.awaiters else None,
            }
        )
    return {
        "rule": RULE,
        "total_s": whole,
        "in_tasks_s": sum(r.total for r in rows if r.depth == 0),
        "rows_count": len(out),
        "rows": out if top is None else out[:top],
    }


def render_by_task(data: dict[str, Any], unit: str) -> list[str]:
    """The text section: an indented tree of task rows."""
    lines = ["", "time by task (each task under the task seen awaiting it, else its creator; docs/guide.md, By task):"]
    if not data["rows_count"]:
        lines.append("   (no sample ran in an asyncio task)")
        return lines
    share = data["in_tasks_s"] / data["total_s"] if data["total_s"] > 0 else 0.0
    lines.append(f"   {fmt.weight(data['in_tasks_s'], unit).strip()} of {fmt.weight(data['total_s'], unit).strip()} ({fmt.percent(share)}) ran in a task")
    lines.append("")
    lines.append(f"{'total':>10} {'own':>10} {'cpu':>10} {'samples':>8}  task")
    for r in data["rows"]:
        cpu = "-" if r["cpu_s"] is None else fmt.weight(r["cpu_s"], UNIT_SECONDS, fixed=True).strip()
        who = f"{r['label']} [{r['task']}]" if r["task"] is not None else r["label"]
        lines.append(
            f"{fmt.weight(r['total_s'], unit, fixed=True):>10} {fmt.weight(r['own_s'], unit, fixed=True):>10} {cpu:>10} "
            f"{r['samples']:>8,}  {'  ' * r['depth']}{who}"
        )
    hidden = data["rows_count"] - len(data["rows"])
    if hidden > 0:
        lines.append(f"   ... {hidden} more rows (--top 0 shows all)")
    return lines
