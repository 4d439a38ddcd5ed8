"""The simulated patient as Bluetooth LE Health Thermometers, on bumble's in-process link.

No hardware and no root: :class:`VirtualRadio` runs bumble's ``LocalLink`` (the "air")
in its own thread and event loop, as BlueZ runs in its own process. On it,
:class:`SimulatedThermometer` is a complete BLE peripheral: it advertises the Health
Thermometer service (0x1809), serves Temperature Measurement (0x2A1C, indicate),
Temperature Type (0x2A1D, read: toe), Intermediate Temperature (0x2A1E, notify) and
Measurement Interval (0x2A21, read), encoded by ``firmware_protocol.ble``. One device per
foot, or one device with two service instances (left first).

The central side is a bumble device on the same link; :mod:`tests.support.bumble_bleak`
puts bleak's backend interface on it so that :class:`monitor.sources.ble.BleSource` runs
its production bleak code path against these peripherals. bumble is a test dependency:
import this module only in tests and demos.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import struct
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from bumble import gatt
from bumble.controller import Controller
from bumble.core import AdvertisingData
from bumble.device import Connection, Device
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from firmware_protocol.ble import (
    SITE_TOE,
    encode_ess_temperature,
    encode_measurement_interval,
    encode_temperature_measurement,
    encode_temperature_type,
)
from monitor.clock import SimulatedClock
from monitor.model import Limb, ProbeStatus
from monitor.simulation.physiology import PatientModel

T = TypeVar("T")

CENTRAL_ADDRESS = "F1:F1:F1:F1:F1:F1"


class VirtualRadio:
    """bumble's in-process BLE link, with its own event loop in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="virtual-radio", daemon=True)
        self._thread.start()
        self.link: LocalLink = self.run(self._make_link())
        self._central: Device | None = None
        self.peripherals: list[SimulatedThermometer] = []
        self._closed = False

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    async def _make_link(self) -> LocalLink:
        return LocalLink()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run ``coro`` on the radio's loop from another thread and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on the radio's loop from another event loop."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def new_device(self, address: str, name: str) -> Device:
        """A bumble device with its own controller on the link (call on the radio loop)."""
        controller = Controller(name, link=self.link, public_address=address)
        device = Device(address=Address(address), host=Host(controller, AsyncPipeSink(controller)))
        device.name = name
        return device

    async def central(self) -> Device:
        """The computer's side of the link (created and powered on once, on the radio loop)."""
        if self._central is None:
            self._central = self.new_device(CENTRAL_ADDRESS, "SympaTherm host")
            await self._central.power_on()
        return self._central

    def add_thermometer(self, address: str, name: str, model: PatientModel, limbs: tuple[Limb, ...],
                        clock: SimulatedClock, rate_hz: float = 1.0, **kwargs: Any) -> SimulatedThermometer:
        thermo = SimulatedThermometer(self, address, name, model, limbs, clock, rate_hz, **kwargs)
        self.run(thermo._start())
        self.peripherals.append(thermo)
        return thermo

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for thermo in self.peripherals:
            with contextlib.suppress(Exception):
                self.run(thermo._stop(), timeout=5.0)

        async def cancel_all() -> None:
            me = asyncio.current_task()
            tasks = [t for t in asyncio.all_tasks() if t is not me]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            self.run(cancel_all(), timeout=5.0)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5.0)
        if not self.loop.is_running():
            self.loop.close()

    def __enter__(self) -> VirtualRadio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SimulatedThermometer:
    """A BLE Health Thermometer peripheral sampling the patient model (one service per limb)."""

    def __init__(self, radio: VirtualRadio, address: str, name: str, model: PatientModel,
                 limbs: tuple[Limb, ...], clock: SimulatedClock, rate_hz: float = 1.0, *,
                 site: int = SITE_TOE, intermediate: bool = False, interval_s: int = 1,
                 service: str = "hts", time_offset_s: float = 0.0, measurement_every: int = 1,
                 ess_notify: bool = True) -> None:
        if not limbs:
            raise ValueError("a thermometer serves at least one limb")
        if service not in ("hts", "ess"):
            raise ValueError("service must be 'hts' (Health Thermometer) or 'ess' (Environmental Sensing)")
        self.radio = radio
        self.address = address
        self.name = name
        self.model = model
        self.limbs = limbs
        self.clock = clock
        self.rate_hz = rate_hz
        self.site = site
        self.intermediate = intermediate
        self.interval_s = interval_s
        self.service = service
        # Health Thermometer: indicate a Temperature Measurement every ``measurement_every``
        # samples (0: never, a device that only sends Intermediate Temperatures).
        if measurement_every < 0:
            raise ValueError("measurement_every must be 0 (never) or a positive number of samples")
        self.measurement_every = measurement_every
        # Environmental Sensing: notify the temperature (the usual), or only let it be read.
        self.ess_notify = ess_notify
        # The patient's time at the moment the clock reads 0 (lets a test start mid-procedure).
        self.time_offset_s = time_offset_s
        self.device: Device | None = None
        self._measurement: dict[Limb, gatt.Characteristic[bytes]] = {}
        self._intermediate: dict[Limb, gatt.Characteristic[bytes]] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._in_range = True
        #: Measurements indicated (or ESS values notified) to a subscribed central, per limb,
        #: and Intermediate Temperature values notified.
        self.sent: dict[Limb, int] = {limb: 0 for limb in limbs}
        self.sent_intermediate: dict[Limb, int] = {limb: 0 for limb in limbs}
        #: Samples taken while no central was connected (not sent to anyone).
        self.samples_unsent = 0
        self.connections_seen = 0

    # ---- control from the test thread --------------------------------------------------------
    def drop_link(self) -> None:
        """The link drops (interference, a body in the way); the thermometer keeps advertising."""
        self.radio.run(self._disconnect_all())

    def go_out_of_range(self) -> None:
        """Out of range: the link drops and the central hears no advertisements."""
        self._in_range = False
        self.radio.run(self._out_of_range())

    def come_back(self) -> None:
        self._in_range = True
        self.radio.run(self._advertise())

    @property
    def connected(self) -> bool:
        return bool(self.device is not None and self.device.connections)

    # ---- on the radio loop -----------------------------------------------------------------------
    async def _start(self) -> None:
        device = self.radio.new_device(self.address, self.name)
        if self.service == "ess":
            # Environmental Sensing: one Temperature characteristic (0x2A6E, notify) per limb.
            chars: list[gatt.Characteristic[bytes]] = []
            properties = gatt.Characteristic.Properties.READ
            if self.ess_notify:
                properties |= gatt.Characteristic.Properties.NOTIFY
            for limb in self.limbs:
                ch = gatt.Characteristic("2A6E", properties, gatt.Characteristic.READABLE,
                                         encode_ess_temperature(float("nan")))
                self._measurement[limb] = ch
                chars.append(ch)
            device.add_service(gatt.Service("181A", chars))
        for limb in self.limbs if self.service == "hts" else ():
            tm = gatt.Characteristic("2A1C", gatt.Characteristic.Properties.INDICATE,
                                     gatt.Characteristic.Permissions(0), b"")
            tt = gatt.Characteristic("2A1D", gatt.Characteristic.Properties.READ, gatt.Characteristic.READABLE,
                                     encode_temperature_type(self.site))
            it = gatt.Characteristic("2A1E", gatt.Characteristic.Properties.NOTIFY,
                                     gatt.Characteristic.Permissions(0), b"")
            mi = gatt.Characteristic("2A21", gatt.Characteristic.Properties.READ, gatt.Characteristic.READABLE,
                                     encode_measurement_interval(self.interval_s))
            device.add_service(gatt.Service("1809", [tm, tt, it, mi]))
            self._measurement[limb] = tm
            self._intermediate[limb] = it
        device.on("connection", self._on_connection)
        await device.power_on()
        self.device = device
        await self._advertise()
        self._task = asyncio.get_running_loop().create_task(self._sample())

    def _on_connection(self, connection: Connection) -> None:
        self.connections_seen += 1

    async def _advertise(self) -> None:
        assert self.device is not None
        data = bytes(AdvertisingData([
            (AdvertisingData.FLAGS, bytes([0x06])),
            (AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
             struct.pack("<H", 0x1809 if self.service == "hts" else 0x181A)),
            (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
        ]))
        # auto_restart: after a disconnection it advertises again, as thermometers do.
        await self.device.start_advertising(advertising_data=data, auto_restart=True,
                                            advertising_interval_min=20.0, advertising_interval_max=20.0)

    async def _disconnect_all(self) -> None:
        assert self.device is not None
        for connection in list(self.device.connections.values()):
            with contextlib.suppress(Exception):
                await connection.disconnect()

    async def _out_of_range(self) -> None:
        assert self.device is not None
        await self.device.stop_advertising()
        await self._disconnect_all()
        with contextlib.suppress(Exception):
            await self.device.stop_advertising()  # auto_restart may have restarted it

    async def _sample(self) -> None:
        device = self.device
        assert device is not None  # powered on before sampling starts
        n = 0
        # The flag, not only the cancellation, ends the loop: asyncio.wait_for on Python 3.11 can
        # swallow a cancel that lands as its timeout fires, and the loop would then go on.
        while not self._stopping:
            t = n / self.rate_hz
            wait = (t - self.clock.now()) / self.clock.speed
            if wait > 0:
                await asyncio.sleep(wait)
            n += 1
            if not self.connected:
                self.samples_unsent += 1
                continue
            final = self.measurement_every > 0 and (n - 1) % self.measurement_every == 0
            for limb in self.limbs:
                measured = self.model.measure(limb, t + self.time_offset_s)
                if measured is None:
                    continue  # dropout: nothing sent
                celsius, status = measured
                value = celsius if status is ProbeStatus.OK and celsius is not None else math.nan
                try:
                    if self.service == "ess":
                        encoded = encode_ess_temperature(value)
                        self._measurement[limb].value = encoded  # what a read gets
                        if self.ess_notify:
                            await device.notify_subscribers(self._measurement[limb], encoded)
                            self.sent[limb] += 1
                        continue
                    payload = encode_temperature_measurement(value)
                    if self.intermediate:
                        await device.notify_subscribers(self._intermediate[limb], payload)
                        self.sent_intermediate[limb] += 1
                    if final:
                        await asyncio.wait_for(device.indicate_subscribers(self._measurement[limb], payload),
                                               2.0)
                        self.sent[limb] += 1
                except Exception:  # noqa: BLE001 - the link dropped mid-indication; the next sample retries
                    continue

    async def _stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        if self.device is not None:
            with contextlib.suppress(Exception):
                await self.device.stop_advertising()
            await self._disconnect_all()
