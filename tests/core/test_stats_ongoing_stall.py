"""A stall still going on at a `stats --to` range's end is shown as it was then (issue 15).

A real recording of tests/helpers/two_blockers.py: in one loop iteration A held the
loop 0.3 s, then B 0.2 s, timed by the target itself. At a moment inside A's hold only
part of the stall had happened (and B had not run): `stats --to` there says so in text
and --json; past the stall's end it shows the whole of it, as before.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_runs import run_cli
from two_blockers import pair_stall, record_two_blockers

from pyrometer.core.model import BlockingEvent, Profile

Truth = dict[str, tuple[float, float]]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Profile, Truth]:
    return record_two_blockers(tmp_path_factory.mktemp("ongoing"))


def _row(data: dict, ev: BlockingEvent) -> dict:
    [row] = [b for b in data["loop"]["blocking"] if abs(b["start_s"] - ev.start) < 1e-9]
    return row


def test_a_stall_going_on_at_the_ranges_end_is_cut_there_and_marked(recorded: tuple[Path, Profile, Truth]) -> None:
    path, p, truth = recorded
    ev = pair_stall(p, truth)
    at = float(f"{truth['A'][0] + 0.1:.6f}")  # 0.1 s into A's 0.3 s hold (B has not run yet), as the command reads it
    data = json.loads(run_cli("stats", "--json", "--to", f"{at:.6f}", path).stdout)
    row = _row(data, ev)
    so_far = at - ev.start
    assert row["ongoing"] is True
    assert row["duration_ms"] == pytest.approx(so_far * 1000.0, abs=1e-3)
    assert row["duration_ms"] < ev.duration * 1000.0 - 300.0  # not the 0.5 s the stall came to
    assert [s["name"] for s in row["steps"]] == ["A"]  # B's step had not begun
    assert row["steps"][0]["duration_ms"] == pytest.approx((at - row["steps"][0]["start_s"]) * 1000.0, abs=1e-3)
    assert row["delayed"] is None and row["delayed_unrecorded"] is None  # told at the stall's end, not yet
    others = [b for b in data["loop"]["blocking"] if b is not row]
    assert all(b["ongoing"] is False for b in others)
    text = run_cli("stats", "--to", f"{at:.6f}", path).stdout
    m = re.search(rf"at {ev.start:.3f} s blocked ([\d.]+) ms so far \(still blocked at the range's end\)", text)
    assert m and abs(float(m[1]) - so_far * 1000.0) <= 0.06, text  # (shown to 0.1 ms)


def test_inside_the_second_step_the_first_is_whole_and_the_second_cut(recorded: tuple[Path, Profile, Truth]) -> None:
    path, p, truth = recorded
    ev = pair_stall(p, truth)
    at = truth["B"][0] + 0.05
    row = _row(json.loads(run_cli("stats", "--json", "--to", f"{at:.6f}", path).stdout), ev)
    steps = {s["name"]: s["duration_ms"] / 1000.0 for s in row["steps"]}
    assert steps["A"] == pytest.approx(truth["A"][1] - truth["A"][0], abs=0.02)  # whole: it was over
    assert steps["B"] == pytest.approx(0.05, abs=0.02) and steps["B"] < 0.1  # B's 0.2 s, 0.05 s in
    assert row["ongoing"] is True and row["duration_ms"] == pytest.approx((at - ev.start) * 1000.0, abs=1e-3)


def test_after_the_stall_it_is_shown_whole(recorded: tuple[Path, Profile, Truth]) -> None:
    path, p, truth = recorded
    ev = pair_stall(p, truth)
    at = ev.start + ev.duration + 0.01
    row = _row(json.loads(run_cli("stats", "--json", "--to", f"{at:.6f}", path).stdout), ev)
    assert row["ongoing"] is False and row["duration_ms"] == pytest.approx(ev.duration * 1000.0)
    held = (truth["A"][1] - truth["A"][0]) + (truth["B"][1] - truth["B"][0])
    assert 0.0 <= row["duration_ms"] / 1000.0 - held <= 0.03  # the stall is the two holds the target timed
    assert row["delayed"]  # `late` waited through it
    whole = _row(json.loads(run_cli("stats", "--json", path).stdout), ev)
    assert whole["ongoing"] is False and whole["duration_ms"] == row["duration_ms"]
