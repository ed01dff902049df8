"""Damaged `.pyro` recordings lose only the damaged part (issue 11 items 5, 9 and 10).

A flipped bit in the first frame used to drop all 197 samples; a 2 GB sparse
file used 4 GB of memory; checksum-valid but impossible values (NaN lag,
1e300 s times) reached the window as NumPy warnings and pyqtgraph tracebacks.
"""

from __future__ import annotations

import math
import time
import tracemalloc
import warnings
from pathlib import Path

from pyrometer.core.agent import wire
from pyrometer.core.cli.summary import build_summary
from pyrometer.core.formats.recording import read_recording


def _frames(samples: int = 197) -> list[bytes]:
    return [
        wire.json_frame(wire.META, {"pid": 7, "argv": ["x.py"], "start_wall": 0.0, "interval": 0.01}),
        wire.frames_frame([(0, "x.py", 1, "main", 1), (1, "x.py", 5, "work", 4)]),
        wire.stacks_frame(0, [-1, 0], [0, 1]),
        wire.json_frame(wire.THREADS, [[0, "MainThread", 1]]),
        *[
            wire.samples_frame([k * 0.01], [0], [k % 2], [-1], [0.01], [-1.0])
            for k in range(samples)
        ],
        wire.json_frame(wire.END, {"t": 2.0, "exit_status": 0, "reason": "exit"}),
    ]


def _write(path: Path, frames: list[bytes]) -> bytes:
    data = wire.file_header() + b"".join(frames)
    path.write_bytes(data)
    return data


def test_a_bit_flip_in_the_first_frame_loses_only_that_frame(tmp_path: Path) -> None:
    frames = _frames()
    data = bytearray(wire.file_header() + b"".join(frames))
    data[wire.FILE_HEADER_SIZE + wire.FRAME_HEADER_SIZE + 5] ^= 0x04  # inside META's payload
    path = tmp_path / "flip.pyro"
    path.write_bytes(bytes(data))
    profile, report = read_recording(path)
    assert profile.sample_count == 197
    assert profile.end is not None
    assert report.dropped_bytes == len(frames[0])
    assert "skipped" in report.problems[0] and "byte 16" in report.problems[0]


def test_a_damaged_length_is_skipped_not_taken_for_a_torn_tail(tmp_path: Path) -> None:
    frames = _frames()
    data = bytearray(wire.file_header() + b"".join(frames))
    at = wire.FILE_HEADER_SIZE + sum(len(f) for f in frames[:10])
    data[at + 2] = 0x7F  # the 11th frame now claims ~8 MB: it looks cut short
    path = tmp_path / "len.pyro"
    path.write_bytes(bytes(data))
    profile, report = read_recording(path)
    assert profile.sample_count == 197 - 1
    assert report.dropped_bytes == len(frames[10])
    assert any("skipped" in p for p in report.problems)


def test_a_torn_tail_is_still_just_a_torn_tail(tmp_path: Path) -> None:
    data = _write(tmp_path / "t.pyro", _frames())
    (tmp_path / "t.pyro").write_bytes(data[:-7])
    profile, report = read_recording(tmp_path / "t.pyro")
    assert profile.sample_count == 197 and profile.end is None
    assert report.problems == [f"torn tail: last {len(_frames()[-1]) - 7} bytes are an incomplete frame"]


def test_a_sparse_2gb_recording_is_read_without_reading_its_hole(tmp_path: Path) -> None:
    path = tmp_path / "sparse.pyro"
    data = _write(path, _frames(50))
    path.write_bytes(data[:-20])  # the END frame is cut, then a 2 GB hole
    with open(path, "r+b") as fh:
        fh.truncate(2 << 30)
    tracemalloc.start()
    t0 = time.process_time()
    try:
        profile, report = read_recording(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    took = time.process_time() - t0
    assert profile.sample_count == 50
    assert report.dropped_bytes == (2 << 30) - (len(data) - len(_frames(50)[-1]))
    assert peak < 64 << 20, peak  # it used 4 GB
    assert took < 10, took


def test_impossible_values_are_left_out_and_counted(tmp_path: Path) -> None:
    frames = _frames(3)[:-1]
    frames.append(wire.samples_frame([1e300, math.inf, 0.5, 0.6, 0.7], [0] * 5, [1] * 5, [-1] * 5,
                                     [0.01, 0.01, math.nan, -4.0, 0.01], [-1.0, -1.0, -1.0, -1.0, math.nan]))
    frames.append(wire.lag_frame([0.1, math.nan, 0.3], [0, 0, 0], [0.001, 0.002, math.nan]))
    frames.append(wire.json_frame(wire.BLOCKING, {"start": 0.2, "duration": 1e308, "loop": 0, "thread": 0, "stack": 1}))
    frames.append(wire.json_frame(wire.BLOCKING, {"start": 0.2, "duration": 0.05, "loop": 0, "thread": 0, "stack": 1}))
    path = tmp_path / "absurd.pyro"
    _write(path, frames)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy's "invalid value" warnings reached the window
        profile, report = read_recording(path)
        summary = build_summary(profile, source_path=str(path), top=None)
    assert profile.sample_count == 3 + 1  # only the 0.7 s sample of the bad batch is possible
    assert math.isfinite(profile.duration()) and profile.duration() < 10
    assert len(profile.lag) == 1 and len(profile.blocking) == 1
    assert profile.samples["cpu"][-1] == -1.0  # an impossible CPU time becomes "unknown"
    assert summary["samples"] == 4
    assert report.problems == [
        "ignored impossible values: 1 blocking events with impossible times, 2 lag probes with impossible values,"
        " 4 samples with impossible times or weights"
    ]
