"""Light/dark palettes: follow the system colour scheme, or a manual choice kept in QSettings."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

MODES = ("system", "light", "dark")
SETTINGS_KEY = "appearance/theme"


def _dark_palette() -> QPalette:
    p = QPalette()
    window, base, text = QColor(37, 39, 43), QColor(28, 30, 33), QColor(222, 224, 228)
    p.setColor(QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, QColor(44, 47, 52))
    p.setColor(QPalette.ColorRole.ToolTipBase, QColor(50, 53, 58))
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor(140, 144, 150))
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.Button, QColor(48, 51, 56))
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.BrightText, QColor(255, 90, 90))
    p.setColor(QPalette.ColorRole.Link, QColor(100, 160, 255))
    p.setColor(QPalette.ColorRole.Highlight, QColor(52, 110, 200))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor(255, 255, 255))
    p.setColor(QPalette.ColorRole.Mid, QColor(70, 73, 78))
    p.setColor(QPalette.ColorRole.Dark, QColor(20, 21, 23))
    p.setColor(QPalette.ColorRole.Light, QColor(70, 74, 80))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 123, 128))
    return p


def _light_palette() -> QPalette:
    p = QPalette()
    p.setColor(QPalette.ColorRole.Window, QColor(246, 246, 247))
    p.setColor(QPalette.ColorRole.WindowText, QColor(30, 30, 32))
    p.setColor(QPalette.ColorRole.Base, QColor(255, 255, 255))
    p.setColor(QPalette.ColorRole.AlternateBase, QColor(243, 244, 246))
    p.setColor(QPalette.ColorRole.Text, QColor(30, 30, 32))
    p.setColor(QPalette.ColorRole.Button, QColor(238, 238, 240))
    p.setColor(QPalette.ColorRole.ButtonText, QColor(30, 30, 32))
    p.setColor(QPalette.ColorRole.Highlight, QColor(48, 120, 220))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor(255, 255, 255))
    p.setColor(QPalette.ColorRole.ToolTipBase, QColor(255, 255, 225))
    p.setColor(QPalette.ColorRole.ToolTipText, QColor(30, 30, 32))
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor(130, 130, 135))
    p.setColor(QPalette.ColorRole.Link, QColor(30, 100, 200))
    return p


def system_prefers_dark() -> bool:
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    return bool(scheme is not None and scheme() == Qt.ColorScheme.Dark)


def saved_mode() -> str:
    mode = str(QSettings().value(SETTINGS_KEY, "system"))
    return mode if mode in MODES else "system"


def is_dark() -> bool:
    """Whether the current application palette is dark (panes pick plot colours from this)."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return False
    return app.palette().color(QPalette.ColorRole.Window).lightness() < 128


def apply(mode: str | None = None, save: bool = False) -> str:
    """Apply a theme mode ("system", "light", "dark"); returns the mode applied."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return "system"
    mode = mode if mode in MODES else saved_mode()
    if save:
        QSettings().setValue(SETTINGS_KEY, mode)
    app.setStyle("Fusion")
    dark = system_prefers_dark() if mode == "system" else mode == "dark"
    app.setPalette(_dark_palette() if dark else _light_palette())
    try:  # new pyqtgraph plots follow the palette
        import pyqtgraph as pg

        pg.setConfigOption("background", QColor(28, 30, 33) if dark else QColor(255, 255, 255))
        pg.setConfigOption("foreground", QColor(200, 202, 206) if dark else QColor(60, 60, 64))
    except ImportError:  # pragma: no cover - pyqtgraph is a dependency
        pass
    return mode


def heat_color() -> QColor:
    """The shading colour of hot rows (same hue in both palettes)."""
    return QColor(235, 100, 45) if is_dark() else QColor(230, 90, 40)
