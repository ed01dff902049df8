"""Load profile files off the GUI thread, with a cancellable progress dialog.

The reading runs in a prefetch.Opening (started here, or by `pyrometer open`
before Qt was imported): first a preview of a huge recording from its index,
which the window shows at once (`previewed`), then the whole file (`loaded`).
Cancelling makes the opening's progress callback raise, which unwinds the
importer. Results and errors come back to the GUI thread as queued signals.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from pyrometer.core.formats.prefetch import Cancelled, Opening
from pyrometer.core.formats.prefetch import take as _take_prefetched
from pyrometer.core.formats.registry import FormatError
from pyrometer.core.model import Profile

T = TypeVar("T")


class LoadCancelled(Exception):
    """Raised from the progress callback to abandon a load."""


class _LoadThread(QThread):
    progressed = Signal(float)
    previewed = Signal(object)  # Profile: the index's preview, before the full read ends
    loaded = Signal(object)  # Profile
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, path: Path, parent: QObject | None = None, preview: bool = True) -> None:
        super().__init__(parent)
        self.path = path
        self.preview = preview
        self.cancel_flag = threading.Event()
        self.opening: Opening | None = None
        self._last_emit = 0.0

    def _progress(self, fraction: float) -> None:
        if self.cancel_flag.is_set():
            raise LoadCancelled()
        now = time.monotonic()
        if now - self._last_emit > 0.05:
            self._last_emit = now
            self.progressed.emit(float(fraction))

    def _wait(self, fut: Future[T]) -> T:
        """The future's result, staying cancellable and passing the opening's progress on."""
        while True:
            try:
                return fut.result(timeout=0.05)
            except FutureTimeout:
                try:
                    self._progress(self.opening.fraction if self.opening is not None else 0.0)
                except LoadCancelled:
                    if self.opening is not None:
                        self.opening.cancel()
                    raise

    def run(self) -> None:
        try:
            opening = _take_prefetched(self.path)
            if opening is None:
                opening = Opening(self.path, preview=self.preview).start()
            self.opening = opening
            preview = self._wait(opening.preview)
            if preview is not None and not self.cancel_flag.is_set():
                self.previewed.emit(preview)
            profile = self._wait(opening.full)
        except (LoadCancelled, Cancelled):
            self.cancelled.emit()
            return
        except FormatError as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # never let a bad file kill the app
            self.failed.emit(f"{self.path}: {type(exc).__name__}: {exc}")
            return
        if self.cancel_flag.is_set():
            self.cancelled.emit()
            return
        self.loaded.emit(profile)


class FileLoader(QObject):
    """Loads one file; emits `loaded(path, profile)`, `failed(path, message)` or `cancelled(path)`.

    With `preview`, a huge recording is first shown from its index: `previewed(path, profile)`
    comes early (the progress dialog goes; `progressed(fraction)` reports the rest of the read).
    """

    previewed = Signal(object, object)  # Path, Profile (whose `summed` stands for its samples)
    progressed = Signal(float)
    loaded = Signal(object, object)  # Path, Profile
    failed = Signal(object, str)
    cancelled = Signal(object)
    finished = Signal()

    def __init__(
        self, path: str | Path, parent_widget: QWidget | None = None, show_dialog: bool = True, preview: bool = False
    ) -> None:
        super().__init__(parent_widget)
        self.path = Path(path)
        self.fraction = 0.0
        self.was_previewed = False
        self._thread = _LoadThread(self.path, self, preview=preview)
        self._dialog: QProgressDialog | None = None
        if show_dialog:
            # busy indicator until the importer reports a fraction (not every format does)
            dlg = QProgressDialog(f"Loading {self.path.name}…", "Cancel", 0, 0, parent_widget)
            dlg.setWindowTitle("Opening profile")
            dlg.setWindowModality(Qt.WindowModality.WindowModal)
            dlg.setMinimumDuration(400)  # small files never flash a dialog
            dlg.setAutoClose(False)
            dlg.setAutoReset(False)
            dlg.setValue(0)
            dlg.canceled.connect(self.cancel)
            self._dialog = dlg
        self._thread.progressed.connect(self._on_progress)
        self._thread.previewed.connect(self._on_previewed)
        self._thread.loaded.connect(self._on_loaded)
        self._thread.failed.connect(self._on_failed)
        self._thread.cancelled.connect(self._on_cancelled)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        self._thread.cancel_flag.set()

    def wait(self, ms: int = 30000) -> bool:
        return self._thread.wait(ms)

    def close_dialog(self) -> None:
        """Take the progress dialog down now (the window is closing; the load may still be ending).

        A QProgressDialog shows itself after its minimum duration even when its
        window has gone, and a visible dialog keeps Qt from quitting.
        """
        dlg, self._dialog = self._dialog, None
        if dlg is not None:
            dlg.canceled.disconnect(self.cancel)
            dlg.reset()
            dlg.close()
            dlg.deleteLater()

    def _on_progress(self, fraction: float) -> None:
        self.fraction = fraction
        self.progressed.emit(fraction)
        if self._dialog is not None and not self._thread.cancel_flag.is_set() and fraction > 0:
            if self._dialog.maximum() == 0:
                self._dialog.setRange(0, 1000)
            self._dialog.setValue(int(max(0.0, min(1.0, fraction)) * 1000))

    def _done(self) -> None:
        if self._dialog is not None:
            self._dialog.canceled.disconnect(self.cancel)
            self._dialog.close()
            self._dialog.deleteLater()
            self._dialog = None
        self._thread.wait()
        self.finished.emit()

    def _on_previewed(self, profile: Profile) -> None:
        if self._thread.cancel_flag.is_set():
            return
        self.was_previewed = True
        self.close_dialog()  # the window shows the preview; the status bar the rest of the read
        self.previewed.emit(self.path, profile)

    def resume(self) -> None:
        """The preview is drawn: let the full read start (it waits, so it does not slow the first frame)."""
        opening = self._thread.opening
        if opening is not None:
            opening.resume()

    def _on_loaded(self, profile: Profile) -> None:
        self._done()
        self.loaded.emit(self.path, profile)

    def _on_failed(self, message: str) -> None:
        self._done()
        self.failed.emit(self.path, message)

    def _on_cancelled(self) -> None:
        self._done()
        self.cancelled.emit(self.path)
