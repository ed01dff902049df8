"""A live table reserved up front grows without copies and without holding its rows twice (issue 15)."""

from __future__ import annotations

import resource

import numpy as np

from pyrometer.core.columns import ColumnTable
from pyrometer.core.model import SAMPLE_DTYPES, Profile


def test_reserved_rows_are_appended_in_place_and_keep_what_was_there() -> None:
    table = ColumnTable({"t": np.float64, "k": np.int32}, capacity=4)
    table.extend(t=[1.0, 2.0], k=[1, 2])
    table.reserve(1 << 20)
    storage = table.storage("t")
    assert table.capacity == 1 << 20 and table["t"].tolist() == [1.0, 2.0] and table["k"].tolist() == [1, 2]
    for i in range(100):
        table.extend(t=np.full(1000, float(i)), k=np.full(1000, i, np.int32))
    assert table.storage("t") is storage  # never moved, so never copied
    assert len(table) == 100_002 and table["t"][-1] == 99.0 and table["k"][2] == 0
    table.reserve(10)  # less than it has: nothing changes
    assert table.storage("t") is storage
    table.extend(t=np.zeros(1 << 20), k=np.zeros(1 << 20, np.int32))  # past the reservation: doubling, as before
    assert len(table) == 100_002 + (1 << 20) and table["t"][1] == 2.0


def test_reserving_a_day_of_samples_costs_address_space_not_memory() -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    p = Profile()
    p.samples.reserve(1 << 26)  # what a live session reserves: 1.9 GB of address space
    assert p.samples.capacity == 1 << 26
    row = sum(np.dtype(dt).itemsize for dt in SAMPLE_DTYPES.values())
    p.add_samples(np.arange(1000, dtype=np.float64), 0, np.zeros(1000, np.int32) - 1, None, 0.01, -1.0)
    grew_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grew_kb * 1024 < (1 << 26) * row // 20  # far less than a twentieth of the reservation was touched
