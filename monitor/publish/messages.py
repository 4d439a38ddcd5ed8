"""The wire contract between a station and a central station: topics and payloads, version 1.

Pure (no network, no clock): dataclasses, their JSON encoding and decoding, and the topic
layout. Every payload carries ``"schema": "sympatherm/v1/<kind>"`` and matches the JSON Schema
``monitor/publish/schemas/<kind>.json`` (draft 2020-12); :func:`decode` checks it, so a
malformed or foreign message is a :class:`MessageError` (counted by the central), never a crash.

Topics: ``sympatherm/v1/<site>/<room>/<kind>``, kind one of :class:`Kind`. Room and bed are the
identity on the wire; the patient ID travels only when the site enables it. v1 payloads are
frozen: a change of any field is a v2 (new topic root), so a strict schema never refuses a
station of the same version; a new kind comes on a topic of its own (``history`` did), every
other payload as it was. See docs/central-station.md.
"""

from __future__ import annotations

import enum
import json
import math
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any, Literal, TypeAlias

VERSION = "v1"
TOPIC_ROOT = f"sympatherm/{VERSION}"
# A site or room name is one topic level: letters, digits, '.', '_' and '-' only (no '/', '+',
# '#' or spaces, so the ACL file and the topic filters mean exactly what they say).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
BED_MAX = 32
# The largest payload a v1 message may be (the 60-minute history, the longest, is about 30 kB),
# and how deeply its JSON may nest (a valid message nests 4 levels): a larger or deeper payload is
# refused before it is parsed or validated, so no message can exhaust the central's memory or stack.
MAX_PAYLOAD_BYTES = 256 * 1024
MAX_DEPTH = 8


class MessageError(ValueError):
    """A payload or topic that is not a valid v1 message; the text says why in plain words."""


class Kind(enum.StrEnum):
    STATUS = "status"  # retained; the will: online false
    STATE = "state"  # retained; the room as it is now
    READINGS = "readings"  # 1 Hz of session time
    VERDICT = "verdict"  # each verdict change
    ALARMS = "alarms"  # each alarm start and end
    MARKERS = "markers"  # retained; the whole marker list after any change
    HISTORY = "history"  # retained; the last 60 minutes, compact, at most every 30 s (a later v1 kind)

    @property
    def retained(self) -> bool:
        return self in (Kind.STATUS, Kind.STATE, Kind.MARKERS, Kind.HISTORY)

    @property
    def schema_name(self) -> str:
        return f"{TOPIC_ROOT}/{self.value}"


QOS = 1  # every message: at least once (the central drops duplicates by seq)


# ---- topics ---------------------------------------------------------------------------------
def check_name(text: str, what: str) -> str:
    """``text`` as a site or room name (one topic level), or ValueError in plain words."""
    if not isinstance(text, str) or not _NAME.fullmatch(text):
        raise ValueError(f"the {what} name must be 1 to 64 letters, digits, '.', '_' or '-', starting with a "
                         f"letter or digit (it is part of the MQTT topic), not {text!r}")
    return text


def check_bed(text: str) -> str:
    """A bed label (not part of the topic): printable, at most 32 characters; '' for none."""
    text = text.strip()
    if len(text) > BED_MAX or not text.isprintable():
        raise ValueError(f"the bed must be at most {BED_MAX} printable characters, not {text!r}")
    return text


@dataclass(frozen=True)
class Topic:
    site: str
    room: str
    kind: Kind

    def __str__(self) -> str:
        return f"{TOPIC_ROOT}/{self.site}/{self.room}/{self.kind}"


def topic(site: str, room: str, kind: Kind | str) -> str:
    """``sympatherm/v1/<site>/<room>/<kind>``, names checked."""
    return str(Topic(check_name(site, "site"), check_name(room, "room"), Kind(kind)))


def parse_topic(text: str) -> Topic:
    """The site, room and kind of a v1 topic; MessageError for anything else."""
    parts = text.split("/")
    if len(parts) != 5 or "/".join(parts[:2]) != TOPIC_ROOT:
        raise MessageError(f"not a {TOPIC_ROOT}/<site>/<room>/<kind> topic: {text!r}")
    site, room, kind = parts[2:]
    try:
        return Topic(check_name(site, "site"), check_name(room, "room"), Kind(kind))
    except ValueError as exc:
        raise MessageError(f"topic {text!r}: {exc}") from None


def subscription(site: str = "+", room: str = "+") -> str:
    """The topic filter for every message of ``site`` (``+``: every site) and ``room``."""
    for name, what in ((site, "site"), (room, "room")):
        if name != "+":
            check_name(name, what)
    return f"{TOPIC_ROOT}/{site}/{room}/#"


def station_client_id(site: str, room: str) -> str:
    """A station's stable MQTT client id (its persistent session at the broker)."""
    return f"sympatherm-station-{check_name(site, 'site')}-{check_name(room, 'room')}"


