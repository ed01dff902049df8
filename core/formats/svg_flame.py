"""SVG flame graph export: plain text, no Qt, readable in any browser.

Classic orientation (outermost frame at the bottom, as flamegraph.pl draws
it). Boxes narrower than `min_width_px` are left out (like flamegraph.pl's
--minwidth) so a profile with 100,000 tiny boxes still gives a light file;
every drawn box is exactly one `<rect>` with a `<title>` tooltip, and
nothing else in the document is a rect, so tools can count them.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from html import escape as _html_escape
from pathlib import Path
from typing import Literal

import numpy as np

from pyrometer.core import fmt
from pyrometer.core.analysis.calltree import call_tree
from pyrometer.core.analysis.flame import flame_layout
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.formats.registry import Exporter
from pyrometer.core.model import Profile

WIDTH_PX = 1200.0
ROW_PX = 16
MIN_WIDTH_PX = 0.5
PAD_PX = 10.0
TITLE_PX = 34  # room above the graph for the title and the totals line
CHAR_PX = 6.6  # average glyph width of the 11px font, to fit labels


@dataclass(frozen=True)
class SvgOptions:
    width_px: float = WIDTH_PX
    min_width_px: float = MIN_WIDTH_PX
    title: str = "Flame graph"
    order: str = "alphabetical"  # or "left-heavy"


def escape(text: str) -> str:
    """XML text escaping (&, <, >). html.escape, because xml.sax.saxutils drags in urllib
    and http.client: 25 ms on every CLI start, since the registry imports this module."""
    return _html_escape(text, quote=False)


def box_color(name: str) -> str:
    """A stable warm colour per function name (flamegraph.pl's palette), same across runs."""
    h = zlib.crc32(name.encode("utf-8", "replace"))
    v1, v2, v3 = (h & 0xFF) / 255.0, ((h >> 8) & 0xFF) / 255.0, ((h >> 16) & 0xFF) / 255.0
    return f"rgb({205 + int(50 * v3)},{int(230 * v1)},{int(55 * v2)})"


def _fit_label(name: str, width_px: float) -> str:
    room = int((width_px - 6) / CHAR_PX)
    if room < 3:
        return ""
    return name if len(name) <= room else name[: room - 2] + ".."


def visible_boxes(widths: np.ndarray, total: float, options: SvgOptions) -> np.ndarray:
    """Indices of layout boxes wide enough to draw (the rule tests count rects with)."""
    if total <= 0 or len(widths) == 0:
        return np.zeros(0, np.int64)
    scale = (options.width_px - 2 * PAD_PX) / total
    return np.flatnonzero(widths * scale >= options.min_width_px)


def render_svg(profile: Profile, options: SvgOptions | None = None, sel: Selection | None = None) -> str:
    """The whole SVG document for the profile's samples (or a selection of them)."""
    opts = options or SvgOptions()
    order: Literal["alphabetical", "left-heavy"] = "left-heavy" if opts.order == "left-heavy" else "alphabetical"
    layout = flame_layout(call_tree(profile, sel), order, profile)
    total = float(layout.total)
    keep = visible_boxes(layout.width, total, opts)
    depth_rows = int(layout.depth[keep].max(initial=-1)) + 1 if len(keep) else 0
    height = TITLE_PX + max(depth_rows, 1) * ROW_PX + 2 * PAD_PX
    inner = opts.width_px - 2 * PAD_PX
    scale = inner / total if total > 0 else 0.0
    base_y = height - PAD_PX - ROW_PX  # depth 0 sits on the bottom row

    out: list[str] = [
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{opts.width_px:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {opts.width_px:.0f} {height:.0f}" font-family="Verdana, sans-serif" font-size="11" '
        'style="background-color:#fcfcf4">',
        "<style>g.f:hover>rect{stroke:#000;stroke-width:0.6}text.l{pointer-events:none}</style>",
        f'<text x="{opts.width_px / 2:.1f}" y="18" font-size="15" text-anchor="middle">{escape(opts.title)}</text>',
        f'<text x="{PAD_PX:.0f}" y="32" fill="#555">{escape(_summary_line(profile, total, len(keep), len(layout)))}</text>',
    ]
    if not len(keep):
        out.append(f'<text x="{PAD_PX:.0f}" y="{base_y + 12:.0f}" fill="#888">no stack samples to draw</text>')
    names, files, lines = profile.func_name, profile.func_file, profile.func_line
    xs = (PAD_PX + layout.x[keep] * scale).tolist()
    ws = (layout.width[keep] * scale).tolist()
    ds = layout.depth[keep].tolist()
    funcs = layout.func[keep].tolist()
    amounts = layout.width[keep].tolist()
    pct = 100.0 / total if total > 0 else 0.0
    for x, w, d, f, amount in zip(xs, ws, ds, funcs, amounts, strict=True):
        name = names[f]
        y = base_y - d * ROW_PX
        tip = f"{name} ({files[f]}:{lines[f]}) — {fmt.weight(amount, profile.unit)}, {amount * pct:.2f}%"
        label = _fit_label(name, w)
        text = f'<text class="l" x="{x + 3:.1f}" y="{y + 11.5:.1f}">{escape(label)}</text>' if label else ""
        out.append(
            f'<g class="f"><title>{escape(tip)}</title>'
            f'<rect x="{x:.2f}" y="{y:.0f}" width="{w:.2f}" height="{ROW_PX - 1}" rx="2" fill="{box_color(name)}"/>'
            f"{text}</g>"
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _summary_line(profile: Profile, total: float, drawn: int, boxes: int) -> str:
    hidden = boxes - drawn
    extra = f"; {hidden:,} boxes under {MIN_WIDTH_PX:g}px not drawn" if hidden else ""
    return f"{fmt.weight(total, profile.unit)} in {profile.sample_count:,} samples, {drawn:,} boxes{extra}"


def write_svg(profile: Profile, path: Path) -> None:
    title = str(profile.meta.get("title") or f"Flame graph ({profile.source_format})")
    Path(path).write_text(render_svg(profile, SvgOptions(title=title)), encoding="utf-8", errors="backslashreplace")


EXPORTER = Exporter("svg", "SVG flame graph", (".svg",), write_svg)
