"""Replay of a recording: a transport bar that moves the document's playhead.

The playhead limits every pane to samples (and lag, tasks, blocking events)
up to that moment; `None` means "the end", i.e. everything. Playback advances
the playhead from a QTimer that runs only while playing. The speeds reach an
hour per second, so a day-long recording plays in about 20 s; the chosen one
is remembered. The keys that step the playhead are in app/replay_keys.py.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QFileSystemWatcher, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QMouseEvent, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QInputDialog,
    QLabel,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QToolBar,
    QToolButton,
    QToolTip,
    QWidget,
)

from pyrometer.app.document import Document
from pyrometer.core import fmt

if TYPE_CHECKING:
    from pyrometer.app.go_to_time import GoToTime

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 60.0, 300.0, 600.0, 3600.0)
SPEED_KEY = "replay/speed"  # QSettings: the speed last chosen, for the next replay
MIN_PLAY_S = 1.0  # a speed that plays the whole recording faster than this shows nothing (1x and slower: always offered)
SLIDER_STEPS = 10000
TICK_MS = 40


def speed_text(speed: float) -> str:
    """`16×`, or with what a second of playback covers from a minute on: `600× (10 min/s)`."""
    if speed < 60:
        return f"{speed:g}×"
    per = f"{speed / 3600:g} h/s" if speed >= 3600 else f"{speed / 60:g} min/s"
    return f"{speed:g}× ({per})"


def saved_speed() -> float:
    """The speed chosen last time (1× when none was, or it is not one of SPEEDS)."""
    try:
        value = float(QSettings().value(SPEED_KEY, 1.0))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 1.0
    return value if value in SPEEDS else 1.0


class ClickableLabel(QLabel):
    """The time display: a click on it asks for a time to go to, as a video editor's timecode does."""

    clicked = Signal()

    def mousePressEvent(self, ev: QMouseEvent) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
        super().mousePressEvent(ev)


class SeekSlider(QSlider):
    """A slider that jumps to where it is clicked (a plain QSlider pages one step towards it), and
    says under the pointer which time a click there goes to (`hover_text`, set by the bar)."""

    def __init__(self, orientation: Qt.Orientation, parent: QWidget | None = None) -> None:
        super().__init__(orientation, parent)
        self.hover_text: Callable[[int], str] | None = None  # slider value -> what to say
        self.setMouseTracking(True)

    def value_at(self, x: int) -> int:
        """The value a click at x (widget pixels) goes to."""
        opt = QStyleOptionSlider()
        self.initStyleOption(opt)
        style = self.style()
        handle = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, self)
        groove = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderGroove, self)
        span = max(1, groove.width() - handle.width())
        return QStyle.sliderValueFromPosition(self.minimum(), self.maximum(), x - groove.x() - handle.width() // 2, span)

    def mousePressEvent(self, ev: QMouseEvent) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            opt = QStyleOptionSlider()
            self.initStyleOption(opt)
            handle = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, self)
            pos = ev.position().toPoint()
            if not handle.contains(pos):
                self.setValue(self.value_at(pos.x()))
        super().mousePressEvent(ev)  # the handle is under the pointer now: a drag goes on from here

    def mouseMoveEvent(self, ev: QMouseEvent) -> None:
        super().mouseMoveEvent(ev)
        if self.hover_text is not None and self.isEnabled():
            value = self.value() if self.isSliderDown() else self.value_at(ev.position().toPoint().x())
            QToolTip.showText(ev.globalPosition().toPoint(), self.hover_text(value), self)


