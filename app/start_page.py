"""The empty state: Open, Launch, Attach, Demo and the recent files list."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

RECENT_KEY = "recent/files"
MAX_RECENT = 12
MAX_PROGRAMS = 8


def recent_files() -> list[str]:
    value = QSettings().value(RECENT_KEY, [])
    items: list[object] = [value] if isinstance(value, str) else list(value) if isinstance(value, list | tuple) else []
    return [str(v) for v in items][:MAX_RECENT]


def add_recent(path: str | Path) -> None:
    p = str(Path(path).resolve())
    files = [f for f in recent_files() if f != p]
    QSettings().setValue(RECENT_KEY, [p, *files][:MAX_RECENT])


def _add_note(view: QListWidget, text: str) -> None:
    """A line in the list that explains (nothing yet, cannot read) and cannot be clicked."""
    item = QListWidgetItem(text)
    item.setFlags(Qt.ItemFlag.NoItemFlags)
    view.addItem(item)


class StartPage(QWidget):
    openRequested = Signal()
    launchRequested = Signal()
    attachRequested = Signal()
    demoRequested = Signal()
    recentRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("<h1>Pyrometer</h1>", self)
        sub = QLabel(
            "Profile Python programs live: where the time goes, how late the event loop runs, "
            "which asyncio tasks exist — and replay it all later.",
            self,
        )
        sub.setWordWrap(True)
        buttons = QHBoxLayout()
        for text, tip, signal in (
            ("Open…", "Open a recording or a profile file (Ctrl+O); you can also drop files here", self.openRequested),
            ("Launch…", "Run a Python script under the profiler", self.launchRequested),
            ("Attach…", "Attach to a running Python process by PID", self.attachRequested),
            ("Try the demo", "Profile a small asyncio service shipped with Pyrometer", self.demoRequested),
        ):
            b = QPushButton(text, self)
            b.setToolTip(tip)
            b.setMinimumHeight(36)
            b.setMinimumWidth(130)
            b.clicked.connect(signal.emit)
            if signal is self.demoRequested:
                b.setDefault(True)  # the first thing a new user should try
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.recent = QListWidget(self)
        self.recent.setMaximumHeight(300)
        self.recent.setSpacing(3)
        self.recent.setAlternatingRowColors(True)
        self.recent.itemActivated.connect(lambda item: self.recentRequested.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.programs = QListWidget(self)
        self.programs.setMaximumHeight(200)
        self.programs.setSpacing(3)
        self.programs.setAlternatingRowColors(True)
        self.programs.itemActivated.connect(self._program_activated)
        hint = QLabel("Drop profile files anywhere in this window to open them.", self)
        hint.setEnabled(False)
        col = QVBoxLayout()
        col.addStretch(1)
        col.addWidget(title)
        col.addWidget(sub)
        col.addSpacing(16)
        col.addLayout(buttons)
        col.addSpacing(24)
        col.addWidget(QLabel("<b>Recent files</b>", self))
        col.addWidget(self.recent)
        col.addSpacing(12)
        col.addWidget(QLabel("<b>Recent programs</b> (run history: last run and trend; opens the last recording)", self))
        col.addWidget(self.programs)
        col.addWidget(hint)
        col.addStretch(2)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        box = QWidget(self)
        box.setLayout(col)
        box.setMaximumWidth(760)
        outer.addWidget(box, 4)
        outer.addStretch(1)
        self.reload_recent()

    def _program_activated(self, item: QListWidgetItem) -> None:
        path = item.data(Qt.ItemDataRole.UserRole)
        if path:
            self.recentRequested.emit(str(path))

    def reload_programs(self) -> None:
        """Programs of the run history, the most recently run first (the history is read, never created here)."""
        from pyrometer.core.history.analysis import sparkline
        from pyrometer.core.history.render import local_time, trend_text
        from pyrometer.core.history.store import HistoryError, HistoryStore, default_db_path

        self.programs.clear()
        programs = []
        if default_db_path().exists():
            try:
                with HistoryStore() as store:
                    programs = store.programs(limit=MAX_PROGRAMS)
            except HistoryError as exc:
                _add_note(self.programs, f"The run history cannot be read: {exc}")
                return
        if not programs:
            _add_note(self.programs, "No runs yet: each recording adds one to its program's history.")
            return
        def short(key: str) -> str:
            return Path(key).name if key.startswith("/") else key

        shorts = [short(p.key) for p in programs]
        for p in programs:
            name = short(p.key)
            if shorts.count(name) > 1 and name != p.key:  # one file name in two directories: say which
                name = f"{name} ({Path(p.key).parent})"
            item = QListWidgetItem(
                f"{name}  —  {p.runs} run{'s' * (p.runs != 1)}, last {local_time(p.last_started)}, "
                f"{'duration unknown' if p.last_duration_s is None else f'{p.last_duration_s:.2f} s'}  "
                f"{sparkline(p.durations)} {trend_text(p.durations)}"
            )
            kept = p.last_path if p.last_path and Path(p.last_path).exists() else None
            item.setData(Qt.ItemDataRole.UserRole, kept)
            item.setToolTip(f"{p.key}\n{kept or 'the last recording was not kept'}")
            if kept is None:
                item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.programs.addItem(item)

    def reload_recent(self) -> None:
        self.reload_programs()
        self.recent.clear()
        files = recent_files()
        if not files:
            _add_note(self.recent, "No recent files yet.")
            return
        for f in files:
            item = QListWidgetItem(f"{Path(f).name}  —  {Path(f).parent}")
            item.setData(Qt.ItemDataRole.UserRole, f)
            item.setToolTip(f)
            self.recent.addItem(item)
