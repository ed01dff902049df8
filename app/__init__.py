"""Pyrometer's desktop app (PySide6 + pyqtgraph). Importing this package stays Qt-free."""

from pyrometer.app import refcount_guard as _refcount_guard

_refcount_guard.install()
