"""Wake the window the moment a reading arrives, so it is on screen within one 30 Hz frame.

A daemon thread blocks in the procedure's ``wait_for_readings`` and emits a queued Qt signal;
the GUI thread then runs the window's tick (at most once per ``min_interval_s``), and only
after that tick does the thread wait again. The window's own timer still runs, to follow the
clock and notice silence. Measured by ``bench/bench_screen_latency.py``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from PyQt6.QtCore import QObject, Qt, QTimer, pyqtSignal

FRAME_S = 1.0 / 30.0


class ArrivalWaker(QObject):
    arrived = pyqtSignal()

    def __init__(self, wait_for_readings: Callable[[float], bool], tick: Callable[[], None],
                 min_interval_s: float = FRAME_S, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._wait_for_readings = wait_for_readings
        self._tick = tick
        self.min_interval_s = min_interval_s
        self._last_tick = 0.0
        self._ticked = threading.Event()
        self._ticked.set()
        self._stop = threading.Event()
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.timeout.connect(self._run_tick)
        # PyQt6's stubs omit connect()'s connection type argument, which PyQt6 takes.
        self.arrived.connect(self._on_arrived, Qt.ConnectionType.QueuedConnection)  # type: ignore[call-arg]
        self._thread = threading.Thread(target=self._wait, name="sympatherm-waker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._later.stop()

    def _wait(self) -> None:
        while not self._stop.is_set():
            if not self._ticked.wait(0.2):
                continue
            if self._wait_for_readings(0.2) and not self._stop.is_set():
                self._ticked.clear()
                self.arrived.emit()

    def _on_arrived(self) -> None:
        wait = self._last_tick + self.min_interval_s - time.monotonic()
        if wait > 0:
            self._later.start(max(1, int(wait * 1000.0 + 0.5)))  # at most one tick per frame
        else:
            self._run_tick()

    def _run_tick(self) -> None:
        self._last_tick = time.monotonic()
        try:
            if not self._stop.is_set():
                self._tick()
        finally:
            self._ticked.set()
