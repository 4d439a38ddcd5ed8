"""What the central knows of one room: the station's latest published state, kept as it came.

Every clinical value here is the station's own (its procedure core's), read from its ``state``
and ``readings`` messages; the central adds only what it alone can know: when it last heard
from the room, whether the station said it is online, and how many of the room's messages it
could not read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from monitor.central.history import RoomHistory
from monitor.publish import messages as wire

# Nothing heard from a room for this long (the central's clock) is NO COMMUNICATION: a
# recording station sends its state at least once a second.
SILENT_AFTER_S = 5.0


@dataclass(frozen=True, order=True)
class RoomKey:
    site: str
    room: str

    def __str__(self) -> str:
        return f"{self.site}/{self.room}"


class Communication(StrEnum):
    """How the central hears a room now."""

    LIVE = "live"  # messages within the last 5 s
    NO_COMMUNICATION = "no_communication"  # the will, or 5 s of silence, or the central's own link down
    ENDED = "ended"  # the session finished normally (not a lost station)
    WAITING = "waiting"  # online, nothing but its status yet


@dataclass
class Received:
    """Per message kind: the run and highest seq applied (duplicates dropped), gaps seen."""

    run_id: str | None = None
    seq: int = 0
    gaps: int = 0  # messages missing between two received (a loss for verdict, alarms, markers)


@dataclass
class Room:
    """One room as the central sees it. ``state`` is the station's newest retained state."""

    key: RoomKey
    status: wire.Status | None = None
    state: wire.State | None = None
    readings: wire.Readings | None = None  # the newest
    markers: tuple[wire.MarkerNow, ...] = ()
    alarms: dict[str, wire.AlarmNow] = field(default_factory=dict)  # active, by the core's alarm id
    verdict_changes: list[tuple[float, str, str]] = field(default_factory=list)  # (session_s, state, words)
    history: RoomHistory = field(default_factory=RoomHistory)
    heard_s: float | None = None  # the central's clock at the newest valid message
    communication: Communication = Communication.WAITING
    why_no_communication: str = ""
    not_understood: int = 0  # messages on this room's topics that were not valid v1 messages
    duplicates: int = 0
    readings_missed: int = 0  # readings gaps (seq) plus the station's own dropped_before
    received: dict[wire.Kind, Received] = field(default_factory=dict)
    session_started_at: str | None = None  # identifies the session the history belongs to
    # The station's retained history, until this room's state says it is of the same session.
    pending_history: wire.History | None = None

    # ---- read by views -------------------------------------------------------------------
    @property
    def bed(self) -> str | None:
        if self.state is not None:
            return self.state.bed
        return self.status.bed if self.status is not None else None

    @property
    def session_s(self) -> float | None:
        """The newest session time the station told (its state or its readings)."""
        times = [m.session_s for m in (self.state, self.readings) if m is not None]
        return max(times) if times else None

    @property
    def since_injection_s(self) -> float | None:
        """Session seconds since the current attempt's injection, from the station's own times."""
        now = self.session_s
        if self.state is None or self.state.injection_s is None or now is None:
            return None
        return max(0.0, now - self.state.injection_s)

    @property
    def simulated(self) -> bool:
        return bool((self.state and self.state.simulated) or (self.status and self.status.simulated))

    def active_alarms(self) -> list[wire.AlarmNow]:
        """High first, then medium, then low; oldest first within a priority."""
        order = {"high": 0, "medium": 1, "low": 2}
        return sorted(self.alarms.values(), key=lambda a: (order.get(a.priority, 3), a.since_s))

    def highest_priority(self) -> str | None:
        alarms = self.active_alarms()
        return alarms[0].priority if alarms else None

    @property
    def lost_events(self) -> int:
        """Verdict, alarm and marker messages missing in their sequence (should stay 0)."""
        superseded = (wire.Kind.READINGS, wire.Kind.HISTORY)  # a gap: a loss announced, or a newer one
        return sum(r.gaps for kind, r in self.received.items() if kind not in superseded)