class ReplayBar(QToolBar):
    """Play/pause, speed (0.25×–3600×), seek slider and current time for one Document."""

    def __init__(self, doc: Document, parent: QWidget | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__("Replay", parent)
        self.setObjectName("replay_bar")
        self.doc = doc
        self.clock = clock  # playback's time source (tests give a fake one)
        self.setMovable(False)
        self.play_button = QToolButton(self)
        self.play_button.setToolTip("Play / pause the recording (Space)")
        self.play_button.clicked.connect(self.toggle)
        self.addWidget(self.play_button)
        self.speed = QComboBox(self)
        for s in SPEEDS:
            self.speed.addItem(speed_text(s), s)
        self.speed.setCurrentIndex(self._offer_speeds(saved_speed()))
        self.speed.setToolTip("Playback speed: seconds of the recording per second (remembered for the next replay)")
        self.speed.currentIndexChanged.connect(self._on_speed)
        self.speed.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # a click to pick a speed leaves Home/End/arrows to the replay
        self.addWidget(self.speed)
        self.slider = SeekSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setValue(SLIDER_STEPS)
        self.slider.setToolTip("Seek: every pane shows the session as of this moment\n"
                               "Keys: , . a frame · ← → 1 s · Shift+← → 1 min · PgUp PgDn a tenth · Home End · Ctrl+G go to a time")
        self.slider.valueChanged.connect(self._on_slider)
        self.slider.hover_text = lambda value: fmt.clock(t := self._slider_time(value)) + self._day_suffix(t)
        self.addWidget(self.slider)
        self.time_label = ClickableLabel(self)
        self.time_label.clicked.connect(self.ask_time)
        self.time_label.setCursor(Qt.CursorShape.PointingHandCursor)
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.time_label.setToolTip("Time into the session / its length, and the clock time at the playhead.\n"
                                   "Click to go to a time (Ctrl+G)")
        self.addWidget(self.time_label)
        # as wide as its widest text from the start: the slider does not jitter as the digits (and weekday) change
        widest = re.sub(r"\d", "8", self.time_text(self.duration())) + "WW"
        self.time_label.setMinimumWidth(self.time_label.fontMetrics().horizontalAdvance(widest))
        self.grown_button = QToolButton(self)
        self.grown_button.setText("File grew: open again")
        self.grown_button.setAutoRaise(False)  # a button, not a word beside the time
        self.grown_button.setToolTip("The file has grown since it was opened (it is still being recorded): "
                                     "open all it holds now in a new tab")
        self.grown_button.clicked.connect(lambda: doc.request_open(doc.path) if doc.path is not None else None)
        self.grown_action = self.addWidget(self.grown_button)
        self.grown_action.setVisible(False)
        self._opened_size = 0  # bytes the file had when this bar was made (a recording still being written)
        self._watcher = self._watch_unfinished()
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0
        self._updating = False
        self._state_shown: tuple[bool, bool] | None = None  # (ready, playing) last drawn by _sync
        self._go_to: GoToTime | None = None
        doc.playheadChanged.connect(self._sync)
        doc.detailProgress.connect(self._sync)  # a huge recording's samples are still being read: the bar says how far
        doc.detailLoaded.connect(lambda: self._sync(doc.playhead))
        self._sync(doc.playhead)

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def duration(self) -> float:
        return max(self.doc.duration(), 1e-9)

    def _offer_speeds(self, wanted: float) -> int:
        """Grey out the speeds that would play the whole recording in under MIN_PLAY_S (3600x a 4 s demo:
        over in one tick), say per speed how long the whole takes, and return the index to start at:
        `wanted` if offered, else the fastest offered (the saved choice stays for the next long recording)."""
        duration = self.duration()
        model = self.speed.model()
        best = SPEEDS.index(1.0)
        for i, s in enumerate(SPEEDS):
            whole = duration / s
            offered = s <= 1.0 or whole >= MIN_PLAY_S
            item = model.item(i) if isinstance(model, QStandardItemModel) else None
            if item is not None:
                item.setEnabled(offered)
                item.setToolTip(f"Plays the whole recording in {fmt.seconds(whole)}")
            if offered and s <= wanted:
                best = i
        return best

    def position(self) -> float:
        """Where the playhead is, in seconds (the end when it shows everything)."""
        return self.duration() if self.doc.playhead is None else self.doc.playhead

    def _watch_unfinished(self) -> QFileSystemWatcher | None:
        """A recording without its end mark may still be written (a `record` running now): say when it grows."""
        path = self.doc.path
        if path is None or self.doc.is_live or self.doc.profile.end is not None or path.suffix != ".pyro":
            return None
        try:
            self._opened_size = path.stat().st_size
        except OSError:
            return None
        watcher = QFileSystemWatcher([str(path)], self)  # inotify: no polling
        watcher.fileChanged.connect(self._on_file_changed)
        return watcher

    def _on_file_changed(self, name: str) -> None:
        try:
            grown = self.doc.path is not None and self.doc.path.stat().st_size > self._opened_size
        except OSError:
            return
        if grown and self._watcher is not None:
            self.grown_action.setVisible(True)
            self._watcher.removePath(name)  # said once: a recording being written changes every second

    def ready(self) -> bool:
        """Whether there is anything to replay: a recording opened from its index has only sums until its samples are read."""
        return not self.doc.detail_pending

    def seek(self, t: float | None) -> None:
        """Move the playhead (None or ≥ duration = the end)."""
        if not self.ready():
            return
        if t is not None and t >= self.duration():
            t = None
        self.doc.set_playhead(None if t is None else max(0.0, t))

    def step(self, seconds: float) -> None:
        """Move the playhead by `seconds` (negative: back), stopping at the start and the end."""
        self.seek(max(0.0, self.position() + seconds))

    def frame_interval(self) -> float:
        """One sampling interval: the smallest step that can change what the panes show."""
        p = self.doc.profile
        rate = p.meta.get("rate_hz")
        if isinstance(rate, int | float) and rate > 0:
            return 1.0 / float(rate)
        per_thread = p.sample_count / max(1, len(p.threads))
        return self.duration() / max(1.0, per_thread)

    def step_frames(self, n: int) -> None:
        self.step(n * self.frame_interval())

    def ask_time(self) -> QInputDialog | None:
        """Open "Go to time" (None while there is nothing to replay yet)."""
        if not self.ready():
            return None
        if self._go_to is None:
            from pyrometer.app.go_to_time import GoToTime

            self._go_to = GoToTime(self)
        self._go_to.ask()
        return self._go_to

    def clock_of_day(self, t: float) -> datetime | None:
        """The local date and time the recording was at `t` (None when the recording does not say when it started)."""
        start = self.doc.profile.meta.get("start_wall")
        if not isinstance(start, int | float) or start <= 0:
            return None
        try:
            return datetime.fromtimestamp(float(start) + t)
        except (OverflowError, OSError, ValueError):
            return None

    def time_text(self, t: float) -> str:
        """`7:42:30.004 / 20:50:00.010 · Thu 15:28:13`: time into the session / its length, and the clock of day."""
        return f"{fmt.clock(t)} / {fmt.clock(self.duration())}{self._day_suffix(t)}"

    def _day_suffix(self, t: float) -> str:
        """`  ·  15:28:13` (with the weekday when the recording spans days): "what happened at 3 am" is how
        a service's day is remembered; "" when the recording does not say when it started."""
        at = self.clock_of_day(t)
        if at is None:
            return ""
        first, last = self.clock_of_day(0.0), self.clock_of_day(self.duration())
        spans_days = first is not None and last is not None and first.date() != last.date()
        return "  ·  " + at.strftime("%a %H:%M:%S" if spans_days else "%H:%M:%S")

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        if not self.ready():
            return
        if self.doc.playhead is None:  # at the end: start over
            self.doc.set_playhead(0.0)
        self._last = self.clock()
        self.doc.playing = True
        self._timer.start()
        self._sync(self.doc.playhead)

    def pause(self) -> None:
        self._timer.stop()
        self.doc.playing = False
        self._sync(self.doc.playhead)

    def hideEvent(self, event: QHideEvent) -> None:
        """Its tab went to the back (another recording opened, or chosen): the replay pauses there."""
        if self.playing:
            self.pause()
        super().hideEvent(event)

    def _on_speed(self, _index: int) -> None:
        QSettings().setValue(SPEED_KEY, float(self.speed.currentData()))

    def _tick(self) -> None:
        now = self.clock()
        dt = (now - self._last) * float(self.speed.currentData())
        self._last = now
        if self.doc.playhead is None:  # moved to the end while playing (End, a step past it): stop there
            self.pause()
            return
        t = self.doc.playhead + dt
        if t >= self.duration():
            self._timer.stop()
            self.doc.playing = False
            self.seek(None)
        else:
            self.doc.set_playhead(max(0.0, t), animate=True)

    def _slider_time(self, value: int) -> float:
        return min(1.0, value / SLIDER_STEPS) * self.duration()

    def _on_slider(self, value: int) -> None:
        if self._updating:
            return
        self.seek(None if value >= SLIDER_STEPS else self._slider_time(value))

    def _sync(self, playhead: object) -> None:
        dur = self.duration()
        t = dur if self.doc.playhead is None else self.doc.playhead
        self._updating = True
        try:
            self.slider.setValue(SLIDER_STEPS if self.doc.playhead is None else int(t / dur * SLIDER_STEPS))
        finally:
            self._updating = False
        ready = self.ready()
        text = self.time_text(t) if ready else "Replay: " + self.doc.pending_text().replace("\n", " ")
        if self.time_label.text() != text:
            self.time_label.setText(text)
        state = (ready, self.playing)
        if state == self._state_shown:  # (a huge recording's read reports progress many times a second: setting
            return  # the same icon and states again each time made the window lay out and paint again, ~100 ms)
        self._state_shown = state
        self.play_button.setEnabled(ready)
        self.slider.setEnabled(ready)
        icon = QStyle.StandardPixmap.SP_MediaPause if self.playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText("Pause" if self.playing else "Play")
