"""The pump's count of unrecorded tasks per coroutine name (tasks.count_names) is exact.

Its fast path counts the distinct names of a sample with ``list.count``; these lists
are built so that a wrong shortcut shows: a name the sample misses, equal names that
are different string objects, too many names for the fast path, short lists.
"""

from __future__ import annotations

from collections import Counter

import pytest

from pyrometer.core.agent.tasks import count_names

ONE = ["tiny"] * 20_000
RARE = ["tiny"] * 9_999 + ["rare"] + ["tiny"] * 10_000  # the sample (every 312th) misses "rare"
EQUAL_NOT_SAME = ["tiny"] * 5_000 + ["".join(["ti", "ny"]) for _ in range(5_000)]
FOUR = ["a", "b", "c", "d"] * 2_500
FIVE = ["a", "b", "c", "d", "e"] * 2_000  # over the fast path's four names
MANY = [str(i % 1_000) for i in range(20_000)]
SHORT = ["tiny", "other"] * 10


@pytest.mark.parametrize("names", [ONE, RARE, EQUAL_NOT_SAME, FOUR, FIVE, MANY, SHORT, []],
                         ids=["one", "rare", "equal-not-same", "four", "five", "many", "short", "empty"])
def test_counts_equal_a_counter(names: list[str]) -> None:
    counts = {"tiny": 7, "old": 3}  # counts already there are added to
    count_names(counts, names)
    want = Counter({"tiny": 7, "old": 3})
    want.update(names)
    assert counts == dict(want)
    assert sum(counts.values()) == len(names) + 10
