"""A bleak backend whose radio is bumble's in-process virtual link (tests and demos only).

bleak lets ``BleakScanner`` and ``BleakClient`` take a ``backend=`` class. These classes
implement bleak's backend interface (``BaseBleakScanner``, ``BaseBleakClient``) on a
bumble central device, so that everything above them, bleak's own public API and all of
:class:`monitor.sources.ble.BleSource` (scan filtering, selection, service lookup,
subscriptions, parsing, disconnect callbacks, reconnection), is the production code.
What this replaces is only what BlueZ / CoreBluetooth / WinRT do: the radio.

The bumble world runs on :class:`monitor.simulation.virtual_ble.VirtualRadio`'s own event loop;
calls cross loops with ``run_coroutine_threadsafe`` and callbacks come back with
``call_soon_threadsafe``, as D-Bus signals reach bleak's loop from another process.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError
from bleak.uuids import normalize_uuid_str
from bumble.core import UUID as BumbleUUID
from bumble.core import AdvertisingData
from bumble.device import Peer
from bumble.hci import Address

if TYPE_CHECKING:
    from monitor.simulation.virtual_ble import VirtualRadio

_PROPERTY_NAMES = (
    (0x01, "broadcast"), (0x02, "read"), (0x04, "write-without-response"), (0x08, "write"),
    (0x10, "notify"), (0x20, "indicate"), (0x40, "authenticated-signed-writes"), (0x80, "extended-properties"),
)


def bleak_uuid(uuid: BumbleUUID) -> str:
    """bumble UUID -> bleak's lower-case 128-bit string."""
    return normalize_uuid_str(uuid.to_hex_str("-") if len(uuid.uuid_bytes) == 16 else uuid.to_hex_str())


def backends_for(radio: VirtualRadio) -> tuple[type[BaseBleakScanner], type[BaseBleakClient]]:
    """Scanner and client backend classes bound to ``radio`` (bleak instantiates them itself)."""
    scanner = type("BumbleScanner", (BumbleScanner,), {"radio": radio})
    client = type("BumbleClient", (BumbleClient,), {"radio": radio})
    return scanner, client


class BumbleScanner(BaseBleakScanner):
    """Scanning on the virtual link: bumble advertisement reports -> bleak detection callbacks."""

    radio: VirtualRadio

    def __init__(self, detection_callback, service_uuids, scanning_mode: str = "active", **kwargs: Any) -> None:
        super().__init__(detection_callback, service_uuids)
        self._caller: asyncio.AbstractEventLoop | None = None
        self._listener = None

    async def start(self) -> None:
        self.seen_devices = {}
        self._caller = asyncio.get_running_loop()
        await self.radio.call(self._start_on_radio())

    async def _start_on_radio(self) -> None:
        central = await self.radio.central()

        def on_advertisement(adv) -> None:
            caller = self._caller
            if caller is not None and not caller.is_closed():
                caller.call_soon_threadsafe(self._deliver, adv)

        self._listener = on_advertisement
        central.on("advertisement", on_advertisement)
        if not central.is_scanning:
            await central.start_scanning(filter_duplicates=False)

    async def stop(self) -> None:
        await self.radio.call(self._stop_on_radio())
        self._caller = None

    async def _stop_on_radio(self) -> None:
        central = await self.radio.central()
        if self._listener is not None:
            central.remove_listener("advertisement", self._listener)
            self._listener = None
        if central.is_scanning and not central.listeners("advertisement"):
            await central.stop_scanning()

    def _deliver(self, adv) -> None:
        data = adv.data
        uuids: list[str] = []
        for kind in (AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                     AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                     AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                     AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS):
            for listed in data.get_all(kind) or []:
                uuids.extend(bleak_uuid(u) for u in listed)
        name_raw = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(AdvertisingData.SHORTENED_LOCAL_NAME)
        name = name_raw if isinstance(name_raw, str) or name_raw is None else bytes(name_raw).decode(errors="replace")
        if not self.is_allowed_uuid(uuids):
            return
        address = str(adv.address).split("/")[0]
        ad = AdvertisementData(local_name=name, manufacturer_data={}, service_data={}, service_uuids=uuids,
                               tx_power=None, rssi=adv.rssi, platform_data=(adv,))
        device = self.create_or_update_device(address, address, name, adv, ad)
        self.call_detection_callbacks(device, ad)


