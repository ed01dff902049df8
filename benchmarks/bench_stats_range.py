"""`pyrometer stats --from/--to` on a huge recording: from its index (edges read) against a full read (issue 15).

    .venv/bin/python benchmarks/bench_stats_range.py FILE.pyro [--ranges 0-1,49.5-50.5,25-75,0.5-99.5] [--full] [--json]

Each range is a pair of percentages of the session; each run is its own process
(`python -m pyrometer stats FILE --from A --to B --top 3`), timed with os.wait4:
wall seconds, CPU seconds (user + system) and peak RSS (and RSS / file size).
`--full` also runs the full read of the same range (the index path turned off:
what `stats` did before), prints the ratios and checks that both print the same
text. The first range query of a recording whose index predates range fields
builds the index again once (cached): run twice, or read the first row as that.

Measured 2026-12-03 18:53 UTC on /work/scale-data/scale-30M-f300-v2.pyro (30M samples, 986 MiB, 75,000 s),
`/usr/bin/time pyrometer stats FILE RANGE --top 3`, main (/work/main, e90af4e) then h15-statsrange back to
back, load ~1.2 on 2 cores, index cached (CPU = user + system):

| range                          | main wall / CPU / peak       | branch wall / CPU / peak   | wall  | peak / file |
|--------------------------------|------------------------------|----------------------------|-------|-------------|
| --to 27750.004 (37%)           | 14.9 s / 14.3 s / 1151 MiB   | 1.21 s / 1.14 s / 285 MiB  | 12x   | 0.29        |
| --from 37000 --to 37750 (1%)   | 7.9 s / 7.9 s / 723 MiB      | 0.81 s / 0.89 s / 143 MiB  | 10x   | 0.14        |
| --from 18750 --to 56250 (50%)  | 12.1 s / 11.5 s / 1436 MiB   | 1.66 s / 1.72 s / 369 MiB  | 7.3x  | 0.37        |
| --from 375 --to 74625 (99%)    | 18.4 s / 17.4 s / 2449 MiB   | 2.29 s / 2.39 s / 571 MiB  | 8.0x  | 0.58        |

Text and --json were byte-identical to the branch's own full read (index path off) for the 37%, 1% and
99% ranges and for `--thread 1 --from 37000 --to 37750 --json` (0.94 s). The first range query of this
file, whose own index predates the range fields, walks its frame headers once (4.6 s, then cached; a
rebuild took 13-19 s). --json costs more than the text on both (every task and stall as a row).
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
