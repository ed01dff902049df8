"""How much of a mapped array is in memory: what the spilled-column tests check was let go."""

from __future__ import annotations

import numpy as np


def resident_kb(arr: np.ndarray) -> int:
    """Rss of the mapping that holds the array's first byte, from /proc/self/smaps (Linux)."""
    where = arr.ctypes.data
    with open("/proc/self/smaps") as fh:
        inside = False
        for line in fh:
            head = line.split()[0]
            if "-" in head and not head.endswith(":"):
                lo, hi = (int(x, 16) for x in head.split("-"))
                inside = lo <= where < hi
            elif inside and head == "Rss:":
                return int(line.split()[1])
    raise AssertionError("no mapping holds the array")
