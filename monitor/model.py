"""The shared data model: what every part of the core passes around.

Qt-free and I/O-free. Times are in *session time* (seconds since the session
started, see :mod:`monitor.clock`); the wall clock travels beside it for the chart.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field, fields
from typing import Any

# The probe statuses are defined on the wire; the core re-exports them.
from firmware_protocol.status import PROBE_STATUS_CODES as PROBE_STATUS_CODES
from firmware_protocol.status import VALID_RANGE_C as VALID_RANGE_C
from firmware_protocol.status import ProbeStatus as ProbeStatus


class Limb(enum.StrEnum):
    LEFT = "left"
    RIGHT = "right"

    @property
    def other(self) -> Limb:
        return Limb.RIGHT if self is Limb.LEFT else Limb.LEFT

    @property
    def letter(self) -> str:
        return "L" if self is Limb.LEFT else "R"

    @classmethod
    def parse(cls, text: str) -> Limb:
        """Accept 'left', 'L', 'Right', ... and raise ValueError in plain words otherwise."""
        t = text.strip().lower()
        if t in ("l", "left"):
            return cls.LEFT
        if t in ("r", "right"):
            return cls.RIGHT
        raise ValueError(f"side must be 'left' or 'right', not {text!r}")


class ConnectionState(enum.StrEnum):
    CONNECTING = "connecting"
    STREAMING = "streaming"
    LOST = "lost"
    RECONNECTING = "reconnecting"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class Reading:
    """One temperature reading of one limb.

    ``celsius`` is None when the probe gave no temperature (a fault status).
    ``session_s`` is taken where the bytes arrived; ``wall_time`` is POSIX seconds.
    """

    limb: Limb
    celsius: float | None
    status: ProbeStatus
    session_s: float
    wall_time: float
    sequence: int | None = None
    device_time_s: float | None = None
    source: str = ""

    def __post_init__(self) -> None:
        if self.celsius is not None and not math.isfinite(self.celsius):
            object.__setattr__(self, "celsius", None)

    @property
    def has_temperature(self) -> bool:
        return self.celsius is not None and self.status is ProbeStatus.OK


class MarkerKind(enum.StrEnum):
    BASELINE = "baseline"
    NEEDLE = "needle"
    INJECTION = "injection"
    NOTE = "note"
    # The nurse checked one foot's probe and it is on the skin (the marker's text names the foot).
    PROBE_CHECKED = "probe_checked"

    @property
    def label(self) -> str:
        return _MARKER_LABELS[self]


_MARKER_LABELS = {
    MarkerKind.BASELINE: "Baseline start",
    MarkerKind.NEEDLE: "Needle placed",
    MarkerKind.INJECTION: "Injection",
    MarkerKind.NOTE: "Note",
    MarkerKind.PROBE_CHECKED: "Probe checked",
}


@dataclass(frozen=True, slots=True)
class Marker:
    """A procedure event on the session clock. Several injection marks are allowed."""

    kind: MarkerKind
    session_s: float
    text: str = ""
    wall_time: float | None = None
    # When (session time) the marker was placed; differs from session_s if placed late or moved.
    placed_s: float | None = None
    id: int | None = None

    @property
    def checked_limb(self) -> Limb | None:
        """The foot a "Probe checked" marker names (None for other kinds).

        Its text is exactly "left" or "right" (any case); anything else raises ValueError in
        plain words rather than guessing which foot the nurse meant."""
        if self.kind is not MarkerKind.PROBE_CHECKED:
            return None
        return parse_checked_limb(self.text)


def parse_checked_limb(text: str) -> Limb:
    """The foot named by a "Probe checked" marker's text: "left" or "right" only."""
    t = text.strip().lower()
    if t not in ("left", "right"):
        raise ValueError(f"a 'probe checked' marker must name the foot as 'left' or 'right', not {text!r}")
    return Limb(t)


@dataclass(slots=True)
class SessionInfo:
    """The session's descriptive fields, as typed by the user (all optional but the side)."""

    patient_id: str = ""
    blocked: Limb | None = None
    operator: str = ""
    nurse: str = ""
    procedure: str = "Lumbar sympathetic block"
    levels: str = ""
    drug: str = ""
    probe_sites: dict[str, str] = field(default_factory=lambda: {"left": "plantar", "right": "plantar"})
    room_c: float | None = None
    core_c: float | None = None
    simulated: bool = False
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "blocked": str(self.blocked) if self.blocked else None,
            "operator": self.operator,
            "nurse": self.nurse,
            "procedure": self.procedure,
            "levels": self.levels,
            "drug": self.drug,
            "probe_sites": dict(self.probe_sites),
            "room_c": self.room_c,
            "core_c": self.core_c,
            "simulated": self.simulated,
            "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SessionInfo:
        known = {f.name: d[f.name] for f in fields(cls) if f.name in d}
        if known.get("blocked"):
            known["blocked"] = Limb.parse(known["blocked"])
        return cls(**known)


