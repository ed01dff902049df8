"""The Session pane shows the losses `stats` reports (tryout 2: "Dropped 0" beside "0.3 s unsampled").

A recording whose agent reported 0 dropped samples but 0.309 s unsampled and
12 dropped lag probes: the pane's Losses row and `stats`' "agent losses" line
name the same counters with the same words; a clean run says "none".
"""

from __future__ import annotations

from pathlib import Path

from cli_runs import run_cli

from pyrometer.app.document import Document
from pyrometer.app.panes.session import SessionPane
from pyrometer.core import example_profiles as ex
from pyrometer.core.formats.recording import read_recording, write_profile


def _pane_and_stats(qtbot, telemetry: dict[str, float], tmp_path: Path) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    p = ex.server_profile()
    p.telemetry.update(telemetry)
    path = tmp_path / "lossy.pyro"
    write_profile(p, path)
    read, report = read_recording(path)
    assert report.clean
    read.finish()
    pane = SessionPane(Document(read))
    qtbot.addWidget(pane)
    pane.refresh()
    proc = run_cli("stats", path)
    assert proc.returncode == 0, proc.stderr
    line = next((x for x in proc.stdout.splitlines() if x.startswith("agent losses:")), "")
    return pane.values["Losses"].text(), line


def test_the_session_pane_shows_the_losses_stats_reports(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shown, line = _pane_and_stats(
        qtbot, {"samples_dropped": 0, "samples_taken": 400, "unsampled_s": 0.308852, "lag_dropped": 12}, tmp_path)
    assert "0.309 s unsampled" in line and "12 lag probes dropped" in line, line
    assert "0.309 s unsampled" in shown and "12 lag probes dropped" in shown, shown
    for part in line.removeprefix("agent losses: ").split(", "):
        assert part in shown, (part, shown)


def test_samples_dropped_keep_their_share_and_a_clean_run_says_none(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shown, line = _pane_and_stats(qtbot, {"samples_dropped": 12, "samples_taken": 400}, tmp_path)
    assert "12 samples dropped" in line and shown.startswith("12 samples dropped (3.0% of those taken)"), shown
    shown, line = _pane_and_stats(qtbot, {"samples_dropped": 0, "samples_taken": 400, "unsampled_s": 0.0}, tmp_path)
    assert line == "" and shown == "none"
