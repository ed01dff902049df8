"""`pyrometer history` output: the programs list, and one program's report as text, JSON or CSV.

The JSON object is a contract (issue 14 names its keys); the CSV is its
function table, one row per function, for a spreadsheet.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pyrometer.core.history.analysis import (
    FunctionHistory,
    HistoryReport,
    critical_z,
    measures_note,
    sparkline,
    trend,
)
from pyrometer.core.history.store import ProgramSummary

CSV_COLUMNS = (
    "name", "file", "runs", "avg_s", "min_s", "max_s", "last_s", "avg_pct", "last_pct", "bottleneck", "regression", "change_pct",
    "avg_cpu_s", "last_cpu_s",
)


def iso(t: float) -> str:
    """Epoch seconds as ISO 8601 UTC, e.g. 2026-12-03T02:10:11.123+00:00."""
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds")


def local_time(t: float) -> str:
    return datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S")


def trend_text(durations: list[float | None]) -> str:
    change = trend(durations)
    if change is None:
        if len(durations) < 2:
            return "first run"
        return "duration unknown" if durations[-1] is None else "no earlier duration known"
    before = sum(d is not None for d in durations[:-1])  # runs of unknown duration are left out of the average
    shown = round(change)  # an arrow only for a change that shows: "↓ -0%" read as a drop of nothing
    if shown == 0:
        return f"= 0% vs the {before} before"
    return f"{'↑' if shown > 0 else '↓'} {shown:+d}% vs the {before} before"


def seconds_cell(value: float | None, width: int = 8) -> str:
    """`1.234s` right-aligned, or `unknown` for a run whose file gave no duration."""
    return f"{'unknown':>{width + 1}}" if value is None else f"{value:>{width}.3f}s"


def render_programs(programs: list[ProgramSummary], db: Path) -> str:
    if not programs:
        return f"no runs in the history yet ({db}); `pyrometer record` adds one per recording"
    trends = [f"{sparkline(p.durations)} {trend_text(p.durations)}" for p in programs]
    width = max(len("trend (last 10 runs)"), *(len(t) for t in trends))
    lines = [f"history: {db}", "", f"  {'runs':>5}  {'last run':19}  {'duration':>9}  {'trend (last 10 runs)':{width}}  program"]
    for p, t in zip(programs, trends, strict=True):
        lines.append(f"  {p.runs:>5}  {local_time(p.last_started):19}  {seconds_cell(p.last_duration_s)}  {t:{width}}  {p.key}")
    return "\n".join(lines)


def report_dict(report: HistoryReport) -> dict[str, Any]:
    """The `--json` object: the keys issue 14 names, each run's on-CPU seconds (`cpu_s`, null: not measured)
    and what it measures (`measures`: wall, cpu..., null: not known)."""
    return {
        "program": report.program,
        "runs": [
            {
                "id": r.id,
                "started": iso(r.started),
                "duration_s": r.duration_s,
                "cpu_s": r.cpu_s,
                "measures": r.measures,  # wall, cpu, running, instructions... (analysis.measures); null: not known
                "samples": r.samples,
                "exit_status": r.exit_status,
                "path": r.path,
            }
            for r in report.runs
        ],
        "functions": [
            {
                "name": f.name,
                "file": f.file,
                "runs": f.runs,
                "avg_s": f.avg_s,
                "min_s": f.min_s,
                "max_s": f.max_s,
                "last_s": f.last_s,
                "avg_pct": f.avg_pct,
                "last_pct": f.last_pct,
                "avg_cpu_s": f.avg_cpu_s,
                "last_cpu_s": f.last_cpu_s,
            }
            for f in report.functions
        ],
        "bottlenecks": [b.name for b in report.bottlenecks],
        "regressions": [
            {
                "name": g.name,
                "file": g.file,
                "direction": g.direction,
                "last_s": g.last_s,
                "avg_s": g.avg_s,
                "change_pct": g.change_pct,
            }
            for g in report.regressions
        ],
    }


def _num(v: float | None) -> str:
    return "" if v is None or not math.isfinite(v) else repr(v)


def render_csv(report: HistoryReport) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    bottlenecks = {b.ident for b in report.bottlenecks}
    flagged = {g.ident: g for g in report.regressions}
    for f in report.functions:
        g = flagged.get(f.ident)
        w.writerow(
            [f.name, f.file, f.runs, _num(f.avg_s), _num(f.min_s), _num(f.max_s), _num(f.last_s), _num(f.avg_pct),
             _num(f.last_pct), "1" if f.ident in bottlenecks else "0", g.direction if g else "", _num(g.change_pct) if g else "",
             _num(f.avg_cpu_s), _num(f.last_cpu_s)]
        )
    return buf.getvalue()


def _where(file: str) -> str:
    return Path(file).name if file else "?"


def _tail(file: str, parts: int) -> str:
    return "/".join(Path(file).parts[-parts:]) if file else "?"


def _def_line(ident: str) -> int:
    """The def line in a function's history ident ("file\x1fname\x1fline"), 0 when it has none."""
    line = ident.rsplit("\x1f", 1)[-1]
    return int(line) if line.isdigit() else 0


