"""The central's one link to the broker: paho-mqtt on its own network thread, nothing else.

A persistent session (a stable client id, clean session off) and QoS 1 subscriptions, so a
central that was away is handed what it missed when it comes back; it subscribes again on
every connect, so the broker hands it every room's retained status and state too. Messages are
only queued here (thread-safe); :class:`monitor.central.model.CentralModel` takes them on its
own thread, so nothing the network thread does can touch a view.
"""

from __future__ import annotations

import queue
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from monitor.publish import messages as wire

KEEPALIVE_S = 5
RECONNECT_DELAY_S = (1, 8)
# How long the broker keeps the central's session (its subscription and what queues for it)
# while the central is away: a working day.
SESSION_EXPIRY_S = 12 * 3600


@dataclass(frozen=True)
class BrokerSettings:
    """How the central reaches the broker (``tls``: verify the broker's certificate)."""

    host: str
    port: int
    tls: bool = True
    ca_file: Path | None = None
    username: str | None = None
    password: str | None = None
    client_id: str = "sympatherm-central"
    site: str = "+"  # the site whose rooms to show; "+": every site on the broker
    cert_file: Path | None = None
    key_file: Path | None = None

    def describe(self) -> str:
        scheme = "mqtts" if self.tls else "mqtt"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    def ssl_context(self) -> ssl.SSLContext | None:
        """A context that verifies the broker's certificate and host name (None without TLS);
        OSError or ssl.SSLError when a certificate file cannot be read."""
        if not self.tls:
            return None
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        if self.cert_file is not None:
            context.load_cert_chain(str(self.cert_file), str(self.key_file) if self.key_file else None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context


@dataclass(frozen=True)
class Incoming:
    """One message as it arrived: topic, raw bytes, retained flag, the central's clock then."""

    topic: str
    payload: bytes
    retained: bool
    received_s: float


@dataclass(frozen=True)
class LinkChange:
    """The central's own link to the broker came up (``connected``) or went, in words."""

    connected: bool
    words: str
    received_s: float


class CentralConnection:
    """Subscribes to every room; queues what arrives for the model's thread to take."""

    def __init__(self, settings: BrokerSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._clock = clock
        self.inbox: queue.SimpleQueue[Incoming | LinkChange] = queue.SimpleQueue()
        self.wake: Callable[[], None] | None = None  # called (network thread) when something arrived
        self._client = self._make_client(settings)
        self._started = threading.Event()
        self._refused: str | None = None

    def _make_client(self, s: BrokerSettings) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=s.client_id, protocol=mqtt.MQTTv5)
        context = s.ssl_context()
        if context is not None:
            client.tls_set_context(context)
        if s.username is not None:
            client.username_pw_set(s.username, s.password)
        client.reconnect_delay_set(*RECONNECT_DELAY_S)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_connect_fail = self._on_connect_fail
        return client

    # ---- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background (and keep reconnecting); returns at once."""
        if self._started.is_set():
            return
        self._started.set()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        # clean_start False: the persistent session, so what came while the central was away waits.
        self._client.connect_async(self.settings.host, self.settings.port, keepalive=KEEPALIVE_S,
                                   clean_start=False, properties=props)
        self._client.loop_start()

    def stop(self) -> None:
        if not self._started.is_set():
            return
        self._client.disconnect()
        self._client.loop_stop()
        self._started.clear()

    # ---- paho's callbacks (network thread) ------------------------------------------------
    def _on_connect(self, client: mqtt.Client, _userdata: object, flags: mqtt.ConnectFlags,
                    reason: mqtt.ReasonCode, _props: object = None) -> None:
        if reason.is_failure:
            self._refused = f"the broker refused the central: {reason}"
            self._post(LinkChange(False, self._refused, self._clock()))
            return
        self._refused = None
        client.subscribe(wire.subscription(self.settings.site), qos=wire.QOS)
        resumed = " (its session kept what was missed)" if flags.session_present else ""
        self._post(LinkChange(True, f"connected to {self.settings.describe()}{resumed}", self._clock()))

    def _on_disconnect(self, _client: mqtt.Client, _userdata: object, _flags: object,
                       reason: mqtt.ReasonCode, _props: object = None) -> None:
        words = "disconnected" if not reason.is_failure else f"link to the broker lost ({reason})"
        # After a refusal the disconnect that follows is no news: the refusal is what to say.
        self._post(LinkChange(False, self._refused or words, self._clock()))

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: object) -> None:
        self._post(LinkChange(False, f"cannot reach the broker at {self.settings.describe()}", self._clock()))

    def _on_message(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        self._post(Incoming(msg.topic, bytes(msg.payload), bool(msg.retain), self._clock()))

    def _post(self, item: Incoming | LinkChange) -> None:
        self.inbox.put(item)
        if self.wake is not None:
            self.wake()
