"""GUI entry points the CLI table points at: window, open, run, attach, demo (+ --screenshot).

Qt is imported only inside the handlers, so `pyrometer --help` and headless
commands never pay for it. `--screenshot PNG` renders the main window
(1440×900, or `--screenshot-size WxH`) once everything is loaded — or after `--screenshot-after`
seconds of a live session — saves it and exits (`--screenshot-pane PANE`:
only that pane, by id or title, shown alone); it uses the offscreen
platform when no display is set, so it works on a headless machine.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyrometer.app.main_window import MainWindow

SCREENSHOT_SIZE = (1440, 900)
DEFAULT_LIVE_SCREENSHOT_S = 3.0


def _prepare_platform(args: argparse.Namespace) -> None:
    if getattr(args, "screenshot", None) and not os.environ.get("QT_QPA_PLATFORM"):
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or sys.platform.startswith("linux"):
            os.environ["QT_QPA_PLATFORM"] = "offscreen"


def _check_display() -> None:
    """No display and no QT_QPA_PLATFORM: Qt would abort (SIGABRT) blaming a missing xcb library,
    so say what is really missing, in one line, before any QApplication exists (exit status 2)."""
    if os.environ.get("QT_QPA_PLATFORM") or sys.platform in ("darwin", "win32", "cygwin"):
        return
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return
    print(
        "pyrometer: no display: this command opens a window, but neither DISPLAY nor WAYLAND_DISPLAY is set"
        " (headless: use stats/report/record, or --screenshot PNG, or set QT_QPA_PLATFORM=offscreen for screenshots)",
        file=sys.stderr,
    )
    raise SystemExit(2)


def _check_pane_title(args: argparse.Namespace) -> None:
    """Refuse an unknown --screenshot-pane (an id or a title) before anything loads (exit status 2)."""
    key = getattr(args, "screenshot_pane", None)
    if not key:
        return
    from pyrometer.app.session_view import find_pane_class, pane_classes

    if find_pane_class(key) is None:
        names = ", ".join(f"{cls.pane_id} ({cls.title})" for cls in pane_classes())
        print(f"pyrometer: no pane {key!r}; panes: {names}", file=sys.stderr)
        raise SystemExit(2)


def _window(args: argparse.Namespace) -> tuple[Any, MainWindow]:
    _prepare_platform(args)
    _check_display()
    _check_pane_title(args)
    from pyrometer.app.main_window import MainWindow, application

    app = application(sys.argv[:1])
    share_the_interpreter()
    _quiet_offscreen_warnings()
    _end_with_last_window(app)
    win = MainWindow()
    if getattr(args, "screenshot", None):
        win.quiet_errors = True
    if getattr(args, "screenshot", None):
        win.resize(*screenshot_size(args))
    win.show()
    return app, win


GUI_SWITCH_INTERVAL_S = 0.001  # sys.setswitchinterval of the window's process (Python's default: 0.005)


def share_the_interpreter() -> None:
    """Let the GUI thread take the interpreter back within 1 ms of asking, not 5.

    Each call into Qt lets the interpreter go, and while a worker runs Python (a huge
    recording read, its caches warmed, task rows packed) every return waits for the
    worker's switch interval: a paint of a few hundred Qt calls then took 0.5-2 s.
    Measured on a 30M-sample recording's detail arriving: longest GUI turn 1.95 s at
    5 ms, 0.45 s at 1 ms (benchmarks/bench_scale_window.py).
    """
    sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)


# the offscreen platform (every headless --screenshot) warns this once per window shown:
# noise that says nothing about the user's profile
_OFFSCREEN_NOISE = ("This plugin does not support propagateSizeHints()",)


def _quiet_offscreen_warnings() -> None:
    """Drop the offscreen platform's own warnings; every other Qt message still reaches stderr."""
    if os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        return
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    def handler(kind: QtMsgType, _context: Any, message: str) -> None:
        if message in _OFFSCREEN_NOISE:
            return
        if kind != QtMsgType.QtDebugMsg:
            print(message, file=sys.stderr)

    qInstallMessageHandler(handler)


def _end_with_last_window(app: Any) -> None:
    """Closing the main window ends the run, even if a secondary window is still up.

    Qt's own quit-on-last-window-closed is vetoed by any window visible when its
    Quit event is handled: a file's progress dialog shows itself 400 ms into a
    load even after the main window closed (the load is cancelled in closeEvent),
    and the process then lingered with no window at all. `exit` cannot be vetoed;
    an exit status set later (the screenshot path's) still wins.
    """
    if getattr(app, "_pyrometer_ends_with_window", False):
        return
    app.lastWindowClosed.connect(lambda: app.exit(0))
    app._pyrometer_ends_with_window = True


def screenshot_size(args: argparse.Namespace) -> tuple[int, int]:
    """--screenshot-size WxH, or the default size of README shots."""
    return getattr(args, "screenshot_size", None) or SCREENSHOT_SIZE


