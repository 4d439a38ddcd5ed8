"""Growable numpy buffers: whole-session history with amortised O(1) appends.

Capacity doubles when full, so n appends cost O(n) copies in total and no Python list of
floats ever holds the history. ``view`` is a zero-copy slice of the filled part; it stays
valid until the next growth, so callers take a fresh view when they need one.
"""

from __future__ import annotations

import numpy as np


class GrowableArray:
    __slots__ = ("_data", "_n", "_fill")

    def __init__(self, dtype: np.dtype | type, capacity: int = 1024, fill: float | int | bool = 0) -> None:
        self._fill = fill
        self._data = np.full(max(16, capacity), fill, dtype=dtype)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @property
    def view(self) -> np.ndarray:
        return self._data[: self._n]

    def _reserve(self, extra: int) -> None:
        need = self._n + extra
        cap = self._data.shape[0]
        if need <= cap:
            return
        while cap < need:
            cap *= 2
        # Only the filled part is ever read, so the new tail need not be initialised.
        grown = np.empty(cap, dtype=self._data.dtype)
        grown[: self._n] = self._data[: self._n]
        self._data = grown

    def append(self, value: float | int | bool) -> None:
        if self._n == self._data.shape[0]:
            self._reserve(1)
        self._data[self._n] = value
        self._n += 1

    def extend(self, values: np.ndarray) -> None:
        values = np.asarray(values)
        if values.size == 0:
            return
        self._reserve(values.size)
        self._data[self._n : self._n + values.size] = values
        self._n += values.size

    def truncate(self, n: int) -> None:
        """Forget everything after the first ``n`` values (capacity is kept)."""
        self._n = max(0, min(n, self._n))

    def last(self) -> float | int | bool:
        return self._data[self._n - 1].item()

    def set_range(self, start: int, stop: int, values: np.ndarray | float | int | bool) -> None:
        self._data[start:stop] = values

    def or_range(self, start: int, stop: int, bits: int) -> None:
        self._data[start:stop] |= bits
