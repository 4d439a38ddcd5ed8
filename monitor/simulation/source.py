"""The simulated patient as an in-process probe source.

Samples :class:`monitor.simulation.physiology.PatientModel` at ``rate_hz`` on a
:class:`~monitor.clock.SimulatedClock` running ``speed`` times faster than real time.
Every sample goes through the real wire path (``firmware_protocol`` encoder, then the
decoder) before it becomes a :class:`~monitor.model.Reading`, so the simulator exercises
the same code as a probe on a cable.

With a *manual* clock there is no worker thread: tests call :meth:`SimulatedSource.step_to`
to emit, synchronously, every sample up to a session time.

``start_at_s`` starts the source in the middle of the patient: the source's clock reads 0
when the patient is at ``start_at_s`` (and ``injection_s``, like ``suggested_injection_s``,
is in the patient's time). A resumed recording passes the time its session goes on at
(the recorder's offset), so the probes, long settled, go on where the file stopped instead
of settling again from room temperature.
"""

from __future__ import annotations

import math
import threading

from monitor.clock import SimulatedClock
from monitor.model import ConnectionState, Limb
from monitor.simulation.physiology import SCENARIOS, PatientModel
from monitor.simulation.wire import SimulatedProbeWire
from monitor.sources.base import DeviceIdentity, ProbeSource
from monitor.sources.channels import make_reading


class SimulatedSource(ProbeSource):
    """A simulated patient with two probes, as a :class:`ProbeSource`."""

    clock: SimulatedClock  # always simulated: it may be manual, and it restarts with the source

    def __init__(self, scenario: str, seed: int = 1, speed: float = 1.0, blocked: Limb = Limb.LEFT,
                 clock: SimulatedClock | None = None, rate_hz: float = 1.0,
                 injection_s: float | None = None, start_at_s: float = 0.0) -> None:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; choose one of: {', '.join(sorted(SCENARIOS))}")
        if not rate_hz > 0 or not math.isfinite(rate_hz):
            raise ValueError("rate_hz must be a positive number")
        if not start_at_s >= 0 or not math.isfinite(start_at_s):
            raise ValueError("start_at_s must be zero or a positive number of seconds")
        # A clock we create ourselves starts at start(), so the time between building the
        # source and starting it does not arrive as a burst of readings.
        self._owns_clock = clock is None
        clock = clock if clock is not None else SimulatedClock(speed)
        super().__init__(clock)
        self.model = PatientModel.from_scenario(scenario, seed=seed, blocked=blocked, injection_s=injection_s)
        self.rate_hz = float(rate_hz)
        self.speed = clock.speed
        self._identity = DeviceIdentity(
            kind="simulated",
            name=f"Simulated patient: {scenario}, seed {seed}",
            device_id=f"{scenario}-seed{seed}-{blocked}",
            firmware="simulator",
            probe_model="simulated YSI 400",
            channels=2,
            sample_rate_hz=self.rate_hz,
            simulated=True,
        )
        self.start_at_s = float(start_at_s)
        self._wire = SimulatedProbeWire(self.model, device_id=self._identity.device_id, time_offset_s=self.start_at_s)
        self._next_index = 0
        self._step_lock = threading.Lock()

    @property
    def identity(self) -> DeviceIdentity:
        return self._identity

    @property
    def suggested_injection_s(self) -> float:
        """When the simulated physician injects: where to put the injection mark.

        In the patient's time, which is the session time of a recording that started with this
        patient (the source's own clock plus ``start_at_s``)."""
        return self.model.injection_s

    @property
    def manual(self) -> bool:
        return self.clock.manual

    # ---- deterministic stepping ------------------------------------------------------
    def step_to(self, session_s: float) -> int:
        """Emit every sample due up to ``session_s`` (inclusive), synchronously.

        A manual clock is advanced to ``session_s``. Returns the number of samples taken.
        """
        with self._step_lock:
            if self.manual and session_s > self.clock.now():
                self.clock.advance(session_s - self.clock.now())
            return self._emit_due(session_s)

    def _emit_due(self, session_s: float) -> int:
        count = 0
        offset = self.clock.wall() - self.clock.now()
        while self._next_index / self.rate_hz <= session_s + 1e-9:
            t = self._next_index / self.rate_hz
            for decoded in self._wire.sample(self._next_index, t):
                reading = make_reading(decoded.limb, decoded.celsius, decoded.status, t, offset + t,
                                       sequence=decoded.sequence, device_time_s=decoded.device_time_s,
                                       source=self._identity.key)
                self._emit(reading)
            self._next_index += 1
            count += 1
        self.lost_frames = self._wire.lost_frames
        self.crc_failures = self._wire.crc_failures
        self.malformed_frames = self._wire.malformed_frames
        return count

    # ---- ProbeSource ---------------------------------------------------------------------
    def _start(self) -> None:
        self._stop_event.clear()
        if self._owns_clock and self._next_index == 0:
            self.clock.restart()
        self._set_state(ConnectionState.STREAMING, f"streaming from the simulated patient ({self.model.describe()})")
        if self.manual:
            return
        self._start_worker(self._run, "simulated-source")

    def _stop(self) -> None:
        self._stop_worker()

    def _run(self) -> None:
        while not self._stop_event.is_set():
            with self._step_lock:
                self._emit_due(self.clock.now())
                due = self._next_index / self.rate_hz
            wait = (due - self.clock.now()) / self.speed
            # Wake at least every 50 ms so stop() is prompt even at very slow rates.
            self._stop_event.wait(min(max(wait, 0.0), 0.05))
