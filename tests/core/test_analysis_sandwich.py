"""Sandwich (callers above, callees below one function), as text trees from hand-made stacks."""

from __future__ import annotations

from hand_profiles import SANDWICH_STACKS, stacks_profile

from pyrometer.core.analysis.calltree import tree_text
from pyrometer.core.analysis.sandwich import sandwich
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.model import Profile


def _profile() -> Profile:
    return stacks_profile(SANDWICH_STACKS)


def test_callers_and_callees_are_merged_across_the_tree() -> None:
    p = _profile()
    s = sandwich(p, p.func_name.index("F"))
    assert s.total == 15
    assert tree_text(s.callees, p) == "\n".join(
        [
            "F: total=10 self=5",  # 3 + 2 + 1 + 4 samples contain F; self: the 1 + 4 that end in it
            "  C: total=3 self=3",
            "  F: total=2 self=0",
            "    D: total=2 self=2",
        ]
    )
    assert tree_text(s.callers, p) == "\n".join(
        [
            "F: total=10 self=10",  # inverted: every cut stack ends at F (the pane shows totals only)
            "  A: total=4 self=0",  # called straight from A
            "  B: total=3 self=0",
            "    A: total=3 self=0",
            "  X: total=2 self=0",  # the outermost F's caller, not the recursive one
        ]
    )


def test_a_time_range_and_a_function_that_never_ran() -> None:
    p = _profile()
    s = sandwich(p, p.func_name.index("F"), Selection(t0=0.0, t1=0.025))  # the first three samples: A>B>F>C
    assert tree_text(s.callers, p).splitlines()[0] == "F: total=3 self=3"
    none = sandwich(p, p.func_name.index("C"), Selection(t0=0.1, t1=0.14))
    assert tree_text(none.callees, p) == "" and tree_text(none.callers, p) == ""
