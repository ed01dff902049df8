"""Lanes' lazy name sequences (box labels, a row's names up to a playhead, labels made per key) index and slice
as a list of the same names would: one NameView serves the three."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from pyrometer.core.analysis.lanes import LaneLabels, LazyLabels
from pyrometer.core.analysis.task_rows_at import Prefix


def _as_list(names: list[str]) -> list[Sequence[str]]:
    labels = LaneLabels()
    labels.append(names[:2], 2)
    labels.append(None, 3)  # (a thread lane: no labels, "" each)
    labels.append(names[2:], len(names) - 2)
    return [labels, Prefix([*names, "after"], len(names)), LazyLabels(np.arange(len(names)), names.__getitem__)]


@pytest.mark.parametrize("kind", range(3))
def test_names_index_and_slice_as_a_list(kind: int) -> None:
    names = ["a", "b", "c", "d"]
    seq = _as_list(names)[kind]
    want = ["a", "b", "", "", "", "c", "d"] if kind == 0 else names
    assert len(seq) == len(want) and list(seq) == want
    for i in (0, 1, -1, -len(want), len(want) - 1):
        assert seq[i] == want[i]
    for cut in (slice(None), slice(1, 3), slice(-2, None), slice(None, None, 2), slice(5, 99)):
        assert seq[cut] == want[cut]
    for i in (len(want), -len(want) - 1):
        with pytest.raises(IndexError):
            seq[i]
