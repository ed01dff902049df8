"""Closing a recording in the background (issue 15): the index is appended on a worker, and quitting meanwhile loses nothing.

The window closes a session's recording when the stream ends; appending the
index took 2-5 s of its GUI thread at 30M samples. `close(background=True)`
returns at once; a plain close while that runs (the app quits) abandons the
index, and the file is still a whole recording that its first open indexes.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from wire_stream import small_stream

from pyrometer.core.agent import wire
from pyrometer.core.capture.collector import ABANDON_WAIT_S, Collector
from pyrometer.core.formats.recording import read_recording
from pyrometer.core.formats.recording_index import read_index_frame


def _connect(coll: Collector) -> socket.socket:
    assert coll.address.startswith("unix:")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(coll.address[5:])
    return sock


END = wire.json_frame(wire.END, {"t": 9.0, "exit_status": 0, "reason": "exit"})


def _record(coll: Collector, batches: int) -> None:
    """One agent's whole stream, then the end of it."""
    sock = _connect(coll)
    sock.sendall(b"PYROMETER " + coll.token.encode() + b"\n")
    sock.sendall(wire.file_header() + small_stream(batches) + END)
    sock.close()
    assert coll.wait_finished(5)


def _blocked_progress(coll: Collector) -> tuple[threading.Event, threading.Event, list[float]]:
    """Hold the closing thread at its first progress report until `release` is set."""
    started, release = threading.Event(), threading.Event()
    seen: list[float] = []

    def progress(fraction: float) -> None:
        seen.append(fraction)
        if len(seen) == 1:
            started.set()
            release.wait(10)

    coll.on_close_progress = progress
    return started, release, seen


def test_a_background_close_returns_at_once_and_appends_the_index(tmp_path: Path) -> None:
    out = tmp_path / "out.pyro"
    coll = Collector(out).start()
    _record(coll, 30)
    started, release, seen = _blocked_progress(coll)
    closed = threading.Event()
    coll.on_closed = closed.set
    t0 = time.monotonic()
    coll.close(background=True)  # on the calling thread this would wait for `release` (10 s)
    assert time.monotonic() - t0 < 5
    assert started.wait(5) and coll.closing is not None and coll.closing.is_alive()
    assert not closed.is_set() and read_index_frame(out) is None  # the index is being made
    release.set()
    assert coll.wait_closed(10) and closed.is_set()
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    index = read_index_frame(out)
    profile, _report = read_recording(out)
    assert index is not None and index.samples == profile.sample_count == 300


def test_quitting_while_it_runs_leaves_a_whole_recording_without_the_index(tmp_path: Path) -> None:
    out = tmp_path / "out.pyro"
    out.write_bytes(b"an older recording")  # replaced: the new one is written under a temporary name
    coll = Collector(out).start()
    _record(coll, 30)
    started, release, _seen = _blocked_progress(coll)
    coll.close(background=True)
    assert started.wait(5)
    assert out.read_bytes()[: wire.FILE_HEADER_SIZE] == wire.file_header()  # it has its name already
    t0 = time.monotonic()
    coll.close()  # the app quits: the index is abandoned, the wait is bounded
    assert time.monotonic() - t0 < ABANDON_WAIT_S + 2
    release.set()
    assert coll.wait_closed(10)
    assert read_index_frame(out) is None
    assert out.read_bytes().endswith(END)  # every frame recorded, nothing after them
    profile, report = read_recording(out)
    assert profile.sample_count == 300 and not report.problems
    assert not list(tmp_path.glob(".*.part"))
