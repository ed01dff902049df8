"""File › Launch: choose a script (or module), its arguments, the interpreter, where it runs and how to sample.

The working directory and extra environment variables (KEY=VALUE lines)
go to the launched program only; the last values of every field are kept
in QSettings so launching the same program again is one click.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from pyrometer.core.agent import defaults

SETTINGS_GROUP = "launch"


def parse_environment(text: str) -> dict[str, str]:
    """KEY=VALUE lines (blank lines and # comments skipped); ValueError names the first bad line.

    Spaces around the key and the value are trimmed; otherwise values are
    taken literally (no $VAR expansion, no quote removal).
    """
    env: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, eq, value = line.partition("=")
        key = key.strip()
        if not eq or not key or any(c.isspace() for c in key):
            raise ValueError(f"environment line {number}: expected KEY=VALUE, got {raw.strip()!r}")
        env[key] = value.strip()
    return env


class LaunchDialog(QDialog):
    """Collects a target command line (as `pyrometer run` takes it after --), where and how to run it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Launch a Python program")
        self.setMinimumWidth(560)
        self.script = QLineEdit(self)
        self.script.setPlaceholderText("script.py   or   -m package.module")
        row = self._with_browse(self.script, self._browse)
        self.args = QLineEdit(self)
        self.args.setPlaceholderText("arguments, quoted as in a shell")
        self.python = QLineEdit(self)
        self.python.setPlaceholderText("default: the interpreter Pyrometer runs on (or the script's #! line)")
        self.cwd = QLineEdit(self)
        self.cwd.setPlaceholderText(f"default: Pyrometer's own ({Path.cwd()})")
        cwd_row = self._with_browse(self.cwd, self._browse_dir)
        self.env = QPlainTextEdit(self)
        self.env.setPlaceholderText("KEY=VALUE, one per line (added to Pyrometer's environment)")
        self.env.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.env.setTabChangesFocus(True)
        self.env.setFixedHeight(self.env.fontMetrics().lineSpacing() * 4 + 12)
        self.rate = QDoubleSpinBox(self)
        self.rate.setRange(1.0, 2000.0)
        self.rate.setValue(defaults.RATE_HZ)
        self.rate.setSuffix(" Hz")
        self.mode = QComboBox(self)
        self.mode.addItem("Sample stacks", "sample")
        self.mode.addItem("Trace every call (yappi)", "trace")
        self.every_task = QCheckBox("Record every asyncio task", self)
        self.every_task.setToolTip(
            "A loop creating tasks faster than they can be recorded one by one cheaply has about 1 in "
            f"{defaults.TASK_SAMPLE_EVERY}\nrecorded in full and the rest counted by coroutine; this records "
            "them all, whatever it costs (--every-task)."
        )
        self.error = QLabel("", self)
        self.error.setStyleSheet("color: rgb(200, 40, 40)")
        self.error.setWordWrap(True)
        self.error.hide()
        form = QFormLayout(self)
        form.addRow("Program", row)
        form.addRow("Arguments", self.args)
        form.addRow("Interpreter", self.python)
        form.addRow("Working directory", cwd_row)
        form.addRow("Environment", self.env)
        form.addRow("Sampling rate", self.rate)
        form.addRow("Mode", self.mode)
        form.addRow("Tasks", self.every_task)
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, parent=self)
        self.launch_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.launch_button.setText("Launch")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        for edit in (self.script, self.args, self.cwd):
            edit.textChanged.connect(self.error.hide)
        self.env.textChanged.connect(self.error.hide)
        self.load_settings()

    def _browse(self) -> None:
        start = self.working_directory() or str(Path.cwd())
        path, _ = QFileDialog.getOpenFileName(self, "Python script", start, "Python scripts (*.py);;All files (*)")
        if path:
            self.script.setText(shlex.quote(path))

    def _with_browse(self, field: QLineEdit, browse: Callable[[], None]) -> QHBoxLayout:
        """A row of `field` and a Browse… button that calls `browse`."""
        button = QPushButton("Browse…", self)
        button.clicked.connect(browse)
        row = QHBoxLayout()
        row.addWidget(field, 1)
        row.addWidget(button)
        return row

    def _browse_dir(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Working directory", self.working_directory() or str(Path.cwd()))
        if path:
            self.cwd.setText(path)

    # ------------------------------------------------------------ values
    def target(self) -> list[str]:
        """The words after `--`: script or -m module, then the arguments."""
        return shlex.split(self.script.text()) + shlex.split(self.args.text())

    def options(self) -> dict[str, Any]:
        return {
            "rate_hz": float(self.rate.value()), "mode": str(self.mode.currentData()),
            "every_task": self.every_task.isChecked(),
        }

    def interpreter(self) -> str | None:
        return self.python.text().strip() or None

    def working_directory(self) -> str | None:
        """The directory the program runs in (~ expanded), or None for Pyrometer's own."""
        text = self.cwd.text().strip()
        return os.path.expanduser(text) if text else None

    def environment(self) -> dict[str, str]:
        """Variables to add to the program's environment (ValueError on a line that is not KEY=VALUE)."""
        return parse_environment(self.env.toPlainText())

    def problem(self) -> str | None:
        """Why the entered values cannot be launched, or None."""
        try:
            words = self.target()
        except ValueError as exc:
            return f"Arguments: {exc}"
        if not words:
            return "Choose a script (or -m module) to run."
        cwd = self.working_directory()
        if cwd is not None and not os.path.isdir(cwd):
            return f"Working directory {cwd} does not exist."
        try:
            self.environment()
        except ValueError as exc:
            return str(exc)[0].upper() + str(exc)[1:] + "."
        return None

    def accept(self) -> None:
        """Launch only values that can work: say what is wrong instead of closing."""
        why = self.problem()
        if why is not None:
            self.error.setText(why)
            self.error.show()
            return
        self.save_settings()
        super().accept()

    # ------------------------------------------------------------ settings
    def save_settings(self) -> None:
        s = QSettings()
        s.beginGroup(SETTINGS_GROUP)
        s.setValue("script", self.script.text())
        s.setValue("args", self.args.text())
        s.setValue("python", self.python.text())
        s.setValue("cwd", self.cwd.text())
        s.setValue("env", self.env.toPlainText())
        s.setValue("rate_hz", float(self.rate.value()))
        s.setValue("mode", str(self.mode.currentData()))
        s.setValue("every_task", self.every_task.isChecked())
        s.endGroup()

    def load_settings(self) -> None:
        s = QSettings()
        s.beginGroup(SETTINGS_GROUP)
        try:
            self.script.setText(str(s.value("script", "") or ""))
            self.args.setText(str(s.value("args", "") or ""))
            self.python.setText(str(s.value("python", "") or ""))
            self.cwd.setText(str(s.value("cwd", "") or ""))
            self.env.setPlainText(str(s.value("env", "") or ""))
            try:
                self.rate.setValue(float(s.value("rate_hz", defaults.RATE_HZ)))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                pass
            index = self.mode.findData(str(s.value("mode", defaults.MODE)))
            self.mode.setCurrentIndex(max(0, index))
            self.every_task.setChecked(str(s.value("every_task", False)).lower() == "true")
        finally:
            s.endGroup()
