"""Regenerate tests/fixtures/{pprof,cpuprofile,pyinstrument,austin}/ with the real tools (issue 16).

Each fixture is written by the tool that owns the format, and next to it the
tool's OWN figures (its reader, its report), which the tests compare our
importers against -- never figures computed by our code:

- pprof: Go's runtime/pprof (a tiny Go program, standard library only) writes a
  CPU and a heap profile; `go tool pprof -top` gives the figures.
- cpuprofile: `node --cpu-prof`; a small node script sums hitCount and the
  timeDeltas per node the way Chrome DevTools does.
- pyinstrument: `pyinstrument -r session`; pyinstrument's Session.load and its
  frame tree give the figures.
- austin: austin 3.7 (pip austin-dist==3.7.0; 4.0's binary needs glibc 2.38)
  writes the text format, wall and full (-f) metrics, and MOJO (-b -f);
  austin-python's AustinFileReader / MojoStreamReader give the figures.
- austin2pprof (austin-python) turns the Austin text fixture into pprof;
  `go tool pprof -top` gives the figures.

Run once after changing a workload (`python tools/make_format_fixtures_16.py`);
needs go, node, pyinstrument, and AUSTIN / AUSTIN_PYTHON / AUSTIN2PPROF pointing
at an austin binary, a Python with austin-python installed and its austin2pprof. The test suite never runs
these tools; it reads what this script wrote.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"
WORK = Path(tempfile.gettempdir()) / "pyrometer-fixtures-16"  # stable path: it is written into the files

GO_PROGRAM = """package main

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

//go:noinline
func hot(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i * i % 7
	}
	return s
}

//go:noinline
func cold(n int) int { return hot(n / 4) }

//go:noinline
func allocate(n int) [][]byte {
	out := make([][]byte, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, make([]byte, 1024))
	}
	return out
}

var sink int
var keep [][]byte

func main() {
	runtime.MemProfileRate = 1
	f, _ := os.Create(os.Args[1])
	pprof.StartCPUProfile(f)
	deadline := time.Now().Add(600 * time.Millisecond)
	pprof.Do(context.Background(), pprof.Labels("task_name", "crunch"), func(ctx context.Context) {
		for time.Now().Before(deadline) {
			sink += hot(2000000)
			sink += cold(2000000)
		}
	})
	pprof.StopCPUProfile()
	f.Close()
	keep = allocate(300)
	runtime.GC()
	h, _ := os.Create(os.Args[2])
	pprof.WriteHeapProfile(h)
	h.Close()
}
"""

NODE_PROGRAM = """function hot(n) { let s = 0; for (let i = 0; i < n; i++) s += (i * i) % 7; return s; }
function cold(n) { return hot(n >> 2); }
let sink = 0;
const end = Date.now() + 300;
while (Date.now() < end) { sink += hot(200000); sink += cold(200000); }
if (sink < 0) console.log(sink);
"""

# What Chrome DevTools does with a .cpuprofile: sample i lasts until sample i+1
# (the last one until endTime); hitCount is V8's own count per node.
NODE_FIGURES = """const fs = require('fs');
const p = JSON.parse(fs.readFileSync(process.argv[2]));
const byId = new Map(p.nodes.map(n => [n.id, n]));
const t = []; let acc = p.startTime;
for (const d of p.timeDeltas) { acc += d; t.push(acc); }
const selfUs = {}; const hits = {};
for (let i = 0; i < p.samples.length; i++) {
  const fr = byId.get(p.samples[i]).callFrame;
  const key = fr.functionName + ' ' + fr.url;
  const dur = (i + 1 < t.length ? t[i + 1] : p.endTime) - t[i];
  selfUs[key] = (selfUs[key] || 0) + dur;
}
for (const n of p.nodes) {
  const key = n.callFrame.functionName + ' ' + n.callFrame.url;
  hits[key] = (hits[key] || 0) + (n.hitCount || 0);
}
const total = p.endTime - t[0];
console.log(JSON.stringify({samples: p.samples.length, total_us: total, self_us: selfUs, hit_count: hits}));
"""

PY_WORKLOAD = """import time


def hot(n):
    s = 0
    for i in range(n):
        s += i * i % 7
    return s


