"""Every real profile file in the shared corpus opens with the numbers its own tools find.

`../shared/corpus/MANIFEST.tsv` lists files written by other tools (cProfile,
`profile`, yappi, py-spy, pyinstrument, VizTracer, Chrome DevTools, PyTorch,
valgrind, pyprof2calltree, lsprofcalltree, stackcollapse). For each file an
INDEPENDENT reader gives the total cost and the function with the most self
cost: `pstats.Stats` (in an older CPython for `profile`-module files holding
code objects), gprof2dot's callgrind parser, or a short stand-alone parser
below (collapsed stacks, speedscope, Chrome trace events and their V8 CPU
samples). Our total must equal it and our top self function must be one of
theirs (ties allowed) with the same self cost. Our own writers play no part.

Run `python tests/core/test_corpus.py` to print the table of every file.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import math
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
if not CORPUS.is_dir():
    CORPUS = Path("/work/shared/corpus")
MANIFEST = CORPUS / "MANIFEST.tsv"
OLD_PYTHONS = ("3.10", "3.9", "3.8")  # the `profile` module wrote code objects there; their marshal reads them


@dataclass
class Truth:
    total: float
    tops: list[tuple[float, set[str]]]  # (largest self cost, every function name tying it), per way of grouping
    how: str
    extra: dict[str, Any] = field(default_factory=dict)


def manifest() -> list[dict[str, str]]:
    if not MANIFEST.is_file():
        return []
    with open(MANIFEST, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _tops(selfs: dict[Any, float], name_of: Callable[[Any], str] = str) -> tuple[float, set[str]]:
    best = max(selfs.values())
    tol = max(abs(best) * 1e-6, 1e-12)
    return best, {name_of(k) for k, v in selfs.items() if abs(v - best) <= tol}


# ---------------------------------------------------------------- pstats: pstats.Stats
_PSTATS_SCRIPT = r"""
import json, pstats, sys
s = pstats.Stats(sys.argv[1])
def name(k):
    return k[2] if isinstance(k[2], str) else k[2].co_name
