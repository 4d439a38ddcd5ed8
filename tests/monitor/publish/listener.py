"""A central's side for the tests: a paho client that subscribes and keeps what arrives."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from monitor.publish.messages import Kind, parse_topic, validate


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retain: bool

    @property
    def kind(self) -> Kind:
        return parse_topic(self.topic).kind

    @property
    def room(self) -> str:
        return parse_topic(self.topic).room

    @property
    def body(self) -> dict:
        return json.loads(self.payload)


class Listener:
    """Subscribes ``topic_filter`` at QoS 1 as ``user`` with a persistent session (clean start off)."""

    def __init__(self, broker, *, user: str = "central", topic_filter: str = "sympatherm/v1/#",
                 client_id: str = "test-central", port: int | None = None) -> None:
        from tests.support.mosquitto import USERS

        self.received: list[Received] = []
        self.lock = threading.Condition()
        self.connected = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.tls_set(ca_certs=broker.ca_file)
        self.client.username_pw_set(user, USERS[user])
        self.client.reconnect_delay_set(0.2, 1)
        self.filter = topic_filter
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = lambda *a: self.connected.clear()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        self.client.connect_async("localhost", port or broker.port, keepalive=5, clean_start=False, properties=props)
        self.client.loop_start()
        assert self.connected.wait(10), "the test's central could not connect"

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        if not reason.is_failure:
            client.subscribe(self.filter, qos=1)
            self.connected.set()

    def _on_message(self, client, userdata, msg) -> None:
        with self.lock:
            self.received.append(Received(msg.topic, bytes(msg.payload), bool(msg.retain)))
            self.lock.notify_all()

    def of(self, kind: Kind | str, room: str | None = None) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.kind == Kind(kind) and (room is None or r.room == room)]

    def wait_for(self, ready: Callable[[], bool], timeout_s: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout_s
        with self.lock:
            while not ready():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.lock.wait(min(left, 0.1))
        return True

    def validate_all(self) -> int:
        """Every message received matches its kind's JSON Schema; returns how many."""
        with self.lock:
            got = list(self.received)
        for r in got:
            validate(r.kind, r.body)
        return len(got)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
