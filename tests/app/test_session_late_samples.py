"""The Session pane says when samples came late (the sampler waited for the GIL), in one line.

The counts are measured end to end in tests/core/test_agent_late_samples.py;
here the pane's wording: the sentence from a significant share, the bare
share below it, a dash for recordings that do not carry the counter.
"""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from pyrometer.app.document import Document
from pyrometer.app.panes.session import SessionPane, session_facts
from pyrometer.core.example_profiles import server_profile


def test_significant_share_gets_the_sentence(qtbot: QtBot) -> None:
    p = server_profile()
    p.telemetry = {"late_ticks": 30, "sampler_ticks": 150}
    doc = Document(p)
    pane = SessionPane(doc)
    qtbot.addWidget(pane)
    pane.refresh()
    text = pane.values["Late samples"].text()
    assert text.startswith("20% of samples were taken late, waiting for the GIL"), text
    assert "charged to where threads release the GIL" in text


def test_small_share_and_old_recordings() -> None:
    p = server_profile()
    p.telemetry = {"late_ticks": 3, "sampler_ticks": 150}
    assert session_facts(Document(p))["Late samples"] == "2.0% (within sampling noise)"
    p2 = server_profile()
    p2.telemetry = {}
    assert session_facts(Document(p2))["Late samples"] == "–"


def test_a_starved_sampler_is_said_beside_the_rate() -> None:
    p = server_profile()
    p.telemetry = {"rate_hz": 100.0, "effective_rate_hz": 10.0, "sampler_ticks": 64, "busy_ticks": 58}
    text = session_facts(Document(p))["Effective rate"]
    assert text.startswith("10.0 Hz per thread — the sampler reached 10 Hz of the 100 Hz asked"), text
    p.telemetry["effective_rate_hz"] = 95.0
    assert session_facts(Document(p))["Effective rate"] == "95.0 Hz per thread"
