"""Foundation benchmark (issue 2): import, load and analysis speed on a large profile.

Generates a synthetic sampled speedscope file like py-spy writes (shared
frames, one sampled profile per thread, `samples` lists of frame indices and
`weights`): 1,000,000 samples over >= 20,000 distinct stacks up to depth 60,
about 50 MB, deterministic from a seed and cached in the temp dir. Then, in
one run, measures and prints each figure next to its target:

  parse floor        `python -c "json.load(...)"` of the file (whole process)
  speedscope stats   `pyrometer stats FILE --json` (whole process), <= 1.0x floor
  .pyro stats        `pyrometer stats FILE.pyro --json` (whole process), <= 0.25x floor
  tree + flame       call tree + flame layout of all samples (in process), <= 0.5 s
  range re-agg       call tree of a 10% time range (in process), <= 50 ms
  bytes / sample     Profile.model_bytes() / samples and the samples table's row size, <= 32

Whole-process figures are medians of --runs subprocess runs; in-process ones
are medians of --runs calls after one warm-up. `--profile` adds a cProfile
listing of the in-process speedscope load so a missed target says where the
time went. Not a test: it prints, it does not assert.

    .venv/bin/python benchmarks/bench_foundation.py [--runs 3] [--samples 1000000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

SEED = 20261122
SAMPLES = 1_000_000
STACKS = 24_000  # distinct stack nodes generated (every one is sampled at least once)
MAX_DEPTH = 60
FUNCTIONS = 2_500
THREADS = 4
RATE_HZ = 100.0
CHAIN_P = 0.2  # chance a new stack extends the latest one (makes deep chains)
GENERATOR_VERSION = 1  # bump when the generator changes so stale caches are not reused


# ---------------------------------------------------------------- generator
def _stack_tree(rng: np.random.Generator, n_nodes: int, n_frames: int) -> tuple[list[int], list[int], list[int]]:
    """A random prefix tree of stacks: (parent, frame, depth) per node, parent -1 at the root.

    Mostly a random recursive tree (shallow, bushy) with runs of chain extension
    (deep call chains, recursion-like), plus one chain down to MAX_DEPTH so the
    deepest stack is exactly the depth the issue asks for.
    """
    parent: list[int] = []
    frame: list[int] = []
    depth: list[int] = []
    roots = THREADS * 3
    for _ in range(roots):
        parent.append(-1)
        frame.append(int(rng.integers(0, 50)))  # entry points come from a small set
        depth.append(1)
    u = rng.random(n_nodes)
    picks = rng.random(n_nodes)
    frames = rng.integers(0, n_frames, n_nodes)
    bushy = n_nodes - (MAX_DEPTH - 1)
    while len(parent) < bushy:
        i = len(parent)
        if u[i] < CHAIN_P and depth[-1] < MAX_DEPTH:
            p = i - 1  # extend the latest chain
        else:
            p = int(picks[i] * i)
            while depth[p] >= MAX_DEPTH:
                p = parent[p]
        parent.append(p)
        frame.append(int(frames[i]))
        depth.append(depth[p] + 1)
    # the guaranteed deepest chain, grown from the first root
    tip = 0
    while len(parent) < n_nodes and depth[tip] < MAX_DEPTH:
        parent.append(tip)
        frame.append(int(frames[len(frame)]))
        depth.append(depth[tip] + 1)
        tip = len(parent) - 1
    return parent, frame, depth


def _frame_defs(rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    modules = [f"app/pkg{m % 17}/mod{m}.py" for m in range(120)]
    out = []
    for i in range(n):
        mod = modules[int(rng.integers(0, len(modules)))]
        kind = i % 3
        name = f"Handler{i % 97}.method_{i}" if kind == 0 else f"func_{i}"
        out.append({"name": name, "file": "/srv/" + mod, "line": int(rng.integers(1, 4000))})
    return out


def generate(path: Path, n_samples: int = SAMPLES, seed: int = SEED) -> dict[str, Any]:
    """Write the synthetic speedscope file; returns what it contains (for the report)."""
    rng = np.random.default_rng(seed)
    frames = _frame_defs(rng, FUNCTIONS)
    n_nodes = max(STACKS, 200)
    parent, frame, depth = _stack_tree(rng, n_nodes, FUNCTIONS)
    # Root-first frame-index lists per node, as text, built once from the parent's text.
    text: list[str] = []
    for i in range(n_nodes):
        p = parent[i]
        text.append(str(frame[i]) if p < 0 else text[p] + "," + str(frame[i]))
    # Which node each sample hits: every node at least once, the rest Zipf-like
    # over a random ranking of nodes, so hot stacks exist at every depth.
    rank = rng.permutation(n_nodes)
    popularity = 1.0 / (np.arange(1, n_nodes + 1) ** 0.9)
    popularity /= popularity.sum()
    extra = rng.choice(n_nodes, size=max(0, n_samples - n_nodes), p=popularity)
    nodes = np.concatenate([np.arange(n_nodes), rank[extra]])[:n_samples]
    rng.shuffle(nodes)
    # The thread of each node comes from its root (a stack lives on one thread).
    root = np.empty(n_nodes, np.int64)
    for i in range(n_nodes):
        root[i] = i if parent[i] < 0 else root[parent[i]]
    thread_of = root % THREADS
    sample_thread = thread_of[nodes]
    weight = 1.0 / RATE_HZ
    profiles = []
    for t in range(THREADS):
        mine = nodes[sample_thread == t].tolist()
        body = ",".join(["[" + text[n] + "]" for n in mine])
        weights = ",".join(["0.01"] * len(mine))
        end = round(len(mine) * weight, 6)
        profiles.append(
            f'{{"type":"sampled","name":"Thread {1000 + t} (worker-{t})","unit":"seconds","startValue":0,'
            f'"endValue":{end!r},"samples":[{body}],"weights":[{weights}]}}'
        )
    head = json.dumps(
        {
            "$schema": "https://www.speedscope.app/file-format-schema.json",
            "name": "synthetic py-spy-like profile",
            "activeProfileIndex": 0,
            "exporter": "bench_foundation.py",
            "shared": {"frames": frames},
        }
    )
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(head[:-1] + ',"profiles":[')
        fh.write(",".join(profiles))
        fh.write("]}")
    os.replace(tmp, path)
    used = np.unique(nodes)
    d = np.asarray(depth)[used]
    return {
        "samples": len(nodes),
        "stacks": len(used),
        "max_depth": int(d.max()),
        "mean_depth": float(np.asarray(depth)[nodes].mean()),
        "frames": len(frames),
    }


def dataset(n_samples: int, cache_dir: Path) -> tuple[Path, dict[str, Any]]:
    """The cached file for these parameters, generated on first use."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"synthetic-{n_samples}-{SEED}-v{GENERATOR_VERSION}.speedscope.json"
    info_path = path.with_suffix(".info")
    if path.exists() and info_path.exists():
        return path, json.loads(info_path.read_text())
    t0 = time.perf_counter()
    info = generate(path, n_samples)
    info["generate_s"] = time.perf_counter() - t0
    info_path.write_text(json.dumps(info))
    return path, info