print(json.dumps({"total": s.total_tt, "selfs": [[name(k), v[2]] for k, v in s.stats.items()]}))
"""


def truth_pstats(path: Path) -> Truth:
    import pstats

    how = "pstats.Stats"
    try:
        stats = pstats.Stats(str(path))
        pairs = [(k[2] if isinstance(k[2], str) else k[2].co_name, v[2]) for k, v in stats.stats.items()]  # type: ignore[attr-defined]
        total = float(stats.total_tt)  # type: ignore[attr-defined]
    except (ValueError, EOFError, TypeError):  # code objects of another CPython: read them there
        for minor in OLD_PYTHONS:
            hits = sorted(Path("/root/.pyenv/versions").glob(f"{minor}.*/bin/python"))
            if not hits:
                continue
            res = subprocess.run([str(hits[-1]), "-c", _PSTATS_SCRIPT, str(path)], capture_output=True, text=True, timeout=60)
            if res.returncode == 0:
                got = json.loads(res.stdout)
                pairs, total, how = [(str(a), float(b)) for a, b in got["selfs"]], float(got["total"]), f"pstats.Stats (CPython {minor})"
                break
        else:
            pytest.skip(f"{path.name}: holds code objects and no CPython 3.8-3.10 is installed to read them")
    selfs: dict[int, float] = {i: float(v) for i, (_, v) in enumerate(pairs)}
    return Truth(total, [_tops(selfs, lambda i: str(pairs[i][0]))], how)


# ---------------------------------------------------------------- callgrind: gprof2dot
_TIME_EVENTS = {"ns": 1e-9, "time_(ns)": 1e-9, "us": 1e-6, "ms": 1e-3}


def truth_callgrind(path: Path) -> Truth:
    gprof2dot = pytest.importorskip("gprof2dot", reason="gprof2dot (pip install gprof2dot) reads callgrind files")
    text = path.read_text(encoding="utf-8", errors="replace")
    events = re.search(r"^events:\s*(\S+)", text, re.M)
    creator = re.search(r"^creator:\s*(\S+)", text, re.M)
    event = events.group(1).lower() if events else ""
    scale = _TIME_EVENTS.get(event, 1.0)
    if event == "ticks" and creator and creator.group(1).lower().startswith("yappi"):
        scale = 1e-6  # yappi writes microseconds
    err, sys.stderr = sys.stderr, io.StringIO()  # gprof2dot prints warnings on odd lines
    try:
        prof = gprof2dot.CallgrindParser(io.StringIO(text)).parse()
    finally:
        sys.stderr = err
    selfs = {fn.name: fn[gprof2dot.SAMPLES] * scale for fn in prof.functions.values()}
    # yappi names functions "name /abs/file.py:line"; gprof2dot keeps that whole, we show the name
    top = _tops(selfs, lambda n: re.sub(r" (?:[A-Za-z]:)?[/\\].*:\d+$", "", n))
    return Truth(prof[gprof2dot.SAMPLES] * scale, [top], "gprof2dot CallgrindParser")


# ---------------------------------------------------------------- collapsed: stand-alone
def truth_collapsed(path: Path) -> Truth:
    selfs: dict[str, float] = defaultdict(float)
    total = 0.0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        selfs[stack.split(";")[-1]] += int(count)
        total += int(count)
    return Truth(total, [_tops(selfs)], "stand-alone parser (leaf frame, last field = count)")


# ---------------------------------------------------------------- speedscope: stand-alone
_SPEEDSCOPE_UNITS = {"nanoseconds": 1e-9, "microseconds": 1e-6, "milliseconds": 1e-3, "seconds": 1.0}


def truth_speedscope(path: Path) -> Truth:
    doc = json.loads(path.read_text(encoding="utf-8"))
    frames = doc["shared"]["frames"]
    by_name_file: dict[tuple[str, str], float] = defaultdict(float)
    by_name_file_line: dict[tuple[str, str, int], float] = defaultdict(float)
    total = 0.0

    def charge(fi: int, amount: float) -> None:
        fr = frames[fi]
        by_name_file[(fr["name"], fr.get("file", ""))] += amount
        by_name_file_line[(fr["name"], fr.get("file", ""), fr.get("line", 0))] += amount

    for prof in doc["profiles"]:
        k = _SPEEDSCOPE_UNITS.get(prof.get("unit", "none"), 1.0)
        if prof["type"] == "sampled":
            for stack, w in zip(prof["samples"], prof["weights"], strict=True):
                total += w * k
                if stack:
                    charge(stack[-1], w * k)
            continue
        open_frames: list[int] = []
        last = prof["startValue"]
        for ev in prof["events"]:
            if open_frames:
                charge(open_frames[-1], (ev["at"] - last) * k)
                total += (ev["at"] - last) * k
            last = ev["at"]
            if ev["type"] == "O":
                open_frames.append(ev["frame"])
            elif ev["frame"] in open_frames:
                open_frames.remove(ev["frame"])
    # a function is (name, file) or (name, file, def line) depending on the writer: accept either
    tops = [_tops(by_name_file, lambda key: key[0]), _tops(by_name_file_line, lambda key: key[0])]
    return Truth(total, tops, "stand-alone parser (sampled weights / evented open-close)")


# ---------------------------------------------------------------- chrome trace: stand-alone
def _events(path: Path) -> list[dict[str, Any]]:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    doc = json.loads(raw)
    events: list[dict[str, Any]] = doc["traceEvents"] if isinstance(doc, dict) else doc
    return events


def _cpu_samples(events: list[dict[str, Any]]) -> tuple[float, dict[str, float]] | None:
    """V8 CPU samples in Profile/ProfileChunk events: each sample lasts until the next one."""
    profiles: dict[tuple[Any, Any], dict[str, Any]] = {}
    for ev in events:
        if ev.get("name") not in ("Profile", "ProfileChunk"):
            continue
        data = (ev.get("args") or {}).get("data") or {}
        p = profiles.setdefault((ev.get("pid"), ev.get("id")), {"start": None, "nodes": {}, "samples": [], "deltas": []})
        if "startTime" in data:
            p["start"] = data["startTime"]
        cpu = data.get("cpuProfile") or {}
        for node in cpu.get("nodes") or []:
            p["nodes"][node["id"]] = node
        p["samples"] += cpu.get("samples") or []
        p["deltas"] += data.get("timeDeltas") or []
    selfs: dict[str, float] = defaultdict(float)
    total = 0.0
    for p in profiles.values():
        t = p["start"] or 0
        times = []
        for d in p["deltas"]:
            t += d
            times.append(t)
        order = sorted(range(len(times)), key=lambda i: times[i])
        for a, b in itertools.pairwise(order):
            node = p["nodes"][p["samples"][a]]
            name = node["callFrame"]["functionName"]
            if name == "(root)":
                continue
            w = (times[b] - times[a]) * 1e-6
            selfs[name or "(anonymous)"] += w
            total += w
    return (total, selfs) if selfs else None


def _nest(items: list[tuple[float, float, str]], selfs: dict[str, float]) -> float:
    """Self seconds of one thread's spans (children clipped to their parent) added to `selfs`; their sum."""
    items.sort(key=lambda s: (s[0], -s[1]))
    stack: list[tuple[float, str]] = []  # open spans: (end, name)
    cursor = -math.inf
    total = 0.0
    for s, e, name in [*items, (math.inf, math.inf, "")]:
        while stack and stack[-1][0] <= s:
            end, top = stack.pop()
            if end > cursor:
                selfs[top] += (end - cursor) * 1e-6
                total += (end - cursor) * 1e-6
                cursor = end
        if s == math.inf:
            break
        if stack:
            if s > cursor:
                selfs[stack[-1][1]] += (s - cursor) * 1e-6
                total += (s - cursor) * 1e-6
            e = min(e, stack[-1][0])
        cursor = max(cursor, s)
        stack.append((e, name))
    return total


