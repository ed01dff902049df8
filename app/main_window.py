"""The main window: start page or document tabs, menus, shortcuts, drag & drop, status bar."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QTabWidget,
    QWidget,
)

from pyrometer.app import theme
from pyrometer.app.document import Document
from pyrometer.app.loader import FileLoader
from pyrometer.app.profile_filter import profile_filter
from pyrometer.app.replay_keys import SHORTCUT_LINES as REPLAY_SHORTCUTS
from pyrometer.app.replay_keys import ReplayKeys
from pyrometer.app.session_view import SessionView
from pyrometer.app.start_page import StartPage, add_recent, recent_files
from pyrometer.core.formats.tables import sample_total
from pyrometer.core.model import Profile

if TYPE_CHECKING:
    from pyrometer.app.live import LiveSession

SHORTCUTS = (
    ("Ctrl+O", "Open a profile or recording"),
    ("Ctrl+S", "Save the recording (.pyro)"),
    ("Ctrl+E", "Export the profile to another format"),
    ("Ctrl+F", "Search / filter in the focused pane"),
    ("Space", "Play / pause a replay"),
    *REPLAY_SHORTCUTS,
    ("Esc", "Reset zoom (flame graph) / show all (stack chart) / clear the range (timeline)"),
    ("Ctrl+W", "Close the current tab"),
    ("Ctrl+Q", "Quit"),
    ("Ctrl+M", "Maximise the focused pane / restore the layout (also: double-click a pane's title bar)"),
    ("Ctrl+T", "By task: the flame graph and call tree per asyncio task, along task chains (in either pane)"),
    ("F1", "This list of keys and mouse actions"),
)
STANDARD_FALLBACK = {QKeySequence.StandardKey.Quit: "Ctrl+Q"}  # platforms that bind no key to it
MOUSE = (  # what the graphs do with the mouse (F1 lists them with the keys)
    ("Wheel", "Zoom in time around the pointer (flame graph, timeline, stack chart)"),
    ("Shift+wheel", "Scroll rows (deep stacks) or lanes (many threads)"),
    ("Double-click", "Zoom to a frame (flame graph, stack chart) or a task or stall (timeline)"),
    ("Drag", "Pan (flame graph, stack chart); select a time range (timeline)"),
    ("Shift+drag", "Pan the timeline"),
    ("Click", "Select a function in every pane; right-click for focus, merge, collapse"),
)
OPEN_FILTER = profile_filter()


PREFERRED_SIZE = (1440, 900)  # the first window on a large screen; smaller screens get their available area


def first_size(available: QSize | None) -> tuple[int, int]:
    """The first window size: PREFERRED_SIZE, shrunk to the screen's available area (minus the frame)."""
    w, h = PREFERRED_SIZE
    if available is None or available.isEmpty():
        return w, h
    frame_w, frame_h = 16, 40  # window decorations are outside the size we set
    return min(w, available.width() - frame_w), min(h, available.height() - frame_h)


RESUME_AFTER_MS = 250  # a huge recording's full read starts this long after its preview is drawn


