"""`stats --from/--to` of an indexed recording answers from the index plus its edge chunks (issue 15),
printing what a full read prints, byte for byte.

The full read is the truth here because its clipping of spans at a range's edges is tested against
workloads elsewhere (test_selection_clip*, test_cli_stats); this checks that the index path, which
reads a few chunks instead of every sample, gives exactly its output for many ranges: edges on
chunk boundaries and one sample span off them, ranges within a chunk, open ends, ranges past the
end, a torn recording without an index, an index written before ranges, and a real recording.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scale_recordings import generate_recording
from spin_recording import record_spinners

from pyrometer.core.cli.summary import build_summary, render_text
from pyrometer.core.formats import index_range, recording_index
from pyrometer.core.formats.recording import read_recording
from pyrometer.core.formats.recording_index import RecordingIndex, open_for_stats, read_index_frame

CHUNK = 4_000  # samples per chunk: 20,000 samples make 5+ chunks


@pytest.fixture(scope="module")
def chunked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """20,000 samples (4 threads, frames of 300, lag, tasks, stalls) in chunks of ~4,000, with its index."""
    path = tmp_path_factory.mktemp("range") / "gen.pyro"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(recording_index, "CHUNK_ROWS", CHUNK)
        generate_recording(path, 20_000)
        yield path


_READ: dict[Path, Any] = {}


def _full(path: Path, t0: float | None, t1: float | None, thread: int | None = None, lists: bool = True) -> dict[str, Any]:
    if path not in _READ:
        profile, report = read_recording(path)
        if report.problems:
            profile.notices.append({"level": "warning", "message": f"{path}: " + "; ".join(report.problems)})
        profile.finish()
        _READ[path] = profile
    profile = _READ[path]
    return build_summary(profile, source_path=str(path), top=None, t_from=t0, t_to=t1, thread=thread, lists=lists)


def _fast(path: Path, t0: float | None, t1: float | None, lists: bool = True, thread: int | None = None) -> tuple[dict[str, Any], int]:
    """The summary from the index, and how many chunks' samples it read (`lists` False: what the text
    form builds, with the task counts taken from the index's task batches as columns)."""
    opened = open_for_stats(path, t_from=t0, t_to=t1, task_rows=lists)
    assert opened is not None
    shell, indexed = opened
    assert indexed.range is not None
    summary = build_summary(shell, source_path=str(path), top=None, t_from=t0, t_to=t1, indexed=indexed, lists=lists,
                            thread=thread)
    return summary, indexed.range.read.read_chunks


def _same(full: dict[str, Any], fast: dict[str, Any], what: object) -> None:
    assert json.dumps(fast, sort_keys=True) == json.dumps(full, sort_keys=True), what
    assert render_text(fast) == render_text(full), what


def test_many_ranges_print_what_a_full_read_prints_and_read_at_most_the_edge_chunks(chunked: Path) -> None:
    index = read_index_frame(chunked)
    assert index is not None and index.ranges and index.chunks >= 5
    a = index.arrays
    reach = index.weight_max
    profile, _ = read_recording(chunked)
    end = profile.duration()
    k = index.chunks // 2
    bounds = [float(a["chunk_t0"][k]), float(a["chunk_t1"][k])]  # a chunk's first and last sample, exactly
    points: list[float | None] = [None, 0.0, 0.004, end - 0.001, *bounds, bounds[0] + reach, bounds[1] + reach / 2]
    seen = 0
    for t0, t1 in itertools.product(points, points):
        if (t0 is None and t1 is None) or (t0 is not None and t1 is not None and t1 <= t0) or t1 == 0.0:
            continue  # (--to 0 is outside the run: the command test has it)
        fast, read = _fast(chunked, t0, t1)
        _same(_full(chunked, t0, t1), fast, (t0, t1))
        assert read <= 4, (t0, t1)  # the chunks at the two edges (and a neighbour each when an edge is near a boundary)
        if seen % 4 == 0:
            lean, _ = _fast(chunked, t0, t1, lists=False)
            _same(_full(chunked, t0, t1, lists=False), lean, ("text form", t0, t1))
        if seen % 4 == 1:  # one thread's range: its rows wholly inside by their weights, its edges clipped
            thread = seen % 3
            one, _ = _fast(chunked, t0, t1, thread=thread)
            _same(_full(chunked, t0, t1, thread=thread), one, ("thread", thread, t0, t1))
        seen += 1
    assert seen > 25
    # a range in the middle reads the two chunks it cuts and sums the rest from the index
    t0, t1 = float(a["chunk_t0"][1]) + 1.0, float(a["chunk_t1"][index.chunks - 2]) - 1.0
    fast, read = _fast(chunked, t0, t1)
    assert read == 2 and fast["samples"] > 2 * CHUNK
    _same(_full(chunked, t0, t1), fast, (t0, t1))


