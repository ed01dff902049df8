"""The trend after a program's runs shows an arrow only for a change that shows.

The start page and `pyrometer history` said "↓ -0% vs the 1 before" for a run 0.3% faster
(and "↑ +0%" for one 0.4% slower): an arrow announcing a change of nothing.
"""

from __future__ import annotations

from pyrometer.core.history.render import trend_text


def test_a_change_that_rounds_to_nothing_has_no_arrow() -> None:
    assert trend_text([2.0, 1.994]) == "= 0% vs the 1 before"  # -0.3%
    assert trend_text([1.0, 1.0, 1.004]) == "= 0% vs the 2 before"  # +0.4%
    assert trend_text([2.0, 2.0]) == "= 0% vs the 1 before"


def test_a_real_change_keeps_its_arrow_and_sign() -> None:
    assert trend_text([1.0, 1.5]) == "↑ +50% vs the 1 before"
    assert trend_text([2.0, 1.98]) == "↓ -1% vs the 1 before"
    assert trend_text([3.0]) == "first run"
