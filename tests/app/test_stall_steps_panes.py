"""The Event loop pane and the Tasks pane name each blocking step of a stall with its share.

A real recording of tests/helpers/two_blockers.py: in one loop iteration A held
the loop 0.3 s, then B 0.2 s; `late` fell due inside A's hold and waited for the
rest of A and all of B. The numbers are checked against the holds the target
timed itself (tolerance as in tests/core/test_agent_stall_steps.py). The same
recording without the steps field (older agents) shows what it showed.
"""

from __future__ import annotations

import re

import pytest
from two_blockers import held, longest_first, record_two_blockers

from pyrometer.app.document import Document
from pyrometer.app.panes.event_loop import BLOCK_COLUMNS, EventLoopPane
from pyrometer.app.panes.tasks import TasksPane
from pyrometer.core import fmt
from pyrometer.core.model import Profile

EXCESS_S = 0.02
Truth = dict[str, tuple[float, float]]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Profile, Truth]:
    _, p, truth = record_two_blockers(tmp_path_factory.mktemp("two_blockers_panes"))
    return p, truth


def _pair_index(pane: EventLoopPane, truth: Truth) -> int:
    return next(i for i, e in enumerate(pane.events) if e.start <= truth["A"][0] + 1e-6 <= e.start + e.duration)


def _row_of(pane: EventLoopPane, index: int) -> int:
    return next(r for r in range(pane.table.rowCount()) if pane._row_event(r) == index)


def _ms_near(text: str, held: float) -> bool:
    """`text` is `N ms` for a step that held the loop `held` seconds (never less)."""
    m = re.fullmatch(r"([\d.]+) ms", text)
    return m is not None and -0.00006 <= float(m[1]) / 1000 - held <= EXCESS_S  # shown to 0.1 ms: rounded by up to half of it


def test_event_loop_pane_names_each_step_with_its_share(qtbot, recorded: tuple[Profile, Truth]) -> None:  # type: ignore[no-untyped-def]
    p, truth = recorded
    ids = {t.name: t.id for t in p.tasks.values()}
    pane = EventLoopPane(Document(p))
    qtbot.addWidget(pane)
    pane.refresh()
    pair = _pair_index(pane, truth)
    label = pane.table.item(_row_of(pane, pair), BLOCK_COLUMNS.index("Task")).text()
    first, second = longest_first(truth, ["A", "B"])  # (A's 0.3 s, unless a busy machine stretched B's 0.2 s)
    m = re.fullmatch(rf"{first} \[{ids[first]}\] ([\d.]+ ms), {second} \[{ids[second]}\] ([\d.]+ ms)", label)
    assert m, (label, truth)
    assert _ms_near(m[1], held(truth, first)) and _ms_near(m[2], held(truth, second)), (label, truth)
    pane.select_event(pair)
    lines = pane.blame_lines()
    assert lines[0] == f"Blocked by {first}"
    at = lines.index("Held the loop: 2 steps")
    rows = [re.fullmatch(r"  (\S+ \[\d+\]) ([\d.]+ ms)", line) for line in lines[at + 1 : at + 3]]
    assert all(rows), lines
    assert [r[1] for r in rows if r] == [f"{first} [{ids[first]}]", f"{second} [{ids[second]}]"]
    # a single blocker shows as before: its task, and no steps
    solo = next(i for i, e in enumerate(pane.events) if e.task == ids["solo"])
    assert pane.table.item(_row_of(pane, solo), BLOCK_COLUMNS.index("Task")).text() == f"solo [{ids['solo']}]"
    pane.select_event(solo)
    assert not any(line.startswith("Held the loop") for line in pane.blame_lines())


def test_event_loop_pane_shows_an_old_recording_as_before(qtbot, recorded: tuple[Profile, Truth]) -> None:  # type: ignore[no-untyped-def]
    """Without steps (a recording of an older agent) the row names the blamed task alone."""
    p, truth = recorded
    ids = {t.name: t.id for t in p.tasks.values()}
    new = EventLoopPane(Document(p))
    qtbot.addWidget(new)
    new.refresh()
    new.select_event(_pair_index(new, truth))
    with_steps = new.blame_lines()
    saved = [ev.steps for ev in p.blocking]
    try:
        for ev in p.blocking:
            ev.steps = None
        old = EventLoopPane(Document(p))
        qtbot.addWidget(old)
        old.refresh()
        pair = _pair_index(old, truth)
        first = longest_first(truth, ["A", "B"])[0]  # the blamed task: the longer hold
        assert old.table.item(_row_of(old, pair), BLOCK_COLUMNS.index("Task")).text() == f"{first} [{ids[first]}]"
        old.select_event(pair)
        at = with_steps.index("Held the loop: 2 steps")
        assert old.blame_lines() == with_steps[:at] + with_steps[at + 3 :]
    finally:
        for ev, steps in zip(p.blocking, saved, strict=True):
            ev.steps = steps


def test_tasks_pane_names_the_steps_that_delayed_a_task(qtbot, recorded: tuple[Profile, Truth]) -> None:  # type: ignore[no-untyped-def]
    p, truth = recorded
    ids = {t.name: t.id for t in p.tasks.values()}
    tasks = TasksPane(Document(p))
    qtbot.addWidget(tasks)
    tasks.by_coro_button.setChecked(True)
    view = tasks.requests_view

    def column(coro: str, name: str) -> str:
        top = next(view.topLevelItem(i) for i in range(view.topLevelItemCount()) if view.topLevelItem(i).text(0) == coro)
        return next(top.child(j) for j in range(top.childCount()) if top.child(j).text(0) == name).text(9)

    # `late` waited for the rest of A and all of B: both named, each with its share of that wait
    ev = next(e for e in p.blocking if e.start <= truth["A"][0] + 1e-6 <= e.start + e.duration)
    delay = {tid: d for tid, _, d in ev.delayed or ()}
    text = column("late", "late")
    m = re.fullmatch(r"(.+) \[(\d+)\] ([\d.]+ ms), (.+) \[(\d+)\] ([\d.]+ ms) \+(.+)", text)
    assert m, text
    shares = {m[1]: m[3], m[4]: m[6]}
    assert set(shares) == {"A", "B"} and {int(m[2]), int(m[5])} == {ids["A"], ids["B"]}
    due = truth["late"][0]  # when `late` was due (its own clock): A held the loop from then on
    assert float(shares["A"].split()[0]) / 1000 == pytest.approx(truth["A"][1] - due, abs=EXCESS_S)
    assert _ms_near(shares["B"], truth["B"][1] - truth["B"][0])
    assert m[7] == fmt.seconds(delay[ids["late"]])
    # B waited for A only
    assert column("blocker", "B") == f"A [{ids['A']}] +{fmt.seconds(delay[ids['B']])}"
