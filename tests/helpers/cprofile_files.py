"""A real cProfile (pstats) file of a small CPU workload, for tests that need one to open."""

from __future__ import annotations

import cProfile
from pathlib import Path


def _work(n: int) -> int:
    return sum(i * i for i in range(n))


def write_cprofile(path: Path, rounds: int = 10, n: int = 5000) -> Path:
    """cProfile `rounds` calls of a sum over `n` squares and dump the stats to `path`."""
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(rounds):
        _work(n)
    prof.disable()
    prof.dump_stats(str(path))
    return path
