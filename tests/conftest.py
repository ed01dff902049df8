"""Test configuration shared by tests/core and tests/app."""

from __future__ import annotations

import os
import tempfile

# GUI tests run headless; set before anything imports Qt.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# No test may read or write the user's real settings (layout, recent files, theme):
# QSettings and every launched `pyrometer` process look under this folder instead.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="pyrometer-test-config-")
