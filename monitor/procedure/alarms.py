"""The one technical-alarm evaluator (IEC 60601-1-8 priorities), whoever runs the session.

Conditions come from the data, not from when a view happened to look: a probe fault starts at
the reading that carried it, a lifted or touched probe with the pipeline's artefact segment, a
silent probe at its last reading, a lost link with the source's connection event. So the
window and a headless ``sympatherm record`` of the same procedure raise, and store, the same
alarms at the same session times.

Priorities: ``medium`` (yellow, flashing, repeated tone until acknowledged): probe off, sensor
fault, no data, a lost link, a frozen reading, the session file not being saved, a program
error; ``low`` (cyan, steady, one tone): a probe that seems lifted, loose or touched.
Acknowledging silences; the visual sign stays until the condition ends.

Every alarm raised goes to :class:`AlarmLog` (the session store) with its start, priority and
text, and its end when the condition goes.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from monitor.model import Limb, ProbeStatus, Reading
from monitor.pipeline.artefacts import ArtefactKind, ArtefactSegment

# A probe with no reading for this long (session seconds) raises "no data"; a slow probe is
# allowed its own rhythm (the pipeline's allowed gap), never less than this.
NO_DATA_AFTER_S = 10.0
# A probe that never reported raises "no data" this long after the session (or resume) began.
NEVER_SEEN_AFTER_S = 20.0


class Priority(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"


@dataclass(frozen=True)
class AlarmCondition:
    """One technical alarm condition. ``key`` identifies it while it lasts."""

    key: str
    priority: Priority
    text: str
    subkind: str
    limb: Limb | None = None
    start_s: float = 0.0


@dataclass
class ActiveAlarm:
    condition: AlarmCondition
    acknowledged: bool = False
    event_id: int | None = None

    @property
    def start_s(self) -> float:
        return self.condition.start_s


@dataclass(frozen=True)
class AlarmChange:
    """What one evaluation changed: keys raised and ended, and the alarms active now."""

    raised: tuple[str, ...]
    ended: tuple[str, ...]
    active: tuple[ActiveAlarm, ...]
    new_priority: Priority | None = None  # the highest priority among the alarms raised now
    ended_at: Mapping[str, float] = field(default_factory=dict)  # key -> session time it ended (as stored)


class AlarmLog(Protocol):
    """Where alarms are recorded (the session store)."""

    def start(self, condition: AlarmCondition) -> int | None: ...

    def end(self, event_id: int, end_s: float) -> None: ...


def _probe_name(limb: Limb) -> str:
    return f"{limb.letter} {limb.value} probe"


# Artefact kinds that raise an alarm of their own (faults and silence are raised from the
# readings themselves): kind -> (subkind, priority, words).
_ARTEFACT_ALARMS: dict[ArtefactKind, tuple[str, Priority, str]] = {
    ArtefactKind.PROBE_LIFTED: ("probe_lifted", Priority.LOW, "check the tape, probe may have lifted"),
    ArtefactKind.TOUCH: ("touch", Priority.LOW, "being touched or handled"),
    ArtefactKind.FROZEN: ("frozen", Priority.MEDIUM, "READING FROZEN (not changing): check the probe"),
}


@dataclass
class _LimbWatch:
    status: ProbeStatus | None = None
    status_since_s: float | None = None
    last_s: float | None = None


@dataclass
class AlarmEvaluator:
    """Keeps the technical alarms of one session: raise, end, acknowledge, record."""

    log: AlarmLog | None = None
    started_s: float = 0.0  # session time the recording (or its resumption) began
    active: dict[str, ActiveAlarm] = field(default_factory=dict)
    _limbs: dict[Limb, _LimbWatch] = field(default_factory=lambda: {limb: _LimbWatch() for limb in Limb})
    _connection: AlarmCondition | None = None
    _external: dict[str, AlarmCondition] = field(default_factory=dict)
    _seen_segments: set[tuple[str, str, float]] = field(default_factory=set)
    # Artefact alarms: the segments still open under each alarm, which alarm a segment joined, and
    # the latest end among those already over.
    _members: dict[str, set[tuple[str, str, float]]] = field(default_factory=dict)
    _key_of: dict[tuple[str, str, float], str] = field(default_factory=dict)
    _last_end: dict[str, float] = field(default_factory=dict)
    _ended_at: dict[str, float] = field(default_factory=dict)  # ended in this evaluation, for its AlarmChange

    # ---- what the core tells it ----------------------------------------------------------
    def on_readings(self, readings: Iterable[Reading]) -> AlarmChange:
        """Probe statuses and silences, reading by reading (their own times)."""
        raised: list[str] = []
        ended: list[str] = []
        for r in readings:
            watch = self._limbs[r.limb]
            watch.last_s = r.session_s
            self._end(f"no_data:{r.limb}", r.session_s, ended)
            if r.status is not watch.status:
                watch.status, watch.status_since_s = r.status, r.session_s
                self._end(f"probe_off:{r.limb}", r.session_s, ended)
                self._end(f"fault:{r.limb}", r.session_s, ended)
                cond = _status_condition(r)
                if cond is not None:
                    self._raise(cond, raised)
        return self._change(raised, ended)

    def on_connection(self, lost_reason: str | None, session_s: float) -> AlarmChange:
        """The source lost its link (``lost_reason``) or has it again (None)."""
        raised: list[str] = []
        ended: list[str] = []
        if lost_reason is None:
            self._end("connection", session_s, ended)
        elif "connection" not in self.active:
            self._raise(AlarmCondition("connection", Priority.MEDIUM, f"NO DATA: {lost_reason}",
                                       "connection_lost", None, session_s), raised)
        return self._change(raised, ended)

    def set_external(self, key: str, text: str | None, session_s: float, subkind: str) -> AlarmChange:
        """A condition only the caller can see (the file not being saved, a program error)."""
        raised: list[str] = []
        ended: list[str] = []
        if text is None:
            self._end(key, session_s, ended)
        elif key not in self.active:
            self._raise(AlarmCondition(key, Priority.MEDIUM, text, subkind, None, session_s), raised)
        else:
            old = self.active[key].condition
            self.active[key].condition = AlarmCondition(key, old.priority, text, old.subkind, None, old.start_s)
        return self._change(raised, ended)

    def evaluate(self, now_s: float, segments: Iterable[ArtefactSegment], limits_s: Mapping[Limb, float],
                 *, lag_s: float = 1.0, newest_s: float | None = None) -> AlarmChange:
        """Silences and the pipeline's artefact segments, as of ``now_s``.

        ``limits_s``: per limb, how long its probe may be silent; ``lag_s``: how far the readings
        may trail the clock (a sped-up simulator's worker); ``newest_s``: the newest reading of
        either foot (a foot is silent when the other one has gone on without it)."""
        raised: list[str] = []
        ended: list[str] = []
        link_lost = "connection" in self.active
        for limb, watch in self._limbs.items():
            self._check_silence(limb, watch, now_s, limits_s.get(limb, NO_DATA_AFTER_S), lag_s, newest_s,
                                link_lost, raised)
        self._follow_segments(segments, raised, ended)
        return self._change(raised, ended)

    def acknowledge(self) -> int:
        """Silence every active alarm; the visual sign stays. Returns how many were silenced."""
        fresh = [a for a in self.active.values() if not a.acknowledged]
        for alarm in fresh:
            alarm.acknowledged = True
        return len(fresh)

    def finish(self, at_s: float) -> AlarmChange:
        """The session ends: every alarm still active ends now."""
        ended: list[str] = []
        for key in list(self.active):
            self._end(key, at_s, ended)
        return self._change([], ended)

    # ---- what views read -----------------------------------------------------------------
    @property
    def priority(self) -> Priority | None:
        return highest_priority(self.active.values())

    @property
    def all_acknowledged(self) -> bool:
        return all(a.acknowledged for a in self.active.values())

    def lines(self, now_s: float | None = None) -> list[str]:
        """The active alarms in plain words, medium first, oldest first."""
        order = sorted(self.active.values(), key=lambda a: (a.condition.priority != Priority.MEDIUM, a.start_s))
        return [_with_age(a.condition, now_s) for a in order]

    def limb_priority(self, limb: Limb) -> Priority | None:
        return highest_priority(a for a in self.active.values()
                                if a.condition.limb is limb or a.condition.limb is None)

    # ---- inside --------------------------------------------------------------------------
    def _check_silence(self, limb: Limb, watch: _LimbWatch, now_s: float, limit: float, lag_s: float,
                       newest_s: float | None, link_lost: bool, raised: list[str]) -> None:
        key = f"no_data:{limb}"
        if key in self.active or link_lost:
            return
        limit = max(NO_DATA_AFTER_S, limit)
        if watch.last_s is None:
            due = self.started_s + NEVER_SEEN_AFTER_S
            if now_s >= due:
                self._raise(AlarmCondition(key, Priority.MEDIUM, f"{_probe_name(limb)}: NO DATA since the start",
                                           "no_data_since_start", limb, due), raised)
            return
        silent = now_s - watch.last_s > limit + lag_s or (newest_s is not None and newest_s - watch.last_s > limit)
        if silent:
            self._raise(AlarmCondition(key, Priority.MEDIUM, f"{_probe_name(limb)}: NO DATA for more than {limit:g} s",
                                       "no_data", limb, watch.last_s), raised)

    def _follow_segments(self, segments: Iterable[ArtefactSegment], raised: list[str], ended: list[str]) -> None:
        """One alarm per probe and kind while any of its segments lasts: segments that overlap (a
        lift the other foot's rules found inside the stretch the criteria left out) join the alarm
        already raised, which ends when the last of them has ended."""
        for seg in segments:
            kind = ArtefactKind(str(seg.kind))
            if kind not in _ARTEFACT_ALARMS:
                continue
            subkind, priority, words = _ARTEFACT_ALARMS[kind]
            limb = Limb(str(seg.limb))
            ident = (str(limb), subkind, round(float(seg.start_s), 3))
            if ident not in self._seen_segments:
                self._seen_segments.add(ident)
                joined = next((k for k, members in self._members.items() if k in self.active
                               and k.startswith(f"{subkind}:{limb}:") and members), None)
                key = joined or f"{subkind}:{limb}:{ident[2]}"
                self._members.setdefault(key, set()).add(ident)
                self._key_of[ident] = key
                if joined is None:
                    self._raise(AlarmCondition(key, priority, f"{_probe_name(limb)}: {words}", subkind, limb,
                                               float(seg.start_s)), raised)
            key = self._key_of[ident]
            if seg.end_s is not None and ident in self._members.get(key, ()):
                self._members[key].discard(ident)
                self._last_end[key] = max(self._last_end.get(key, -math.inf), float(seg.end_s))
                if not self._members[key]:
                    self._end(key, self._last_end[key], ended)

    def _raise(self, cond: AlarmCondition, raised: list[str]) -> None:
        alarm = ActiveAlarm(cond)
        if self.log is not None:
            alarm.event_id = self.log.start(cond)
        self.active[cond.key] = alarm
        raised.append(cond.key)

    def _end(self, key: str, at_s: float, ended: list[str]) -> None:
        alarm = self.active.pop(key, None)
        if alarm is None:
            return
        end_s = max(at_s, alarm.start_s)
        if self.log is not None and alarm.event_id is not None:
            self.log.end(alarm.event_id, end_s)
        self._ended_at[key] = end_s
        ended.append(key)

    def _change(self, raised: list[str], ended: list[str]) -> AlarmChange:
        new = highest_priority(self.active[k] for k in raised if k in self.active)
        ended_at = {k: self._ended_at.pop(k) for k in ended if k in self._ended_at}
        return AlarmChange(tuple(raised), tuple(ended), tuple(self.active.values()), new, ended_at)


def merge_changes(changes: Iterable[AlarmChange], active: Iterable[ActiveAlarm]) -> AlarmChange:
    """Several evaluations' changes as one (for one event per pump)."""
    raised: list[str] = []
    ended: list[str] = []
    ended_at: dict[str, float] = {}
    for c in changes:
        raised += c.raised
        ended += c.ended
        ended_at.update(c.ended_at)
    active = tuple(active)
    keys = {a.condition.key for a in active}
    new = highest_priority(a for a in active if a.condition.key in raised)
    return AlarmChange(tuple(k for k in raised if k in keys or k not in ended), tuple(ended), active, new, ended_at)


def highest_priority(alarms: Iterable[ActiveAlarm]) -> Priority | None:
    prios = {a.condition.priority for a in alarms}
    if Priority.MEDIUM in prios:
        return Priority.MEDIUM
    return Priority.LOW if Priority.LOW in prios else None


def _status_condition(r: Reading) -> AlarmCondition | None:
    if r.status is ProbeStatus.OK:
        return None
    if r.status is ProbeStatus.NOT_ATTACHED:
        return AlarmCondition(f"probe_off:{r.limb}", Priority.MEDIUM, f"{_probe_name(r.limb)}: PROBE OFF",
                              "probe_off", r.limb, r.session_s)
    return AlarmCondition(f"fault:{r.limb}", Priority.MEDIUM, f"{_probe_name(r.limb)}: {r.status.plain.upper()}",
                          "sensor_fault", r.limb, r.session_s)


def _with_age(cond: AlarmCondition, now_s: float | None) -> str:
    if cond.subkind == "no_data" and now_s is not None and cond.limb is not None:
        return f"{_probe_name(cond.limb)}: NO DATA for {int(max(0.0, now_s - cond.start_s))} s"
    return cond.text
