"""A recording's first frame from its index (index_preview): the same numbers as a full read, and the truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scale_recordings import generate_recording
from spin_recording import record_spinners

from pyrometer.core.analysis import lod
from pyrometer.core.analysis.aggregate import warm_whole_sums
from pyrometer.core.analysis.calltree import call_tree
from pyrometer.core.analysis.flame import flame_layout
from pyrometer.core.analysis.functions import function_table
from pyrometer.core.analysis.lanes import build_lanes
from pyrometer.core.analysis.lod import (
    ActivityIndex,
    activity_boxes,
    activity_index,
    lag_curve,
    lag_index,
)
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.formats.index_preview import open_preview, read_columns, tasks_pending
from pyrometer.core.formats.recording import read_recording
from pyrometer.core.formats.tables import sample_total
from pyrometer.core.model import DetailPending, Profile


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40,000 samples in frames of ~300 (4 threads), lag, tasks, blocking; closed with its index."""
    path = tmp_path_factory.mktemp("gen") / "gen.pyro"
    generate_recording(path, 40_000)
    return path


def _full(path: Path) -> Profile:
    profile, report = read_recording(path)
    assert not report.problems
    profile.finish()
    return profile


def _rows(profile: Profile, sel: Selection | None) -> dict[str, tuple[float, float, int, int]]:
    """Function -> (self, total, samples, self samples), keyed by name and place (ids may differ)."""
    table = function_table(profile, sel)
    out = {}
    for i, f in enumerate(table.func.tolist()):
        key = f"{profile.func_name[f]} {profile.func_file[f]}:{profile.func_line[f]}"
        out[key] = (float(table.self_weight[i]), float(table.total_weight[i]), int(table.samples[i]), int(table.self_samples[i]))
    return out


def _same_rows(full: dict[str, tuple[float, float, int, int]], fast: dict[str, tuple[float, float, int, int]]) -> None:
    assert fast.keys() == full.keys()
    for key, (s, t, n, ns) in full.items():
        fs, ft, fn, fns = fast[key]
        assert (fn, fns) == (n, ns), key  # counts exactly
        # seconds summed in another order (per chunk, then chunks): equal to the last few bits
        assert fs == pytest.approx(s, rel=1e-9, abs=1e-12), key
        assert ft == pytest.approx(t, rel=1e-9, abs=1e-12), key


def test_the_preview_shows_what_a_full_read_shows_per_function_and_per_thread(generated: Path) -> None:
    fast = open_preview(generated, min_samples=1)
    assert fast is not None and fast.summed is not None and not len(fast.samples)
    full = _full(generated)
    assert fast.sample_count == full.sample_count == sample_total(full) == sample_total(fast)
    assert fast.duration() == full.duration()
    assert sorted(fast.threads) == sorted(full.threads)
    assert fast.func_name == full.func_name and fast.stack_count == full.stack_count
    for tid in [None, *sorted(full.threads)]:
        sel = None if tid is None else Selection(threads=frozenset([tid]))
        _same_rows(_rows(full, sel), _rows(fast, sel))
        a, b = call_tree(full, sel), call_tree(fast, sel)
        assert np.array_equal(a.func, b.func) and np.array_equal(a.parent, b.parent)
        assert np.array_equal(a.count, b.count) and np.array_equal(a.self_count, b.self_count)
        np.testing.assert_allclose(b.total_weight, a.total_weight, rtol=1e-9, atol=1e-12)
        fa, fb = flame_layout(a, "left-heavy"), flame_layout(b, "left-heavy")
        assert len(fa) == len(fb)
    # per thread, the totals add up to the whole (no sample is in two threads or none)
    per_thread = sum(fast.summed.count(frozenset([t])) for t in fast.threads)
    assert per_thread == full.sample_count


def test_a_time_range_waits_for_the_samples(generated: Path) -> None:
    fast = open_preview(generated, min_samples=1)
    assert fast is not None
    with pytest.raises(DetailPending):
        function_table(fast, Selection(t0=0.0, t1=1.0))


