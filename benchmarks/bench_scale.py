"""Scale benchmark (issue 15): huge `.pyro` recordings, read fast and in bounded memory.

Generates realistic recordings of 1M, 10M, 30M, 100M samples the way a live
session writes them: the real wire encoders (`core/agent/wire.py`) and the real
`RecordingWriter`, one write per agent batch, each batch a few hundred samples
(4 threads at 100 Hz) with the stack and frame definitions it needs first
(a few thousand distinct stacks 20-40 frames deep, new ones appearing over the
whole run), the loop's lag probes (every 10 ms), asyncio tasks created and
ended (with their running/delayed spans), blocking events with blame, and
telemetry once a second. Generation is vectorised per segment; files are
cached in `--data` (default /work/scale-data) and reused.

Then, each in a fresh subprocess (time and the child's peak RSS, `ru_maxrss`
from wait4, and RSS / file size):

  stats        `pyrometer stats FILE` (and `--json`), the whole process
  load         `read_recording(FILE)`: what the window loads, in-process time
  range        self time per function over a 1% window (function_table of a
               Selection) on the loaded profile, in-process time
  window       `measure_window_first_frame(path)`: the app headless to its
               first drawn frame (`pyrometer open FILE --screenshot PNG`)

and prints a table with the scaling exponent between consecutive sizes
(time ~ size^k: 1.0 is linear).

    .venv/bin/python benchmarks/bench_scale.py --sizes 1M,10M,30M [--data DIR] [--no-window] [--no-load]
    .venv/bin/python benchmarks/bench_scale.py --generate-only --sizes 30M

`stats`, measured 2026-12-03 on the shared 2-core machine at load 7-9 (wall is noisy; CPU and memory are
not): main (41500ab) then branch h15-open, interleaved one size at a time, the same script run by each
tree's interpreter (`--sizes N --data DIR`; 100M with `--no-load --no-window`). Text `stats` builds only
what it prints (task counts from the index's task batches as columns, the first 10 stalls' rows):

| samples | file | stats main: wall (cpu) peak/file | stats branch: wall (cpu) peak/file | --json main | --json branch |
|---|---|---|---|---|---|
| 1M   |   36 MB | 0.84 s (0.32) 1.49x | 0.81 s (0.31) 1.37x | 0.87 s (0.38) | 0.84 s (0.30) |
| 10M  |  346 MB | 2.36 s (0.84) 0.36x | 1.06 s (0.42) 0.20x | 4.79 s (1.62) | 3.57 s (1.40) |
| 30M  | 1035 MB | 3.84 s (1.68) 0.26x | 1.16 s (0.74) 0.10x | 8.36 s (3.63) | 12.42 s (4.33) |
| 100M | 3452 MB | 10.58 s (4.72) 0.21x | 1.64 s (1.61) 0.08x | 23.24 s (9.46) | 8.48 s (8.23) |

Scaling exponent of `stats` wall time, 1M->10M->30M->100M: main 0.45, 0.44, 0.84; branch 0.12, 0.08, 0.29
(CPU: main 0.43, 0.62, 0.86; branch 0.13, 0.52, 0.65). `--json` prints every task and stall, as before
(same bytes as main's output at 10M and 30M). The window's first frame, range re-aggregation and GUI
stalls: benchmarks/bench_scale_window.py (this script's `window` column waits for the whole file).
At load 1.4 (the machine quiet; main then at 1c44617, after the h15-livestall and h15-livemem merges, which
add little to its work), `/usr/bin/time pyrometer stats FILE` three times interleaved: 30M main
1.08-1.33 s (CPU 1.2-1.4, 258 MB), branch 0.42-0.55 s (CPU 0.5-0.6, 104 MB = 0.10x); 100M main 3.80 s
(3.75 CPU, 712 MB), branch 1.55 s (1.62 CPU, 273 MB = 0.08x), once each.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pyrometer.core.agent import wire
from pyrometer.core.capture.writer import RecordingWriter

GENERATOR_VERSION = 2  # bump when the generator changes so cached files are not reused
SEED = 15
THREADS = 4  # thread 0 runs the event loop; 1..3 are workers
RATE_HZ = 100.0
LAG_INTERVAL_S = 0.010
TASKS_PER_S = 2.0
BLOCKING_EVERY_S = 15.0
DEFAULT_SIZES = "100k,1M"
SEGMENT_TICKS = 100_000  # ticks generated at once (vectorised)


def parse_size(text: str) -> int:
    text = text.strip().lower()
    mult = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if text[-1:] in "kmg" else text) * mult)


def size_label(n: int) -> str:
    for unit, div in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= div and n % div == 0:
            return f"{n // div}{unit}"
    return str(n)


# ---------------------------------------------------------------- generator
@dataclass
class StackPool:
    """Leaf stacks in order of first use, over a prefix tree of (parent, frame) nodes."""

    parent: list[int]
    frame: list[int]
    leaves: np.ndarray  # node id of each pool item's leaf; increasing
    frame_rows: list[list[Any]]  # [id, file, line, function, firstline]


def make_stack_pool(rng: np.random.Generator, n_items: int) -> StackPool:
    n_funcs = 700
    files = [f"/srv/app/pkg{m % 23}/mod{m}.py" for m in range(60)]
    func_file = rng.integers(0, len(files), n_funcs)
    func_first = rng.integers(1, 900, n_funcs)
    func_names = [f"{'Handler' if i % 5 == 0 else 'Service'}{i % 37}.op_{i}" for i in range(n_funcs)]
    frame_rows: list[list[Any]] = []
    frame_of: dict[tuple[int, int], int] = {}

    def frame_id(func: int) -> int:
        line = int(func_first[func]) + int(rng.integers(1, 40))
        key = (func, line)
        fid = frame_of.get(key)
        if fid is None:
            fid = len(frame_rows)
            frame_of[key] = fid
            frame_rows.append([fid, files[int(func_file[func])], line, func_names[func], int(func_first[func])])
        return fid

    parent: list[int] = []
    frame: list[int] = []
    paths: list[list[int]] = []
    roots: list[int] = []
    for r in range(THREADS):  # each thread's bootstrap chain
        path: list[int] = []
        for d in range(6):
            parent.append(path[-1] if path else -1)
            frame.append(frame_id((r * 11 + d) % n_funcs))
            path.append(len(parent) - 1)
        roots.append(path[-1])
        paths.append(path)
    pool_paths: list[list[int]] = []
    leaves = []
    for k in range(n_items):
        if pool_paths and rng.random() < 0.8:
            base = pool_paths[int(rng.integers(0, len(pool_paths)))]
            cut = int(rng.integers(6, max(7, len(base) - 1)))
            path = base[:cut]
        else:
            path = list(paths[k % THREADS])
        depth = int(rng.integers(20, 41))
        if len(path) >= depth:
            path = path[: depth - 1]
        while len(path) < depth:
            parent.append(path[-1])
            frame.append(frame_id(int(min(n_funcs - 1, rng.zipf(1.3) - 1 + rng.integers(0, 50)))))
            path.append(len(parent) - 1)
        pool_paths.append(path)
        leaves.append(path[-1])
    return StackPool(parent, frame, np.asarray(leaves, np.int64), frame_rows)


def _pool_size(n_samples: int) -> int:
    """A few thousand distinct stacks, more in longer runs."""
    return int(1200 + 600 * math.log2(1 + n_samples / 1e6))


def generate(path: Path, n_samples: int, frame_samples: int = 300, seed: int = SEED) -> dict[str, Any]:
    """Write a recording of n_samples samples; returns what was written (counts, seconds)."""
    rng = np.random.default_rng(seed)
    pool = make_stack_pool(rng, _pool_size(n_samples))
    n_ticks = n_samples // THREADS
    frame_ticks = max(1, frame_samples // THREADS)
    tmp = path.with_suffix(".partial")
    started = time.perf_counter()
    stacks_defined = 0
    frames_defined = 0
    frame_of_node = np.asarray(pool.frame, np.int64)
    # frames needed by nodes [0, k): running max of their frame ids
    frames_needed = np.maximum.accumulate(frame_of_node) + 1
    next_task = 1
    alive: list[tuple[int, float]] = []  # (task id, end time)
    pending_end: list[tuple[float, int, float]] = []
    next_blocking = BLOCKING_EVERY_S * 0.5
    last_telemetry = -1.0
    lag_probes = 0
    tasks_total = 0
    blocking_total = 0
    written = 0
    writer = RecordingWriter(tmp)
    try:
        t0_wall = 1.7e9
        meta = {
            "pid": 4242, "argv": ["service.py"], "python": "3.11.7", "implementation": "cpython",
            "executable": "/usr/bin/python3", "host": "bench", "start_wall": t0_wall, "clock": "perf_counter",
            "t0": 1000.0, "mode": "sample", "requested_mode": "sample", "trace_clock": None, "rate_hz": RATE_HZ,
            "loop_interval_ms": LAG_INTERVAL_S * 1000, "block_threshold_ms": 50.0, "attached": False,
            "agent_version": "0.2", "unit": "seconds", "bench_scale": GENERATOR_VERSION,
        }
        names = ["MainThread"] + [f"worker-{i}" for i in range(THREADS - 1)]
        head = [
            wire.json_frame(wire.META, meta),
            wire.json_frame(wire.THREADS, [[i, names[i], 10000 + i] for i in range(THREADS)]),
            wire.json_frame(wire.LOOPS, [[0, 0, "<_UnixSelectorEventLoop running=True closed=False debug=False>"]]),
        ]
        writer.write_raw(b"".join(head))
        n_pool = len(pool.leaves)
        for seg0 in range(0, n_ticks, SEGMENT_TICKS):
            seg1 = min(n_ticks, seg0 + SEGMENT_TICKS)
            m = seg1 - seg0
            ticks = np.arange(seg0, seg1)
            tick_t = ticks / RATE_HZ + rng.normal(0.0, 0.0004, m).clip(-0.002, 0.002)
            tick_t = np.maximum.accumulate(tick_t + 0.003)
            # pool items allowed so far grow with sqrt(progress): many early, new ones all along
            frac = (seg0 + np.arange(m)) / max(1, n_ticks - 1)
            allowed = np.maximum(200, (n_pool * np.sqrt(frac))).astype(np.int64)
            t_col = np.repeat(tick_t, THREADS)
            thr = np.tile(np.arange(THREADS, dtype=np.int32), m)
            u = rng.random(m * THREADS)
            skew = np.where(thr == 0, 2.5, 4.0)
            item = np.minimum((np.repeat(allowed, THREADS) * u**skew).astype(np.int64), n_pool - 1)
            stack = pool.leaves[item].astype(np.int32)
            prev = np.concatenate(([tick_t[0] - 1 / RATE_HZ], tick_t[:-1]))
            w = np.repeat(tick_t - prev, THREADS).astype(np.float32)
            busy = rng.random(m * THREADS) < np.where(thr == 0, 0.55, 0.35)
            cpu = np.where(busy, w * rng.uniform(0.8, 1.0, m * THREADS), w * rng.uniform(0.0, 0.02, m * THREADS)).astype(np.float32)
            task = np.full(m * THREADS, -1, np.int32)
            n_lag = int((tick_t[-1] - (tick_t[0] - 1 / RATE_HZ)) / LAG_INTERVAL_S)
            lag_t = np.sort(rng.uniform(tick_t[0] - 1 / RATE_HZ, tick_t[-1], n_lag))
            lag_v = (rng.exponential(0.0006, n_lag) + 0.0001).astype(np.float32)
            for f0 in range(0, m, frame_ticks):
                f1 = min(m, f0 + frame_ticks)
                a, b = f0 * THREADS, f1 * THREADS
                t_start, t_end = float(tick_t[f0]) - 1 / RATE_HZ, float(tick_t[f1 - 1])
                parts: list[bytes] = []
                # tasks created in this batch; the running one shows on the loop thread's samples
                created: list[tuple[float, int, int]] = []
                n_new = int(rng.poisson(TASKS_PER_S * (t_end - t_start)))
                for tc in np.sort(rng.uniform(t_start, t_end, n_new)).tolist():
                    tid = next_task
                    next_task += 1
                    parent = alive[int(rng.integers(0, len(alive)))][0] if alive and rng.random() < 0.5 else -1
                    life = float(rng.exponential(2.0)) + 0.001
                    created.append((tc, tid, parent))
                    alive.append((tid, tc + life))
                    pending_end.append((tc + life, tid, life))
                if alive:
                    loop_rows = np.flatnonzero(thr[a:b] == 0) + a
                    choice = rng.integers(-len(alive), len(alive), len(loop_rows))
                    ids = np.asarray([t for t, _ in alive], np.int32)
                    task[loop_rows] = np.where(choice >= 0, ids[np.maximum(choice, 0)], -1)
                need = int(stack[a:b].max()) + 1
                if need > stacks_defined:
                    fneed = int(frames_needed[need - 1])
                    if fneed > frames_defined:
                        parts.append(wire.frames_frame(pool.frame_rows[frames_defined:fneed]))  # type: ignore[arg-type]
                        frames_defined = fneed
                    parts.append(wire.stacks_frame(stacks_defined, pool.parent[stacks_defined:need], pool.frame[stacks_defined:need]))
                    stacks_defined = need
                if created:
                    parts.append(wire.tasks_new_frame(
                        [c[0] for c in created], [c[1] for c in created], [c[2] for c in created], [0] * len(created),
                        [f"request-{c[1]}" for c in created], ["handle_request"] * len(created)))
                    tasks_total += len(created)
                parts.append(wire.samples_frame(
                    t_col[a:b].tolist(), thr[a:b].tolist(), stack[a:b].tolist(), task[a:b].tolist(),
                    w[a:b].tolist(), cpu[a:b].tolist()))
                la, lb = np.searchsorted(lag_t, [t_start, t_end])
                if lb > la:
                    parts.append(wire.lag_frame(lag_t[la:lb].tolist(), [0] * int(lb - la), lag_v[la:lb].tolist()))
                    lag_probes += int(lb - la)
                ended = [e for e in pending_end if e[0] <= t_end]
                if ended:
                    pending_end = [e for e in pending_end if e[0] > t_end]
                    done_ids = {e[1] for e in ended}
                    alive = [x for x in alive if x[0] not in done_ids]
                    k = len(ended)
                    states = rng.choice(3, k, p=[0.9, 0.07, 0.03]).tolist()
                    running = [e[2] * 0.2 for e in ended]
                    parts.append(wire.tasks_end_frame(
                        [e[0] for e in ended], [e[1] for e in ended], [r * 0.9 for r in running], running,
                        [e[2] * 0.75 for e in ended], [e[2] * 0.05 for e in ended], states,
                        ["TimeoutError" if s == 2 else "" for s in states]))
                    parts.append(wire.task_spans_frame(
                        [e[0] - e[2] for e in ended], [e[0] - e[2] + r for e, r in zip(ended, running, strict=True)],
                        [e[1] for e in ended], [0] * k))
                if t_end >= next_blocking:
                    start = next_blocking
                    dur = float(rng.uniform(0.06, 0.3))
                    victim = alive[0][0] if alive else -1
                    parts.append(wire.json_frame(wire.BLOCKING, {
                        "start": start, "duration": dur, "loop": 0, "thread": 0, "stack": int(stack[a]),
                        "task": victim, "callback": "", "task_name": f"request-{victim}" if victim >= 0 else None,
                        "await_chain": [[victim, f"request-{victim}"]] if victim >= 0 else [],
                        "delayed": [[x[0], f"request-{x[0]}", dur * 0.9] for x in alive[1:4]],
                    }))
                    blocking_total += 1
                    next_blocking += BLOCKING_EVERY_S * float(rng.uniform(0.5, 1.5))
                if t_end - last_telemetry >= 1.0:
                    last_telemetry = t_end
                    parts.append(wire.json_frame(wire.TELEMETRY, {
                        "samples_taken": written + b, "samples_dropped": 0,
                        "effective_rate_hz": RATE_HZ, "agent_cpu_s": t_end * 0.004, "process_cpu_s": t_end * 1.6,
                        "bytes_sent": 0, "task_events_dropped": 0, "unsampled_s": 0.0, "lag_dropped": 0,
                        "frames_dropped": 0}))
                writer.write_raw(b"".join(parts))
            written += m * THREADS
        duration = float(n_ticks / RATE_HZ)
        writer.write_raw(wire.json_frame(wire.END, {"t": duration + 0.01, "exit_status": 0, "reason": "exit"}))
        streamed = time.perf_counter() - started
    finally:
        writer.close(index=True)  # as the collector closes a finished session: the index is the last frame
    os.replace(tmp, path)
    return {"samples": n_ticks * THREADS, "lag": lag_probes, "tasks": tasks_total, "blocking": blocking_total,
            "seconds": time.perf_counter() - started, "index_s": time.perf_counter() - started - streamed,
            "bytes": path.stat().st_size}


def reindex(path: Path) -> None:
    """Replace a cached file's index written by an older index format with a current one (as a close would)."""
    from pyrometer.core.formats.recording_index import index_frame, read_index_frame

    if read_index_frame(path) is not None:
        return
    started = time.perf_counter()
    with open(path, "r+b") as fh:
        size = os.fstat(fh.fileno()).st_size
        fh.seek(size - 4)
        old = int.from_bytes(fh.read(4), "little")
        at = size - wire.FRAME_HEADER_SIZE - old
        fh.seek(at)
        head = fh.read(wire.FRAME_HEADER_SIZE)
        if len(head) == wire.FRAME_HEADER_SIZE and wire.FRAME_HEADER.unpack(head)[1] == wire.INDEX:
            fh.truncate(at)
            size = at
        data = index_frame(path, fh, size)
        if data is not None:
            fh.seek(size)
            fh.write(data)
    print(f"re-indexed {path.name} in {time.perf_counter() - started:.1f} s", flush=True)


