"""At a replay's playhead inside a stall, the Event loop pane shows the stall as it was then (issue 15).

A real recording of tests/helpers/two_blockers.py: A held the loop 0.3 s, then B 0.2 s,
in one iteration, timed by the target itself. At a playhead 0.1 s into A only that much
of the stall had happened: its row says "… so far", its Task cell names A alone (B had
not run), the worst stall and the selected stall's title agree, and once the playhead
passes the stall's end it is whole again.
"""

from __future__ import annotations

import pytest
from PySide6 import QtCore
from two_blockers import record_two_blockers

from pyrometer.app.document import Document
from pyrometer.app.panes.event_loop import BLOCK_COLUMNS, EventLoopPane
from pyrometer.core import fmt
from pyrometer.core.model import Profile

Truth = dict[str, tuple[float, float]]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Profile, Truth]:
    _, p, truth = record_two_blockers(tmp_path_factory.mktemp("ongoing_pane"))
    return p, truth


def _cell(pane: EventLoopPane, index: int, column: str) -> str:
    row = next(r for r in range(pane.table.rowCount()) if pane._row_event(r) == index)
    return pane.table.item(row, BLOCK_COLUMNS.index(column)).text()  # type: ignore[union-attr]


def test_a_stall_going_on_at_the_playhead_shows_what_had_happened(qtbot, recorded: tuple[Profile, Truth]) -> None:  # type: ignore[no-untyped-def]
    p, truth = recorded
    ids = {t.name: t.id for t in p.tasks.values()}
    doc = Document(p)
    pane = EventLoopPane(doc)
    qtbot.addWidget(pane)
    pane.resize(1400, 700)  # roomy: the numbers' line names the worst stall
    at = truth["A"][0] + 0.1
    doc.set_playhead(at)
    pane.refresh()
    pair = next(i for i, e in enumerate(pane.events) if e.start <= truth["A"][0] + 1e-6 <= e.start + e.duration)
    ev = pane.events[pair]
    so_far = fmt.seconds(at - ev.start)
    assert ev.duration > 0.45  # the recording knows the whole stall (A then B) ...
    assert _cell(pane, pair, "Duration") == f"{so_far} so far"  # ... the list shows what had happened by then
    assert _cell(pane, pair, "Task").startswith(f"A [{ids['A']}]") and "B [" not in _cell(pane, pair, "Task")
    assert f"worst {so_far}" in pane.stat_labels["blocking"].text()
    # its marker on the lag plot stands as high as the stall had got (the session's markers stop before it)
    assert pane.block_markers.shown == pair
    x, y = pane.ongoing_markers.getData()
    assert list(x) == [ev.start] and y[0] == pytest.approx((at - ev.start) * 1000.0)
    pane.select_event(pair)
    assert pane.stack_title.plain_text().startswith(f"Blocked {so_far} so far")
    lines = pane.blame_lines()  # A alone held the loop so far; whom the stall delayed is told at its end
    assert "Delayed: told when the stall ends" in lines and not any(line.strip().startswith("B [") for line in lines), lines
    # the playhead moves on inside the stall: the same row and title follow it
    later = truth["B"][0] + 0.05
    doc.set_playhead(later)
    pane.refresh()
    assert _cell(pane, pair, "Duration") == f"{fmt.seconds(later - ev.start)} so far"
    assert pane.stack_title.plain_text().startswith(f"Blocked {fmt.seconds(later - ev.start)} so far")
    # past its end it is whole, as without a playhead
    doc.set_playhead(ev.start + ev.duration + 0.01)
    pane.refresh()
    assert _cell(pane, pair, "Duration") == fmt.seconds(ev.duration)
    assert pane.stack_title.plain_text().startswith(f"Blocked {fmt.seconds(ev.duration)} at")
    assert pane.block_markers.shown == len(pane.events) and len(pane.ongoing_markers.getData()[0]) == 0
    lines = pane.blame_lines()
    assert any(line.startswith("Delayed ") and "told" not in line for line in lines), lines  # told now
    assert any(line.strip().startswith("B [") for line in lines), lines
    held = (truth["A"][1] - truth["A"][0]) + (truth["B"][1] - truth["B"][0])
    assert 0.0 <= ev.duration - held <= 0.03  # the whole stall is the two holds the target timed


def test_sorted_by_duration_an_ongoing_stall_sorts_by_what_had_happened(qtbot, recorded: tuple[Profile, Truth]) -> None:  # type: ignore[no-untyped-def]
    p, truth = recorded
    doc = Document(p)
    pane = EventLoopPane(doc)
    qtbot.addWidget(pane)
    doc.set_playhead(truth["cb-short"][0] + 0.02)  # the pair's stall is over; the callbacks' has lasted ~20 ms
    pane.refresh()
    pane.table.sortByColumn(1, QtCore.Qt.SortOrder.AscendingOrder)
    first = pane.table.item(0, 1).text()  # type: ignore[union-attr]
    assert first.endswith(" so far")  # the shortest as of the playhead, though it came to 0.5 s
    doc.set_playhead(truth["cb-long"][1] + 0.02)  # both over
    pane.refresh()
    assert not any(pane.table.item(r, 1).text().endswith("so far") for r in range(pane.table.rowCount()))  # type: ignore[union-attr]
