"""The one interface every probe source implements (serial, BLE, simulated, replay).

As in bleak (one abstract client, one module per backend) and BrainFlow (synthetic and
playback boards behave like hardware), everything downstream (pipeline, store, GUI,
headless recorder) sees only :class:`ProbeSource`.

A source runs its own background worker (thread or asyncio loop) and hands over what
it received through thread-safe queues. Consumers poll: :meth:`ProbeSource.drain` for
readings, :meth:`ProbeSource.drain_events` for connection-state changes. Polling keeps
the source ignorant of Qt and of who consumes it (data flows one way).
"""

from __future__ import annotations

import collections
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

from monitor.clock import SessionClock
from monitor.model import ConnectionState, Limb, Reading


@dataclass(frozen=True)
class DeviceIdentity:
    """What device this is. ``key`` is the stable identity used by the device registry."""

    kind: str  # serial | ble | simulated | replay
    name: str  # human-readable, e.g. "SympaTherm probe ST-0042 on /dev/ttyACM0"
    device_id: str = ""  # from the identity frame, BLE address, or file path
    firmware: str = ""
    probe_model: str = ""
    channels: int = 2
    sample_rate_hz: float | None = None
    usb_vid: int | None = None
    usb_pid: int | None = None
    usb_serial: str = ""
    simulated: bool = False

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.device_id or self.name}"


@dataclass(frozen=True)
class ConnectionEvent:
    """A change of connection state, on the session clock, with the reason in plain words."""

    session_s: float
    wall_time: float
    state: ConnectionState
    reason: str


@dataclass
class SourceHealth:
    readings_per_s: float = 0.0
    lost_frames: int = 0
    crc_failures: int = 0
    malformed_frames: int = 0
    last_reading_age_s: dict[Limb, float | None] = field(
        default_factory=lambda: {Limb.LEFT: None, Limb.RIGHT: None})
    #: Times the host had to find the frame boundary again after bad bytes (one per run of bad frames).
    resyncs: int = 0
    #: Times the probe itself restarted (its clock and numbering began again: a reset, a watchdog).
    restarts: int = 0

    def line(self, probe: str = "") -> LineHealth:
        return LineHealth(probe, self.crc_failures, self.malformed_frames, self.resyncs, self.lost_frames,
                          self.restarts)


#: The session file's meta key holding each source's :class:`LineHealth` (a JSON list of records).
LINE_HEALTH_META = "line_health"


def stored_line_health(meta_value: str | None) -> list[LineHealth]:
    """The line counts a session file holds (its meta ``line_health``); [] if none or unreadable."""
    import json

    try:
        records = json.loads(meta_value) if meta_value else []
    except ValueError:
        return []
    found = [LineHealth.from_record(r) for r in records] if isinstance(records, list) else []
    return [h for h in found if h is not None]


@dataclass(frozen=True)
class LineHealth:
    """What the link to one probe has suffered, counted by its source: the one wording of it.

    ``lost_frames`` are samples missing from the device's sequence numbers (each a reading of
    every channel). Counts only grow during a recording; a new source starts again at 0.
    """

    probe: str = ""
    crc_errors: int = 0
    malformed_frames: int = 0
    resyncs: int = 0
    lost_frames: int = 0
    restarts: int = 0

    @property
    def clean(self) -> bool:
        return not (self.crc_errors or self.malformed_frames or self.resyncs or self.lost_frames or self.restarts)

    def words(self) -> str:
        """E.g. "line: 3 CRC errors, 12 lost" ("" when nothing went wrong): only non-zero counts."""
        parts = [_count(self.crc_errors, "CRC error"), _count(self.malformed_frames, "malformed frame"),
                 _count(self.resyncs, "resync"), f"{self.lost_frames} lost" if self.lost_frames else "",
                 _count(self.restarts, "probe restart")]
        shown = [p for p in parts if p]
        return "line: " + ", ".join(shown) if shown else ""

    def as_record(self) -> dict[str, int | str]:
        """The JSON object stored in the session file's meta ``line_health`` (see the recorder)."""
        return {"probe": self.probe, "crc_errors": self.crc_errors, "malformed_frames": self.malformed_frames,
                "resyncs": self.resyncs, "lost_frames": self.lost_frames, "restarts": self.restarts}

    @classmethod
    def from_record(cls, record: object) -> LineHealth | None:
        """Read :meth:`as_record` back (None if it is not such an object)."""
        if not isinstance(record, dict):
            return None
        try:
            return cls(str(record.get("probe", "")), *(int(record.get(k, 0)) for k in
                                                       ("crc_errors", "malformed_frames", "resyncs", "lost_frames",
                                                        "restarts")))
        except (TypeError, ValueError):
            return None


