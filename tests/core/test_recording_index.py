"""A recording's index answers `stats` exactly as a full read does (issue 15).

Files come from the scale benchmark's generator at a tiny size (the agent's
framing, written by RecordingWriter) and from `pyrometer record` of a real
program that measures its own CPU time. Torn files, damaged or stale
indexes, read-only directories and the previous release's reader are covered.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from scale_recordings import generate_recording
from spin_recording import record_spinners

from pyrometer.core.agent import wire
from pyrometer.core.cli.summary import build_summary, render_text
from pyrometer.core.formats import recording_index
from pyrometer.core.formats.recording import read_recording
from pyrometer.core.formats.recording_index import (
    IndexedSamples,
    build_index,
    cache_home,
    load_index,
    open_for_stats,
    read_index_frame,
)

ROOT = Path(__file__).resolve().parents[2]
PREVIOUS_RELEASE = "01cbb9a"  # main before the index existed


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40,000 samples in frames of ~300 (4 threads), lag, tasks, blocking; closed with its index."""
    path = tmp_path_factory.mktemp("gen") / "gen.pyro"
    generate_recording(path, 40_000)
    return path


def _summaries(path: Path, thread: int | None = None) -> tuple[dict, dict]:
    """(stats from a full read, stats from the index), as `stats --json` builds them."""
    profile, report = read_recording(path)
    if report.problems:
        profile.notices.append({"level": "warning", "message": f"{path}: " + "; ".join(report.problems)})
    profile.finish()
    full = build_summary(profile, source_path=str(path), top=None, thread=thread)
    opened = open_for_stats(path)
    assert opened is not None
    shell, indexed = opened
    fast = build_summary(shell, source_path=str(path), top=None, thread=thread, indexed=indexed)
    return full, fast


def _same(full: dict, fast: dict) -> None:
    assert json.dumps(fast, sort_keys=True) == json.dumps(full, sort_keys=True)
    assert render_text(fast) == render_text(full)


def test_a_closed_recording_ends_with_its_index(generated: Path) -> None:
    index = read_index_frame(generated)
    assert index is not None
    profile, report = read_recording(generated)
    assert report.clean and report.skipped_unknown == 0  # the reader knows the index and ignores it
    assert index.samples == profile.sample_count == 40_000
    assert index.lag == len(profile.lag) > 0
    assert index.covers == generated.stat().st_size - wire.FRAME_HEADER_SIZE - len(index.encode())
    assert int(index.arrays["pair_count"].sum()) == 40_000


def test_stats_from_the_index_equal_a_full_read(generated: Path) -> None:
    for thread in (None, 0, 2):
        full, fast = _summaries(generated, thread)
        assert fast["samples"] == (40_000 if thread is None else 10_000)
        _same(full, fast)


def test_stats_command_uses_the_index_and_prints_what_a_full_read_prints(
    generated: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyrometer.cli import main

    assert main(["stats", str(generated), "--json", "--top", "0"]) == 0
    via_index = capsys.readouterr().out

    def no_index(path: object, progress: object = None, task_rows: bool = True, **_range: object) -> None:
        return None

    monkeypatch.setattr(recording_index, "open_for_stats", no_index)
    assert main(["stats", str(generated), "--json", "--top", "0"]) == 0
    via_full_read = capsys.readouterr().out
    assert via_index == via_full_read


def test_chunks_split_the_samples_at_frame_boundaries(generated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recording_index, "CHUNK_ROWS", 5_000)
    index = build_index(generated)
    a = index.arrays
    assert index.chunks >= 8
    rows = np.diff(a["chunk_row"])
    assert int(rows.sum()) == 40_000 and bool((rows >= 5_000).all() or rows[-1] < 5_000)
    per_chunk = np.add.reduceat(a["pair_count"], a["pair_start"][:-1])
    assert per_chunk.tolist() == rows.tolist()
    assert bool((np.diff(a["chunk_offset"]) > 0).all())
    # each chunk's byte range holds exactly its rows: read them back from the file
    profile, _ = read_recording(generated)
    times = profile.samples["time"]
    for k in range(index.chunks):
        lo, hi = int(a["chunk_row"][k]), int(a["chunk_row"][k + 1])
        assert times[lo] == a["chunk_t0"][k] and times[hi - 1] == a["chunk_t1"][k]
    # stats summed from many chunks are the same numbers
    shell = index.summary_profile()
    fast = build_summary(shell, source_path=str(generated), indexed=IndexedSamples(index, shell))
    full = build_summary(profile, source_path=str(generated))
    _same(full, fast)


# ---------------------------------------------------------------- a real recording, and the truth
@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[float]]]:
    """A real program recorded by `pyrometer record`, and the (CPU, wall) seconds each thread spun."""
    return record_spinners(tmp_path_factory.mktemp("rec"))


