"""Bluetooth LE thermometers (bleak): Health Thermometer (0x1809) or Environmental Sensing (0x181A).

One device per foot, or one device with two temperature channels (two Health Thermometer
service instances, or two ESS Temperature characteristics), channel 0 = left unless the
device registry says otherwise. Which device is which foot is the user's choice: the
addresses given (left first), or the side assignments in the device registry.

For each device the source scans for its address, connects, reads the Temperature Type
(0x2A1D), subscribes to Temperature Measurement indications (0x2A1C) and Intermediate
Temperature notifications (0x2A1E) (or ESS Temperature 0x2A6E), and parses them with
``firmware_protocol.ble``. Temperature Measurements are the readings; Intermediate
Temperature values (display values while a measurement is in progress, per the HTS spec)
stand in only while no measurements arrive, so a device sending both never gives two
readings per sample. bleak has no reconnect of its own: on an unsolicited
disconnection the source rescans by address and connects again, with backoff.

Where the computer has no Bluetooth (no adapter, no BlueZ or D-Bus: bleak raises a bare
``FileNotFoundError`` from dbus-fast, ``BleakBluetoothNotAvailableError`` or
``BleakDBusError``) the state says "Bluetooth is not available on this computer".

bleak runs on the source's own asyncio loop in a worker thread. ``scanner_backend`` and
``client_backend`` are bleak's ``backend=`` classes (None: the platform's own).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner
from bleak.exc import BleakBluetoothNotAvailableError, BleakDBusError, BleakError

from firmware_protocol.ble import (
    ENVIRONMENTAL_SENSING_SERVICE,
    ESS_TEMPERATURE,
    HEALTH_THERMOMETER_SERVICE,
    INTERMEDIATE_TEMPERATURE,
    MEASUREMENT_INTERVAL,
    TEMPERATURE_MEASUREMENT,
    TEMPERATURE_TYPE,
    MalformedValueError,
    parse_ess_temperature,
    parse_measurement_interval,
    parse_temperature_measurement,
    parse_temperature_type,
)
from firmware_protocol.thermistor import Calibration
from monitor.clock import MonotonicClock, SessionClock
from monitor.model import VALID_RANGE_C, ConnectionState, Limb, ProbeStatus, Reading
from monitor.sources.base import DeviceIdentity, ProbeSource

if TYPE_CHECKING:
    from monitor.sources.registry import DeviceRegistry

BLUETOOTH_UNAVAILABLE = "Bluetooth is not available on this computer"
THERMOMETER_SERVICES = (HEALTH_THERMOMETER_SERVICE, ENVIRONMENTAL_SENSING_SERVICE)
DEFAULT_BACKOFF_S: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0)
UNAVAILABLE_RETRY_S = 10.0  # an adapter may be plugged in later: look again now and then
# Intermediate Temperature values stand in for a channel's measurements only when no
# Temperature Measurement has come for this long (or for 2.5 Measurement Intervals, if longer).
FINAL_STALE_S = 5.0
ESS_POLL_S = 1.0  # an ESS Temperature that can only be read is read this often
SITE_NAMES = {1: "armpit", 2: "body", 3: "ear", 4: "finger", 5: "GI tract", 6: "mouth", 7: "rectum",
              8: "toe", 9: "tympanum"}


def is_bluetooth_unavailable(exc: BaseException) -> bool:
    """True for the errors bleak raises when this computer has no usable Bluetooth."""
    return isinstance(exc, FileNotFoundError | BleakBluetoothNotAvailableError | BleakDBusError)


def scanner_args(backend: type[BaseBleakScanner] | None = None,
                 service_uuids: Sequence[str] = ()) -> BleakScanner.ExtraArgs:
    """The keyword arguments of a BleakScanner call: ``backend`` only when one is given
    (None: the platform's own), ``service_uuids`` only when some are."""
    args: BleakScanner.ExtraArgs = {}
    if backend is not None:
        args["backend"] = backend
    if service_uuids:
        args["service_uuids"] = list(service_uuids)
    return args


def ble_key(address: str) -> str:
    """The device registry key of a BLE device (``DeviceIdentity.key``)."""
    return DeviceIdentity("ble", address, device_id=address.upper()).key


def _setter(event: asyncio.Event) -> Callable[[BleakClient], None]:
    """A disconnected callback that sets ``event`` (one event per connection attempt)."""
    return lambda _client: event.set()


class _NotFound(Exception):
    pass


class _Unusable(Exception):
    pass


@dataclass
class _Link:
    """One BLE device and what we know about it."""

    address: str
    position: int  # index among the addresses given (0 = the left foot when two were given)
    name: str = ""
    channels: int = 0
    limbs: tuple[Limb | None, ...] = ()
    sites: dict[int, int] = field(default_factory=dict)  # channel -> temperature type code
    calibrations: dict[int, Calibration] = field(default_factory=dict)  # channel -> its calibration
    interval_s: int | None = None
    last_final_at: dict[int, float] = field(default_factory=dict)  # channel -> when the last 0x2A1C came
    final_spacing_s: dict[int, float] = field(default_factory=dict)  # channel -> time between the last two
    polls: list[asyncio.Task[None]] = field(default_factory=list)  # reading read-only ESS temperatures
    last_delivered_at: dict[int, float] = field(default_factory=dict)  # channel -> when the last reading came
    connected: bool = False
    client: BleakClient | None = None

    @property
    def key(self) -> str:
        return ble_key(self.address)

    def describe(self) -> str:
        feet = [str(limb) for limb in self.limbs if limb is not None]
        where = f"{' and '.join(feet)} foot " if feet else ""
        return f"{where}thermometer {self.name or self.address}".strip()


class BleSource(ProbeSource):
    """Bluetooth LE thermometers for one or both feet.

    ``addresses``: one or two device addresses, left foot first (a single two-channel device
    covers both feet); ``swap_sides=True`` says the user swapped them (or, for a two-channel
    device, that channel 0 is the right foot), and is remembered in the registry. With none,
    the source scans for thermometers and uses those the device registry has placed on a
    foot (or the only one found). ``intermediate_stale_s``: how long after a channel's last
    Temperature Measurement its Intermediate Temperature values stand in again.
    """

    def __init__(self, *addresses: str, clock: SessionClock | None = None, registry: DeviceRegistry | None = None,
                 scan_timeout_s: float = 10.0, connect_timeout_s: float = 20.0,
                 backoff_s: Sequence[float] = DEFAULT_BACKOFF_S, swap_sides: bool | None = None,
                 scanner_backend: type[BaseBleakScanner] | None = None,
                 client_backend: type[BaseBleakClient] | None = None,
                 intermediate_stale_s: float = FINAL_STALE_S, ess_poll_s: float = ESS_POLL_S) -> None:
        super().__init__(clock if clock is not None else MonotonicClock())
        if len(addresses) > 2:
            raise ValueError("give at most two Bluetooth addresses: the left foot's, then the right foot's")
        if not backoff_s or any(d <= 0 for d in backoff_s):
            raise ValueError("backoff delays must be positive")
        self.addresses = tuple(a.strip().upper() for a in addresses if a.strip())
        self.swap_sides = swap_sides
        if swap_sides and len(self.addresses) == 2:
            self.addresses = self.addresses[::-1]
        self.scan_timeout_s = scan_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.backoff_s = tuple(backoff_s)
        self.intermediate_stale_s = float(intermediate_stale_s)
        self.ess_poll_s = float(ess_poll_s)
        self._scanner_backend = scanner_backend
        self._client_backend = client_backend
        self._registry = registry
        self._links: list[_Link] = [_Link(a, i) for i, a in enumerate(self.addresses)]
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self.reconnections = 0
        #: Intermediate Temperature values received, and those not delivered because the same
        #: channel's Temperature Measurements were arriving (see ``_intermediate_stands_in``).
        self.intermediate_readings = 0
        self.intermediate_ignored = 0
        self._identity = self._make_identity()

    # ---- ProbeSource -------------------------------------------------------------------
    @property
    def identity(self) -> DeviceIdentity:
        return self._identity

    def devices(self) -> list[DeviceIdentity]:
        return [DeviceIdentity("ble", ln.name or ln.address, device_id=ln.address.upper(), channels=ln.channels or 1)
                for ln in self._links if ln.connected or ln.channels]

    @property
    def sites(self) -> dict[str, dict[int, str]]:
        """Temperature type each device reports per channel, e.g. {"AA:..": {0: "toe"}}."""
        return {ln.address: {ch: SITE_NAMES.get(code, f"type {code}") for ch, code in ln.sites.items()}
                for ln in self._links}

    def _start(self) -> None:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._thread_main, args=(ready,), name="ble-source", daemon=True)
        self._thread.start()
        ready.wait(5.0)

    def _stop(self) -> None:
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(timeout=10.0)
            self._thread = None

    # ---- the worker's event loop ------------------------------------------------------------
    def _thread_main(self, ready: threading.Event) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stopping = asyncio.Event()
            self._connect_lock = asyncio.Lock()
            ready.set()
            await self._run()

        try:
            asyncio.run(main())
        except Exception as exc:  # noqa: BLE001 - the worker must end with a state, never a traceback
            self._set_state(ConnectionState.LOST, f"Bluetooth stopped working: {exc}")
        finally:
            ready.set()

    async def _run(self) -> None:
        assert self._stopping is not None
        work = asyncio.create_task(self._work())
        stop = asyncio.create_task(self._stopping.wait())
        await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
        if work.done() and not work.cancelled() and work.exception() is not None:
            self._set_state(ConnectionState.LOST, f"Bluetooth stopped working: {work.exception()}")
        await self._stopping.wait()
        # Stopping: end scans and connection attempts at once, then leave the devices politely.
        work.cancel()
        stop.cancel()
        await asyncio.gather(work, stop, return_exceptions=True)
        for link in self._links:
            self._cancel_polls(link)
            client = link.client
            if client is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.disconnect(), 5.0)

    async def _work(self) -> None:
        if not self._links:
            await self._select_devices()
            if not self._links:
                return
        await asyncio.gather(*(self._link_loop(link) for link in self._links))

    async def _sleep_or_stop(self, seconds: float) -> bool:
        """Wait ``seconds``; True if the source is being stopped."""
        assert self._stopping is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        return self._stopping.is_set()

    async def _select_devices(self) -> None:
        """No addresses given: scan, and take the thermometers the registry placed on a foot."""
        assert self._stopping is not None
        failures = 0
        while not self._stopping.is_set():
            self._set_state(ConnectionState.CONNECTING, "looking for Bluetooth thermometers")
            try:
                found = await BleakScanner.discover(
                    timeout=self.scan_timeout_s, return_adv=True,
                    **scanner_args(self._scanner_backend, THERMOMETER_SERVICES))
            except Exception as exc:  # noqa: BLE001 - classified below, reported in plain words
                delay = self._failure_delay(exc, failures)
                failures += 1
                if await self._sleep_or_stop(delay):
                    return
                continue
            registry = self._get_registry()
            devices = sorted(found.values(), key=lambda d: d[0].address)
            placed = [(d, registry.side(ble_key(d.address))) for d, _ in devices]
            placed = [(d, side) for d, side in placed if side is not None]
            if placed:
                placed.sort(key=lambda p: 0 if p[1] is Limb.LEFT else 1)
                self._links = [_Link(d.address.upper(), i, d.name or "") for i, (d, _) in enumerate(placed[:2])]
            elif len(devices) == 1:
                d = devices[0][0]
                self._links = [_Link(d.address.upper(), 0, d.name or "")]
            elif devices:
                names = ", ".join(d.name or d.address for d, _ in devices)
                self._set_state(ConnectionState.CONNECTING,
                                f"found {len(devices)} Bluetooth thermometers ({names}): choose which foot each is on")
            else:
                self._set_state(ConnectionState.CONNECTING, "no Bluetooth thermometer found yet; still looking")
            if self._links:
                self._identity = self._make_identity()
                return
            if await self._sleep_or_stop(self.backoff_s[min(failures, len(self.backoff_s) - 1)]):
                return

    async def _link_loop(self, link: _Link) -> None:
        assert self._stopping is not None
        failures = 0
        ever_connected = False
        while not self._stopping.is_set():
            disconnected = asyncio.Event()
            try:
                # One scan-and-connect at a time: adapters refuse a second pending connection.
                async with self._connect_lock:
                    device = await BleakScanner.find_device_by_address(
                        link.address, timeout=self.scan_timeout_s, **scanner_args(self._scanner_backend))
                    if device is None:
                        raise _NotFound(f"{link.describe()} not found (switched off or out of range?)")
                    link.name = link.name or device.name or ""
                    client = BleakClient(device, disconnected_callback=_setter(disconnected),
                                         timeout=self.connect_timeout_s, backend=self._client_backend)
                    link.client = client
                    await client.connect()
                    await self._subscribe(link, client)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - classified below, reported in plain words
                await self._drop_client(link)
                delay = self._failure_delay(exc, failures, link)
                failures += 1
                if await self._sleep_or_stop(delay):
                    return
                continue
            failures = 0
            link.connected = True
            if ever_connected:
                self.reconnections += 1
            ever_connected = True
            self._update_streaming_state()
            stop_wait = asyncio.create_task(self._stopping.wait())
            lost_wait = asyncio.create_task(disconnected.wait())
            await asyncio.wait({stop_wait, lost_wait}, return_when=asyncio.FIRST_COMPLETED)
            stop_wait.cancel()
            lost_wait.cancel()
            self._cancel_polls(link)
            link.connected = False
            if self._stopping.is_set():
                return
            link.client = None
            self._set_state(ConnectionState.LOST, f"Bluetooth link to the {link.describe()} lost")
            self._set_state(ConnectionState.RECONNECTING, f"reconnecting to the {link.describe()}")

    async def _drop_client(self, link: _Link) -> None:
        self._cancel_polls(link)
        client, link.client = link.client, None
        link.connected = False
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), 5.0)

    def _failure_delay(self, exc: BaseException, failures: int, link: _Link | None = None) -> float:
        delay = self.backoff_s[min(failures, len(self.backoff_s) - 1)]
        waiting = self._waiting_state()
        if is_bluetooth_unavailable(exc):
            self._set_state(waiting, BLUETOOTH_UNAVAILABLE)
            return max(delay, UNAVAILABLE_RETRY_S)
        what = link.describe() if link is not None else "Bluetooth thermometers"
        if isinstance(exc, _NotFound | _Unusable):
            why = str(exc)
        elif isinstance(exc, TimeoutError):
            why = f"connecting to the {what} timed out"
        elif isinstance(exc, BleakError):
            why = f"could not connect to the {what} ({exc})"
        else:
            why = f"Bluetooth trouble with the {what} ({type(exc).__name__}: {exc})"
        self._set_state(waiting, f"{why}; trying again in {delay:g} s")
        return delay

    def _waiting_state(self) -> ConnectionState:
        return ConnectionState.RECONNECTING if self.state in (
            ConnectionState.LOST, ConnectionState.RECONNECTING, ConnectionState.STREAMING) else ConnectionState.CONNECTING

    def _update_streaming_state(self) -> None:
        if all(link.connected for link in self._links):
            names = "; ".join(link.describe() for link in self._links)
            self._set_state(ConnectionState.STREAMING, f"streaming from {names}")
        else:
            waiting = [link.describe() for link in self._links if not link.connected]
            self._set_state(self._waiting_state(), f"waiting for the {' and '.join(waiting)}")

    # ---- services, characteristics, values ----------------------------------------------------
    async def _subscribe(self, link: _Link, client: BleakClient) -> None:
        services = sorted(client.services, key=lambda s: s.handle)
        link.last_final_at.clear()  # a new connection: intermediate values lead until a measurement comes
        link.final_spacing_s.clear()
        hts = [s for s in services if s.uuid == HEALTH_THERMOMETER_SERVICE]
        if hts:
            link.channels = len(hts)
            self._assign_limbs(link)
            for channel, service in enumerate(hts):
                kind = service.get_characteristic(TEMPERATURE_TYPE)
                if kind is not None:
                    with contextlib.suppress(BleakError, MalformedValueError):
                        link.sites[channel] = parse_temperature_type(bytes(await client.read_gatt_char(kind)))
                interval = service.get_characteristic(MEASUREMENT_INTERVAL)
                if interval is not None and "read" in interval.properties:
                    with contextlib.suppress(BleakError, MalformedValueError):
                        link.interval_s = parse_measurement_interval(bytes(await client.read_gatt_char(interval)))
                measurement = service.get_characteristic(TEMPERATURE_MEASUREMENT)
                intermediate = service.get_characteristic(INTERMEDIATE_TEMPERATURE)
                if measurement is None and intermediate is None:
                    continue
                if measurement is not None:
                    await client.start_notify(measurement, functools.partial(self._on_hts, link, channel, False))
                if intermediate is not None:
                    await client.start_notify(intermediate, functools.partial(self._on_hts, link, channel, True))
            return
        ess_chars = [c for s in services if s.uuid == ENVIRONMENTAL_SENSING_SERVICE
                     for c in sorted(s.characteristics, key=lambda c: c.handle) if c.uuid == ESS_TEMPERATURE]
        if ess_chars:
            link.channels = len(ess_chars)
            self._assign_limbs(link)
            for channel, char in enumerate(ess_chars):
                on_value = functools.partial(self._on_ess, link, channel)
                if "notify" in char.properties or "indicate" in char.properties:
                    await client.start_notify(char, on_value)
                elif "read" in char.properties:
                    # Some sensors only let their temperature be read: ask for it regularly.
                    link.polls.append(asyncio.create_task(self._poll(client, char, on_value)))
                else:
                    raise _Unusable(f"the {link.describe()}'s temperature can be neither read nor subscribed to")
            return
        raise _Unusable(f"{link.address} offers no Health Thermometer or Environmental Sensing temperature")

    async def _poll(self, client: BleakClient, char: BleakGATTCharacteristic,
                    on_value: Callable[[BleakGATTCharacteristic, bytearray], None]) -> None:
        while True:
            try:
                data = await client.read_gatt_char(char)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the link went: the link loop reports it and reconnects
                return
            on_value(char, data)
            await asyncio.sleep(self.ess_poll_s)

    @staticmethod
    def _cancel_polls(link: _Link) -> None:
        for task in link.polls:
            task.cancel()
        link.polls.clear()

    def _assign_limbs(self, link: _Link) -> None:
        """Which foot each channel is: the order of the addresses given, else the registry."""
        registry = self._get_registry()
        identity = DeviceIdentity("ble", link.name or link.address, device_id=link.address, channels=link.channels)
        with contextlib.suppress(OSError, ValueError):
            registry.remember(identity)
        if link.channels == 1:
            side = registry.side(link.key)
            if not self.addresses and side is None:
                # Found by scanning, and nobody said which foot it is on: do not guess.
                raise _Unusable(f"choose which foot the {link.describe()} is on")
            if len(self.addresses) == 2 or side is None:
                side = (Limb.LEFT, Limb.RIGHT)[link.position]
                if len(self.addresses) == 2:  # the user just said which foot: remember it
                    with contextlib.suppress(OSError, ValueError):
                        registry.assign_side(link.key, side)
            link.limbs = (side,)
        else:
            if self.swap_sides is not None and link.channels == 2:
                with contextlib.suppress(OSError, ValueError):
                    registry.assign_side(link.key, Limb.RIGHT if self.swap_sides else Limb.LEFT, channel=0)
            link.limbs = registry.channel_limbs(link.key, link.channels)
        link.calibrations = {ch: cal for ch in range(link.channels)
                             if (cal := registry.calibration(link.key, ch)) is not None}
        self._identity = self._make_identity()

    def _on_hts(self, link: _Link, channel: int, intermediate: bool, _char: BleakGATTCharacteristic,
                data: bytearray) -> None:
        now, wall = self.clock.now(), self.clock.wall()
        try:
            m = parse_temperature_measurement(bytes(data))
        except MalformedValueError:
            self.malformed_frames += 1
            return
        if m.site is not None:
            link.sites[channel] = m.site
        if intermediate:
            self.intermediate_readings += 1
            if not self._intermediate_stands_in(link, channel, now):
                self.intermediate_ignored += 1
                return
        else:
            last = link.last_final_at.get(channel)
            if last is not None:
                link.final_spacing_s[channel] = now - last
            link.last_final_at[channel] = now
        self._deliver(link, channel, m.celsius, m.special, now, wall)

    def _intermediate_stands_in(self, link: _Link, channel: int, now: float) -> bool:
        """Whether an Intermediate Temperature value is delivered as this channel's reading.

        The Health Thermometer spec makes Intermediate Temperature a display value while a
        measurement is in progress; Temperature Measurement is the result. A device that
        sends both would otherwise give two near-identical readings per sample, so the
        measurements lead, and intermediate values fill in only where they do not: before
        the first measurement on a connection, for devices that send none, when measurements
        stop for longer than ``intermediate_stale_s`` or 2.5 Measurement Intervals, and when
        they are too sparse to follow the skin (a Measurement Interval, or else the spacing
        seen, longer than ``intermediate_stale_s``: e.g. one a minute with intermediate values
        every second).
        """
        last = link.last_final_at.get(channel)
        if last is None:
            return True
        cadence = link.interval_s or link.final_spacing_s.get(channel)
        if cadence is not None and cadence > self.intermediate_stale_s:
            return True
        return now - last > max(self.intermediate_stale_s, 2.5 * (link.interval_s or 0))

    def _on_ess(self, link: _Link, channel: int, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        now, wall = self.clock.now(), self.clock.wall()
        try:
            celsius = parse_ess_temperature(bytes(data))
        except MalformedValueError:
            self.malformed_frames += 1
            return
        self._deliver(link, channel, celsius, "not known" if math.isnan(celsius) else None, now, wall)

    def _deliver(self, link: _Link, channel: int, celsius: float, special: str | None, now: float,
                 wall: float) -> None:
        limb = link.limbs[channel] if channel < len(link.limbs) else None
        if limb is None:
            return
        self._count_missed(link, channel, now)
        if not math.isfinite(celsius):
            # NaN, NRes, "not known": no valid reading. An infinity is a value off the scale.
            status = ProbeStatus.OUT_OF_RANGE if special in ("+INF", "-INF") else ProbeStatus.NOT_ATTACHED
            value = None
        else:
            value = round(celsius, 3)
            status = ProbeStatus.OK if VALID_RANGE_C[0] <= value <= VALID_RANGE_C[1] else ProbeStatus.OUT_OF_RANGE
            calibration = link.calibrations.get(channel)
            if calibration is not None and status is ProbeStatus.OK:
                value = round(calibration.apply(value), 3)
        self._emit(Reading(limb, value, status, now, wall, source=link.key))

    def _count_missed(self, link: _Link, channel: int, now: float) -> None:
        """Lost frames, as far as BLE can tell: it has no sequence numbers, but a device that
        states its Measurement Interval makes a missing measurement visible as a gap (during a
        lost link too, as the serial source counts frames missed while unplugged)."""
        last = link.last_delivered_at.get(channel)
        link.last_delivered_at[channel] = now
        interval = link.interval_s
        if last is not None and interval and now - last > 1.5 * interval:
            self.lost_frames += round((now - last) / interval) - 1

    # ---- identity and registry ---------------------------------------------------------------
    def _get_registry(self) -> DeviceRegistry:
        if self._registry is None:
            from monitor.sources.registry import DeviceRegistry

            self._registry = DeviceRegistry()
        return self._registry

    def _make_identity(self) -> DeviceIdentity:
        if not self._links:
            return DeviceIdentity("ble", "Bluetooth thermometers (searching)", device_id="")
        if len(self._links) == 1:
            link = self._links[0]
            return DeviceIdentity("ble", f"Bluetooth thermometer {link.name or link.address}",
                                  device_id=link.address, channels=max(link.channels, 1))
        left, right = self._links
        return DeviceIdentity("ble", f"Bluetooth thermometers {left.name or left.address} (left) and "
                                     f"{right.name or right.address} (right)",
                              device_id=f"{left.address}+{right.address}", channels=2)
