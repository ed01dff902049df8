"""The History pane and the start page's programs over a real history of .pyro recordings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from pyrometer.app.document import Document
from pyrometer.app.panes.history import HistoryPane
from pyrometer.app.start_page import StartPage
from pyrometer.core.formats.recording import read_recording, write_profile
from pyrometer.core.history.runs import add_recording
from pyrometer.core.history.store import HistoryStore
from pyrometer.core.model import Profile


def recording(path: Path, counts: dict[str, int], start: float) -> Path:
    """A recording where each function had `count` samples of 10 ms innermost under main."""
    p = Profile()
    p.ensure_thread(0, "MainThread")
    main = p.intern_frame("main", "/src/app.py", 1)
    stacks, times = [], []
    t = 0.0
    for name, n in counts.items():
        s = p.intern_stack_path([main, p.intern_frame(name, "/src/app.py", 10)])
        for _ in range(n):
            stacks.append(s)
            times.append(t)
            t += 0.01
    p.add_samples(np.array(times), np.zeros(len(times), np.int32), np.array(stacks, np.int32), weight=0.01)
    p.meta.update({"start_wall": start, "python": "3.11.7", "host": "test"})
    p.end = {"t": t, "exit_status": 0, "reason": "exit"}
    p.finish()
    write_profile(p, path)
    return path


@pytest.fixture
def history(tmp_path: Path) -> list[Path]:
    paths = []
    for i in range(4):
        paths.append(recording(tmp_path / f"run{i}.pyro", {"parse": 200, "render": 200}, 1000.0 + i))
    paths.append(recording(tmp_path / "run4.pyro", {"parse": 200, "render": 800}, 1010.0))  # render four times slower
    for path in paths:
        assert add_recording(path, "app") is not None
    return paths


def _shown_pane(qtbot: Any, path: Path) -> HistoryPane:
    """The history pane over the recording at `path`, shown at 900 x 500 and drawn once."""
    profile, _ = read_recording(path)
    pane = HistoryPane(Document(profile, path))
    qtbot.addWidget(pane)
    pane.resize(900, 500)
    pane.show()
    pane.refresh()
    return pane


def test_pane_draws_runs_rows_and_marks_the_regression(qtbot, history: list[Path]) -> None:  # type: ignore[no-untyped-def]
    pane = _shown_pane(qtbot, history[-1])
    assert pane.program == "app" and pane.stack.currentWidget() is pane.body
    assert [f.name for f in pane.rows] == ["render", "parse"]  # by average share
    assert pane.image.image.shape == (5, 2)  # runs x functions
    assert pane.image.image[4, 0] == pytest.approx(80.0) and pane.image.image[0, 0] == pytest.approx(50.0)
    spots = pane.markers.data
    assert len(spots) == 1 and tuple(spots[0]["symbol"] for _ in [0]) == ("t1",)  # slower: triangle up
    assert (spots[0]["x"], spots[0]["y"]) == (4.5, 0.5)
    assert "render slower" in pane.details.text() and "+300%" in pane.details.text()
    assert pane.current.isVisible() and pane.current.rect().x() == 4  # the open recording's column
    ticks = dict(pane.heat.getAxis("left")._tickLevels[0])
    assert ticks[0.5].startswith("★ ▲ render")


def test_clicking_a_run_asks_to_open_it_and_a_deleted_one_says_so(qtbot, history: list[Path]) -> None:  # type: ignore[no-untyped-def]
    pane = _shown_pane(qtbot, history[-1])
    doc = pane.doc
    qtbot.wait(50)
    scene = pane.heat.vb.mapViewToScene(QPointF(1.5, 0.5))
    run = pane.run_at(scene)
    assert run is not None and Path(str(run.path)).name == "run1.pyro"
    with qtbot.waitSignal(doc.openRequested) as sig:
        pane.open_run(run)
    assert sig.args == [str(history[1].resolve())]
    history[2].unlink()
    gone = pane.run_at(pane.heat.vb.mapViewToScene(QPointF(2.5, 0.5)))
    assert gone is not None
    with qtbot.assertNotEmitted(doc.openRequested):
        pane.open_run(gone)
    assert "recording is gone" in pane.details.text()


def test_compare_with_history_sets_the_documents_baseline(qtbot, history: list[Path]) -> None:  # type: ignore[no-untyped-def]
    profile, _ = read_recording(history[-1])
    doc = Document(profile, history[-1])
    pane = HistoryPane(doc)
    qtbot.addWidget(pane)
    pane.refresh()
    with qtbot.waitSignal(doc.baselineChanged):
        pane.compare_with_average()
    from pyrometer.core.formats.tables import function_rows

    rows = {r["name"]: r["self"] for r in function_rows(doc.baseline)[0]}  # type: ignore[arg-type]
    assert rows["render"] == pytest.approx((4 * 2.0 + 8.0) / 5, rel=1e-5)
    assert rows["parse"] == pytest.approx(2.0, rel=1e-5)
    assert "history average (5 runs)" == doc.baseline_name
    from pyrometer.app.panes.compare import ComparePane

    compare = ComparePane(doc)  # the Compare pane reads the same baseline from the document
    qtbot.addWidget(compare)
    compare.refresh()
    d = compare.model.diff
    assert d is not None
    row = list(d.name).index("render")
    assert d.base_self[row] == pytest.approx(3.2, rel=1e-5) and d.new_self[row] == pytest.approx(8.0, rel=1e-5)
    history[0].unlink()  # a run without its file still makes a baseline from its aggregates
    assert pane.report is not None
    pane.compare_with_run(pane.report.runs[0])
    assert doc.baseline_name.endswith("(aggregates)")
    assert {r["name"]: r["self"] for r in function_rows(doc.baseline)[0]}["render"] == pytest.approx(2.0, rel=1e-5)  # type: ignore[arg-type]


def test_a_recording_without_history_shows_the_placeholder(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = recording(tmp_path / "alone.pyro", {"parse": 10}, 5.0)
    profile, _ = read_recording(path)
    pane = HistoryPane(Document(profile, path))
    qtbot.addWidget(pane)
    pane.refresh()
    assert pane.stack.currentWidget() is pane.placeholder and "No run history" in pane.placeholder.text()


def test_start_page_lists_recent_programs_with_trend(qtbot, history: list[Path]) -> None:  # type: ignore[no-untyped-def]
    with HistoryStore() as store:
        assert [p.key for p in store.programs()] == ["app"]
    page = StartPage()
    qtbot.addWidget(page)
    item = page.programs.item(0)
    assert item.text().startswith("app  —  5 runs") and "↑" in item.text()
    with qtbot.waitSignal(page.recentRequested) as sig:
        page.programs.itemActivated.emit(item)
    assert sig.args == [str(history[-1].resolve())]


def test_the_compare_buttons_menu_arrow_does_not_cover_its_text(qtbot, history: list[Path]) -> None:  # type: ignore[no-untyped-def]
    """A QToolButton in InstantPopup mode drew Fusion's arrow over 'history' (its size hint left no room for it)."""
    from PySide6.QtWidgets import QStyle

    pane = _shown_pane(qtbot, history[-1])
    button = pane.compare_button
    text = button.fontMetrics().horizontalAdvance(button.text())
    arrow = button.style().pixelMetric(QStyle.PixelMetric.PM_MenuButtonIndicator)
    assert button.menu() is pane.compare_menu
    assert button.width() >= text + arrow + 12, (button.width(), text, arrow)



def test_a_run_of_unknown_duration_is_a_gap_in_the_curve(qtbot: Any, tmp_path: Path) -> None:
    from pyrometer.core.history.store import RunRecord

    assert add_recording(recording(tmp_path / "a.pyro", {"parse": 50, "render": 50}, 1000.0), "prog") is not None
    with HistoryStore() as store:  # e.g. a callgrind file imported: it says nothing of time
        store.add_run(RunRecord("prog", 1100.0, None, 80.0, unit="samples", source_format="callgrind"))
    last = recording(tmp_path / "b.pyro", {"parse": 50, "render": 100}, 1200.0)
    assert add_recording(last, "prog") is not None
    pane = _shown_pane(qtbot, last)
    _, ys = pane.duration_curve.getData()
    assert ys is not None and len(ys) == 3
    assert np.isnan(ys[1]) and ys[0] == pytest.approx(1.0) and ys[2] == pytest.approx(1.5)
    assert "+50%" in pane.header.text()  # the last run against the one known before it
    assert any("duration unknown" in a.text() for a in pane.compare_menu.actions())
