"""The procedure core's values as wire messages: taken from the core, never recomputed.

Every clinical number here is the core's: the pipeline snapshot (values, rises, Di − Dc and
why they are withheld, verdict, attempt), the alarm evaluator's active alarms, the markers.
:func:`readings_at` is the one thing the core has no single owner for, a per-second sample:
it takes each foot's smoothed value and validity at its newest reading from the pipeline's own
series, and calls a foot not valid once it has been silent longer than the pipeline allows
(:func:`foot_at`). :func:`history_of` takes the same rule every 10 s over the last hour, with
Di − Dc from the core's own series (``BlockPipeline.difference_series``, the room's plot's).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from monitor.model import Limb, Marker, MarkerKind
from monitor.publish.messages import (
    AlarmEvent,
    AlarmNow,
    FootNow,
    FootReading,
    History,
    MarkerNow,
    Readings,
    State,
    Verdict,
    iso_utc,
)

if TYPE_CHECKING:
    from monitor.pipeline import BlockPipeline, PipelineSnapshot
    from monitor.pipeline.verdict import BlockVerdict
    from monitor.procedure import Procedure
    from monitor.procedure.alarms import AlarmCondition


@dataclass(frozen=True)
class Identity:
    """Who is publishing: the room on the wire, and this run of the publisher."""

    site: str
    room: str
    bed: str | None
    run_id: str
    share_patient_id: bool = False


def _num(value: float | None, digits: int = 3) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def verdict_of(procedure: Procedure, verdict: BlockVerdict) -> Verdict:
    at = verdict.confirmed_at_s
    return Verdict(str(verdict.state), verdict.message, verdict.criteria_id, procedure.criteria.describe(),
                   tuple(verdict.criteria_met), _num(at), None if at is None else iso_utc(procedure.wall_at(at)))


def _foot(snap: PipelineSnapshot, limb: Limb, age_s: float | None) -> FootNow:
    status = snap.limb_status.get(limb, "no data yet")
    celsius = _num(snap.smooth_c.get(limb))
    return FootNow(celsius, status == "OK" and celsius is not None, status, _num(snap.baseline_c.get(limb)),
                   _num(snap.rise_c.get(limb)), snap.rise_withheld.get(limb), _num(age_s, 1))


def alarm_list(procedure: Procedure) -> tuple[AlarmNow, ...]:
    """The active technical alarms, oldest first."""
    active = sorted(procedure.alarms.active.values(), key=lambda a: a.start_s)
    return tuple(AlarmNow(a.condition.key, str(a.condition.priority), a.condition.text,  # type: ignore[arg-type]
                          None if a.condition.limb is None else str(a.condition.limb),  # type: ignore[arg-type]
                          _num(a.start_s) or 0.0, iso_utc(procedure.wall_at(a.start_s)), a.acknowledged)
                 for a in active)


def state_of(procedure: Procedure, who: Identity, seq: int, sent_wall: float) -> State:
    """The room as it is now, from the core."""
    snap = procedure.snapshot()
    ages = procedure.reading_ages()
    now = procedure.now()
    if procedure.finished and snap.now_s is not None:
        now = snap.now_s  # the clock runs on after the end; the session ended with its data
    inj = snap.attempt_injection_s
    feet = {str(limb): _foot(snap, limb, ages.get(limb)) for limb in Limb}
    return State(
        site=who.site, room=who.room, bed=who.bed, run_id=who.run_id, seq=seq, simulated=procedure.info.simulated,
        blocked_side=str(snap.blocked),  # type: ignore[arg-type]
        verdict=verdict_of(procedure, snap.verdict), attempt=snap.attempt,
        injection_s=_num(inj), injection_at=None if inj is None else iso_utc(procedure.wall_at(inj)),
        feet=feet, di_minus_dc_c=_num(snap.di_minus_dc_c), di_minus_dc_withheld=snap.di_minus_dc_withheld,
        alarms=alarm_list(procedure), session_s=_num(max(0.0, now)) or 0.0,
        session_started_at=iso_utc(procedure.wall_at(0.0)), finished=procedure.finished, sent_at=iso_utc(sent_wall),
        patient_id=procedure.info.patient_id if who.share_patient_id else None)


def foot_at(pipeline: BlockPipeline, limb: Limb, seconds: np.ndarray) -> list[float | None]:
    """The foot's smoothed value at its newest reading at or before each of ``seconds``; None
    where that reading is not valid, or there is none, or the foot was silent longer than allowed."""
    series = pipeline.series(limb)
    if not len(series.t_s):
        return [None] * len(seconds)
    i = np.searchsorted(series.t_s, seconds, side="right") - 1
    k = np.maximum(i, 0)
    value = series.smooth_c[k]
    ok = ((i >= 0) & (seconds - series.t_s[k] <= pipeline.allowed_gap_s(limb)) & series.valid[k].astype(bool)
          & np.isfinite(value))
    return [_num(float(v)) if good else None for v, good in zip(value, ok, strict=True)]


def readings_at(procedure: Procedure, who: Identity, seq: int, second: float) -> Readings:
    """Each foot's smoothed value and validity at its newest reading at or before ``second``."""
    at = np.array([second])
    feet = {}
    for limb in Limb:
        value = foot_at(procedure.pipeline, limb, at)[0]
        feet[str(limb)] = FootReading(value, value is not None)
    wall = iso_utc(procedure.wall_at(second))
    return Readings(who.run_id, seq, round(second, 3), wall, feet, 0, wall)


