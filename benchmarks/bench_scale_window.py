"""The window on a huge profile (issue 15): first frame, per-pane refresh, range re-aggregation, live growth, memory.

    .venv/bin/python benchmarks/bench_scale_window.py --samples 10_000_000      (a synthetic profile in memory)
    .venv/bin/python benchmarks/bench_scale_window.py PATH.pyro                 (a recording, opened as the window does)
    .venv/bin/python benchmarks/bench_scale_window.py A.pyro B.pyro ...        (a table: one row per recording, each
                                                                                 opened in a process of its own)
        [--threads 4] [--stacks 3000] [--ranges 20] [--live 10_000_000] [--panes ID,...] [--skip-window] [--json]

Figures:
  window      loaded_s: a file read off the GUI thread with its caches warmed (FileLoader, as `pyrometer
              open`); first_frame_s: from opening to every pane on screen refreshed and the window painted
              once (the real refresh scheduler runs), first_frame_from: "index" when a huge recording's
              first frame came from its index (index_preview) while its samples were still read;
              full_detail_s: until the samples are read and every pane on screen refreshed from them;
              first_frame_screen_paint_ms: the turn after the first frame's grab, in which the window paints
              it on screen (offscreen: the whole window once more, 0.3-0.4 s at 30M, before any sample is read);
              max_gui_stall_while_reading_ms: the longest turn of the event loop after that, until the detail
              is read (it includes the turn that adopts the detail);
              scrub_*: the replay playhead set to SCRUBS in turn: median time until every visible pane
              drew it, and the longest turn of the event loop meanwhile (0.5 s after each included);
              drag_*: the replay slider dragged by hand (DRAG: 30 moves a second for 4 s, see _drag): the moves'
              delay, the longest turns, each pane's redraws a second, the catch-up after the last move;
              *_peak_mb: peak RSS so far at those moments; `show PANE s`: each other pane brought to the front and
              painted; `refresh PANE`: every refresh the window did, its time and the RSS it added
  range       re-aggregating a selected time range: function table, call tree and flame layout (as the
              three panes ask for them), median and max over `--ranges` random ranges of 1%..50%
              of the session, after a first one that builds the chunk index
  live        a synthetic feed growing a live Profile by big appends up to `--live` samples; at 20
              checkpoints an agent-sized batch arrives and every visible pane refreshes: the slowest
              refresh (a GUI stall) per pane, early and late, so a cost that grows with the session shows
  memory      peak RSS (VmHWM) / the file size and / the profile's own columns

Memory figures are RSS of this process: they include Qt and numpy themselves (~150 MB). A recording read
behind its index keeps its big columns in files of their own (core/columns.py, ColumnFile), let go of once
read: RSS then counts only the pages of them that were read since (the stack chart's whole-session view reads
a page or more per pixel column: +0.4 GB at 30M, +0.8 GB at 100M); "own" is what the kernel cannot drop.

Issue 15, measured 2026-12-03 on the shared 2-core machine (load 8-12: times are noisy, memory is not),
`bench_scale_window.py FILES --ranges 5`, main (29b89d4) then branch h15-openmem, the same bench script:

| recording | file MB | first frame s | full detail s | max GUI stall while reading ms | peak RSS MB first frame / full detail / end | peak / file | own peak / file |
|---|---|---|---|---|---|---|---|
| 10M main   |  330 | 2.88 | 18.9 | 127 | 175 / 594 / 638    | 1.93x | 1.74x |
| 10M branch |  330 | 1.61 |  6.7 | 164 | 174 / 297 / 491    | 1.49x | 0.80x |
| 30M main   |  987 | 7.89 | 51.6 | 298 | 208 / 1336 / 1425  | 1.44x | 1.38x |
| 30M branch |  987 | 1.76 | 17.9 | 349 | 206 / 465 / 995    | 1.01x | 0.44x |
| 100M main  | 3293 | 3.39 | 52.4 | 381 | 350 / 3988 / 4177  | 1.27x | 1.25x |
| 100M branch| 3293 | 3.68 | 51.8 | 326 | 349 / 1172 / 2180  | 0.66x | 0.31x |

(100M: one `--json` run each.) Pane refreshes after the detail arrives, 30M (`--json`): event loop 0.87 s ->
0.12 s (its blocking events are listed 200 rows a turn, 20-50 ms each; sorting the whole list once they are
all in is still one turn: 0.16 s for 5k events at 30M, 0.77 s for 16.7k at 100M), flame graph 0.15 s ->
0.05 s (the "by task" scan of every row moved to the reader's warm-up). Not improved: the
longest turn while the samples are read (0.1-0.4 s, mostly Qt painting while the reader holds the
interpreter), the first frame's paint on screen (0.3-0.4 s), the timeline's packing of every task when the
detail arrives (0.2-0.3 s at 30M), the Tasks pane's first refresh (0.25 s at 30M, 1.6 s at 100M).

Then 2026-12-03, load 7.5-10, `bench_scale_window.py FILE --ranges 5`, main (41500ab) then branch h15-open
interleaved one file at a time (the branch's script for both; main has no share_the_interpreter: Python's
5 ms switch interval). max_gui_stall_after_detail_ms: the longest turn from the detail adopted to SETTLE_S
after every visible pane is fresh (new here):

| recording | first frame s | first frame peak MB / peak/file | stall while reading ms | stall after detail ms | Tasks pane 1st refresh s | range median ms | peak/file |
|---|---|---|---|---|---|---|---|
| 1M main    | 4.13 | 241 / 7.0x  |   - |    - | 0.036 |  66 | 6.99x |
| 1M branch  | 2.02 | 242 / 7.0x  |   - |    - | 0.003 |  28 | 7.01x |
| 10M main   | 1.83 | 174 / 0.53x | 154 |  459 | 0.145 |  52 | 1.50x |
| 10M branch | 1.98 | 174 / 0.53x | 163 |  462 | 0.045 |  41 | 1.45x |
| 30M main   | 1.91 | 206 / 0.21x | 233 | 1873 | 0.552 | 113 | 1.03x |
| 30M branch | 1.97 | 207 / 0.21x |  58 |  387 | 0.130 |  75 | 0.98x |
| 100M main  | 1.68 | 349 / 0.11x | 138 | 5395 | 3.294 |  90 | 0.68x |
| 100M branch| 3.70 | 350 / 0.11x | 170 |  471 | 0.376 |  76 | 0.68x |

(1M opens without a preview: its first frame is its full detail; 100M: one run each, the branch's at
load 9.7 against 7.6, its first paint on screen 0.90 s against 0.14 s.) What went: the event loop pane's
sort once all rows are in (rows filled in the header's order are not sorted again), the timeline's packing
of every task (a worker packs and cuts the rows, `placing them…` meanwhile), the Tasks pane's columns
(built in the reader's warm-up), and most of the GIL convoy (every return from Qt waited up to a reader's
or packer's 5 ms switch interval; the window now switches every 1 ms: longest turn after the detail at
30M 0.97-1.23 s at 5 ms against 0.47-0.64 s at 1 ms, `--switch-interval 0.005` to compare). Left: turns
of 0.1-0.4 s at load 8-10 after the detail (the event loop pane's 200-row batches, the timeline's first
refresh from the detail with its second lay-out on resize, the flame graph's), the first frame's paint.

Replay scrubbing (scrub_*, new), 30M, one interleaved pair at load 5-6 (main then at e818b89, 41500ab plus
h-tryout3, nothing of the open path; same pair: stall after the detail
1191 -> 142 ms, range median 45 -> 23 ms): time until every visible pane drew a new playhead, median
1.76 s main -> 1.03 s branch; longest turn 2.04 s -> 0.97 s (the task rows are packed on the worker, the
probes' time order is checked once). Not smooth yet: what is left is O(probes before the playhead) on the
GUI thread, the event loop pane's exact percentiles and histogram of [0, playhead] (lag_stats: 7.5M probes
at 30M) and the lag curves under a playhead (lod.lag_curve reads the raw probes, not the index's buckets,
whenever a playhead is set); per-chunk order statistics of the lag would make both independent of the range.

The figures above were taken while the task-packing worker also cut the rows by the tasks' stretches; that
was taken out again (13d626c: main's RowCuts, from h15-livestall, caches the cut rows on the GUI side). As
the branch stands, 30M, one interleaved pair at load 1-2 (the machine quiet; main then at e9e3efe, which has
h15-livestall's and h15-livemem's merges, so this pair is not main-as-branched against the branch): stall after the detail 615 ->
436 ms, while reading 269 -> 68 ms, Tasks pane first refresh 0.217 -> 0.036 s, range median 36 -> 29 ms;
scrubbing: median until drawn 1.38 -> 1.30 s, longest turn 1.15 -> 1.07 s (each playhead now draws the
timeline twice, with the rows it has and then with the packed ones: no gain there until the lag figures
of [0, playhead] stop reading every probe).

Smooth scrubbing (drag_*, new), 30M, 2026-12-03 on a quiet machine (load 0.6-1.0), 63bebd9 (exported, run
with benchmarks/with_package.py) against 37cbddf, two runs each, `--ranges 5`: mouse moves taken 31, 31 ->
110, 90 of 120; a move's wait median 115, 16 -> 16, 25 ms, max 289, 392 -> 48, 111 ms; longest turn 298,
418 -> 55, 109 ms; redraws a second per pane 2.0-3.0 (event loop 0: starved by the refresh order) -> 6.0-7.5
for every pane; scrub median until drawn 0.39, 0.62 -> 0.115, 0.128 s, longest turn 448, 621 -> 97, 97 ms.
At 100M (one run, load 5-6): 44 of 120 moves, longest turn 246 ms, 3.2-3.5 redraws a second: not smooth.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# the default layout every time: a layout saved by an earlier run (another tab in front) changes what is refreshed
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="bench-scale-window-")

import numpy as np

from pyrometer.core.model import Profile

MB = 1024 * 1024
SETTLE_S = 3.0  # the event loop is turned this long after the full detail is drawn (work spread over turns ends)
SCRUBS = (0.5, 0.8, 0.3, 0.9, 0.6, 0.2)  # replay playhead positions (fractions of the session), in this order
# a drag of the replay slider: from, to (fractions of the session), seconds, mouse moves a second
DRAG = (0.3, 0.7, 4.0, 30.0)


def _status(field: str) -> int:
    """A VmXXX figure of this process in bytes (Linux)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def rss() -> int:
    return _status("VmRSS")