def _places(functions: list[FunctionHistory]) -> dict[str, str]:
    """ident -> where it is, for people: the file name, with as much of its path as tells apart
    functions of one name in files of one name (3.11's and 3.13's threading.py), and the def
    line where one file holds several (pstats' `wait` of Condition and of Event)."""
    groups: dict[tuple[str, str], list[FunctionHistory]] = {}
    for f in functions:
        groups.setdefault((f.name, _where(f.file)), []).append(f)
    out: dict[str, str] = {}
    for members in groups.values():
        if len(members) == 1:
            out[members[0].ident] = _where(members[0].file)
            continue
        for f in members:
            others = {o.file for o in members if o.file != f.file}
            n = 1
            while n < len(Path(f.file).parts) and any(_tail(o, n) == _tail(f.file, n) for o in others):
                n += 1
            out[f.ident] = _tail(f.file, n)
        for f in members:
            line = _def_line(f.ident)
            if line > 0 and sum(out[o.ident] == out[f.ident] for o in members) > 1:
                out[f.ident] += f":{line}"
    return out


def render_text(report: HistoryReport, top: int | None = 20) -> str:
    runs = report.runs
    if not runs:
        return f"{report.program}: no runs in the history"
    lines = [f"{report.program}: {len(runs)} run{'s' * (len(runs) != 1)}, {local_time(runs[0].started)} to {local_time(runs[-1].started)}", ""]
    lines.append(f"  {'id':>5}  {'started':19}  {'duration':>9}  {'on-CPU':>9}  {'samples':>8}  {'exit':>4}  recording")
    for r in runs:
        gone = "" if r.path is None or Path(r.path).exists() else "  (deleted)"
        cpu = "-" if r.cpu_s is None else f"{r.cpu_s:.3f}s"
        lines.append(
            f"  {r.id:>5}  {local_time(r.started):19}  {seconds_cell(r.duration_s)}  {cpu:>9}  {'-' if r.samples is None else r.samples:>8}"
            f"  {'-' if r.exit_status is None else r.exit_status:>4}  {r.path or '-'}{gone}"
        )
    lines.append(f"  duration {sparkline([r.duration_s for r in runs])}  {trend_text([r.duration_s for r in runs])}")
    if any(r.cpu_s is not None for r in runs):
        lines.append("  on-CPU: seconds all threads spent on CPU, from the samples' thread CPU clock (- : not measured)")
    # a trace-mode run lists every function yappi saw; those never sampled in any run only fill rows
    timed = [f for f in report.functions if f.max_s > 0]
    shown = timed if top is None else timed[:top]
    never = len(report.functions) - len(timed)
    left_out = f" ({never:,} with no self time in any run left out)" if never else ""
    lines += ["", f"   self seconds per run over {len(runs)} run{'s' * (len(runs) != 1)}; {len(shown)} of {len(report.functions)} functions, by average{left_out}"]
    if any(f.avg_cpu_s is not None for f in timed):
        lines.append("   avg cpu: on-CPU self seconds (thread CPU clock), averaged over the runs that measured it")
    lines.append("")
    has_cpu = any(f.avg_cpu_s is not None for f in shown)
    cpu_head = f" {'avg cpu':>8}" if has_cpu else ""
    lines.append(f"  {'avg':>8} {'min':>8} {'max':>8} {'last':>8} {'avg%':>6} {'last%':>6}{cpu_head} {'runs':>4}  function (file)")
    places = _places(report.functions)
    for f in shown:
        cpu_cell = (" " + ("-" if f.avg_cpu_s is None else f"{f.avg_cpu_s:.3f}").rjust(8)) if has_cpu else ""
        lines.append(
            f"  {f.avg_s:8.3f} {f.min_s:8.3f} {f.max_s:8.3f} {f.last_s:8.3f} {f.avg_pct:5.1f}% {f.last_pct:5.1f}%{cpu_cell} {f.runs:>4}"
            f"  {f.name} ({places.get(f.ident, _where(f.file))})"
        )
    lines += ["", "bottlenecks (average self share):"]
    bottlenecks = report.bottlenecks if top is None else report.bottlenecks[:top]  # --top N limits every list
    lines += [f"  {i}. {b.name} ({places.get(b.ident, _where(b.file))}) {b.avg_pct:.1f}%" for i, b in enumerate(bottlenecks, 1)] or ["  none"]
    mixed = measures_note(runs)
    if mixed:
        lines += ["", f"note: {mixed}"]
    if len(runs) < 2:
        lines += ["", "regressions: need at least two runs"]
    elif not report.regressions:
        lines += ["", f"regressions: none beyond sampling noise (last run against the {len(runs) - 1} before it)"]
    else:
        z = critical_z(len(report.functions))
        lines += ["", f"regressions (last run against the {len(runs) - 1} before it; |z| > {z:.1f}):"]
        for g in report.regressions:
            change = "new" if g.change_pct is None else f"{g.change_pct:+.0f}%"
            lines.append(
                f"  {g.direction:6}  {g.name} ({places.get(g.ident, _where(g.file))}): {g.avg_s:.3f} s -> {g.last_s:.3f} s ({change}),"
                f" share {g.avg_pct:.1f}% -> {g.last_pct:.1f}%"
            )
    return "\n".join(lines)
