"""A long live session through the window's own pipeline (issue 15's 24-hour goal): memory / recording, GUI stalls.

Replays a recording's frames (e.g. /work/scale-data/scale-30M-f300-v2.pyro:
samples, lag probes, tasks, spans, blocking events, telemetry, as the agent
sends them) the way a live window receives them: each group of frames is
written by a RecordingWriter that keeps the index (what the collector does;
like LiveSession's, it reads the lag probes and tasks from the live model at
the end), queued on a ProfileFeed and applied to the live Document's profile
on the GUI thread (what LiveSession does), then the document says it grew.
At `--checkpoints` points the panes first catch up with everything since the
last one (reported, not a stall: a live window refreshes ~10 times a second),
then one more socket read's worth of frames arrives and every visible pane
refreshes. With `--paint-each` each pane's refresh is followed by the events
it left (its paint, a relayout), as SessionView._step runs them one pane per
event-loop turn: the slowest "refresh + its paint" is the longest the GUI
thread is busy at a time. Without it all panes refresh first and then paint
together (the figure the first version of this benchmark printed).
At the end the recording is closed with its index on a worker thread (what
Collector.close(background=True) does for the window) while the GUI thread
runs a 5 ms timer: its longest wait is reported; `--close-on-gui` closes on
the GUI thread as the window did before. Then the GUI thread's remaining
share (profile.finish) and the run-history aggregate (on a worker in the
window now) are timed.

Memory is this process's RSS (Qt, numpy and PySide included, ~130 MB) and its
own memory (RssAnon + RssShmem: what the kernel cannot drop; RSS adds the
pages of files it maps, such as the live columns spilled to files of their
own, columns.ColumnTable.reserve(spill=True)): peak / bytes recorded.
Figures per checkpoint show whether a cost grows with the session; "page
faults" counts the pages the measured refresh mapped (spilled rows read back).

    .venv/bin/python benchmarks/bench_live_session.py /work/scale-data/scale-30M-f300-v2.pyro --panes tasks --paint-each
    # main, for comparison (same script; main's code exported to DIR as a package "pyrometer", see with_package.py):
    .venv/bin/python benchmarks/with_package.py DIR benchmarks/bench_live_session.py FILE --panes tasks --paint-each

Each step's wall time and the GUI thread's CPU time in it (time.thread_time) are
printed: on the shared 2-core machine a step's wall time was 2-4x its CPU time
(the GUI thread waiting for a core), so compare runs made back to back.

30M samples (956 MB recorded), --checkpoints 10, --panes tasks --paint-each,
main and this branch back to back at load 6-10 (the earlier table's runs were
at load 2-4: these wall times are ~2-3x theirs for the same code):
                                      main (41500ab)      h15-livestall (668e87b)   h15-livestall (2256d3a), load 8.5
  slowest refresh + its paint,        208-1305 ms         81-426 ms                 33-154 ms
    per checkpoint (median)           (374 ms)            (166 ms)                  (87 ms)
    its GUI-thread CPU (median)       -                   -                         24-44 ms (30 ms)
    per pane: timeline                1305 ms             332 ms                    154 ms (CPU 44 ms)
              tasks                   616 ms              281 ms                    84 ms (CPU 26 ms)
              flame graph             269 ms              426 ms                    83 ms (CPU 30 ms)
              functions               298 ms              199 ms                    75 ms (CPU 26 ms)
  RSS before closing / peak           1.42x / 2.24x       1.42x / 2.23x             1.42x / 2.23x
10M samples, same flags, back to back at load ~7 (main 41500ab against eacc2af):
  GUI-thread CPU of the slowest step per checkpoint: main 30-109 ms (median 61), branch 24-52 ms (median 30);
  per pane (CPU): timeline 109 -> 52 ms, functions 45 -> 29, flame graph 44 -> 31, tasks 35 -> 19;
  wall: median 254 -> 83 ms.
What was proportional to the whole session in a live refresh (and now is not): the timeline laid every
lane out twice (its fit moved the view by the padding, the relayout timer built them again in the paint);
cut every task row into running/delayed pieces again and built a name per piece; sorted every task
stretch; listed, named and turned into arrays every stall; hashed every box's colour for the legends;
the timeline and tasks panes looked at every task for asyncio's own ones; the tasks pane argsorted
every task id for the parents, searched once per task for a group's start and walked the view once
per opened task. Still there: the tasks pane's view over every task (numpy, ~12 ms CPU at 10M,
~30 ms at 30M), the flame graph's layout of the whole call tree, the flame item's levels of detail
over every timeline box, pyqtgraph's axis pictures redrawn when the live range moves.

Earlier table (h15-live's runs, load 2-4):
30M samples (956 MB recorded), --checkpoints 10, run back to back on a
2-core machine shared with other work (load 2-4; timings are noisy: an idle
thread alone saw gaps of up to 60 ms at load 8):
                                      main (29b89d4)      h15-live (c52bd19)
  RSS before closing                  1580 MB = 1.65x     1358 MB = 1.42x
  peak RSS (the history aggregate)    2905 MB = 3.04x     2132 MB = 2.23x
  slowest refresh + its paint,        51-169 ms           42-126 ms
    per checkpoint (median)           (96 ms)             (74 ms)
    per pane: tasks                   124 ms              59 ms
              timeline                169 ms              126 ms
              flame graph, functions  40, 35 ms           46, 37 ms
  closing with the index              2.47 s on the GUI   2.23 s on a worker; the GUI waited <= 26 ms
  run-history aggregate               5.39 s on the GUI   2.08 s on a worker
  profile.finish() at the end         76 ms on the GUI    0 ms (rows' threads noted as they arrive)
GUI stalls: at load 8.5 every step's
GUI-thread CPU at 30M was <= 44 ms, its wall time up to 154 ms; not measured
on a quiet machine.

Memory (h15-livemem):

30M samples (956 MB recorded), --checkpoints 10, main and h15-livemem run back to
back (BENCH_CACHES=1 in both: its walk of the caches adds ~100 MB of own memory
before closing; the last column is h15-livemem's final code run alone, without
it) on a 2-core machine shared with other work (load 7-10: timings are noisy,
memory figures are not):
                                      main (41500ab)      h15-livemem (94b207d)  h15-livemem (0bbe839)
  RSS before closing                  1500 MB = 1.57x     601 MB = 0.63x         451 MB = 0.47x
  own memory before closing           1438 MB = 1.50x     522 MB = 0.55x         385 MB = 0.40x
  RSS after closing, own after        1.64x, 1.57x        0.69x, 0.62x           0.57x, 0.50x
  peak RSS (the close, the history)   2253 MB = 2.36x     956 MB = 1.00x         814 MB = 0.85x
  RSS at 27.8M samples, own           1.48x, 1.41x        0.62x, 0.45x           0.59x, 0.43x
  page faults per measured refresh    4-932               16-1463                22-1600
  run-history aggregate (worker)      2.34 s              1.00 s                 2.17 s (load 10)
  closing with the index (worker)     3.29 s              3.34 s                 7.69 s (load 10)
10M (319 MB recorded), back to back: RSS before closing 1.81x -> 0.87x, own 1.62x -> 0.66x, peak RSS
2.67x -> 1.24x (~130 MB of it is Qt's: 0.4x at this size); replayed in 46 s -> 38 s at load 9.5. The
final code (4f93731) alone: 0.86x, own 0.66x, peak 1.24x. The final code on a quiet machine (load 2.7),
PYROMETER_SPILL=0 then spilled: RSS before closing 1.81x -> 0.85x, own 1.61x -> 0.65x, peak 2.07x ->
1.23x; slowest refresh + paint 24-77 ms -> 23-59 ms; replayed in 11 s -> 15 s (applying 5.2M samples
without a window: 2.2-2.4 s -> 2.9-3.0 s, the pwrite per column and batch; ~0.1 us per sample).
100M (3184 MB recorded, --checkpoints 5, 0bbe839 alone; main not run: ~1.5x would be ~5 GB): RSS before
closing 1020 MB = 0.32x, own 954 MB = 0.30x (~9 MB more per million samples: tasks, index, heap), peak
2235 MB = 0.70x; on workers the close took 15.6 s and the run-history aggregate 8.8 s (load 7-9). At 67M
samples it passed the 2^26 rows reserved and still moved them into larger files (since 4f93731 the
same files remapped, no row copied).
What the 30M session holds (h15-livemem): sample columns 30M x 28 bytes = 801 MB (time 229, thread,
stack, task, weight, cpu 114 each) and lag columns 7.5M x 16 bytes = 114 MB now live in unlinked files
under ~/.cache/pyrometer/columns, written with pwrite and out of memory except the last rows
(KEEP_ROWS) and whatever a refresh reads back until the next release; what stays is Qt, Python and the
libraries (~130 MB RSS before the session), ~150k tasks as Python objects (~85 MB: 29 MB at 10M
by tracemalloc, where the whole replay without a window added 68 MB of own memory), the live index's
per-chunk aggregates (~24 MB; 8 MB at 10M), pane caches (~16 MB: task columns 9.8, node sums 3.4,
node table 1.5, stack sums, activity and lag summaries) and heap left by refresh temporaries (~150 MB).
Before this (h15-live, c52bd19): RSS before closing 1.42x, peak 2.23x (the run-history aggregate:
cpu_time made ~750 MB of temporaries at once, now a million rows at a time).
Still over the goal: GUI stalls (the timeline's refresh at 30M; another branch works on them).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_close_index import frame_groups
from bench_scale_window import own, own_peak, peak, rss

from pyrometer.core.agent import wire

MB = 1024 * 1024
STEP_CPU: dict[str, float] = {}  # the GUI thread's CPU seconds in the slowest step: "last" (this checkpoint), per pane
PROFILE_PANES: set[str] = set()  # panes whose refresh + paint is profiled at the last checkpoint (BENCH_PROFILE_PANES)


def split(data: bytes) -> list[tuple[int, bytes]]:
    """(kind, payload) of each whole frame, as the collector hands them on."""
    out = []
    pos = 0
    while pos + wire.FRAME_HEADER_SIZE <= len(data):
        length, kind = wire.FRAME_HEADER.unpack_from(data, pos)[:2]
        start = pos + wire.FRAME_HEADER_SIZE
        out.append((kind, data[start : start + length]))
        pos = start + length
    return out


def _nbytes(obj: Any, seen: set[int], depth: int = 0) -> int:
    """Bytes of the numpy arrays reachable from obj (a rough walk through containers and attributes)."""
    import numpy as np

    if id(obj) in seen or depth > 6:
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return obj.nbytes if obj.base is None or not isinstance(obj.base, np.ndarray) else 0
    if isinstance(obj, dict):
        return sum(_nbytes(v, seen, depth + 1) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(_nbytes(v, seen, depth + 1) for v in obj[:64]) * max(1, len(obj) // 64) if len(obj) > 64 else sum(
            _nbytes(v, seen, depth + 1) for v in obj)
    if hasattr(obj, "__dict__"):
        return _nbytes(vars(obj), seen, depth + 1)
    if hasattr(obj, "__slots__"):
        return sum(_nbytes(getattr(obj, s, None), seen, depth + 1) for s in obj.__slots__)
    return 0


def refresh_all(view: Any, per_pane: dict[str, float], paint_each: bool = False, measured: bool = True) -> tuple[float, str, float]:
    """Refresh every visible pane; (the slowest refresh in seconds, its pane, the slowest refresh + its paint).

    With `paint_each` the events a pane's refresh left (its paint, a relayout it
    started) run before the next pane's refresh, as SessionView._step does: it
    refreshes one pane per event-loop turn and yields in between, so one such
    step is what the GUI thread is busy for at a time.
    """
    from PySide6.QtWidgets import QApplication

    worst, worst_pane, worst_step = 0.0, "", 0.0
    for pane in list(view.visible_panes()):
        prof = None
        if PROFILE_PANES and pane.pane_id in PROFILE_PANES:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        s = time.perf_counter()
        c = time.thread_time()
        view._refresh_pane(pane)
        took = time.perf_counter() - s
        step = took
        if paint_each:
            QApplication.processEvents()
            step = time.perf_counter() - s
        cpu = time.thread_time() - c  # the GUI thread's own work in the step: waiting for a core on a loaded machine left out
        STEP_CPU["last"] = max(STEP_CPU.get("last", 0.0), cpu)
        if measured:
            STEP_CPU[pane.pane_id] = max(STEP_CPU.get(pane.pane_id, 0.0), cpu)
        if prof is not None:
            import pstats

            prof.disable()
            print(f"--- {pane.pane_id}: refresh {1000 * took:.1f} ms, with its paint {1000 * step:.1f} ms")
            for key in ("cumtime", "tottime"):
                pstats.Stats(prof).sort_stats(key).print_stats(30)
        per_pane[pane.pane_id] = max(per_pane.get(pane.pane_id, 0.0), step)
        worst_step = max(worst_step, step)
        if took > worst:
            worst, worst_pane = took, pane.pane_id
    return worst, worst_pane, worst_step


def gui_gaps_while(work: Any) -> tuple[float, float]:
    """Run `work` on a thread while the GUI thread spins its event loop with a 5 ms timer:
    (seconds the work took, the longest the event loop went without running the timer)."""
    import threading

    from PySide6.QtCore import QEventLoop, QTimer

    done = threading.Event()
    marks = [time.perf_counter()]
    gaps = [0.0]
    loop = QEventLoop()

    def tick() -> None:
        now = time.perf_counter()
        gaps[0] = max(gaps[0], now - marks[0])
        marks[0] = now
        if done.is_set():
            loop.quit()

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    start = time.perf_counter()
    took = [0.0]

    def run() -> None:
        work()
        took[0] = time.perf_counter() - start
        done.set()

    timer.start()
    threading.Thread(target=run, name="bench-close", daemon=True).start()
    loop.exec()
    timer.stop()
    return took[0], gaps[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", type=Path)
    ap.add_argument("--checkpoints", type=int, default=20)
    ap.add_argument("--write-kb", type=int, default=64, help="bytes the collector writes at once (one socket read)")
    ap.add_argument("--no-reserve", action="store_true", help="grow the live columns by doubling (before issue 15's fix)")
    ap.add_argument("--paint-each", action="store_true",
                    help="let each pane's paint run before the next pane's refresh (as SessionView._step does)")
    ap.add_argument("--own-lag", action="store_true", help="the index keeps its own copy of the lag probes and tasks (before issue 15's live fix)")
    ap.add_argument("--close-on-gui", action="store_true", help="close on the GUI thread (before issue 15's live fix)")
    ap.add_argument("--panes", default="", help="pane ids to bring to the front too (e.g. tasks,event_loop)")
    args = ap.parse_args()

    from PySide6.QtWidgets import QApplication

    from pyrometer.app.document import Document
    from pyrometer.app.main_window import MainWindow, application
    from pyrometer.core.capture.feed import ProfileFeed
    from pyrometer.core.capture.writer import RecordingWriter
    from pyrometer.core.model import Profile

    if os.environ.get("BENCH_TRACEMALLOC"):
        import tracemalloc

        tracemalloc.start()
    application()
    win = MainWindow()
    win.quiet_errors = True
    win.resize(1440, 900)
    from pyrometer.app import live

    if args.no_reserve:
        live_profile = Profile()
    elif hasattr(live, "live_profile"):  # as LiveSession makes its profile
        live_profile = live.live_profile()
    else:  # before the live columns spilled
        live_profile = Profile()
        live_profile.samples.reserve(live.LIVE_SAMPLE_ROWS)
        live_profile.lag.reserve(live.LIVE_LAG_ROWS)
    view = win.add_document(Document(live_profile, is_live=True))
    win.show()
    for pid in filter(None, args.panes.split(",")):
        view.show_pane(pid)
    QApplication.processEvents()
    base_rss, base_own = rss(), own()
    total = args.source.stat().st_size
    out = Path(tempfile.mkdtemp(prefix="bench-live-")) / "session.pyro"
    profile = view.doc.profile
    # as LiveSession's collector (ProfileFeed.collector(..., profile=)): the index reads the model's lag probes and tasks at the end
    writer = RecordingWriter(out, index=True) if args.own_lag else RecordingWriter(out, index=True, model=profile)
    feed = ProfileFeed()
    next_mark = total / args.checkpoints
    rows: list[dict[str, Any]] = []
    per_pane: dict[str, float] = {}
    measure = False
    catch_up = 0.0
    started = time.perf_counter()
    for data in frame_groups(args.source, args.write_kb << 10):
        writer.write_raw(data)
        feed.put(split(data))
        feed.apply(profile)  # the GUI thread applies what arrived on each wake
        if hasattr(profile, "note_sample_threads"):  # and notes the new rows' threads (LiveSession._drain)
            profile.note_sample_threads()
        if measure:  # the refresh a live view does for one more socket read's worth of frames
            measure = False
            view.doc.model_grew()
            prof = None
            if os.environ.get("BENCH_PROFILE") and writer.bytes_written > total * 0.85:
                import cProfile

                prof = cProfile.Profile()
                prof.enable()
            if os.environ.get("BENCH_PROFILE_PANES") and writer.bytes_written > total * 0.85:
                PROFILE_PANES.update(os.environ["BENCH_PROFILE_PANES"].split(","))  # cProfile each pane's refresh + paint
            STEP_CPU["last"] = 0.0
            faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            worst, worst_pane, step = refresh_all(view, per_pane, paint_each=args.paint_each)
            faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults  # pages mapped (back) by the refresh
            PROFILE_PANES.clear()
            if prof is not None:
                import pstats

                prof.disable()
                pstats.Stats(prof).sort_stats("cumtime").print_stats(25)
            s = time.perf_counter()
            QApplication.processEvents()
            paint = time.perf_counter() - s
            rows.append({"mb": writer.bytes_written / MB, "samples": profile.sample_count, "worst_ms": 1000 * worst,
                         "step_ms": 1000 * step, "step_cpu_ms": 1000 * STEP_CPU["last"],
                         "pane": worst_pane, "faults": faults, "paint_ms": 1000 * paint, "catch_up_ms": 1000 * catch_up,
                         "rss_mb": rss() / MB, "rss_over_file": rss() / writer.bytes_written})
            r = rows[-1]
            print(f"{r['mb']:7.0f} MB {r['samples']:>11,} samples  slowest refresh {r['worst_ms']:6.1f} ms ({r['pane']}), "
                  + (f"slowest refresh + its paint {r['step_ms']:6.1f} ms (CPU {r['step_cpu_ms']:5.1f} ms), " if args.paint_each else
                     f"paint {r['paint_ms']:5.1f} ms, ")
                  + f"(catching up {r['catch_up_ms']:6.0f} ms first), {r['faults']:6d} page faults, "
                  f"RSS {r['rss_mb']:6.0f} MB = {r['rss_over_file']:.2f}x the recording, own {own() / MB:6.0f} MB = "
                  f"{own() / writer.bytes_written:.2f}x", flush=True)
            continue
        if writer.bytes_written < next_mark:
            continue
        next_mark += total / args.checkpoints
        # the panes catch up with everything since the last checkpoint (not timed as a stall: a live
        # window refreshes ~10 times a second, each time over ~0.1 s of new data), then measure
        view.doc.model_grew()
        catch_up, _, _ = refresh_all(view, {}, measured=False)
        QApplication.processEvents()
        measure = True
    feed.apply(profile)
    if os.environ.get("BENCH_CACHES"):  # what the analyses keep on the profile, biggest first
        sizes = []
        for key, entry in profile.cache._entries.items():
            seen: set[int] = set()
            sizes.append((_nbytes(entry[1], seen), str(key)[:80]))
        for nbytes, key in sorted(sizes, reverse=True)[:12]:
            print(f"  cache {nbytes / MB:8.1f} MB  {key}")
        print(f"  writer's index {_nbytes(writer._indexer.profile, set()) / MB if writer._indexer else 0:.1f} MB (numpy arrays)")
    if os.environ.get("BENCH_TRACEMALLOC"):
        import tracemalloc

        snap = tracemalloc.take_snapshot()
        for stat in snap.statistics("lineno")[:25]:
            print(f"  {stat.size / MB:8.1f} MB  {stat.traceback}")
    size = writer.bytes_written
    before_close = peak()
    print(f"before closing: RSS {rss() / MB:.0f} MB = {rss() / size:.2f}x, peak so far {before_close / MB:.0f} MB = "
          f"{before_close / size:.2f}x the recording; own memory (RssAnon+RssShmem) {own() / MB:.0f} MB = {own() / size:.2f}x, "
          f"peak {own_peak() / MB:.0f} MB = {own_peak() / size:.2f}x")
    if args.close_on_gui:  # what the window did before: close (append the index) on its GUI thread
        s = time.perf_counter()
        writer.close(index=True)
        closed = time.perf_counter() - s
        print(f"replayed in {time.perf_counter() - started:.0f} s; closing with the index on the GUI thread {closed:.2f} s")
    else:  # what LiveSession does now (Collector.close(background=True)): the index on a worker
        closed, gap = gui_gaps_while(lambda: writer.close(index=True))
        print(f"replayed in {time.perf_counter() - started:.0f} s; closing with the index on a worker {closed:.2f} s, "
              f"the GUI thread's longest wait meanwhile {1000 * gap:.0f} ms")
    s = time.perf_counter()
    profile.finish()  # what LiveSession._finish_state still does on the GUI thread
    finish = time.perf_counter() - s
    from pyrometer.core.history.runs import run_from_profile

    s = time.perf_counter()
    run_from_profile(profile, "bench", None, 0)  # the run history's aggregate (LiveSession._add_to_history)
    history = time.perf_counter() - s
    print(f"the GUI thread's share of the end: profile.finish() {1000 * finish:.0f} ms, run-history aggregate {1000 * history:.0f} ms")
    filled = sum(len(t) * t.row_bytes() for t in (profile.samples, profile.lag, profile.task_spans, profile.stacks, profile.frames, profile.awaits))
    print(f"after closing: RSS {rss() / MB:.0f} MB = {rss() / size:.2f}x, own {own() / MB:.0f} MB = {own() / size:.2f}x "
          f"(own peak sampled {own_peak() / MB:.0f} MB = {own_peak() / size:.2f}x)")
    print(f"peak RSS {peak() / MB:.0f} MB = {peak() / size:.2f}x the recording ({size / MB:.0f} MB); "
          f"RSS before the session {base_rss / MB:.0f} MB (own {base_own / MB:.0f} MB); profile columns {filled / MB:.0f} MB filled "
          f"(samples {len(profile.samples) * profile.samples.row_bytes() / MB:.0f} MB, lag {len(profile.lag) * profile.lag.row_bytes() / MB:.0f} MB), "
          f"{profile.model_bytes() / MB:.0f} MB reserved")
    print("slowest refresh per pane: " + ", ".join(f"{k} {1000 * v:.1f} ms" for k, v in sorted(per_pane.items(), key=lambda kv: -kv[1])))
    cpus = sorted(((k, v) for k, v in STEP_CPU.items() if k != "last"), key=lambda kv: -kv[1])
    print("the GUI thread's CPU in a pane's slowest step: " + ", ".join(f"{k} {1000 * v:.1f} ms" for k, v in cpus))
    if rows and args.paint_each:
        import statistics

        print(f"slowest refresh + its paint per checkpoint: median {statistics.median(r['step_ms'] for r in rows):.0f} ms "
              f"(range {min(r['step_ms'] for r in rows):.0f}-{max(r['step_ms'] for r in rows):.0f}); its GUI-thread CPU: median "
              f"{statistics.median(r['step_cpu_ms'] for r in rows):.0f} ms (range {min(r['step_cpu_ms'] for r in rows):.0f}-"
              f"{max(r['step_cpu_ms'] for r in rows):.0f})")
    out.unlink()
    out.parent.rmdir()
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
