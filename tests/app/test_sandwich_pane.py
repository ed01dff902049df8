"""Sandwich pane: the selected function's callers above and callees below, merged across the tree;
a click re-centres it on another function everywhere."""

from __future__ import annotations

import pytest
from hand_profiles import SANDWICH_STACKS, stacks_profile
from PySide6 import QtCore, QtWidgets
from PySide6.QtTest import QTest
from qt_windows import show_pane

from pyrometer.app.document import Document
from pyrometer.app.panes.sandwich import SandwichPane
from pyrometer.core.model import Profile


def make_profile() -> Profile:
    return stacks_profile(SANDWICH_STACKS)


@pytest.fixture
def pane(qtbot):  # type: ignore[no-untyped-def]
    pane = show_pane(qtbot, SandwichPane(Document(make_profile())), 800, 500)
    return pane


def _boxes(half) -> dict[str, float]:  # type: ignore[no-untyped-def]
    names = half.pane.doc.profile.func_name
    out: dict[str, float] = {}
    for k in range(len(half.layout.func)):
        key = "/".join(names[int(half.tree.func[a])] for a in _path(half.tree, int(half.layout.node[k])))
        out[key] = float(half.layout.width[k])
    return out


def _path(tree, node: int) -> list[int]:  # type: ignore[no-untyped-def]
    out = []
    while node > 0:
        out.append(node)
        node = int(tree.parent[node])
    return out[::-1]


def test_title_id_and_nothing_selected(pane: SandwichPane) -> None:
    assert (pane.title, pane.pane_id) == ("Sandwich", "sandwich")
    assert pane.stack.currentWidget() is pane.empty


def test_selected_function_with_callers_above_and_callees_below(pane: SandwichPane) -> None:
    doc = pane.doc
    doc.select_function(doc.profile.func_name.index("F"))
    pane.refresh()
    assert pane.stack.currentWidget() is not pane.empty
    assert "<b>F</b> — total 10 (66.7%), self 5" in pane.header.text() and "3 callers, 2 callees" in pane.header.text()
    assert _boxes(pane.callers) == {"F": 10, "F/A": 4, "F/B": 3, "F/B/A": 3, "F/X": 2}
    assert _boxes(pane.callees) == {"F": 10, "F/C": 3, "F/F": 2, "F/F/D": 2}
    assert not pane.callers.view_box.yInverted() and pane.callees.view_box.yInverted()  # callers grow upwards


def test_clicking_a_caller_recentres_every_pane_on_it(pane: SandwichPane, qtbot) -> None:  # type: ignore[no-untyped-def]
    doc = pane.doc
    doc.select_function(doc.profile.func_name.index("F"))
    QtWidgets.QApplication.processEvents()
    half = pane.callers
    names = doc.profile.func_name
    box = next(k for k, f in enumerate(half.layout.func.tolist()) if names[f] == "B")
    rect = half.item.box_rect(box)
    pos = half.view.mapFromScene(half.view_box.mapViewToScene(rect.center()))
    QTest.mouseClick(half.view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)
    assert doc.selected_function == names.index("B")
    QtWidgets.QApplication.processEvents()
    assert "<b>B</b>" in pane.header.text()
    assert _boxes(pane.callees) == {"B": 3, "B/F": 3, "B/F/C": 3}


def test_a_function_that_did_not_run_in_the_range(pane: SandwichPane) -> None:
    doc = pane.doc
    doc.select_function(doc.profile.func_name.index("C"))
    doc.set_range(0.1, 0.14)
    pane.refresh()
    assert pane.stack.currentWidget() is pane.empty and "did not run" in pane.empty.text()
