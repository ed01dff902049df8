"""A recording's index is sized to its data (tryout 2): a 0.3 s run is a few KB, not 460 KB.

The timeline's summaries in the index (activity per thread and lag per bucket,
2^14 buckets each) were stored whole: 448 KB for any recording, 262 KB of it
lag buckets of a program with no event loop. They are now stored as their
non-empty cells when that is smaller; what a reader gets back is unchanged
(compared with a full read's summaries, and with an index written by main
before the change, read by today's reader). `record` states the file's real size.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from scale_recordings import generate_recording

from pyrometer.core.agent import wire
from pyrometer.core.analysis.lod import ActivityIndex, LagIndex
from pyrometer.core.capture.writer import RecordingWriter
from pyrometer.core.formats.recording import read_recording
from pyrometer.core.formats.recording_index import RecordingIndex, build_index, read_index_frame

ROOT = Path(__file__).resolve().parents[2]
BEFORE = "ee2d4ff"  # main whose index stored every bucket of the summaries
SHORT = """
import sys, threading, time
def spin(s):
    end = time.thread_time() + s
    while time.thread_time() < end:
        pass
t = threading.Thread(target=spin, args=(0.15,))
t.start()
spin(0.15)
t.join()
"""


def _short_recording(path: Path, samples: int = 29, step: float = 0.01) -> Path:
    """One thread sampled every `step` s (10 ms: 0.3 s), no lag probe, written and indexed as `record` writes."""
    writer = RecordingWriter(path, index=True)
    writer.write_raw(wire.json_frame(wire.META, {"pid": 1, "unit": "seconds"}))
    writer.write_raw(wire.frames_frame([(0, "a.py", 2, "main", 1), (1, "a.py", 9, "work", 8)]))
    writer.write_raw(wire.stacks_frame(0, [-1, 0], [0, 1]))
    writer.write_raw(wire.json_frame(wire.THREADS, [[0, "MainThread", 11]]))
    t = [step * (k + 1) for k in range(samples)]
    writer.write_raw(wire.samples_frame(t, [0] * samples, [k % 2 for k in range(samples)], [-1] * samples,
                                        [step] * samples, [step * 0.6] * samples))
    writer.write_raw(wire.json_frame(wire.END, {"t": t[-1], "exit_status": 0, "reason": "exit"}))
    writer.close(index=True)
    return path


def _before_module(tmp_path: Path) -> types.ModuleType:
    """core/formats/recording_index.py as main had it before the summaries were stored by cell."""
    try:
        shown = subprocess.run(["git", "-C", str(ROOT), "show", f"{BEFORE}:core/formats/recording_index.py"],
                               capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"git is not available: {exc}")
    if shown.returncode != 0:
        pytest.skip(f"commit {BEFORE} is not in this checkout's history")
    import importlib.util

    file = tmp_path / "index_before.py"
    file.write_text(shown.stdout)
    spec = importlib.util.spec_from_file_location("index_before", file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["index_before"] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["index_before"]
    return module


def _same_overview(index: RecordingIndex, path: Path) -> None:
    """The index's summaries are those a full read of the file computes, cell for cell."""
    profile, report = read_recording(path)
    assert report.clean
    profile.finish()
    act = ActivityIndex.from_arrays(index.overview["activity"], index.arrays)
    want = ActivityIndex().update(profile)
    assert (act.n, act.width, act.rows, act.gap) == (want.n, want.width, want.rows, want.gap)
    assert np.array_equal(act.count, want.count) and np.array_equal(act.on, want.on)
    assert int(act.count.sum()) == profile.sample_count
    lag = LagIndex.from_arrays(index.overview["lag"], index.arrays)
    want_lag = LagIndex().update(profile)
    assert (lag.n, lag.width) == (want_lag.n, want_lag.width) and lag.n == len(profile.lag)
    assert np.array_equal(lag.low, want_lag.low) and np.array_equal(lag.high, want_lag.high)


def test_a_short_recording_is_a_few_kilobytes_and_its_summaries_are_exact(tmp_path: Path) -> None:
    path = _short_recording(tmp_path / "short.pyro")
    index = read_index_frame(path)
    assert index is not None and index.samples == 29 and index.lag == 0 and index.overview
    assert path.stat().st_size < 8192  # was 463 KB: 16,384 buckets of activity and lag, stored whole
    _same_overview(index, path)


