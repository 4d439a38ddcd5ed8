"""A station's publisher: the procedure core's events to an MQTT broker, never in the core's way.

:class:`StationPublisher` is a view of a :class:`monitor.procedure.Procedure`. Its slots run on
the core's thread and only build messages from the core's values (:mod:`.from_core`) into a
bounded :class:`.sendqueue.SendQueue`; a slot that fails is counted, never raised into the core.
A sender thread hands the queue to paho-mqtt (its own network thread, ``loop_start``), at most
``MAX_UNACKED`` messages not yet acknowledged by the broker. So ``Procedure.pump`` never waits on
the network: a missing, slow or restarting broker changes nothing the station records.

Connection: MQTT v5, TLS verifying the broker (``mqtts://``), a user name and password or a
client certificate, the stable client id ``sympatherm-station-<site>-<room>``, clean start off
with a session expiry (the broker keeps the session across a short outage), QoS 1, a retained
will ``status`` with ``online: false``. paho keeps every message it was handed until the broker
acknowledges it and sends it again after a reconnect, so no verdict, alarm or marker is lost.

The front-end calls :meth:`StationPublisher.tick` after each ``pump`` (the room's state at least
once a second, also while the probes are silent; its last 60 minutes, the retained ``history``,
at most every 30 s and at the end) and :meth:`StationPublisher.close` at the end.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from monitor.publish.config import PublishConfig
from monitor.publish.from_core import (
    Identity,
    alarm_event,
    history_of,
    marker_list,
    readings_at,
    state_of,
    verdict_of,
)
from monitor.publish.messages import (
    KIND_OF,
    QOS,
    Kind,
    Markers,
    Message,
    Status,
    VerdictChange,
    encode,
    iso_utc,
    topic,
)
from monitor.publish.sendqueue import EVENTS_MAX, READINGS_MAX, SendQueue

if TYPE_CHECKING:
    from monitor.model import Limb, Marker
    from monitor.pipeline import PipelineSnapshot
    from monitor.procedure import NewPoints, Procedure
    from monitor.procedure.alarms import AlarmChange, AlarmCondition
    from monitor.procedure.events import Signal

T = TypeVar("T")

KEEPALIVE_S = 5  # the broker sends the will within about 1.5 × this of a silent network
SESSION_EXPIRY_S = 24 * 3600  # how long the broker keeps this station's session while it is away
MAX_UNACKED = 100  # messages handed to paho and not yet acknowledged by the broker
STATE_EVERY_S = 1.0  # wall seconds between state messages (a central's sign of life)
HISTORY_EVERY_S = 30.0  # wall seconds between history messages (a central started late draws from it)
HISTORY_STEP_S = 10.0  # session seconds between a history's points
HISTORY_WINDOW_S = 3600.0  # the history's span: the central's 60 minutes
CLOSE_WAIT_S = 3.0  # how long the end of a session waits for the broker to take the last messages
NOTICES_MAX = 100


def _software() -> str:
    from monitor import __version__

    return f"sympatherm {__version__}"


class StationPublisher:
    """Publishes one procedure; see the module docstring."""

    def __init__(self, config: PublishConfig, *, readings_max: int = READINGS_MAX,
                 events_max: int = EVENTS_MAX, history_every_s: float = HISTORY_EVERY_S) -> None:
        self.config = config.checked()
        self.run_id = secrets.token_hex(8)
        self.who = Identity(self.config.site, self.config.room, self.config.bed or None, self.run_id,
                            self.config.share_patient_id)
        self.queue = SendQueue(readings_max, events_max)
        self._readings_max = readings_max
        self.acked: dict[Kind, int] = dict.fromkeys(Kind, 0)  # acknowledged by the broker, per kind
        self.refused = 0  # messages the broker refused (its ACL)
        self.errors = 0  # slots that failed (the core went on)
        self.connected = False
        self._seq = dict.fromkeys(Kind, 0)
        self._procedure: Procedure | None = None
        self._slots: list[tuple[Any, Callable[[Any], object]]] = []
        self._conditions: dict[str, AlarmCondition] = {}
        self._next_second: float | None = None
        self._state_due = 0.0
        self.history_every_s = history_every_s
        self._history_due = 0.0
        self._unacked: set[int] = set()
        self._acked_early: set[int] = set()
        self._mid_kind: dict[int, Kind] = {}
        self._notices: deque[str] = deque(maxlen=NOTICES_MAX)
        self._last_note = ""
        self._stopping = False
        self._closed = False
        self._client: Any = None
        self._sender: threading.Thread | None = None

    # ---- the core's side -------------------------------------------------------------------
    def attach(self, procedure: Procedure) -> StationPublisher:
        """Follow ``procedure``'s events (on its thread); its markers and state go out at once."""
        self._procedure = procedure
        events = procedure.events
        self._connect(events.readings, self._on_readings)
        self._connect(events.readings, lambda _: self.tick())  # a front-end that forgets tick() still sends state
        self._connect(events.verdict, self._on_verdict)
        self._connect(events.alarms, self._on_alarms)
        self._connect(events.markers, self._on_markers)
        self._connect(events.finished, self._on_finished)
        self._guarded(self._on_markers)(list(procedure.markers))
        self._state_due = 0.0
        self.tick()
        return self

    def tick(self) -> None:
        """After each pump: the room's state, at most once a second (a sign of life while silent),
        and its history at most every ``history_every_s``."""
        if self._procedure is None:
            return
        now = time.monotonic()
        if now >= self._history_due:
            self._history_due = now + self.history_every_s
            self._guarded(lambda _: self._queue_history())(None)
        if now < self._state_due:
            return
        self._state_due = now + STATE_EVERY_S
        self._guarded(lambda _: self._queue_state())(None)

    def _connect(self, signal: Signal[T], slot: Callable[[T], object]) -> None:
        guarded = self._guarded(slot)
        signal.connect(guarded)
        self._slots.append((signal, guarded))

    def _guarded(self, slot: Callable[[T], object]) -> Callable[[T], None]:
        def run(value: T) -> None:
            try:
                slot(value)
            except Exception as exc:  # a view's failure must never reach the core
                self.errors += 1
                if self.errors == 1:
                    self._note(f"publishing error (recording goes on): {type(exc).__name__}: {exc}")
        return run

    def _next_seq(self, kind: Kind) -> int:
        self._seq[kind] += 1
        return self._seq[kind]

    def _queue_state(self) -> None:
        assert self._procedure is not None
        self.queue.put_state(state_of(self._procedure, self.who, 0, time.time()))

    def _queue_history(self) -> None:
        assert self._procedure is not None
        history = history_of(self._procedure, self.who, 0, time.time(), step_s=HISTORY_STEP_S,
                             window_s=HISTORY_WINDOW_S)
        if history is None:
            self._history_due = 0.0  # no reading yet: try again at the next tick
        else:
            self.queue.put_history(history)

    def _on_readings(self, points: dict[Limb, NewPoints]) -> None:
        assert self._procedure is not None
        ends = [float(p.t[-1]) for p in points.values() if len(p.t)]
        if not ends:
            return
        newest = max(ends)
        if self._next_second is None or newest - self._next_second > self._readings_max:
            # From the newest second on: a resumed file's history is not replayed onto the wire.
            self._next_second = float(math.floor(newest))
        while self._next_second <= newest:
            second = self._next_second
            self.queue.put_reading(readings_at(self._procedure, self.who, self._next_seq(Kind.READINGS), second))
            self._next_second = second + 1.0

    def _on_verdict(self, snap: PipelineSnapshot) -> None:
        assert self._procedure is not None
        p = self._procedure
        now = snap.now_s if snap.now_s is not None else p.now()
        self.queue.put_event(VerdictChange(self.run_id, self._next_seq(Kind.VERDICT), round(max(0.0, now), 3),
                                           snap.attempt, verdict_of(p, snap.verdict), iso_utc(time.time())))
        self._queue_state()

    def _on_alarms(self, change: AlarmChange) -> None:
        assert self._procedure is not None
        p = self._procedure
        active = {a.condition.key: a.condition for a in change.active}
        for key in change.raised:
            cond = active.get(key)
            if cond is not None:
                self._conditions[key] = cond
                self.queue.put_event(alarm_event(p, self.who, self._next_seq(Kind.ALARMS), "start", cond, None,
                                                 time.time()))
        if change.ended:
            for key in change.ended:
                cond = self._conditions.pop(key, None)
                if cond is not None:
                    # The end time the core stored (data-timed), so the central and the file agree.
                    end_s = change.ended_at.get(key, p.now())
                    self.queue.put_event(alarm_event(p, self.who, self._next_seq(Kind.ALARMS), "end", cond, end_s,
                                                     time.time()))
        self._queue_state()  # also an acknowledgement: the list's "acknowledged" flags

    def _on_markers(self, markers: list[Marker]) -> None:
        assert self._procedure is not None
        listed = marker_list(self._procedure, markers, self.config.share_patient_id)
        self.queue.put_event(Markers(self.run_id, self._next_seq(Kind.MARKERS), listed, iso_utc(time.time())))
        self._queue_state()

    def _on_finished(self, reason: str) -> None:
        self._queue_state()
        self._queue_history()  # retained: the whole last hour for a central that starts later
        self.queue.put_event(self._status(False, "session finished"))

    # ---- the network's side ----------------------------------------------------------------
    def _status(self, online: bool, reason: str) -> Status:
        simulated = self._procedure.info.simulated if self._procedure is not None else False
        return Status(self.who.site, self.who.room, self.who.bed, online, self.config.client_id, _software(),
                      simulated, reason, iso_utc(time.time()))

    def start(self) -> StationPublisher:
        """Connect in the background (retrying while the broker is away) and start sending."""
        import paho.mqtt.client as mqtt
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        cfg = self.config
        address = cfg.address
        context = cfg.ssl_context()
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cfg.client_id, protocol=mqtt.MQTTv5)
        if context is not None:
            client.tls_set_context(context)
        if cfg.username:
            client.username_pw_set(cfg.username, cfg.password or None)
        will = self._status(False, "connection lost (the broker's will)")
        client.will_set(topic(cfg.site, cfg.room, Kind.STATUS), encode(will), qos=QOS, retain=True)
        client.max_inflight_messages_set(20)
        client.max_queued_messages_set(0)  # bounded here, by MAX_UNACKED
        client.reconnect_delay_set(1, 8)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_connect_fail = self._on_connect_fail
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        self._client = client
        client.connect_async(address.host, address.port, keepalive=KEEPALIVE_S, clean_start=False,
                             properties=props)
        client.loop_start()
        self._sender = threading.Thread(target=self._send_loop, name="mqtt-station-sender", daemon=True)
        self._sender.start()
        self._note(f"publishing {cfg.describe()}")
        return self

    def _can_send(self) -> bool:
        return self._stopping or (self.connected and len(self._unacked) < MAX_UNACKED and len(self.queue) > 0)

    def _send_loop(self) -> None:
        while not self._stopping:
            if not self.queue.wait_until(self._can_send, 0.5) or self._stopping:
                continue
            message = self.queue.take()
            if message is not None:
                self._hand_over(message)

    def _hand_over(self, message: Message) -> None:
        kind = KIND_OF[type(message)]
        try:
            info = self._client.publish(topic(self.who.site, self.who.room, kind), encode(message), qos=QOS,
                                        retain=kind.retained)
        except (ValueError, TypeError) as exc:  # not sendable (cannot happen for a valid message): counted
            self.errors += 1
            self._note(f"a {kind} message could not be sent: {exc}")
            return
        with self.queue.changed:  # paho keeps it (also unconnected) until the broker acknowledges it
            if info.mid in self._acked_early:
                self._acked_early.discard(info.mid)
                self.acked[kind] += 1
            else:
                self._unacked.add(info.mid)
                self._mid_kind[info.mid] = kind

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            self._note(f"the broker refused the connection: {reason} (check the user name, password or certificate)")
            return
        self._note(f"connected to {self.config.address}" + (" (session resumed)" if flags.session_present else ""))
        # Online again (a will may have said otherwise while the network was away).
        info = client.publish(topic(self.who.site, self.who.room, Kind.STATUS),
                              encode(self._status(True, "publishing")), qos=QOS, retain=True)
        with self.queue.changed:
            self._unacked.add(info.mid)
            self._mid_kind[info.mid] = Kind.STATUS
            self.connected = True
            self.queue.changed.notify_all()

    def _on_connect_fail(self, client: Any, userdata: Any) -> None:
        self._note(f"cannot connect to {self.config.address} (retrying; recording goes on): is the broker running, "
                   "and is its certificate signed by the CA given (--mqtt-ca)?")

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        with self.queue.changed:
            was, self.connected = self.connected, False
        if was and not self._stopping:
            self._note(f"lost the broker ({reason}); recording goes on, messages wait (retrying)")

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        with self.queue.changed:
            if mid in self._unacked:
                self._unacked.discard(mid)
                kind = self._mid_kind.pop(mid, None)
            else:
                self._acked_early.add(mid)
                kind = None
            if getattr(reason, "is_failure", False):
                self.refused += 1
            elif kind is not None:
                self.acked[kind] += 1
            self.queue.changed.notify_all()
        if getattr(reason, "is_failure", False) and self.refused == 1:
            self._note(f"the broker refused a message ({reason}): is this station allowed to publish "
                       f"{self.who.site}/{self.who.room}? (the broker's ACL)")

    # ---- what front-ends read and do --------------------------------------------------------
    def _note(self, text: str) -> None:
        if text != self._last_note:  # a broker that refuses every retry is said once
            self._last_note = text
            self._notices.append(text)

    def notices(self) -> list[str]:
        """What happened to the connection since the last call, in words (no password)."""
        out = []
        while self._notices:
            out.append(self._notices.popleft())
        return out

    @property
    def pending(self) -> int:
        """Messages not yet acknowledged by the broker (queued, or handed to paho)."""
        with self.queue.changed:
            return len(self._unacked) + len(self.queue)

    def flush(self, timeout_s: float) -> bool:
        """Wait (not on the core's thread while recording) until the broker has everything; True if so."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.pending == 0:
                return True
            self.queue.wait_until(lambda: self.pending == 0, min(0.1, max(0.0, deadline - time.monotonic())))
        return self.pending == 0

    def close_in_background(self, timeout_s: float = CLOSE_WAIT_S) -> threading.Thread:
        """:meth:`close` on a thread of its own (a window must not wait on the network)."""
        closer = threading.Thread(target=self.close, args=(timeout_s,), name="mqtt-station-close", daemon=True)
        closer.start()
        return closer

    def close(self, timeout_s: float = CLOSE_WAIT_S) -> bool:
        """At the end: the last state and ``online: false`` go out (waiting up to ``timeout_s``
        for the broker), then a clean disconnect (no will). True if the broker took everything."""
        if self._closed:
            return True
        self._closed = True
        for signal, slot in self._slots:
            signal.disconnect(slot)
        self._slots.clear()
        if self._procedure is not None and not self._procedure.finished:
            self._queue_state()
            self._guarded(lambda _: self._queue_history())(None)
            self.queue.put_event(self._status(False, "publishing stopped"))
        delivered = self.flush(timeout_s) if self._client is not None else False
        self._stopping = True
        self.queue.notify()
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
        if self._sender is not None:
            self._sender.join(2.0)
        return delivered
