"""A huge recording's columns live in files of their own and leave memory once read (issue 15).

The mechanism, not a memory figure: the columns a read behind an index fills
are file-backed maps (columns.ColumnFile), released pages are no longer
resident in this process, and the rows read back are exactly a plain read's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from resident_memory import resident_kb
from scale_recordings import generate_recording

from pyrometer.core import columns
from pyrometer.core.columns import is_spilled, release_rows, reserve_column, spill_column
from pyrometer.core.formats import recording
from pyrometer.core.formats.index_preview import open_preview, read_columns
from pyrometer.core.formats.prefetch import warm
from pyrometer.core.formats.recording import read_recording
from pyrometer.core.model import Profile


def test_released_rows_leave_memory_and_read_back_the_same() -> None:
    col = spill_column(1 << 22, np.dtype(np.int32))  # 16 MB
    assert col is not None and is_spilled(col)
    col[:] = np.arange(len(col), dtype=np.int32)
    assert resident_kb(col) >= 15 * 1024
    release_rows(col, 0, len(col) // 2)
    assert resident_kb(col) <= 9 * 1024  # the first half left (whole pages only)
    release_rows(col)
    assert resident_kb(col) < 1024
    assert np.array_equal(col, np.arange(len(col), dtype=np.int32))  # the rows come back from the file


def test_anonymous_columns_are_never_released() -> None:
    """Releasing anonymous (shared) memory would only hide it from the figure: release_rows leaves it alone."""
    col = reserve_column(1 << 22, np.dtype(np.int32))
    assert not is_spilled(col)
    col[:] = 7
    before = resident_kb(col)
    release_rows(col)
    assert resident_kb(col) == before and int(col[-1]) == 7


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spill") / "gen.pyro"
    generate_recording(path, 40_000)
    return path


def _same_columns(a: Profile, b: Profile) -> None:
    for name in ("samples", "lag", "task_spans"):
        x, y = getattr(a, name), getattr(b, name)
        assert len(x) == len(y) and len(x), name
        for col in x.names:
            assert np.array_equal(x[col], y[col]), (name, col)


def test_a_read_behind_an_index_spills_its_columns_and_reads_the_same_rows(
    generated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYROMETER_SPILL", "0")
    plain, report = read_recording(generated)
    assert not report.problems and not is_spilled(plain.samples["time"])
    monkeypatch.delenv("PYROMETER_SPILL")
    monkeypatch.setattr(columns, "SPILL_MIN_BYTES", 4096)  # the test's small columns spill as a day's would
    monkeypatch.setattr(recording, "COMMIT_ROWS", 5000)  # and are committed (validated, released) in steps
    spilled, report = read_recording(generated)
    assert not report.problems
    for table in (spilled.samples, spilled.lag):
        for name in table.names:
            assert is_spilled(table[name]), name
    _same_columns(plain, spilled)
    assert spilled.samples_sorted == plain.samples_sorted and spilled.threads.keys() == plain.threads.keys()
    preview = open_preview(generated, min_samples=1)
    assert preview is not None
    behind = warm(read_columns(generated, preview))
    assert is_spilled(behind.samples["stack"]) and is_spilled(behind.lag["time"])
    assert resident_kb(behind.samples["time"]) < 64  # warming read every row, then let them go
    _same_columns(plain, behind)


def test_a_damaged_frame_in_a_later_step_is_dropped_as_in_one_step(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Committing in steps keeps the reader's damage handling: the same rows survive a flipped byte."""
    data = bytearray(generated.read_bytes())
    data[len(data) * 2 // 3] ^= 0xFF
    bad = tmp_path / "bad.pyro"
    bad.write_bytes(bytes(data))
    monkeypatch.setenv("PYROMETER_SPILL", "0")
    one, one_report = read_recording(bad)
    monkeypatch.delenv("PYROMETER_SPILL")
    monkeypatch.setattr(columns, "SPILL_MIN_BYTES", 4096)
    monkeypatch.setattr(recording, "COMMIT_ROWS", 3000)
    steps, steps_report = read_recording(bad)
    assert one_report.problems and steps_report.problems == one_report.problems
    _same_columns(one, steps)


def test_a_full_disk_keeps_the_columns_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks are allocated up front: a disk that cannot hold the column says so at once (a sparse file
    would say it later, as SIGBUS on a write into the map), and the column stays in anonymous memory."""

    def full(fd: int, offset: int, length: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(columns.os, "posix_fallocate", full)
    assert spill_column(1 << 20, np.dtype(np.float64)) is None
    col = reserve_column(1 << 22, np.dtype(np.float64), spill=True)
    assert not is_spilled(col) and len(col) == 1 << 22
    col[:] = 1.5
    assert float(col.sum()) == 1.5 * (1 << 22)
    assert not list(columns.spill_home().glob("column-*"))  # nothing left behind
