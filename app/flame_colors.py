"""Colour schemes for the flame graph: by package, by self-time heat, by difference.

Each scheme returns a palette (list of QColor) and a colour index per
*function*; the pane indexes that by each box's function. Keeping palettes
small (≤ 32 brushes) is what lets the item fill with one drawRects per brush.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
from PySide6.QtGui import QColor

from pyrometer.core.analysis.align import align_functions
from pyrometer.core.analysis.task_stacks import TASK_FILE
from pyrometer.core.model import Profile

SHADES = 4
# (label, hue, saturation, value) per package family; order = palette order.
FAMILIES: tuple[tuple[str, str, int, int, int], ...] = (
    ("user", "your code", 28, 170, 250),
    ("stdlib", "standard library", 208, 110, 245),
    ("site-packages", "site-packages", 110, 120, 225),
    ("builtin", "built-in / native", 275, 60, 215),
    ("task", "asyncio task", 330, 120, 235),  # the by-task trees' synthetic <task ...> frames
)
HEAT_LEVELS = 10
DIFF_LEVELS = 8  # per side; index DIFF_LEVELS is neutral
DIFF_NEW = 2 * DIFF_LEVELS + 1  # the diff palette's last colour: a call path the baseline never ran
NEW_PATH_COLOR = (150, 60, 190)  # purple: no shade of "slower", since there is nothing to compare with
UNCHANGED_BELOW = 0.0005  # a change of share under 0.05 points is drawn neutral: the tooltip prints it as ±0.0


def package_palette() -> list[QColor]:
    """SHADES shades per family, hue jittered a little so neighbours stay distinguishable."""
    out: list[QColor] = []
    for _key, _label, hue, sat, val in FAMILIES:
        for s in range(SHADES):
            out.append(QColor.fromHsv((hue + (s - 1) * 7) % 360, min(255, sat + s * 18), val - s * 10))
    return out


def package_legend(with_tasks: bool = False) -> list[tuple[str, QColor]]:
    """(label, representative colour) per family, for a legend (task frames only when shown by task)."""
    pal = package_palette()
    return [(label, pal[i * SHADES + 1]) for i, (key, label, *_rest) in enumerate(FAMILIES) if with_tasks or key != "task"]


def package_colors(profile: Profile, classify: object | None = None) -> np.ndarray:
    """Palette index per function id: family by file classification, shade by name hash.

    With the standard classification the result is kept on the profile until it gains functions.
    """
    if classify is None:
        from pyrometer.core.analysis.classify import classify_file

        def update(hit: np.ndarray) -> np.ndarray:
            return hit if len(hit) == len(profile.func_name) else package_colors(profile, classify_file)

        return profile.cached("package_colors", lambda: package_colors(profile, classify_file), update)
    family_of = {key: i for i, (key, *_rest) in enumerate(FAMILIES)}
    n = len(profile.func_name)
    out = np.zeros(n, np.int32)
    for f in range(n):
        file = profile.func_file[f]
        kind = "task" if file == TASK_FILE else classify(file)  # type: ignore[operator]
        fam = family_of.get(str(kind), 0)
        shade = zlib.crc32(profile.func_name[f].encode("utf-8", "replace")) % SHADES
        out[f] = fam * SHADES + shade
    return out


def heat_palette() -> list[QColor]:
    """Pale yellow (no self time) to deep red (the hottest function)."""
    out = []
    for i in range(HEAT_LEVELS):
        t = i / (HEAT_LEVELS - 1)
        hue = int(52 - 50 * t)
        sat = int(40 + 200 * t)
        val = int(252 - 40 * t)
        out.append(QColor.fromHsv(hue, sat, val))
    return out


def heat_colors(func_self: np.ndarray) -> np.ndarray:
    """Palette index per function from its self weight, relative to the hottest."""
    top = float(func_self.max(initial=0.0))
    if top <= 0:
        return np.zeros(len(func_self), np.int32)
    frac = np.sqrt(np.clip(func_self / top, 0.0, 1.0))  # sqrt: lukewarm functions stay visible
    return np.minimum((frac * HEAT_LEVELS).astype(np.int32), HEAT_LEVELS - 1)


def diff_palette() -> list[QColor]:
    """Blue (faster: less of the total) … neutral … red (slower: more of the total)."""
    out = []
    for i in range(DIFF_LEVELS, 0, -1):
        t = i / DIFF_LEVELS
        out.append(QColor.fromHsv(215, int(30 + 170 * t), int(250 - 35 * t)))
    out.append(QColor(236, 236, 236))
    for i in range(1, DIFF_LEVELS + 1):
        t = i / DIFF_LEVELS
        out.append(QColor.fromHsv(2, int(30 + 180 * t), int(250 - 35 * t)))
    out.append(QColor(*NEW_PATH_COLOR))  # DIFF_NEW
    return out


def diff_colors(delta: np.ndarray) -> np.ndarray:
    """Palette index per function from its delta of share (new − base), scaled to the largest |delta|."""
    top = float(np.abs(delta).max(initial=0.0))
    if top <= 0:
        return np.full(len(delta), DIFF_LEVELS, np.int32)
    level = np.ceil(np.abs(delta) / top * DIFF_LEVELS).astype(np.int32)
    level = np.minimum(level, DIFF_LEVELS)
    return (DIFF_LEVELS + np.sign(delta).astype(np.int32) * level).astype(np.int32)


def path_diff_colors(delta: np.ndarray, is_new: np.ndarray) -> np.ndarray:
    """Palette index per call path (tree node): blue/red by its delta of share, scaled to the largest
    |delta| among the paths both profiles ran; DIFF_NEW for a path only the new profile ran."""
    new = np.asarray(is_new, bool)
    d = np.where(new, 0.0, np.asarray(delta, np.float64))
    d[np.abs(d) < UNCHANGED_BELOW] = 0.0  # float noise on an unchanged root (1 - 1) must not tint it
    out = diff_colors(d)
    out[new] = DIFF_NEW
    return out


def function_deltas(
    profile: Profile, names: Sequence[str], files: Sequence[str], deltas: Sequence[float]
) -> np.ndarray:
    """Map a diff result keyed by (name, file) onto this profile's function ids."""
    rows = align_functions(profile.func_name, profile.func_file, names, files)
    values = np.append(np.asarray(deltas, np.float64), 0.0)  # row -1 (absent) reads the 0 at the end
    return values[rows]
