"""The Source pane on a function that has no source file says what it is, not 'cannot read ~'.

A cProfile/callgrind built-in (`<built-in method decompress>`, file `~`), a collapsed-stacks
frame (no file) or a frozen module (`<frozen importlib._bootstrap>`) has no file to read; the
pane said "source not available: cannot read ~" (or "cannot read" and nothing).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from qt_windows import show_pane

from pyrometer.app.document import Document
from pyrometer.app.panes.source import SourcePane
from pyrometer.core.model import Profile


def _profile(file: str, name: str) -> Profile:
    p = Profile()
    sid = p.intern_stack_path([p.intern_frame("main", __file__, 1), p.intern_frame(name, file, 0)])
    p.add_samples(np.array([0.0, 0.01]), 1, [sid, sid], weight=np.full(2, 0.01))
    p.finish()
    return p


@pytest.mark.parametrize(
    ("file", "name", "says"),
    [
        ("~", "<built-in method zlib.decompress>", "built-in"),
        ("", "render", "no source file"),
        ("<frozen importlib._bootstrap>", "_find_and_load", "no source file"),
    ],
)
def test_a_function_without_a_file_is_named_for_what_it_is(qtbot: Any, file: str, name: str, says: str) -> None:
    profile = _profile(file, name)
    doc = Document(profile, None)
    pane = show_pane(qtbot, SourcePane(doc), 900, 300)
    doc.select_function(profile.func_name.index(name))
    pane.refresh()
    text = pane.header.text()
    assert says in text, text
    assert "cannot read" not in text, text


def test_a_missing_file_still_says_it_cannot_be_read(qtbot: Any) -> None:
    profile = _profile("/no/such/dir/prog.py", "work")
    doc = Document(profile, None)
    pane = show_pane(qtbot, SourcePane(doc), 900, 300)
    doc.select_function(profile.func_name.index("work"))
    pane.refresh()
    assert "cannot read <code>/no/such/dir/prog.py</code>" in pane.header.text()
