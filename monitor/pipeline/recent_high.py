"""The highest value over the last N whole time blocks: the other foot's recent level.

After a unilateral block the other foot cools by at most ~1 °C over 30 minutes; a reading that
has fallen further below its highest level of the last 30 minutes is a loosening probe, however
slowly it fell. Keeping one maximum per minute makes that a constant-time question per reading,
live or offline, and the answer is exact (a maximum involves no rounding), so processing the
same readings in any chunks gives identical results.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np


class RecentHigh:
    """Highest value over the current ``block_s`` block and the ``blocks`` before it, since the
    last :meth:`reset` (the window is ``blocks`` to ``blocks`` + 1 blocks long)."""

    def __init__(self, block_s: float, blocks: int) -> None:
        if block_s <= 0 or blocks < 0:
            raise ValueError("block_s must be greater than zero and blocks not negative")
        self.block_s = block_s
        self.blocks = blocks
        self._ids: deque[int] = deque()
        self._highs: deque[float] = deque()

    def reset(self) -> None:
        self._ids.clear()
        self._highs.clear()

    def _enter(self, block: int, high: float) -> float:
        """Fold ``high`` into ``block`` (the newest) and return the highest of the older blocks kept."""
        if self._ids and self._ids[-1] == block:
            if high > self._highs[-1]:
                self._highs[-1] = high
        else:
            self._ids.append(block)
            self._highs.append(high)
        while self._ids[0] < block - self.blocks:
            self._ids.popleft()
            self._highs.popleft()
        return max(list(self._highs)[:-1], default=-math.inf)

    def one(self, t: float, value: float) -> float:
        """Add one value at time ``t`` (after every earlier one) and return the recent high, it included."""
        return self.one_with_earlier(t, value)[0]

    def one_with_earlier(self, t: float, value: float) -> tuple[float, float]:
        """:meth:`one`, and the high of the whole blocks before the current one (-inf: none)."""
        earlier = self._enter(math.floor(t / self.block_s), value)
        return max(earlier, self._highs[-1]), earlier

    def many(self, t: np.ndarray, values: np.ndarray) -> np.ndarray:
        """:meth:`one` for each value in turn (times ascending), vectorised within each block."""
        return self.many_with_earlier(t, values)[0]

    def many_with_earlier(self, t: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`one_with_earlier` for each value in turn."""
        out = np.empty(values.shape[0])
        before = np.empty(values.shape[0])
        if values.shape[0] == 0:
            return out, before
        block = np.floor(t / self.block_s).astype(np.int64)
        starts = np.flatnonzero(np.concatenate(([True], block[1:] != block[:-1])))
        ends = np.concatenate((starts[1:], [block.shape[0]]))
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            run = np.maximum.accumulate(values[a:b])
            bid = int(block[a])
            if self._ids and self._ids[-1] == bid:
                run = np.maximum(run, self._highs[-1])
            earlier = self._enter(bid, float(run[-1]))
            out[a:b] = np.maximum(run, earlier)
            before[a:b] = earlier
        return out, before