def recording_for(data: Path, n_samples: int, frame_samples: int = 300) -> Path:
    """The cached recording of that size, generated first when missing."""
    data.mkdir(parents=True, exist_ok=True)
    path = data / f"scale-{size_label(n_samples)}-f{frame_samples}-v{GENERATOR_VERSION}.pyro"
    if path.exists():
        reindex(path)
    else:
        info = generate(path, n_samples, frame_samples)
        print(f"generated {path.name}: {info['samples']:,} samples, {info['lag']:,} lag probes, "
              f"{info['tasks']:,} tasks, {info['blocking']:,} blocking, {info['bytes'] / 1e6:.0f} MB "
              f"in {info['seconds']:.1f} s (of which {info['index_s']:.1f} s indexing at close)", flush=True)
    return path


def torn_copy(path: Path) -> Path:
    """The recording cut 5 bytes into its last frame (the index): what a killed collector leaves."""
    torn = path.with_name(path.stem + "-torn.pyro")
    if not torn.exists() or torn.stat().st_mtime < path.stat().st_mtime:
        tmp = torn.with_suffix(".partial")
        subprocess.run(["cp", "--reflink=auto", str(path), str(tmp)], check=True)
        with open(tmp, "r+b") as fh:
            size = os.fstat(fh.fileno()).st_size
            fh.seek(size - 4)
            index_len = int.from_bytes(fh.read(4), "little")
            fh.truncate(size - index_len - wire.FRAME_HEADER_SIZE + 5)
        os.replace(tmp, torn)
    return torn