def test_small_unindexed_or_other_files_get_no_preview(generated: Path, tmp_path: Path) -> None:
    assert open_preview(generated) is None  # 40k samples: a full read is quick
    other = tmp_path / "x.pyro"
    other.write_bytes(b"not a recording at all")
    assert open_preview(other, min_samples=1) is None
    torn = tmp_path / "torn.pyro"
    data = generated.read_bytes()
    torn.write_bytes(data[: len(data) // 2])  # no index frame at its end, none cached: no preview
    assert open_preview(torn, min_samples=1) is None


def test_the_preview_of_a_real_recording_tells_the_truth(tmp_path: Path) -> None:
    """`pyrometer record` of threads that measure their own spinning: the preview's `spin` is that time."""
    out, took = record_spinners(tmp_path)
    fast = open_preview(out, min_samples=1)
    assert fast is not None
    spinner = next(t.id for t in fast.threads.values() if t.name == "spinner")
    for sel, wall in ((None, took["main"][1] + took["worker"][1]), (Selection(threads=frozenset([spinner])), took["worker"][1])):
        table = function_table(fast, sel)
        row = next(i for i, f in enumerate(table.func.tolist()) if fast.func_name[f] == "spin")
        assert float(table.self_weight[row]) == pytest.approx(wall, rel=0.2, abs=0.03)
    _same_rows(_rows(_full(out), None), _rows(fast, None))


def _same_activity(a: ActivityIndex, b: ActivityIndex) -> None:
    assert (a.n, a.width, a.rows) == (b.n, b.width, b.rows)
    assert np.array_equal(a.count, b.count) and np.array_equal(a.on, b.on) and np.array_equal(a.max_depth, b.max_depth)
    assert a.gap == b.gap


def test_the_timeline_summaries_do_not_depend_on_how_the_samples_arrived(generated: Path) -> None:
    """A live feed, a full read and a recording's index give the activity and lag index the same batches or not."""
    full = _full(generated)
    whole = ActivityIndex().update(full)
    rng = np.random.default_rng(5)
    cuts = np.sort(rng.choice(np.arange(1, full.sample_count), 40, replace=False)).tolist()
    fed = ActivityIndex()
    for lo, hi in zip([0, *cuts], [*cuts, full.sample_count], strict=True):
        fed.add_rows(full, lo, hi)
    _same_activity(whole, fed)
    assert whole.count.sum() == full.sample_count


def test_the_preview_draws_the_timeline_and_lag_curve_of_a_full_read(generated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a huge session's whole view is drawn from the buckets (only a view of a few samples is exact):
    # here too, at 40,000 samples
    monkeypatch.setattr(lod, "EXACT_ROWS", 1000)
    fast = open_preview(generated, min_samples=1)
    assert fast is not None and fast.summed is not None and fast.summed.overview
    full = _full(generated)
    _same_activity(activity_index(full), activity_index(fast))
    a, b = lag_index(full), lag_index(fast)
    assert (a.n, a.width, a.sorted) == (b.n, b.width, b.sorted) and a.n == len(full.lag) > 0
    assert np.array_equal(a.low, b.low) and np.array_equal(a.high, b.high)
    span = full.duration()
    for tid in sorted(full.threads):  # the whole session at a few widths: per-pixel columns, the same boxes
        for pixels in (300, 1366):
            x, y = activity_boxes(full, tid, 0.0, span, pixels), activity_boxes(fast, tid, 0.0, span, pixels)
            assert np.array_equal(x.start, y.start) and np.array_equal(x.width, y.width) and np.array_equal(x.on, y.on)
    for pixels in (300, 1366):
        t_full, v_full = lag_curve(full, 0.0, span, pixels)
        t_fast, v_fast = lag_curve(fast, 0.0, span, pixels)
        assert len(t_full) and np.array_equal(t_full, t_fast) and np.array_equal(v_full, v_fast)


def test_reading_the_columns_behind_a_preview_gives_the_profile_a_full_read_gives(generated: Path) -> None:
    """The shell is shared with the preview, only the rows are read: the result is the whole recording."""
    fast = open_preview(generated, min_samples=1)
    assert fast is not None
    assert tasks_pending(fast) and not fast.tasks  # decoded after the first frame, which needs none of them
    got = read_columns(generated, fast)
    assert not tasks_pending(fast) and fast.tasks
    full = _full(generated)
    assert got.summed is None and got.tasks is fast.tasks and got.stacks is fast.stacks  # shared, not copied
    for name in ("samples", "lag", "task_spans", "awaits", "stacks", "frames"):
        a, b = getattr(full, name), getattr(got, name)
        assert len(a) == len(b), name
        for col in a.names:
            assert np.array_equal(a[col], b[col]), (name, col)
    assert len(full.samples) == 40_000 and len(full.task_spans) and len(full.lag)
    assert (got.func_name, got.func_file, got.func_line) == (full.func_name, full.func_file, full.func_line)
    assert got.tasks == full.tasks and got.blocking == full.blocking and got.threads == full.threads
    assert got.loops == full.loops and got.meta == full.meta and got.end == full.end and got.telemetry == full.telemetry
    assert got.output == full.output and got.notices == full.notices
    # the log of tasks names them in the same order of first appearance (the timeline packs task rows by it)
    assert list(dict.fromkeys(got.task_log)) == list(dict.fromkeys(full.task_log))
    _same_activity(activity_index(got), ActivityIndex().update(full))  # taken over from the preview, as computed
    assert activity_index(got) is activity_index(fast)
    a, b = build_lanes(full, None, view=(0.0, full.duration()), pixels=800), build_lanes(got, None, view=(0.0, got.duration()), pixels=800)
    for x, y in zip(a.arrays(), b.arrays(), strict=True):
        assert np.array_equal(x, y)


def test_warming_the_whole_sums_in_steps_changes_no_number(generated: Path) -> None:
    """The background warm-up sums in steps (the window stays responsive); the tree is the one-pass tree."""
    one, steps = _full(generated), _full(generated)
    warm_whole_sums(steps, step=3001)
    a, b = call_tree(one), call_tree(steps)
    assert np.array_equal(a.count, b.count) and np.array_equal(a.func, b.func)
    np.testing.assert_allclose(b.total_weight, a.total_weight, rtol=1e-12)