def test_a_recording_by_pyrometer_record_has_an_index_that_tells_the_truth(
    recorded: tuple[Path, dict[str, list[float]]],
) -> None:
    path, took = recorded
    index = read_index_frame(path)
    assert index is not None
    full, fast = _summaries(path)
    _same(full, fast)
    # the samples' wall time in `spin` is what the threads measured themselves spinning
    spin = next(f for f in fast["functions"] if f["name"] == "spin")
    assert spin["self"] == pytest.approx(took["main"][1] + took["worker"][1], rel=0.2, abs=0.03)
    spinner = next(t for t in fast["threads"] if t["name"] == "spinner")
    full_worker, worker_only = _summaries(path, spinner["id"])
    _same(full_worker, worker_only)
    worker_spin = next(f for f in worker_only["functions"] if f["name"] == "spin")
    assert worker_spin["self"] == pytest.approx(took["worker"][1], rel=0.2, abs=0.03)
    # and the index's CPU sums are the thread's own CPU clock
    a = index.arrays
    cpu = float(a["pair_cpu"][a["pair_thread"] == spinner["id"]].sum())
    assert cpu == pytest.approx(took["worker"][0], rel=0.2, abs=0.03)


def test_a_torn_recording_is_indexed_once_and_cached(
    recorded: tuple[Path, dict[str, list[float]]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = recorded
    torn = tmp_path / "torn.pyro"
    data = path.read_bytes()
    index_at = read_index_frame(path).covers  # type: ignore[union-attr]
    torn.write_bytes(data[: index_at - 9])  # the index is gone and the last frame is cut mid-payload
    assert read_index_frame(torn) is None
    full, fast = _summaries(torn)
    assert any("torn tail" in n for n in fast["notices"])
    _same(full, fast)
    cached = list(cache_home().glob("*.pyroidx"))
    assert len(cached) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["torn.pyro"]  # nothing written beside the file

    def must_not_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cached index was not used")

    monkeypatch.setattr(recording_index, "build_index", must_not_build)
    assert load_index(torn) is not None
    _same(*_summaries(torn))


def test_a_stale_cache_is_not_used(recorded: tuple[Path, dict[str, list[float]]], tmp_path: Path) -> None:
    path, _ = recorded
    grown = tmp_path / "grown.pyro"
    index_at = read_index_frame(path).covers  # type: ignore[union-attr]
    grown.write_bytes(path.read_bytes()[:index_at])
    first = load_index(grown)
    assert first is not None
    with open(grown, "ab") as fh:  # a follower's file grows: more samples of an existing stack
        stack = int(read_recording(grown)[0].samples["stack"][-1])
        fh.write(wire.samples_frame([99.0, 99.01], [0, 0], [stack, stack], [-1, -1], [0.01, 0.01], [-1.0, -1.0]))
    second = load_index(grown)
    assert second is not None and second.samples == first.samples + 2


def test_a_read_only_directory_gets_no_cache_file(recorded: tuple[Path, dict[str, list[float]]], tmp_path: Path) -> None:
    path, _ = recorded
    ro = tmp_path / "ro"
    ro.mkdir()
    torn = ro / "r.pyro"
    index_at = read_index_frame(path).covers  # type: ignore[union-attr]
    torn.write_bytes(path.read_bytes()[:index_at])
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        full, fast = _summaries(torn)
        _same(full, fast)
        assert [p.name for p in ro.iterdir()] == ["r.pyro"]
    finally:
        ro.chmod(stat.S_IRWXU)


def test_a_damaged_index_is_ignored_and_rebuilt(generated: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pyro"
    data = bytearray(generated.read_bytes())
    data[-40] ^= 0x10  # inside the index's payload: its checksum fails
    bad.write_bytes(bytes(data))
    assert read_index_frame(bad) is None
    full, fast = _summaries(bad)
    assert any("checksum" in n for n in fast["notices"])
    _same(full, fast)


def test_an_index_that_does_not_cover_everything_before_it_is_not_trusted(generated: Path, tmp_path: Path) -> None:
    index = read_index_frame(generated)
    assert index is not None
    data = generated.read_bytes()
    extra = wire.json_frame(wire.NOTICE, {"t": 1.0, "level": "info", "message": "written after the index"})
    moved = tmp_path / "moved.pyro"  # a frame slipped in before the index: its `covers` no longer matches
    moved.write_bytes(data[: index.covers] + extra + data[index.covers :])
    assert read_index_frame(moved) is None
    full, fast = _summaries(moved)
    assert "written after the index" in fast["notices"]
    _same(full, fast)


def test_an_empty_recording_is_indexed(tmp_path: Path) -> None:
    path = tmp_path / "empty.pyro"
    path.write_bytes(wire.file_header() + wire.json_frame(wire.META, {"pid": 1}))
    full, fast = _summaries(path)
    assert fast["samples"] == 0
    _same(full, fast)


# ---------------------------------------------------------------- the previous release's reader
def _previous_source(path: str) -> str:
    try:
        shown = subprocess.run(["git", "-C", str(ROOT), "show", f"{PREVIOUS_RELEASE}:{path}"],
                               capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"git is not available: {exc}")
    if shown.returncode != 0:
        pytest.skip(f"commit {PREVIOUS_RELEASE} is not in this checkout's history")
    return shown.stdout


def _load_as(name: str, source: str, tmp_path: Path) -> types.ModuleType:
    file = tmp_path / f"{name}.py"
    file.write_text(source)
    spec = importlib.util.spec_from_file_location(name, file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _previous_reader(tmp_path: Path) -> types.ModuleType:
    """core/formats/recording.py and the wire module it knew, as main had them before the index
    (run against today's model: only the reader's view of the stream matters here)."""
    _load_as("previous_wire", _previous_source("core/agent/wire.py"), tmp_path)
    source = _previous_source("core/formats/recording.py")
    assert "from pyrometer.core.agent import wire\n" in source
    source = source.replace("from pyrometer.core.agent import wire\n", "import previous_wire as wire\n")
    return _load_as("previous_recording", source, tmp_path)


def test_the_previous_reader_opens_a_recording_with_an_index(generated: Path, tmp_path: Path) -> None:
    previous = _previous_reader(tmp_path)
    old, report = previous.read_recording(generated)
    assert report.clean and report.skipped_unknown == 1  # the INDEX frame, skipped as unknown
    new, _ = read_recording(generated)
    assert old.sample_count == new.sample_count == 40_000
    for name in ("time", "thread", "stack", "weight", "cpu"):
        assert np.array_equal(old.samples[name], new.samples[name])
    assert np.array_equal(old.lag["lag"], new.lag["lag"])
    assert len(old.tasks) == len(new.tasks) and len(old.blocking) == len(new.blocking)


def test_old_recordings_without_an_index_still_open_and_get_one(tmp_path: Path) -> None:
    """A recording as the previous release wrote it (no index, JSON task rows of agents before 0.2)."""
    path = tmp_path / "old.pyro"
    frames = [
        wire.json_frame(wire.META, {"pid": 3, "agent_version": "0.1", "unit": "seconds"}),
        wire.frames_frame([(0, "a.py", 2, "main", 1), (1, "a.py", 9, "work", 8)]),
        wire.stacks_frame(0, [-1, 0], [0, 1]),
        wire.json_frame(wire.THREADS, [[0, "MainThread", 11]]),
        wire.json_frame(wire.TASKS_CREATED, [{"id": 1, "parent": None, "name": "t1", "coro": "main", "loop": 0, "t": 0.1}]),
        wire.samples_frame([0.01 * k for k in range(1, 51)], [0] * 50, [k % 2 for k in range(50)], [1] * 50,
                           [0.01] * 50, [0.009] * 50),
        wire.json_frame(wire.TASKS_FINISHED, [{"id": 1, "t": 0.4, "state": "done", "exc": None}]),
        wire.json_frame(wire.END, {"t": 0.6, "exit_status": 0, "reason": "exit"}),
    ]
    path.write_bytes(wire.file_header() + b"".join(frames))
    full, fast = _summaries(path)
    assert fast["samples"] == 50 and fast["tasks"]["created"] == 1
    _same(full, fast)


def test_a_frame_with_an_undefined_stack_loses_only_that_frame(tmp_path: Path) -> None:
    path = tmp_path / "undef.pyro"
    frames = [
        wire.frames_frame([(0, "a.py", 2, "main", 1)]),
        wire.stacks_frame(0, [-1], [0]),
        wire.samples_frame([0.1, 0.2], [0, 0], [0, 0], [-1, -1], [0.1, 0.1], [-1.0, -1.0]),
        wire.samples_frame([0.3], [0], [7], [-1], [0.1], [-1.0]),  # stack 7 was never defined
        wire.samples_frame([0.4], [0], [0], [-1], [0.1], [-1.0]),
    ]
    path.write_bytes(wire.file_header() + b"".join(frames))
    profile, report = read_recording(path)
    assert profile.samples["time"].tolist() == [0.1, 0.2, 0.4]
    assert report.dropped_bytes == len(frames[3])
    assert "undefined stack" in report.problems[0]
    full, fast = _summaries(path)
    _same(full, fast)


def test_a_recording_copied_elsewhere_keeps_using_its_own_index(generated: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.pyro"
    shutil.copy(generated, copy)
    os.utime(copy, (1, 1))
    index = load_index(copy, build=False)
    assert index is not None and index.samples == 40_000
    assert not cache_home().exists() or not list(cache_home().glob("*.pyroidx"))


def test_a_full_read_reserves_exactly_the_rows_the_index_counted(generated: Path, tmp_path: Path) -> None:
    profile, report = read_recording(generated)
    assert report.clean
    assert len(profile.samples) == 40_000 and profile.samples.capacity <= 40_000 + 1024
    assert profile.lag.capacity <= len(profile.lag) + 1024
    torn = tmp_path / "torn.pyro"  # without an index: room for what the file could hold, filled in place
    torn.write_bytes(generated.read_bytes()[: read_index_frame(generated).covers])  # type: ignore[union-attr]
    again, _ = read_recording(torn)
    assert np.array_equal(again.samples["time"], profile.samples["time"])
    assert np.array_equal(again.samples["cpu"], profile.samples["cpu"])
    assert np.array_equal(again.task_spans["end"], profile.task_spans["end"])


def test_whole_chunks_of_a_range_sum_like_their_rows(generated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pyrometer.core.analysis.aggregate import stack_sums
    from pyrometer.core.analysis.selection import Selection

    monkeypatch.setattr(recording_index, "CHUNK_ROWS", 6_000)
    index = build_index(generated)
    profile, _ = read_recording(generated)
    a = index.arrays
    t0, t1 = float(a["chunk_t0"][2]), float(a["chunk_t1"][4]) + 1e-9
    inside = index.chunks_within(t0, t1)
    assert (inside.start, inside.stop) == (2, 5)
    weight, count = index.stack_sums(frozenset([1]), profile.stack_count, inside)
    rows = slice(int(a["chunk_row"][2]), int(a["chunk_row"][5]))
    thread = profile.samples["thread"][rows] == 1
    shifted = profile.samples["stack"][rows][thread].astype(np.intp) + 1
    assert count.tolist() == np.bincount(shifted, minlength=profile.stack_count + 1).tolist()
    assert np.allclose(weight, np.bincount(shifted, weights=profile.samples["weight"][rows][thread], minlength=profile.stack_count + 1))
    whole_w, whole_c = index.stack_sums(None, profile.stack_count, slice(0, index.chunks))
    full_w, full_c = stack_sums(profile, Selection())
    assert whole_c.tolist() == full_c.tolist() and np.allclose(whole_w, full_w)


def test_samples_out_of_time_order_are_left_to_a_full_read(tmp_path: Path) -> None:
    """A full read sorts them (looks_sampled reads the first weights in time order): the index steps aside."""
    path = tmp_path / "unsorted.pyro"
    frames = [
        wire.frames_frame([(0, "a.py", 2, "main", 1)]),
        wire.stacks_frame(0, [-1], [0]),
        wire.samples_frame([0.5, 0.6], [0, 0], [0, 0], [-1, -1], [0.1, 0.1], [-1.0, -1.0]),
        wire.samples_frame([0.1, 0.2], [1, 1], [0, 0], [-1, -1], [0.1, 0.1], [-1.0, -1.0]),
    ]
    path.write_bytes(wire.file_header() + b"".join(frames))
    index = load_index(path)
    assert index is not None and not index.time_sorted
    assert open_for_stats(path) is None
