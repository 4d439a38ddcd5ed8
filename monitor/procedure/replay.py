"""THE one replay of a stored session through the block pipeline (Qt-free).

The review window, the chart report (PDF, CSV, FHIR) and ``sympatherm analyze`` of a session
file all judge a stored session again with :func:`replay_session`, so they agree with each
other and with what the live session said:

* side: the recorded blocked side (left if none was recorded: the readings are still shown);
* criteria: the recorded ones, read by :func:`monitor.procedure.criteria_record.criteria_from_record`
  (its one fallback); criteria that need a core temperature in a session without one fall back
  to the ``default`` preset (they cannot be judged, and the default is what every session
  starts with);
* core temperature: the recorded one;
* readings: every stored reading, in time order (stable: readings at the same time keep the
  order they were stored in);
* markers: the stored ones (with their moves applied: the store keeps each marker's last time);
* ``finish()`` when the session was closed normally (status "closed"): its last seconds are
  judged too. A session still being recorded or interrupted is left unfinished, as the live
  pipeline was at that moment.

It takes whatever holds the session: a :class:`monitor.exports.session_data.SessionData`
(anything with ``readings``, ``markers``, ``info``, ``criteria`` and ``status``) or an open
read-only :class:`monitor.store.SessionReader` / ``SessionStore``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from monitor.model import Limb, Marker, Reading, SessionInfo
from monitor.pipeline import CRITERIA_PRESETS, BlockPipeline, Criteria, resolve_criteria
from monitor.procedure.criteria_record import criteria_from_record
from monitor.store import SessionReader

CLOSED = "closed"


class StoredSession(Protocol):
    """What a loaded session offers (``SessionData`` fits)."""

    # Read-only (properties), so that a dataclass's list and dict fields fit the Protocol.
    @property
    def readings(self) -> Sequence[Reading]: ...

    @property
    def markers(self) -> Sequence[Marker]: ...

    @property
    def info(self) -> SessionInfo: ...

    @property
    def criteria(self) -> Mapping[str, Any]: ...

    @property
    def status(self) -> str: ...


def _in_time_order(readings: Iterable[Reading]) -> list[Reading]:
    rows = list(readings)
    if any(rows[i].session_s > rows[i + 1].session_s for i in range(len(rows) - 1)):
        rows.sort(key=lambda r: r.session_s)  # stable
    return rows


def replay_session(data: StoredSession | SessionReader, *, blocked: Limb | None = None,
                   criteria: Criteria | str | None = None, core_c: float | None = None,
                   finish: bool | None = None) -> BlockPipeline:
    """The pipeline of a stored session, judged again from its readings and markers.

    The keyword arguments override what the session recorded (``sympatherm analyze`` flags);
    ``finish=None`` finishes only a session closed normally."""
    record: Mapping[str, Any]
    readings: Iterable[Reading]
    markers: Sequence[Marker]
    if isinstance(data, SessionReader):
        info, record, status = data.info(), data.criteria(), data.status
        readings = data.iter_readings()
        markers = data.markers()
    else:
        info, record, status = data.info, data.criteria, data.status
        readings, markers = data.readings, data.markers
    chosen = resolve_criteria(criteria) if criteria is not None else criteria_from_record(record)
    core = core_c if core_c is not None else info.core_c
    if chosen.needs_core and core is None:
        chosen = CRITERIA_PRESETS["default"]
    pipeline = BlockPipeline(blocked or info.blocked or Limb.LEFT, criteria=chosen, core_c=core)
    pipeline.push_many(_in_time_order(readings))
    pipeline.set_markers(list(markers))
    if finish if finish is not None else status == CLOSED:
        pipeline.finish()
    return pipeline


__all__ = ["StoredSession", "replay_session"]
