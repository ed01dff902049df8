"""GUI benchmark (issue 4), offscreen: live-session load, idle cost, and time to first painted flame graph.

Figures and targets:
  live   a target producing >= 5,000 samples/s for 30 s: longest stall of a 10 ms QTimer probe
         on the GUI thread <= 50 ms; the app process <= 30% of a core (all its threads: collector,
         consumer, GUI)
  idle   a live session whose target sleeps: the app process <= 2% of a core
  load   a 1,000,000-sample recording: process launch to the first painted flame graph <= 3 s
  flame  paint times of the flame graph item (benchmarks/bench_flame_paint.py, run if present)

    .venv/bin/python benchmarks/bench_gui.py [--seconds 30] [--skip-live] [--skip-idle] [--skip-load] [--json]
        [--trace]   (live: time every pane refresh, frame drain and plot paint; list the longest stalls)
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent

BUSY_TARGET = textwrap.dedent(
    """
    import random, sys, threading, time

    # many threads that mostly wait (so the sampler gets the GIL) with bursts of work in a few
    # call paths: the stream is dense (thousands of samples/s) and keeps adding stacks

    def leaf(n):
        s = 0
        for i in range(n):
            s += i * i
        return s

    def parse(n):
        return leaf(n)

    def render(n):
        return leaf(n // 2) + parse(n // 2)

    def handle(rng):
        if rng.random() < 0.5:
            parse(rng.randint(200, 2000))
        else:
            render(rng.randint(200, 2000))
        time.sleep(rng.uniform(0.001, 0.004))

    def work(stop, seed):
        rng = random.Random(seed)
        while not stop.is_set():
            handle(rng)

    stop = threading.Event()
    threads = [threading.Thread(target=work, args=(stop, i), name=f"busy-{i}") for i in range(int(sys.argv[1]))]
    for t in threads:
        t.start()
    time.sleep(float(sys.argv[2]))
    stop.set()
    for t in threads:
        t.join()
    """
)


IDLE_TARGET = textwrap.dedent(
    """
    import sys, threading, time
    def nap(stop):
        stop.wait()
    stop = threading.Event()
    t = threading.Thread(target=nap, args=(stop,), name="napper")
    t.start()
    time.sleep(float(sys.argv[1]))
    stop.set()
    t.join()
    """
)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _window():  # type: ignore[no-untyped-def]
    from pyrometer.app.main_window import MainWindow, application

    app = application()
    win = MainWindow()
    win.quiet_errors = True
    win.resize(1440, 900)
    win.show()
    return app, win


def _run_for(app, seconds: float) -> None:  # type: ignore[no-untyped-def]
    """Run the real event loop (as app.exec() does for a user) for a while."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


class _Trace:
    """Wall time of every pane refresh, frame drain and plot paint on the GUI thread (--trace).

    Patched in from here (not in shipped code): each call is recorded as
    (end, seconds, what), so the probe's longest stalls can be explained.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[float, float, str, float]] = []  # (end, wall s, what, thread CPU s)
        self._undo: list[tuple[object, str, object]] = []
        self._gc_start = 0.0

    def _wrap(self, owner: object, attr: str, label: object) -> None:
        orig = getattr(owner, attr)
        calls = self.calls

        def timed(this, *a, **k):  # type: ignore[no-untyped-def]
            t, c = time.perf_counter(), time.thread_time()
            try:
                return orig(this, *a, **k)
            finally:
                end = time.perf_counter()
                calls.append((end, end - t, label(this) if callable(label) else str(label), time.thread_time() - c))

        setattr(owner, attr, timed)
        self._undo.append((owner, attr, orig))

    def install(self) -> None:
        import pyqtgraph as pg

        from pyrometer.app.live import LiveSession
        from pyrometer.app.session_view import SessionView

        self._wrap(LiveSession, "_drain", "drain frames")
        orig_refresh = SessionView._refresh_pane
        calls = self.calls

        def refresh(this, pane):  # type: ignore[no-untyped-def]
            t, c = time.perf_counter(), time.thread_time()
            try:
                return orig_refresh(this, pane)
            finally:
                end = time.perf_counter()
                calls.append((end, end - t, f"refresh {pane.title}", time.thread_time() - c))

        SessionView._refresh_pane = refresh  # type: ignore[method-assign]
        self._undo.append((SessionView, "_refresh_pane", orig_refresh))
        def pane_of(widget):  # type: ignore[no-untyped-def]
            while widget is not None and not isinstance(getattr(widget, "title", None), str):
                widget = widget.parentWidget()
            return f"paint {widget.title if widget is not None else 'plot'}"

        self._wrap(pg.GraphicsView, "paintEvent", pane_of)
        gc.callbacks.append(self._gc)

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        """Garbage collections are GUI-thread pauses too (mostly: any thread may trigger one)."""
        now = time.perf_counter()
        if phase == "start":
            self._gc_start = now
        elif threading.current_thread() is threading.main_thread():
            self.calls.append((now, now - self._gc_start, f"gc generation {info.get('generation')}", now - self._gc_start))

    def watch(self, last_probe: list[float], late_s: float = 0.025) -> None:
        """Sample the GUI thread's Python stack while the probe is late (what an un-timed stall was doing).

        A stack that ends in the event loop's exec means Qt itself (layout,
        item views painting) or a process that was not scheduled at all.
        """
        import traceback

        main = threading.main_thread().ident
        self._watching = threading.Event()

        def run() -> None:
            while not self._watching.wait(0.003):
                now = time.perf_counter()
                if now - last_probe[0] > late_s:
                    frame = sys._current_frames().get(main or 0)
                    stack = traceback.extract_stack(frame)[-3:] if frame is not None else []
                    where = " < ".join(f"{Path(f.filename).name}:{f.name}" for f in reversed(stack))
                    self.samples.append((now, where))

        self.samples: list[tuple[float, str]] = []
        threading.Thread(target=run, name="stall-watch", daemon=True).start()

    def stack_samples(self, t0: float, t1: float) -> list[str]:
        counts: dict[str, int] = {}
        for at, where in self.samples:
            if t0 <= at <= t1:
                counts[where] = counts.get(where, 0) + 1
        return [f"[{n}x {where}]" for where, n in sorted(counts.items(), key=lambda kv: -kv[1])[:2]]

    def uninstall(self) -> None:
        if getattr(self, "_watching", None) is not None:
            self._watching.set()
        gc.callbacks.remove(self._gc)
        for owner, attr, orig in reversed(self._undo):
            setattr(owner, attr, orig)

    def summary(self, since: float) -> dict[str, dict[str, float]]:
        """Per kind of call: count, wall-time median/p90/max, total, and thread-CPU median/max (ms)."""
        import numpy as np

        out: dict[str, dict[str, float]] = {}
        by: dict[str, list[tuple[float, float]]] = {}
        for end, dt, what, cpu in self.calls:
            if end >= since:
                by.setdefault(what, []).append((dt * 1000, cpu * 1000))
        for what, rows in sorted(by.items()):
            a = np.asarray(rows)
            out[what] = {"count": len(a), "median_ms": float(np.median(a[:, 0])), "p90_ms": float(np.percentile(a[:, 0], 90)),
                         "max_ms": float(a[:, 0].max()), "total_ms": float(a[:, 0].sum()),
                         "cpu_median_ms": float(np.median(a[:, 1])), "cpu_max_ms": float(a[:, 1].max())}
        return out

    def within(self, t0: float, t1: float) -> list[str]:
        """Calls over 2 ms that started after t0 and ended by t1 (what ran inside one stall)."""
        return [f"{what} {dt * 1000:.0f} ms" for end, dt, what, _cpu in self.calls if t0 <= end - dt and end <= t1 and dt > 0.002]


def live_figures(
    target: str, args: list[str], options: dict[str, object], seconds: float, warmup: float = 2.0, probe_ms: int = 10,
    trace: bool = False,
) -> dict[str, Any]:
    """Run a target live in the window; measure GUI stalls, app CPU and the sample rate after a warm-up."""
    from PySide6.QtCore import QElapsedTimer, QTimer

    tracer = _Trace() if trace else None
    if tracer is not None:
        tracer.install()
    app, win = _window()
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "target.py"
        script.write_text(target)
        view = win.launch([str(script), *args], options)
        assert view is not None, win.errors
        session = win.live_sessions[0]
        stalls: list[float] = []
        stall_at: list[tuple[float, float]] = []  # (perf_counter at the probe, stall ms), for --trace
        clock = QElapsedTimer()
        clock.start()
        last = [clock.elapsed()]
        last_probe = [time.perf_counter()]

        def probe() -> None:
            now = clock.elapsed()
            stalls.append(now - last[0])
            if tracer is not None:
                last_probe[0] = time.perf_counter()
                stall_at.append((last_probe[0], now - last[0]))
            last[0] = now

        if tracer is not None:
            tracer.watch(last_probe)

        timer = QTimer()
        timer.setInterval(probe_ms)
        timer.timeout.connect(probe)
        if probe_ms:  # the idle figure runs without the probe: its wake-ups would be most of the cost
            timer.start()
        _run_for(app, warmup)
        stalls.clear()
        stall_at.clear()
        traced_from = time.perf_counter()
        last[0] = clock.elapsed()
        n0 = view.doc.profile.sample_count
        cpu0, t0 = _cpu(), time.monotonic()
        _run_for(app, seconds)
        cpu1, t1 = _cpu(), time.monotonic()
        n1 = view.doc.profile.sample_count
        timer.stop()
        revisions = view.doc.revision
        session.shutdown()
        win.close()
    extra: dict[str, Any] = {}
    if tracer is not None:
        tracer.uninstall()
        extra["per_call"] = tracer.summary(traced_from)
        worst = sorted(stall_at, key=lambda s: -s[1])[:8]
        extra["worst_stalls"] = [
            f"{ms:.0f} ms: " + ", ".join(tracer.within(at - ms / 1000 - 0.001, at) + tracer.stack_samples(at - ms / 1000, at))
            for at, ms in worst
        ]
    stalls.sort()
    return {
        **extra,
        "seconds": t1 - t0,
        "samples_per_s": (n1 - n0) / (t1 - t0),
        "app_cpu_pct": 100.0 * (cpu1 - cpu0) / (t1 - t0),
        "max_stall_ms": max(stalls) if stalls else float("nan"),
        "p99_stall_ms": stalls[int(len(stalls) * 0.99) - 1] if stalls else float("nan"),
        "document_revisions": float(revisions),
    }


def make_recording(path: Path, n: int = 1_000_000, stacks: int = 20_000, depth: int = 60, seed: int = 3) -> None:
    """A synthetic 1,000,000-sample recording over `stacks` distinct stacks (written as .pyro)."""
    import numpy as np

    from pyrometer.core.formats.recording import write_profile
    from pyrometer.core.model import Profile

    rng = np.random.default_rng(seed)
    p = Profile()
    frames = [p.intern_frame(f"func_{i}", f"/home/user/app/mod{i % 50}.py", 10 + i % 90, 1 + i % 90) for i in range(3000)]
    leaves: list[int] = []
    prefix_pool = [-1]
    for _ in range(stacks):
        parent = prefix_pool[int(rng.integers(len(prefix_pool)))]
        d = 1 + int(rng.integers(depth // 4))
        sid = parent
        for _k in range(d):
            sid = p.intern_stack(sid, frames[int(rng.integers(len(frames)))])
        if len(prefix_pool) < 5000:
            prefix_pool.append(sid)
        leaves.append(sid)
    p.ensure_thread(1, "MainThread")
    p.ensure_thread(2, "worker")
    picks = np.asarray(leaves, np.int32)[rng.zipf(1.3, n) % len(leaves)]
    times = np.arange(n) * 1e-4
    p.add_samples(times, rng.integers(1, 3, n).astype(np.int32), picks, weight=1e-4)
    p.finish()
    write_profile(p, path)


LOAD_CHILD = textwrap.dedent(
    """
    import os, sys, time
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # `pyrometer open FILE` exactly as the CLI runs it; the flame item reports its first real paint
    import argparse
    from pyrometer.app import launcher

    def report_first_paint():
        from PySide6.QtWidgets import QApplication
        try:
            from pyrometer.app.flame_item import FlameGraphItem
        except ImportError:
            return False
        orig = FlameGraphItem.paint
        def paint(self, *a, **k):
            orig(self, *a, **k)
            if getattr(self, "last_paint_count", 0) > 0:
                print("PAINTED", time.time(), flush=True)
                os._exit(0)
        FlameGraphItem.paint = paint
        return True

    import pyrometer.app.main_window as mw
    orig_window = mw.MainWindow.__init__
    def init(self, *a, **k):
        orig_window(self, *a, **k)
        if not report_first_paint():  # no flame graph in this build: time the first full window paint
            def shot(view):
                view.refresh_visible(); view.grab(); print("PAINTED", time.time(), flush=True); os._exit(0)
            self.documentOpened.connect(shot)
    mw.MainWindow.__init__ = init
    launcher.run_open(argparse.Namespace(files=[sys.argv[1]], screenshot=None, screenshot_after=None))
    """
)


def load_figure(path: Path, repeat: int = 3) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        t0 = time.time()
        out = subprocess.run([sys.executable, "-c", LOAD_CHILD, str(path)], capture_output=True, text=True, timeout=120)
        line = next((ln for ln in out.stdout.splitlines() if ln.startswith("PAINTED")), None)
        if line is None:
            raise RuntimeError(out.stderr[-2000:])
        times.append(float(line.split()[1]) - t0)
    times.sort()
    return {"median_s": times[len(times) // 2], "min_s": times[0], "max_s": times[-1]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="length of the live measurement")
    ap.add_argument("--threads", type=int, default=24, help="threads in the live target")
    ap.add_argument("--rate", type=float, default=300.0, help="sampling rate (Hz; each tick samples every thread)")
    ap.add_argument("--skip-live", action="store_true")
    ap.add_argument("--skip-idle", action="store_true")
    ap.add_argument("--skip-load", action="store_true")
    ap.add_argument("--skip-flame", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--trace", action="store_true", help="live: time pane refreshes, drains and paints; list the worst stalls")
    a = ap.parse_args(argv)
    results: dict[str, object] = {}
    rows: list[tuple[str, str, str]] = []
    if not a.skip_live:
        live = live_figures(BUSY_TARGET, [str(a.threads), str(a.seconds + 10)], {"rate_hz": a.rate}, a.seconds, trace=a.trace)
        results["live"] = live
        if a.trace and not a.json:
            print("per call on the GUI thread (ms; CPU = the GUI thread's own CPU time):")
            for what, st in live["per_call"].items():
                print(f"  {what:<22} n={st['count']:<4.0f} wall median {st['median_ms']:5.1f} p90 {st['p90_ms']:5.1f} "
                      f"max {st['max_ms']:5.1f} | CPU median {st['cpu_median_ms']:5.1f} max {st['cpu_max_ms']:5.1f}")
            print("longest stalls and the calls over 2 ms inside them:")
            for line in live["worst_stalls"]:
                print("  " + line)
        rows += [
            ("live: samples/s", f"{live['samples_per_s']:,.0f}", ">= 5,000"),
            ("live: longest GUI stall", f"{live['max_stall_ms']:.0f} ms", "<= 50 ms"),
            ("live: p99 GUI stall", f"{live['p99_stall_ms']:.0f} ms", ""),
            ("live: app CPU", f"{live['app_cpu_pct']:.1f}% of a core", "<= 30%"),
        ]
    if not a.skip_idle:
        idle = live_figures(IDLE_TARGET, [str(min(a.seconds, 20.0) + 15)], {}, min(a.seconds, 20.0), warmup=5.0, probe_ms=0)
        results["idle"] = idle
        rows += [
            ("idle: samples/s", f"{idle['samples_per_s']:,.0f}", ""),
            ("idle: app CPU", f"{idle['app_cpu_pct']:.2f}% of a core", "<= 2%"),
        ]
    if not a.skip_load:
        with tempfile.TemporaryDirectory() as tmp:
            rec = Path(tmp) / "million.pyro"
            t = time.perf_counter()
            make_recording(rec)
            gen = time.perf_counter() - t
            load = load_figure(rec)
            load["size_mb"] = rec.stat().st_size / 1e6
            load["generate_s"] = gen
        results["load"] = load
        rows.append(("load: 1M-sample .pyro to painted flame", f"{load['median_s']:.2f} s ({load['size_mb']:.0f} MB)", "<= 3 s"))
    flame_script = ROOT / "benchmarks" / "bench_flame_paint.py"
    if not a.skip_flame and flame_script.exists():
        out = subprocess.run([sys.executable, str(flame_script)], capture_output=True, text=True, timeout=600)
        results["flame"] = out.stdout.strip()
    if a.json:
        print(json.dumps(results, indent=2))
        return 0
    width = max(len(r[0]) for r in rows) if rows else 10
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>24}  {target}")
    if "flame" in results:
        print("\nflame paint (benchmarks/bench_flame_paint.py):")
        print(results["flame"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