def take_screenshot(win: MainWindow, path: str, pane: str | None = None, size: tuple[int, int] | None = None) -> bool:
    """Refresh every visible pane, render the window (or one pane) to PNG at `size`; True if written."""
    from PySide6.QtWidgets import QApplication

    if size is not None and (win.width(), win.height()) != size:
        win.resize(*size)
    for _ in range(3):
        QApplication.processEvents()
    if pane:
        return _pane_screenshot(win, path, pane)
    for view in win.views():
        view.refresh_visible()
    QApplication.processEvents()
    ok = bool(win.grab().save(path, "PNG"))
    if not ok:
        print(f"pyrometer: cannot write screenshot {path}", file=sys.stderr)
    return ok


def _pane_screenshot(win: MainWindow, path: str, title: str) -> bool:
    """Show one pane alone (filling the window), grab its dock, then put the layout back."""
    from PySide6.QtWidgets import QApplication

    view = win.current_view()
    pane = view.pane(title) if view is not None else None
    if view is None or pane is None:
        print(f"pyrometer: no pane {title!r} in this window", file=sys.stderr)
        return False
    saved = view.saveState()
    target = view.docks[pane.objectName()]
    for dock in view.docks.values():
        dock.setVisible(dock is target)
    target.raise_()
    for _ in range(3):
        QApplication.processEvents()
    view.refresh_visible(force=True)
    select = getattr(pane, "select_event", None)  # the event loop pane: show the worst stall's stack
    if callable(select) and getattr(pane, "events", None):
        events = list(pane.events)  # type: ignore[attr-defined]
        select(max(range(len(events)), key=lambda i: events[i].duration))
        view.doc.clear_range()  # selecting zooms every pane to the stall; the shot shows the session
        view.refresh_visible(force=True)
    QApplication.processEvents()
    ok = bool(target.grab().save(path, "PNG"))
    view.restoreState(saved)
    if not ok:
        print(f"pyrometer: cannot write screenshot {path}", file=sys.stderr)
    return ok


