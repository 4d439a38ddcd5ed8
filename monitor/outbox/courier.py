"""Keeps delivering what waits in the outbox while the application runs (Qt-free).

A result the receiver could not take yet is retried with the outbox's backoff for as long as the
program is open, not only when someone sends again: a daemon thread opens its own connection to
the outbox file (only if it already exists: nothing was ever sent otherwise) and delivers what is
due every ``every_s`` seconds. Another process delivering the same outbox is left to it.
"""

from __future__ import annotations

import threading
from pathlib import Path

from monitor.outbox.deliver import deliver
from monitor.outbox.store import WAITING, Outbox, OutboxError, default_path


class OutboxCourier:
    def __init__(self, path: Path | None = None, *, every_s: float = 30.0) -> None:
        self.path = path or default_path()
        self.every_s = float(every_s)
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sympatherm-outbox", daemon=True)

    def start(self) -> OutboxCourier:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout_s)

    def deliver_once(self) -> int:
        """Try what is due now; returns how many messages are still waiting."""
        if not self.path.exists():
            return 0
        try:
            with Outbox(self.path) as outbox:
                deliver(outbox)
                waiting = len(outbox.entries(WAITING))
            self.last_error = None
            return waiting
        except OutboxError as exc:  # a damaged or locked outbox must not take the program down
            self.last_error = str(exc)
            return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.deliver_once()
            self._stop.wait(self.every_s)
