"""The main window: opening every import format, errors, replay, selection sync, transforms, layout."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
from cprofile_files import write_cprofile
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget
from qt_windows import open_window, private_settings

from pyrometer.app import theme
from pyrometer.app.loader import FileLoader
from pyrometer.app.main_window import MainWindow, application
from pyrometer.app.panes.base import focus_function, merge_function
from pyrometer.app.panes.function_model import COL_FUNCTION, COL_SAMPLES
from pyrometer.app.session_view import SessionView
from pyrometer.core.example_profiles import SERVER_SAMPLES, server_profile
from pyrometer.core.formats.registry import export_profile, importers


@pytest.fixture
def settings_dir(tmp_path, monkeypatch):
    """Keep QSettings (layout, recent files, theme) inside the test's temp dir."""
    return private_settings(tmp_path)


@pytest.fixture
def window(qtbot, qapp, settings_dir):
    return open_window(qtbot, 1440, 900)


def _callgrind_file(path: Path) -> None:
    yappi = pytest.importorskip("yappi", reason="yappi writes the callgrind file")

    def work(n: int) -> int:
        return sum(i * i for i in range(n))

    yappi.clear_stats()
    yappi.start()
    for _ in range(20):
        work(5000)
    yappi.stop()
    yappi.get_func_stats().save(str(path), type="callgrind")
    yappi.clear_stats()


# import-only formats: a file the real tool wrote, whose hottest function is `hot`
TOOL_FILES = {"cpuprofile": "cpuprofile/node.cpuprofile", "pyinstrument": "pyinstrument/session.json",
              "austin": "austin/wall.austin", "austin_mojo": "austin/full.mojo"}


def make_file(fmt: str, tmp: Path) -> Path:
    """A real file of each import format (tool output where a tool writes it, else our exporter)."""
    if fmt == "pstats":
        p = tmp / "run.prof"
        write_cprofile(p, rounds=20, n=20000)
        return p
    if fmt == "callgrind":
        p = tmp / "callgrind.out.1234"
        _callgrind_file(p)
        return p
    if fmt in TOOL_FILES:  # written by node, pyinstrument, austin (tools/make_format_fixtures_16.py)
        src = Path(__file__).resolve().parent.parent / "fixtures" / TOOL_FILES[fmt]
        p = tmp / src.name
        p.write_bytes(src.read_bytes())
        return p
    ext = {"pyro": ".pyro", "speedscope": ".speedscope.json", "chrome_trace": ".trace.json", "collapsed": ".collapsed",
           "pprof": ".pb.gz", "firefox": ".firefox.json"}[fmt]
    p = tmp / f"server{ext}"
    export_profile(server_profile(), p)
    return p


def open_and_wait(qtbot, win: MainWindow, path: Path) -> SessionView:
    before = win.tabs.count()
    win.open_files([path], show_dialog=False)
    qtbot.waitUntil(lambda: win.tabs.count() > before or bool(win.errors), timeout=20000)
    assert not win.errors, win.errors
    view = win.current_view()
    assert view is not None
    view.refresh_visible()
    return view


IMPORT_FORMATS = sorted(imp.name for imp in importers())


@pytest.mark.parametrize("fmt", IMPORT_FORMATS)
def test_each_import_format_opens_in_the_window(qtbot, window, tmp_path, fmt):
    path = make_file(fmt, tmp_path)
    view = open_and_wait(qtbot, window, path)
    assert window.tabs.tabText(window.tabs.currentIndex()) == path.name
    functions = view.pane("Functions")
    assert functions is not None and functions.isVisible()
    assert functions.model.rowCount() > 0
    names = {functions.model.data(functions.model.index(r, COL_FUNCTION)) for r in range(functions.model.rowCount())}
    expected = "work" if fmt in ("pstats", "callgrind") else "hot" if fmt in TOOL_FILES else "compute"
    assert any(expected in n for n in names), names
    assert "Session" in [p.title for p in view.panes]


def test_start_page_and_recent_files(qtbot, window, tmp_path):
    assert window.stack.currentWidget() is window.start_page
    path = make_file("pyro", tmp_path)
    open_and_wait(qtbot, window, path)
    window.close_tab(0)
    assert window.stack.currentWidget() is window.start_page
    item = window.start_page.recent.item(0)
    assert item.data(0x0100) == str(path.resolve())


