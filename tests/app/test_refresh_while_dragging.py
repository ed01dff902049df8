"""While a replay's playhead is dragged, every pane on screen keeps drawing, not only the first few.

Each refresh tick finds every pane stale again (the playhead moved since). The scheduler refreshed the
stale panes one per event-loop turn in a fixed order and restarted that order at each tick, so when the
panes' refreshes together took longer than a tick, the last ones drew nothing until the drag ended.
"""

from __future__ import annotations

import time
from pathlib import Path

from qt_windows import open_server_recording

from pyrometer.app.panes.base import Pane

SLOW_S = 0.06  # each pane's refresh takes this long: four of them are longer than a refresh tick (0.1 s)
DRAG_LIMIT_S = 15.0  # unloaded, every pane draws within ~0.5 s


def test_every_pane_on_screen_draws_while_the_playhead_is_dragged(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    view = open_server_recording(qtbot, tmp_path)
    assert view.replay_bar is not None
    view.refresh_visible()
    shown: list[Pane] = list(view.visible_panes())
    assert len(shown) >= 4, [p.pane_id for p in shown]
    drawn = {p.pane_id: 0 for p in shown}

    def slow(pane: Pane) -> None:
        real = pane.refresh

        def refresh() -> None:
            time.sleep(SLOW_S)
            real()
            drawn[pane.pane_id] += 1

        pane.refresh = refresh  # type: ignore[method-assign]

    for pane in shown:
        slow(pane)
    duration = view.doc.profile.duration()
    end = time.monotonic() + DRAG_LIMIT_S
    step = 0
    # a hand on the slider: a new playhead every 30 ms, until every pane drew one (or the limit: a drag that
    # long should have drawn each many times; before, the last panes in the order drew none however long)
    while not all(drawn.values()) and time.monotonic() < end:
        step += 1
        view.replay_bar.seek(duration * (0.2 + 0.6 * (step % 50) / 50))
        qtbot.wait(30)
    assert all(n > 0 for n in drawn.values()), drawn
    assert view.doc.playhead is not None and step > 1  # it was still dragging when the last pane drew
