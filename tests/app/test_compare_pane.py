"""The Compare pane over real profiles: two cProfile runs of one program, before and after a change."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QMessageBox
from qt_windows import show_pane

from pyrometer.app.document import Document
from pyrometer.app.panes.compare import ComparePane
from pyrometer.app.panes.compare_model import (
    COL_BASE_PCT,
    COL_CHANGE,
    COL_DELTA,
    COL_FUNCTION,
    FASTER,
    SLOWER,
    CompareTableModel,
)
from pyrometer.core.analysis.diff import diff_functions
from pyrometer.core.analysis.transforms import Transform, map_transform
from pyrometer.core.formats.registry import load_profile
from pyrometer.core.model import UNIT_SAMPLES, Profile

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats"
PROGRAM = '''
import sys

N = int(sys.argv[1])


def sum_squares(n):
    s = 0
    for i in range(n):
        s += i * i
    return s


def slow():
    return sum_squares(N)


def steady_a():
    s = 0
    for i in range(150_000):
        s += i
    return s


def steady_b():
    s = 0
    for i in range(150_000):
        s += i
    return s


def main():
    slow()
    steady_a()
    steady_b()


main()
'''


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """before.prof / after.prof: cProfile of the same script, where sum_squares does 30x more work after."""
    d = tmp_path_factory.mktemp("runs")
    script = d / "prog.py"  # one path for both runs, as for a program edited in place
    script.write_text(PROGRAM)
    out = []
    for name, n in (("before", 30_000), ("after", 900_000)):
        prof = d / f"{name}.prof"
        subprocess.run([sys.executable, "-m", "cProfile", "-o", str(prof), str(script), str(n)], check=True, timeout=60)
        out.append(prof)
    return out[0], out[1]


@pytest.fixture
def pane(qtbot, runs):  # type: ignore[no-untyped-def]
    _before, after = runs
    doc = Document(load_profile(after), after)
    return show_pane(qtbot, ComparePane(doc), 1100, 360)


def _load(qtbot, pane: ComparePane, path: Path) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(pane.baselineChanged, timeout=20000):
        pane.load_baseline(path, show_dialog=False)


def _row_of(model: CompareTableModel, name: str) -> int:
    for r in range(model.rowCount()):
        if model.index(r, COL_FUNCTION).data() == name:
            return r
    return -1


def test_empty_state_invites_a_baseline(pane: ComparePane) -> None:
    assert pane.stack.currentWidget() is pane.placeholder
    assert "Choose a baseline profile" in pane.placeholder.text()
    assert "before your change" in pane.placeholder.text()
    assert not pane.table_controls.isVisibleTo(pane)  # no Stop comparing, filter or By: before there is a table
    assert pane.model.rowCount() == 0


def test_the_function_that_got_slower_is_the_top_row_in_red(qtbot, pane: ComparePane, runs) -> None:  # type: ignore[no-untyped-def]
    before, _after = runs
    _load(qtbot, pane, before)
    assert pane.stack.currentWidget() is pane.view and pane.table_controls.isVisibleTo(pane)
    assert pane.baseline_name == "before.prof" and "before.prof" in pane.baseline_label.text()
    d = pane.diff
    assert d is not None and d.matched > 0
    # what the identity matched is in the tooltips (the one-row header must fit 1366 px)
    assert f"{d.matched:,} functions in both, {d.only_base:,} only before, {d.only_new:,} only now" in pane.baseline_label.toolTip()
    # the one-row header is clipped in a 1366-px window: its tooltip carries the counts too
    assert f"{d.matched:,} functions in both" in pane.baseline_label.toolTip()
    m = pane.model
    assert m.index(0, COL_FUNCTION).data() == "sum_squares"
    assert m.index(0, COL_DELTA).data().startswith("+")
    assert m.diff is not None and float(m.diff.delta[m.diff_row(0)]) > 0.3
    assert QColor(m.index(0, COL_DELTA).data(Qt.ItemDataRole.BackgroundRole)).rgb() == SLOWER.rgb()
    for name in ("steady_a", "steady_b"):  # the same work, a smaller share of a longer run: "faster"
        r = _row_of(m, name)
        assert 0 < r <= 2
        assert m.index(r, COL_DELTA).data().startswith("−")
        assert QColor(m.index(r, COL_DELTA).data(Qt.ItemDataRole.BackgroundRole)).rgb() == FASTER.rgb()
    # selecting a row selects the function (this run's id) everywhere
    pane.view.selectRow(_row_of(m, "steady_b"))
    assert pane.doc.selected_function == pane.doc.profile.func_name.index("steady_b")
    pane.doc.select_function(pane.doc.profile.func_name.index("sum_squares"))
    assert pane.view.selectionModel().currentIndex().row() == 0


def test_by_total_counts_callees(qtbot, pane: ComparePane, runs) -> None:  # type: ignore[no-untyped-def]
    _load(qtbot, pane, runs[0])
    slow = _row_of(pane.model, "slow")
    assert pane.model.index(slow, COL_DELTA).data() == "0.0"  # slow's own time is nil either way
    pane.by_combo.setCurrentIndex(pane.by_combo.findData("total"))
    assert pane.diff is not None and pane.diff.by == "total"
    slow = _row_of(pane.model, "slow")
    assert pane.model.index(slow, COL_DELTA).data().startswith("+")  # with sum_squares under it, it grew


def test_model_passes_qtmodeltester(qtmodeltester, runs) -> None:  # type: ignore[no-untyped-def]
    base, new = (load_profile(p) for p in runs)
    model = CompareTableModel()
    diff = diff_functions(base, new)
    model.set_diff(diff, np.arange(len(diff)), (base.unit, new.unit))
    qtmodeltester.check(model)
    model.set_filter("steady")
    qtmodeltester.check(model)
    model.set_diff(None)
    qtmodeltester.check(model)


def test_filter_sort_and_top_n(qtbot, pane: ComparePane, runs) -> None:  # type: ignore[no-untyped-def]
    _load(qtbot, pane, runs[0])
    m = pane.model
    pane.filter_edit.setText("steady")
    assert sorted(m.index(r, COL_FUNCTION).data() for r in range(m.rowCount())) == ["steady_a", "steady_b"]
    assert pane.count_label.text() == "2 functions"
    pane.view.sortByColumn(COL_FUNCTION, Qt.SortOrder.DescendingOrder)
    assert [m.index(r, COL_FUNCTION).data() for r in range(2)] == ["steady_b", "steady_a"]
    pane.top_spin.setValue(1)
    assert m.rowCount() == 1 and pane.count_label.text() == "1 of 2"
    pane.top_spin.setValue(0)
    pane.filter_edit.clear()
    pane.view.sortByColumn(COL_BASE_PCT, Qt.SortOrder.DescendingOrder)
    shares = [float(m.index(r, COL_BASE_PCT).data().rstrip("%")) for r in range(m.rowCount())]
    assert shares == sorted(shares, reverse=True) and shares[0] > 30  # steady_a/b had most of the baseline
    pane.view.sortByColumn(COL_CHANGE, Qt.SortOrder.DescendingOrder)
    assert m.index(0, COL_FUNCTION).data() == "sum_squares"  # biggest relative growth


def test_a_corrupt_baseline_says_which_file_and_why(qtbot, pane: ComparePane, tmp_path: Path, runs) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "broken.prof"
    bad.write_bytes(b"\x00\x01not a profile at all" * 10)
    with qtbot.waitSignal(pane.baselineFailed, timeout=20000) as blocker:
        pane.load_baseline(bad, show_dialog=False)
    assert "broken.prof" in blocker.args[0] and "broken.prof" in pane.last_error
    assert pane.error_label.isVisible() and pane.baseline is None
    assert pane.stack.currentWidget() is pane.placeholder
    boxes = [w for w in pane.findChildren(QMessageBox) if w.isVisible()]
    assert boxes and "broken.prof" in boxes[0].text()
    boxes[0].close()
    _load(qtbot, pane, runs[0])  # a good one afterwards clears the error
    assert not pane.error_label.isVisible() and pane.model.rowCount() > 0


def _timed_profile(a_then_b: bool) -> Profile:
    """10 samples 0.1 s apart in `a` and `b` (both user code): first five in a, last five in b, or interleaved."""
    p = Profile(unit=UNIT_SAMPLES)
    main = p.intern_frame("main", "/home/u/app.py", 1, 1)
    a = p.intern_stack_path([main, p.intern_frame("a", "/home/u/app.py", 10, 9)])
    b = p.intern_stack_path([main, p.intern_frame("b", "/home/u/app.py", 20, 19)])
    stacks = [a] * 5 + [b] * 5 if a_then_b else [a, b] * 5
    p.add_samples(np.arange(10) * 0.1, np.zeros(10, np.int32), np.array(stacks))
    p.finish()
    return p


def test_the_selected_range_and_transform_apply(qtbot) -> None:  # type: ignore[no-untyped-def]
    doc = Document(_timed_profile(a_then_b=True))
    pane = ComparePane(doc)
    qtbot.addWidget(pane)
    pane.set_baseline(_timed_profile(a_then_b=False), "even.pyro")
    assert pane.diff is not None and np.allclose(pane.diff.delta, 0.0)  # whole runs: the same shares
    doc.set_range(0.45, 1.0)  # this run's second half: only b
    pane.refresh()
    d = pane.diff
    assert d is not None
    assert float(d.delta[d.name.index("b")]) == pytest.approx(0.5)
    assert float(d.delta[d.name.index("a")]) == pytest.approx(-0.5)
    doc.clear_range()
    doc.set_transform(Transform(focus_function=doc.profile.func_name.index("a")))  # both sides focus on a
    pane.refresh()
    d = pane.diff
    assert d is not None and float(d.new_frac[d.name.index("a")]) == pytest.approx(1.0)
    assert float(d.base_frac[d.name.index("a")]) == pytest.approx(1.0)
    assert "b" not in d.name


def test_map_transform_translates_function_ids_by_name_and_file() -> None:
    src, dst = _timed_profile(True), Profile(unit=UNIT_SAMPLES)
    dst.intern_frame("b", "/home/u/app.py", 20, 19)  # id 0 in dst
    t = map_transform(Transform(focus_function=src.func_name.index("b"), merge_functions=frozenset({src.func_name.index("a")})), src, dst)
    assert t is not None and t.focus_function == 0 and t.merge_functions == frozenset()
    t = map_transform(Transform(focus_function=src.func_name.index("a")), src, dst)
    assert t is not None and t.focus_function == -1  # not in dst: focusing on it leaves nothing
    assert map_transform(None, src, dst) is None


def test_registered_tabbed_below_and_drives_the_flame_graph(qtbot, runs) -> None:  # type: ignore[no-untyped-def]
    from pyrometer.app.session_view import SessionView

    view = SessionView(Document(load_profile(runs[1]), runs[1]))
    qtbot.addWidget(view)
    view.resize(1400, 900)
    view.show()
    qtbot.waitExposed(view)
    pane = view.pane("Compare")
    assert isinstance(pane, ComparePane)
    dock = view.docks[pane.objectName()]
    assert view.dockWidgetArea(dock) == Qt.DockWidgetArea.BottomDockWidgetArea
    assert view.tabifiedDockWidgets(dock)  # a tab among the bottom panes, not a new strip of its own
    flame = view.pane("Flame graph")
    assert flame is not None
    view.show_pane("Compare")
    _load(qtbot, pane, runs[0])
    assert flame.color_combo.currentData() == "diff"  # type: ignore[attr-defined]
    assert flame.compare_button.text() == "Stop comparing"  # type: ignore[attr-defined]
    pane.stop_button.click()
    assert pane.baseline is None and pane.stack.currentWidget() is pane.placeholder
    assert flame.color_combo.currentData() != "diff"  # type: ignore[attr-defined]
    assert flame.compare_button.text() == "Compare…"  # type: ignore[attr-defined]


# ------------------------------------------------------------------ the CLI, end to end
def _env(tmp_path: Path) -> dict[str, str]:
    return dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "cfg"), HOME=str(tmp_path))


def _faster_cells(png: Path) -> int:
    """Pixels of the 'faster' wash (light blue; the selection's darker blue does not count).

    The slower function is the top row, and selected (the window selects the hottest
    function of a loaded profile), so its red is under the selection highlight.
    """
    img = QImage(str(png))
    assert not img.isNull()
    n = 0
    for y in range(0, img.height(), 2):
        for x in range(0, img.width(), 4):
            c = img.pixelColor(x, y)
            n += c.red() > 100 and c.blue() > 200 and c.blue() > c.red() + 50 and c.green() < c.blue() - 25
    return n


def test_open_with_baseline_screenshot(tmp_path: Path, runs) -> None:  # type: ignore[no-untyped-def]
    before, after = runs
    # (the whole window's screenshot, its size, is tested in test_app_live.py: an app start each costs ~1.5 s of CPU)
    pane_shot = tmp_path / "compare.png"
    cmd = [sys.executable, "-m", "pyrometer", "open", str(after), "--baseline", str(before)]
    proc = subprocess.run(
        [*cmd, "--screenshot", str(pane_shot), "--screenshot-pane", "Compare"],
        capture_output=True, text=True, timeout=120, env=_env(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    assert _faster_cells(pane_shot) > 50  # the baseline was applied: the rows that got faster are blue
    # without a baseline the same pane shows its placeholder: no coloured rows
    proc = subprocess.run(
        [sys.executable, "-m", "pyrometer", "open", str(after), "--screenshot", str(pane_shot), "--screenshot-pane", "Compare"],
        capture_output=True, text=True, timeout=120, env=_env(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    assert _faster_cells(pane_shot) == 0


def test_open_with_a_bad_baseline_fails_with_a_message(tmp_path: Path, runs) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "old.speedscope.json"
    bad.write_text('{"$schema": "https://www.speedscope.app/file-format-schema.json", "profiles": [')
    proc = subprocess.run(
        [sys.executable, "-m", "pyrometer", "open", str(runs[1]), "--baseline", str(bad), "--screenshot", str(tmp_path / "s.png")],
        capture_output=True, text=True, timeout=120, env=_env(tmp_path),
    )
    assert proc.returncode != 0
    assert "old.speedscope.json" in proc.stderr and "Traceback" not in proc.stderr


def test_baseline_without_a_profile_to_compare_is_refused(tmp_path: Path, runs) -> None:  # type: ignore[no-untyped-def]
    proc = subprocess.run(
        [sys.executable, "-m", "pyrometer", "open", "--baseline", str(runs[0]), "--screenshot", str(tmp_path / "s.png")],
        capture_output=True, text=True, timeout=60, env=_env(tmp_path),
    )
    assert proc.returncode == 2 and "--baseline needs a profile" in proc.stderr
    assert not (tmp_path / "s.png").exists()


def test_the_latest_choice_wins_over_a_load_still_running(qtbot, pane: ComparePane, tmp_path: Path, runs) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "broken.prof"
    bad.write_bytes(b"garbage" * 50)
    failures: list[str] = []
    pane.baselineFailed.connect(failures.append)
    pane.load_baseline(bad, show_dialog=False)
    with qtbot.waitSignal(pane.baselineChanged, timeout=20000):
        pane.load_baseline(runs[0], show_dialog=False)
    qtbot.wait(300)  # time for the first loader's failure to arrive: it must be ignored
    assert pane.baseline_name == "before.prof" and pane.last_error == "" and not failures
    assert not [w for w in pane.findChildren(QMessageBox) if w.isVisible()]


def test_the_flame_graphs_compare_sets_the_one_baseline_off_the_gui_thread(qtbot, runs, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Flame graph › Compare… and the Compare pane share the document's baseline; the file is read off the GUI thread."""
    from PySide6.QtWidgets import QFileDialog

    from pyrometer.app.session_view import SessionView

    before, after = runs
    view = SessionView(Document(load_profile(after), after))
    qtbot.addWidget(view)
    view.resize(1400, 900)
    view.show()
    qtbot.waitExposed(view)
    flame, pane = view.pane("flame_graph"), view.pane("compare")
    assert flame is not None and isinstance(pane, ComparePane)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(before), "")))
    with qtbot.waitSignal(view.doc.baselineChanged, timeout=20000):
        flame.compare_button.click()  # type: ignore[attr-defined]
        assert view.doc.baseline is None  # not read on the GUI thread inside the click: it lands later
    assert pane.baseline is view.doc.baseline is not None and pane.baseline_name == "before.prof"
    view.show_pane("compare")
    view.refresh_visible()
    assert pane.stack.currentWidget() is pane.view and pane.model.rowCount() > 0
    assert flame.color_combo.currentData() == "diff" and flame.compare_button.text() == "Stop comparing"  # type: ignore[attr-defined]
    flame.compare_button.click()  # type: ignore[attr-defined]  # Stop comparing, from the flame graph
    assert view.doc.baseline is None and pane.baseline is None and pane.stack.currentWidget() is pane.placeholder


