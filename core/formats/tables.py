"""Function-table exports: CSV (`.csv`) and JSON (`.functions.json`).

One row per function with self/total cost, percentages, sample counts and
call counts where the source knows them: what a spreadsheet or a CI script
wants from a profile. `function_rows` is also the row shape of
`pyrometer stats --json`, so the two never disagree. Numbers are written with
full precision (repr), so parsing the file back gives the same values.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from pyrometer.core.analysis.functions import function_table
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.formats.registry import Exporter
from pyrometer.core.model import UNIT_SAMPLES, Profile

CSV_COLUMNS = (
    "name",
    "file",
    "line",
    "self",
    "total",
    "self_pct",
    "total_pct",
    "samples",
    "self_samples",
    "calls",
    "per_call",
    "unit",
)
JSON_KIND = "pyrometer-function-table"
JSON_VERSION = 1


def is_deterministic(profile: Profile) -> bool:
    """True for sources that count calls instead of sampling stacks (cProfile, yappi, callgrind)."""
    if profile.meta.get("deterministic"):
        return True
    return profile.func_stats is not None and profile.sample_count == 0


def is_traced(profile: Profile) -> bool:
    """True for trace events (VizTracer, DevTools timelines): spans of calls, whose pieces are no samples."""
    return bool(profile.meta.get("traced"))


def sample_total(profile: Profile) -> int | None:
    """How many stack samples the profile holds, as `stats` and the status bar say it; None when it
    holds none (call statistics, trace events). A row of a "samples" profile may stand for several."""
    if is_deterministic(profile) or is_traced(profile):
        return None
    if profile.unit == UNIT_SAMPLES:
        return round(float(profile.samples["weight"].sum(dtype=np.float64)))
    return profile.sample_count


def function_rows(
    profile: Profile, sel: Selection | None = None, top: int | None = None,
    stack_totals: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[list[dict[str, Any]], float]:
    """Rows sorted by self, descending (first `top` only when given), and the total they are percentages of.

    `calls`/`per_call` are None when unknown; `samples`/`self_samples` are None
    for deterministic sources, which have no samples. `stack_totals`: the
    selection's (weight, count) per stack when known already (a recording's index).
    """
    table = function_table(profile, sel, stack_totals=stack_totals)
    n = len(table) if top is None else min(top, len(table))
    names, files, lines = profile.func_name, profile.func_file, profile.func_line
    deterministic = is_deterministic(profile)
    rows = []
    funcs = table.func[:n].tolist()
    selfs = table.self_weight[:n].tolist()
    totals = table.total_weight[:n].tolist()
    self_pct = table.self_pct[:n].tolist()
    total_pct = table.total_pct[:n].tolist()
    samples = table.samples[:n].tolist()
    self_samples = table.self_samples[:n].tolist()
    calls = table.calls[:n].tolist()
    per_call = table.per_call[:n].tolist()
    traced = table.trace_clock is not None and table.traced_self is not None and table.traced_total is not None
    t_self = table.traced_self[:n].tolist() if traced and table.traced_self is not None else []
    t_total = table.traced_total[:n].tolist() if traced and table.traced_total is not None else []
    t_wall = table.task_wall_per_call[:n].tolist() if traced and table.task_wall_per_call is not None else []
    for i, f in enumerate(funcs):
        rows.append(
            {
                "name": names[f],
                "file": files[f],
                "line": lines[f],
                "self": selfs[i],
                "total": totals[i],
                "self_pct": self_pct[i],
                "total_pct": total_pct[i],
                "calls": calls[i] if calls[i] >= 0 else None,
                "per_call": per_call[i] if math.isfinite(per_call[i]) else None,
                "samples": None if deterministic else samples[i],
                "self_samples": None if deterministic else self_samples[i],
            }
        )
        if traced:  # trace mode: exact figures in the trace clock (`trace_clock`), whole run
            rows[-1]["traced_self"] = _finite(t_self[i])
            rows[-1]["traced_total"] = _finite(t_total[i])
            rows[-1]["task_wall_per_call"] = _finite(t_wall[i])
    return rows, float(table.total)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_csv(profile: Profile, path: Path) -> None:
    rows, _ = function_rows(profile)
    with open(path, "w", encoding="utf-8", errors="backslashreplace", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            row = {**row, "unit": profile.unit}
            writer.writerow([_cell(row[c]) for c in CSV_COLUMNS])


def table_document(profile: Profile) -> dict[str, Any]:
    """The `.functions.json` object: the rows plus what their numbers mean."""
    rows, total = function_rows(profile)
    return {
        "kind": JSON_KIND,
        "version": JSON_VERSION,
        "source_format": profile.source_format,
        "unit": profile.unit,
        "total": total,
        "samples": sample_total(profile),
        "functions": rows,
    }


def write_json(profile: Profile, path: Path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(table_document(profile), fh, indent=1, allow_nan=False)
        fh.write("\n")


CSV_EXPORTER = Exporter("csv", "CSV function table", (".csv",), write_csv)
JSON_EXPORTER = Exporter("functions-json", "JSON function table", (".functions.json",), write_json)
EXPORTERS = (CSV_EXPORTER, JSON_EXPORTER)
