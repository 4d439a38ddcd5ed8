"""The central station's model: every room, from what the stations publish (Qt-free).

:class:`CentralModel` takes messages (from :class:`monitor.central.connection.CentralConnection`'s
queue, or handed to it in tests) on one thread, keeps each room's latest state and its last 60
minutes, and says when a room is NO COMMUNICATION: the station's status says it is offline
(its will), nothing valid came from it for 5 s on the central's clock, or the central's own
link to the broker is down. The clock is injected, so the tests time silence exactly.

Nothing a station sends can crash it: a message that is not a valid v1 message
(:func:`monitor.publish.messages.decode`) is counted, per topic and per room, and shown. A
message seen twice (QoS 1 delivers at least once) is dropped by its ``(run_id, kind, seq)``.
Views subscribe to :class:`CentralEvents` (napari's pattern, as the procedure core's events).
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from monitor.central.connection import Incoming, LinkChange
from monitor.central.history import HISTORY_S, HistoryMarker, RoomHistory
from monitor.central.rooms import SILENT_AFTER_S, Communication, Received, Room, RoomKey
from monitor.model import Limb
from monitor.procedure.events import Signal
from monitor.publish import messages as wire

# Distinct foreign topics counted one by one; past this they are counted together, so a flood of
# made-up topics cannot grow the central's memory.
MAX_COUNTED_TOPICS = 200
OTHER_TOPICS = "(other topics)"
VERDICT_CHANGES_KEPT = 100
SESSION_FINISHED = "session finished"


@dataclass
class NotUnderstood:
    """Messages on one topic that were not valid v1 messages: how many, and the latest reason."""

    topic: str
    room: RoomKey | None
    count: int = 0
    reason: str = ""
    last_s: float = 0.0


@dataclass
class CentralEvents:
    """What the central's views subscribe to.

    - ``room_added``: a room heard for the first time;
    - ``room_changed``: a room whose state, history or communication changed (once per pump);
    - ``readings``: each readings message applied, with the central's clock then (the benchmark);
    - ``link``: the central's own link to the broker came up or went;
    - ``not_understood``: a message that was not a valid v1 message (its topic's count).
    """

    room_added: Signal[Room] = field(default_factory=Signal)
    room_changed: Signal[Room] = field(default_factory=Signal)
    readings: Signal[tuple[Room, wire.Readings]] = field(default_factory=Signal)
    link: Signal[LinkChange] = field(default_factory=Signal)
    not_understood: Signal[NotUnderstood] = field(default_factory=Signal)


class CentralModel:
    """Every room the central has heard, kept from the stations' messages."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, *, silent_after_s: float = SILENT_AFTER_S,
                 history_s: float = HISTORY_S) -> None:
        self.clock = clock
        self.silent_after_s = silent_after_s
        self.history_s = history_s
        self.rooms: dict[RoomKey, Room] = {}
        self.events = CentralEvents()
        self.link_up = False
        self.link_words = "not connected to the broker yet"
        self.not_understood: dict[str, NotUnderstood] = {}
        self.messages_applied = 0
        self._changed: dict[RoomKey, Room] = {}

    # ---- feeding -------------------------------------------------------------------------
    def pump(self, inbox: queue.SimpleQueue[Incoming | LinkChange], limit: int = 10_000) -> int:
        """Apply what is waiting in ``inbox`` (at most ``limit``), then time each room's silence."""
        taken = 0
        while taken < limit:
            try:
                item = inbox.get_nowait()
            except queue.Empty:
                break
            self.feed(item)
            taken += 1
        self.check_communication()
        return taken

    def feed(self, item: Incoming | LinkChange) -> None:
        if isinstance(item, LinkChange):
            self._link(item)
        else:
            self._message(item)

    def receive(self, topic: str, payload: bytes | str, *, retained: bool = False,
                received_s: float | None = None) -> None:
        """One message, applied at once (tests, tools): as if it came through the queue."""
        data = payload.encode("utf-8") if isinstance(payload, str) else payload
        self.feed(Incoming(topic, data, retained, self.clock() if received_s is None else received_s))
        self.check_communication()

    def check_communication(self, now_s: float | None = None) -> None:
        """Each room's communication as of ``now_s`` (the clock by default); emits the changes."""
        now = self.clock() if now_s is None else now_s
        for room in self.rooms.values():
            state, why = self._communication(room, now)
            if state is not room.communication or why != room.why_no_communication:
                room.communication, room.why_no_communication = state, why
                self._changed[room.key] = room
        changed, self._changed = self._changed, {}
        for room in changed.values():
            self.events.room_changed.emit(room)

    # ---- the central's own link ------------------------------------------------------------
    def _link(self, change: LinkChange) -> None:
        self.link_up, self.link_words = change.connected, change.words
        self.events.link.emit(change)

    # ---- one message -----------------------------------------------------------------------
    def _message(self, item: Incoming) -> None:
        try:
            where = wire.parse_topic(item.topic)
        except wire.MessageError as exc:
            self._not_understood(item, self._known_room_of(item.topic), str(exc))
            return
        key = RoomKey(where.site, where.room)
        try:
            message = wire.decode(where.kind, item.payload)
            self._check_identity(message, key)
        except wire.MessageError as exc:
            self._not_understood(item, key, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a message the decoder did not foresee is counted, not fatal
            self._not_understood(item, key, f"could not be read ({type(exc).__name__}: {exc})")
            return
        room = self._room(key)
        if not self._first_time(room, where.kind, message):
            room.duplicates += 1
            room.heard_s = item.received_s
            return
        room.heard_s = item.received_s
        self._apply(room, message)
        self.messages_applied += 1
        self._changed[key] = room

    def _known_room_of(self, text: str) -> RoomKey | None:
        """The room a topic outside the layout is under (an unknown kind), if the central knows it."""
        parts = text.split("/")
        if len(parts) >= 4 and "/".join(parts[:2]) == wire.TOPIC_ROOT:
            key = RoomKey(parts[2], parts[3])
            return key if key in self.rooms else None
        return None

    def _room(self, key: RoomKey) -> Room:
        room = self.rooms.get(key)
        if room is None:
            room = self.rooms[key] = Room(key, history=RoomHistory(self.history_s))
            self.events.room_added.emit(room)
        return room

    @staticmethod
    def _check_identity(message: wire.Message, key: RoomKey) -> None:
        """A status or state names its room: it must be the room of the topic it came on."""
        if isinstance(message, wire.Status | wire.State) and (message.site, message.room) != (key.site, key.room):
            raise wire.MessageError(f"a message for {message.site}/{message.room} on {key}'s topic")

    @staticmethod
    def _first_time(room: Room, kind: wire.Kind, message: wire.Message) -> bool:
        """False for a message already applied (same run, seq not above the highest)."""
        if isinstance(message, wire.Status):
            return True  # no seq: applying it again changes nothing
        seen = room.received.setdefault(kind, Received())
        if seen.run_id == message.run_id and message.seq <= seen.seq:
            return False
        if seen.run_id == message.run_id and message.seq > seen.seq + 1:
            missing = message.seq - seen.seq - 1
            seen.gaps += missing
            if isinstance(message, wire.Readings):
                room.readings_missed += max(missing, message.dropped_before)
        elif isinstance(message, wire.Readings):
            room.readings_missed += message.dropped_before
        seen.run_id, seen.seq = message.run_id, message.seq
        return True

    def _apply(self, room: Room, message: wire.Message) -> None:
        if isinstance(message, wire.Status):
            room.status = message
        elif isinstance(message, wire.State):
            self._apply_state(room, message)
        elif isinstance(message, wire.Readings):
            self._apply_readings(room, message)
        elif isinstance(message, wire.VerdictChange):
            room.verdict_changes.append((message.session_s, message.verdict.state, message.verdict.words))
            del room.verdict_changes[:-VERDICT_CHANGES_KEPT]
        elif isinstance(message, wire.AlarmEvent):
            if message.event == "start":
                room.alarms[message.id] = wire.AlarmNow(message.id, message.priority, message.text, message.limb,
                                                        message.start_s, message.start_at, False)
            else:
                room.alarms.pop(message.id, None)
        elif isinstance(message, wire.Markers):
            room.markers = message.markers
            room.history.set_markers([HistoryMarker(m.session_s, m.kind, m.label) for m in message.markers])
        elif isinstance(message, wire.History):
            room.pending_history = message
            self._seed_history(room)

    def _apply_state(self, room: Room, state: wire.State) -> None:
        if room.session_started_at is not None and state.session_started_at != room.session_started_at:
            # The room's next session: its curves and markers start afresh.
            room.history.clear()
            room.readings, room.markers, room.verdict_changes = None, (), []
        room.session_started_at = state.session_started_at
        room.state = state
        room.alarms = {a.id: a for a in state.alarms}
        room.history.add_difference(state.session_s, state.di_minus_dc_c)
        self._seed_history(room)

    @staticmethod
    def _seed_history(room: Room) -> None:
        """The station's history fills in what came before this central heard the room, once its
        state says which session the room is in (a retained history of the previous patient's
        session never runs into this one's)."""
        history = room.pending_history
        if history is None or room.session_started_at is None:
            return
        if history.session_started_at == room.session_started_at:
            feet = {limb: history.feet[limb.value] for limb in Limb if limb.value in history.feet}
            room.history.seed(history.times(), feet, history.di_minus_dc_c)
            room.pending_history = None

    def _apply_readings(self, room: Room, readings: wire.Readings) -> None:
        for limb in Limb:
            foot = readings.feet.get(limb.value)
            if foot is not None:
                room.history.add_reading(limb, readings.session_s, foot.celsius, foot.valid)
        if room.readings is None or readings.session_s >= room.readings.session_s:
            room.readings = readings
        self.events.readings.emit((room, readings))

    def _not_understood(self, item: Incoming, key: RoomKey | None, reason: str) -> None:
        topic = item.topic if len(item.topic) <= 200 else item.topic[:200] + "…"
        if topic not in self.not_understood and len(self.not_understood) >= MAX_COUNTED_TOPICS:
            topic = OTHER_TOPICS
        entry = self.not_understood.setdefault(topic, NotUnderstood(topic, key))
        entry.count += 1
        entry.reason = reason[:300]
        entry.last_s = item.received_s
        room = self.rooms.get(key) if key is not None else None
        if room is not None:
            room.not_understood += 1
            self._changed[room.key] = room
        self.events.not_understood.emit(entry)

    # ---- communication -------------------------------------------------------------------------
    def _communication(self, room: Room, now: float) -> tuple[Communication, str]:
        finished = room.state is not None and room.state.finished
        if not self.link_up:
            return Communication.NO_COMMUNICATION, f"the central has no link to the broker ({self.link_words})"
        if room.status is not None and not room.status.online:
            if finished or room.status.reason == SESSION_FINISHED:
                return Communication.ENDED, ""
            return Communication.NO_COMMUNICATION, f"station offline: {room.status.reason}"
        if finished:
            return Communication.ENDED, ""
        silent = now - room.heard_s if room.heard_s is not None else None
        if silent is None or silent > self.silent_after_s:
            return Communication.NO_COMMUNICATION, f"nothing heard for {int(silent or 0)} s"
        if room.state is None:
            return Communication.WAITING, ""
        return Communication.LIVE, ""

    # ---- what views read -------------------------------------------------------------------------
    def sorted_rooms(self) -> list[Room]:
        return [self.rooms[k] for k in sorted(self.rooms)]

    def not_understood_total(self) -> int:
        return sum(e.count for e in self.not_understood.values())
