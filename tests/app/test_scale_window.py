"""The window on a big profile: views of time draw per pixel and re-lay-out on zoom; hidden panes stay idle.

The sizes here are small (tests stay quick); the thresholds that switch to
per-pixel summaries are lowered so the same code paths run as on a day-long
recording (benchmarks/bench_scale_window.py measures those).
"""

from __future__ import annotations

import numpy as np
import pytest
from lod_profile import agent_like_profile
from qt_windows import open_window, private_settings

from pyrometer.app.panes.sandwich import SandwichPane
from pyrometer.app.panes.stack_chart import StackChartPane
from pyrometer.app.panes.timeline import TimelinePane
from pyrometer.app.session_view import SessionView
from pyrometer.core.analysis import lod
from pyrometer.core.analysis.lane_palette import LEVEL_COLOR
from pyrometer.core.analysis.spans import activity_runs


@pytest.fixture
def view(qtbot, qapp, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(lod, "EXACT_ROWS", 2000)
    private_settings(tmp_path)
    win = open_window(qtbot, 1440, 900)
    v = win.open_profile(agent_like_profile(60_000))
    qtbot.waitUntil(lambda: all(p.seen_revision == v.doc.revision for p in v.visible_panes()), timeout=10_000)
    return v


def _show(qtbot, view: SessionView, pane_id: str):  # type: ignore[no-untyped-def]
    pane = view.show_pane(pane_id)
    qtbot.waitUntil(lambda: pane.on_screen() and pane.seen_revision == view.doc.revision, timeout=10_000)
    return pane


def test_timeline_draws_columns_then_exact_runs_when_zoomed(view: SessionView, qtbot) -> None:  # type: ignore[no-untyped-def]
    pane = _show(qtbot, view, "timeline")
    assert isinstance(pane, TimelinePane)
    x, w, row, color = pane.lanes.arrays()
    threads = row < 3
    px = pane._pixels()
    runs = sum(len(activity_runs(view.doc.profile, tid)[0]) for tid in range(3))
    assert threads.sum() <= 3 * px < runs  # at most a box a pixel per thread, not one per run of samples
    # zoom in until few samples are in view: the lanes become the exact runs there
    pane.lane_vb.setXRange(100.0, 104.0, padding=0.0)
    qtbot.waitUntil(lambda: pane._laid_out is not None and abs(pane._laid_out[0] - 100.0) < 1e-6, timeout=5000)
    x, w, row, color = pane.lanes.arrays()
    runs_x, runs_w, runs_on = activity_runs(view.doc.profile, 1)
    mine = row == 1
    inside = (runs_x >= 100.0) & (runs_x + runs_w <= 104.0)
    got = {(round(a, 9), round(b, 9), int(c)) for a, b, c in zip(x[mine], w[mine], color[mine], strict=True)}
    want = {(round(a, 9), round(b, 9), int(LEVEL_COLOR[c])) for a, b, c in zip(runs_x[inside], runs_w[inside], runs_on[inside], strict=True)}
    assert want and want <= got  # every run wholly in view is drawn exactly as the full layout has it


def test_stack_chart_lays_out_only_its_view(view: SessionView, qtbot) -> None:  # type: ignore[no-untyped-def]
    pane = _show(qtbot, view, "stack_chart")
    assert isinstance(pane, StackChartPane)
    depth = max(b.depth for b in pane.boxes.bands)
    assert len(pane.boxes) <= 3 * (pane._pixels() + 1) * (depth + 1)
    first = len(pane.boxes)
    bands = [(b.thread, b.first_row, b.depth) for b in pane.boxes.bands]
    pane.view_box.setXRange(50.0, 51.0, padding=0.0)
    qtbot.waitUntil(lambda: pane._laid_out is not None and abs(pane._laid_out[0] - 50.0) < 1e-6, timeout=5000)
    assert 0 < len(pane.boxes) != first
    inside = pane.boxes.func >= 0
    assert (pane.boxes.x[inside] + pane.boxes.width[inside] > 50.0 - 0.02).all()
    assert (pane.boxes.x[inside] < 51.0 + 0.02).all()
    assert [(b.thread, b.first_row, b.depth) for b in pane.boxes.bands] == bands  # zooming never moves rows


def test_hidden_sandwich_does_no_work_on_a_selection(view: SessionView, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Behind the Functions tab (isVisible() is still True there) it waits until it is shown."""
    sandwich = view.pane("sandwich")
    assert isinstance(sandwich, SandwichPane)
    functions = _show(qtbot, view, "functions")
    assert not sandwich.on_screen() and sandwich.isVisible()
    func = int(np.argmax(np.bincount(view.doc.profile.frames["func"])))
    view.doc.select_function(func if func != view.doc.selected_function else func + 1)
    assert sandwich.result is None
    assert functions.on_screen()
    _show(qtbot, view, "sandwich")
    assert sandwich.result is not None and sandwich.result.func == view.doc.selected_function