def test_baseline_dialog_offers_every_readable_format() -> None:
    """Compare's hand-written filter hid pprof, .cpuprofile, Austin and MOJO files it reads."""
    from pyrometer.app.main_window import OPEN_FILTER
    from pyrometer.app.panes.compare import FILE_FILTER
    from pyrometer.core.formats.registry import importers

    for dialog_filter in (FILE_FILTER, OPEN_FILTER):
        patterns = dialog_filter.split("(", 1)[1].split(")", 1)[0].split()
        for imp in importers():
            for ext in imp.extensions:
                assert ("*" + ext if ext.startswith(".") else ext) in patterns, (imp.name, ext)


def test_the_header_fits_1366_pixels_with_a_long_baseline_name(qtbot, runs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """At 1366 px the header said "vs NAME · 5.93 s now," and was cut there: the totals, the red/blue
    key and the counts were lost. Now it is whole (a long name elided in the middle) and cannot force
    the window wider than the screen."""
    before, after = runs
    long_name = tmp_path / ("a_rather_long_baseline_recording_name_from_before_the_change_" + "x" * 40 + ".prof")
    long_name.write_bytes(before.read_bytes())
    pane = show_pane(qtbot, ComparePane(Document(load_profile(after), after)), 1366, 300)
    _load(qtbot, pane, long_name)
    qtbot.waitUntil(lambda: pane.diff is not None)
    QApplication.processEvents()  # the layout settles after the label's new text
    label = pane.baseline_label
    assert pane.minimumSizeHint().width() <= 1366 - 20  # room for the dock's frame
    assert label.width() >= label.sizeHint().width(), (label.width(), label.sizeHint().width())  # nothing cut off
    text = label.text()
    assert "before" in text and "slower" in text and "faster" in text
    # the sums of all threads' time, not the runs' durations (a 4.9 s run read "9.75 s now"): named "total"
    assert "total " in text and "not the run's duration" in label.toolTip()
    assert "…" in text and str(long_name) in label.toolTip()  # the name elided, whole in the tooltip
    assert "functions in both" in label.toolTip() and "functions in both" in pane.count_label.toolTip()
    filter_edit = pane.filter_edit
    assert filter_edit.width() >= filter_edit.minimumWidth() >= 100  # the filter gave way, and stays usable


def _sampled(stacks: list[tuple[str, ...]]) -> Profile:
    """One 10 ms sample per stack (outermost first), all in one file."""
    p = Profile()
    sids = [p.intern_stack_path([p.intern_frame(name, "/prog.py", i + 1) for i, name in enumerate(stack)]) for stack in stacks]
    t = np.arange(len(sids), dtype=np.float64) * 0.01
    p.add_samples(t, 1, sids, weight=np.full(len(sids), 0.01))
    p.finish()
    return p


def test_new_and_gone_only_for_a_function_missing_from_one_run() -> None:
    """`main` ran in both runs but had no self time in the baseline: Change said 'new', while the
    header says 'new' means 'the function is in one run only'. `helper` lost all its self time
    but still calls `work`: it said 'gone'."""
    base = _sampled([("main", "helper")] * 5 + [("main", "helper", "work")] * 5)
    new = _sampled([("main",)] * 3 + [("main", "helper", "work")] * 5 + [("main", "fresh")] * 2)
    model = CompareTableModel()
    diff = diff_functions(base, new)
    model.set_diff(diff, np.asarray(diff.new_func), (base.unit, new.unit))
    change = {model.index(r, COL_FUNCTION).data(): model.index(r, COL_CHANGE).data() for r in range(model.rowCount())}
    assert change["fresh"] == "new"  # only in this run
    assert change["main"] not in ("new", "gone", ""), change  # in both: its self share rose from 0
    assert change["helper"] == "−100%", change  # in both: its self share fell to 0


def _sleeper_profile(path: Path, *timer: object) -> Path:
    """cProfile (default timer, or `timer`) of 10 ms of work and two 20 ms sleeps."""
    import cProfile
    import time

    prof = cProfile.Profile(*timer)  # type: ignore[arg-type]
    prof.enable()
    t = time.perf_counter()
    while time.perf_counter() - t < 0.01:
        pass
    time.sleep(0.02)
    time.sleep(0.02)
    prof.disable()
    prof.dump_stats(str(path))
    return path


def test_the_header_says_what_each_side_measures_and_warns_when_they_differ(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import time

    wall = _sleeper_profile(tmp_path / "wall.prof")
    cpu = _sleeper_profile(tmp_path / "cpu.prof", time.process_time)
    pane = show_pane(qtbot, ComparePane(Document(load_profile(wall), wall)), 1366, 300)
    assert pane.measures_label.isHidden()  # no baseline yet
    _load(qtbot, pane, cpu)
    qtbot.waitUntil(lambda: pane.diff is not None)
    assert pane.measures_label.isVisible()
    assert pane.measures_warning == (
        "base measures CPU time (assumed), this profile wall time (assumed): a function that waits "
        "(sleep, I/O, a lock) will look slower here; compare like with like"
    )
    assert pane.measures_label.text() == "B" + pane.measures_warning[1:]  # a sentence in the pane
    assert "The baseline measures CPU time (assumed: time.sleep took" in pane.measures_label.toolTip()
    assert "This run measures wall time (assumed: cProfile's default timer" in pane.baseline_label.toolTip()
    assert pane.minimumSizeHint().width() <= 1366 - 20
    # like with like: said, no warning
    _load(qtbot, pane, wall)
    qtbot.waitUntil(lambda: pane.measures_warning is None)
    assert pane.measures_label.isVisible() and pane.measures_label.text() == "Both measure wall time (assumed)"


def test_the_header_fits_1366_pixels_whatever_the_two_sides_measure(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """py-spy without --idle against py-spy --idle, the baseline's name long: the longest measures there are."""
    import shutil

    new = FIXTURES / "pyspy-waits.speedscope.json"
    base = tmp_path / ("a_rather_long_baseline_recording_name_from_before_the_change_" + "x" * 40 + ".speedscope.json")
    shutil.copy(FIXTURES / "pyspy-waits-idle.speedscope.json", base)
    pane = show_pane(qtbot, ComparePane(Document(load_profile(new), new)), 1366, 300)
    _load(qtbot, pane, base)
    qtbot.waitUntil(lambda: pane.diff is not None)
    QApplication.processEvents()
    assert pane.measures_warning is not None and pane.measures_warning.startswith(
        "base measures wall time, this profile samples of running threads (assumed)")
    assert pane.minimumSizeHint().width() <= 1366 - 20  # the warning wraps on its own line


def test_the_on_cpu_filter_changes_what_this_run_measures(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A recording seen on-CPU only leaves its waits out; the wall-clock baseline keeps them: said, then undone."""
    script = tmp_path / "naps.py"
    script.write_text(
        "import time\n"
        "t = time.perf_counter()\n"
        "while time.perf_counter() - t < 0.2:\n"
        "    pass\n"
        "time.sleep(0.3)\n"
    )
    pyro = tmp_path / "naps.pyro"
    res = subprocess.run([sys.executable, "-m", "pyrometer", "record", "-o", str(pyro), "--no-history", "--", str(script)],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert res.returncode == 0, res.stderr
    base = _sleeper_profile(tmp_path / "wall.prof")
    doc = Document(load_profile(pyro), pyro)
    pane = show_pane(qtbot, ComparePane(doc), 1366, 300)
    _load(qtbot, pane, base)
    qtbot.waitUntil(lambda: pane.diff is not None)
    assert pane.measures_warning is None  # wall time both (the baseline's by assumption)
    assert pane.measures_label.text() == "This run measures wall time, the baseline wall time (assumed)"
    doc.set_on_cpu_only(True)
    pane.refresh()
    assert pane.measures_warning is not None and "this profile samples of running threads" in pane.measures_warning
    assert "will look faster here" in pane.measures_label.text()
    doc.set_on_cpu_only(False)
    pane.refresh()
    assert pane.measures_warning is None


def test_a_long_baseline_name_and_two_measures_fit_a_laptop_screen(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """py-spy's default file against its --idle one, under a long file name: the measures line and the
    warning made the pane 1571 px wide when they sat in the controls row (a 1366 px screen)."""
    import shutil

    new = FIXTURES / "pyspy-waits.speedscope.json"
    base = tmp_path / ("a_rather_long_baseline_recording_name_from_before_the_change_" + "x" * 40 + ".speedscope.json")
    shutil.copy(FIXTURES / "pyspy-waits-idle.speedscope.json", base)
    pane = show_pane(qtbot, ComparePane(Document(load_profile(new), new)), 1366, 300)
    with qtbot.waitSignal(pane.baselineChanged, timeout=20000):
        pane.load_baseline(base, show_dialog=False)
    qtbot.waitUntil(lambda: pane.diff is not None)
    QApplication.processEvents()
    assert pane.minimumSizeHint().width() <= 1366 - 20
