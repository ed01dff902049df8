"""SVG flame graph: written by the real CLI, parsed with xml.etree, one rect per box above the minimum width."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from cli_runs import run_cli

from pyrometer.core import example_profiles as ex
from pyrometer.core.analysis.calltree import call_tree
from pyrometer.core.analysis.flame import flame_layout
from pyrometer.core.formats import registry
from pyrometer.core.formats.recording import write_profile
from pyrometer.core.formats.svg_flame import MIN_WIDTH_PX, PAD_PX, WIDTH_PX
from pyrometer.core.model import Profile

SVG = "{http://www.w3.org/2000/svg}"


def convert_to_svg(src: Path, tmp_path: Path) -> ET.Element:
    out = tmp_path / (src.stem + ".svg")
    proc = run_cli("convert", src, out)
    assert proc.returncode == 0, proc.stderr
    return ET.parse(out).getroot()


def boxes(root: ET.Element) -> list[tuple[ET.Element, str]]:
    """(rect, tooltip) for each drawn box."""
    out = []
    for g in root.iter(f"{SVG}g"):
        rect = g.find(f"{SVG}rect")
        title = g.find(f"{SVG}title")
        if rect is not None and title is not None:
            out.append((rect, title.text or ""))
    return out


def test_server_profile_draws_every_box(tmp_path: Path) -> None:
    src = tmp_path / "server.pyro"
    write_profile(ex.server_profile(), src)
    root = convert_to_svg(src, tmp_path)
    assert root.tag == f"{SVG}svg"
    rects = list(root.iter(f"{SVG}rect"))
    drawn = boxes(root)
    assert len(rects) == len(drawn) == 7  # one per call-tree node; nothing else is a rect
    titles = {t.split(" (")[0] for _, t in drawn}
    assert titles == set(ex.SERVER_TOTAL)
    inner = WIDTH_PX - 2 * PAD_PX
    # the two roots (<module>, worker_loop) span the whole width, in proportion to their totals
    ys = [float(r.get("y", "nan")) for r, _ in drawn]
    bottom = [(r, t) for r, t in drawn if float(r.get("y", "nan")) == max(ys)]
    assert sum(float(r.get("width", "nan")) for r, _ in bottom) == pytest.approx(inner, abs=0.05)
    module = next(r for r, t in bottom if t.startswith("<module>"))
    assert float(module.get("width", "nan")) == pytest.approx(inner * 0.9 / 1.3, abs=0.05)
    # deeper frames sit higher (classic flame orientation)
    compute = next(r for r, t in drawn if t.startswith("compute "))
    assert float(compute.get("y", "nan")) < float(module.get("y", "nan"))
    assert any("46.15%" in t for _, t in drawn if t.startswith("compute "))


def wide_and_narrow_profile() -> Profile:
    """One heavy stack plus 300 one-sample stacks, most far narrower than a pixel."""
    p = Profile()
    heavy = p.intern_stack_path([p.intern_frame("main", "/a.py", 1), p.intern_frame("hot", "/a.py", 10)])
    stacks = [heavy] * 20000
    for i in range(300):
        sid = p.intern_stack_path([p.intern_frame("main", "/a.py", 1), p.intern_frame(f"tiny_{i}", "/b.py", i + 1)])
        stacks += [sid] * (1 + (i % 7) * 15)
    p.add_samples(np.arange(len(stacks)) * 0.001, 1, np.asarray(stacks), weight=0.001)
    p.finish()
    return p


def test_narrow_boxes_are_left_out(tmp_path: Path) -> None:
    src = tmp_path / "wide.pyro"
    write_profile(wide_and_narrow_profile(), src)
    profile = registry.load_profile(src)
    layout = flame_layout(call_tree(profile), "alphabetical", profile)
    scale = (WIDTH_PX - 2 * PAD_PX) / layout.total
    expected = int((layout.width * scale >= MIN_WIDTH_PX).sum())
    assert 2 < expected < len(layout)  # the test needs both kinds of box
    root = convert_to_svg(src, tmp_path)
    rects = list(root.iter(f"{SVG}rect"))
    assert len(rects) == expected
    assert all(float(r.get("width", "0")) >= MIN_WIDTH_PX for r in rects)


def test_awkward_names_are_escaped(tmp_path: Path) -> None:
    p = Profile()
    name = '<lambda> & "quotes" </svg>'
    sid = p.intern_stack_path([p.intern_frame(name, "/x<y>.py", 1)])
    p.add_samples([0.0], 1, [sid], weight=0.01)
    p.finish()
    src = tmp_path / "odd.pyro"
    write_profile(p, src)
    root = convert_to_svg(src, tmp_path)
    [(_rect, title)] = boxes(root)
    assert title.startswith(f"{name} (/x<y>.py:1)")


def test_profile_without_samples_gives_a_valid_empty_graph(tmp_path: Path) -> None:
    src = tmp_path / "det.pyro"
    write_profile(ex.deterministic_profile(), src)
    root = convert_to_svg(src, tmp_path)
    assert list(root.iter(f"{SVG}rect")) == []
    assert any("no stack samples" in (t.text or "") for t in root.iter(f"{SVG}text"))
