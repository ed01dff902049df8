"""The .pyro recording: round trip, torn tails, corrupt frames, live following, fuzzing."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyrometer.core.agent import wire
from pyrometer.core.formats.recording import (
    RecordingError,
    RecordingReader,
    RecordingWriter,
    profile_frames,
    read_recording,
    write_profile,
)
from pyrometer.core.model import BlockingEvent, Profile, TaskInfo


def _sample_profile() -> Profile:
    p = Profile()
    p.meta.update({"argv": ["demo.py"], "pid": 42})
    main = p.intern_frame("main", "demo.py", 10, 1)
    work = p.intern_frame("work", "demo.py", 20, 18)
    sleep = p.intern_frame("<built-in method time.sleep>", "~", 0, 0)
    s_main = p.intern_stack_path([main])
    s_work = p.intern_stack_path([main, work])
    s_sleep = p.intern_stack_path([main, work, sleep])
    p.ensure_thread(0, "MainThread")
    p.ensure_thread(1, "worker")
    times = np.arange(300) * 0.01
    p.add_samples(times, np.arange(300) % 2, np.array([s_main, s_work, s_sleep])[np.arange(300) % 3], weight=0.01, cpu=0.005)
    p.add_lag(np.arange(50) * 0.1, np.zeros(50, np.int32), np.linspace(0, 0.2, 50).astype(np.float32))
    p.blocking.append(BlockingEvent(1.0, 0.06, 0, 0, s_sleep, 3, "Task-3"))
    p.tasks[1] = TaskInfo(1, None, "Task-1", "main", 0, 0.0, 2.5, "done")
    p.tasks[2] = TaskInfo(2, 1, "child", "child", 0, 0.1, 0.4, "cancelled")
    p.tasks[3] = TaskInfo(3, 1, "leaf", "leaf", 0, 0.2, None, "pending")
    p.add_awaits(0.5, np.array([3], np.int32), np.array([s_sleep], np.int32))
    p.telemetry.update({"samples_taken": 300, "samples_dropped": 0})
    p.end = {"t": 3.0, "exit_status": 0, "reason": "exit"}
    p.finish()
    return p


def _assert_same(a: Profile, b: Profile) -> None:
    assert a.func_name == b.func_name and a.func_file == b.func_file
    for col in a.samples.names:
        np.testing.assert_array_equal(a.samples[col], b.samples[col])
    np.testing.assert_array_equal(a.stacks["parent"], b.stacks["parent"])
    np.testing.assert_array_equal(a.lag["lag"], b.lag["lag"])
    assert a.blocking == b.blocking
    assert a.tasks == b.tasks
    assert {k: v.name for k, v in a.threads.items()} == {k: v.name for k, v in b.threads.items()}
    assert a.end == b.end


def test_round_trip_keeps_every_kind_of_event(tmp_path: Path) -> None:
    p = _sample_profile()
    write_profile(p, tmp_path / "a.pyro")
    q, report = read_recording(tmp_path / "a.pyro")
    assert report.clean
    _assert_same(p, q)
    np.testing.assert_array_equal(q.awaits["stack"], p.awaits["stack"])


def test_every_truncation_keeps_all_complete_frames(tmp_path: Path) -> None:
    frames = list(profile_frames(_sample_profile()))
    data = wire.file_header() + b"".join(frames)
    ends = np.cumsum([wire.FILE_HEADER_SIZE] + [len(f) for f in frames])
    rng = random.Random(1)
    cuts = sorted({int(e) for e in ends} | {rng.randrange(wire.FILE_HEADER_SIZE, len(data)) for _ in range(60)})
    for cut in cuts:
        path = tmp_path / "cut.pyro"
        path.write_bytes(data[:cut])
        _, report = read_recording(path)
        complete = int(np.searchsorted(ends, cut, side="right")) - 1
        assert report.frames == complete
        assert report.dropped_bytes == cut - int(ends[complete])


def test_corrupt_frame_is_skipped_and_reading_resumes_after_it(tmp_path: Path) -> None:
    """Issue 11 item 10: one flipped bit used to drop everything after it; now only its frame goes."""
    frames = list(profile_frames(_sample_profile()))
    data = bytearray(wire.file_header() + b"".join(frames))
    victim = 4
    offset = wire.FILE_HEADER_SIZE + sum(len(f) for f in frames[:victim]) + wire.FRAME_HEADER_SIZE + 2
    data[offset] ^= 0xFF
    path = tmp_path / "bad.pyro"
    path.write_bytes(bytes(data))
    _, report = read_recording(path)
    assert report.frames == len(frames) - 1
    assert any("checksum" in p and "skipped" in p for p in report.problems)
    assert report.dropped_bytes == len(frames[victim])


def test_unknown_message_types_are_skipped(tmp_path: Path) -> None:
    frames = list(profile_frames(_sample_profile()))
    frames.insert(2, wire.frame(999, b"from the future"))
    path = tmp_path / "newer.pyro"
    path.write_bytes(wire.file_header() + b"".join(frames))
    q, report = read_recording(path)
    assert report.skipped_unknown == 1
    assert q.sample_count == 300


def test_bad_header_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "x.pyro"
    path.write_bytes(b"not a recording at all")
    with pytest.raises(RecordingError, match=r"x\.pyro"):
        read_recording(path)
    with pytest.raises(RecordingError, match="directory"):
        read_recording(tmp_path)


def test_reader_follows_a_file_being_written(tmp_path: Path) -> None:
    path = tmp_path / "live.pyro"
    writer = RecordingWriter(path)
    frames = list(profile_frames(_sample_profile()))
    reader = RecordingReader(path)
    seen = 0
    for fr in frames:
        writer.write_raw(fr[:5])  # a torn frame is "not yet written" for a follower
        seen += reader.poll()
        writer.write_raw(fr[5:])
        seen += reader.poll()
    assert seen == len(frames)
    writer.close()
    report = reader.finish()
    assert report.clean
    assert reader.profile.sample_count == 300


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_mutated_recordings_never_raise_past_the_header(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    raw = bytearray(wire.file_header() + b"".join(profile_frames(_sample_profile())))
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(wire.FILE_HEADER_SIZE, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(wire.FILE_HEADER_SIZE, len(raw)))
    path = tmp_path_factory.mktemp("fuzz") / "m.pyro"
    path.write_bytes(bytes(raw[:cut]))
    profile, report = read_recording(path)
    assert report.frames >= 0
    assert profile.sample_count <= 300


def test_task_log_lists_tasks_as_they_are_created_and_finish() -> None:
    """Views that follow a live profile (the timeline's task lanes) read task changes from here."""
    import json

    from pyrometer.core.formats.recording import apply_message

    p = Profile()
    created = [{"id": 1, "t": 0.1}, {"id": 2, "t": 0.2, "parent": 1}]
    apply_message(p, wire.TASKS_CREATED, json.dumps(created).encode())
    apply_message(p, wire.TASKS_FINISHED, json.dumps([{"id": 2, "t": 0.5, "state": "cancelled"}]).encode())
    assert p.task_log == [1, 2, 2]
    assert p.tasks[2].state == "cancelled" and p.tasks[2].parent == 1
