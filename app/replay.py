"""Replay of a recording: a transport bar that moves the document's playhead.

The playhead limits every pane to samples (and lag, tasks, blocking events)
up to that moment; `None` means "the end", i.e. everything. Playback advances
the playhead from a QTimer that runs only while playing.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QToolBar,
    QToolButton,
    QWidget,
)

from pyrometer.app.document import Document
from pyrometer.core import fmt

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
SLIDER_STEPS = 10000
TICK_MS = 40


class SeekSlider(QSlider):
    """A slider that jumps to where it is clicked (a plain QSlider pages one step towards it)."""

    def mousePressEvent(self, ev: QMouseEvent) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            opt = QStyleOptionSlider()
            self.initStyleOption(opt)
            style = self.style()
            handle = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, self)
            pos = ev.position().toPoint()
            if not handle.contains(pos):
                groove = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderGroove, self)
                span = max(1, groove.width() - handle.width())
                x = pos.x() - groove.x() - handle.width() // 2
                self.setValue(QStyle.sliderValueFromPosition(self.minimum(), self.maximum(), x, span))
        super().mousePressEvent(ev)  # the handle is under the pointer now: a drag goes on from here


class ReplayBar(QToolBar):
    """Play/pause, speed (0.25×–16×), seek slider and current time for one Document."""

    def __init__(self, doc: Document, parent: QWidget | None = None) -> None:
        super().__init__("Replay", parent)
        self.setObjectName("replay_bar")
        self.doc = doc
        self.setMovable(False)
        self.play_button = QToolButton(self)
        self.play_button.setToolTip("Play / pause the recording (Space)")
        self.play_button.clicked.connect(self.toggle)
        self.addWidget(self.play_button)
        self.speed = QComboBox(self)
        for s in SPEEDS:
            self.speed.addItem(f"{s:g}×", s)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.setToolTip("Playback speed")
        self.addWidget(self.speed)
        self.slider = SeekSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setValue(SLIDER_STEPS)
        self.slider.setToolTip("Seek: every pane shows the session as of this moment")
        self.slider.valueChanged.connect(self._on_slider)
        self.addWidget(self.slider)
        self.time_label = QLabel(self)
        self.time_label.setMinimumWidth(170)
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.addWidget(self.time_label)
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0
        self._updating = False
        doc.playheadChanged.connect(self._sync)
        self._sync(doc.playhead)

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def duration(self) -> float:
        return max(self.doc.duration(), 1e-9)

    def seek(self, t: float | None) -> None:
        """Move the playhead (None or ≥ duration = the end)."""
        if t is not None and t >= self.duration():
            t = None
        self.doc.set_playhead(None if t is None else max(0.0, t))

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        if self.doc.playhead is None:  # at the end: start over
            self.doc.set_playhead(0.0)
        self._last = time.monotonic()
        self.doc.playing = True
        self._timer.start()
        self._sync(self.doc.playhead)

    def pause(self) -> None:
        self._timer.stop()
        self.doc.playing = False
        self._sync(self.doc.playhead)

    def _tick(self) -> None:
        now = time.monotonic()
        dt = (now - self._last) * float(self.speed.currentData())
        self._last = now
        t = (self.doc.playhead or 0.0) + dt
        if t >= self.duration():
            self._timer.stop()
            self.doc.playing = False
            self.seek(None)
        else:
            self.doc.set_playhead(max(0.0, t), animate=True)

    def _on_slider(self, value: int) -> None:
        if self._updating:
            return
        self.seek(None if value >= SLIDER_STEPS else value / SLIDER_STEPS * self.duration())

    def _sync(self, playhead: object) -> None:
        dur = self.duration()
        t = dur if self.doc.playhead is None else self.doc.playhead
        self._updating = True
        try:
            self.slider.setValue(SLIDER_STEPS if self.doc.playhead is None else int(t / dur * SLIDER_STEPS))
        finally:
            self._updating = False
        self.time_label.setText(f"{fmt.clock(t)} / {fmt.clock(dur)}")
        icon = QStyle.StandardPixmap.SP_MediaPause if self.playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText("Pause" if self.playing else "Play")
