"""Replay a recorded session file or an interchange CSV as a probe source, at any speed.

Like BrainFlow's playback board: the recording's readings come out again with their own
session times, on a :class:`~monitor.clock.SimulatedClock` running ``speed`` times real
time (``math.inf``: everything at once). The file's markers and metadata are offered to
the caller (:attr:`ReplaySource.markers`, :attr:`ReplaySource.info`), not replayed as
readings. When the recording ends the state says so.

Files are read with their owners' readers: :mod:`monitor.store` for a session (opened read
only, so even one still being recorded can be replayed) and :mod:`monitor.csvio` for CSV.
"""

from __future__ import annotations

import bisect
import math
import os
import threading
from pathlib import Path

from monitor.clock import SimulatedClock
from monitor.model import ConnectionState, Marker, MarkerKind, Reading, SessionInfo
from monitor.sources.base import DeviceIdentity, ProbeSource

SQLITE_MAGIC = b"SQLite format 3\x00"


class ReplayError(ValueError):
    """The file cannot be replayed; the message says why in plain words."""


class ReplaySource(ProbeSource):
    """Readings of a recorded session (SQLite) or an interchange CSV, replayed in time order."""

    clock: SimulatedClock  # replay time: ``speed`` times faster, or stepped by hand

    def __init__(self, path: str | os.PathLike[str], speed: float = 1.0, *,
                 clock: SimulatedClock | None = None) -> None:
        if not (speed > 0):
            raise ValueError("replay speed must be greater than zero (math.inf: as fast as possible)")
        self.path = Path(path)
        self.speed = speed
        self._manual = clock is not None and clock.manual
        super().__init__(clock if clock is not None else SimulatedClock(1.0 if math.isinf(speed) else speed))
        self.kind, readings, self.markers, self.metadata, self.info = _load(self.path)
        self._recorded = sorted(readings, key=lambda r: r.session_s)  # stable: keeps left/right order
        self._times = [r.session_s for r in self._recorded]
        self._next = 0
        self._lock_step = threading.Lock()
        simulated = bool(self.info.simulated) if self.info is not None else \
            self.metadata.get("simulated", "").strip().lower() in ("1", "true", "yes")
        self._identity = DeviceIdentity("replay", f"Replay of {self.path.name}", device_id=str(self.path.resolve()),
                                        simulated=simulated)

    # ---- what the recording holds ------------------------------------------------------------
    @property
    def identity(self) -> DeviceIdentity:
        return self._identity

    @property
    def reading_count(self) -> int:
        return len(self._recorded)

    @property
    def duration_s(self) -> float:
        return self._times[-1] if self._times else 0.0

    @property
    def suggested_injection_s(self) -> float | None:
        """The recording's first injection mark (or the CSV's ``injection_s``), if any."""
        text = self.metadata.get("injection_s", "").strip()
        if text:
            try:
                return float(text)
            except ValueError:
                pass
        marks = [m.session_s for m in self.markers if m.kind is MarkerKind.INJECTION]
        return min(marks) if marks else None

    @property
    def finished(self) -> bool:
        return self._next >= len(self._recorded)

    # ---- stepping -----------------------------------------------------------------------------
    def step_to(self, session_s: float) -> int:
        """Emit every reading recorded up to ``session_s`` (advancing a manual clock). Returns how many."""
        with self._lock_step:
            if self._manual and session_s > self.clock.now():
                self.clock.advance(session_s - self.clock.now())
            return self._emit_until(session_s)

    def _emit_until(self, session_s: float) -> int:
        end = bisect.bisect_right(self._times, session_s, lo=self._next)
        for reading in self._recorded[self._next:end]:
            self._emit(reading)
        count = end - self._next
        self._next = end
        if self.finished and self.state is ConnectionState.STREAMING:
            self._set_state(ConnectionState.STOPPED, f"replay finished: end of {self.path.name}")
        return count

    # ---- ProbeSource ---------------------------------------------------------------------------
    def _start(self) -> None:
        self._stop_event.clear()
        self._set_state(ConnectionState.STREAMING, f"replaying {self.path.name} at "
                        f"{'full speed' if math.isinf(self.speed) else f'{self.speed:g}x'}")
        if self._manual:
            return
        if not math.isinf(self.speed):
            self.clock = SimulatedClock(self.speed)  # session time restarts at 0 when the replay starts
        self._start_worker(self._run, "replay-source")

    def _stop(self) -> None:
        self._stop_worker()

    def _run(self) -> None:
        if math.isinf(self.speed):
            with self._lock_step:
                self._emit_until(math.inf)
            return
        while not self._stop_event.is_set() and not self.finished:
            with self._lock_step:
                self._emit_until(self.clock.now())
                due = self._times[self._next] if not self.finished else None
            if due is None:
                return
            wait = (due - self.clock.now()) / self.speed
            self._stop_event.wait(min(max(wait, 0.0), 0.05))


def _load(path: Path) -> tuple[str, list[Reading], list[Marker], dict[str, str], SessionInfo | None]:
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise ReplayError(f"cannot replay {path}: no such file") from None
    except IsADirectoryError:
        raise ReplayError(f"cannot replay {path}: it is a folder") from None
    except OSError as exc:
        raise ReplayError(f"cannot replay {path}: {exc.strerror or exc}") from None
    if head == SQLITE_MAGIC:
        from monitor.store import SessionStore, StoreError

        try:
            store = SessionStore.open_read_only(path)
        except StoreError as exc:
            raise ReplayError(f"cannot replay {path}: {exc}") from None
        try:
            meta = store.meta()
            return "session", store.readings(), store.markers(), meta, store.info()
        finally:
            store.close()
    from monitor.csvio import CsvFormatError, read_interchange_csv

    try:
        recording = read_interchange_csv(path)
    except CsvFormatError as exc:
        raise ReplayError(f"cannot replay {path}: {exc}") from None
    return "csv", list(recording.readings), list(recording.markers), dict(recording.metadata), None
