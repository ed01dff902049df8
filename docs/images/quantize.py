"""Shrink screenshots: rewrite PNGs with an 8-bit palette of their most frequent colours.

UI screenshots are mostly flat colours: the palette is the most frequent
ones plus, greedily, the colours farthest from those (weighted by use), so a
rare marker keeps its hue; antialiased pixels map to the nearest entry. The
file shrinks to about a third. Uses only what Pyrometer already depends on (Qt and numpy).

    .venv/bin/python docs/images/quantize.py docs/images/*.png
"""

from __future__ import annotations

import os
import sys

import numpy as np


def quantize(path: str, colours: int = 256) -> tuple[int, int]:
    """Rewrite `path` in place with a palette; returns (bytes before, bytes after)."""
    from PySide6.QtGui import QImage

    before = os.path.getsize(path)
    img = QImage(path).convertToFormat(QImage.Format.Format_RGB32)
    w, h = img.width(), img.height()
    raw = np.frombuffer(img.constBits(), dtype=np.uint32, count=img.bytesPerLine() * h // 4)
    pixels = raw.reshape(h, img.bytesPerLine() // 4)[:, :w].ravel() & 0xFFFFFF
    uniq, inverse, counts = np.unique(pixels, return_inverse=True, return_counts=True)
    urgb = np.stack([(uniq >> 16) & 255, (uniq >> 8) & 255, uniq & 255], axis=-1).astype(np.int64)
    chosen = list(np.argsort(-counts)[: colours * 5 // 8])  # the flat colours of the UI
    best = np.full(len(uniq), np.iinfo(np.int64).max)
    for i in chosen:
        best = np.minimum(best, ((urgb - urgb[i]) ** 2).sum(axis=1))
    while len(chosen) < min(colours, len(uniq)):  # then rare but distinct ones (a yellow marker)
        i = int(np.argmax(best * np.sqrt(counts)))
        if best[i] == 0:
            break
        chosen.append(i)
        best = np.minimum(best, ((urgb - urgb[i]) ** 2).sum(axis=1))
    palette = uniq[np.array(chosen)]
    prgb = urgb[np.array(chosen)]
    nearest = np.empty(len(uniq), dtype=np.uint8)
    for start in range(0, len(uniq), 4096):  # distance of each distinct colour to every palette entry
        d = ((urgb[start : start + 4096, None, :] - prgb[None, :, :]) ** 2).sum(axis=2)
        nearest[start : start + 4096] = d.argmin(axis=1)
    index = nearest[inverse].reshape(h, w)
    out = QImage(w, h, QImage.Format.Format_Indexed8)
    out.setColorTable([int(0xFF000000 | int(c)) for c in palette])
    stride = out.bytesPerLine()
    buf = np.zeros((h, stride), dtype=np.uint8)
    buf[:, :w] = index
    out_bits = out.bits()
    np.frombuffer(out_bits, dtype=np.uint8, count=stride * h)[:] = buf.ravel()  # type: ignore[call-overload]
    if not out.save(path, "PNG", 9):
        raise SystemExit(f"cannot write {path}")
    return before, os.path.getsize(path)


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv[:1])
    for name in sys.argv[1:]:
        b, a = quantize(name)
        print(f"{name}: {b // 1024} KiB -> {a // 1024} KiB")
