"""The procedure's events: what views subscribe to (napari's pattern, without Qt).

A :class:`Signal` is a list of callables; the core emits after its own state is complete, so a
view that fails cannot leave the core half-updated. The Qt window connects its methods and
renders what it is told; ``sympatherm record`` prints from the same events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

import numpy as np

if TYPE_CHECKING:
    from monitor.model import Limb, Marker
    from monitor.pipeline import Criteria, PipelineSnapshot
    from monitor.procedure.alarms import AlarmChange
    from monitor.procedure.minutes import MinuteRow
    from monitor.sources.base import ConnectionEvent

T = TypeVar("T")


@dataclass
class NewPoints:
    """Readings of one foot that arrived in one pump, as arrays for the plot."""

    t: np.ndarray
    celsius: np.ndarray  # NaN where the probe gave no temperature
    valid: np.ndarray


@dataclass
class LogEntry:
    """A line of the session's event list, at ``session_s``."""

    session_s: float
    text: str


class Signal(Generic[T]):
    """Callables called with one value, in the order they were connected."""

    def __init__(self) -> None:
        self._slots: list[Callable[[T], object]] = []

    def connect(self, slot: Callable[[T], object]) -> Callable[[T], object]:
        self._slots.append(slot)
        return slot

    def disconnect(self, slot: Callable[[T], object]) -> None:
        self._slots.remove(slot)

    def emit(self, value: T) -> None:
        for slot in list(self._slots):
            slot(value)

    def __len__(self) -> int:
        return len(self._slots)


@dataclass
class ProcedureEvents:
    """Every event a :class:`monitor.procedure.Procedure` emits.

    - ``readings``: per foot, the readings that arrived (session time), as arrays to plot;
    - ``markers``: the marker list after any change (added, moved, placed automatically);
    - ``verdict``: the pipeline snapshot whenever the verdict state or its confirmation changed;
    - ``alarms``: an :class:`monitor.procedure.alarms.AlarmChange` whenever alarms were raised or ended;
    - ``minutes``: the 1-minute table whenever a row appeared or changed;
    - ``connection``: the source's connection events (session time);
    - ``criteria``: the criteria in force, after a change;
    - ``write_error``: the plain-words reason the file is not being saved, or None once it is;
    - ``log``: a line for the session's event list (a marker placed, moved, refused);
    - ``finished``: the reason, once the session is closed.
    """

    readings: Signal[dict[Limb, NewPoints]] = field(default_factory=Signal)
    markers: Signal[list[Marker]] = field(default_factory=Signal)
    verdict: Signal[PipelineSnapshot] = field(default_factory=Signal)
    alarms: Signal[AlarmChange] = field(default_factory=Signal)
    minutes: Signal[list[MinuteRow]] = field(default_factory=Signal)
    connection: Signal[ConnectionEvent] = field(default_factory=Signal)
    criteria: Signal[Criteria] = field(default_factory=Signal)
    write_error: Signal[str | None] = field(default_factory=Signal)
    log: Signal[LogEntry] = field(default_factory=Signal)
    finished: Signal[str] = field(default_factory=Signal)
