"""The HTML report: written by the real CLI, self-contained (no external URL), with the numbers that matter."""

from __future__ import annotations

import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from cli_runs import run_cli
from hand_profiles import one_function_recording

from pyrometer.core import example_profiles as ex
from pyrometer.core.formats.recording import write_profile


def report(src: Path, out: Path) -> str:
    proc = run_cli("report", src, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return out.read_text(encoding="utf-8")


class Page(HTMLParser):
    """Collects tags, resource-bearing attributes and the text of each table (by id)."""

    VOID = frozenset({"meta", "link", "br", "img", "input", "hr", "rect", "polyline", "path", "col"})

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.resource_attrs: list[tuple[str, str, str]] = []
        self.open: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for k, v in attrs:
            if k in ("src", "href", "xlink:href", "action") or (v and "url(" in v):
                self.resource_attrs.append((tag, k, v or ""))
        if tag not in self.VOID:
            self.open.append(tag)
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("id") or f"table{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for k, v in attrs:
            if k in ("src", "href", "xlink:href"):
                self.resource_attrs.append((tag, k, v or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        assert self.open and self.open[-1] == tag, (tag, self.open[-5:])
        self.open.pop()
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    assert page.open == [], page.open  # every element closed, properly nested
    return page


@pytest.fixture
def server_html(tmp_path: Path) -> str:
    src = tmp_path / "server.pyro"
    write_profile(ex.server_profile(), src)
    return report(src, tmp_path / "report.html")


def test_report_is_self_contained(server_html: str) -> None:
    assert "http" not in server_html.lower()
    page = parse(server_html)
    assert page.resource_attrs == []
    assert "link" not in page.tags and "img" not in page.tags  # scripts may only be inline (no src)
    assert page.tags.count("svg") >= 1 and "rect" in page.tags  # the flame graph is inline


def test_report_has_top_functions_in_order(server_html: str) -> None:
    page = parse(server_html)
    rows = page.tables["functions"][1:]
    assert [r[5] for r in rows] == ["compute", "fetch", "dumps", "main", "worker_loop", "<module>", "Server.handle"][: len(rows)]
    compute = rows[0]
    assert compute[0] == "46.2%" and compute[1] == "600.0 ms" and compute[6] == f"{ex.APP}:10"


def test_report_has_blocking_events_with_stacks(server_html: str) -> None:
    page = parse(server_html)
    [header, event] = page.tables["blocking"]
    assert header[:3] == ["start", "blocked for", "in function"]
    assert event[0] == "0.500 s" and event[1] == "120.0 ms"
    assert event[2] == f"compute ({ex.APP}:12)"
    for label in (f"compute ({ex.APP}:12)", f"Server.handle ({ex.APP}:42)", f"&lt;module&gt; ({ex.APP}:90)"):
        assert label in server_html
    assert "p99" in server_html and "400.0 ms" in server_html  # the lag summary


def test_report_has_tasks(server_html: str) -> None:
    page = parse(server_html)
    tasks = {r[1]: r for r in page.tables["tasks"][1:]}
    assert set(tasks) == {"Task-1", "fetch-a", "fetch-b"}
    assert tasks["fetch-a"][2] == "1" and tasks["fetch-a"][3] == "cancelled"
    assert "3 tasks created" in server_html


def test_report_escapes_hostile_names(tmp_path: Path) -> None:
    src = one_function_recording(tmp_path / "evil.pyro", "<script>alert(1)</script>", "/x.py", 1)
    html = report(src, tmp_path / "evil.html")
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)" in html
    parse(html)


def test_report_for_a_deterministic_profile(tmp_path: Path) -> None:
    src = tmp_path / "det.pyro"
    write_profile(ex.deterministic_profile(), src)
    html = report(src, tmp_path / "det.html")
    page = parse(html)
    rows = page.tables["functions"][1:]
    assert [r[5] for r in rows][:2] == ["parse", "render"] and rows[0][4] == "200"
    assert "http" not in html.lower()
    assert "No event-loop data" in html


def test_report_to_a_missing_directory_fails_cleanly(tmp_path: Path) -> None:
    src = tmp_path / "server.pyro"
    write_profile(ex.server_profile(), src)
    out = tmp_path / "missing" / "r.html"
    proc = run_cli("report", src, "-o", out)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1 and str(out) in proc.stderr


# A DOM just big enough for the report's zoom script: the SVG's boxes as plain objects.
DOM_SHIM = r"""
const boxes = JSON.parse(process.argv[2]);
function el(tag, attrs) {
  return {tag, attrs: Object.assign({}, attrs), children: [], style: {}, listeners: {}, textContent: '',
    getAttribute(k) { return this.attrs[k]; }, setAttribute(k, v) { this.attrs[k] = String(v); },
    appendChild(c) { this.children.push(c); },
    addEventListener(k, f) { this.listeners[k] = f; },
    querySelector(sel) { return this.children.find(c => c.tag === sel) || null; }};
}
const svg = el('svg', {width: String(process.argv[3])});
svg.namespaceURI = 'svg-ns';
const groups = boxes.map(b => {
  const g = el('g', {});
  const r = el('rect', {x: b.x, y: b.y, width: b.w});
  const t = el('title', {}); t.textContent = b.title;
  g.children.push(t, r);
  return g;
});
svg.querySelectorAll = () => groups;
global.document = {querySelector: () => svg, createElementNS: (ns, tag) => el(tag, {})};
SCRIPT
groups[Number(process.argv[4])].listeners.click();
console.log(JSON.stringify(groups.map(g => ({show: g.style.display !== 'none', x: +g.attrs.x || +g.children[1].attrs.x,
  w: +g.children[1].attrs.width, label: (g.children[2] || {}).textContent || ''}))));
"""


def test_zoom_script_zooms_into_a_box(server_html: str, tmp_path: Path) -> None:
    import json
    import re
    import shutil
    import xml.etree.ElementTree as ET

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: cannot run the report's inline script")
    script = re.search(r"<script>(.*?)</script>", server_html, re.S)
    assert script is not None
    svg_text = re.search(r"<svg.*?</svg>", server_html, re.S)
    assert svg_text is not None
    root = ET.fromstring(svg_text.group(0))
    width = float(root.get("width", "0"))
    boxes = []
    for g in root.iter("g"):
        rect, title = g.find("rect"), g.find("title")
        assert rect is not None and title is not None
        boxes.append({"x": rect.get("x"), "y": rect.get("y"), "w": rect.get("width"), "title": title.text})
    names = [b["title"].split(" (")[0] for b in boxes]
    target = names.index("Server.handle")
    runner = tmp_path / "run.js"
    runner.write_text(DOM_SHIM.replace("SCRIPT", script.group(1)))
    proc = subprocess.run([node, str(runner), json.dumps(boxes), str(width), str(target)], capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0, proc.stderr
    after = dict(zip(names, json.loads(proc.stdout), strict=True))
    inner = width - 2 * 10
    assert after["Server.handle"]["w"] == pytest.approx(inner) and after["Server.handle"]["show"]
    assert after["main"]["w"] == pytest.approx(inner) and after["<module>"]["show"]  # ancestors span the view
    # children share the zoomed width in proportion (compute 0.6 s, dumps 0.2 s of 0.8 s)
    assert after["compute"]["w"] == pytest.approx(inner * 0.75, rel=1e-3)
    assert after["dumps"]["w"] == pytest.approx(inner * 0.25, rel=1e-3)
    assert after["compute"]["label"] == "compute"
    assert not after["worker_loop"]["show"] and not after["fetch"]["show"]  # outside the zoomed box


def test_unknown_def_lines_are_not_shown_as_line_0(tmp_path: Path) -> None:
    """Collapsed stacks have no def line (0): the report printed `t.py:0` and `builtins:0`."""
    from pyrometer.core.formats.registry import export_profile, load_profile

    src = tmp_path / "p.collapsed"
    src.write_text("main (t.py:11);hot (t.py:6) 3\nmain (t.py:13);len (builtins) 1\n")
    out = tmp_path / "p.html"
    export_profile(load_profile(src), out)
    text = out.read_text()
    assert ">t.py<" in text and ">builtins<" in text
    assert ":0<" not in text