def truth_chrome(path: Path) -> Truth:
    events = _events(path)
    cpu = _cpu_samples(events)
    if cpu is not None:
        return Truth(cpu[0], [_tops(cpu[1])], "stand-alone parser (V8 samples in ProfileChunk events)")
    spans: dict[tuple[Any, Any], list[tuple[float, float, str]]] = defaultdict(list)
    open_b: dict[tuple[Any, Any], list[tuple[float, str]]] = defaultdict(list)
    last: dict[tuple[Any, Any], float] = defaultdict(lambda: -math.inf)
    unfinished: list[tuple[tuple[Any, Any], float, str]] = []
    for ev in events:
        ph, key = ev.get("ph"), (ev.get("pid", 0), ev.get("tid", 0))
        if ph not in ("X", "B", "E"):
            continue
        ts = ev["ts"]
        if ph == "X" and "dur" in ev:
            spans[key].append((ts, ts + ev["dur"], ev["name"]))
            last[key] = max(last[key], ts + ev["dur"])
            continue
        last[key] = max(last[key], ts)
        if ph == "X":
            unfinished.append((key, ts, ev["name"]))
        elif ph == "B":
            open_b[key].append((ts, ev["name"]))
        elif open_b[key]:
            start, name = open_b[key].pop()
            spans[key].append((start, ts, name))
    for key, ts, name in unfinished:  # no dur: open until the thread's last event
        spans[key].append((ts, max(ts, last[key]), name))
    for key, stack in open_b.items():
        for start, name in stack:
            spans[key].append((start, max(start, last[key]), name))
    selfs: dict[str, float] = defaultdict(float)
    total = sum(_nest(items, selfs) for items in spans.values())
    # VizTracer labels are "name (file:line)": we show the name and keep the location apart
    top = _tops(selfs, lambda n: re.sub(r" \([^()]*:\d+\)$", "", n))
    return Truth(total, [top], "stand-alone parser (X/B/E spans nested per thread)", {"unfinished": len(unfinished)})


READERS: dict[str, Callable[[Path], Truth]] = {
    "pstats": truth_pstats,
    "callgrind": truth_callgrind,
    "collapsed": truth_collapsed,
    "speedscope": truth_speedscope,
    "chrome": truth_chrome,
}


def ours(path: Path) -> tuple[float, float, str, Any]:
    from pyrometer.core.formats.registry import load_profile
    from pyrometer.core.formats.tables import function_rows

    profile = load_profile(path)
    rows, total = function_rows(profile, top=1)
    return total, float(rows[0]["self"]), str(rows[0]["name"]), profile


ROWS = manifest()


@pytest.mark.parametrize("row", ROWS, ids=[r["file"] for r in ROWS])
def test_corpus_file_agrees_with_independent_reader(row: dict[str, str]) -> None:
    path = CORPUS / row["file"]
    if row["format"] not in READERS:  # the corpus grows with new formats; their checks come with them
        pytest.skip(f"format {row['format']!r}: no independent reader in this test yet")
    truth = READERS[row["format"]](path)
    total, top_self, top_name, profile = ours(path)
    rel = 1e-9 if profile.meta.get("deterministic") else 1e-5  # sample weights are float32
    assert total == pytest.approx(truth.total, rel=rel, abs=1e-9), f"total: ours {total}, {truth.how} {truth.total}"
    assert any(
        top_self == pytest.approx(best, rel=max(rel, 1e-6), abs=1e-9) and top_name in names for best, names in truth.tops
    ), f"top self: ours {top_name!r} {top_self}, {truth.how} {truth.tops}"


def test_corpus_present_or_skipped_with_reason() -> None:
    if not ROWS:
        pytest.skip(f"no corpus at {CORPUS} (MANIFEST.tsv missing): the corpus tests did not run")
    checked = [r for r in ROWS if r["format"] in READERS]
    assert len(checked) >= 39 and all((CORPUS / r["file"]).is_file() for r in ROWS)


def main() -> None:
    """Print the corpus table: opened / totals / top self functions, ours and the independent reader's."""
    print("| file | opened | our total | independent total | our top self | independent top self | independent reader |")
    print("|---|---|---|---|---|---|---|")
    for row in ROWS:
        path = CORPUS / row["file"]
        if row["format"] not in READERS:
            continue
        try:
            total, top_self, top_name, _ = ours(path)
            mine = (f"{total:.6g}", f"{top_name} ({top_self:.6g})", "yes")
        except Exception as exc:  # the table must show a failure, not stop at it
            mine = ("-", "-", f"no: {exc}"[:80])
        try:
            t = READERS[row["format"]](path)
            best, names = t.tops[0]
            theirs = (f"{t.total:.6g}", f"{' / '.join(sorted(names))[:60]} ({best:.6g})", t.how)
        except BaseException as exc:  # pytest.skip is a BaseException
            theirs = ("-", "-", f"reader failed: {exc}"[:80])
        print(f"| {row['file']} | {mine[2]} | {mine[0]} | {theirs[0]} | {mine[1]} | {theirs[1]} | {theirs[2]} |")


if __name__ == "__main__":
    main()
