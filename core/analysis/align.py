"""Match the functions of two profiles by (name, file): ids differ between runs, names do not.

The one place that decides what "the same function" means across profiles:
the Compare pane's rows, the flame graph's difference colours and a transform
carried over to a baseline all go through `align_functions`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def align_functions(
    names: Sequence[str], files: Sequence[str], target_names: Sequence[str], target_files: Sequence[str]
) -> np.ndarray:
    """Per (name, file) row of the first list, its index in the target lists (-1 when absent).

    The first line number is left out on purpose: an edit above a function moves
    it, yet it is the same function. Duplicate targets resolve to the first one.
    """
    index: dict[tuple[str, str], int] = {}
    for i, key in enumerate(zip(target_names, target_files, strict=True)):
        index.setdefault(key, i)
    return np.fromiter((index.get(k, -1) for k in zip(names, files, strict=True)), np.int64, len(names))
