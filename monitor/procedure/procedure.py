"""One procedure: its source, readings, markers, baseline, alarms, 1-minute table and verdict.

The window and ``sympatherm record`` are thin front-ends over a :class:`Procedure`. They call
its commands (pump, mark, move a mark, change the criteria, acknowledge, finish) and subscribe
to :attr:`Procedure.events`; they never write the store, swap the pipeline or compute a
clinical number of their own. What is stored is therefore the same whoever ran the session.

Inside: a :class:`monitor.procedure.recorder.SessionRecorder` drains the source into the pipeline and
the session store; the :class:`monitor.procedure.alarms.AlarmEvaluator` raises and records the
technical alarms from the same readings; the 1-minute table comes from
:func:`monitor.procedure.minutes.minute_table`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from monitor.model import ConnectionState, Limb, Marker, MarkerKind, ProbeStatus, Reading, SessionInfo
from monitor.pipeline import BlockPipeline, Criteria, PipelineSnapshot
from monitor.pipeline.artefacts import ArtefactSegment
from monitor.pipeline.timefmt import format_session_time
from monitor.procedure.alarms import (
    NO_DATA_AFTER_S,
    AlarmChange,
    AlarmCondition,
    AlarmEvaluator,
    merge_changes,
)
from monitor.procedure.criteria_record import criteria_to_record
from monitor.procedure.events import LogEntry, NewPoints, ProcedureEvents
from monitor.procedure.minutes import MinuteRow, minute_table
from monitor.procedure.recorder import RecorderOptions, ResumePlan, SessionRecorder
from monitor.sources.base import ConnectionEvent, LineHealth, ProbeSource
from monitor.sources.registry import DeviceRegistry
from monitor.store import SessionStore, StoreWriteError

AUTOMATIC_INJECTION_TEXT = "marked automatically by the demo"
# A foot silent for longer than this does not hold the 1-minute table back.
TABLE_WAITS_S = 30.0


class MarkerRefused(ValueError):
    """A marker the procedure will not place as asked, with the reason in plain words."""


@dataclass
class LimbLive:
    """The newest reading of one foot in this recording (not the older part of a resumed file)."""

    status: ProbeStatus | None = None
    celsius: float | None = None
    last_s: float | None = None


@dataclass
class _Shown:
    """What was last emitted, so each event fires only on a change."""

    markers: tuple[Marker, ...] = ()
    verdict: tuple[str, float | None, str] | None = None
    minutes_key: tuple[object, ...] | None = None
    minutes: list[MinuteRow] = field(default_factory=list)
    write_error: str | None = None
    criteria: Criteria | None = None
    artefacts_key: tuple[object, ...] | None = None
    artefacts: list[ArtefactSegment] = field(default_factory=list)


class _StoreAlarmLog:
    """Alarms into the session store (an event of kind "alarm" each)."""

    def __init__(self, procedure: Procedure) -> None:
        self._procedure = procedure

    def start(self, condition: AlarmCondition) -> int | None:
        store = self._procedure.store
        if store.closed:
            return None
        return store.add_event("alarm", condition.start_s, subkind=condition.subkind, limb=condition.limb,
                               priority=str(condition.priority), message=condition.text,
                               wall_time=self._procedure.wall_at(condition.start_s))

    def end(self, event_id: int, end_s: float) -> None:
        store = self._procedure.store
        if not store.closed:
            store.end_event(event_id, end_s)


class Procedure:
    """The one owner of a live (or resumed) procedure's state. See the module docstring."""

    def __init__(self, source: ProbeSource, info: SessionInfo, store: SessionStore, *,
                 criteria: str | Criteria = "default", resume_plan: ResumePlan | None = None,
                 stop_at_s: float | None = None, registry: DeviceRegistry | None = None,
                 commit_interval_s: float = 0.5) -> None:
        if info.blocked is None:
            raise ValueError("the blocked side must be chosen before the session starts")
        self.source = source
        self.info = info
        self.store = store
        self.events = ProcedureEvents()
        self.log: list[LogEntry] = []
        self.state = {limb: LimbLive() for limb in Limb}
        pipeline = BlockPipeline(info.blocked, criteria, core_c=info.core_c)
        options: RecorderOptions = {
            "stop_at_s": stop_at_s, "registry": registry, "commit_interval_s": commit_interval_s,
            "on_connection_event": self._on_connection, "on_write_error": self._on_write_error}
        self._pending_points: list[Reading] = []
        self._alarm_changes: list[AlarmChange] = []
        self.alarms = AlarmEvaluator()
        self.resumed_at_s: float | None = None
        if resume_plan is None:
            self.recorder = SessionRecorder(source, store, pipeline, **options)
        else:
            # The file's readings go to the views once, as the first batch they plot.
            self._pending_points = list(store.iter_readings())
            self.recorder = SessionRecorder.resume(source, store, pipeline, plan=resume_plan, **options)
            self.resumed_at_s = self.recorder.time_offset_s
        self.alarms.log = _StoreAlarmLog(self)
        self.alarms.started_s = self.resumed_at_s or 0.0
        self.clock = self.recorder.clock
        self._automatic_injection_s: float | None = None
        self._automatic = False
        self._shown = _Shown(markers=tuple(self.markers), criteria=pipeline.criteria)
        self.total_readings = 0
        self.started = False
        self.finished = False

    # ---- life cycle ----------------------------------------------------------------------
    def start(self) -> None:
        self.source.start()
        self.started = True

    def pump(self) -> dict[Limb, NewPoints]:
        """Move what the source received through the core; tell the views; return the new points."""
        if not self.finished:
            self.recorder.pump()
            self._take_in()
            self._evaluate_alarms()
            if (self.store.pending_count and self.recorder.write_error is None and self.recorder.write_delayed is None
                    and any(c.raised or c.ended for c in self._alarm_changes)):
                self.recorder.commit()  # an alarm is written with the readings that raised it
        points = _points(self._pending_points)
        self._pending_points = []
        self._emit(points)
        return points

    def finish(self, reason: str = "closed normally") -> None:
        """Stop the source, record what is left and close the session file.

        If the last write fails (disk full, folder gone) the store's StoreWriteError is raised and
        the session stays open with everything in memory: :meth:`relocate`, then finish again."""
        if self.finished:
            return

        def before_close() -> None:
            self._take_in()
            self._evaluate_alarms()
            # Alarms still going end with the data (not with the clock, which a sped-up simulator
            # or a --duration runs past), so every front-end stores the same end.
            lasts = [t for t in self.recorder.last_reading_s.values() if t is not None]
            self._alarm_changes.append(self.alarms.finish(max(lasts, default=self.clock.now())))

        self.recorder.finish(reason, before_close=before_close)
        self.finished = True
        self.pump()
        self.events.finished.emit(reason)

    stop = finish  # the window's word for it

    def relocate(self, new_path: str | Path) -> Path:
        """Keep recording into another file (the whole session so far is copied there)."""
        return self.store.relocate(new_path)

    # ---- commands ------------------------------------------------------------------------
    def add_marker(self, kind: MarkerKind, session_s: float | None = None, text: str = "", *,
                   rebaseline: bool = False) -> Marker:
        """Place a marker now (or at ``session_s``): stored at once, then the pipeline re-judges.

        A Baseline mark after the current attempt's injection starts a new attempt (a repeat
        injection, judged against its own baseline; the earlier attempt's verdict stands). It is
        refused (:class:`MarkerRefused`, with :meth:`rebaseline_question` in plain words) unless
        ``rebaseline`` says the user answered yes."""
        if self.finished:
            raise MarkerRefused("the session has ended: nothing more can be marked")
        kind = MarkerKind(kind)
        placed = self.now()
        at = placed if session_s is None else float(session_s)
        if not math.isfinite(at):
            raise MarkerRefused(f"a marker needs a time, not {session_s!r}")
        if kind is MarkerKind.BASELINE and not rebaseline and self._starts_new_attempt(at):
            raise MarkerRefused(self.rebaseline_question())
        if kind is MarkerKind.INJECTION and self._automatic and self.cancel_planned_injection():
            # The user marked the injection: the simulated physician's time no longer applies.
            self._note(placed, "The automatic injection mark is cancelled: you marked it.")
        marker_id = self.recorder.add_marker(kind, at, text)
        self.recorder.commit()  # a marker is precious: write it at once
        marker = next(m for m in self.pipeline.markers if m.id == marker_id)
        what = f"{kind.label} ({text})" if kind is MarkerKind.PROBE_CHECKED else kind.label
        self._note(placed, f"{what} marked at session time {format_session_time(at)}")
        if kind is MarkerKind.BASELINE and rebaseline and self.pipeline.attempt > 1:
            self._note(placed, f"Attempt {self.pipeline.attempt} begins: a new baseline for a repeat injection")
        self._emit({})
        return marker

    def _starts_new_attempt(self, at: float) -> bool:
        """A Baseline mark at ``at`` would start a new attempt: the current one has its injection."""
        given = self.snapshot().attempt_injection_s
        return given is not None and given <= at

    def rebaseline_question(self) -> str:
        """What a Baseline mark after the injection means, for the user's yes or no, in plain words."""
        attempts = self.pipeline.attempts()
        now = attempts[-1]
        return (f"New baseline for a repeat injection? Attempt {now.number} ({now.outcome_words}) stays in the "
                f"record as it is. A new baseline starts attempt {now.number + 1}: its rises are measured from "
                "the feet's temperatures then, and it needs its own injection mark (I).")

    def cancel_planned_injection(self) -> bool:
        """Drop the scheduled (automatic) injection mark; True if there was one."""
        self._automatic_injection_s = None
        return self.recorder.cancel_scheduled(MarkerKind.INJECTION)

    def move_marker(self, marker_id: int, new_s: float, reason: str = "moved on the plot") -> Marker:
        old = next((m for m in self.markers if m.id == marker_id), None)
        if old is None:
            raise MarkerRefused(f"there is no marker {marker_id}")
        if self.finished:
            raise MarkerRefused("the session has ended: its markers can no longer be moved")
        self.recorder.move_marker(marker_id, float(new_s), reason)
        self.recorder.commit()
        self._note(self.now(), f"{old.kind.label} moved from {format_session_time(old.session_s)} to "
                               f"{format_session_time(new_s)} ({reason})")
        self._emit({})
        return next(m for m in self.markers if m.id == marker_id)

    def schedule_injection(self, session_s: float, *, automatic: bool = True) -> None:
        """Mark the injection at ``session_s`` once the readings reach it (the demo's simulated
        physician, ``--injection-at``). An ``automatic`` one is cancelled by a mark the user places."""
        text = AUTOMATIC_INJECTION_TEXT if automatic else ""
        self.recorder.schedule_marker(MarkerKind.INJECTION, float(session_s), text)
        self._automatic_injection_s = float(session_s)
        self._automatic = automatic

    @property
    def planned_injection_s(self) -> float | None:
        """The scheduled injection mark not yet placed, if any."""
        return self._automatic_injection_s if self.injection_s() is None else None

    def set_criteria(self, criteria: Criteria) -> None:
        """Judge the whole session with other criteria: a new pipeline is fed every reading so far
        (read back from the session file) and the markers; the change is written to the session."""
        old = self.pipeline.criteria
        if criteria == old:
            return
        if not self.recorder.commit():
            raise RuntimeError(f"the session file cannot be written: {self.recorder.write_error}")
        new = BlockPipeline(self.info.blocked or Limb.LEFT, criteria, core_c=self.info.core_c)
        with SessionStore.open_read_only(self.store.path) as ro:
            new.push_many(ro.iter_readings())
        new.set_markers(self.markers)
        self.recorder.pipeline = new
        self.store.set_criteria(criteria_to_record(criteria))
        text = f"Criteria changed from {old.id} ({old.describe()}) to {criteria.id} ({criteria.describe()})"
        self.add_marker(MarkerKind.NOTE, text=text)

    def acknowledge_alarms(self) -> int:
        """Silence the active alarms (the visual sign stays until each condition ends)."""
        count = self.alarms.acknowledge()
        if count:
            self.events.alarms.emit(merge_changes([], self.alarms.active.values()))
        return count

    def set_program_error(self, text: str | None) -> None:
        """A view could not do its work (shown and stored as a medium alarm until it can)."""
        change = self.alarms.set_external("program_error", None if text is None else f"PROGRAM ERROR: {text}",
                                          self.now(), "program_error")
        if change.raised or change.ended:
            self.events.alarms.emit(change)

    def wait_for_readings(self, timeout_s: float) -> bool:
        """Block (on a view's own thread) until the source has readings waiting; True if so."""
        return self.source.wait_for_readings(timeout_s)

    # ---- what views read -----------------------------------------------------------------
    @property
    def pipeline(self) -> BlockPipeline:
        return self.recorder.pipeline

    @property
    def criteria(self) -> Criteria:
        return self.pipeline.criteria

    @property
    def markers(self) -> list[Marker]:
        return self.pipeline.markers

    def now(self) -> float:
        return self.clock.now()

    def wall_at(self, session_s: float) -> float:
        return self.clock.wall() - self.clock.now() + session_s

    @property
    def time_offset_s(self) -> float:
        """Session time minus the source's own time (non-zero once a session was resumed)."""
        return self.recorder.time_offset_s

    @property
    def manual(self) -> bool:
        """The source runs on a manual clock (tests and snapshots step it with ``source.step_to``)."""
        return bool(getattr(self.source.clock, "manual", False))

    @property
    def resumed(self) -> bool:
        return self.recorder.resume_plan is not None

    @property
    def write_error(self) -> str | None:
        err = self.recorder.write_error
        return None if err is None else str(err)

    def line_health(self) -> LineHealth:
        """The link's counts for the probe (CRC errors, malformed frames, resyncs, samples lost by
        sequence), for the views: ``line_health().words()`` is "" while nothing went wrong."""
        return self.recorder.line_health()

    @property
    def readings_received(self) -> int:
        return self.recorder.readings_received

    def snapshot(self) -> PipelineSnapshot:
        return self.pipeline.snapshot()

    def injection_s(self) -> float | None:
        inj = [m.session_s for m in self.markers if m.kind is MarkerKind.INJECTION]
        return min(inj) if inj else None

    def reading_ages(self) -> dict[Limb, float | None]:
        """Per foot, seconds since its newest reading in this recording (None: none yet)."""
        now = self.now()
        since = self.resumed_at_s
        out: dict[Limb, float | None] = {}
        for limb, st in self.state.items():
            last = st.last_s if since is None else max(st.last_s if st.last_s is not None else since, since)
            out[limb] = None if last is None else max(0.0, now - last)
        return out

    def no_data_after_s(self) -> dict[Limb, float]:
        """Per foot, the silence its probe's rhythm allows before "no data" (the pipeline's rule)."""
        return {limb: max(NO_DATA_AFTER_S, self.pipeline.allowed_gap_s(limb)) for limb in Limb}

    @property
    def artefacts(self) -> list[ArtefactSegment]:
        """The pipeline's artefact segments (asked again only when readings or markers changed)."""
        key = (id(self.pipeline), self.total_readings, tuple(self.markers), self.finished)
        if key != self._shown.artefacts_key:
            self._shown.artefacts_key = key
            self._shown.artefacts = self.pipeline.artefacts
        return self._shown.artefacts

    def minute_rows(self) -> list[MinuteRow]:
        """The 1-minute table as the core defines it (:mod:`monitor.procedure.minutes`)."""
        end = self._table_end_s()
        if end is None:
            return []
        inj = self.injection_s()
        return minute_table(self.pipeline, inj if inj is not None else 0.0, end)

    # ---- inside --------------------------------------------------------------------------
    def _note(self, session_s: float, text: str) -> None:
        entry = LogEntry(session_s, text)
        self.log.append(entry)
        self.events.log.emit(entry)

    def _take_in(self) -> None:
        """The readings the recorder stored since the last look: alarms, latest values, views."""
        readings = self.recorder.take_pushed()
        self._pending_points.extend(readings)
        self.total_readings += len(readings)
        fresh = readings if self.resumed_at_s is None else [r for r in readings if r.session_s >= self.resumed_at_s]
        self._alarm_changes.append(self.alarms.on_readings(fresh))
        for r in fresh:
            live = self.state[r.limb]
            live.status = r.status
            live.last_s = r.session_s
            live.celsius = r.celsius if r.has_temperature else None

    def _evaluate_alarms(self) -> None:
        now = self.now()
        stop = self.recorder.stop_at_s
        if stop is not None:
            now = min(now, stop)
        lasts = [t for t in self.recorder.last_reading_s.values() if t is not None]
        lag = max(1.0, float(self.clock.speed))
        self._alarm_changes.append(self.alarms.evaluate(now, self.artefacts, self.no_data_after_s(), lag_s=lag,
                                                        newest_s=max(lasts, default=None)))
        error = self.write_error
        self._alarm_changes.append(self.alarms.set_external(
            "write", None if error is None else f"NOT SAVING: {error}", now, "write_error"))

    def _on_connection(self, event: ConnectionEvent) -> None:
        lost = event.reason if event.state in (ConnectionState.LOST, ConnectionState.RECONNECTING) else None
        self._alarm_changes.append(self.alarms.on_connection(lost, event.session_s))
        self.events.connection.emit(event)

    def _on_write_error(self, error: StoreWriteError | None) -> None:
        text = None if error is None else str(error)
        if text != self._shown.write_error:
            self._shown.write_error = text
            self.events.write_error.emit(text)

    def _table_end_s(self) -> float | None:
        lasts = [t for t in self.recorder.last_reading_s.values() if t is not None]
        if not lasts:
            return None
        return min(t for t in lasts if t >= max(lasts) - TABLE_WAITS_S)

    def _emit(self, points: dict[Limb, NewPoints]) -> None:
        """Tell the views what changed, once the core's own state is complete."""
        if points:
            self.events.readings.emit(points)
        markers = tuple(self.markers)
        if markers != self._shown.markers:
            self._shown.markers = markers
            self.events.markers.emit(list(markers))
        if self.pipeline.criteria != self._shown.criteria:
            self._shown.criteria = self.pipeline.criteria
            self.events.criteria.emit(self.pipeline.criteria)
        changes, self._alarm_changes = self._alarm_changes, []
        if any(c.raised or c.ended for c in changes):
            self.events.alarms.emit(merge_changes(changes, self.alarms.active.values()))
        self._emit_verdict_and_minutes()

    def _emit_verdict_and_minutes(self) -> None:
        snap = self.pipeline.snapshot()
        verdict = (str(snap.verdict.state), snap.verdict.confirmed_at_s, snap.verdict.message)
        if verdict != self._shown.verdict:
            self._shown.verdict = verdict
            self.events.verdict.emit(snap)
        end = self._table_end_s()
        if end is None or not len(self.events.minutes):
            return
        inj = self.injection_s()
        origin = inj if inj is not None else 0.0
        key = (origin, int((end - origin) // 60), tuple(snap.baseline_c.values()), tuple(self.markers),
               len(self.artefacts), id(self.pipeline), self.finished)
        if key != self._shown.minutes_key:
            self._shown.minutes_key = key
            rows = self.minute_rows()
            if rows != self._shown.minutes:
                self._shown.minutes = rows
                self.events.minutes.emit(rows)


def _points(readings: list[Reading]) -> dict[Limb, NewPoints]:
    out: dict[Limb, NewPoints] = {}
    for limb in Limb:
        rs = [r for r in readings if r.limb is limb]
        if not rs:
            continue
        t = np.fromiter((r.session_s for r in rs), float, len(rs))
        c = np.fromiter((r.celsius if r.celsius is not None else np.nan for r in rs), float, len(rs))
        ok = np.fromiter((r.has_temperature for r in rs), bool, len(rs))
        out[limb] = NewPoints(t, c, ok)
    return out