def _stored_by_cell(index: RecordingIndex) -> dict[str, int]:
    """The "sparse" part of the index's header: which summaries it stores by cell."""
    payload = index.encode()
    n = int.from_bytes(payload[:4], "little")
    return dict(json.loads(payload[4 : 4 + n]).get("sparse", {}))


def test_summaries_that_fill_their_buckets_are_stored_whole(tmp_path: Path) -> None:
    """15,500 samples ~1 ms apart fill 95% of the 2^14 activity buckets: cells would take more bytes than
    the buckets, so those are stored whole; the lag buckets of a program without a loop stay out."""
    path = _short_recording(tmp_path / "dense.pyro", 15_500, 2.0**-10)
    index = read_index_frame(path)
    assert index is not None and index.samples == 15_500
    assert _stored_by_cell(index) == {"lag_cell": 1 << 14}
    _same_overview(index, path)
    assert path.stat().st_size < 15_500 * 4 * 8 + 200_000  # samples and the activity buckets, no lag buckets


@pytest.mark.parametrize("kind", ["short", "generated"])
def test_an_index_written_before_reads_as_it_did(tmp_path: Path, kind: str) -> None:
    """An index of main before this change (every bucket stored) decodes to the same arrays as today's."""
    before = _before_module(tmp_path)
    path = _short_recording(tmp_path / "s.pyro") if kind == "short" else generate_recording(tmp_path / "g.pyro", 5000)
    _same_overview(RecordingIndex.decode(build_index(path).encode()), path)
    old_payload = before.build_index(path).encode()
    old = RecordingIndex.decode(old_payload)
    new_payload = build_index(path).encode()
    new = RecordingIndex.decode(new_payload)
    assert len(new_payload) <= len(old_payload)
    # (today's also says where each chunk's lag probes lie: index_range.py)
    assert old.overview == new.overview and old.arrays.keys() == new.arrays.keys() - {"chunk_lag_t0", "chunk_lag_t1", "lag_frame_offset"}
    for name, arr in old.arrays.items():
        assert arr.dtype == new.arrays[name].dtype and np.array_equal(arr, new.arrays[name]), name


def test_a_reader_before_cells_opens_a_new_index_and_computes_its_summaries(tmp_path: Path) -> None:
    """New files open in the previous reader: an index storing its summaries by cell shows that reader no
    overview (as an index written before summaries did), so it computes them from the samples."""
    before = _before_module(tmp_path)
    path = _short_recording(tmp_path / "short.pyro")
    payload = build_index(path).encode()
    assert _stored_by_cell(RecordingIndex.decode(payload))  # this file's summaries are stored by cell
    old = before.RecordingIndex.decode(payload)
    assert old.overview == {} and old.samples == 29
    dense = generate_recording(tmp_path / "g.pyro", 5000)
    if not _stored_by_cell(RecordingIndex.decode(build_index(dense).encode())):
        # stored whole, the summaries are the previous reader's as they are ours
        assert before.RecordingIndex.decode(build_index(dense).encode()).overview == build_index(dense).overview


def test_record_states_the_real_size_of_a_short_recording(tmp_path: Path) -> None:
    script = tmp_path / "short.py"
    script.write_text(SHORT)
    out = tmp_path / "short.pyro"
    done = subprocess.run(
        [sys.executable, "-m", "pyrometer", "record", "--no-history", "-o", str(out), "--", str(script)],
        capture_output=True, text=True, timeout=60,
        env=dict(os.environ, TMPDIR=str(tmp_path), PYROMETER_HOME=str(tmp_path / "home")),
    )
    assert done.returncode == 0, done.stderr
    size = out.stat().st_size
    assert size < 16384, size  # two threads, 0.3 s: was 660 KB
    index = read_index_frame(out)
    assert index is not None and index.samples >= 10
    _same_overview(index, out)
    said = re.search(r"recorded \d+ samples \(\d+ messages, ([\d.]+) (KiB|MiB|bytes)\)", done.stderr)
    assert said is not None, done.stderr
    scale = {"bytes": 1, "KiB": 1024, "MiB": 1024 * 1024}[said.group(2)]
    assert abs(float(said.group(1)) * scale - size) <= scale * 0.05 + 1, (said.group(0), size)