# ---------------------------------------------------------------- measuring
CHILD_ENV: dict[str, str] = {}  # --pythonpath: measure another checkout of the code (e.g. before a change)


# A small launcher process runs the measured command and reports its rusage: Linux carries the
# RSS a forked child inherits from its parent into its ru_maxrss across exec, so a child forked
# straight from this (possibly large: it generates the files) process would report our RSS.
_LAUNCHER = r"""
import json, os, subprocess, sys
report = sys.argv[1]
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
with open(report, "w") as fh:
    json.dump({"status": os.waitstatus_to_exitcode(status), "maxrss_kb": usage.ru_maxrss,
               "cpu_s": usage.ru_utime + usage.ru_stime}, fh)
"""


LAST_CPU: list[float] = [0.0]  # CPU seconds (user + system) of the last child: steadier than wall time on a busy machine


def run_child(argv: list[str], env: dict[str, str] | None = None, timeout: float = 900.0) -> tuple[float, int, str]:
    """Run a command in a fresh process: (wall seconds, peak RSS bytes of the child, stdout)."""
    env = dict(env if env is not None else os.environ, **CHILD_ENV)
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "rusage.json")
        out_path = os.path.join(tmp, "stdout")
        started = time.perf_counter()
        with open(out_path, "wb") as out:
            # cwd: not the checkout, whose `pyrometer/` folder would shadow --pythonpath's
            proc = subprocess.run([sys.executable, "-c", _LAUNCHER, report, *argv], stdout=out,
                                  stderr=subprocess.PIPE, env=env, timeout=timeout, cwd=tmp)
        seconds = time.perf_counter() - started
        with open(out_path, "rb") as fh:
            text = fh.read().decode(errors="replace")
        try:
            with open(report) as fh:
                usage = json.load(fh)
        except (OSError, ValueError):
            usage = {"status": proc.returncode, "maxrss_kb": 0, "cpu_s": 0.0}
        LAST_CPU[0] = float(usage.get("cpu_s", 0.0))
    if usage["status"] != 0:
        raise RuntimeError(f"{argv[:4]} failed ({usage['status']}): {proc.stderr.decode(errors='replace').strip()[-500:]}")
    return seconds, int(usage["maxrss_kb"]) * 1024, text


