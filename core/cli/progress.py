"""Progress on stderr for long headless work, shown only when stderr is a terminal.

Pipes, files and CI logs get nothing (no `\\r` litter in captured output). A
terminal gets one line rewritten in place with `\\r`, first drawn only after a
short delay so quick commands stay silent, and erased when the work is done so
the command's real output starts on a clean line.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

SHOW_AFTER_S = 0.3  # stay silent for work that finishes faster than this
SHOW_AFTER_ENV = "PYROMETER_PROGRESS_AFTER"  # seconds; tests set 0 to see progress on small files
REDRAW_EVERY_S = 0.1  # at most ~10 redraws per second
BAR_WIDTH = 24


class TerminalProgress:
    """A `ProgressFn` that draws `label [####    ]  42%` on a terminal stream."""

    def __init__(
        self,
        label: str,
        stream: TextIO,
        show_after: float = SHOW_AFTER_S,
        redraw_every: float = REDRAW_EVERY_S,
    ) -> None:
        self.label = label
        self.stream = stream
        self.show_after = show_after
        self.redraw_every = redraw_every
        self._start = time.monotonic()
        self._last_draw = -math.inf  # the first call past `show_after` always draws
        self._drawn_width = 0
        self._fraction = 0.0

    def __call__(self, fraction: float) -> None:
        self._fraction = min(1.0, max(0.0, float(fraction)))
        now = time.monotonic()
        if now - self._start < self.show_after or now - self._last_draw < self.redraw_every:
            return
        self._last_draw = now
        self._draw()

    def set_label(self, label: str) -> None:
        """Switch to the next stage (e.g. loading -> analysing) without a new line."""
        self.label = label
        if self._drawn_width:
            self._draw()

    def _draw(self) -> None:
        filled = round(self._fraction * BAR_WIDTH)
        text = f"{self.label} [{'#' * filled}{' ' * (BAR_WIDTH - filled)}] {self._fraction * 100:3.0f}%"
        pad = " " * max(0, self._drawn_width - len(text))
        self._write("\r" + text + pad)
        self._drawn_width = len(text)

    def clear(self) -> None:
        """Erase the line (if anything was drawn) so later output starts clean."""
        if self._drawn_width:
            self._write("\r" + " " * self._drawn_width + "\r")
            self._drawn_width = 0

    @property
    def drawn(self) -> bool:
        return self._drawn_width > 0

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken terminal must not fail the command
            pass


def stream_is_terminal(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (OSError, ValueError):
        return False


def _show_after() -> float:
    try:
        return max(0.0, float(os.environ.get(SHOW_AFTER_ENV, SHOW_AFTER_S)))
    except ValueError:
        return SHOW_AFTER_S


@contextmanager
def terminal_progress(label: str, stream: TextIO | None = None) -> Iterator[TerminalProgress | None]:
    """Yield a progress callback when `stream` (default stderr) is a terminal, else None.

    The line is cleared on exit, also when the work raises.
    """
    out = sys.stderr if stream is None else stream
    if not stream_is_terminal(out):
        yield None
        return
    progress = TerminalProgress(label, out, show_after=_show_after())
    try:
        yield progress
    finally:
        progress.clear()
