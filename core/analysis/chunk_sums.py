"""Running stack sums at chunk boundaries: any time range of a huge session is re-aggregated in milliseconds.

Row k of the index holds, per stack, the summed weight and the sample count
of samples [0, k x size). The sums of rows [a, b) are then one subtraction of
two index rows plus `bincount`s over the two part-chunks at the ends, so a
range costs O(stacks + size), not O(samples in the range). The index is
built in one pass, extended with only new samples while a session is live,
and bounded: when it holds more than `max_rows(...)` rows, every other row is
dropped and the chunk size doubles (its memory stays a few % of the samples').
"""

from __future__ import annotations

import numpy as np

from pyrometer.core.model import Profile

MIN_SIZE = 1 << 14  # samples per chunk at least
MEMORY_SHARE = 0.03  # of the sample columns' bytes, at most (and at least MIN_BYTES)
MIN_BYTES = 16 << 20


def max_rows(samples: int, stacks: int, row_bytes: int) -> int:
    """How many index rows fit the memory budget."""
    budget = max(MIN_BYTES, int(MEMORY_SHARE * samples * row_bytes))
    return max(4, budget // max(1, 16 * (stacks + 1)))


class ChunkSums:
    """Per stack (shifted by one: column 0 is the empty stack), weight and count before each chunk boundary."""

    def __init__(self) -> None:
        self.size = MIN_SIZE
        self.weight = np.zeros((1, 1))  # row k: sums of samples [0, k * size)
        self.count = np.zeros((1, 1), np.int64)
        self.check: tuple[float, int] | None = None  # (time, stack) of the last sample summed

    @property
    def covered(self) -> int:
        """Samples the last row sums (a multiple of `size`)."""
        return (len(self.weight) - 1) * self.size

    def _fingerprint(self, profile: Profile, i: int) -> tuple[float, int]:
        return float(profile.samples["time"][i]), int(profile.samples["stack"][i])

    def update(self, profile: Profile) -> ChunkSums:
        """Add rows for the whole chunks that arrived since the last call (all again if the rows were rewritten)."""
        n = len(profile.samples)
        done = self.covered
        if n < done or (done and self._fingerprint(profile, done - 1) != self.check):
            self.__init__()  # type: ignore[misc]
            done = 0
        width = len(profile.stacks) + 1
        limit = max_rows(n, width, profile.samples.row_bytes())
        while n // self.size + 1 > limit:  # too many rows for the budget: coarser chunks
            self.weight, self.count = self.weight[::2], self.count[::2]
            self.size *= 2
            done = self.covered
        if self.weight.shape[1] < width:  # stacks defined since: no sample had them before
            pad = width - self.weight.shape[1]
            self.weight = np.pad(self.weight, ((0, 0), (0, pad)))
            self.count = np.pad(self.count, ((0, 0), (0, pad)))
        new = n // self.size - (len(self.weight) - 1)
        if new <= 0:
            return self
        rows_w = np.empty((new, width))
        rows_c = np.empty((new, width), np.int64)
        w_prev, c_prev = self.weight[-1], self.count[-1]
        stacks = profile.samples["stack"]
        weights = profile.samples["weight"]
        for k in range(new):
            lo = done + k * self.size
            hi = lo + self.size
            shifted = stacks[lo:hi].astype(np.intp) + 1
            w_prev = w_prev + np.bincount(shifted, weights=weights[lo:hi], minlength=width)
            c_prev = c_prev + np.bincount(shifted, minlength=width)
            rows_w[k], rows_c[k] = w_prev, c_prev
            profile.samples.release(lo, hi)  # a spilled column's rows go back to its file (columns.release_rows)
        self.weight = np.vstack((self.weight, rows_w))
        self.count = np.vstack((self.count, rows_c))
        end = self.covered
        self.check = self._fingerprint(profile, end - 1)
        return self

    def between(self, a: int, b: int, width: int) -> tuple[int, int, np.ndarray, np.ndarray] | None:
        """(first, last, weight, count) over the whole chunks inside rows [a, b): rows [first, last), or None."""
        ka = -(-a // self.size)
        kb = min(b // self.size, len(self.weight) - 1)
        if kb <= ka:
            return None
        w = self.weight[kb] - self.weight[ka]
        c = self.count[kb] - self.count[ka]
        if len(w) < width:
            w = np.pad(w, (0, width - len(w)))
            c = np.pad(c, (0, width - len(c)))
        return ka * self.size, kb * self.size, w[:width], c[:width]


def chunk_sums(profile: Profile) -> ChunkSums:
    """The profile's chunk index, extended when it grew (kept on the profile; dropped when its rows are re-sorted)."""
    return profile.cached("chunk_sums", lambda: ChunkSums().update(profile), lambda ix: ix.update(profile), rows=True)
