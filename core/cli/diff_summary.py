"""`pyrometer diff BASE NEW`: which functions and call paths gained or lost share of the time.

Each profile is normalised to its own total (analysis.diff), so a longer or
faster-sampled run compares fairly with a shorter one; absolute values are
kept alongside. JSON and text come from the same dict.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyrometer.core import fmt
from pyrometer.core.analysis.diff import diff_functions, diff_paths
from pyrometer.core.analysis.measures import clock_warning, measure_of, unknown_note
from pyrometer.core.cli.terminal_text import printable
from pyrometer.core.formats.tables import is_deterministic, sample_total
from pyrometer.core.model import UNIT_SECONDS, Profile

DIFF_VERSION = 1


def _side(profile: Profile, path: str | None, total: float) -> dict[str, Any]:
    return {
        "file": path,
        "format": profile.source_format,
        "unit": profile.unit,
        "duration_s": profile.duration() if profile.has_time else None,
        "samples": sample_total(profile),  # a collapsed line stands for its count of samples
        "total": total,
        "deterministic": is_deterministic(profile),
        "measures": {**measure_of(profile).as_dict(), "text": measure_of(profile).text},  # wall, CPU... (analysis.measures)
    }


def build_diff(
    base: Profile,
    new: Profile,
    *,
    base_path: str | None = None,
    new_path: str | None = None,
    top: int | None = None,
) -> dict[str, Any]:
    """The `diff --json` object: per-function self shares and per-path total shares, biggest change first."""
    fd = diff_functions(base, new, by="self")
    n = len(fd) if top is None else min(top, len(fd))
    functions = [
        {
            "name": fd.name[i],
            "file": fd.file[i],
            "base_pct": float(fd.base_frac[i]) * 100.0,
            "new_pct": float(fd.new_frac[i]) * 100.0,
            "delta_pct": float(fd.delta[i]) * 100.0,
            "base_self": float(fd.base_self[i]),
            "new_self": float(fd.new_self[i]),
            "base_total": float(fd.base_total[i]),
            "new_total": float(fd.new_total[i]),
        }
        for i in range(n)
    ]
    pd = diff_paths(base, new, by="total")
    shown = _without_pass_through(pd.path, pd.base_value, pd.new_value)
    m = len(shown) if top is None else min(top, len(shown))
    paths = [
        {
            "path": [_named(name, file) for name, file in pd.path[i]],
            "base_pct": float(pd.base_frac[i]) * 100.0,
            "new_pct": float(pd.new_frac[i]) * 100.0,
            "delta_pct": float(pd.delta[i]) * 100.0,
            "base_total": float(pd.base_value[i]),
            "new_total": float(pd.new_value[i]),
        }
        for i in shown[:m]
    ]
    notes = []
    base_measure, new_measure = measure_of(base), measure_of(new)
    unknown = unknown_note(base_measure, new_measure)
    if unknown:
        notes.append(unknown)
    if base.unit != new.unit:
        notes.append(f"units differ ({base.unit} vs {new.unit}): compare the percentages, not the values")
    return {
        "version": DIFF_VERSION,
        "base": _side(base, base_path, fd.base_sum),
        "new": _side(new, new_path, fd.new_sum),
        "by": "self share of each profile's total (functions), total share (paths)",
        # one function identity across formats, paths and Python versions (analysis.identity)
        "matched": {"functions": fd.matched, "only_base": fd.only_base, "only_new": fd.only_new},
        "functions_count": len(fd),
        "functions": functions,
        "paths_count": len(pd),
        "paths": paths,
        "notes": notes,
        # one line when the two measure different things (a CPU clock against a wall clock...), else null
        "clock_warning": clock_warning(base_measure, new_measure),
    }


def _without_pass_through(paths: list[tuple[Any, ...]], base: Any, new: Any) -> list[int]:
    """Rows of `paths` less each path whose whole time, in both profiles, is one longer path's.

    `worker > Event.wait` and `worker > Event.wait > Condition.wait` with the same
    shares are one finding: the longer path says it; the shorter took a row of `--top`.
    """
    values = {tuple(path): (float(b), float(n)) for path, b, n in zip(paths, base, new, strict=True)}
    covered: set[tuple[Any, ...]] = set()
    for path, value in values.items():
        parent = tuple(path[:-1])
        if parent in values and all(abs(a - b) <= 1e-9 * max(1.0, abs(a)) for a, b in zip(values[parent], value, strict=True)):
            covered.add(parent)
    return [i for i, path in enumerate(paths) if tuple(path) not in covered]


def _side_line(label: str, side: dict[str, Any]) -> str:
    name = Path(side["file"]).name if side.get("file") else "profile"
    if side["samples"] is None:
        samples = "deterministic" if side.get("deterministic", True) else "trace events"
    else:
        samples = f"{side['samples']:,} samples"
    if side["unit"] != UNIT_SECONDS and side["samples"] is not None:
        return f"{label}{name}: {side['format']}, {_duration(side)}{samples}"  # the total is that count
    unit = "s" if side["unit"] == UNIT_SECONDS else "samples"
    return f"{label}{name}: {side['format']}, {_duration(side)}{samples}, total {fmt.weight(side['total'], side['unit'], fixed=True)} {unit}"


def render_text(data: dict[str, Any]) -> str:
    lines = [_side_line("base: ", data["base"]), _side_line("new:  ", data["new"])]
    lines.append(f"measures: base {data['base']['measures']['text']}")
    lines.append(f"          new  {data['new']['measures']['text']}")
    if data.get("clock_warning"):
        lines.append(f"warning: {data['clock_warning']}")
    for note in data["notes"]:
        lines.append(f"note: {note}")
    m = data["matched"]
    lines.append(f"functions: {m['functions']:,} in both, {m['only_base']:,} only in base, {m['only_new']:,} only in new")
    lines.append("")
    lines.append(f"   self time as a share of each profile's total; {len(data['functions'])} of {data['functions_count']} functions, biggest change first")
    lines.append("")
    lines.append(f"{'base%':>7} {'new%':>7} {'change':>8}  function (file)")
    for f in data["functions"]:
        lines.append(f"{f['base_pct']:6.1f}% {f['new_pct']:6.1f}% {f['delta_pct']:+7.1f}%  {_named(f['name'], f['file'])}")
    if data["paths"]:
        lines.append("")
        lines.append("   call paths (total share), biggest change first")
        lines.append("")
        lines.append(f"{'base%':>7} {'new%':>7} {'change':>8}  path (outermost first)")
        for p in data["paths"][:10]:
            short = " > ".join(s.split(" (")[0] for s in p["path"])
            lines.append(f"{p['base_pct']:6.1f}% {p['new_pct']:6.1f}% {p['delta_pct']:+7.1f}%  {short}")
    return "\n".join(printable(line) for line in lines)  # names come from the files: no raw escapes


def _named(name: str, file: str | None) -> str:
    """`name (file)`, or the name alone when the source gave no file (collapsed stacks, built-ins)."""
    return f"{name} ({file})" if file else name


def _duration(side: dict[str, Any]) -> str:
    """`1.234 s, ` or nothing for sources without timestamps."""
    return "" if side["duration_s"] is None else f"{side['duration_s']:.3f} s, "
