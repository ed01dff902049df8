"""Sandwich (callers above, callees below one function), as text trees from hand-made stacks."""

from __future__ import annotations

import numpy as np

from pyrometer.core.analysis.calltree import tree_text
from pyrometer.core.analysis.sandwich import sandwich
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.model import UNIT_SAMPLES, Profile

# stack (root first) -> samples
STACKS = {
    ("A", "B", "F", "C"): 3,
    ("X", "F", "F", "D"): 2,  # recursion: counted once
    ("F",): 1,
    ("A", "F"): 4,
    ("Y", "Z"): 5,  # no F: in neither tree
}


def _profile() -> Profile:
    p = Profile(unit=UNIT_SAMPLES)
    frames = {n: p.intern_frame(n, "/m.py", 1, 1) for n in "ABCDFXYZ"}
    stacks: list[int] = []
    for path, n in STACKS.items():
        stacks += [p.intern_stack_path([frames[f] for f in path])] * n
    p.add_samples(np.arange(len(stacks)) * 0.01, np.zeros(len(stacks), np.int32), np.asarray(stacks, np.int32), weight=1.0)
    p.finish()
    return p


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