def test_bad_files_give_an_error_naming_the_file_and_no_crash(qtbot, window, tmp_path):
    bad = tmp_path / "garbage.json"
    bad.write_bytes(os.urandom(3000))
    empty = tmp_path / "empty.prof"
    empty.write_bytes(b"")
    window.open_files([bad, empty, tmp_path / "missing.pyro", tmp_path], show_dialog=False)
    qtbot.waitUntil(lambda: len(window.errors) == 4, timeout=20000)
    assert window.tabs.count() == 0
    for name in ("garbage.json", "empty.prof", "missing.pyro", tmp_path.name):
        assert any(name in e for e in window.errors), (name, window.errors)
    assert all("\n" not in e for e in window.errors)


def test_loader_can_be_cancelled(qtbot, qapp, tmp_path):
    path = make_file("pyro", tmp_path)
    loader = FileLoader(path, None, show_dialog=True)
    with qtbot.waitSignal(loader.cancelled, timeout=10000):
        loader.start()
        loader.cancel()
    assert loader.wait(5000)


def _table(view: SessionView) -> dict[str, int]:
    m = view.pane("Functions").model
    return {m.data(m.index(r, COL_FUNCTION)): int(m.data(m.index(r, COL_SAMPLES)).replace(",", "")) for r in range(m.rowCount())}


def test_replay_seek_changes_what_the_functions_table_shows(qtbot, window, tmp_path):
    view = open_and_wait(qtbot, window, make_file("pyro", tmp_path))
    bar = view.replay_bar
    assert bar is not None
    full = _table(view)
    assert sum(v for k, v in full.items() if k in ("<module> server", "worker_loop")) == SERVER_SAMPLES
    bar.seek(0.3)  # 30 of 130 samples at 10 ms each
    assert view.doc.playhead == pytest.approx(0.3)
    view.refresh_visible()
    early = _table(view)
    assert sum(v for k, v in early.items() if k in ("<module> server", "worker_loop")) == 30
    assert bar.time_label.text().startswith("0:00.300")
    bar.seek(None)
    view.refresh_visible()
    assert _table(view) == full
    # playing advances the playhead from the start
    bar.play()
    assert bar.playing and view.doc.playhead == 0.0
    qtbot.waitUntil(lambda: (view.doc.playhead or 0) > 0.05 or view.doc.playhead is None, timeout=5000)
    bar.pause()
    assert not bar.playing


def test_selection_syncs_across_panes_and_source(qtbot, window, tmp_path):
    view = open_and_wait(qtbot, window, make_file("pyro", tmp_path))
    fp = view.pane("Functions")
    row = next(r for r in range(fp.model.rowCount()) if fp.model.data(fp.model.index(r, 0)) == "Server.handle")
    fp.view.selectRow(row)
    func = view.doc.selected_function
    assert view.doc.profile.func_name[func] == "Server.handle"
    ct = view.show_pane("Call tree")
    view.refresh_visible()
    node = ct.model.node_of(ct.view.currentIndex())
    assert int(ct.model.tree.func[node]) == func
    callees = [ct.callees_model.data(ct.callees_model.index(r, 0)) for r in range(ct.callees_model.rowCount())]
    assert callees == ["compute", "dumps"]
    src = view.show_pane("Source")
    view.refresh_visible()
    assert "Server.handle" in src.header.text() and "not available" in src.header.text()


def test_transforms_change_the_tables(qtbot, window, tmp_path):
    view = open_and_wait(qtbot, window, make_file("pyro", tmp_path))
    doc = view.doc
    compute = doc.profile.func_name.index("compute")
    focus_function(doc, compute)
    view.refresh_visible()
    assert set(_table(view)) == {"compute"}
    assert "focus on compute" in view.banner.text()
    doc.set_transform(None)
    merge_function(doc, doc.profile.func_name.index("Server.handle"))
    view.refresh_visible()
    assert "Server.handle" not in _table(view)
    doc.set_transform(None)
    view.refresh_visible()
    assert "Server.handle" in _table(view)


def test_range_and_thread_filter(qtbot, window, tmp_path):
    view = open_and_wait(qtbot, window, make_file("pyro", tmp_path))
    view.doc.set_range(0.0, 0.5)
    view.refresh_visible()
    assert sum(v for k, v in _table(view).items() if k in ("<module> server", "worker_loop")) == 50
    assert view.clear_range_action.isVisible()
    view.doc.clear_range()
    view.doc.set_threads(frozenset({2}))
    view.refresh_visible()
    assert set(_table(view)) == {"worker_loop", "fetch"}