def _difference_at(pipeline: BlockPipeline, seconds: np.ndarray) -> list[float | None]:
    """The core's Di − Dc series (``difference_series``, as the room's plot draws it) at its newest
    point at or before each of ``seconds``; None before a baseline is in force, where the series
    has no value, or past where both feet have readings."""
    series = pipeline.difference_series()
    if not series.relative_to_baseline or not len(series.t_s):
        return [None] * len(seconds)  # before the baseline it is Tb − Tc, not Di − Dc
    j = np.searchsorted(series.t_s, seconds, side="right") - 1
    k = np.maximum(j, 0)
    value = series.di_minus_dc_c[k]
    reach = max(pipeline.allowed_gap_s(limb) for limb in Limb)
    ok = (j >= 0) & (seconds - series.t_s[k] <= reach) & np.isfinite(value)
    return [_num(float(v)) if good else None for v, good in zip(value, ok, strict=True)]


def history_of(procedure: Procedure, who: Identity, seq: int, sent_wall: float, *, step_s: float,
               window_s: float) -> History | None:
    """The last ``window_s`` of session time every ``step_s`` (whole multiples of it), from the
    core's series; None before any reading."""
    pipeline = procedure.pipeline
    ends = [float(pipeline.series(limb).t_s[-1]) for limb in Limb if len(pipeline.series(limb).t_s)]
    if not ends:
        return None
    end = math.floor(max(ends) / step_s) * step_s
    start = max(0.0, end - math.floor(window_s / step_s) * step_s)
    seconds = start + step_s * np.arange(round((end - start) / step_s) + 1)
    feet = {str(limb): tuple(foot_at(pipeline, limb, seconds)) for limb in Limb}
    return History(who.run_id, seq, iso_utc(procedure.wall_at(0.0)), round(start, 3), step_s, feet,
                   tuple(_difference_at(pipeline, seconds)), iso_utc(sent_wall))


def alarm_event(procedure: Procedure, who: Identity, seq: int, event: str, cond: AlarmCondition,
                end_s: float | None, sent_wall: float) -> AlarmEvent:
    start = cond.start_s
    end = None if end_s is None else max(end_s, start)
    return AlarmEvent(who.run_id, seq, "start" if event == "start" else "end", cond.key,
                      str(cond.priority), cond.text,  # type: ignore[arg-type]
                      None if cond.limb is None else str(cond.limb),  # type: ignore[arg-type]
                      _num(start) or 0.0, iso_utc(procedure.wall_at(start)), _num(end),
                      None if end is None else iso_utc(procedure.wall_at(end)), iso_utc(sent_wall))


def marker_list(procedure: Procedure, markers: list[Marker], share_notes: bool) -> tuple[MarkerNow, ...]:
    """The markers on the wire; a note's text (free text, may name the patient) only if shared."""
    return tuple(MarkerNow(m.id, str(m.kind), m.kind.label, _num(m.session_s) or 0.0,
                           iso_utc(procedure.wall_at(m.session_s)),
                           m.text if (m.kind is not MarkerKind.NOTE or share_notes) else "")
                 for m in markers)
