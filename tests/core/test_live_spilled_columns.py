"""A live session's columns grow in files of their own and leave memory behind what just arrived (issue 15).

The mechanism with thresholds small enough for a quick test: a table reserved
with `spill=True` holds exactly the rows a table in memory holds, however the
batches fall on its block allocations, its release points and its growth past
the reservation; a full disk or PYROMETER_SPILL=0 keeps every row in memory.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from resident_memory import resident_kb

from pyrometer.core import columns
from pyrometer.core.columns import ColumnTable, is_spilled
from pyrometer.core.model import LAG_DTYPES, SAMPLE_DTYPES

PAGE_ROWS = 4096 // 8  # float64 rows per page


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]) -> None:
    """Spill thresholds of a few pages, the files under the test's own directory."""
    monkeypatch.setenv("PYROMETER_HOME", str(tmp_path))
    monkeypatch.delenv("PYROMETER_SPILL", raising=False)
    monkeypatch.setattr(columns, "SPILL_MIN_BYTES", 4096)
    monkeypatch.setattr(columns, "ALLOCATE_MIN_BYTES", 3 * 4096)  # blocks come in steps that batches straddle


def _batches(seed: int, rows: int) -> list[dict[str, np.ndarray]]:
    """Sample batches of uneven sizes with every column's values distinct (a misplaced row shows)."""
    rng = np.random.default_rng(seed)
    out = []
    done = 0
    while done < rows:
        k = int(rng.integers(1, 3000))
        idx = np.arange(done, done + k)
        out.append({
            "time": idx * 0.01 + rng.random(k) * 1e-3,
            "thread": (idx % 7).astype(np.int32),
            "stack": rng.integers(0, 1 << 20, k).astype(np.int32),
            "task": (idx // 3).astype(np.int32) - 1,
            "weight": rng.random(k).astype(np.float32),
            "cpu": rng.random(k).astype(np.float32) - 0.1,
        })
        done += k
    return out


def _fill(table: ColumnTable, batches: list[dict[str, np.ndarray]]) -> None:
    for batch in batches:
        table.extend(**batch)


def _same(a: ColumnTable, b: ColumnTable) -> None:
    assert len(a) == len(b)
    for name in a.names:
        assert a[name].dtype == b[name].dtype and np.array_equal(a[name], b[name]), name


def test_a_growing_spilled_table_holds_exactly_the_rows_of_one_in_memory(small: None) -> None:
    batches = _batches(1, 150_000)
    plain = ColumnTable(SAMPLE_DTYPES, capacity=4096)
    _fill(plain, batches)
    live = ColumnTable(SAMPLE_DTYPES, capacity=4096)
    live.extend(**batches[0])  # rows before the reservation are carried over
    live.reserve(40_000, spill=True, keep_rows=5000)  # reserved for less than comes: it grows past it
    files = {name: columns._column_file(live.storage(name)) for name in live.names}
    assert all(f is not None and f.allocated < len(f) for f in files.values())  # blocks only for the rows so far
    _fill(live, batches[1:])
    for name in live.names:
        assert is_spilled(live.storage(name)), name
        grown = columns._column_file(live.storage(name))
        assert grown is not None and grown is not files[name]  # mapped again, larger ...
        assert os.fstat(grown.grow_fd).st_ino == os.fstat(files[name].grow_fd).st_ino  # ... from the same file: no copy
    assert live.capacity >= len(plain) > 40_000
    # what stays in memory is the tail behind the last rows, not the 1.2 MB of times
    assert resident_kb(live["time"]) * 1024 < 3 * 5000 * 8 + 4 * 4096
    _same(plain, live)  # reading them all back gives exactly the rows kept in memory


def test_lag_probes_grow_the_same_way_and_a_cut_table_regrows(small: None) -> None:
    rng = np.random.default_rng(2)
    plain = ColumnTable(LAG_DTYPES)
    live = ColumnTable(LAG_DTYPES)
    live.reserve(1 << 14, spill=True, keep_rows=700)
    for table in (plain, live):
        for i in range(60):
            k = 500 + 37 * i
            table.extend(time=np.arange(k) + i * 1e4, loop=np.full(k, i % 3, np.int32), lag=np.full(k, i, np.float32))
    _same(plain, live)
    assert is_spilled(live.storage("time"))
    more = {"time": rng.random(20_000), "loop": np.arange(20_000, dtype=np.int32), "lag": rng.random(20_000).astype(np.float32)}
    for table in (plain, live):
        table.truncate(1000)
        table.extend(**more)
    _same(plain, live)


@pytest.mark.parametrize("call", ["posix_fallocate", "pwrite"])
def test_a_full_disk_moves_the_columns_into_memory_and_loses_nothing(
    small: None, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    """The disk fills after a few block allocations (or writes): the next rows cannot go into the files (SIGBUS
    would be the answer of a sparse file), so every row so far moves to memory and the table continues there."""
    real = getattr(os, call)
    calls = [0]
    last = 9 if call == "posix_fallocate" else 153  # in the middle of a batch: its first columns were written

    def fills_up(*args: object) -> object:
        calls[0] += 1
        if calls[0] > last:
            raise OSError(28, "No space left on device")
        return real(*args)

    monkeypatch.setattr(columns.os, call, fills_up)
    batches = _batches(3, 120_000)
    plain = ColumnTable(SAMPLE_DTYPES)
    _fill(plain, batches)
    live = ColumnTable(SAMPLE_DTYPES)
    live.reserve(1 << 17, spill=True, keep_rows=4000)
    spilled_at: list[bool] = []
    for batch in batches:
        live.extend(**batch)
        spilled_at.append(is_spilled(live.storage("time")))
    assert spilled_at[0] and not spilled_at[-1]  # it started in files and ended in memory
    _same(plain, live)
    assert not list(columns.spill_home().glob("column-*"))  # unlinked files only


def test_spill_off_keeps_a_live_table_in_memory(small: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYROMETER_SPILL", "0")
    live = ColumnTable(SAMPLE_DTYPES)
    live.reserve(1 << 16, spill=True)
    batches = _batches(4, 20_000)
    _fill(live, batches)
    assert not any(is_spilled(live.storage(n)) for n in live.names)
    plain = ColumnTable(SAMPLE_DTYPES)
    _fill(plain, batches)
    _same(plain, live)


def test_noting_new_rows_threads_lets_those_rows_go_not_the_first_ones(small: None) -> None:
    """Profile.note_sample_threads scans the rows since its last call and lets them go (a spilled column's
    pages): the rows it scanned, counted from the table's first row, not from the first row it scanned."""
    from pyrometer.core.model import Profile

    p = Profile()
    p.samples.reserve(1 << 17, spill=True, keep_rows=1 << 30)  # the table itself lets nothing go here
    p.intern_stack_path([p.intern_frame("f", "f.py", 1)])
    rows = 40_000
    p.add_samples(np.arange(rows) * 0.01, np.zeros(rows, np.int32), np.zeros(rows, np.int32))
    p.note_sample_threads()
    first = float(p.samples["time"].sum())  # maps the first batch's pages back
    before = resident_kb(p.samples["time"])
    assert before * 1024 >= rows * 8 - 8192
    p.add_samples(np.arange(rows, 2 * rows) * 0.01, np.ones(rows, np.int32), np.zeros(rows, np.int32))
    p.note_sample_threads()
    assert sorted(p.threads) == [0, 1]
    after = resident_kb(p.samples["time"])
    assert after * 1024 >= rows * 8 - 8192  # the first batch is still mapped ...
    assert after <= before + 8  # ... and the second, scanned, went (but for a page it shares with the first)
    assert float(p.samples["time"][:rows].sum()) == first
