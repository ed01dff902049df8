"""Playback speeds for a day-long recording, remembered between replays; a replay in a tab sent to the back pauses.

At the old top speed (16×) a 21 h recording took 1.3 h to play; the speed reset to 1× with every file; and a
replay kept running in a tab nobody looked at after another recording was opened.
"""

from __future__ import annotations

import pytest
from long_replay import long_profile
from qt_windows import open_window, private_settings

from pyrometer.app.document import Document
from pyrometer.app.replay import SPEEDS, ReplayBar, speed_text


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def settings(tmp_path):
    return private_settings(tmp_path)


def test_an_hour_a_second_plays_two_hours_in_two_seconds(qtbot, qapp, settings) -> None:
    doc = Document(long_profile(), "day.pyro")
    clock = FakeClock()
    bar = ReplayBar(doc, clock=clock)
    qtbot.addWidget(bar)
    assert speed_text(3600.0) == "3600× (1 h/s)" and speed_text(600.0) == "600× (10 min/s)" and speed_text(16.0) == "16×"
    bar.speed.setCurrentIndex(SPEEDS.index(3600.0))
    bar.play()
    assert doc.playhead == 0.0 and bar.playing
    clock.now += 1.0
    bar._tick()
    assert doc.playhead == pytest.approx(3600.0)
    clock.now += 1.0
    bar._tick()
    assert doc.playhead is None and not bar.playing  # the end: stopped there, showing everything


def test_the_speed_is_remembered_for_the_next_replay(qtbot, qapp, settings) -> None:
    first = ReplayBar(Document(long_profile(), "a.pyro"))
    qtbot.addWidget(first)
    assert first.speed.currentData() == 1.0
    first.speed.setCurrentIndex(SPEEDS.index(600.0))
    second = ReplayBar(Document(long_profile(), "b.pyro"))
    qtbot.addWidget(second)
    assert second.speed.currentData() == 600.0


def test_opening_another_recording_pauses_the_replay_in_the_tab_behind(qtbot, qapp, settings) -> None:
    win = open_window(qtbot, 1366, 768)
    view = win.add_document(Document(long_profile(), "a.pyro"))
    qtbot.waitExposed(win)
    bar = view.replay_bar
    assert bar is not None
    bar.play()
    assert bar.playing and view.doc.playing
    win.add_document(Document(long_profile(), "b.pyro"))
    assert win.current_view() is not view
    assert not bar.playing and not view.doc.playing
    at = view.doc.playhead
    qtbot.wait(200)
    assert view.doc.playhead == at  # it stays where it was until the user comes back and plays it


def test_a_recording_still_being_written_offers_to_open_it_again(qtbot, qapp, settings, tmp_path) -> None:
    """A recording opened while `record` still writes it showed what it held then, and nothing said it went on."""
    from pyrometer.core.formats.recording import write_profile

    path = tmp_path / "running.pyro"
    profile = long_profile()
    write_profile(profile, path)  # no end mark: as a recording whose recorder has not stopped yet
    doc = Document(profile, path)
    assert doc.profile.end is None
    bar = ReplayBar(doc)
    qtbot.addWidget(bar)
    bar.show()
    assert not bar.grown_action.isVisible()
    with path.open("ab") as f:
        f.write(b"\0" * 64)  # the recorder writes on
    qtbot.waitUntil(bar.grown_action.isVisible, timeout=5000)
    with qtbot.waitSignal(doc.openRequested, timeout=1000) as asked:
        bar.grown_button.click()
    assert asked.args == [str(path)]


def test_a_closed_recording_is_not_watched(qtbot, qapp, settings, tmp_path) -> None:
    from pyrometer.core.formats.recording import write_profile

    path = tmp_path / "done.pyro"
    profile = long_profile()
    profile.end = {"t": profile.duration(), "exit_status": 0, "reason": "exit"}
    write_profile(profile, path)
    bar = ReplayBar(Document(profile, path))
    qtbot.addWidget(bar)
    assert bar._watcher is None


def test_going_to_the_end_while_playing_stops_there(qtbot, qapp, settings) -> None:
    """End (or a step past the end) during playback: the next tick restarted the replay from 0."""
    doc = Document(long_profile(), "day.pyro")
    clock = FakeClock()
    bar = ReplayBar(doc, clock=clock)
    qtbot.addWidget(bar)
    bar.play()
    clock.now += 0.5
    bar._tick()
    assert doc.playhead == pytest.approx(0.5)
    bar.seek(None)
    clock.now += 0.5
    bar._tick()
    assert doc.playhead is None and not bar.playing


def test_speeds_too_fast_for_a_short_recording_are_not_offered(qtbot, qapp, settings) -> None:
    """3600x kept from a day-long replay ended a 4 s demo in one tick, with nothing shown."""
    from PySide6.QtCore import QSettings

    from pyrometer.app.replay import SPEED_KEY
    from pyrometer.core.example_profiles import server_profile

    QSettings().setValue(SPEED_KEY, 3600.0)
    long_bar = ReplayBar(Document(long_profile(), "day.pyro"))  # 2 h: at 3600x, 2 s
    qtbot.addWidget(long_bar)
    assert long_bar.speed.currentData() == 3600.0
    short = Document(server_profile(), "demo.pyro")  # 1.3 s
    bar = ReplayBar(short)
    qtbot.addWidget(bar)
    model = bar.speed.model()
    offered = [s for i, s in enumerate(SPEEDS) if model.item(i).isEnabled()]
    assert offered == [s for s in SPEEDS if s <= 1.0]
    assert bar.speed.currentData() == 1.0  # the fastest offered
    assert "1.30 s" in model.item(SPEEDS.index(1.0)).toolTip()
    assert QSettings().value(SPEED_KEY) in (3600.0, "3600.0")  # kept for the next long recording


def test_reading_progress_changes_the_label_and_nothing_else(qtbot, qapp, settings) -> None:
    """A huge recording's read reports progress many times a second: each report set the play button's
    icon and both widgets' states again, and the window laid out and painted again (~100 ms a turn)."""
    doc = Document(long_profile(), "day.pyro")
    bar = ReplayBar(doc, clock=FakeClock())
    qtbot.addWidget(bar)
    icons: list[object] = []
    bar.play_button.setIcon = icons.append  # type: ignore[method-assign]
    for k in range(1, 10):
        doc.set_detail_progress(k / 10)
    assert icons == []
    bar.play()  # a real change of state still shows
    assert len(icons) == 1 and bar.play_button.text() == "Pause"