class BumbleClient(BaseBleakClient):
    """A GATT client connection on the virtual link."""

    radio: VirtualRadio

    def __init__(self, address_or_ble_device: BLEDevice | str, *, disconnected_callback=None,
                 timeout: float = 10.0, **kwargs: Any) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout)
        self._connection = None
        self._peer: Peer | None = None
        self._caller: asyncio.AbstractEventLoop | None = None
        self._name = address_or_ble_device.name if isinstance(address_or_ble_device, BLEDevice) else None

    @property
    def name(self) -> str:
        return self._name or self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        return getattr(self._connection, "att_mtu", 23)

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        self._caller = asyncio.get_running_loop()
        try:
            self.services = await asyncio.wait_for(self.radio.call(self._connect_on_radio()), self._timeout)
        except TimeoutError:
            await self.radio.call(self._cancel_on_radio())
            raise
        except BleakError:
            raise
        except Exception as exc:  # noqa: BLE001 - bumble's errors become bleak's, as a backend must
            raise BleakDeviceNotFoundError(self.address, f"could not connect to {self.address}: {exc}") from exc

    async def _connect_on_radio(self) -> BleakGATTServiceCollection:
        central = await self.radio.central()
        connection = await central.connect(Address(self.address), timeout=self._timeout)
        self._connection = connection
        connection.on("disconnection", self._on_disconnection_radio)
        peer = Peer(connection)
        self._peer = peer
        await peer.discover_services()
        collection = BleakGATTServiceCollection()
        for service in peer.services:
            await service.discover_characteristics()
            bleak_service = BleakGATTService(service, service.handle, bleak_uuid(service.uuid))
            collection.add_service(bleak_service)
            for char in service.characteristics:
                await char.discover_descriptors()
                props = [name for bit, name in _PROPERTY_NAMES if int(char.properties) & bit]
                bleak_char = BleakGATTCharacteristic(char, char.handle, bleak_uuid(char.uuid), props,
                                                     lambda: self.mtu_size - 3, bleak_service)
                collection.add_characteristic(bleak_char)
                for desc in char.descriptors:
                    collection.add_descriptor(BleakGATTDescriptor(desc, desc.handle, bleak_uuid(desc.type),
                                                                  bleak_char))
        return collection

    async def _cancel_on_radio(self) -> None:
        central = await self.radio.central()
        with contextlib.suppress(Exception):
            await central.cancel_connection()

    def _on_disconnection_radio(self, reason: int) -> None:
        self._connection = None
        self._peer = None
        caller = self._caller
        if caller is not None and not caller.is_closed() and self._disconnected_callback is not None:
            caller.call_soon_threadsafe(self._disconnected_callback)

    async def disconnect(self) -> None:
        connection = self._connection
        if connection is None:
            return
        callback, self._disconnected_callback = self._disconnected_callback, None  # solicited: no callback
        try:
            await self.radio.call(connection.disconnect())
        except Exception:  # noqa: BLE001 - already gone is fine
            pass
        finally:
            self._connection = None
            self._disconnected_callback = callback

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("pairing is not simulated")

    async def unpair(self) -> None:
        raise NotImplementedError("pairing is not simulated")

    def _require_peer(self) -> Peer:
        if self._peer is None:
            raise BleakError("Not connected")
        return self._peer

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False,
                             **kwargs: Any) -> bytearray:
        peer = self._require_peer()
        return bytearray(await self.radio.call(peer.read_value(characteristic.obj)))

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, **kwargs: Any) -> bytearray:
        peer = self._require_peer()
        return bytearray(await self.radio.call(peer.read_value(descriptor.obj)))

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data, response: bool) -> None:
        peer = self._require_peer()
        await self.radio.call(peer.write_value(characteristic.obj, bytes(data), with_response=response))

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data) -> None:
        peer = self._require_peer()
        await self.radio.call(peer.write_value(descriptor.obj, bytes(data), with_response=True))

    async def start_notify(self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback,
                           **kwargs: Any) -> None:
        peer = self._require_peer()
        caller = asyncio.get_running_loop()

        def on_value(value: bytes) -> None:  # on the radio loop
            if not caller.is_closed():
                caller.call_soon_threadsafe(callback, bytearray(value))

        prefer_notify = "notify" in characteristic.properties
        await self.radio.call(peer.subscribe(characteristic.obj, on_value, prefer_notify=prefer_notify))

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        peer = self._require_peer()
        await self.radio.call(peer.unsubscribe(characteristic.obj))
