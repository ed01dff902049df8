"""Start reading profile files before Qt is even imported (Qt-free; used by `pyrometer open`).

Reading a big file and building the analysis caches overlaps importing Qt
and building the window; the FileLoader for the same path picks up the
result instead of loading again.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from pathlib import Path

from pyrometer.core.formats.registry import ProgressFn, load_profile
from pyrometer.core.model import Profile


def load_and_warm(path: Path, progress: ProgressFn | None = None) -> Profile:
    """Load a file and build the analysis caches every pane needs first (call tree, function table).

    Runs off the GUI thread, so the first refresh of the panes is cheap.
    """
    profile = load_profile(path, progress)
    try:
        from pyrometer.core.analysis.calltree import call_tree
        from pyrometer.core.analysis.functions import function_table

        call_tree(profile)
        function_table(profile)
        if profile.samples_sorted:  # the timeline's and stack chart's per-pixel summaries
            from pyrometer.core.analysis.lod import activity_index, lag_index

            activity_index(profile)
            lag_index(profile)
    except Exception:  # warming is an optimisation; the panes report real errors themselves
        pass
    return profile


_prefetched: dict[Path, Future[Profile]] = {}


def prefetch(paths: list[str] | list[Path]) -> None:
    """Start loading files on plain threads before Qt and the window exist (`pyrometer open`).

    The FileLoader for the same path later picks up the result instead of loading again,
    so reading a big file overlaps importing Qt and building the window.
    """
    for raw in paths:
        path = Path(raw)
        key = path.resolve()
        if key in _prefetched:
            continue
        fut: Future[Profile] = Future()

        def run(path: Path = path, fut: Future[Profile] = fut) -> None:
            try:
                fut.set_result(load_and_warm(path))
            except BaseException as exc:  # handed to the FileLoader, which reports it
                fut.set_exception(exc)

        _prefetched[key] = fut
        threading.Thread(target=run, name="pyrometer-prefetch", daemon=True).start()


def take(path: Path) -> Future[Profile] | None:
    """The prefetch of this path, if one was started (handed out once)."""
    return _prefetched.pop(path.resolve(), None)


