"""A recording played in the window at a replay speed, as a user presses Space: is it smooth?

    .venv/bin/python benchmarks/bench_replay_playback.py PATH.pyro [--speed 3600] [--seconds 8] [--start 0.2]

Opens PATH as `pyrometer open` does (offscreen), waits for its samples, puts the playhead at `--start`
(a share of the session), plays for `--seconds` at `--speed` and prints:
  achieved    how far the recording advanced per second of playback (the speed, if the ticks keep up)
  gui gaps    the turns of the event loop meanwhile, from a 10 ms heartbeat timer: median, p95, max (a
              gap is how long the window could not answer a click or a key)
  per pane    each visible pane's refresh time under the moving playhead (the view records them), median
              and max: the pane that makes the gaps
Times are those of this machine now: compare runs made one after the other.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path")
    ap.add_argument("--speed", type=float, default=3600.0)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--start", type=float, default=0.2, help="where to start, as a share of the session (0..1)")
    args = ap.parse_args(argv)

    from PySide6.QtCore import QEventLoop, QSettings, QTimer

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp(prefix="replay-bench-"))
    from pyrometer.app.main_window import MainWindow, application
    from pyrometer.app.replay import SPEEDS

    if args.speed not in SPEEDS:
        ap.error(f"--speed: one of {', '.join(f'{s:g}' for s in SPEEDS)}")
    app = application()
    win = MainWindow()
    win.quiet_errors = True
    win.resize(1920, 1080)
    win.show()

    def pump(until: object, timeout: float) -> bool:
        t0 = time.monotonic()
        while not until():  # type: ignore[operator]
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            if time.monotonic() - t0 > timeout:
                return False
            time.sleep(0.005)
        return True

    t0 = time.monotonic()
    win.open_files([args.path], show_dialog=False)
    if not pump(lambda: (v := win.current_view()) is not None and v.replay_bar is not None and v.replay_bar.ready(), 900):
        print(f"{args.path}: no replay after 900 s ({'; '.join(win.errors) or 'still reading'})", file=sys.stderr)
        return 1
    view = win.current_view()
    assert view is not None and view.replay_bar is not None
    bar, doc = view.replay_bar, view.doc
    print(f"{args.path}: {doc.duration():.0f} s, {doc.profile.sample_count:,} samples; ready to replay after {time.monotonic() - t0:.1f} s")
    bar.speed.setCurrentIndex(SPEEDS.index(args.speed))
    view.refresh_visible()
    bar.seek(doc.duration() * args.start)
    view.refresh_visible()
    gaps: list[float] = []
    last = [time.monotonic()]

    def beat() -> None:
        now = time.monotonic()
        gaps.append(now - last[0])
        last[0] = now

    heart = QTimer()
    heart.setInterval(10)
    heart.timeout.connect(beat)
    costs: dict[str, list[float]] = {}
    seen: dict[str, float] = {}
    at = doc.playhead or 0.0
    heart.start()
    bar.play()
    start = time.monotonic()

    def note_costs() -> None:
        for name, cost in view._cost.items():  # the view's record of each pane's last refresh
            if seen.get(name) != cost:
                seen[name] = cost
                costs.setdefault(name.replace("pane_", ""), []).append(cost)

    heart.timeout.connect(note_costs)
    loop = QEventLoop()  # the event loop as the app runs it (exec), not a polling loop of ours
    QTimer.singleShot(int(args.seconds * 1000), loop.quit)
    loop.exec()
    moved = (doc.playhead if doc.playhead is not None else doc.duration()) - at
    spent = time.monotonic() - start
    bar.pause()
    heart.stop()
    ordered = sorted(gaps) or [0.0]
    print(f"achieved  {moved / spent:,.0f}x (asked {args.speed:g}x): {moved:,.0f} s of the recording in {spent:.1f} s")
    print(f"gui gaps  median {1000 * statistics.median(ordered):.0f} ms, p95 {1000 * ordered[int(0.95 * (len(ordered) - 1))]:.0f} ms, "
          f"max {1000 * ordered[-1]:.0f} ms ({len(gaps)} turns)")
    for name, values in sorted(costs.items(), key=lambda kv: -statistics.median(kv[1])):
        print(f"  {name:<14} refresh median {1000 * statistics.median(values):5.0f} ms, max {1000 * max(values):5.0f} ms ({len(values)} refreshes)")
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
