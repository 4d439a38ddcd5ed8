"""Ctrl-C and SIGTERM as a polite request to stop, for the long-running commands.

The handler only counts. It must never take a lock: Python runs a handler on the main
thread between two bytecodes, possibly while that same thread holds the lock inside a
``threading.Event.wait()``, and an ``Event.set()`` there deadlocks the process for good
(seen as a rare SIGTERM that never ended ``sympatherm record``).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any, TypeAlias

# What signal.signal() returns and accepts: a handler, SIG_DFL/SIG_IGN, or None (set outside Python).
_Handler: TypeAlias = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_SLICE_S = 0.05  # how long a wait may take to notice a signal


class StopRequests:
    """Install on entry, restore the previous handlers on exit; ``count`` is how many arrived."""

    def __init__(self) -> None:
        self.count = 0
        self._previous: dict[signal.Signals, _Handler] = {}

    def __enter__(self) -> StopRequests:
        self._previous = {sig: signal.signal(sig, self._on_signal) for sig in _SIGNALS}
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        self.count += 1  # plain attribute update: no lock, safe at any bytecode boundary

    @property
    def requested(self) -> bool:
        return self.count > 0

    def wait(self, timeout_s: float, *, since: int | None = None) -> bool:
        """Sleep up to ``timeout_s``; True as soon as more than ``since`` signals
        (default: the count on entry) have arrived."""
        seen = self.count if since is None else since
        deadline = time.monotonic() + timeout_s
        while self.count <= seen:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, _SLICE_S))
        return True
