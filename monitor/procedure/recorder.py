"""The session recorder: source → pipeline and store, one pump at a time.

The engine inside :class:`monitor.procedure.Procedure` (which the window and ``sympatherm
record`` share). Each pump drains the source's readings and connection events, feeds the
pipeline, buffers everything in the store, records what the pipeline found (artefacts, verdict
changes) and the connection gaps, and commits at least every ``commit_interval_s``
seconds of real time, so a crash loses at most about a second of readings.

Resuming an unfinished session (after a crash): :meth:`SessionRecorder.resume` replays the
file into the pipeline and records everything the new source delivers shifted by a
session-time offset (see :func:`plan_resume`), so the time axis continues without overlap and
the interruption is recorded as a connection gap in plain words.

A failed commit (disk full, folder gone) never stops the recording: readings stay in the
store's memory buffer, :attr:`SessionRecorder.write_error` says what is wrong in plain
words, and every later pump retries. A file locked by another program is retried quietly
(each try waits at most ``WRITE_BUSY_TIMEOUT_MS``, so the GUI never freezes) and reported only
once readings have waited :data:`LOCKED_TELL_AFTER_S` seconds to be saved.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, is_dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from monitor.clock import SessionClock as SourceClock
from monitor.model import ConnectionState, Limb, Marker, MarkerKind, Reading
from monitor.procedure.criteria_record import criteria_to_record
from monitor.sources.base import LINE_HEALTH_META, ConnectionEvent, DeviceIdentity, LineHealth, ProbeSource
from monitor.store import SessionStore, StoreBusyError, StoreWriteError

if TYPE_CHECKING:
    from monitor.pipeline import BlockPipeline, BlockVerdict
    from monitor.pipeline.artefacts import ArtefactSegment
    from monitor.sources.registry import DeviceRegistry

_GAP_STATES = (ConnectionState.LOST, ConnectionState.RECONNECTING)

# A resumed session's time goes on at least this far past the last thing in the file, so the
# new source's first reading (at its own time 0) can never land on or before an old one.
MIN_RESUME_STEP_S = 1.0

# A session file locked by another program is retried quietly; the user is told once nothing
# could be saved for this long (session seconds: real seconds with real probes).
LOCKED_TELL_AFTER_S = 5.0


@dataclass(frozen=True)
class ResumePlan:
    """How an unfinished session continues: new session time = source time + ``offset_s``.

    ``stopped_s``/``stopped_wall``: where the file left off; ``resumed_wall``: now;
    ``offset_s`` = ``stopped_s`` + the real time that passed meanwhile (times the source
    clock's speed, for a sped-up simulator), at least :data:`MIN_RESUME_STEP_S`.
    """

    stopped_s: float
    stopped_wall: float | None
    resumed_wall: float
    offset_s: float

    @property
    def message(self) -> str:
        """The interruption in plain words, for the session's event list."""
        start = "an unknown time" if self.stopped_wall is None else _clock_time(self.stopped_wall)
        return f"recording interrupted: SympaTherm was not running from {start} to {_clock_time(self.resumed_wall)}"


def plan_resume(store: SessionStore, *, speed: float = 1.0, now_wall: float | None = None) -> ResumePlan:
    """Work out where an unfinished session continues (before building its source, if needed).

    Time never goes backwards: a wall clock that jumped back counts as no time passed.
    """
    point = store.resume_point()
    now_wall = time.time() if now_wall is None else float(now_wall)
    passed = 0.0 if point.stopped_wall is None else max(0.0, now_wall - point.stopped_wall) * float(speed)
    offset = point.last_session_s + max(passed, MIN_RESUME_STEP_S)
    return ResumePlan(point.last_session_s, point.stopped_wall, now_wall, offset)


class RecorderOptions(TypedDict, total=False):
    """The :class:`SessionRecorder` constructor's keyword arguments that :meth:`SessionRecorder.resume`
    passes on (all but ``time_offset_s``, which resuming works out)."""

    commit_interval_s: float
    on_write_error: Callable[[StoreWriteError | None], None] | None
    stop_at_s: float | None
    registry: DeviceRegistry | None
    on_connection_event: Callable[[ConnectionEvent], None] | None
    locked_tell_after_s: float


def _clock_time(wall: float) -> str:
    return datetime.fromtimestamp(wall).strftime("%H:%M:%S")


class SessionClock:
    """The session clock a recorder works in: its source's clock moved on by ``offset_s``."""

    def __init__(self, source_clock: SourceClock, offset_s: float = 0.0) -> None:
        self.source_clock = source_clock
        self.offset_s = float(offset_s)

    def now(self) -> float:
        return self.source_clock.now() + self.offset_s

    def wall(self) -> float:
        return self.source_clock.wall()

    @property
    def speed(self) -> float:
        return float(getattr(self.source_clock, "speed", 1.0))


class SessionRecorder:
    """Drain a :class:`ProbeSource` into a pipeline and a :class:`SessionStore`.

    ``commit_interval_s``: real seconds between commits (a crash loses at most about this
    much); ``on_write_error(error or None)`` is called when writing fails and when it works
    again; ``stop_at_s``: session time after which readings are not recorded; ``registry``: the
    :class:`monitor.sources.registry.DeviceRegistry` whose calibrations are recorded (default: the user's);
    ``on_connection_event(event)`` is told of every connection change after it is recorded
    (in session time); ``time_offset_s`` is added to every time the source gives (readings,
    connection events) and to :attr:`clock`, which markers use: use :meth:`resume` rather
    than setting it by hand. ``locked_tell_after_s``: how long (session seconds) a file locked by
    another program is retried quietly before :attr:`write_error` says so.
    """

    def __init__(self, source: ProbeSource, store: SessionStore, pipeline: BlockPipeline, *,
                 commit_interval_s: float = 0.5,
                 on_write_error: Callable[[StoreWriteError | None], None] | None = None,
                 stop_at_s: float | None = None, registry: DeviceRegistry | None = None,
                 on_connection_event: Callable[[ConnectionEvent], None] | None = None,
                 time_offset_s: float = 0.0, locked_tell_after_s: float = LOCKED_TELL_AFTER_S) -> None:
        self.source = source
        self.time_offset_s = float(time_offset_s)
        # Session time: the source's clock, moved on past the old part of a resumed session.
        self.clock = SessionClock(source.clock, self.time_offset_s)
        self.resume_plan: ResumePlan | None = None
        self.store = store
        self.pipeline = pipeline
        self.commit_interval_s = commit_interval_s
        self.on_write_error = on_write_error
        self.stop_at_s = stop_at_s  # readings after this session time are not recorded (--duration)
        self.stop_reached = False  # a reading past stop_at_s has arrived
        self.on_connection_event = on_connection_event
        if registry is None:
            from monitor.sources.registry import DeviceRegistry

            registry = DeviceRegistry()
        self.registry = registry  # where channel sides and calibrations come from
        self.write_error: StoreWriteError | None = None
        # Another program holds the file's lock: retried quietly (see commit()); None when saving works.
        self.write_delayed: StoreBusyError | None = None
        self.locked_tell_after_s = float(locked_tell_after_s)
        self._saved_at_s = self.clock.now()  # session time of the last commit that worked
        self._next_try_monotonic = -math.inf  # after a failed commit, when to try the next one
        self.readings_received = 0
        self.last_reading_s: dict[Limb, float | None] = {Limb.LEFT: None, Limb.RIGHT: None}
        self._open_gap: int | None = None
        self._synced_key: tuple[object, ...] | None = None  # what the pipeline had seen when last synced
        self._pushed: list[Reading] = []  # what went into the pipeline and the store since take_pushed()
        # (foot, kind, start s) of each artefact segment → its event's id and end
        self._artefact_ids: dict[tuple[str, str, float], tuple[int, float | None]] = {}
        # The verdict log appends what the display showed; the pipeline may re-derive its whole
        # history (a marker moved, criteria changed), so we track the last entry logged, not a count.
        self._verdict_logged_s = -math.inf
        self._verdict_logged_key: tuple[str, float | None] | None = None
        self._scheduled: list[Marker] = []
        self.finished = False
        self._device_keys: set[str] = set()
        self._line_health_stored: LineHealth | None = None
        self._line_health_others: list[dict[str, Any]] | None = None  # earlier sources' counts (resumed)
        self._record_setup()

    @property
    def pipeline(self) -> BlockPipeline:
        return self._pipeline

    @pipeline.setter
    def pipeline(self, new: BlockPipeline) -> None:
        """Swap the pipeline (criteria changed mid-session): its current verdict is logged from now on."""
        first = not hasattr(self, "_pipeline")
        self._pipeline = new
        if first:
            return
        self.store.set_criteria(criteria_to_record(new.criteria))
        changes = new.verdict_changes
        self._log_verdict(self.clock.now(), new.verdict, criteria_changed_to=new.criteria.id)
        if changes:  # the new pipeline's history up to now is summed up by the entry just logged
            self._verdict_logged_s = max(self._verdict_logged_s, float(changes[-1][0]))

    @classmethod
    def resume(cls, source: ProbeSource, store: SessionStore, pipeline: BlockPipeline, *,
               plan: ResumePlan | None = None, **kwargs: Unpack[RecorderOptions]) -> SessionRecorder:
        """Continue an unfinished session in ``store`` (opened with ``SessionStore.open(path, resume=True)``).

        The readings and markers already in the file are replayed into ``pipeline`` (a fresh one
        for the file's side and criteria), so baselines, artefacts and the verdict continue; the
        alarms and gaps the crash left open are ended where it stopped; the interruption is
        recorded as a connection gap in plain words; and everything the source gives from now on
        is shifted by ``plan.offset_s`` (default: :func:`plan_resume` now). Call before
        ``source.start()``. Other keyword arguments are those of the constructor.
        """
        if plan is None:
            plan = plan_resume(store, speed=float(getattr(source.clock, "speed", 1.0)))
        offset = plan.offset_s
        if source.state is not ConnectionState.STOPPED:  # already running: its clock is past 0
            offset = max(offset - source.clock.now(), plan.stopped_s + MIN_RESUME_STEP_S)
        store.end_open_events(plan.stopped_s)
        stored_verdicts = store.verdict_changes()
        stored_artefacts = store.events("artefact")
        known_devices = {d.key for d in store.devices()}
        pipeline.push_many(store.iter_readings())
        pipeline.set_markers(store.markers())
        recorder = cls(source, store, pipeline, time_offset_s=offset, **kwargs)
        recorder.resume_plan = plan
        recorder._device_keys |= known_devices
        # What the replay finds again is already in the file: record only what is new.
        if stored_verdicts:
            last = stored_verdicts[-1]
            recorder._verdict_logged_s = float(last.session_s)
            recorder._verdict_logged_key = (last.state, last.detail.get("confirmed_at_s"))
        for event in stored_artefacts:
            key = (str(event.limb), event.subkind, round(float(event.start_s), 3))
            recorder._artefact_ids[key] = (event.id, event.end_s)
        gap_end = offset + (source.clock.now() if source.state is not ConnectionState.STOPPED else 0.0)
        store.add_event("connection_gap", plan.stopped_s, end_s=gap_end, subkind="interrupted",
                        message=plan.message, wall_time=plan.stopped_wall)
        resumes = _json_list(store.meta().get("resumes"))
        resumes.append({"stopped_s": plan.stopped_s, "resumed_s": gap_end, "stopped_wall": plan.stopped_wall,
                        "resumed_wall": plan.resumed_wall})
        store.set_meta("resumes", json.dumps(resumes))
        recorder._sync_pipeline()  # artefacts and verdicts of the last second the crash did not save
        recorder.commit()  # if it fails, everything stays in memory and the pumps retry
        return recorder

    # ---- setup ---------------------------------------------------------------------------
    def _record_setup(self) -> None:
        self._record_identity()
        self.store.set_criteria(criteria_to_record(self.pipeline.criteria))

    def _record_identity(self) -> None:
        # A serial probe's identity is known once it streams (after its hello frame); a
        # reconnection under a new port name is the same device (same key): one row.
        if self.source.state is not ConnectionState.STREAMING:
            return
        for identity in self.source.devices():
            if identity.key in self._device_keys:
                continue
            self._device_keys.add(identity.key)
            self.store.add_device(identity, calibration=self._calibration_of(identity),
                                  added_s=self.clock.now())

    def _calibration_of(self, identity: DeviceIdentity) -> dict[str, dict[str, Any]]:
        """Each channel's foot and calibration, as the device registry holds them for this device."""
        if self.registry is None or identity.simulated:
            return {}
        out: dict[str, dict[str, Any]] = {}
        try:
            channels = int(identity.channels or 2)
            limbs = self.registry.channel_limbs(identity.key, channels)
            for channel in range(channels):
                cal = self.registry.calibration(identity.key, channel)
                entry: dict[str, Any] = {"limb": str(limbs[channel]) if limbs[channel] else None}
                if cal is not None:
                    entry.update(offset_c=cal.offset_c, gain=cal.gain, note=cal.note)
                else:
                    entry["calibration"] = "none"
                out[f"channel {channel}"] = entry
        except Exception as exc:  # a damaged registry must not stop a recording
            out["registry"] = {"error": str(exc)}
        return out

    # ---- markers -------------------------------------------------------------------------
    def add_marker(self, kind: MarkerKind | str, session_s: float | None = None, text: str = "") -> int:
        """Place a marker now (or at ``session_s``, placed now); returns its id in the store."""
        now = self.clock.now()
        at = now if session_s is None else float(session_s)
        marker = Marker(MarkerKind(kind), at, text, wall_time=self.clock.wall() - now + at, placed_s=now)
        marker_id = self.store.add_marker(marker)
        self.pipeline.add_marker(replace(marker, id=marker_id))
        return marker_id

    def schedule_marker(self, kind: MarkerKind | str, session_s: float, text: str = "") -> None:
        """Place a marker at ``session_s`` as soon as the readings reach that time (``--injection-at``)."""
        self._scheduled.append(Marker(MarkerKind(kind), float(session_s), text))
        self._scheduled.sort(key=lambda m: m.session_s)

    def cancel_scheduled(self, kind: MarkerKind | str) -> bool:
        """Drop scheduled markers of ``kind`` not yet placed; True if there were any."""
        kept = [m for m in self._scheduled if m.kind is not MarkerKind(kind)]
        cancelled = len(kept) != len(self._scheduled)
        self._scheduled = kept
        return cancelled

    def move_marker(self, marker_id: int, new_session_s: float, reason: str = "") -> None:
        self.store.move_marker(marker_id, new_session_s, moved_at_s=self.clock.now(), reason=reason)
        markers = [replace(m, session_s=new_session_s) if m.id == marker_id else m for m in self.pipeline.markers]
        self.pipeline.set_markers(markers)  # the verdict is re-derived from the moved marker

    # ---- the pump ------------------------------------------------------------------------
    def pump(self) -> int:
        """Move everything available from the source on; returns the number of readings."""
        for event in self.source.drain_events():
            if self.time_offset_s:
                event = replace(event, session_s=event.session_s + self.time_offset_s)
            self._connection_event(event)
            if self.on_connection_event is not None:
                self.on_connection_event(event)
        readings = self.source.drain()
        if self.time_offset_s:
            readings = [replace(r, session_s=r.session_s + self.time_offset_s) for r in readings]
        if self.stop_at_s is not None:
            if any(r.session_s > self.stop_at_s for r in readings):
                self.stop_reached = True  # readings arrive in order: nothing more is due before it
            readings = [r for r in readings if r.session_s <= self.stop_at_s]
        if readings:
            self._feed(readings)
        self._sync_pipeline()
        self._record_identity()
        now = time.monotonic()
        if now - self.store.last_commit_monotonic >= self.commit_interval_s and now >= self._next_try_monotonic:
            self.commit()
        return len(readings)

    def take_pushed(self) -> list[Reading]:
        """The readings recorded since the last call (session time, in arrival order)."""
        out, self._pushed = self._pushed, []
        return out

    def _feed(self, readings: list[Reading]) -> None:
        # Scheduled markers go in between the readings before and after their time, so the
        # pipeline sees them exactly where a person pressing the button would have.
        while self._scheduled and readings and readings[-1].session_s >= self._scheduled[0].session_s:
            marker = self._scheduled.pop(0)
            head = [r for r in readings if r.session_s <= marker.session_s]
            readings = [r for r in readings if r.session_s > marker.session_s]
            self._push(head)
            now = self.clock.now()
            placed = Marker(marker.kind, marker.session_s, marker.text,
                            wall_time=self.clock.wall() - now + marker.session_s,
                            placed_s=marker.session_s)
            marker_id = self.store.add_marker(placed)
            self.pipeline.add_marker(replace(placed, id=marker_id))
        self._push(readings)

    def _push(self, readings: list[Reading]) -> None:
        if not readings:
            return
        self.pipeline.push_many(readings)
        self.store.add_readings(readings)
        self.readings_received += len(readings)
        self._pushed.extend(readings)
        for r in readings:
            self.last_reading_s[r.limb] = r.session_s

    def line_health(self) -> LineHealth:
        """The source's line counts now (CRC errors, malformed frames, resyncs, samples lost)."""
        return self.source.health().line(self.source.identity.key)

    def _record_line_health(self) -> None:
        """Keep the line counts in the session file's meta ``line_health`` (a JSON list with one
        object per source: probe, crc_errors, malformed_frames, resyncs, lost_frames), written
        with each commit when they changed. A resumed session's earlier sources stay in the list."""
        health = self.line_health()
        if health == self._line_health_stored:
            return
        if self._line_health_others is None:
            kept = _json_list(self.store.meta().get(LINE_HEALTH_META))
            self._line_health_others = [r for r in kept if isinstance(r, dict) and r.get("probe") != health.probe]
        self.store.set_meta(LINE_HEALTH_META, json.dumps([*self._line_health_others, health.as_record()]))
        self._line_health_stored = health

    def _connection_event(self, event: ConnectionEvent) -> None:
        if event.state in _GAP_STATES:
            if self._open_gap is None:
                self._open_gap = self.store.add_event("connection_gap", event.session_s, subkind=str(event.state),
                                                      message=event.reason, wall_time=event.wall_time)
        elif event.state in (ConnectionState.STREAMING, ConnectionState.STOPPED) and self._open_gap is not None:
            self.store.end_event(self._open_gap, event.session_s)
            self._open_gap = None

    def _sync_pipeline(self, *, force: bool = False) -> None:
        # The pipeline's findings change only with new readings, markers or another pipeline:
        # asking it on every pump would cost a pass over the readings 10 times a second.
        seen = (id(self.pipeline), self.readings_received, tuple((m.id, m.session_s) for m in self.pipeline.markers))
        if seen == self._synced_key and not force:
            return
        self._synced_key = seen
        for seg in self.pipeline.artefacts:
            key = (str(seg.limb), str(seg.kind), round(float(seg.start_s), 3))
            end = None if seg.end_s is None else float(seg.end_s)
            known = self._artefact_ids.get(key)
            if known is None:
                event_id = self.store.add_event("artefact", float(seg.start_s), end_s=end, subkind=str(seg.kind),
                                                limb=Limb(str(seg.limb)), message=_artefact_words(seg))
                self._artefact_ids[key] = (event_id, end)
            elif known[1] != end:
                # Ended, or re-judged after a moved marker (a "probe checked" moved away re-opens it).
                self.store.end_event(known[0], end, message=_artefact_words(seg))
                self._artefact_ids[key] = (known[0], end)
        changes = self.pipeline.verdict_changes
        fresh = [(t, v) for t, v in changes if float(t) > self._verdict_logged_s]
        for session_s, verdict in fresh:
            self._log_verdict(float(session_s), verdict)
        if not fresh and changes and _verdict_key(changes[-1][1]) != self._verdict_logged_key:
            # The history was re-derived and now ends elsewhere: log where it stands, now.
            self._log_verdict(max(self.clock.now(), self._verdict_logged_s), changes[-1][1], rejudged=True)

    def _log_verdict(self, session_s: float, verdict: BlockVerdict, **extra: object) -> None:
        state, confirmed_at_s = _verdict_key(verdict)
        # Each entry names its attempt: a repeat injection's verdicts never read as the first one's.
        detail = {"criteria_met": _plain(verdict.criteria_met), "confirmed_at_s": confirmed_at_s,
                  "attempt": verdict.attempt, **extra}
        self.store.add_verdict_change(session_s, state, verdict.message, detail=detail)
        self._verdict_logged_s = max(self._verdict_logged_s, session_s)
        self._verdict_logged_key = (state, confirmed_at_s)

    # ---- committing and finishing ---------------------------------------------------------
    def commit(self) -> bool:
        """Commit now; returns False if the store cannot write (nothing is dropped).

        A failure sets :attr:`write_error` (and calls ``on_write_error``) at once, except a file
        locked by another program: that is often momentary, so it is only noted in
        :attr:`write_delayed` until readings have waited ``locked_tell_after_s`` to be saved.
        """
        self._record_line_health()
        try:
            self.store.commit()
        except StoreWriteError as exc:
            self._next_try_monotonic = time.monotonic() + self.commit_interval_s
            if isinstance(exc, StoreBusyError):
                self.write_delayed = exc
                waited = self.clock.now() - self._saved_at_s
                if self.write_error is None and waited < self.locked_tell_after_s:
                    return False  # often momentary: retried quietly at the next pump
                if not isinstance(self.write_error, StoreBusyError):
                    since = _clock_time(self.clock.wall() - waited)
                    exc = StoreBusyError(
                        f"The session file {self.store.path} has been locked by another program since {since} "
                        "(perhaps a database viewer or a backup tool has it open), so nothing could be saved since "
                        "then. Nothing is lost: the readings are held in memory and will be written as soon as it "
                        "lets go. Close that program, or save the session to another location.")
            told = self.write_error
            if isinstance(exc, StoreBusyError) and isinstance(told, StoreBusyError):
                return False  # still locked: already said
            self.write_error = exc
            if self.on_write_error and (told is None or type(told) is not type(exc)):
                self.on_write_error(exc)
            return False
        self._next_try_monotonic = -math.inf
        self._saved_at_s = self.clock.now()
        self.write_delayed = None
        if self.write_error is not None:
            self.write_error = None
            if self.on_write_error:
                self.on_write_error(None)
        return True

    def finish(self, end_reason: str = "closed normally", *, before_close: Callable[[], None] | None = None) -> None:
        """Stop the source, record what is left, and close the store cleanly.

        Raises :class:`StoreWriteError` if the last write fails; the store then stays open
        with everything in memory (call :meth:`SessionStore.relocate`, then finish again).
        """
        if not self.finished:
            self.source.stop()
            self.finished = True
        self.pump()
        self.pipeline.finish()  # judge the last seconds too, as the offline analysis does
        self._sync_pipeline(force=True)
        if before_close is not None:
            before_close()  # the procedure ends its alarms while the file is still open
        now = self.clock.now()
        if self._open_gap is not None:
            self.store.end_event(self._open_gap, now)
            self._open_gap = None
        self.store.close(end_reason=end_reason)


def _json_list(text: str | None) -> list[Any]:
    try:
        value = json.loads(text) if text else []
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def _artefact_words(seg: ArtefactSegment) -> str:
    what = seg.reason or str(seg.kind).replace("_", " ")
    words = f"{seg.limb} foot: {what} (excluded from baseline and criteria)"
    if seg.ended_by_check:
        words += "; ended by the nurse's probe check"
    return words


def _verdict_key(verdict: BlockVerdict) -> tuple[str, float | None]:
    return str(verdict.state.value), verdict.confirmed_at_s


def _plain(value: object) -> object:
    """Dataclasses, enums and mappings as JSON-friendly plain values."""
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if hasattr(value, "value") and not isinstance(value, int | float | str | bool):
        return value.value
    return value