_LOAD_SNIPPET = r"""
import json, sys, time
t = time.perf_counter()
from pyrometer.core.formats.recording import read_recording
profile, report = read_recording(sys.argv[1])
load = time.perf_counter() - t
from pyrometer.core.analysis.functions import function_table
from pyrometer.core.analysis.selection import Selection
times = profile.samples["time"]
mid = float(times[len(times) // 2]); span = float(times[-1] - times[0]) * 0.01
t = time.perf_counter()
table = function_table(profile, Selection(mid, mid + span))
first = time.perf_counter() - t
t = time.perf_counter()
table = function_table(profile, Selection(mid - span, mid))
again = time.perf_counter() - t
print(json.dumps({"load_s": load, "range_s": first, "range2_s": again, "samples": profile.sample_count,
                  "functions": len(table), "clean": report.clean}))
"""


def measure_stats(path: Path, json_out: bool = False) -> tuple[float, int]:
    argv = [sys.executable, "-m", "pyrometer", "stats", str(path)] + (["--json"] if json_out else [])
    seconds, rss, _ = run_child(argv)
    return seconds, rss


def measure_load(path: Path) -> tuple[float, int, dict[str, Any]]:
    seconds, rss, out = run_child([sys.executable, "-c", _LOAD_SNIPPET, str(path)])
    return seconds, rss, json.loads(out.strip().splitlines()[-1])