# ---------------------------------------------------------------- measuring
def _run_timed(cmd: list[str]) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the child, stdout) of one run; exits on failure."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout


def _median_processes(cmds: dict[str, list[str]], runs: int) -> dict[str, tuple[float, float, str]]:
    """Median wall and CPU time per command; the commands take turns in every round so
    that a busy machine slows them alike instead of skewing the ratios."""
    walls: dict[str, list[float]] = {k: [] for k in cmds}
    cpus: dict[str, list[float]] = {k: [] for k in cmds}
    outs: dict[str, str] = {}
    for _ in range(runs):
        for key, cmd in cmds.items():
            wall, cpu, out = _run_timed(cmd)
            walls[key].append(wall)
            cpus[key].append(cpu)
            outs[key] = out
    return {k: (statistics.median(walls[k]), statistics.median(cpus[k]), outs[k]) for k in cmds}


def _median_call(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm-up (first-call caches such as stack depths are part of loading)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _cprofile(fn: Callable[[], object], top: int = 18) -> str:
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(top)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="runs per figure; the median is reported (default 3)")
    ap.add_argument("--samples", type=int, default=SAMPLES, help="samples in the synthetic file (default 1,000,000)")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "pyrometer-bench", help="where the generated files are kept")
    ap.add_argument("--profile", action="store_true", help="print cProfile listings of the in-process load and analysis")
    args = ap.parse_args(argv)
    runs = max(3, args.runs)

    from pyrometer.core.analysis.calltree import call_tree
    from pyrometer.core.analysis.flame import flame_layout
    from pyrometer.core.analysis.selection import Selection
    from pyrometer.core.formats import registry
    from pyrometer.core.model import Profile

    path, info = dataset(args.samples, args.cache)
    size_mb = path.stat().st_size / 1e6
    print(f"file: {path} ({size_mb:.1f} MB)")
    print(
        f"      {info['samples']:,} samples, {info['stacks']:,} distinct stacks, depth <= {info['max_depth']} "
        f"(mean {info['mean_depth']:.1f}), {info['frames']:,} frames, {THREADS} threads"
    )
    py = sys.executable
    pyro = path.with_name(path.name.replace(".speedscope.json", ".pyro"))
    if not pyro.exists() or pyro.stat().st_mtime < path.stat().st_mtime:
        subprocess.run([py, "-m", "pyrometer", "convert", str(path), str(pyro)], check=True)
    timed = _median_processes(
        {
            "floor": [py, "-c", "import json,sys; json.load(open(sys.argv[1], 'rb'))", str(path)],
            "speedscope": [py, "-m", "pyrometer", "stats", str(path), "--json"],
            "pyro": [py, "-m", "pyrometer", "stats", str(pyro), "--json"],
            "startup": [py, "-c", "pass"],
        },
        runs,
    )
    floor, floor_cpu, _ = timed["floor"]
    t_ss, t_ss_cpu, out = timed["speedscope"]
    if json.loads(out).get("samples") != info["samples"]:
        print(f"WARNING: stats reports {json.loads(out).get('samples')} samples, the file has {info['samples']}")
    t_pyro, t_pyro_cpu, out = timed["pyro"]
    if json.loads(out).get("samples") != info["samples"]:
        print("WARNING: .pyro stats disagrees with the speedscope sample count")
    startup, startup_cpu, _ = timed["startup"]

    def tree_and_flame(prof: Profile, sel: Selection | None = None) -> object:
        return flame_layout(call_tree(prof, sel), "alphabetical", prof)

    # cold: the first analysis of a freshly loaded profile builds the stack -> node caches
    cold = []
    for _ in range(runs):
        fresh = registry.load_profile(pyro)
        t = time.perf_counter()
        tree_and_flame(fresh)
        cold.append(time.perf_counter() - t)
    t_tree_cold = statistics.median(cold)
    profile = registry.load_profile(pyro)
    n = profile.sample_count
    t_tree = _median_call(lambda: tree_and_flame(profile), runs)
    t0, t1 = float(profile.samples["time"][0]), float(profile.samples["time"][-1])
    a = t0 + 0.45 * (t1 - t0)
    rng = Selection(a, a + 0.10 * (t1 - t0))
    t_range = _median_call(lambda: call_tree(profile, rng), runs)
    t_range_flame = _median_call(lambda: tree_and_flame(profile, rng), runs)
    bytes_per_sample = profile.model_bytes() / max(n, 1)
    row_bytes = profile.samples.row_bytes()

    rows = [
        ("json.load parse floor (process)", f"{floor:.2f} s", "", "1.00x", f"{floor_cpu:.2f} s"),
        ("stats speedscope --json (process)", f"{t_ss:.2f} s", "<= 1.00x floor", f"{t_ss / floor:.2f}x", f"{t_ss_cpu:.2f} s = {t_ss_cpu / floor_cpu:.2f}x"),
        ("stats .pyro --json (process)", f"{t_pyro:.2f} s", "<= 0.25x floor", f"{t_pyro / floor:.2f}x", f"{t_pyro_cpu:.2f} s = {t_pyro_cpu / floor_cpu:.2f}x"),
        ("  (python startup alone)", f"{startup:.2f} s", "", f"{startup / floor:.2f}x", f"{startup_cpu:.2f} s"),
        ("call tree + flame, all samples (first call)", f"{t_tree_cold * 1e3:.0f} ms", "<= 500 ms", f"{t_tree_cold / 0.5:.2f}x target", ""),
        ("call tree + flame, all samples (cached nodes)", f"{t_tree * 1e3:.0f} ms", "<= 500 ms", f"{t_tree / 0.5:.2f}x target", ""),
        ("call tree of a 10% range", f"{t_range * 1e3:.1f} ms", "<= 50 ms", f"{t_range / 0.05:.2f}x target", ""),
        ("  (same + flame layout)", f"{t_range_flame * 1e3:.1f} ms", "", "", ""),
        ("model bytes / sample (allocated)", f"{bytes_per_sample:.1f} B", "<= 32 B", f"{bytes_per_sample / 32:.2f}x target", ""),
        ("samples table bytes / row", f"{row_bytes} B", "<= 32 B", f"{row_bytes / 32:.2f}x target", ""),
    ]
    w = [max(len(r[i]) for r in rows) for i in range(5)]
    w[3] = max(w[3], len("ratio"))
    print()
    print(f"{'figure':<{w[0]}}  {'measured':>{w[1]}}  {'target':<{w[2]}}  {'ratio':<{w[3]}}  CPU time (median of {runs} runs)")
    for r in rows:
        print(f"{r[0]:<{w[0]}}  {r[1]:>{w[1]}}  {r[2]:<{w[2]}}  {r[3]:<{w[3]}}  {r[4]}".rstrip())
    print("\nProcess figures are wall time (CPU time beside them: less sensitive to a busy machine).")
    if args.profile:
        print("\n--- cProfile: speedscope load (in process) ---")
        print(_cprofile(lambda: registry.load_profile(path)))
        print("--- cProfile: .pyro load (in process) ---")
        print(_cprofile(lambda: registry.load_profile(pyro)))
        print("--- cProfile: .pyro load + first call tree + flame layout ---")
        print(_cprofile(lambda: tree_and_flame(registry.load_profile(pyro))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