class MainWindow(QMainWindow):
    documentOpened = Signal(object)  # SessionView
    previewShown = Signal(object)  # SessionView of a recording opened from its index (its samples still loading)
    loadsFinished = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Pyrometer")
        self.setAcceptDrops(True)
        self.resize(*first_size(self.screen().availableGeometry().size() if self.screen() else None))
        self.loaders: list[FileLoader] = []
        self._previews: dict[FileLoader, Document] = {}  # tabs opened from an index, until their samples are read
        self.live_sessions: list[LiveSession] = []
        self.errors: list[str] = []  # every error shown to the user (tests read it)
        self.quiet_errors = False  # screenshots and tests: report errors without a modal dialog
        self.stack = QStackedWidget(self)
        self.start_page = StartPage(self)
        self.tabs = QTabWidget(self)
        self.tabs.setTabsClosable(True)
        self.tabs.setDocumentMode(True)
        self.tabs.setMovable(True)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        self.tabs.currentChanged.connect(lambda _i: self._on_tab_changed())
        self.stack.addWidget(self.start_page)
        self.stack.addWidget(self.tabs)
        self.setCentralWidget(self.stack)
        self.start_page.openRequested.connect(self.open_dialog)
        self.start_page.launchRequested.connect(self.launch_dialog)
        self.start_page.attachRequested.connect(self.attach_dialog)
        self.start_page.demoRequested.connect(self.start_demo)
        self.start_page.recentRequested.connect(self.open_files_from_str)
        self.status_label = QLabel("", self)
        self.statusBar().addPermanentWidget(self.status_label)
        self._status_timer = QTimer(self)  # runs only while a live session is running
        self._status_timer.setInterval(1000)
        self._status_timer.timeout.connect(self._status_tick)
        self._build_menus()
        self._on_tab_changed()

    # ------------------------------------------------------------ menus
    def _action(self, menu: QMenu, text: str, slot: Any, shortcut: Any = None) -> QAction:
        act = menu.addAction(text)
        if isinstance(shortcut, QKeySequence.StandardKey):
            # every binding (Close is Ctrl+F4 *and* Ctrl+W on Linux; setShortcut kept the first only),
            # and SHORTCUTS' key where the platform gives none (Quit has none without a desktop theme)
            act.setShortcuts(shortcut)
            if not act.shortcuts() and shortcut in STANDARD_FALLBACK:
                act.setShortcut(QKeySequence(STANDARD_FALLBACK[shortcut]))
        elif shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.triggered.connect(slot)
        return act

    def _build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        self._action(f, "&Open…", self.open_dialog, QKeySequence.StandardKey.Open)
        self.recent_menu = f.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        f.addSeparator()
        self._action(f, "&Launch program…", self.launch_dialog)
        self._action(f, "&Attach to process…", self.attach_dialog)
        self._action(f, "Run the &demo", self.start_demo)
        f.addSeparator()
        self.save_action = self._action(f, "&Save recording…", self.save_dialog, QKeySequence.StandardKey.Save)
        self.export_action = self._action(f, "&Export…", self.export_dialog, "Ctrl+E")
        self.export_image_action = self._action(f, "Export &image of pane…", self.export_image_dialog)
        f.addSeparator()
        self.close_action = self._action(f, "&Close tab", lambda: self.close_tab(self.tabs.currentIndex()), QKeySequence.StandardKey.Close)
        self._action(f, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        e = mb.addMenu("&Edit")
        self._action(e, "&Find / filter", self.focus_search, QKeySequence.StandardKey.Find)
        self._action(e, "Clear time &range", lambda: self.current_doc() and self.current_doc().clear_range())  # type: ignore[union-attr]
        self._action(e, "Reset &transforms", lambda: self.current_doc() and self.current_doc().set_transform(None))  # type: ignore[union-attr]

        self.view_menu = mb.addMenu("&View")
        self.view_menu.aboutToShow.connect(self._fill_view_menu)

        s = mb.addMenu("&Session")
        self.play_action = self._action(s, "&Play / pause", self.toggle_play, Qt.Key.Key_Space)
        self.play_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.replay_keys = ReplayKeys(self, s, lambda: view.replay_bar if (view := self.current_view()) is not None else None)
        self.stop_action = self._action(s, "&Stop (end the program)", self.stop_live)
        self.detach_action = self._action(s, "&Detach (let it run)", self.detach_live)

        self.maximise_action = QAction("Maximise pane / restore", self)
        self.maximise_action.setShortcut(QKeySequence("Ctrl+M"))
        self.maximise_action.triggered.connect(self.toggle_maximised)
        self.addAction(self.maximise_action)  # works with the View menu closed, too

        h = mb.addMenu("&Help")
        self._action(h, "&Keyboard and mouse", self.show_shortcuts, QKeySequence.StandardKey.HelpContents)
        self._action(h, "&About Pyrometer", self.show_about)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = recent_files()
        if not files:
            self.recent_menu.addAction("(none)").setEnabled(False)
        for path in files:
            self.recent_menu.addAction(path).triggered.connect(lambda _c=False, p=path: self.open_files([p]))

    def _fill_view_menu(self) -> None:
        m = self.view_menu
        m.clear()
        view = self.current_view()
        if view is None:
            m.addAction("(open a profile to show panes)").setEnabled(False)
        else:
            for pane in view.panes:
                m.addAction(view.docks[pane.objectName()].toggleViewAction())
            m.addSeparator()
            self._action(m, "&Maximise pane / restore", view.toggle_maximised)
            self._action(m, "&Reset layout", view.reset_layout)
        m.addSeparator()
        theme_menu = m.addMenu("&Theme")
        current = theme.saved_mode()
        for mode in theme.MODES:
            act = theme_menu.addAction({"system": "Follow the system", "light": "Light", "dark": "Dark"}[mode])
            act.setCheckable(True)
            act.setChecked(mode == current)
            act.triggered.connect(lambda _c=False, md=mode: self.set_theme(md))

    def set_theme(self, mode: str) -> None:
        theme.apply(mode, save=True)
        for view in self.views():
            for pane in view.panes:
                pane.seen_revision = -1
                pane.apply_theme()
            view.schedule_refresh()

    # ------------------------------------------------------------ documents
    def views(self) -> list[SessionView]:
        return [w for i in range(self.tabs.count()) if isinstance(w := self.tabs.widget(i), SessionView)]

    def current_view(self) -> SessionView | None:
        w = self.tabs.currentWidget() if self.stack.currentWidget() is self.tabs else None
        return w if isinstance(w, SessionView) else None

    def current_doc(self) -> Document | None:
        v = self.current_view()
        return v.doc if v is not None else None

    def add_document(self, doc: Document) -> SessionView:
        view = SessionView(doc, self.tabs)
        idx = self.tabs.addTab(view, doc.title)
        self.tabs.setTabToolTip(idx, str(doc.path) if doc.path else doc.title)
        self.tabs.setCurrentIndex(idx)
        self.stack.setCurrentWidget(self.tabs)
        for note in doc.profile.notices:
            if note.get("level") in ("warning", "error"):
                self.statusBar().showMessage(str(note.get("message", "")), 10000)
        self._on_tab_changed()
        for message in view.pane_errors:  # a pane that could not start is said, not silently missing
            self.show_error("A pane failed to start", message)
        view.doc.openRequested.connect(lambda path: self.open_files([path]))
        self.documentOpened.emit(view)
        return view

    def open_profile(self, profile: Profile, path: str | Path | None = None) -> SessionView:
        return self.add_document(Document(profile, path))

    def close_tab(self, index: int) -> None:
        w = self.tabs.widget(index)
        if not isinstance(w, SessionView):
            return
        for live in list(self.live_sessions):
            if live.doc is w.doc:
                if live.running and not self._confirm_stop(live):
                    return
                live.shutdown()
                self.live_sessions.remove(live)
        loading = self.loader_of(w.doc)
        if loading is not None:  # its samples are still being read: stop that
            self._previews.pop(loading, None)
            loading.cancel()
        w.save_layout()
        self.tabs.removeTab(index)
        w.deleteLater()
        self._on_tab_changed()

    def _on_tab_changed(self) -> None:
        has = self.tabs.count() > 0
        if not has:
            self.start_page.reload_recent()
            self.stack.setCurrentWidget(self.start_page)
        view = self.current_view()
        self.save_action.setEnabled(view is not None)
        self.export_action.setEnabled(view is not None)
        self.export_image_action.setEnabled(view is not None)
        self.close_action.setEnabled(view is not None)
        live = self.current_live()
        self.stop_action.setEnabled(live is not None and live.running and not live.attached)
        self.detach_action.setEnabled(live is not None and live.running and live.attached)
        self.setWindowTitle(f"{view.doc.title} — Pyrometer" if view is not None else "Pyrometer")
        self.update_status()
        if view is not None:
            view.schedule_refresh()

    # ------------------------------------------------------------ open
    def open_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open profiles", str(Path.cwd()), OPEN_FILTER)
        if files:
            self.open_files(files)

    def open_files_from_str(self, path: str) -> None:
        self.open_files([path])

    def open_files(self, paths: list[str] | list[Path], show_dialog: bool = True) -> list[FileLoader]:
        """Load files off the GUI thread; each becomes a tab (errors: a dialog naming the file).

        A huge recording opens from its index first (a tab at once, filled in when its samples are read).
        """
        started = []
        for p in paths:
            loader = FileLoader(p, self, show_dialog=show_dialog, preview=True)
            loader.previewed.connect(lambda path, profile, ld=loader: self._on_previewed(ld, path, profile))
            loader.progressed.connect(lambda fraction, ld=loader: self._on_load_progress(ld, fraction))
            loader.loaded.connect(lambda path, profile, ld=loader: self._on_loaded(path, profile, ld))
            loader.failed.connect(lambda path, message, ld=loader: self._on_failed(path, message, ld))
            loader.cancelled.connect(lambda path, ld=loader: self._on_cancelled(path, ld))
            loader.finished.connect(lambda ld=loader: self._loader_done(ld))
            self.loaders.append(loader)
            started.append(loader)
            loader.start()
        return started

    def _loader_done(self, loader: FileLoader) -> None:
        if loader in self.loaders:
            self.loaders.remove(loader)
        loader.deleteLater()
        if not self.loaders:
            self.loadsFinished.emit()

    def _on_previewed(self, loader: FileLoader, path: Path, profile: Profile) -> None:
        """A huge recording's index is read: its tab opens now, the samples follow (`_on_loaded`)."""
        add_recent(path)
        view = self.add_document(Document(profile, path))
        self._previews[loader] = view.doc
        view.refresh_visible()  # the first frame now; the full read starts once it is painted: painting the plots
        QTimer.singleShot(RESUME_AFTER_MS, loader.resume)  # while it read took 0.3 s (the interpreter is shared)
        self.previewShown.emit(view)

    def _on_load_progress(self, loader: FileLoader, fraction: float) -> None:
        doc = self._previews.get(loader)
        if doc is None:
            return
        doc.set_detail_progress(fraction)
        if doc is self.current_doc():
            self.statusBar().showMessage(f"Reading {loader.path.name}: {100 * fraction:.0f}%", 2000)

    def _on_loaded(self, path: Path, profile: Profile, loader: FileLoader | None = None) -> None:
        doc = self._previews.pop(loader, None) if loader is not None else None
        if doc is not None:
            doc.set_detail(profile)
            self.statusBar().showMessage(f"Read {Path(path).name}: full detail", 3000)
            self.update_status()
            return
        add_recent(path)
        self.add_document(Document(profile, path))

    def _on_failed(self, path: Path, message: str, loader: FileLoader | None = None) -> None:
        doc = self._previews.pop(loader, None) if loader is not None else None
        if doc is not None:
            doc.set_detail_failed(message)
        self.show_error(f"Cannot open {Path(path).name}", message)

    def _on_cancelled(self, path: Path, loader: FileLoader) -> None:
        doc = self._previews.pop(loader, None)
        if doc is not None:  # its tab stays on the preview, the panes that need the samples say why
            doc.set_detail_failed("reading was cancelled")
        self.statusBar().showMessage(f"Cancelled loading {path}", 5000)

    def loader_of(self, doc: Document) -> FileLoader | None:
        """The load still reading this document's samples, if any."""
        return next((ld for ld, d in self._previews.items() if d is doc), None)

    def show_error(self, title: str, message: str) -> None:
        self.errors.append(message)
        self.statusBar().showMessage(message, 10000)
        if not self.quiet_errors:
            QMessageBox.warning(self, title, message)

    # drag & drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_files(paths)

    # ------------------------------------------------------------ save / export
    def save_dialog(self) -> None:
        doc = self.current_doc()
        if doc is None:
            return
        default = str(Path.cwd() / (Path(doc.title).stem + ".pyro"))
        path, _ = QFileDialog.getSaveFileName(self, "Save recording", default, "Pyrometer recording (*.pyro)")
        if path:
            self.save_recording(doc, path)

    def save_recording(self, doc: Document, path: str | Path) -> bool:
        """Keep the session as a .pyro: the live temp recording when there is one, else re-encoded."""
        if doc.detail_pending:  # a preview holds sums, not samples: writing it would lose them
            self.show_error("Cannot save yet", f"{path}: {doc.title} is still being read ({doc.pending_text().lower()})")
            return False
        live = self.live_for(doc)
        try:
            if live is not None:
                live.save(Path(path))
            else:
                from pyrometer.core.formats.registry import export_profile

                export_profile(doc.profile, path, "pyro")
        except Exception as exc:
            text = str(exc)  # the writers' errors mostly name the file already: once is enough
            self.show_error("Cannot save", text if str(path) in text else f"{path}: {text}")
            return False
        self.statusBar().showMessage(f"Saved {path}", 5000)
        add_recent(path)
        return True

    def export_dialog(self) -> None:
        doc = self.current_doc()
        if doc is None:
            return
        from pyrometer.core.formats.registry import exporters

        exps = exporters()
        filters = [f"{ex.description} ({' '.join('*' + e for e in ex.extensions)})" for ex in exps]
        path, chosen = QFileDialog.getSaveFileName(self, "Export profile", str(Path.cwd() / Path(doc.title).stem), ";;".join(filters))
        if not path:
            return
        fmt_name = exps[filters.index(chosen)].name if chosen in filters else None
        if fmt_name is not None and not any(path.lower().endswith(e) for e in exps[filters.index(chosen)].extensions):
            path += exps[filters.index(chosen)].extensions[0]
        self.export_profile(doc, path, fmt_name)

    def export_profile(self, doc: Document, path: str | Path, fmt_name: str | None = None) -> bool:
        from pyrometer.core.formats.registry import FormatError, export_profile

        if doc.detail_pending:  # a preview holds sums, not samples
            self.show_error("Cannot export yet", f"{path}: {doc.title} is still being read ({doc.pending_text().lower()})")
            return False
        profile = doc.view_profile()
        if doc.range is not None:  # a selected time range exports only what lies in it
            from pyrometer.core.analysis.crop import crop

            profile = crop(profile, *doc.range)
        try:
            export_profile(profile, path, fmt_name)
        except FormatError as exc:
            self.show_error("Cannot export", str(exc))
            return False
        except Exception as exc:
            self.show_error("Cannot export", f"{path}: {type(exc).__name__}: {exc}")
            return False
        what = "" if doc.range is None else f" (the range {doc.range[0]:.3f}–{doc.range[1]:.3f} s)"
        self.statusBar().showMessage(f"Exported {path}{what}", 5000)
        return True

    def export_image_dialog(self) -> None:
        view = self.current_view()
        if view is None:
            return
        pane = view.current_pane()
        if pane is None or pane.export_widget() is None:
            pane = next((p for p in view.visible_panes() if p.export_widget() is not None), pane)
        if pane is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, f"Export {pane.title} as image", str(Path.cwd() / f"{pane.title}.png"), "PNG image (*.png);;SVG image (*.svg)")
        if path:
            self.export_image(pane, path)

    def export_image(self, pane: QWidget, path: str) -> bool:
        target = getattr(pane, "export_widget", lambda: None)() or pane
        try:
            from pyrometer.app import plot_export  # the plot owner's PNG/SVG writer

            for name in ("export_widget", "save_widget", "export"):
                fn = getattr(plot_export, name, None)
                if callable(fn):
                    fn(target, path)
                    break
            else:
                raise ImportError
        except ImportError:
            if path.lower().endswith(".svg"):
                self.show_error("Cannot export image", f"{path}: SVG export is not available")
                return False
            if not target.grab().save(path):
                self.show_error("Cannot export image", f"{path}: could not write the image")
                return False
        except Exception as exc:
            self.show_error("Cannot export image", f"{path}: {exc}")
            return False
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    # ------------------------------------------------------------ live sessions
    def current_live(self) -> LiveSession | None:
        doc = self.current_doc()
        return self.live_for(doc) if doc is not None else None

    def live_for(self, doc: Document) -> LiveSession | None:
        return next((s for s in self.live_sessions if s.doc is doc), None)

    def start_live(self, session: LiveSession) -> SessionView:
        self.live_sessions.append(session)
        session.stateChanged.connect(lambda _s: self._on_tab_changed())
        session.failed.connect(lambda msg: self.show_error("Profiling failed", msg))
        view = self.add_document(session.doc)
        view.add_live_bar(session)
        session.start()
        self._status_timer.start()
        return view

    def launch_dialog(self) -> None:
        from pyrometer.app.launch_dialog import LaunchDialog

        dlg = LaunchDialog(self)
        if dlg.exec() != LaunchDialog.DialogCode.Accepted:
            return
        try:
            words = dlg.target()
            env = dlg.environment()
        except ValueError as exc:  # unbalanced quotes, an environment line that is not KEY=VALUE
            self.show_error("Cannot launch", str(exc))
            return
        self.launch(words, dlg.options(), python=dlg.interpreter(), cwd=dlg.working_directory(), env=env)

    def launch(
        self,
        target: list[str],
        options: dict[str, object] | None = None,
        python: str | None = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
    ) -> SessionView | None:
        """Launch a program live; `cwd` is where it runs, `env` is added to its environment."""
        from pyrometer.app.live import LiveSession

        try:
            session = LiveSession.launch(target, options or {}, python=python, parent=self, cwd=cwd, env=env)
        except Exception as exc:
            self.show_error("Cannot launch", str(exc))
            return None
        return self.start_live(session)

    def attach_dialog(self) -> None:
        pid, ok = QInputDialog.getInt(self, "Attach to process", "Process ID (PID):", 1, 1, 2**31 - 1)
        if ok:
            self.attach(pid)

    def attach(self, pid: int, options: dict[str, object] | None = None) -> SessionView | None:
        from pyrometer.app.live import LiveSession

        try:
            session = LiveSession.attach(pid, options or {}, parent=self)
        except Exception as exc:
            self.show_error("Cannot attach", str(exc))
            return None
        return self.start_live(session)

    def start_demo(self, duration: float | None = None) -> SessionView | None:
        from pyrometer.app.live import demo_target

        return self.launch(demo_target(duration))

    def stop_live(self) -> None:
        live = self.current_live()
        if live is not None:
            live.stop()

    def detach_live(self) -> None:
        live = self.current_live()
        if live is not None:
            live.detach()

    def _confirm_stop(self, live: LiveSession) -> bool:
        if self.quiet_errors:
            return True
        what = "detach from" if live.attached else "stop"
        answer = QMessageBox.question(self, "Session running", f"The session is still running. {what.capitalize()} it and close?")
        return answer == QMessageBox.StandardButton.Yes

    def _status_tick(self) -> None:
        self.update_status()
        if not any(s.running for s in self.live_sessions):
            self._status_timer.stop()  # nothing live: no periodic work

    def update_status(self) -> None:
        live = self.current_live()
        if live is None:
            doc = self.current_doc()
            if doc is None:
                self.status_label.setText("")
                return
            p = doc.profile
            threads = f"{len(p.threads)} thread" + ("" if len(p.threads) == 1 else "s")
            count = sample_total(p)  # the figure `stats` prints
            if p.meta.get("deterministic"):
                self.status_label.setText(f"call statistics (deterministic) · {threads} · {p.source_format}")
            elif count is None:
                self.status_label.setText(f"{p.meta.get('trace_events', 0):,} trace events · {threads} · {p.source_format}")
            else:
                self.status_label.setText(f"{count:,} samples · {threads} · {p.source_format}")
            return
        self.status_label.setText(live.status_text())

    # ------------------------------------------------------------ misc
    def toggle_maximised(self) -> None:
        view = self.current_view()
        if view is not None:
            view.toggle_maximised()

    def toggle_play(self) -> None:
        view = self.current_view()
        if view is not None and view.replay_bar is not None:
            view.replay_bar.toggle()

    def focus_search(self) -> None:
        view = self.current_view()
        if view is None:
            return
        pane = view.current_pane()
        if pane is not None and pane.focus_search():
            return
        for name in ("flame_graph", "functions"):
            p = view.pane(name)
            if p is not None and p.isVisible() and p.focus_search():
                return
        p = view.show_pane("functions")
        if p is not None:
            p.focus_search()

    def show_shortcuts(self) -> QDialog:
        from pyrometer.app.shortcut_help import ShortcutHelp

        dialog = ShortcutHelp(self, SHORTCUTS, MOUSE)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def show_about(self) -> None:
        from pyrometer._version import __version__

        QMessageBox.about(self, "About Pyrometer", f"<h3>Pyrometer {__version__}</h3><p>A desktop profiler for Python.</p>")

    def closeEvent(self, event: QCloseEvent) -> None:
        running = [s for s in self.live_sessions if s.running]
        if running and not self.quiet_errors:
            answer = QMessageBox.question(self, "Quit", f"{len(running)} live session(s) are running. Stop them and quit?")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        view = self.current_view()
        if view is not None:
            view.save_layout()
        for s in list(self.live_sessions):
            s.shutdown(quitting=True)
        for ld in list(self.loaders):
            ld.cancel()
            ld.close_dialog()
            ld.wait(5000)
        QSettings().sync()
        event.accept()


def app_icon() -> QIcon:
    """Pyrometer's icon at every size rendered in resources/icons (see packaging/render_icons.py)."""
    import pyrometer.resources as res

    icon = QIcon()
    for png in sorted((Path(res.__file__).resolve().parent / "icons").glob("pyrometer-*.png")):
        icon.addFile(str(png))
    return icon


def application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (created once) with organisation names for QSettings and the theme applied."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(argv or ["pyrometer"])
    app.setOrganizationName("Pyrometer")
    app.setApplicationName("Pyrometer")
    app.setDesktopFileName("pyrometer")  # Wayland/taskbars match the window to pyrometer.desktop
    app.setWindowIcon(app_icon())
    theme.apply()
    hints = app.styleHints()
    if hasattr(hints, "colorSchemeChanged") and not getattr(app, "_pyrometer_follows_scheme", False):
        # "Follow the system": re-apply when the desktop switches between light and dark
        hints.colorSchemeChanged.connect(lambda _scheme: theme.apply() if theme.saved_mode() == "system" else None)
        app._pyrometer_follows_scheme = True  # type: ignore[attr-defined]
    return app
