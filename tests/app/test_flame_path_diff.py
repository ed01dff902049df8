"""The flame graph's difference colours are per call path, checked against two real cProfile runs.

A new user compared two runs of a program where `burn` is called from `burn_main` and from `other`:
the time under `burn_main -> burn` doubled, under `other -> burn` halved, and the `burn_main -> burn`
box said "faster", because it was coloured by `burn`'s share as a whole. Each box is one call path
and must be coloured (and explained in its tooltip) by the change of that path. The truth is measured
inside the program (time.thread_time around every call on each path), independently of cProfile
(which is given the same clock, so the CPU time other processes take does not skew either).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from qt_windows import show_pane

from pyrometer.app.document import Document
from pyrometer.app.flame_colors import NEW_PATH_COLOR
from pyrometer.app.panes.flame import FlamePane
from pyrometer.core.formats import registry

PROGRAM = textwrap.dedent(
    """
    import cProfile, json, sys, time

    clock = time.thread_time  # CPU time, for cProfile and the truth alike: other load on the machine does not skew it
    seconds = {"burn_main>burn": 0.0, "other>burn": 0.0, "main": 0.0}

    def burn(n):
        x = 0
        for i in range(n):
            x += i * i
        return x

    def spin(n):  # a third path whose growth shrinks burn's share as a whole
        x = 0
        for i in range(n):
            x += i ^ 3
        return x

    def burn_main(calls, n):
        for _ in range(calls):
            t = clock(); burn(n); seconds["burn_main>burn"] += clock() - t

    def other(calls, n):
        for _ in range(calls):
            t = clock(); burn(n); seconds["other>burn"] += clock() - t

    def main(a, b, s, n):
        burn_main(a, n)
        other(b, n)
        spin(s * n)

    a, b, s, n = (int(v) for v in sys.argv[3:7])
    prof = cProfile.Profile(clock)
    prof.enable()
    t0 = clock()
    main(a, b, s, n)
    seconds["main"] = clock() - t0
    prof.disable()
    prof.dump_stats(sys.argv[1])
    with open(sys.argv[2], "w") as fh:
        json.dump(seconds, fh)
    """
)
N = 20_000  # one burn(N) is ~1 ms


def profile_run(tmp_path: Path, name: str, burn_main_calls: int, other_calls: int, spin_calls: int) -> tuple[Path, dict[str, float]]:
    script = tmp_path / "burner.py"
    script.write_text(PROGRAM)
    prof, truth = tmp_path / f"{name}.prof", tmp_path / f"{name}.json"
    args = [str(prof), str(truth), str(burn_main_calls), str(other_calls), str(spin_calls), str(N)]
    subprocess.run([sys.executable, str(script), *args], check=True, timeout=60)
    seconds: dict[str, float] = json.loads(truth.read_text())
    return prof, seconds


def box_of_path(pane: FlamePane, names: list[str]) -> int:
    p = pane._profile
    assert p is not None and pane.tree is not None
    funcs = [next(f for f, n in enumerate(p.func_name) if n == name and p.func_file[f].endswith("burner.py")) for name in names]
    node = pane.tree.find(funcs)
    assert node > 0, names
    return int(pane._node_box[node])


def shown_share(tip: str, what: str) -> float:
    m = re.search(rf"{what} (-?[0-9.]+)%", tip)
    assert m, tip
    return float(m.group(1)) / 100


def test_each_box_is_coloured_by_its_own_call_path(qtbot: Any, tmp_path: Path) -> None:
    # burn(N) calls: baseline burn_main 10, other 80, spin 10; new: burn_main 8x, other 1/8, spin 16x
    # (wide margins: a call's CPU time varies by half on a loaded machine, the direction must not)
    base_file, base_truth = profile_run(tmp_path, "before", 10, 80, 10)
    new_file, new_truth = profile_run(tmp_path, "after", 80, 10, 160)
    assert new_truth["burn_main>burn"] > 3 * base_truth["burn_main>burn"]  # the program did what it says
    assert new_truth["other>burn"] < base_truth["other>burn"] / 3

    doc = Document(registry.load_profile(new_file))
    pane = show_pane(qtbot, FlamePane(doc), 1000, 400)
    with qtbot.waitSignal(doc.baselineChanged, timeout=30_000):
        doc.load_baseline(base_file, show_dialog=False)
    assert pane.color_combo.currentData() == "diff"

    d = pane._path_diff
    assert d is not None and pane.layout_ is not None
    node_of_box = np.asarray(pane.layout_.node, np.int64)

    def share(truth: dict[str, float], path: str) -> float:
        return truth[path] / truth["main"]

    for path, names, sign in (
        ("burn_main>burn", ["main", "burn_main", "burn"], +1),
        ("other>burn", ["main", "other", "burn"], -1),
    ):
        box = box_of_path(pane, names)
        node = int(node_of_box[box])
        tip = pane.tooltip(box)
        # the tooltip's numbers are the measured truth of that path, before and after
        now, was = shown_share(tip, "this call path:"), shown_share(tip, ",")
        assert now == pytest.approx(share(new_truth, path), abs=0.02), (path, tip, new_truth)
        assert was == pytest.approx(share(base_truth, path), abs=0.02), (path, tip, base_truth)
        truth_delta = share(new_truth, path) - share(base_truth, path)
        assert np.sign(truth_delta) == sign
        points = float(re.search(r": ([+-][0-9.]+) points", tip).group(1))  # type: ignore[union-attr]
        assert points / 100 == pytest.approx(truth_delta, abs=0.03), tip
        assert ("slower" if sign > 0 else "faster") in tip
        # and the colour says the same as the tooltip: red for slower, blue for faster
        assert float(d.delta[node]) == pytest.approx(truth_delta, abs=0.03)
        pixel = pane.grab().toImage().pixelColor(box_pixel(pane, box))
        if sign > 0:
            assert pixel.red() > pixel.blue() + 40, (path, pixel.name())
        else:
            assert pixel.blue() > pixel.red() + 40, (path, pixel.name())

    # main is the whole run on both sides: unchanged, neutral (float noise of 1 - 1 once tinted it pink)
    main = box_of_path(pane, ["main"])
    assert "(unchanged)" in pane.tooltip(main)
    pixel = pane.grab().toImage().pixelColor(box_pixel(pane, main))
    assert abs(pixel.red() - pixel.blue()) < 10, pixel.name()

    # what the old colouring used: `burn` as a whole lost share (spin grew), so it looked "faster" everywhere
    burn_total = lambda t: (t["burn_main>burn"] + t["other>burn"]) / t["main"]  # noqa: E731
    assert burn_total(new_truth) < burn_total(base_truth)


def box_pixel(pane: FlamePane, box: int) -> Any:
    from PySide6 import QtCore

    r = pane.item.box_rect(box)
    pt = QtCore.QPointF(r.x() + r.width() * 0.9, r.y() + r.height() * 0.75)
    scene = pane.view_box.mapViewToScene(pt)
    return pane.view.mapTo(pane, pane.view.mapFromScene(scene))


def test_a_path_the_baseline_never_ran_is_new(qtbot: Any) -> None:
    """`main -> work -> compute` against a baseline with only `main -> compute`: new, its own colour."""
    from pyrometer.core.model import UNIT_SAMPLES, Profile

    def build(paths: list[tuple[list[str], int]]) -> Profile:
        p = Profile(unit=UNIT_SAMPLES)
        stacks: list[int] = []
        for names, count in paths:
            frames = [p.intern_frame(n, "/home/u/app.py", 10 * (i + 1), 10 * (i + 1)) for i, n in enumerate(names)]
            stacks += [p.intern_stack_path(frames)] * count
        p.add_samples(np.arange(len(stacks)) * 0.01, np.zeros(len(stacks), np.int32), np.array(stacks))
        p.finish()
        return p

    new = build([(["main", "work", "compute"], 4), (["main", "idle"], 6)])
    base = build([(["main", "compute"], 5), (["main", "idle"], 5)])
    pane = show_pane(qtbot, FlamePane(Document(new)), 900, 400)
    pane.set_baseline(base, "base.pyro")
    d = pane._path_diff
    assert d is not None and pane.layout_ is not None and pane.tree is not None
    p = pane._profile
    assert p is not None
    fid = {n: p.func_name.index(n) for n in ("main", "work", "compute", "idle")}
    for names, new_path in ((["main", "work"], True), (["main", "work", "compute"], True), (["main", "idle"], False)):
        node = pane.tree.find([fid[n] for n in names])
        box = int(pane._node_box[node])
        assert bool(d.is_new[node]) == new_path
        pixel = pane.grab().toImage().pixelColor(box_pixel(pane, box))
        assert ((pixel.red(), pixel.green(), pixel.blue()) == NEW_PATH_COLOR) == new_path, (names, pixel.name())
        tip = pane.tooltip(box)
        assert ("never ran it" in tip) == new_path, tip
    idle = int(pane._node_box[pane.tree.find([fid["main"], fid["idle"]])])
    assert "60.0% of the total, 50.0% in base.pyro: +10.0 points (slower)" in pane.tooltip(idle)
    assert "new call path" in pane.legend.text()
