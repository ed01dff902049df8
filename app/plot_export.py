"""Save the flame graph or any plot widget as PNG (raster) or SVG (vector).

PNG renders the widget into a QImage (optionally at 2× for print/retina);
SVG paints the same widget through QSvgGenerator (QtSvg ships with
PySide6-Essentials), so the custom items' batched drawRects become SVG rects.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

FILTERS = "PNG image (*.png);;SVG image (*.svg)"


class ExportError(Exception):
    """The image could not be written (message names the file and the reason)."""


def _format_of(path: Path, fmt: str | None) -> str:
    kind = (fmt or path.suffix.lstrip(".")).lower()
    if kind not in ("png", "svg", "jpg", "jpeg", "bmp"):
        raise ExportError(f"{path}: unsupported image format {kind or '(none)'!r}; use .png or .svg")
    return kind


def render_image(widget: QtWidgets.QWidget, scale: float = 1.0) -> QtGui.QImage:
    """The widget as it looks on screen, at `scale` × its size (white where it is transparent)."""
    size = widget.size()
    img = QtGui.QImage(
        max(1, round(size.width() * scale)),
        max(1, round(size.height() * scale)),
        QtGui.QImage.Format.Format_ARGB32_Premultiplied,
    )
    img.setDevicePixelRatio(scale)
    img.fill(widget.palette().color(QtGui.QPalette.ColorRole.Base))
    painter = QtGui.QPainter(img)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing, True)
    widget.render(painter)  # type: ignore[call-overload]  # pyqtgraph views override render()
    painter.end()
    return img


def save_svg(widget: QtWidgets.QWidget, path: str | Path, title: str = "") -> Path:
    """Paint the widget into an SVG file (vector: zoomable, editable)."""
    from PySide6.QtSvg import QSvgGenerator

    out = Path(path)
    gen = QSvgGenerator()
    gen.setFileName(str(out))
    size = widget.size()
    gen.setSize(size)
    gen.setViewBox(QtCore.QRect(0, 0, size.width(), size.height()))
    gen.setTitle(title or widget.windowTitle() or "Pyrometer")
    gen.setDescription("Exported by Pyrometer")
    painter = QtGui.QPainter()
    if not painter.begin(gen):
        raise ExportError(f"{out}: cannot write SVG (is the folder writable?)")
    painter.fillRect(QtCore.QRect(0, 0, size.width(), size.height()), widget.palette().color(QtGui.QPalette.ColorRole.Base))
    widget.render(painter)  # type: ignore[call-overload]  # pyqtgraph views override render()
    painter.end()
    if not out.exists() or out.stat().st_size == 0:
        raise ExportError(f"{out}: the SVG file was not written")
    return out


def export_image(
    widget: QtWidgets.QWidget, path: str | Path, fmt: str | None = None, scale: float = 1.0, title: str = ""
) -> Path:
    """Save `widget` to `path` as PNG/JPEG/BMP (raster, at `scale`) or SVG; format from the extension."""
    out = Path(path)
    kind = _format_of(out, fmt)
    if kind == "svg":
        return save_svg(widget, out, title)
    img = render_image(widget, scale)
    if not img.save(str(out), kind.upper()):  # type: ignore[call-overload]  # runtime takes str
        raise ExportError(f"{out}: cannot write {kind.upper()} image (is the folder writable?)")
    return out


def export_dialog(parent: QtWidgets.QWidget, widget: QtWidgets.QWidget, suggested: str = "plot.png") -> Path | None:
    """Ask for a file name and save; errors are shown in a dialog naming the file. None if cancelled."""
    path, chosen = QtWidgets.QFileDialog.getSaveFileName(parent, "Export image", suggested, FILTERS)
    if not path:
        return None
    out = Path(path)
    if not out.suffix:
        out = out.with_suffix(".svg" if chosen.startswith("SVG") else ".png")
    try:
        return export_image(widget, out, scale=2.0 if out.suffix.lower() == ".png" else 1.0)
    except (ExportError, OSError) as exc:
        QtWidgets.QMessageBox.warning(parent, "Export image", str(exc))
        return None


def export_widget(widget: QtWidgets.QWidget, path: str | Path) -> Path:
    """The (widget, path) entry point the main window's File › Export image calls."""
    return export_image(widget, path, scale=2.0 if str(path).lower().endswith(".png") else 1.0)