def peak() -> int:
    return _status("VmHWM")


_own_peak = [0]


def own() -> int:
    """Memory only this process holds (RssAnon + RssShmem): what the kernel cannot drop. RSS adds the pages of
    files it maps (RssFile), such as a huge recording's spilled columns (columns.ColumnFile), which it can."""
    value = _status("RssAnon") + _status("RssShmem")
    _own_peak[0] = max(_own_peak[0], value)
    return value


def own_peak() -> int:
    """The largest `own()` seen so far (sampled each turn of the event loop and around each pane refresh)."""
    own()
    return _own_peak[0]


def reset_peak() -> None:
    """Start VmHWM again from the current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def synthetic_profile(n: int, threads: int = 4, stacks: int = 3000, seed: int = 7, rate: float = 100.0) -> Profile:
    """`n` samples of `threads` threads at `rate` Hz each (a day of a service at 30M), over `stacks` stacks.

    Like the agent's recordings: samples time-sorted and interleaved across
    threads, weights = the time since the thread's previous sample, CPU time
    per sample (threads on CPU a varying share of the time), one event loop
    with lag probes every 10 ms, a few blocking events and tasks.
    """
    rng = np.random.default_rng(seed)
    p = Profile()
    p.meta["agent_version"] = "bench"
    funcs = [p.intern_frame(f"func_{i}", f"/srv/app/mod{i % 40}.py", 10 + i % 90, 1 + i % 90) for i in range(1500)]
    leaves: list[int] = []
    pool = [-1]
    for _ in range(stacks):
        sid = pool[int(rng.integers(len(pool)))]
        for _k in range(1 + int(rng.integers(8))):
            sid = p.intern_stack(sid, funcs[int(rng.integers(len(funcs)))])
        if len(pool) < 800:
            pool.append(sid)
        leaves.append(sid)
    for t in range(threads):
        p.ensure_thread(t, "MainThread" if t == 0 else f"worker-{t}")
    ticks = -(-n // threads)
    dt = 1.0 / rate
    time_col = (np.repeat(np.arange(ticks, dtype=np.float64) * dt, threads) + np.tile(np.arange(threads) * dt / (threads + 1), ticks))[:n]
    thread_col = np.tile(np.arange(threads, dtype=np.int32), ticks)[:n]
    # a zipf-ish choice of stack, with a state that changes in runs (on CPU for a while, then waiting)
    stack_col = np.asarray(leaves, np.int32)[(rng.zipf(1.4, n) - 1) % len(leaves)]
    runs = np.cumsum(rng.random(n) < 0.02)  # about one state change every 50 samples
    on = (runs % 2).astype(bool)
    cpu_col = np.where(on, dt * 0.95, dt * 0.02).astype(np.float32)
    del runs, on
    p.add_samples(time_col, thread_col, stack_col, weight=np.float32(dt), cpu=cpu_col)
    del time_col, thread_col, stack_col, cpu_col
    span = ticks * dt
    lag_t = np.arange(0.0, span, 0.01 * max(1.0, n / 30_000_000 * 10))  # <= 7.5M probes at a day's length
    lag = rng.gamma(1.5, 0.002, len(lag_t)).astype(np.float32)
    p.loops[0] = __import__("pyrometer.core.model", fromlist=["LoopInfo"]).LoopInfo(0, 0, "main loop")
    p.add_lag(lag_t, np.zeros(len(lag_t), np.int32), lag)
    from pyrometer.core.model import BlockingEvent, TaskInfo

    for k in range(200):
        start = float(rng.uniform(0, span))
        p.blocking.append(BlockingEvent(start, float(rng.uniform(0.05, 0.5)), 0, 0, leaves[k % len(leaves)]))
    p.blocking.sort(key=lambda b: b.start)
    for k in range(2000):
        created = float(rng.uniform(0, span))
        p.tasks[k + 1] = TaskInfo(k + 1, None if k < 10 else 1 + k % 10, f"task-{k}", "handle", 0, created,
                                  created + float(rng.uniform(0.01, 5.0)), "done")
        p.task_log.append(k + 1)
    p.finish()
    return p


def load_path(path: Path) -> tuple[Profile, float]:
    from pyrometer.core.formats.registry import load_profile

    t = time.perf_counter()
    profile = load_profile(path)
    return profile, time.perf_counter() - t


DEFAULT_PANES = ("flame_graph", "functions", "call_tree", "timeline", "stack_chart", "event_loop", "tasks")


def _wait(app: Any, done: Any, timeout: float = 900.0, stalls: list[float] | None = None) -> None:
    """Run the event loop (as a user's window does) until `done()`; `stalls` gets how long each turn took."""
    end = time.perf_counter() + timeout
    while not done():
        t = time.perf_counter()
        app.processEvents()
        own()
        if stalls is not None:
            stalls.append(time.perf_counter() - t)
            if len(stalls) > 4096:
                stalls[:] = [max(stalls)]
        time.sleep(0.002)
        if time.perf_counter() > end:
            raise TimeoutError("the window did not settle")


def _drag(app: Any, view: Any, fresh: Any, calls: list[tuple[str, float, float]]) -> dict[str, Any]:
    """The replay slider dragged as a hand does: DRAG's mouse moves a second, each set on the slider (valueChanged ->
    seek -> the document's playhead) as soon as the event loop is back, the moves missed meanwhile dropped as Qt
    compresses mouse moves. Smooth means every turn short (the handle follows the mouse) and every pane drawing
    new playheads several times a second.

    drag_move_delay_*: from when a move happened to when the slider took it (the handle lagging the hand);
    drag_pane_hz: refreshes each visible pane drew per second of drag; drag_catch_up_s: from the last move to
    every visible pane drawn at it."""
    a, b, seconds, hz = DRAG
    bar = view.replay_bar
    if bar is None:
        return {"drag": "no replay bar"}
    slider = bar.slider
    steps = slider.maximum()
    n = int(seconds * hz)
    first = len(calls)
    start = time.perf_counter()
    due = [start + i / hz for i in range(n)]
    value = [round((a + (b - a) * i / (n - 1)) * steps) for i in range(n)]
    delays: list[float] = []
    turns: list[float] = []
    i = 0
    while i < n:
        now = time.perf_counter()
        if now >= due[i]:
            delays.append(now - due[i])  # the oldest move not yet taken waited this long
            while i + 1 < n and due[i + 1] <= now:
                i += 1  # the moves made meanwhile: only the latest position is delivered
            slider.setValue(value[i])
            i += 1
        t = time.perf_counter()
        app.processEvents()
        turns.append(time.perf_counter() - t)
        time.sleep(0.001)
    released = time.perf_counter()
    drawn = [c[0] for c in calls[first:]]
    _wait(app, fresh, stalls=turns)
    catch_up = time.perf_counter() - released
    return {
        "drag_moves_taken": f"{len(delays)} of {n}",
        "drag_move_delay_median_ms": 1000 * float(np.median(delays)),
        "drag_move_delay_max_ms": 1000 * max(delays),
        "drag_max_turn_ms": 1000 * max(turns),
        "drag_turns_over_50ms": sum(t > 0.05 for t in turns),
        "drag_pane_hz": {p.pane_id: round(drawn.count(p.pane_id) / seconds, 1) for p in view.visible_panes()},
        "drag_catch_up_s": catch_up,
    }


SWITCH_INTERVAL: list[float | None] = [None]  # --switch-interval: instead of what `pyrometer open` sets


def _share_the_interpreter() -> None:
    """The switch interval `pyrometer open` sets (app.launcher.share_the_interpreter), or --switch-interval."""
    if SWITCH_INTERVAL[0] is not None:
        sys.setswitchinterval(SWITCH_INTERVAL[0])
        return
    try:
        from pyrometer.app.launcher import share_the_interpreter
    except ImportError:  # a version of the app before it: Python's default
        return
    share_the_interpreter()


def pane_figures(profile: Profile | None, path: Path | None = None, panes: tuple[str, ...] = DEFAULT_PANES,
                 verbose: bool = True) -> tuple[dict[str, Any], Any]:
    """Open the profile (or the file: loaded as `pyrometer open` does) in a window, as a user would.

    first_frame_s: from opening to every pane on screen refreshed and the window painted once.
    Then each other pane is brought to the front in turn and timed the same way. Every pane
    refresh the window does is recorded (a pane may refresh more than once).
    """
    from pyrometer.app.main_window import MainWindow, application
    from pyrometer.app.session_view import SessionView

    app = application()
    _share_the_interpreter()
    win = MainWindow()
    win.quiet_errors = True
    win.resize(1440, 900)
    win.show()
    app.processEvents()
    calls: list[tuple[str, float, float]] = []
    orig = SessionView._refresh_pane

    def timed(self: SessionView, pane: Any) -> None:
        before = rss()
        own()
        t = time.perf_counter()
        orig(self, pane)
        own()
        calls.append((pane.pane_id, time.perf_counter() - t, (rss() - before) / MB))

    SessionView._refresh_pane = timed  # type: ignore[method-assign]
    out: dict[str, Any] = {}
    base = rss()
    t0 = time.perf_counter()
    stalls: list[float] = []  # the longest GUI stalls while the file is read (the event loop's turns)
    if path is not None:
        win.open_files([path], show_dialog=True)
        _wait(app, lambda: bool(win.views()) or bool(win.errors), stalls=stalls)
        if win.errors:
            raise RuntimeError(win.errors)
        view = win.views()[0]
        out["loaded_s" if not view.doc.detail_pending else "tab_s"] = time.perf_counter() - t0
    else:
        assert profile is not None
        view = win.open_profile(profile)

    def fresh(only: Any = None) -> bool:
        shown = [p for p in view.visible_panes() if only is None or p is only]
        return bool(shown) and all(p.seen_revision == view.doc.revision for p in shown)

    _wait(app, fresh, stalls=stalls)
    win.grab()
    out["first_frame_s"] = time.perf_counter() - t0
    out["first_frame_from"] = "index" if view.doc.detail_pending else "full read"
    out["first_frame_panes"] = sorted({c[0] for c in calls})
    out["first_frame_peak_mb"] = peak() / MB
    out["first_frame_own_peak_mb"] = own_peak() / MB
    if view.doc.detail_pending:  # the samples are still being read: the window stays usable meanwhile
        out["first_frame_pending_panes"] = sorted(p.pane_id for p in view.visible_panes() if p.pending_text() is not None)
        # the window's own paint of the first frame (grab() painted it into a pixmap; the screen gets it in the
        # next turn): part of showing the first frame, not a stall while the samples load, so it is timed apart
        t = time.perf_counter()
        app.processEvents()
        out["first_frame_screen_paint_ms"] = 1000 * (time.perf_counter() - t)
        stalls.clear()
        _wait(app, lambda: not view.doc.detail_pending or view.doc.detail_error is not None, stalls=stalls)
        if view.doc.detail_error is not None:
            raise RuntimeError(view.doc.detail_error)
        out["max_gui_stall_while_reading_ms"] = 1000 * max(stalls, default=0.0)
        out["loaded_s"] = time.perf_counter() - t0
        after: list[float] = []  # the turns after the detail is adopted: panes refresh, lists fill, tasks pack
        _wait(app, fresh, stalls=after)
        win.grab()
        out["full_detail_s"] = time.perf_counter() - t0
        settle = time.perf_counter() + SETTLE_S
        _wait(app, lambda: time.perf_counter() > settle, stalls=after)
        out["max_gui_stall_after_detail_ms"] = 1000 * max(after, default=0.0)
        out["gui_stalls_after_detail_over_50ms"] = [round(1000 * s) for s in sorted(after, reverse=True) if s > 0.05]
    if SCRUBS:  # replay: the playhead dragged to a few places, each drawn by every visible pane
        duration = view.doc.profile.duration()
        fresh_s: list[float] = []
        turns: list[float] = []
        scrub_prof = None
        if os.environ.get("BENCH_PROFILE_SCRUB"):  # where a scrub's GUI time goes (cProfile of the GUI thread)
            import cProfile

            scrub_prof = cProfile.Profile()
            scrub_prof.enable()
        for frac in SCRUBS:
            t = time.perf_counter()
            view.doc.set_playhead(frac * duration)
            _wait(app, fresh, stalls=turns)
            fresh_s.append(time.perf_counter() - t)
            settle = time.perf_counter() + 0.5  # work a pane finishes later (rows filled, tasks placed)
            _wait(app, lambda settle=settle: time.perf_counter() > settle, stalls=turns)
        out.update(_drag(app, view, fresh, calls))  # (profiled with the scrubs)
        if scrub_prof is not None:
            import pstats

            scrub_prof.disable()
            if os.environ["BENCH_PROFILE_SCRUB"].endswith(".prof"):  # a path: kept for pstats' callers/callees
                scrub_prof.dump_stats(os.environ["BENCH_PROFILE_SCRUB"])
            pstats.Stats(scrub_prof, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
        view.doc.set_playhead(None)
        _wait(app, fresh)
        out["scrub_fresh_median_s"] = float(np.median(fresh_s))
        out["scrub_max_turn_ms"] = 1000 * max(turns, default=0.0)
        out["scrub_turns_over_50ms"] = [round(1000 * s) for s in sorted(turns, reverse=True) if s > 0.05][:12]
    else:
        out["full_detail_s"] = out["first_frame_s"]
    out["full_detail_peak_mb"] = peak() / MB
    out["full_detail_own_peak_mb"] = own_peak() / MB
    for pane_id in panes:
        pane = view.pane(pane_id)
        if pane is None or pane_id in out["first_frame_panes"]:
            continue
        t = time.perf_counter()
        view.show_pane(pane_id)
        _wait(app, lambda pane=pane: fresh(pane))
        pane.grab()
        out[f"show {pane_id} s"] = time.perf_counter() - t
    SessionView._refresh_pane = orig  # type: ignore[method-assign]
    by: dict[str, list[tuple[float, float]]] = {}
    for pane_id, dt, added in calls:
        by.setdefault(pane_id, []).append((dt, added))
    for pane_id, rows in by.items():
        out[f"refresh {pane_id}"] = f"{len(rows)}x, first {rows[0][0]:.3f} s, max {max(r[0] for r in rows):.3f} s, rss +{sum(r[1] for r in rows):.0f} MB"
        if verbose:
            print(pane_id, out[f"refresh {pane_id}"], file=sys.stderr, flush=True)
    out["panes_rss_added_mb"] = (rss() - base) / MB
    return out, (win, view, app)


def range_figures(profile: Profile, count: int, seed: int = 1) -> dict[str, float]:
    """Re-aggregate random ranges: the function table, the call tree and the flame layout of each."""
    from pyrometer.core.analysis.calltree import call_tree
    from pyrometer.core.analysis.flame import flame_layout
    from pyrometer.core.analysis.functions import function_table
    from pyrometer.core.analysis.selection import Selection

    rng = np.random.default_rng(seed)
    span = profile.duration()
    t = time.perf_counter()
    warm = function_table(profile, Selection(span * 0.25, span * 0.75))  # builds the chunk index once
    first_ms = 1000 * (time.perf_counter() - t)
    del warm
    times: dict[str, list[float]] = {"functions": [], "call_tree": [], "flame": [], "all": []}
    for _ in range(count):
        width = span * float(rng.uniform(0.01, 0.5))
        a = float(rng.uniform(0, span - width))
        sel = Selection(a, a + width)
        t = time.perf_counter()
        function_table(profile, sel)
        t1 = time.perf_counter()
        tree = call_tree(profile, sel)
        t2 = time.perf_counter()
        flame_layout(tree, "left-heavy")
        t3 = time.perf_counter()
        times["functions"].append(t1 - t)
        times["call_tree"].append(t2 - t1)
        times["flame"].append(t3 - t2)
        times["all"].append(t3 - t)
    return {"first_range_ms (builds the index)": first_ms} | {f"{k}_median_ms": 1000 * float(np.median(v)) for k, v in times.items()} | {
        f"{k}_max_ms": 1000 * float(np.max(v)) for k, v in times.items()
    }


def live_figures(total: int, threads: int = 4, batch_s: float = 0.1, rate: float = 100.0) -> dict[str, Any]:
    """Grow a Profile by agent-sized batches to `total` samples while a window refreshes its visible panes.

    Batches are appended straight to the profile (as the live session's consumer does), the document
    says it grew, and the view refreshes every visible pane; the longest of those refreshes is the
    GUI stall the user would feel. Reported per decile of the growth, so a cost that grows with the
    session's length shows.
    """
    from PySide6.QtWidgets import QApplication

    from pyrometer.app.document import Document
    from pyrometer.app.main_window import MainWindow, application

    base = synthetic_profile(1000, threads=threads, stacks=3000)  # the stacks and frames, no samples yet
    p = Profile()
    p.meta = dict(base.meta)
    p.func_name, p.func_file, p.func_line = base.func_name, base.func_file, base.func_line
    p._func_index = base._func_index
    p.frames = base.frames
    p._frame_index = base._frame_index
    p.stacks = base.stacks
    p._stack_index = None
    for tid, info in base.threads.items():
        p.threads[tid] = info
    p.loops = base.loops
    application()
    win = MainWindow()
    win.quiet_errors = True
    win.resize(1440, 900)
    view = win.add_document(Document(p, is_live=True))
    win.show()
    QApplication.processEvents()
    rng = np.random.default_rng(3)
    per_batch = max(threads, int(rate * batch_s) * threads)
    leaves = np.arange(len(p.stacks), dtype=np.int32)
    dt = 1.0 / rate
    t_now = 0.0
    stalls: list[tuple[int, float]] = []
    per_pane: dict[str, list[tuple[int, float]]] = {}
    n = 0
    # grow fast between measured refreshes: big appends (as many agent batches at once), then refresh once
    checkpoints = np.linspace(0, total, 21)[1:].astype(int)
    for target in checkpoints:
        while n < target:
            k = min(target - n, 200_000)
            ticks = max(1, k // threads)
            t = t_now + np.repeat(np.arange(ticks) * dt, threads)
            thread = np.tile(np.arange(threads, dtype=np.int32), ticks)
            stack = leaves[rng.integers(0, len(leaves), len(t))]
            cpu = np.where(rng.random(len(t)) < 0.5, dt * 0.9, dt * 0.05).astype(np.float32)
            p.add_samples(t, thread, stack, weight=np.float32(dt), cpu=cpu)
            lag_t = np.arange(t_now, t_now + ticks * dt, 0.01)
            p.add_lag(lag_t, np.zeros(len(lag_t), np.int32), rng.gamma(1.5, 0.002, len(lag_t)).astype(np.float32))
            t_now += ticks * dt
            n += len(t)
        # one agent batch more, then the refresh a live view does for it
        for _ in range(3):
            t = t_now + np.repeat(np.arange(per_batch // threads) * dt, threads)
            thread = np.tile(np.arange(threads, dtype=np.int32), per_batch // threads)
            p.add_samples(t, thread, leaves[rng.integers(0, len(leaves), len(t))], weight=np.float32(dt), cpu=np.float32(dt * 0.9))
            t_now += (per_batch // threads) * dt
            n += len(t)
            view.doc.model_grew()
            worst = 0.0
            for pane in list(view.visible_panes()):
                s = time.perf_counter()
                view._refresh_pane(pane)
                dt = time.perf_counter() - s
                worst = max(worst, dt)
                per_pane.setdefault(pane.pane_id, []).append((n, dt))
            stalls.append((n, worst))
        QApplication.processEvents()
    win.close()
    early = [s for k, s in stalls[:6]]
    late = [s for k, s in stalls[-6:]]
    panes = {pid: f"early max {1000 * max(d for _, d in rows[:9]):.1f} ms, late max {1000 * max(d for _, d in rows[-9:]):.1f} ms"
             for pid, rows in per_pane.items()}
    return {"samples": n, "early_max_pane_ms": 1000 * max(early), "late_max_pane_ms": 1000 * max(late), "per_pane": panes,
            "per_checkpoint": [(k, round(1000 * s, 1)) for k, s in stalls[2::3]]}


def _load_average() -> str:
    with open("/proc/loadavg") as fh:
        return " ".join(fh.read().split()[:3])


def size_table(paths: list[str], extra: list[str]) -> int:
    """One row per recording, each opened in a fresh process (peak RSS is per process): first frame,
    full detail, the longest GUI stall while the samples are read, peak RSS and its ratio to the file."""
    rows = []
    for path in paths:
        load_before = _load_average()
        res = subprocess.run([sys.executable, __file__, path, "--json", *extra], capture_output=True, text=True)
        if res.returncode != 0:
            print(f"{path}: failed\n{res.stderr[-2000:]}", file=sys.stderr)
            return 1
        out = json.loads(res.stdout)
        win = out["window"]
        rows.append((Path(path).name, out["samples"], out["file_mb"], win["first_frame_s"], win["first_frame_from"],
                     win["full_detail_s"], win.get("max_gui_stall_while_reading_ms"), win["first_frame_peak_mb"],
                     win["full_detail_peak_mb"], out["peak_rss_mb"], out["own_peak_mb"], out["range"]["all_median_ms"],
                     load_before))
    print("| recording | samples | file MB | first frame s (from) | full detail s | max GUI stall while reading ms "
          "| peak RSS MB at first frame / full detail / end | peak / file | own peak MB / file | range median ms "
          "| load (1/5/15 min) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, n, mb, ff, src, full, stall, p1, p2, p3, mine, rng, load in rows:
        stall_text = "-" if stall is None else f"{stall:.0f}"
        print(f"| {name} | {n:,} | {mb:.0f} | {ff:.2f} ({src}) | {full:.2f} | {stall_text} | {p1:.0f} / {p2:.0f} / {p3:.0f} "
              f"| {p3 / mb:.2f}x | {mine:.0f} / {mine / mb:.2f}x | {rng:.0f} | {load} |")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    paths = [a for a in argv if a.endswith(".pyro")]
    if len(paths) > 1:  # a table over sizes: each recording in a process of its own
        return size_table(paths, [a for a in argv if a not in paths])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", help="a .pyro recording (else a synthetic profile); several: one row each")
    ap.add_argument("--samples", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--stacks", type=int, default=3000)
    ap.add_argument("--ranges", type=int, default=20)
    ap.add_argument("--live", type=lambda s: int(s.replace("_", "")), default=0, help="samples of the live feed (0: skip)")
    ap.add_argument("--skip-window", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--panes", default=",".join(DEFAULT_PANES), help="pane ids to time, in order")
    ap.add_argument("--switch-interval", type=float, default=None,
                    help="sys.setswitchinterval of the window (default: what `pyrometer open` sets)")
    args = ap.parse_args(argv)
    SWITCH_INTERVAL[0] = args.switch_interval
    out: dict[str, Any] = {}
    start_rss = rss()
    path = Path(args.path) if args.path else None
    profile: Profile | None = None
    if path is not None:
        out["file_mb"] = path.stat().st_size / MB
        if args.skip_window:
            profile, out["load_s"] = load_path(path)
    else:
        t = time.perf_counter()
        profile = synthetic_profile(args.samples, args.threads, args.stacks)
        out["build_s"] = time.perf_counter() - t
        out["rss_after_build_mb"] = rss() / MB
        reset_peak()
    if not args.skip_window:
        panes, keep = pane_figures(profile, path, tuple(args.panes.split(",")))
        profile = keep[1].doc.profile
        out["window"] = panes
    assert profile is not None
    out["samples"] = profile.sample_count
    out["profile_columns_mb"] = profile.model_bytes() / MB
    out["rss_after_panes_mb"] = rss() / MB
    out["range"] = range_figures(profile, args.ranges)
    out["peak_rss_mb"] = peak() / MB  # since the profile was built (synthetic) or since start (a file)
    out["own_peak_mb"] = own_peak() / MB  # sampled: RssAnon + RssShmem (see own())
    out["rss_start_mb"] = start_rss / MB
    if args.path:
        out["peak_over_file"] = out["peak_rss_mb"] / out["file_mb"]
    out["peak_over_columns"] = out["peak_rss_mb"] / out["profile_columns_mb"]
    if args.live:
        out["live"] = live_figures(args.live, args.threads)
    if args.json:
        print(json.dumps(out, indent=1, default=float))
        return 0
    for key, value in out.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"   {k:<22} {v if not isinstance(v, float) else round(v, 3)}")
        else:
            print(f"{key:<24} {value if not isinstance(value, float) else round(value, 3)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
