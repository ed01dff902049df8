"""A single self-contained HTML report that works offline and can be mailed or attached to a CI run.

Everything is inline: CSS, the flame graph (the SVG exporter's drawing,
embedded as inline SVG, with a few lines of inline script for click-to-zoom),
the lag plot (a small inline SVG). No script, font, stylesheet or image is
fetched from anywhere, so the page contains no external URL at all. The numbers come from `summary.build_summary`, the same
object `pyrometer stats --json` prints.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from pyrometer.core import fmt
from pyrometer.core.formats.registry import Exporter
from pyrometer.core.formats.svg_flame import CHAR_PX, PAD_PX, SvgOptions, render_svg
from pyrometer.core.model import Profile

TOP_FUNCTIONS = 50
MAX_BLOCKING = 200
MAX_TASKS = 500

CSS = """
body{font:14px/1.45 -apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.sub{color:#666;margin-bottom:12px}
table{border-collapse:collapse;font-size:13px}th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{background:#f6f6f6;position:sticky;top:0}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.loc{color:#666;font-family:Menlo,Consolas,monospace;font-size:12px}
.bar{display:inline-block;height:9px;background:#e8743b;vertical-align:middle;margin-right:4px}
.flame{overflow-x:auto;border:1px solid #eee}
.kv{display:grid;grid-template-columns:max-content auto;gap:2px 16px}
details summary{cursor:pointer}ol.stack{margin:4px 0 4px 18px;font-family:Menlo,Consolas,monospace;font-size:12px}
.state-failed{color:#b00}.state-cancelled{color:#a60}.state-pending{color:#06c}
.muted{color:#888}
.flame g.f{cursor:pointer}
"""

# Click a box to zoom into it, double-click to zoom out (flamegraph.pl's behaviour).
# Inline and dependency-free; new text nodes take the SVG's own namespace, so
# the page still names no URL.
ZOOM_JS = """
(function () {
  var svg = document.querySelector('.flame svg');
  if (!svg) return;
  var PAD = %(pad)s, CH = %(char)s, inner = +svg.getAttribute('width') - 2 * PAD;
  var boxes = Array.prototype.map.call(svg.querySelectorAll('g.f'), function (g) {
    var r = g.querySelector('rect'), tip = g.querySelector('title').textContent;
    var cut = tip.lastIndexOf(' (', tip.indexOf(' \u2014 '));
    return {g: g, r: r, t: g.querySelector('text'), x: +r.getAttribute('x'), w: +r.getAttribute('width'),
            y: +r.getAttribute('y'), name: cut > 0 ? tip.slice(0, cut) : tip};
  });
  function label(b, x, w) {
    var n = Math.floor((w - 6) / CH), text = n < 3 ? '' : (b.name.length <= n ? b.name : b.name.slice(0, n - 2) + '..');
    if (!b.t && text) {
      b.t = document.createElementNS(svg.namespaceURI, 'text');
      b.t.setAttribute('class', 'l'); b.t.setAttribute('y', b.y + 11.5); b.g.appendChild(b.t);
    }
    if (b.t) { b.t.setAttribute('x', x + 3); b.t.textContent = text; }
  }
  function zoom(z) {
    boxes.forEach(function (b) {
      var x = b.x, w = b.w, show = true, eps = 0.05;  // positions are rounded to 0.01 px
      if (z) {
        if (b.y <= z.y && b.x >= z.x - eps && b.x + b.w <= z.x + z.w + eps) {
          x = PAD + (b.x - z.x) * inner / z.w; w = b.w * inner / z.w;
        } else if (b.y > z.y && b.x <= z.x + eps && b.x + b.w >= z.x + z.w - eps) {
          x = PAD; w = inner;
        } else { show = false; }
      }
      b.g.style.display = show ? '' : 'none';
      if (show) { b.r.setAttribute('x', x); b.r.setAttribute('width', w); label(b, x, w); }
    });
  }
  boxes.forEach(function (b) { b.g.addEventListener('click', function () { zoom(b); }); });
  svg.addEventListener('dblclick', function () { zoom(null); });
})();
"""


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _time(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} s"


def _inline_svg(svg: str) -> str:
    """SVG document -> inline SVG element: drop the XML prolog and the namespace URL (HTML does not need it)."""
    svg = re.sub(r"^<\?xml[^>]*\?>\s*", "", svg)
    return svg.replace(' xmlns="http://www.w3.org/2000/svg"', "", 1)


def lag_plot_svg(profile: Profile, width: int = 900, height: int = 120) -> str:
    """Lag over time as an inline SVG polyline (max per pixel column, so spikes survive)."""
    if not len(profile.lag):
        return ""
    t = profile.lag["time"].astype(np.float64)
    lag_ms = profile.lag["lag"].astype(np.float64) * 1e3
    t0, t1 = float(t.min()), float(t.max())
    span = max(t1 - t0, 1e-9)
    cols = np.clip(((t - t0) / span * (width - 1)).astype(np.int64), 0, width - 1)
    peak = np.full(width, np.nan)
    np.fmax.at(peak, cols, lag_ms)
    xs = np.flatnonzero(~np.isnan(peak))
    top = max(float(np.nanmax(peak)), 1.0)
    ys = height - 14 - peak[xs] / top * (height - 24)
    points = " ".join(f"{x},{y:.1f}" for x, y in zip(xs.tolist(), ys.tolist(), strict=True))
    return (
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="event-loop lag over time">'
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fafafa"/>'
        f'<polyline fill="none" stroke="#c0392b" stroke-width="1" points="{points}"/>'
        f'<text x="4" y="12" font-size="11" fill="#666">event-loop lag over time (max lag {float(np.nanmax(peak)):.1f} ms)</text>'
        f'<text x="4" y="{height - 2}" font-size="11" fill="#666">{t0:.2f} s</text>'
        f'<text x="{width - 4}" y="{height - 2}" font-size="11" fill="#666" text-anchor="end">{t1:.2f} s</text>'
        "</svg>"
    )


def _functions_html(data: dict[str, Any]) -> str:
    unit = data["unit"]
    cpu = data.get("cpu")  # the samples' thread CPU clock: on-CPU seconds beside the sampled wall time
    rows = []
    for f in data["functions"]:
        width = max(0.0, min(100.0, f["self_pct"]))
        calls = "-" if f["calls"] is None else f"{f['calls']:,}"
        cpu_cells = (
            f'<td class="n">{fmt.weight(f.get("cpu_self"), "seconds")}</td><td class="n">{fmt.weight(f.get("cpu_total"), "seconds")}</td>'
            if cpu
            else ""
        )
        rows.append(
            "<tr>"
            f'<td class="n"><span class="bar" style="width:{width * 0.8:.1f}px"></span>{f["self_pct"]:.1f}%</td>'
            f'<td class="n">{fmt.weight(f["self"], unit)}</td>'
            f'<td class="n">{f["total_pct"]:.1f}%</td><td class="n">{fmt.weight(f["total"], unit)}</td>'
            f'{cpu_cells}<td class="n">{calls}</td>'
            f'<td>{escape(f["name"])}</td><td class="loc">{escape(fmt.file_line(f["file"], f["line"]))}</td>'
            "</tr>"
        )
    if not rows:
        return '<p class="muted">No functions in this profile.</p>'
    shown = len(rows)
    note = f'<p class="muted">Top {shown} of {data["functions_count"]:,} functions by self cost.</p>'
    if cpu:
        note += (
            f'<p class="muted">self/total: sampled wall time; cpu self/cpu total: on-CPU time of the same samples '
            f"({cpu['total_s']:.3f} s in all, by the {escape(str(cpu['clock']))}).</p>"
        )
    cpu_heads = "<th>cpu self</th><th>cpu total</th>" if cpu else ""
    return (
        note + '<table id="functions"><thead><tr><th>self %</th><th>self</th><th>total %</th><th>total</th>'
        f"{cpu_heads}<th>calls</th><th>function</th><th>location</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _loop_html(profile: Profile, loop: dict[str, Any] | None) -> str:
    if loop is None:
        return '<p class="muted">No event-loop data (no lag probes or blocking events in this profile).</p>'
    lag = loop["lag_ms"]
    parts = [
        '<div class="kv">',
        f"<div>lag probes</div><div>{loop['probes']:,}</div>",
        f"<div>lag p50 / p95 / p99</div><div>{_ms(lag['p50'])} / {_ms(lag['p95'])} / {_ms(lag['p99'])}</div>",
        f"<div>lag max</div><div>{_ms(lag['max'])}</div>",
        f"<div>blocking events</div><div>{len(loop['blocking']):,}</div>",
        "</div>",
        lag_plot_svg(profile),
        '<h2 id="blocking-events">Blocking events</h2>',
    ]
    events = loop["blocking"]
    if not events:
        parts.append('<p class="muted">The loop was never blocked past the threshold.</p>')
        return "".join(parts)
    ranked = sorted(events, key=lambda e: -e["duration_ms"])[:MAX_BLOCKING]
    if len(events) > MAX_BLOCKING:
        parts.append(f'<p class="muted">The {MAX_BLOCKING} longest of {len(events):,} events.</p>')
    parts.append(
        '<table id="blocking"><thead><tr><th>start</th><th>blocked for</th><th>in function</th><th>by task</th>'
        "<th>delayed tasks</th><th>stack (innermost first)</th></tr></thead><tbody>"
    )
    for e in ranked:
        where = escape(f"{e['function']} ({e['file']}:{e['line']})") if e["function"] else '<span class="muted">unknown</span>'
        stack = "".join(f"<li>{escape(s)}</li>" for s in e["stack"])
        parts.append(
            f'<tr><td class="n">{_time(e["start_s"])}</td><td class="n">{_ms(e["duration_ms"])}</td><td>{where}</td>'
            f"<td>{_blocker_html(e)}</td><td>{_delayed_html(e)}</td>"
            f"<td><details><summary>{len(e['stack'])} frames</summary><ol class=\"stack\">{stack}</ol></details></td></tr>"
        )
    parts.append("</tbody></table>")
    return "".join(parts)


def _blocker_html(event: dict[str, Any]) -> str:
    """The task that held the loop, along the chain awaiting it (as `stats` prints it), and when one
    loop iteration ran several blocking steps, each of them with its own share."""
    chain = event.get("await_chain") or []
    if chain:
        who = " &larr; ".join(escape(f"{c['name']} [{c['id']}]") for c in chain)
    elif event.get("task_name"):
        who = escape(f"{event['task_name']} [{event['task']}]")
    else:
        who = '<span class="muted">-</span>'
    steps = event.get("steps") or []
    if len(steps) < 2:
        return who
    items = "".join(f"<li>{escape(_step_name(s))} {_ms(s['duration_ms'])}</li>" for s in steps)
    return f'{who}<ol class="steps" title="each step that held the loop in this stall, longest first">{items}</ol>'


def _step_name(step: dict[str, Any]) -> str:
    """`name [task]` of a stall's step (a plain callback has no task)."""
    return str(step["name"]) if step["task"] is None else f"{step['name']} [{step['task']}]"


def _delayed_html(event: dict[str, Any]) -> str:
    """How many tasks the stall made late, the first few with their delay (the full list in a fold)."""
    delayed = event.get("delayed") or []
    unrecorded = int(event.get("delayed_unrecorded") or 0)
    if not delayed and not unrecorded:
        return '<span class="muted">none</span>'
    items = "".join(f"<li>{escape(str(d['name']))} [{d['task']}] {_ms(d['delay_ms'])}</li>" for d in delayed)
    more = f"<li>{unrecorded:,} more not recorded one by one</li>" if unrecorded else ""
    return f"<details><summary>{len(delayed) + unrecorded:,} tasks</summary><ol>{items}{more}</ol></details>"


def _tasks_html(tasks: dict[str, Any] | None) -> str:
    if tasks is None:
        return '<p class="muted">No asyncio task data in this profile.</p>'
    states = ", ".join(f"{n:,} {escape(s)}" for s, n in sorted(tasks["states"].items()))
    own = tasks.get("asyncio_own") or 0  # asyncio.run's shutdown steps: listed below, not counted
    also = f" Not counted: {own:,} asyncio.run made for its own shutdown (listed as asyncio:…)." if own else ""
    parts = [f"<p>{tasks['created']:,} tasks created: {states}.{also}</p>"]
    rows = tasks["list"][:MAX_TASKS]
    if len(tasks["list"]) > MAX_TASKS:
        parts.append(f'<p class="muted">First {MAX_TASKS} of {len(tasks["list"]):,} tasks.</p>')
    parts.append(
        '<table id="tasks"><thead><tr><th>id</th><th>name</th><th>parent</th><th>state</th><th>coroutine</th>'
        "<th>created</th><th>ended</th></tr></thead><tbody>"
    )
    for t in rows:
        state = escape(str(t["state"]))
        parent = "-" if t["parent"] is None else str(t["parent"])
        parts.append(
            f'<tr><td class="n">{t["id"]}</td><td>{escape(str(t["name"]))}</td><td class="n">{parent}</td>'
            f'<td class="state-{state}">{state}</td><td class="loc">{escape(str(t["coroutine"]))}</td>'
            f'<td class="n">{_time(t["created_s"])}</td><td class="n">{_time(t["ended_s"])}</td></tr>'
        )
    parts.append("</tbody></table>")
    return "".join(parts)


def _threads_html(data: dict[str, Any]) -> str:
    if not data["threads"]:
        return ""
    cpu = data.get("cpu")
    on_cpu = {t["id"]: t["cpu_s"] for t in cpu["threads"]} if cpu else {}
    rows = "".join(
        f'<tr><td class="n">{t["id"]}</td><td>{escape(str(t["name"]))}</td><td class="n">{t["samples"]:,}</td>'
        + (f'<td class="n">{fmt.weight(on_cpu.get(t["id"]), "seconds")}</td>' if cpu else "")
        + "</tr>"
        for t in data["threads"]
    )
    return (
        '<h2>Threads</h2><table id="threads"><thead><tr><th>id</th><th>name</th><th>samples</th>'
        + ("<th>on CPU</th>" if cpu else "")
        + "</tr></thead><tbody>"
        + rows
        + "</tbody></table>"
    )


def render_report(profile: Profile, title: str | None = None, t_from: float | None = None, t_to: float | None = None) -> str:
    """The whole HTML page (of the part of the run from `t_from` to `t_to`, when given)."""
    from pyrometer.core.analysis.selection import Selection
    from pyrometer.core.cli.summary import build_summary, header_line

    data = build_summary(profile, top=TOP_FUNCTIONS, t_from=t_from, t_to=t_to)
    name = title or str(profile.meta.get("title") or "profile")
    data["file"] = name
    sel = Selection(t_from, t_to) if t_from is not None or t_to is not None else None
    flame = _inline_svg(render_svg(profile, SvgOptions(title=f"Flame graph: {name}"), sel))
    notices = "".join(f'<p class="muted">Notice: {escape(n)}</p>' for n in data["notices"])
    return "".join(
        [
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>Pyrometer report: {escape(name)}</title><style>{CSS}</style></head><body>",
            f"<h1>Pyrometer report: {escape(name)}</h1>",
            f'<div class="sub">{escape(header_line(data))}</div>',
            _range_note(t_from, t_to),
            notices,
            '<h2 id="flame-graph">Flame graph</h2>',
            (
                '<p class="muted">Click a box to zoom in, double-click the graph to zoom out; hover for details.</p>'
                f'<div class="flame">{flame}</div><script>{ZOOM_JS % {"pad": PAD_PX, "char": CHAR_PX}}</script>'
            )
            if profile.sample_count
            else '<p class="muted">No stack samples (a deterministic profile): see the function table.</p>',
            '<h2 id="top-functions">Top functions</h2>',
            _functions_html(data),
            '<h2 id="event-loop">Event loop</h2>',
            _loop_html(profile, data["loop"]),
            '<h2 id="tasks-summary">Asyncio tasks</h2>',
            _tasks_html(data["tasks"]),
            _threads_html(data),
            '<p class="muted" style="margin-top:32px">Written by Pyrometer. This page is self-contained and works offline.</p>',
            "</body></html>\n",
        ]
    )


def _range_note(t_from: float | None, t_to: float | None) -> str:
    if t_from is None and t_to is None:
        return ""
    a = "the start" if t_from is None else f"{t_from:g} s"
    b = "the end" if t_to is None else f"{t_to:g} s"
    return f'<div class="sub" id="range">Part of the run: from {a} to {b}</div>'


def write_report(
    profile: Profile, path: Path, title: str | None = None, t_from: float | None = None, t_to: float | None = None
) -> None:
    Path(path).write_text(render_report(profile, title, t_from, t_to), encoding="utf-8", errors="backslashreplace")


def _write(profile: Profile, path: Path) -> None:
    write_report(profile, path)


EXPORTER = Exporter("html", "HTML report", (".html", ".htm"), _write)
