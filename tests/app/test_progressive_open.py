"""Opening a huge recording progressively: a first frame from its index, full detail when the samples are read.

The full read is held back by a gate (a threading.Event) so each state is looked at for as long as needed.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from qt_windows import open_window, private_settings
from scale_recordings import generate_recording

from pyrometer.app.panes.function_model import COL_FUNCTION, COL_SAMPLES, COL_SELF
from pyrometer.app.session_view import SessionView
from pyrometer.core.analysis import lod
from pyrometer.core.formats import index_preview, prefetch


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20,000 samples as the agent writes them (4 threads, lag, tasks, blocking), closed with its index."""
    path = tmp_path_factory.mktemp("rec") / "big.pyro"
    generate_recording(path, 20_000)
    return path


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Every recording counts as huge (previewed), and its full read waits until the gate opens."""
    opened = threading.Event()
    real = prefetch.read_detail

    def held(path: Path, preview: Any, progress: Any = None) -> Any:
        opened.wait(30)
        return real(path, preview, progress)

    monkeypatch.setattr(index_preview, "MIN_SAMPLES", 1)
    monkeypatch.setattr(prefetch, "read_detail", held)
    yield opened
    opened.set()


@pytest.fixture
def window(qtbot: Any, qapp: Any, tmp_path: Path) -> Any:
    private_settings(tmp_path)
    win = open_window(qtbot, 1440, 900)
    qtbot.waitExposed(win)
    return win


def _table(view: SessionView) -> dict[str, tuple[str, str]]:
    m = view.pane("functions").model
    return {m.data(m.index(r, COL_FUNCTION)): (m.data(m.index(r, COL_SELF)), m.data(m.index(r, COL_SAMPLES)))
            for r in range(m.rowCount())}


def _opened(qtbot: Any, window: Any, path: Path) -> SessionView:
    window.open_files([path], show_dialog=False)
    qtbot.waitUntil(lambda: bool(window.views()) or bool(window.errors), timeout=20000)
    assert not window.errors, window.errors
    view = window.views()[0]
    view.refresh_visible()
    return view


def test_the_first_frame_comes_from_the_index_and_the_detail_follows(qtbot: Any, window: Any, recording: Path,
                                                                     gate: threading.Event, monkeypatch: Any) -> None:
    monkeypatch.setattr(lod, "EXACT_ROWS", 1000)  # the whole view from per-pixel buckets, as a huge session's
    view = _opened(qtbot, window, recording)
    doc = view.doc
    assert doc.detail_pending and not len(doc.profile.samples)
    for pane_id in ("functions", "flame_graph", "timeline"):  # drawn from the index
        assert view.pane(pane_id).isVisible() and view.pane(pane_id).pending_text() is None, pane_id
    first = _table(view)
    assert first
    timeline = view.pane("timeline")
    lanes = timeline.lanes.arrays()
    assert timeline.lanes.kinds.count("thread") == 4 and len(timeline._lag_shown)  # activity lanes and the lag curve
    for pane in view.panes:  # every pane that says it draws from the index does, without reading a sample
        if pane.from_preview:
            pane.refresh()
    event_loop = view.pane("event_loop")  # lag statistics need every probe: said, not drawn empty
    assert event_loop.isVisible() and (event_loop.pending_text() or "").startswith("Loading detail")
    stack_chart = view.show_pane("stack_chart")
    qtbot.waitUntil(lambda: stack_chart.pending_text() is not None, timeout=5000)
    bar = view.replay_bar  # nothing to replay yet: the bar is there (no jump when it comes), disabled, saying why
    assert bar is not None and not bar.play_button.isEnabled() and not bar.slider.isEnabled()
    assert bar.time_label.text().startswith("Replay: Loading detail")
    window.toggle_play()
    bar.seek(1.0)
    assert not bar.playing and doc.playhead is None
    view.show_pane("event_loop")
    qtbot.waitUntil(lambda: event_loop in list(view.visible_panes()), timeout=5000)  # covered, still on screen
    saved = recording.parent / "saved.pyro"
    assert not window.save_recording(doc, saved) and not saved.exists()  # sums are no samples: nothing is lost
    assert not window.export_profile(doc, recording.parent / "out.txt", "collapsed")
    assert any("still being read" in e for e in window.errors)
    window.errors.clear()
    # a time range needs the rows: the tables say so rather than show the whole session
    functions = view.pane("functions")
    doc.set_range(0.0, doc.duration() / 2)
    view.refresh_visible(force=True)
    assert (functions.pending_text() or "").startswith("Loading detail")
    doc.clear_range()
    view.refresh_visible(force=True)
    assert functions.pending_text() is None
    gate.set()
    qtbot.waitUntil(lambda: not doc.detail_pending, timeout=30000)
    view.refresh_visible()
    assert len(doc.profile.samples) == 20_000 and len(window.views()) == 1  # the same tab, filled in
    for pane in (event_loop, timeline, view.pane("functions")):  # (the label covering a pane once hid it from refreshes)
        assert pane.pending_text() is None, pane.pane_id
    assert all(p.pending_text() is None for p in view.visible_panes())
    assert view.replay_bar is bar and bar.play_button.isEnabled() and bar.slider.isEnabled()
    assert not bar.time_label.text().startswith("Replay")
    assert _table(view) == first  # every number of the first frame is what the full read shows
    assert "task" in timeline.lanes.kinds  # the task lanes came with the samples
    thread_rows = [i for i, k in enumerate(timeline.lanes.kinds) if k == "thread"]
    full_lanes = timeline.lanes.arrays()
    for a, b in zip(lanes, full_lanes, strict=True):  # the thread lanes drawn first are those of the samples
        in_rows = np.isin(lanes[2], thread_rows)
        assert np.array_equal(a[in_rows], b[np.isin(full_lanes[2], thread_rows)])


def test_closing_the_tab_while_reading_cancels_the_read(qtbot: Any, window: Any, recording: Path,
                                                        gate: threading.Event) -> None:
    view = _opened(qtbot, window, recording)
    (loader,) = window.loaders
    window.close_tab(window.tabs.indexOf(view))
    with qtbot.waitSignal(loader.cancelled, timeout=20000):
        gate.set()
    qtbot.waitUntil(lambda: not window.loaders, timeout=10000)
    assert window.tabs.count() == 0 and not window.errors  # no tab comes back when the read would have ended


def test_a_small_recording_opens_whole_without_a_preview(qtbot: Any, window: Any, recording: Path) -> None:
    view = _opened(qtbot, window, recording)  # 20,000 samples: under MIN_SAMPLES, read at once
    assert not view.doc.detail_pending and len(view.doc.profile.samples) == 20_000
    assert all(p.pending_text() is None for p in view.visible_panes())
