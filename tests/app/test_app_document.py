"""Document: the shared view state every pane reads (range ∩ playhead, threads, transform, selection)."""

from __future__ import annotations

from pyrometer.app.document import Document
from pyrometer.app.panes.base import (
    collapse_recursion,
    describe_transform,
    focus_function,
    merge_function,
    set_my_code_only,
)
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.example_profiles import server_profile


def test_selection_is_range_clipped_to_the_playhead(qapp):
    doc = Document(server_profile())
    assert doc.selection() == Selection(None, None, None)
    doc.set_range(0.8, 0.2)  # order does not matter
    assert doc.range == (0.2, 0.8)
    doc.set_playhead(0.5)
    assert doc.selection() == Selection(0.2, 0.5, None)
    doc.set_playhead(0.1)  # playhead before the range: an empty selection at the playhead
    assert doc.selection() == Selection(0.1, 0.1, None)
    doc.clear_range()
    doc.set_threads(frozenset({2}))
    assert doc.selection() == Selection(None, 0.1, frozenset({2}))


def test_signals_and_revisions(qtbot, qapp):
    doc = Document(server_profile())
    rev = doc.revision
    with qtbot.waitSignal(doc.rangeChanged) as blocker:
        doc.set_range(0.0, 1.0)
    assert blocker.args == [(0.0, 1.0)]
    assert doc.revision == rev + 1 and doc.view_revision == doc.revision
    with qtbot.assertNotEmitted(doc.rangeChanged):
        doc.set_range(0.0, 1.0)  # no change, no signal
    with qtbot.waitSignal(doc.functionSelected) as sel:
        doc.select_function(3)
    assert sel.args == [3] and doc.selected_function == 3
    before = doc.view_revision
    doc.model_grew()  # growth bumps the revision but is not a view change
    assert doc.revision > before and doc.view_revision == before


def test_transform_helpers_build_and_reset_the_transform(qapp):
    doc = Document(server_profile())
    p = doc.profile
    compute, handle = p.func_name.index("compute"), p.func_name.index("Server.handle")
    focus_function(doc, compute)
    merge_function(doc, handle)
    collapse_recursion(doc, handle)
    set_my_code_only(doc, True)
    t = doc.transform
    assert t is not None and t.focus_function == compute and handle in t.merge_functions and t.my_code_only
    text = describe_transform(doc)
    assert "focus on compute" in text and "merged Server.handle" in text and "my code only" in text
    view = doc.view_profile()
    assert view is doc.view_profile()  # cached while nothing changes
    set_my_code_only(doc, False)
    doc.set_transform(None)
    assert doc.view_profile() is doc.profile and describe_transform(doc) == ""


def test_on_cpu_only_drops_waiting_samples(qapp):
    import numpy as np

    from pyrometer.core.analysis.functions import function_table
    from pyrometer.core.analysis.on_cpu import has_cpu_info
    from pyrometer.core.model import Profile

    p = Profile()
    busy = p.intern_stack_path([p.intern_frame("main", "app.py", 1, 1), p.intern_frame("crunch", "app.py", 5, 4)])
    wait = p.intern_stack_path([p.intern_frame("main", "app.py", 2, 1), p.intern_frame("wait", "/usr/lib/python3.11/threading.py", 9, 8)])
    n = 10
    stacks = np.asarray([busy] * 4 + [wait] * 6, np.int32)
    cpu = np.asarray([0.01] * 4 + [0.0001] * 5 + [-1.0], np.float32)  # the last: CPU unknown -> counted as running
    p.add_samples(np.arange(n) * 0.01, np.zeros(n, np.int32), stacks, weight=0.01, cpu=cpu)
    p.finish()
    assert has_cpu_info(p)
    doc = Document(p)
    def self_names(prof: Profile) -> set[str]:
        t = function_table(prof)
        return {prof.func_name[f] for f, w in zip(t.func.tolist(), t.self_weight.tolist(), strict=True) if w > 0}

    assert self_names(doc.view_profile()) == {"crunch", "wait"}
    rev = doc.revision
    doc.set_on_cpu_only(True)
    assert doc.revision > rev
    view = doc.view_profile()
    assert view.sample_count == 5 and view.stacks is p.stacks
    table = function_table(view)
    assert dict(zip([view.func_name[f] for f in table.func.tolist()], table.samples.tolist(), strict=True))["crunch"] == 4
    assert view is doc.view_profile()  # reused while nothing changes
    p.add_samples(np.asarray([0.2]), np.zeros(1, np.int32), np.asarray([busy], np.int32), weight=0.01, cpu=0.01)
    assert doc.view_profile().sample_count == 6  # follows a growing (live) profile
    doc.set_on_cpu_only(False)
    assert doc.view_profile() is p