# ---- times ------------------------------------------------------------------------------------
def iso_utc(posix_s: float) -> str:
    """POSIX seconds as ISO 8601 UTC with milliseconds: ``2026-12-02T07:35:18.123Z``."""
    return datetime.fromtimestamp(posix_s, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def posix_of(iso: str) -> float:
    """The POSIX seconds of an :func:`iso_utc` text."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


# ---- payloads ---------------------------------------------------------------------------------
Side: TypeAlias = Literal["left", "right"]
AlarmPriority: TypeAlias = Literal["high", "medium", "low"]


@dataclass(frozen=True)
class Status:
    """Whether the station is publishing. The MQTT will is this with ``online`` false."""

    site: str
    room: str
    bed: str | None
    online: bool
    client_id: str
    software: str  # "sympatherm 0.1.0"
    simulated: bool
    reason: str  # "publishing", "session finished", "connection lost (the broker's will)"
    sent_at: str


@dataclass(frozen=True)
class Verdict:
    """The core's verdict (``BlockVerdict``): its state code, its words and the criteria."""

    state: str  # monitor.pipeline.verdict.VerdictState value
    words: str
    criteria_id: str
    criteria_words: str  # e.g. "ΔTb ≥ 2.0 °C and Di − Dc ≥ 1.5 °C, held for 60 s"
    criteria_met: tuple[str, ...]
    confirmed_at_s: float | None
    confirmed_at: str | None


@dataclass(frozen=True)
class FootNow:
    """One foot's latest values from the core's snapshot."""

    celsius: float | None  # smoothed, the newest valid value
    valid: bool  # the foot's status is OK (not lifted, touched, frozen, faulty or silent)
    status: str  # the status in words ("OK", "probe may have lifted", "no data for 12 s")
    baseline_c: float | None
    rise_c: float | None
    rise_withheld: str | None  # why rise_c is null although a baseline is in force
    age_s: float | None  # seconds since the foot's newest reading


@dataclass(frozen=True)
class AlarmNow:
    id: str
    priority: AlarmPriority
    text: str
    limb: Side | None
    since_s: float
    since: str
    acknowledged: bool


@dataclass(frozen=True)
class State:
    """The room as it is now (retained): what a tile shows."""

    site: str
    room: str
    bed: str | None
    run_id: str
    seq: int
    simulated: bool
    blocked_side: Side
    verdict: Verdict
    attempt: int
    injection_s: float | None  # the current attempt's injection, session time
    injection_at: str | None
    feet: dict[str, FootNow]  # "left", "right"
    di_minus_dc_c: float | None
    di_minus_dc_withheld: str | None
    alarms: tuple[AlarmNow, ...]
    session_s: float
    session_started_at: str  # wall time of session time 0
    finished: bool
    sent_at: str
    patient_id: str | None = None  # only when the site enables it; absent from the JSON otherwise


@dataclass(frozen=True)
class FootReading:
    celsius: float | None  # smoothed; null when the probe gave no valid temperature
    valid: bool


@dataclass(frozen=True)
class Readings:
    """One second of session time: each foot's smoothed value at its newest reading."""

    run_id: str
    seq: int
    session_s: float
    wall_time: str
    feet: dict[str, FootReading]
    dropped_before: int  # readings messages this station dropped (queue full) just before this one
    sent_at: str


@dataclass(frozen=True)
class VerdictChange:
    run_id: str
    seq: int
    session_s: float
    attempt: int
    verdict: Verdict
    sent_at: str


@dataclass(frozen=True)
class AlarmEvent:
    run_id: str
    seq: int
    event: Literal["start", "end"]
    id: str
    priority: AlarmPriority
    text: str
    limb: Side | None
    start_s: float
    start_at: str
    end_s: float | None  # the end event only: the station's session time when the core reported it
    end_at: str | None
    sent_at: str


@dataclass(frozen=True)
class MarkerNow:
    id: int | None
    kind: str  # monitor.model.MarkerKind value
    label: str
    session_s: float
    at: str | None
    text: str  # a note's text only when the site enables patient details ("" otherwise)


@dataclass(frozen=True)
class Markers:
    run_id: str
    seq: int
    markers: tuple[MarkerNow, ...] = field(default_factory=tuple)
    sent_at: str = ""


@dataclass(frozen=True)
class History:
    """The room's last 60 minutes of session time, one point every ``step_s`` (retained), so a
    central that starts mid-procedure can draw them. Point i is at ``start_s + i * step_s``; each
    list has the same length. The feet as ``readings`` give them (smoothed, null where not valid),
    Di − Dc from the core's own series (null where it has none, and before the baseline)."""

    run_id: str
    seq: int
    session_started_at: str  # the session the points belong to (as in ``state``)
    start_s: float
    step_s: float
    feet: dict[str, tuple[float | None, ...]]  # "left", "right"
    di_minus_dc_c: tuple[float | None, ...]
    sent_at: str

    def times(self) -> list[float]:
        return [self.start_s + i * self.step_s for i in range(len(self.di_minus_dc_c))]


Message: TypeAlias = Status | State | Readings | VerdictChange | AlarmEvent | Markers | History

KIND_OF: dict[type, Kind] = {Status: Kind.STATUS, State: Kind.STATE, Readings: Kind.READINGS,
                             VerdictChange: Kind.VERDICT, AlarmEvent: Kind.ALARMS, Markers: Kind.MARKERS,
                             History: Kind.HISTORY}


# ---- encode and decode ------------------------------------------------------------------------
def _finite(value: Any) -> Any:
    """NaN and infinities are not JSON: they travel as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def to_dict(message: Message) -> dict[str, Any]:
    """The JSON object of ``message`` ("schema" first)."""
    body = _finite(asdict(message))
    if isinstance(message, State) and message.patient_id is None:
        del body["patient_id"]
    return {"schema": KIND_OF[type(message)].schema_name, **body}


def encode(message: Message) -> bytes:
    return json.dumps(to_dict(message), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


@cache
def schema(kind: Kind | str) -> dict[str, Any]:
    """The JSON Schema of ``kind`` (package data)."""
    text = resources.files("monitor.publish").joinpath("schemas", f"{Kind(kind).value}.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _validator(kind: Kind) -> Any:
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]  # no stubs installed

    return Draft202012Validator(schema(kind))


def validate(kind: Kind | str, body: Any) -> None:
    """MessageError (the first problem, in words) unless ``body`` matches ``kind``'s schema."""
    kind = Kind(kind)
    error = next(iter(_validator(kind).iter_errors(body)), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "the message"
        raise MessageError(f"not a valid {kind.schema_name} message: {where}: {error.message}")


def _nesting_deeper_than(body: Any, limit: int) -> bool:
    """True if ``body`` nests objects or arrays more than ``limit`` levels (no recursion)."""
    level: list[tuple[Any, int]] = [(body, 1)]
    while level:
        value, depth = level.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        level.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def parse(payload: bytes | str) -> Any:
    """The JSON of a payload, at most ``MAX_PAYLOAD_BYTES`` and ``MAX_DEPTH`` deep; MessageError if not."""
    size = len(payload.encode("utf-8") if isinstance(payload, str) else payload)
    if size > MAX_PAYLOAD_BYTES:
        raise MessageError(f"too large: {size} bytes, more than a {VERSION} message may be ({MAX_PAYLOAD_BYTES})")
    try:
        body = json.loads(payload)
    except RecursionError:  # the parser's own stack ran out: far deeper than any message
        raise MessageError(f"not a {VERSION} message: its JSON nests deeper than {MAX_DEPTH} levels") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise MessageError(f"not JSON: {exc}") from None
    if _nesting_deeper_than(body, MAX_DEPTH):
        raise MessageError(f"not a {VERSION} message: its JSON nests deeper than {MAX_DEPTH} levels")
    return body


def decode(kind: Kind | str, payload: bytes | str) -> Message:
    """The message a payload on a ``kind`` topic carries; MessageError if it is not one."""
    kind = Kind(kind)
    body = parse(payload)
    validate(kind, body)
    return _BUILD[kind](body)


def _verdict(d: dict[str, Any]) -> Verdict:
    return Verdict(d["state"], d["words"], d["criteria_id"], d["criteria_words"], tuple(d["criteria_met"]),
                   d["confirmed_at_s"], d["confirmed_at"])


def _state(d: dict[str, Any]) -> State:
    feet = {side: FootNow(**foot) for side, foot in d["feet"].items()}
    alarms = tuple(AlarmNow(**a) for a in d["alarms"])
    plain = {k: v for k, v in d.items() if k not in ("schema", "verdict", "feet", "alarms")}
    return State(**plain, verdict=_verdict(d["verdict"]), feet=feet, alarms=alarms)


def _readings(d: dict[str, Any]) -> Readings:
    feet = {side: FootReading(**foot) for side, foot in d["feet"].items()}
    return Readings(d["run_id"], d["seq"], d["session_s"], d["wall_time"], feet, d["dropped_before"], d["sent_at"])


def _verdict_change(d: dict[str, Any]) -> VerdictChange:
    return VerdictChange(d["run_id"], d["seq"], d["session_s"], d["attempt"], _verdict(d["verdict"]), d["sent_at"])


def _markers(d: dict[str, Any]) -> Markers:
    return Markers(d["run_id"], d["seq"], tuple(MarkerNow(**m) for m in d["markers"]), d["sent_at"])


def _history(d: dict[str, Any]) -> History:
    feet = {side: tuple(values) for side, values in d["feet"].items()}
    if any(len(values) != len(d["di_minus_dc_c"]) for values in feet.values()):
        raise MessageError(f"not a valid {Kind.HISTORY.schema_name} message: its lists differ in length")
    return History(d["run_id"], d["seq"], d["session_started_at"], d["start_s"], d["step_s"], feet,
                   tuple(d["di_minus_dc_c"]), d["sent_at"])


def _plain(cls: type) -> Any:
    return lambda d: cls(**{k: v for k, v in d.items() if k != "schema"})


_BUILD: dict[Kind, Any] = {Kind.STATUS: _plain(Status), Kind.STATE: _state, Kind.READINGS: _readings,
                           Kind.VERDICT: _verdict_change, Kind.ALARMS: _plain(AlarmEvent), Kind.MARKERS: _markers,
                           Kind.HISTORY: _history}
