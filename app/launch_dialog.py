"""File › Launch: choose a script (or module), its arguments, the interpreter and how to sample."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)


class LaunchDialog(QDialog):
    """Collects a target command line (as `pyrometer run` takes it after --) and collect options."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Launch a Python program")
        self.setMinimumWidth(560)
        self.script = QLineEdit(self)
        self.script.setPlaceholderText("script.py   or   -m package.module")
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.script, 1)
        row.addWidget(browse)
        self.args = QLineEdit(self)
        self.args.setPlaceholderText("arguments, quoted as in a shell")
        self.python = QLineEdit(self)
        self.python.setPlaceholderText("default: the interpreter Pyrometer runs on (or the script's #! line)")
        self.rate = QDoubleSpinBox(self)
        self.rate.setRange(1.0, 2000.0)
        self.rate.setValue(100.0)
        self.rate.setSuffix(" Hz")
        self.mode = QComboBox(self)
        self.mode.addItem("Sample stacks", "sample")
        self.mode.addItem("Trace every call (yappi)", "trace")
        form = QFormLayout(self)
        form.addRow("Program", row)
        form.addRow("Arguments", self.args)
        form.addRow("Interpreter", self.python)
        form.addRow("Sampling rate", self.rate)
        form.addRow("Mode", self.mode)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, parent=self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Launch")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Python script", str(Path.cwd()), "Python scripts (*.py);;All files (*)")
        if path:
            self.script.setText(shlex.quote(path))

    def target(self) -> list[str]:
        """The words after `--`: script or -m module, then the arguments."""
        return shlex.split(self.script.text()) + shlex.split(self.args.text())

    def options(self) -> dict[str, Any]:
        return {"rate_hz": float(self.rate.value()), "mode": str(self.mode.currentData())}

    def interpreter(self) -> str | None:
        return self.python.text().strip() or None
