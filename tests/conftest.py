"""Test configuration shared by tests/core and tests/app."""

from __future__ import annotations

import os

# GUI tests run headless; set before anything imports Qt.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