def _count(n: int, noun: str) -> str:
    return "" if not n else f"{n} {noun}" + ("" if n == 1 else "s")


class ProbeSource(ABC):
    """Abstract probe source. Subclasses implement :meth:`_start` and :meth:`_stop` and call
    :meth:`_emit` and :meth:`_set_state` from their worker.
    """

    def __init__(self, clock: SessionClock, *, max_queue: int = 1_000_000) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._readings: collections.deque[Reading] = collections.deque(maxlen=max_queue)
        self._events: collections.deque[ConnectionEvent] = collections.deque()
        self._state = ConnectionState.STOPPED
        self._reason = "not started"
        self._last_at: dict[Limb, float | None] = {Limb.LEFT: None, Limb.RIGHT: None}
        self._rate_window: collections.deque[float] = collections.deque(maxlen=512)
        self.lost_frames = 0
        self.crc_failures = 0
        self.malformed_frames = 0
        self.resyncs = 0
        self._stop_event = threading.Event()  # set by _stop_worker(); worker loops watch it
        self._worker: threading.Thread | None = None

    # ---- public interface ---------------------------------------------------------
    @property
    @abstractmethod
    def identity(self) -> DeviceIdentity: ...

    def devices(self) -> list[DeviceIdentity]:
        """Every physical device behind this source (a BLE source may use one per foot).

        Each has its own registry key, so each one's calibration is recorded in the session.
        """
        return [self.identity]

    def start(self) -> None:
        self._set_state(ConnectionState.CONNECTING, "connecting")
        self._start()

    def stop(self) -> None:
        self._stop()
        self._set_state(ConnectionState.STOPPED, "stopped")

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def reason(self) -> str:
        """The current state in plain words, e.g. 'cable unplugged (/dev/ttyACM0 vanished)'."""
        return self._reason

    def drain(self, max_items: int | None = None) -> list[Reading]:
        """Readings received since the last call, in arrival order."""
        with self._lock:
            n = len(self._readings) if max_items is None else min(max_items, len(self._readings))
            return [self._readings.popleft() for _ in range(n)]

    def wait_for_readings(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds until at least one reading is waiting; True if so.

        Lets a consumer thread sleep instead of polling (the latency benchmark, a recorder).
        """
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self._readings) > 0, timeout=timeout)

    def drain_events(self) -> list[ConnectionEvent]:
        with self._lock:
            out = list(self._events)
            self._events.clear()
            return out

    def health(self) -> SourceHealth:
        now = self.clock.now()
        with self._lock:
            window = [t for t in self._rate_window if now - t <= 10.0]
            span = (now - window[0]) if len(window) > 1 else 0.0
            rate = (len(window) - 1) / span if span > 0 else 0.0
            ages = {limb: (None if t is None else max(0.0, now - t)) for limb, t in self._last_at.items()}
        return SourceHealth(rate, self.lost_frames, self.crc_failures, self.malformed_frames, ages, self.resyncs,
                            self._restart_count())

    def _restart_count(self) -> int:
        """Times the device itself restarted (sources that can tell say so)."""
        return 0

    # ---- for subclasses ---------------------------------------------------------------
    @abstractmethod
    def _start(self) -> None: ...

    @abstractmethod
    def _stop(self) -> None: ...

    def _start_worker(self, target: Callable[[], object], name: str) -> None:
        """Run ``target`` in a daemon thread; :meth:`_stop_worker` sets ``_stop_event`` and joins it."""
        self._stop_event.clear()
        self._worker = threading.Thread(target=target, name=name, daemon=True)
        self._worker.start()

    def _stop_worker(self, timeout: float = 2.0) -> None:
        self._stop_event.set()
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.join(timeout=timeout)

    def _emit(self, reading: Reading) -> None:
        with self._lock:
            self._readings.append(reading)
            self._last_at[reading.limb] = reading.session_s
            self._rate_window.append(reading.session_s)
            self._arrived.notify_all()

    def _set_state(self, state: ConnectionState, reason: str) -> None:
        with self._lock:
            if state is self._state and reason == self._reason:
                return
            self._state = state
            self._reason = reason
            self._events.append(ConnectionEvent(self.clock.now(), self.clock.wall(), state, reason))
