"""`pyrometer stats --from/--to` on a huge recording: from its index (edges read) against a full read (issue 15).

    .venv/bin/python benchmarks/bench_stats_range.py FILE.pyro [--ranges 0-1,49.5-50.5,25-75,0.5-99.5] [--full] [--json]

Each range is a pair of percentages of the session; each run is its own process
(`python -m pyrometer stats FILE --from A --to B --top 3`), timed with os.wait4:
wall seconds, CPU seconds (user + system) and peak RSS (and RSS / file size).
`--full` also runs the full read of the same range (the index path turned off:
what `stats` did before), prints the ratios and checks that both print the same
text. The first range query of a recording whose index predates range fields
builds the index again once (cached): run twice, or read the first row as that.

Measured 2026-12-03 on /work/scale-data/scale-30M-f300-v2.pyro (30M samples, 986 MiB, 75,000 s), each
`/usr/bin/time pyrometer stats FILE RANGE --top 3` with main (/work/main, 0a1e1ec..e90af4e while it ran) then h15-statsrange back to back,
index cached; the machine at load 5-7 on 2 cores, so wall times are inflated (CPU = user + system):

| range                   | main wall / CPU / peak  | branch wall / CPU / peak | CPU ratio | peak / file (branch) |
|-------------------------|-------------------------|--------------------------|-----------|----------------------|
| --to 27750.004 (37%)    | 26.9 s / 16.2 s / 1140 MiB | 3.8 s / 1.5 s / 286 MiB | 10.5x    | 0.29 |
| --to 750 (1%)           | 22.5 s / 10.4 s / 737 MiB  | 3.9 s / 1.0 s / 145 MiB | 10.5x    | 0.15 |
| --from 37000 --to 37750 (1%) | 23.3 s / 13.1 s / 737 MiB | 1.8 s / 1.0 s / 144 MiB | 13x | 0.15 |
| --from 18750 --to 56250 (50%) | 25.1 s / 16.2 s / 1436 MiB | 2.1 s / 1.7 s / 370 MiB | 9.4x | 0.38 |
| --from 375 --to 74625 (99%)   | 37.3 s / 25.1 s / 2463 MiB | 4.0 s / 2.8 s / 569 MiB | 8.9x | 0.58 |

Text and --json were byte-identical to the branch's own full read (index path off) for the 37%, 1% and
99% ranges. --json costs more than the text on both (every task and stall as a row): 99% 4.6 s CPU, 700 MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

FULL_READ = (
    "import sys\n"
    "from pyrometer.core.formats import recording_index\n"
    "recording_index.open_for_stats = lambda *a, **k: None  # the full read stats made for a range before\n"
    "from pyrometer.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def run(argv: list[str]) -> dict[str, Any]:
    """One process: wall, CPU (user + system) and peak RSS from its own rusage, and its output."""
    t0 = time.perf_counter()
    with open(os.devnull, "wb") as sink, subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=sink) as proc:
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, _status, usage = os.wait4(proc.pid, 0)
        proc.returncode = 0
    return {"wall_s": time.perf_counter() - t0, "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_mb": usage.ru_maxrss / 1024, "out": out}


def session_seconds(path: str) -> float:
    out = subprocess.run([sys.executable, "-m", "pyrometer", "stats", path, "--json", "--top", "1"],
                         capture_output=True, check=True).stdout
    return float(json.loads(out)["duration_s"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--ranges", default="0-1,49.5-50.5,25-75,0.5-99.5", help="percent pairs, comma separated")
    ap.add_argument("--full", action="store_true", help="also time the full read and compare the text")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    size_mb = Path(args.file).stat().st_size / 2**20
    span = session_seconds(args.file)
    rows = []
    for pair in args.ranges.split(","):
        lo, hi = (float(x) for x in pair.split("-"))
        rng = ["--from", f"{span * lo / 100:.6f}", "--to", f"{span * hi / 100:.6f}"]
        tail = [args.file, *rng, "--top", "3"]
        fast = run([sys.executable, "-m", "pyrometer", "stats", *tail])
        row: dict[str, Any] = {"range_pct": pair, "index": {k: round(v, 3) for k, v in fast.items() if k != "out"}}
        row["index"]["peak_per_file"] = round(fast["peak_mb"] / size_mb, 3)
        if args.full:
            full = run([sys.executable, "-c", FULL_READ, "stats", *tail])
            row["full"] = {k: round(v, 3) for k, v in full.items() if k != "out"}
            row["full"]["peak_per_file"] = round(full["peak_mb"] / size_mb, 3)
            row["same_text"] = full["out"] == fast["out"]
            row["ratio_full_over_index"] = {k: round(full[k] / max(fast[k], 1e-9), 1) for k in ("wall_s", "cpu_s", "peak_mb")}
        rows.append(row)
        if not args.json:
            print(json.dumps(row), flush=True)
    if args.json:
        print(json.dumps({"file": args.file, "file_mb": round(size_mb, 1), "session_s": span, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
