"""Everything a session file holds, loaded once for an export (read-only; works while recording)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from monitor.model import Limb, Marker, MarkerKind, Reading, SessionInfo
from monitor.store import DeviceRecord, MarkerMove, SessionEvent, SessionStore, VerdictChange

Progress = Callable[[int, int], None]


@dataclass
class LimbArrays:
    """One limb's readings as arrays: time (session s), °C (NaN if none), valid (OK status), wall time."""

    t_s: np.ndarray
    celsius: np.ndarray
    valid: np.ndarray
    wall: np.ndarray


@dataclass
class SessionData:
    path: Path
    meta: dict[str, str]
    info: SessionInfo
    readings: list[Reading]
    markers: list[Marker]
    marker_moves: list[MarkerMove]
    events: list[SessionEvent]
    verdicts: list[VerdictChange]
    devices: list[DeviceRecord]
    criteria: dict[str, Any]

    @property
    def simulated(self) -> bool:
        return self.meta.get("simulated") == "1" or self.info.simulated

    @property
    def status(self) -> str:
        return self.meta.get("status", "")

    @property
    def software_version(self) -> str:
        return self.meta.get("software_version", "")

    @property
    def started_wall(self) -> float:
        value = self.meta.get("started_wall")
        if value:
            return float(value)
        return self.readings[0].wall_time - self.readings[0].session_s if self.readings else 0.0

    @property
    def injections(self) -> list[Marker]:
        return [m for m in self.markers if m.kind is MarkerKind.INJECTION]

    @property
    def injection_s(self) -> float | None:
        """The first injection mark: the reference for 'minutes after injection'."""
        marks = self.injections
        return marks[0].session_s if marks else None

    @property
    def duration_s(self) -> float:
        return max((r.session_s for r in self.readings), default=0.0)

    def limb(self, limb: Limb) -> LimbArrays:
        rows = [r for r in self.readings if r.limb is limb]
        t = np.fromiter((r.session_s for r in rows), float, len(rows))
        c = np.fromiter((np.nan if r.celsius is None else r.celsius for r in rows), float, len(rows))
        ok = np.fromiter((r.has_temperature for r in rows), bool, len(rows))
        wall = np.fromiter((r.wall_time for r in rows), float, len(rows))
        order = np.argsort(t, kind="stable")
        return LimbArrays(t[order], c[order], ok[order], wall[order])

    def final_verdict(self) -> VerdictChange | None:
        return self.verdicts[-1] if self.verdicts else None


def load_session(path: str | os.PathLike[str], progress: Progress | None = None) -> SessionData:
    """Read a session file (never writes it). ``progress(done, total)`` is called while reading."""
    store = SessionStore.open_read_only(path)
    try:
        total = store.reading_count()
        readings: list[Reading] = []
        for r in store.iter_readings():
            readings.append(r)
            if progress and len(readings) % 5000 == 0:
                progress(len(readings), total)
        if progress:
            progress(len(readings), max(total, len(readings)))
        return SessionData(
            path=Path(path), meta=store.meta(), info=store.info(), readings=readings, markers=store.markers(),
            marker_moves=store.marker_moves(), events=store.events(), verdicts=store.verdict_changes(),
            devices=store.devices(), criteria=store.criteria())
    finally:
        store.close()
