"""A pane tabbed behind another does not lay itself out for every time view the timeline publishes.

`isVisible()` stays True for a dock tabbed behind another, so the Stack chart behind the Event loop
pane laid out its boxes again for each playhead of a replay (the timeline fits [0, playhead] and
publishes that view): about a third of the GUI thread's time while the slider was dragged at 30M
samples. It now lays out when it comes to the front, at the view published meanwhile.
"""

from __future__ import annotations

from pathlib import Path

from qt_windows import open_server_recording

from pyrometer.app.panes.stack_chart import StackChartPane


def test_a_stack_chart_behind_a_tab_lays_out_when_shown_at_the_view_published_meanwhile(qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    view = open_server_recording(qtbot, tmp_path)
    chart = view.pane("stack_chart")
    assert isinstance(chart, StackChartPane)
    view.show_pane("stack_chart")
    qtbot.waitUntil(lambda: chart.on_screen() and chart.seen_revision == view.doc.revision, timeout=10000)
    view.show_pane("event_loop")  # the stack chart goes behind it, in the same tab group
    qtbot.waitUntil(lambda: not chart.on_screen(), timeout=5000)
    assert chart.isVisible()  # (what the old guard looked at)
    views: list[tuple[float, float]] = []
    real = chart._lay_out

    def counted(span: tuple[float, float]) -> None:
        views.append(span)
        real(span)

    monkeypatch.setattr(chart, "_lay_out", counted)
    duration = view.doc.profile.duration()
    for frac in (0.2, 0.4, 0.6, 0.8):  # a replay's playheads: the timeline publishes [0, playhead] each time
        view.doc.set_playhead(frac * duration)
        qtbot.wait(150)
    assert views == []
    view.show_pane("stack_chart")
    qtbot.waitUntil(lambda: len(views) > 0, timeout=10000)
    span = view.doc.time_view
    assert span is not None and views[-1][1] >= min(span[1], 0.8 * duration) * 0.99, (views, span)
