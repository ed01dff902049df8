"""Which rows of the lag table hold the probes of a time range, without reading every row.

An agent's lag probes arrive nearly in time order (its batches of several loops overlap a
little), so that a replay could not bisect them: counting the probes before its playhead, or
finding those of the one bucket the playhead cuts, was a pass over every probe (7.5M at 30M
samples, 10-30 ms a frame). Rows are kept here in chunks of CHUNK_ROWS with each chunk's
earliest and latest time: the chunks wholly before a time count whole, and only the few that
straddle it are read. Exact for any order; the cost grows only with how out of order they are.
"""

from __future__ import annotations

import numpy as np

from pyrometer.core.columns import ColumnTable
from pyrometer.core.model import Profile

CHUNK_ROWS = 4096


class ProbeTimeRanges:
    """Earliest and latest time of each chunk of CHUNK_ROWS rows of a table's "time" column, kept as rows arrive."""

    def __init__(self) -> None:
        self.table: tuple[int, int] = (0, -1)  # (id, cuts) of the table the chunks describe
        self.n = 0  # rows covered
        self.low = np.zeros(0, np.float64)  # earliest time per chunk (NaN: every row NaN)
        self.high = np.zeros(0, np.float64)  # latest time per chunk (+inf when a row is NaN: never "wholly before")

    def update(self, table: ColumnTable) -> ProbeTimeRanges:
        """Cover rows appended since the last call (all again when rows were dropped or it is another table)."""
        times = table["time"]
        if (id(table), table.cuts) != self.table or len(times) < self.n:
            self.__init__()  # type: ignore[misc]
            self.table = (id(table), table.cuts)
        n = len(times)
        if n == self.n:
            return self
        first = self.n // CHUNK_ROWS  # the last chunk may have been partial: it is done again
        at = first * CHUNK_ROWS
        whole = (n - at) // CHUNK_ROWS
        lows, highs = [self.low[:first]], [self.high[:first]]
        if whole:
            block = np.asarray(times[at : at + whole * CHUNK_ROWS], np.float64).reshape(whole, CHUNK_ROWS)
            lows.append(_lowest(block))
            highs.append(block.max(axis=1))
        if at + whole * CHUNK_ROWS < n:
            tail = np.asarray(times[at + whole * CHUNK_ROWS : n], np.float64).reshape(1, -1)
            lows.append(_lowest(tail))
            highs.append(tail.max(axis=1))
        self.low = np.concatenate(lows)
        high = np.concatenate(highs)
        self.high = np.where(np.isnan(high), np.inf, high)
        self.n = n
        return self

    def count_before(self, times: np.ndarray, t1: float) -> int:
        """np.count_nonzero(times < t1), reading only the chunks that straddle t1."""
        whole = self.high < t1
        count = int(np.count_nonzero(whole)) * CHUNK_ROWS
        if len(whole) and whole[-1]:  # the last chunk may be short
            count -= len(whole) * CHUNK_ROWS - self.n
        for c in np.flatnonzero(~whole & (self.low < t1)).tolist():
            count += int(np.count_nonzero(times[c * CHUNK_ROWS : min(self.n, (c + 1) * CHUNK_ROWS)] < t1))
        return count

    def rows_between(self, times: np.ndarray, t0: float, t1: float) -> np.ndarray:
        """The rows (ascending) whose time is in [t0, t1): np.flatnonzero((times >= t0) & (times < t1))."""
        parts = [np.zeros(0, np.int64)]
        for c in np.flatnonzero((self.high >= t0) & (self.low < t1)).tolist():
            seg = times[c * CHUNK_ROWS : min(self.n, (c + 1) * CHUNK_ROWS)]
            parts.append(c * CHUNK_ROWS + np.flatnonzero((seg >= t0) & (seg < t1)))
        return np.concatenate(parts)


def _lowest(block: np.ndarray) -> np.ndarray:
    """Each row's smallest time leaving NaN out (NaN when all are): min, then fmin for rows with a NaN
    (fmin over every row was 5x slower: 50 ms at 7.5M probes)."""
    low = block.min(axis=1)
    bad = np.isnan(low)
    if bad.any():
        low[bad] = np.fmin.reduce(block[bad], axis=1)
    return low


def probe_time_ranges(profile: Profile) -> ProbeTimeRanges:
    """The lag table's ProbeTimeRanges, kept on the profile and extended with new probes."""
    lag = profile.lag
    ranges: ProbeTimeRanges = profile.cached("probe_time_ranges", lambda: ProbeTimeRanges().update(lag), lambda r: r.update(lag))
    if ranges.n != len(lag) or ranges.table != (id(lag), lag.cuts):  # rows added without a new generation
        ranges.update(lag)
    return ranges