def _screenshot_when(win: MainWindow, args: argparse.Namespace, live: bool, baseline: _BaselineLoad | None = None) -> None:
    """Arrange the screenshot + exit: after loads (and the --baseline) finish, or after N seconds of a live session."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    path = args.screenshot
    if not path:
        return

    taken: list[bool] = []

    def shoot() -> None:
        if taken:
            return
        taken.append(True)
        ok = take_screenshot(win, path, getattr(args, "screenshot_pane", None), screenshot_size(args))
        win.close()
        QApplication.exit(0 if ok else 1)

    if live:
        delay = args.screenshot_after if args.screenshot_after is not None else DEFAULT_LIVE_SCREENSHOT_S
        QTimer.singleShot(int(delay * 1000), shoot)
        return
    delay_ms = int((args.screenshot_after or 0.0) * 1000)
    if getattr(args, "screenshot_first_frame", False):  # a huge recording's first frame, from its index
        win.previewShown.connect(lambda _view: QTimer.singleShot(max(delay_ms, 200), shoot))

    def after_loads() -> None:
        if baseline is not None and not baseline.finished:
            baseline.then.append(after_loads)
            return
        QTimer.singleShot(max(delay_ms, 200), shoot)

    if win.loaders:
        win.loadsFinished.connect(after_loads)
    else:
        after_loads()


def run_window(args: argparse.Namespace) -> int:
    """`pyrometer`: the start page."""
    app, _win = _window(args)
    return int(app.exec())


class _BaselineLoad:
    """`open --baseline BASE`: whether BASE is read yet, and what waits for it (the screenshot)."""

    def __init__(self) -> None:
        self.finished = False
        self.then: list[Any] = []

    def finish(self) -> None:
        self.finished = True
        for fn in self.then:
            fn()
        self.then = []


def _compare_with_baseline(win: MainWindow, path: str) -> _BaselineLoad:
    """Read BASE once, off the GUI thread, and make it the baseline of every document that opens
    (the Compare pane and the flame graph's colours read it there)."""
    from pathlib import Path

    from pyrometer.app.loader import FileLoader

    state = _BaselineLoad()
    views: list[Any] = []
    baseline: list[Any] = []  # the loaded Profile, once read

    def apply(view: Any) -> None:
        if baseline:
            view.doc.set_baseline(baseline[0], Path(path).name, path)
            view.show_pane("compare")

    def opened(view: Any) -> None:
        views.append(view)
        apply(view)

    def loaded(_p: Any, profile: Any) -> None:
        baseline.append(profile)
        for view in views:
            apply(view)
        state.finish()

    def failed(_p: Any, message: str) -> None:
        text = message if Path(path).name in message else f"{path}: {message}"
        win.show_error(f"Cannot open baseline {Path(path).name}", f"baseline: {text}")
        state.finish()

    loader = FileLoader(path, win)
    loader.loaded.connect(loaded)
    loader.failed.connect(failed)
    loader.cancelled.connect(lambda _p: state.finish())
    win.documentOpened.connect(opened)
    loader.start()
    return state


def run_open(args: argparse.Namespace) -> int:
    """`pyrometer open FILE... [--baseline BASE]`: each file in its own tab, loaded off the GUI thread."""
    from pyrometer.core.formats.prefetch import prefetch

    base = getattr(args, "baseline", None)
    if base and not args.files:
        print("pyrometer: --baseline needs a profile to compare with it: pyrometer open NEW --baseline BASE", file=sys.stderr)
        return 2
    # shiboken's start-up walks sys.modules: done here first, never while the prefetch thread imports
    # the readers (a 'dictionary changed size during iteration' there aborts the process: seen in 1 of 4 runs)
    import PySide6  # noqa: F401

    prefetch(list(args.files))  # reading starts while Qt loads and the window is built
    if base:
        prefetch([base], preview=False)  # a baseline is compared once read whole: no preview of it
    app, win = _window(args)
    baseline = _compare_with_baseline(win, base) if base else None
    win.open_files(list(args.files))
    _screenshot_when(win, args, live=False, baseline=baseline)
    status = int(app.exec())
    if args.screenshot and win.errors:
        for e in win.errors:
            print(f"pyrometer: {e}", file=sys.stderr)
        return status or 2
    return status


def _collect_options(args: argparse.Namespace) -> dict[str, Any]:
    from pyrometer.core.capture.launch import options_from_args

    options = options_from_args(args)
    if getattr(args, "duration", None):
        options["duration"] = float(args.duration)
    return options


def _exit_on_failure(session: Any, args: argparse.Namespace) -> None:
    """In --screenshot mode a failed session ends the run with status 2 and the message on stderr."""
    if not getattr(args, "screenshot", None):
        return
    from PySide6.QtWidgets import QApplication

    def failed(message: str) -> None:
        print(f"pyrometer: {message}", file=sys.stderr)
        QApplication.exit(2)

    session.failed.connect(failed)


def _run_live_session(app: Any, win: MainWindow, session: Any, args: argparse.Namespace) -> int:
    """Show a started live session (launch, attach or demo) and run the event loop."""
    from pyrometer.app.live_state import Phase

    session.history = getattr(args, "history", True)
    session.history_name = getattr(args, "name", None)

    _exit_on_failure(session, args)
    win.start_live(session)
    if session.state.phase is Phase.FAILED:
        return _report_failure(win)
    _screenshot_when(win, args, live=True)
    status = int(app.exec())
    if status == 0 and session.state.phase is Phase.ENDED:
        return session.state.shell_status()  # like `record`: the program's own exit status is ours
    return status


def _report_failure(win: MainWindow) -> int:
    for e in win.errors:
        print(f"pyrometer: {e}", file=sys.stderr)
    return 2


def run_live(args: argparse.Namespace) -> int:
    """`pyrometer run [options] -- TARGET...`: launch and profile live."""
    from pyrometer.app.live import LiveSession
    from pyrometer.core.capture.launch import LaunchError

    target = list(args.target)
    try:
        from pyrometer.core.capture.launch import parse_target

        parse_target(target, args.python) if target else None
    except LaunchError as exc:
        print(f"pyrometer: {exc}", file=sys.stderr)
        return 2
    if not target:
        print("pyrometer: nothing to run: give a script, -m MODULE or -c CODE after --", file=sys.stderr)
        return 2
    if args.save is not None:
        from pyrometer.core.cli.output_guard import recording_output_problem

        problem = recording_output_problem(args.save)
        if problem is not None:
            print(f"pyrometer: {problem}", file=sys.stderr)
            return 2
    app, win = _window(args)
    try:
        session = LiveSession.launch(target, _collect_options(args), python=args.python, save_path=args.save, parent=win)
    except LaunchError as exc:
        print(f"pyrometer: {exc}", file=sys.stderr)
        return 2
    return _run_live_session(app, win, session, args)


def run_attach(args: argparse.Namespace) -> int:
    """`pyrometer attach PID`: attach and profile live; detaching leaves the program running."""
    from pyrometer.app.live import LiveSession

    app, win = _window(args)
    session = LiveSession.attach(args.pid, _collect_options(args), parent=win)
    return _run_live_session(app, win, session, args)


def run_demo(args: argparse.Namespace) -> int:
    """`pyrometer demo`: the bundled asyncio demo service, live."""
    from pyrometer.app.live import LiveSession, demo_target

    app, win = _window(args)
    session = LiveSession.launch(demo_target(args.duration), {}, parent=win)
    return _run_live_session(app, win, session, args)