def test_hidden_panes_do_no_work(qtbot, window, tmp_path):
    view = open_and_wait(qtbot, window, make_file("pyro", tmp_path))
    console = view.pane("Console")
    session = view.pane("Session")
    on_screen = list(view.visible_panes())
    assert not (console in on_screen and session in on_screen)  # tabbed together: one is behind
    hidden = console if console not in on_screen else session
    seen = hidden.seen_revision
    view.doc.set_range(0.1, 0.2)
    view.refresh_visible()
    assert hidden.seen_revision == seen


def test_layout_is_saved_restored_and_reset(qtbot, window, tmp_path):
    view = open_and_wait(qtbot, window, make_file("pyro", tmp_path))
    dock = view.docks[view.pane("Functions").objectName()]
    name = dock.objectName()
    dock.hide()
    view.save_layout()
    window.close_tab(0)
    view2 = open_and_wait(qtbot, window, make_file("pyro", tmp_path))
    dock2 = view2.findChild(QDockWidget, name)
    assert dock2 is not None and dock2.isHidden()
    view2.reset_layout()
    assert not dock2.isHidden()


def test_save_recording_and_export(qtbot, window, tmp_path):
    view = open_and_wait(qtbot, window, make_file("speedscope", tmp_path))
    out = tmp_path / "kept.pyro"
    assert window.save_recording(view.doc, out)
    assert window.export_profile(view.doc, tmp_path / "out.collapsed")
    assert not window.export_profile(view.doc, tmp_path / "out.unknownext")
    assert "unknownext" in window.errors[-1]
    window.errors.clear()
    view2 = open_and_wait(qtbot, window, out)
    assert view2.doc.profile.sample_count == view.doc.profile.sample_count


def test_theme_toggle(qtbot, window):
    window.set_theme("dark")
    assert theme.is_dark()
    window.set_theme("light")
    assert not theme.is_dark()
    assert theme.saved_mode() == "light"