def measure_window_first_frame(path: Path) -> tuple[float, int]:
    """The app headless (offscreen Qt) from start to its first drawn window, saved as a PNG.

    `pyrometer open FILE --screenshot PNG` loads the file, lays out and paints
    every pane once, saves the window and exits: the first frame a user sees.
    """
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    with tempfile.TemporaryDirectory() as tmp:
        png = os.path.join(tmp, "first.png")
        seconds, rss, _ = run_child([sys.executable, "-m", "pyrometer", "open", str(path), "--screenshot", png], env=env)
        if not os.path.exists(png):
            raise RuntimeError("the window saved no screenshot")
    return seconds, rss


def _exponent(rows: list[dict[str, Any]], key: str, i: int) -> str:
    if i == 0 or rows[i].get(key) is None or rows[i - 1].get(key) is None:
        return ""
    a, b = rows[i - 1], rows[i]
    if a[key] <= 0 or b[key] <= 0:
        return ""
    return f"^{math.log(b[key] / a[key]) / math.log(b['n'] / a['n']):.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default=DEFAULT_SIZES, help="comma-separated sample counts, e.g. 1M,10M,30M,100M")
    ap.add_argument("--data", default="/work/scale-data", help="where generated recordings are cached")
    ap.add_argument("--frame-samples", type=int, default=300, help="samples per SAMPLES frame (the agent: 20 at 100 Hz x 4 threads per 50 ms)")
    ap.add_argument("--generate-only", action="store_true")
    ap.add_argument("--pythonpath", default=None, help="PYTHONPATH of the measured processes (a tree holding another version of `pyrometer`)")
    ap.add_argument("--no-window", action="store_true", help="skip the window's first frame")
    ap.add_argument("--no-json", action="store_true", help="skip `stats --json`")
    ap.add_argument("--no-load", action="store_true", help="skip the full read_recording (at 100M: several GB)")
    ap.add_argument("--torn", action="store_true", help="also `stats` of a torn copy (no index): first open, then cached")
    args = ap.parse_args()
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    if args.pythonpath:
        CHILD_ENV["PYTHONPATH"] = args.pythonpath
    paths = [recording_for(Path(args.data), n, args.frame_samples) for n in sizes]
    if args.generate_only:
        return
    rows: list[dict[str, Any]] = []
    for n, path in zip(sizes, paths, strict=True):
        size = path.stat().st_size
        row: dict[str, Any] = {"n": n, "bytes": size}
        row["stats_s"], row["stats_rss"] = measure_stats(path)
        row["stats_cpu"] = LAST_CPU[0]
        if args.torn:
            torn = torn_copy(path)
            with tempfile.TemporaryDirectory() as home:  # an empty index cache
                CHILD_ENV["PYROMETER_HOME"] = home
                row["torn1_s"], row["torn1_rss"] = measure_stats(torn)
                row["torn1_cpu"] = LAST_CPU[0]
                row["torn2_s"], row["torn2_rss"] = measure_stats(torn)
                row["torn2_cpu"] = LAST_CPU[0]
                del CHILD_ENV["PYROMETER_HOME"]
        if not args.no_json:
            row["json_s"], row["json_rss"] = measure_stats(path, json_out=True)
            row["json_cpu"] = LAST_CPU[0]
        if not args.no_load:
            row["load_wall_s"], row["load_rss"], inner = measure_load(path)
            row["load_cpu"] = LAST_CPU[0]
            row["load_s"], row["range_s"], row["range2_s"] = inner["load_s"], inner["range_s"], inner["range2_s"]
        if not args.no_window:
            try:
                row["window_s"], row["window_rss"] = measure_window_first_frame(path)
                row["window_cpu"] = LAST_CPU[0]
            except Exception as exc:  # report it, keep the other figures
                print(f"window failed on {path.name}: {exc}", file=sys.stderr)
        rows.append(row)
        print(json.dumps(row), flush=True)

    def cell(r: dict[str, Any], key: str, rss: str | None, i: int) -> str:
        if r.get(key) is None:
            return "-"
        text = f"{r[key]:.2f}s{_exponent(rows, key, i)}"
        cpu = r.get(key.replace("_s", "_cpu"))
        if cpu is not None and key.endswith("_s"):
            text += f" (cpu {cpu:.1f})"
        if rss and r.get(rss):
            text += f" {r[rss] / 1e6:.0f}MB {r[rss] / r['bytes']:.2f}x"
        return text

    print()
    print("wall seconds^scaling exponent (cpu = user+system seconds of the process) peak-RSS rss/file")
    print(f"{'samples':>8} {'file':>8} | {'stats':>40} | {'stats --json':>40} | "
          f"{'read_recording (in-proc time; proc rss)':>40} | {'1% range':>10} | {'window first frame':>40}")
    for i, r in enumerate(rows):
        print(f"{size_label(r['n']):>8} {r['bytes'] / 1e6:>6.0f}MB | {cell(r, 'stats_s', 'stats_rss', i):>40} | "
              f"{cell(r, 'json_s', 'json_rss', i):>40} | {cell(r, 'load_s', 'load_rss', i):>40} | "
              f"{cell(r, 'range_s', None, i):>10} | {cell(r, 'window_s', 'window_rss', i):>40}")
    if args.torn:
        print(f"{'samples':>8} | {'stats, torn copy, 1st (builds index)':>36} | {'stats, torn copy, 2nd (cached)':>36}")
        for i, r in enumerate(rows):
            print(f"{size_label(r['n']):>8} | {cell(r, 'torn1_s', 'torn1_rss', i):>36} | {cell(r, 'torn2_s', 'torn2_rss', i):>36}")
    print("(^k: time ~ size^k against the previous size; rss is the child's peak ru_maxrss)")


if __name__ == "__main__":
    main()
