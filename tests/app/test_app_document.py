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
