"""The GUI's handle on one running session: source → pipeline → store, pumped from a Qt timer.

The display only reads what the core computed (pipeline snapshot and series, markers);
it timestamps nothing: every time here is session time from the source's clock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from monitor.model import Limb, Marker, MarkerKind, ProbeStatus, Reading, SessionInfo
from monitor.sources.base import ProbeSource

try:  # the pipeline package (issue 5); the display still plots raw readings without it
    from monitor.pipeline import BlockPipeline
except ImportError:  # pragma: no cover - only while the pipeline is being built
    BlockPipeline = None  # type: ignore[assignment,misc]


@dataclass
class NewPoints:
    """Readings of one limb that arrived since the last pump, as arrays for the plot."""

    t: np.ndarray
    celsius: np.ndarray  # NaN where the probe gave no temperature
    valid: np.ndarray


@dataclass
class LimbLive:
    status: ProbeStatus | None = None
    celsius: float | None = None
    last_s: float | None = None


@dataclass
class MarkerLogEntry:
    session_s: float
    text: str


@dataclass
class LiveSessionState:
    limbs: dict[Limb, LimbLive] = field(default_factory=lambda: {Limb.LEFT: LimbLive(), Limb.RIGHT: LimbLive()})


class LiveSession:
    """Owns a running source, the pipeline and (optionally) the session store.

    Call :meth:`pump` from a timer; it returns the new points per limb for the plot.
    """

    def __init__(self, source: ProbeSource, info: SessionInfo, *, store=None, criteria: str = "default") -> None:
        if info.blocked is None:
            raise ValueError("the blocked side must be chosen before the session starts")
        self.source = source
        self.info = info
        self.store = store
        self.clock = source.clock
        self.criteria = criteria
        self.pipeline = (BlockPipeline(info.blocked, criteria, core_c=info.core_c)
                         if BlockPipeline is not None else None)
        self.state = LiveSessionState()
        self.markers: list[Marker] = []
        self.log: list[MarkerLogEntry] = []
        self._next_local_marker_id = 1
        self._last_commit = time.monotonic()
        self.started = False
        self.finished = False
        self.total_readings = 0

    # ---- life cycle -----------------------------------------------------------------------
    def start(self) -> None:
        if self.store is not None:
            self.store.add_device(self.source.identity)
            self.store.commit()
        self.source.start()
        self.started = True

    def stop(self, reason: str = "closed normally") -> None:
        """Stop the source, write everything left and close the session file."""
        if self.finished:
            return
        self.finished = True
        try:
            self.source.stop()
        finally:
            self.pump()
            if self.store is not None:
                self.store.close(end_reason=reason)

    def now(self) -> float:
        return self.clock.now()

    # ---- data -----------------------------------------------------------------------------
    def pump(self) -> dict[Limb, NewPoints]:
        """Move what the source received into the pipeline and the store."""
        readings = self.source.drain()
        if readings:
            self.total_readings += len(readings)
            if self.pipeline is not None:
                self.pipeline.push_many(readings)
            if self.store is not None and not self.store.closed:
                self.store.add_readings(readings)
        self._commit_if_due()
        return self._split(readings)

    def _commit_if_due(self, force: bool = False) -> None:
        if self.store is None or self.store.closed:
            return
        if force or time.monotonic() - self._last_commit >= 1.0:
            self.store.commit()
            self._last_commit = time.monotonic()

    def _split(self, readings: list[Reading]) -> dict[Limb, NewPoints]:
        out: dict[Limb, NewPoints] = {}
        for limb in Limb:
            rs = [r for r in readings if r.limb is limb]
            if not rs:
                continue
            last = rs[-1]
            live = self.state.limbs[limb]
            live.status = last.status
            live.last_s = last.session_s
            if last.has_temperature:
                live.celsius = last.celsius
            t = np.fromiter((r.session_s for r in rs), float, len(rs))
            c = np.fromiter((r.celsius if r.celsius is not None else np.nan for r in rs), float, len(rs))
            ok = np.fromiter((r.has_temperature for r in rs), bool, len(rs))
            out[limb] = NewPoints(t, c, ok)
        return out

    def snapshot(self):
        return self.pipeline.snapshot() if self.pipeline is not None else None

    def reading_ages(self) -> dict[Limb, float | None]:
        now = self.now()
        return {limb: (None if st.last_s is None else max(0.0, now - st.last_s))
                for limb, st in self.state.limbs.items()}

    # ---- markers ----------------------------------------------------------------------------
    def add_marker(self, kind: MarkerKind, session_s: float | None = None, text: str = "") -> Marker:
        placed = self.now()
        at = placed if session_s is None else session_s
        marker = Marker(kind, at, text, wall_time=self._wall_at(at), placed_s=placed)
        if self.store is not None and not self.store.closed:
            mid = self.store.add_marker(marker)
        else:
            mid = self._next_local_marker_id
            self._next_local_marker_id += 1
        marker = Marker(kind, at, text, marker.wall_time, placed, mid)
        self.markers.append(marker)
        if self.pipeline is not None:
            self.pipeline.add_marker(marker)
        self.log.append(MarkerLogEntry(placed, f"{kind.label} marked at {at:.1f} s"))
        self._commit_if_due(force=True)
        return marker

    def move_marker(self, marker_id: int, new_s: float, reason: str = "moved on the plot") -> Marker:
        idx = next(i for i, m in enumerate(self.markers) if m.id == marker_id)
        old = self.markers[idx]
        new = Marker(old.kind, new_s, old.text, self._wall_at(new_s), old.placed_s, old.id)
        self.markers[idx] = new
        if self.store is not None and not self.store.closed:
            self.store.move_marker(marker_id, new_s, moved_at_s=self.now(), reason=reason)
        if self.pipeline is not None and hasattr(self.pipeline, "move_marker"):
            self.pipeline.move_marker(marker_id, new_s)
        self.log.append(MarkerLogEntry(self.now(), f"{old.kind.label} moved from {old.session_s:.1f} s "
                                                   f"to {new_s:.1f} s ({reason})"))
        self._commit_if_due(force=True)
        return new

    def injection_s(self) -> float | None:
        inj = [m.session_s for m in self.markers if m.kind is MarkerKind.INJECTION]
        return min(inj) if inj else None

    def _wall_at(self, session_s: float) -> float:
        return self.clock.wall() - self.clock.now() + session_s