def cold(n):
    return hot(n // 4)


class Worker:
    def run(self, seconds):
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            hot(100000)
            cold(100000)


Worker().run(0.4)
"""

PYINSTRUMENT_FIGURES = """import json, sys
from pyinstrument.session import Session

session = Session.load(sys.argv[1])
root = session.root_frame()
selfs = {}
def walk(frame):
    # pyinstrument puts a frame's own time in a synthetic "[self]" child
    if frame.identifier != "[self]":
        name = f"{frame.class_name}.{frame.function}" if frame.class_name else frame.function
        key = f"{name} {frame.file_path or ''}"
        own = frame.time - sum(c.time for c in frame.children if c.identifier != "[self]")
        selfs[key] = selfs.get(key, 0.0) + own
    for child in frame.children:
        walk(child)
walk(root)
print(json.dumps({"samples": len(session.frame_records), "total_s": root.time, "duration_s": session.duration,
                  "self_s": selfs}))
"""

AUSTIN_FIGURES = """import json, sys
from austin.events import AustinSample
from austin.format.collapsed_stack import AustinFileReader

samples = 0
total = 0
selfs = {}
threads = set()
mojo = sys.argv[1].endswith(".mojo")
if mojo:
    from austin.format.mojo import MojoStreamReader
    fh = open(sys.argv[1], "rb")
    reader = MojoStreamReader(fh)
else:
    fh = open(sys.argv[1])
    reader = AustinFileReader(fh)
    reader.__enter__()
if True:
    for event in reader:
        if not isinstance(event, AustinSample):
            continue
        samples += 1
        threads.add(f"{event.pid}:{event.iid}:{event.thread}")
        value = int(event.metrics.time or 0)
        total += value
        if event.frames:
            leaf = event.frames[-1]
            key = f"{leaf.function} {leaf.filename}"
            selfs[key] = selfs.get(key, 0) + value
    meta = dict(reader.metadata)
fh.close()
print(json.dumps({"samples": samples, "total_us": total, "threads": len(threads), "self_us": selfs, "metadata": meta}))
"""


def run(cmd: list[str], **kw: object) -> str:
    print("+", " ".join(cmd), file=sys.stderr)
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout  # type: ignore[call-overload, no-any-return]


def make_pprof() -> None:
    out = FIX / "pprof"
    out.mkdir(parents=True, exist_ok=True)
    src = WORK / "go"
    src.mkdir(parents=True, exist_ok=True)
    (src / "main.go").write_text(GO_PROGRAM)
    (src / "go.mod").write_text("module fixture\n\ngo 1.19\n")
    env = dict(os.environ, GOFLAGS="-mod=mod", GO111MODULE="on")
    run(["go", "build", "-o", "fixture"], cwd=src, env=env)
    run([str(src / "fixture"), str(out / "go_cpu.pb.gz"), str(out / "go_heap.pb.gz")])
    for name, flags in (("go_cpu", []), ("go_heap", ["-sample_index=alloc_space"])):
        top = run(["go", "tool", "pprof", "-top", "-nodecount=1000", *flags, str(out / f"{name}.pb.gz")])
        (out / f"{name}.top.txt").write_text(top)


def make_cpuprofile() -> None:
    out = FIX / "cpuprofile"
    out.mkdir(parents=True, exist_ok=True)
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "work.js").write_text(NODE_PROGRAM)
    prof_dir = WORK / "node"
    shutil.rmtree(prof_dir, ignore_errors=True)
    run(["node", "--cpu-prof", f"--cpu-prof-dir={prof_dir}", "--cpu-prof-interval", "2000", str(WORK / "work.js")])
    (produced,) = prof_dir.glob("*.cpuprofile")
    shutil.copy(produced, out / "node.cpuprofile")
    (WORK / "figures.js").write_text(NODE_FIGURES)
    (out / "node.expected.json").write_text(run(["node", str(WORK / "figures.js"), str(out / "node.cpuprofile")]))


def make_pyinstrument() -> None:
    out = FIX / "pyinstrument"
    out.mkdir(parents=True, exist_ok=True)
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "work.py").write_text(PY_WORKLOAD)
    pyinstrument = shutil.which("pyinstrument", path=str(Path(sys.executable).parent)) or "pyinstrument"
    run([pyinstrument, "-i", "0.005", "-r", "session", "-o", str(out / "session.json"), str(WORK / "work.py")])
    (WORK / "figures_pyi.py").write_text(PYINSTRUMENT_FIGURES)
    (out / "session.expected.json").write_text(run([sys.executable, str(WORK / "figures_pyi.py"), str(out / "session.json")]))


def _austin_setup() -> tuple[str, str, Path, str]:
    """(austin, the Python with austin-python, the fixture folder, the interpreter to profile),
    with the workload and the figures script written to WORK."""
    austin = os.environ.get("AUSTIN", "austin")
    austin_python = os.environ.get("AUSTIN_PYTHON", sys.executable)
    out = FIX / "austin"
    out.mkdir(parents=True, exist_ok=True)
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "work.py").write_text(PY_WORKLOAD)
    (WORK / "figures_austin.py").write_text(AUSTIN_FIGURES)
    python = os.path.realpath(sys.executable)  # austin needs the real interpreter, not a venv shim
    return austin, austin_python, out, str(Path(sys.base_prefix) / "bin" / Path(python).name)


def make_austin() -> None:
    austin, austin_python, out, python = _austin_setup()
    for name, flags in (("wall", []), ("full", ["-f"])):
        target = out / f"{name}.austin"
        run([austin, "-i", "5ms", *flags, "-o", str(target), python, str(WORK / "work.py")])
        (out / f"{name}.expected.json").write_text(run([austin_python, str(WORK / "figures_austin.py"), str(target)]))


def make_austin2pprof() -> None:
    """pprof as austin-python's austin2pprof writes it (from the Austin text fixture): "Wall time/μs", string labels."""
    tool = os.environ.get("AUSTIN2PPROF", "austin2pprof")
    out = FIX / "pprof"
    target = out / "austin2pprof.pprof"
    run([tool, str(FIX / "austin" / "wall.austin"), str(target)])
    (out / "austin2pprof.top.txt").write_text(run(["go", "tool", "pprof", "-top", "-nodecount=1000", str(target)]))


def make_austin_mojo() -> None:
    """The binary MOJO format (austin -b), full metrics; figures from austin-python's MojoStreamReader."""
    austin, austin_python, out, python = _austin_setup()
    target = out / "full.mojo"
    run([austin, "-i", "5ms", "-f", "-b", "-o", str(target), python, str(WORK / "work.py")])
    (out / "full_mojo.expected.json").write_text(run([austin_python, str(WORK / "figures_austin.py"), str(target)]))


if __name__ == "__main__":
    wanted = sys.argv[1:] or ["pprof", "cpuprofile", "pyinstrument", "austin", "austin_mojo", "austin2pprof"]
    for kind in wanted:
        globals()[f"make_{kind}"]()
    for f in sorted(FIX.glob("*/*")):
        print(f"{f.stat().st_size:>8}  {f.relative_to(ROOT)}")
