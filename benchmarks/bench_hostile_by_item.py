"""Issue 11's hostile-input table, one row per item: tried / as expected / clean error / traceback / hang / data lost.

Not a timed test: run it by hand, `python benchmarks/bench_hostile_by_item.py [--keep DIR] [--verbose]`.
It writes the hostile files with tools/make_hostile.py (100k-deep stacks, bombs, escapes,
absurd numbers, a flipped bit, damaged gzip, a sparse 2 GB recording) and runs `stats`,
`convert` and `report` over each in a fresh interpreter, judged by tools/hostile_table.py
(8 GB address-space cap, 20 s timeout, a slow or hung run judged again by its CPU time
with a 120 s timeout, since a shared machine stretches wall time; the same judge the suite's
tests/core/test_hostile_files.py applies in-process). Each file belongs to the item of
issue 11 it was built for; items 2, 3, 7 and 8 (disk full, `record -o`, attach leaks, the
symlink race) are not files and have their own tests, so they have no row here.

Columns: "as expected" = what MANIFEST says (opened, opened with one warning, or refused
with one line and exit 2 for the reason the file was built to show); "clean error" = one
line and exit 2 where the file should have opened (nothing crashed, but something was not
shown); "data lost" = fewer samples than the file holds; "other" = escape-leak, slow
(> 5 s of CPU), silent (damaged file loaded without a warning), wrong reason, oom or another exit.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import hostile_table  # noqa: E402
import make_hostile  # noqa: E402

# the item of issue 11 each hostile file was built for
ITEM = {
    "deep_evented.speedscope.json": 4, "deep_sampled.speedscope.json": 4, "deep_nested.trace.json.gz": 4,
    "deep_begin_end.trace.json": 4, "deep.collapsed": 4, "deep.pyro": 4, "threads32k.pyro": 4,
    "bomb.json.gz": 5, "bomb.collapsed.gz": 5, "bomb.callgrind.gz": 5, "sparse2g.pyro": 5,
    "escapes.speedscope.json": 6, "escapes.collapsed": 6, "escapes.callgrind": 6, "escapes.prof": 6,
    "escapes.pyro": 6,
    "overflow.callgrind": 9, "absurd.pyro": 9,
    "bitflip_first_frame.pyro": 10,
    "garbage_gzip.json.gz": 11, "truncated_gzip.json.gz": 11, "header_only_gzip.collapsed.gz": 11,
}
TITLE = {4: "quadratic / unbounded work", 5: "decompression bombs, sparse", 6: "terminal escapes",
         9: "absurd numbers", 10: "bit flip in first frame", 11: "damaged gzip"}
COLUMNS = ("tried", "as expected", "clean error", "traceback", "hang", "data lost", "other")


def _column(outcome: str) -> str:
    return {"ok": "as expected", "clean-error": "clean error", "traceback": "traceback", "hang": "hang",
            "data-lost": "data lost"}.get(outcome, "other")


def _children_cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def run_judged(command: str, path: Path, scratch: Path) -> tuple[str, float, float, str]:
    """(outcome, wall s, CPU s, last stderr line) of one run, judged by tools/hostile_table.py.

    Wall time on a shared machine is not the program's: a run judged slow or hung is run
    again with a 120 s timeout, and judged by its CPU time (hang: still running after 120 s
    or over 20 s of CPU; slow: over 5 s of CPU)."""
    cpu0 = _children_cpu()
    outcome, took, line = hostile_table.run_one(sys.executable, command, path, scratch)
    cpu = _children_cpu() - cpu0
    if outcome in ("slow", "hang"):
        saved, hostile_table.TIMEOUT_S, hostile_table.SLOW_S = hostile_table.TIMEOUT_S, 120.0, 120.0
        try:
            cpu0 = _children_cpu()
            outcome, took, line = hostile_table.run_one(sys.executable, command, path, scratch)
            cpu = _children_cpu() - cpu0
        finally:
            hostile_table.TIMEOUT_S, hostile_table.SLOW_S = saved, 5.0
        if outcome == "ok" and cpu > saved:
            outcome = "hang"
        elif outcome == "ok" and cpu > hostile_table.SLOW_S:
            outcome = "slow"
    return outcome, took, cpu, line


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--keep", type=Path, default=None, help="write the files here (default: a temp dir)")
    parser.add_argument("--verbose", action="store_true", help="one line per run as well")
    args = parser.parse_args()
    assert set(ITEM) == set(make_hostile.MANIFEST), set(ITEM) ^ set(make_hostile.MANIFEST)
    with tempfile.TemporaryDirectory(prefix="hostile_") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        scratch = folder / "_scratch"
        scratch.mkdir(exist_ok=True)
        paths = make_hostile.build(folder)
        rows: dict[int, Counter[str]] = {item: Counter() for item in sorted(set(ITEM.values()))}
        others: list[str] = []
        t0 = time.monotonic()
        for name, path in paths.items():
            for command in ("stats", "convert", "report"):
                outcome, took, cpu, line = run_judged(command, path, scratch)
                row = rows[ITEM[name]]
                row["tried"] += 1
                row[_column(outcome)] += 1
                if _column(outcome) != "as expected":
                    others.append(f"item {ITEM[name]}: {outcome} {command} {name} ({took:.1f} s, CPU {cpu:.1f} s) {line}")
                if args.verbose:
                    print(f"{outcome:12} {took:6.1f}s {cpu:6.1f}s CPU  {command:8} {name:32} {line}", flush=True)
    print(f"hostile files x stats/convert/report, {time.monotonic() - t0:.0f} s, {sys.executable}")
    print(f"{'item':38}" + "".join(f"{c:>12}" for c in COLUMNS))
    total: Counter[str] = Counter()
    for item, row in rows.items():
        total.update(row)
        print(f"{f'{item}. {TITLE[item]}':38}" + "".join(f"{row[c]:12d}" for c in COLUMNS))
    print(f"{'all':38}" + "".join(f"{total[c]:12d}" for c in COLUMNS))
    for line in others:
        print("  " + line)


if __name__ == "__main__":
    main()