def test_the_command_prints_the_same_text_and_json_with_and_without_the_index(
    chunked: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyrometer.cli import main

    index = read_index_frame(chunked)
    assert index is not None
    edge = f"{float(index.arrays['chunk_t1'][1]):.17g}"  # exactly a chunk's last sample
    runs = [["--to", edge], ["--from", edge, "--to", "60"], ["--from", "30"], ["--from", "1", "--to", "2", "--thread", "1"],
            ["--from", "2000"], ["--to", "-1"]]
    reads: list[int] = []
    real = index_range.read_range

    def counted(*args: Any) -> index_range.RangeRead:
        got = real(*args)
        reads.append(got.read_chunks)
        return got

    monkeypatch.setattr(index_range, "read_range", counted)
    outputs = []
    for extra in runs:
        for form in ([], ["--json"]):
            code = main(["stats", str(chunked), "--top", "0", *extra, *form])
            out, err = capsys.readouterr()
            outputs.append((code, out, err))
    assert len(reads) == 8  # the first four ranges, text and JSON (a range outside the run reads nothing)

    def no_index(*args: object, **kwargs: object) -> None:
        return None

    monkeypatch.setattr(recording_index, "open_for_stats", no_index)
    for (code, out, err), (extra, form) in zip(outputs, itertools.product(runs, ([], ["--json"])), strict=True):
        assert main(["stats", str(chunked), "--top", "0", *extra, *form]) == code
        assert capsys.readouterr() == (out, err), extra
    assert outputs[-1][0] != 0 and "outside the profile" in outputs[-1][2]


def test_a_torn_recording_without_an_index_gets_one_that_answers_ranges(chunked: Path, tmp_path: Path) -> None:
    index = read_index_frame(chunked)
    assert index is not None
    torn = tmp_path / "torn.pyro"
    torn.write_bytes(chunked.read_bytes()[: index.covers - 5])  # no index, and the last frame cut short
    assert read_index_frame(torn) is None
    for t0, t1 in ((None, 20.0), (10.0, 40.0), (25.0, None)):
        fast, _ = _fast(torn, t0, t1)
        assert any("torn tail" in n for n in fast["notices"])
        _same(_full(torn, t0, t1), fast, (t0, t1))


def _before_ranges(index: RecordingIndex) -> RecordingIndex:
    """The index as main wrote it before ranges: no range arrays, no weight_max."""
    old = RecordingIndex.decode(index.encode())
    for name in ("chunk_lag_t0", "chunk_lag_t1", "lag_frame_offset"):
        del old.arrays[name]
    old.weight_max = float("nan")
    old.exact_weights = None
    old = RecordingIndex.decode(old.encode())
    assert not old.ranges
    return old


def test_an_index_written_before_ranges_gets_them_from_one_walk_not_a_rebuild(
    chunked: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = read_index_frame(chunked)
    assert index is not None
    old = _before_ranges(index)
    assert index_range.add_range_fields(chunked, old) and old.ranges
    assert old.weight_max == index.weight_max  # the exact largest weight: rows are split where a full read splits them
    assert old.exact_weights is False and index.exact_weights is False  # the agent's float32 weights
    for name in ("chunk_lag_t0", "chunk_lag_t1", "lag_frame_offset"):
        assert np.array_equal(old.arrays[name], index.arrays[name]), name
    copy = tmp_path / "old.pyro"
    copy.write_bytes(chunked.read_bytes())
    built: list[int] = []
    walks: list[int] = []
    real_walk = index_range.add_range_fields
    monkeypatch.setattr(recording_index, "read_index_frame", lambda path: _before_ranges(index))
    monkeypatch.setattr(recording_index, "build_index", lambda *a, **k: built.append(1))
    monkeypatch.setattr(index_range, "add_range_fields", lambda *a: walks.append(1) or real_walk(*a))
    for _ in range(2):
        fast, _ = _fast(copy, 10.0, 40.0)
        _same(_full(copy, 10.0, 40.0), fast, "old index")
    assert built == [] and walks == [1]  # then cached


def test_an_old_index_of_a_damaged_recording_is_built_again_once(chunked: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index = read_index_frame(chunked)
    assert index is not None
    old = _before_ranges(index)
    old.report = {**old.report, "problems": ["checksum mismatch in frame at byte 123; skipped 10 damaged bytes"]}
    assert not index_range.add_range_fields(chunked, old)  # what it summed may not be what the frames say
    copy = tmp_path / "old.pyro"
    copy.write_bytes(chunked.read_bytes())
    built: list[int] = []
    real = recording_index.build_index
    monkeypatch.setattr(recording_index, "read_index_frame", lambda path: RecordingIndex.decode(old.encode()))
    monkeypatch.setattr(recording_index, "build_index", lambda *a, **k: built.append(1) or real(*a, **k))
    for _ in range(2):
        fast, _ = _fast(copy, 10.0, 40.0)
        _same(_full(copy, 10.0, 40.0), fast, "old index")
    assert built == [1]


def test_a_real_recording_gives_the_same_ranges(tmp_path: Path) -> None:
    path, took = record_spinners(tmp_path)
    index = read_index_frame(path)
    assert index is not None and index.ranges
    end = _full(path, None, None)["duration_s"]
    threads = [t["id"] for t in _full(path, None, None)["threads"]]
    for t0, t1 in ((None, end / 3), (end / 4, end * 0.75), (end / 2, None), (0.0, end)):
        fast, _ = _fast(path, t0, t1)
        _same(_full(path, t0, t1), fast, (t0, t1))
        for thread in threads:  # real times and weights: an inner sample clipped is t - (t - w), not w
            one, _ = _fast(path, t0, t1, thread=thread)
            _same(_full(path, t0, t1, thread=thread), one, (thread, t0, t1))
    whole, _ = _fast(path, 0.0, end + 1.0)
    spin = next(f for f in whole["functions"] if f["name"] == "spin")  # and the sums are what the threads measured
    assert spin["self"] == pytest.approx(took["main"][1] + took["worker"][1], rel=0.2, abs=0.03)


def test_float64_weights_are_left_to_a_full_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An import saved as .pyro keeps float64 weights: summed per chunk, in another order, they would differ
    from a full read in the last digits, so its ranges are read whole (and print what a full read prints)."""
    from pyrometer.cli import main
    from pyrometer.core.formats.recording import write_profile
    from pyrometer.core.model import Profile

    p = Profile()
    stacks = [p.intern_stack(-1, p.intern_frame(f"f{i}", "a.py", i + 1, i + 1)) for i in range(3)]
    rng = np.random.default_rng(5)
    n = 3000
    p.add_samples(40000.0 + np.cumsum(rng.uniform(0.002, 0.004, n)), (np.arange(n) % 2).astype(np.int32),
                  np.asarray(stacks, np.int32)[rng.integers(0, 3, n)], None, rng.uniform(0.004, 0.009, n))
    p.finish()
    path = tmp_path / "exact.pyro"
    write_profile(p, path)
    index = recording_index.load_index(path)
    assert index is not None and index.exact_weights is True
    assert open_for_stats(path, t_from=40002.0, t_to=40006.0) is None
    old = _before_ranges(index)
    assert index_range.add_range_fields(path, old) and old.exact_weights is True  # the walk sees them too
    assert main(["stats", str(path), "--from", "40002", "--to", "40006", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["samples"] > 1000 and data["selection"]["to_s"] == 40006.0