def test_export_pane_image_png_and_svg(qtbot, window, tmp_path):
    view = open_and_wait(qtbot, window, make_file("pyro", tmp_path))
    pane = view.pane("Flame graph") or view.pane("Functions")
    png, svg = tmp_path / "pane.png", tmp_path / "pane.svg"
    assert window.export_image(pane, str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if window.export_image(pane, str(svg)):
        assert b"<svg" in svg.read_bytes()[:2000]


def test_shortcuts_search_play_and_drop(qtbot, window, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    path = make_file("pyro", tmp_path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(drop)
    qtbot.waitUntil(lambda: window.tabs.count() == 1, timeout=20000)
    view = window.current_view()
    view.refresh_visible()
    # Ctrl+F puts the cursor in a search box of a visible pane
    window.activateWindow()
    window.focus_search()
    focused = QApplication_focus()
    assert focused is not None and focused.metaObject().className() == "QLineEdit"
    # Space (the Play action) toggles replay
    window.play_action.trigger()
    assert view.replay_bar.playing
    window.play_action.trigger()
    assert not view.replay_bar.playing
    keys = [a.shortcut().toString() for a in window.findChildren(type(window.play_action))]
    for wanted in ("Ctrl+O", "Ctrl+S", "Ctrl+E", "Ctrl+F", "Space"):
        assert wanted in keys, keys


def QApplication_focus():
    from PySide6.QtWidgets import QApplication

    return QApplication.focusWidget()


def test_open_several_files_as_tabs(qtbot, window, tmp_path):
    a = make_file("pyro", tmp_path)
    b = make_file("collapsed", tmp_path)
    window.open_files([a, b], show_dialog=False)
    qtbot.waitUntil(lambda: window.tabs.count() == 2 or bool(window.errors), timeout=20000)
    assert not window.errors
    assert {window.tabs.tabText(i) for i in range(2)} == {a.name, b.name}


def test_launch_dialog_builds_the_target_and_options(qtbot, qapp):
    from pyrometer.app.launch_dialog import LaunchDialog

    dlg = LaunchDialog()
    qtbot.addWidget(dlg)
    dlg.script.setText("'my script.py'")
    dlg.args.setText("--name 'a b' -v")
    dlg.rate.setValue(250)
    dlg.mode.setCurrentIndex(1)
    assert dlg.target() == ["my script.py", "--name", "a b", "-v"]
    assert dlg.options() == {"rate_hz": 250.0, "mode": "trace", "every_task": False}
    dlg.every_task.setChecked(True)
    assert dlg.options()["every_task"] is True
    assert dlg.interpreter() is None
    dlg.script.setText("-m http.server")
    assert dlg.target()[:2] == ["-m", "http.server"]


def test_double_click_in_functions_shows_the_source(qtbot, window, tmp_path):
    view = open_and_wait(qtbot, window, make_file("pyro", tmp_path))
    fp = view.pane("Functions")
    view.show_pane("Session")  # Source is behind another tab
    assert view.pane("Source") not in list(view.visible_panes())
    row = next(r for r in range(fp.model.rowCount()) if fp.model.data(fp.model.index(r, 0)) == "fetch")
    fp.view.doubleClicked.emit(fp.model.index(row, 0))
    assert view.doc.profile.func_name[view.doc.selected_function] == "fetch"
    assert view.pane("Source") in list(view.visible_panes())


def test_panes_have_stable_ids_for_layout_requests_and_lookup(qtbot, window):
    """Ids, not titles, name panes: the saved layout keeps its object names, and id or title finds a pane."""
    from pyrometer.app.session_view import pane_classes

    view = window.open_profile(server_profile())
    ids = [p.pane_id for p in view.panes]
    assert ids == ["functions", "call_tree", "sandwich", "flame_graph", "timeline", "stack_chart", "event_loop", "tasks", "source", "session", "console", "compare", "history"]
    assert [cls.pane_id for cls in pane_classes()] == ids
    for pane in view.panes:
        # the names layouts were saved under before panes had ids (then derived from the title)
        assert pane.objectName() == "pane_" + "".join(ch if ch.isalnum() else "_" for ch in pane.title.lower())
        assert view.pane(pane.pane_id) is pane and view.pane(pane.title.upper()) is pane
        assert not hasattr(pane, "area")  # the default layout places panes by id
    view.doc.request_pane("source")
    assert not view.docks["pane_source"].isHidden() and view.pane("source").isVisible()


def test_a_pane_that_fails_to_start_is_an_error_the_user_sees(qtbot, window, monkeypatch):
    from pyrometer.app.panes.tasks import TasksPane

    def broken(self, doc, parent=None):  # type: ignore[no-untyped-def]
        raise RuntimeError("no tasks today")

    monkeypatch.setattr(TasksPane, "__init__", broken)
    view = window.open_profile(server_profile())
    assert view.pane("tasks") is None and view.pane("functions") is not None  # the others still work
    assert any("Tasks pane failed to start" in e and "no tasks today" in e for e in window.errors), window.errors


def test_a_pane_module_that_does_not_import_is_not_skipped(monkeypatch):
    from pyrometer.app import session_view

    monkeypatch.setattr(session_view, "PANE_MODULES", (*session_view.PANE_MODULES, ("pyrometer.app.panes.no_such_pane", "NoPane")))
    with pytest.raises(ModuleNotFoundError):
        session_view.pane_classes()
def test_export_with_a_range_selected_writes_only_the_range(qtbot, window, tmp_path):
    """File › Export wrote the whole profile whatever range was selected."""
    from pyrometer.core.analysis.calltree import call_tree
    from pyrometer.core.analysis.selection import Selection
    from pyrometer.core.formats.recording import read_recording

    path = make_file("pyro", tmp_path)
    open_and_wait(qtbot, window, path)
    doc = window.current_doc()
    assert doc is not None
    doc.set_range(0.195, 0.495)
    out = tmp_path / "part.pyro"
    assert window.export_profile(doc, out)
    part, _ = read_recording(out)
    want = call_tree(doc.profile, Selection(0.195, 0.495)).total
    assert call_tree(part).total == pytest.approx(want, abs=1e-6) == pytest.approx(0.3, abs=1e-6)
    assert "range" in window.statusBar().currentMessage()


TRACED_PROGRAM = """
import threading

def leaf(i):
    return i + 1

def work():
    return sum(leaf(i) for i in range(20000))

threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for _ in range(5):
    work()
for t in threads:
    t.join()
"""


@pytest.mark.skipif(importlib.util.find_spec("yappi") is None, reason="yappi is not installed in this environment")
def test_a_trace_recording_fills_the_window_and_shows_exact_columns(qtbot, window, tmp_path):
    """A trace recording opened as an empty timeline with "0 threads"; now it is sampled too."""
    import subprocess
    import sys

    from pyrometer.app.panes.function_model import COL_CALLS, COL_TRACED_SELF

    script = tmp_path / "traced.py"
    script.write_text(TRACED_PROGRAM)
    out = tmp_path / "traced.pyro"
    res = subprocess.run(
        [sys.executable, "-m", "pyrometer", "record", "--mode", "trace", "-o", str(out), "--", str(script)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    view = open_and_wait(qtbot, window, out)
    assert len(view.doc.profile.threads) >= 3 and view.doc.profile.sample_count > 0
    functions = view.pane("Functions")
    assert functions is not None
    functions.refresh()
    m = functions.model
    assert not functions.view.isColumnHidden(COL_TRACED_SELF) and not functions.view.isColumnHidden(COL_CALLS)
    assert m.headerData(COL_TRACED_SELF, Qt.Orientation.Horizontal) == "CPU self"
    row = next(r for r in range(m.rowCount()) if m.data(m.index(r, COL_FUNCTION)) == "leaf")
    assert m.data(m.index(row, COL_CALLS)) == "140,000"  # 7 calls of work, 20,000 leaves each
    view.doc.select_function(view.doc.profile.func_name.index("leaf"))
    tree = view.pane("Call tree")
    assert tree is not None
    tree.refresh()
    assert not tree.callers_view.isColumnHidden(4)
    assert tree.callers_model.data(tree.callers_model.index(0, 4)) == "140,000"


def test_the_first_window_fits_the_screens_available_area() -> None:
    from PySide6.QtCore import QSize

    from pyrometer.app.main_window import PREFERRED_SIZE, first_size

    w, h = first_size(QSize(1366, 740))  # a 1366x768 laptop less its panel
    assert w <= 1366 and h <= 740 and w >= 1300 and h >= 680
    assert first_size(QSize(2560, 1400)) == PREFERRED_SIZE  # a big screen: not a huge window


def test_a_new_window_is_no_larger_than_its_screen(qtbot, qapp, settings_dir):
    application()
    win = MainWindow()
    qtbot.addWidget(win)
    avail = win.screen().availableGeometry()
    assert win.width() <= avail.width() and win.height() <= avail.height()


def test_clicking_the_seek_bar_jumps_there(qtbot, window, tmp_path):
    from PySide6.QtCore import QPoint, Qt

    view = open_and_wait(qtbot, window, make_file("pyro", tmp_path))
    slider = view.replay_bar.slider
    x = slider.width() // 4  # a quarter along the bar, far from the handle at the end
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(x, slider.height() // 2))
    duration = view.doc.duration()
    assert view.doc.playhead is not None
    assert abs(view.doc.playhead / duration - 0.25) < 0.05, view.doc.playhead / duration


def test_a_pane_is_maximised_and_restored_by_double_clicking_its_title_bar(qtbot, window, tmp_path):
    from PySide6.QtCore import QPoint, Qt

    view = open_and_wait(qtbot, window, make_file("pyro", tmp_path))
    flame = view.pane("flame_graph")
    dock = view.docks[flame.objectName()]
    shown = {n for n, d in view.docks.items() if not d.isHidden()}
    title_bar = QPoint(dock.width() // 3, flame.geometry().top() // 2)
    qtbot.mouseDClick(dock, Qt.MouseButton.LeftButton, pos=title_bar)
    assert view.maximised is flame and not dock.isFloating()
    assert [n for n, d in view.docks.items() if not d.isHidden()] == [flame.objectName()]
    qtbot.waitUntil(lambda: dock.width() > 0.9 * view.width() and dock.height() > 0.7 * view.height(), timeout=2000)
    qtbot.mouseDClick(dock, Qt.MouseButton.LeftButton, pos=title_bar)
    assert view.maximised is None
    assert {n for n, d in view.docks.items() if not d.isHidden()} == shown
    # the shortcut does the same for the focused pane
    flame.setFocus()
    view.pane("functions").view.setFocus()
    window.maximise_action.trigger()
    assert view.maximised is view.pane("functions")
    window.maximise_action.trigger()
    assert view.maximised is None


def test_f1_lists_the_mouse_gestures_and_the_maximise_shortcut(qtbot, window, monkeypatch):
    dialog = window.show_shortcuts()
    text = dialog.text()
    dialog.close()
    for needle in ("Wheel", "Double-click", "Drag", "Pan", "Ctrl+M", "Ctrl+F", "Esc"):
        assert needle in text, needle


def test_the_default_layout_adapts_to_a_profile_without_an_event_loop(qtbot, window, tmp_path):
    from PySide6.QtWidgets import QApplication

    path = tmp_path / "p.collapsed"
    path.write_text("main;work;compute 60\nmain;work 20\nmain;idle 20\n")
    window.resize(1366, 740)  # a laptop
    view = open_and_wait(qtbot, window, path)
    for _ in range(5):
        QApplication.processEvents()
    event_loop = view.docks[view.pane("event_loop").objectName()]
    chart = view.pane("stack_chart")
    assert chart.isVisible() and not chart.visibleRegion().isEmpty()  # stacks over time, not an empty pane
    assert event_loop.widget().visibleRegion().isEmpty()
    timeline = view.docks[view.pane("timeline").objectName()]
    assert timeline.height() < 0.25 * view.height()  # one lane of threads needs little height
    # the call tree's callers and callees have room for rows at this size
    view.show_pane("call_tree")
    for _ in range(5):
        QApplication.processEvents()
    tree = view.pane("call_tree")
    rows = tree.callers_view.verticalHeader().defaultSectionSize()
    assert tree.callers_view.viewport().height() >= 3 * rows


def test_nothing_is_cut_off_in_a_laptop_sized_window(qtbot, window, tmp_path):
    """At 1366x768 (less a panel) every button, label and tab bar shown lies inside the window:
    Clear selection, Compare and the legend on the right; pane tabs, replay bar and status bar below."""
    from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QTabBar

    from pyrometer.core.formats.recording import write_profile
    from pyrometer.core.model import TASK_DELAYED, TASK_RUNNING, TaskInfo

    window.resize(1366, 740)
    busy = server_profile()  # a busy service: hundreds of tasks, so the timeline's header says the most it can
    for i in range(4, 300):
        busy.tasks[i] = TaskInfo(i, 1, f"request-{i}", "handle_request()", loop=0, created=i / 250, ended=i / 250 + 0.05, state="done")
    ids = np.arange(4, 300, dtype=np.int32)  # each request ran 10 ms and sat delayed 5 ms: the state legend shows
    busy.add_task_spans(ids, np.full(len(ids), TASK_RUNNING, np.int8), ids / 250, ids / 250 + 0.01)
    busy.add_task_spans(ids, np.full(len(ids), TASK_DELAYED, np.int8), ids / 250 + 0.01, ids / 250 + 0.015)
    busy.finish()
    write_profile(busy, tmp_path / "busy.pyro")
    view = open_and_wait(qtbot, window, tmp_path / "busy.pyro")
    for _ in range(5):
        QApplication.processEvents()
    view.refresh_visible()
    QApplication.processEvents()
    assert window.width() == 1366, "a pane's minimum width forced the window wider than the screen"
    inside = window.rect()
    checked = 0
    for w in window.findChildren(QAbstractButton) + window.findChildren(QLabel) + window.findChildren(QTabBar):
        if not w.isVisible() or w.visibleRegion().isEmpty() or w.width() <= 1:
            continue
        rect = w.rect().translated(w.mapTo(window, w.rect().topLeft()))
        assert inside.contains(rect), (type(w).__name__, getattr(w, "text", lambda: "")(), rect)
        checked += 1
    assert checked > 20
    names = {b.text() for b in window.findChildren(QAbstractButton) if b.isVisible()}
    assert {"Clear selection", "Compare…", "Reset zoom"} <= names
    assert view.replay_bar is not None and view.replay_bar.isVisible()
    assert window.statusBar().isVisible() and window.statusBar().geometry().bottom() <= inside.bottom()


def test_a_restored_layout_leaves_no_stray_tab_bar_over_the_toolbar(qtbot, window, tmp_path):
    """Restoring the saved layout over the default one left that one's tab bars at the top left,
    on top of the Threads box."""
    from PySide6.QtWidgets import QApplication, QTabBar

    first = window.open_profile(server_profile())
    QApplication.processEvents()
    first.save_layout()
    view = window.open_profile(server_profile())
    for _ in range(5):
        QApplication.processEvents()
    assert view._restored
    bar = view.filter_bar.geometry()
    stray = [tb for tb in view.findChildren(QTabBar) if tb.isVisible() and tb.geometry().intersects(bar)]
    assert stray == [], [(tb.geometry(), [tb.tabText(i) for i in range(tb.count())]) for tb in stray]
