"""Listing the probes a user can choose from: serial ports and Bluetooth thermometers.

Discovery only looks: serial ports are listed from the operating system (nothing is opened
or written), Bluetooth thermometers are found by a short scan for the Health Thermometer
and Environmental Sensing services. Each :class:`DiscoveredProbe` says in plain words what
it is and makes its :class:`~monitor.sources.base.ProbeSource` on request. The simulated
patient is not among them: the command line builds it (``monitor.simulation``) and offers it.

Built-in serial ports without USB IDs (a motherboard's /dev/ttyS0..31, which ``comports()``
lists whether or not anything is attached) are left out unless ``show_all_ports`` is asked
for: no probe is ever one of them, and thirty of them would bury the real probe.

A bilateral Bluetooth set-up is usually two one-foot thermometers: :func:`ble_pair` makes one
choice of two found thermometers (one :class:`~monitor.sources.ble.BleSource` for both feet).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from monitor.model import Limb
from monitor.sources.base import ProbeSource
from monitor.sources.ports import PortDiscovery, PortInfo, system_ports

if TYPE_CHECKING:
    from bleak.backends.client import BaseBleakClient
    from bleak.backends.scanner import BaseBleakScanner

    from monitor.sources.registry import DeviceRegistry

_T = TypeVar("_T")


@dataclass
class DiscoveredProbe:
    """One probe the user may choose. ``make_source(swap_sides=...)`` opens it."""

    kind: str  # serial | ble | simulated | unavailable
    name: str
    state: str  # plain words, e.g. "SympaTherm probe, USB serial ST-0042" or why it cannot be used
    key: str = ""  # registry key when known before connecting (BLE address); "" for serial ports
    address: str = ""  # port path or Bluetooth address
    usable: bool = True
    side: Limb | None = None  # what the device registry says, for one-foot devices
    # A device known to be a temperature probe (a SympaTherm USB probe, a Bluetooth thermometer),
    # as opposed to any serial port: only these are picked without the user choosing them.
    known_probe: bool = False
    _factory: Callable[..., ProbeSource] | None = field(default=None, repr=False)

    def make_source(self, swap_sides: bool = False, **kwargs: Any) -> ProbeSource:
        if not self.usable or self._factory is None:
            raise ValueError(f"{self.name} cannot be used: {self.state}")
        return self._factory(swap_sides=swap_sides, **kwargs)


def discover(*, serial: bool = True, ble: bool = True, ble_timeout_s: float = 3.0,
             ports: PortDiscovery | None = None, registry: DeviceRegistry | None = None,
             scanner_backend: type[BaseBleakScanner] | None = None,
             client_backend: type[BaseBleakClient] | None = None,
             show_all_ports: bool = False) -> list[DiscoveredProbe]:
    """Serial ports, then Bluetooth thermometers (or one entry saying why Bluetooth cannot be used).

    ``show_all_ports``: also list built-in serial ports that have no USB IDs."""
    found: list[DiscoveredProbe] = []
    if serial:
        found.extend(serial_probes(ports or system_ports, show_all=show_all_ports))
    if ble:
        found.extend(ble_probes(ble_timeout_s, registry=registry, scanner_backend=scanner_backend,
                                client_backend=client_backend))
    return found


def serial_probes(ports: PortDiscovery = system_ports, *, show_all: bool = False) -> list[DiscoveredProbe]:
    """Known probes first, then other USB serial devices; ports without USB IDs only if ``show_all``."""
    out: list[DiscoveredProbe] = []
    try:
        listed = ports()
    except Exception as exc:  # noqa: BLE001 - an OS listing failure is reported, not raised
        return [DiscoveredProbe("unavailable", "Serial ports", f"cannot list serial ports ({exc})", usable=False)]
    for info in sorted(listed, key=lambda p: (not p.is_known_probe, p.device)):
        if info.usb_id is None and not show_all:
            continue  # a built-in UART (or a port the OS cannot name): never a probe
        out.append(_serial_entry(info))
    return out


def _serial_entry(info: PortInfo) -> DiscoveredProbe:
    from monitor.sources.serial import SerialSource

    if info.is_known_probe:
        state = "SympaTherm probe" + (f", USB serial {info.serial_number}" if info.serial_number else "")
    else:
        state = ("unknown serial device (it is only listened to, never written to unless you choose it): "
                 + info.describe())

    def factory(swap_sides: bool = False, **kwargs: Any) -> ProbeSource:
        return SerialSource(info.device, swap_sides=swap_sides, **kwargs)

    return DiscoveredProbe("serial", f"Serial probe on {info.device}", state, address=info.device,
                           known_probe=info.is_known_probe, _factory=factory)


def ble_probes(timeout_s: float = 3.0, *, registry: DeviceRegistry | None = None,
               scanner_backend: type[BaseBleakScanner] | None = None,
               client_backend: type[BaseBleakClient] | None = None) -> list[DiscoveredProbe]:
    """Bluetooth thermometers in range (a blocking scan of ``timeout_s``)."""
    from bleak import BleakScanner
    from bleak.backends.device import BLEDevice
    from bleak.backends.scanner import AdvertisementData

    from monitor.sources.ble import (
        BLUETOOTH_UNAVAILABLE,
        THERMOMETER_SERVICES,
        BleSource,
        ble_key,
        is_bluetooth_unavailable,
        scanner_args,
    )

    async def scan() -> dict[str, tuple[BLEDevice, AdvertisementData]]:
        return await BleakScanner.discover(timeout=timeout_s, return_adv=True,
                                           **scanner_args(scanner_backend, THERMOMETER_SERVICES))

    try:
        found = _run_async(scan())
    except Exception as exc:  # noqa: BLE001 - turned into plain words below
        why = BLUETOOTH_UNAVAILABLE if is_bluetooth_unavailable(exc) else f"Bluetooth scan failed ({exc})"
        return [DiscoveredProbe("unavailable", "Bluetooth thermometers", why, usable=False)]
    if registry is None:
        from monitor.sources.registry import DeviceRegistry

        registry = DeviceRegistry()
    out: list[DiscoveredProbe] = []
    for device, adv in sorted(found.values(), key=lambda d: d[0].address):
        key = ble_key(device.address)
        side = registry.side(key)
        state = f"Bluetooth thermometer, signal {adv.rssi} dBm" + (f", on the {side} foot" if side else "")

        def factory(swap_sides: bool = False, _address: str = device.address,
                    also: tuple[str, ...] = (), **kwargs: Any) -> ProbeSource:
            return BleSource(_address, *also, swap_sides=swap_sides, scanner_backend=scanner_backend,
                             client_backend=client_backend, **kwargs)

        out.append(DiscoveredProbe("ble", device.name or device.address, state, key=key,
                                   address=device.address, side=side, known_probe=True, _factory=factory))
    return out


def ble_pair(first: DiscoveredProbe, second: DiscoveredProbe) -> DiscoveredProbe:
    """Two Bluetooth thermometers, one per foot, as one choice: left foot first.

    The feet are as the device registry remembers them (a thermometer placed on the right foot
    goes second); otherwise in the order given. ``make_source(swap_sides=True)`` swaps them. The
    :class:`~monitor.sources.ble.BleSource` records the sides in the registry when it connects.
    """
    for probe in (first, second):
        if probe.kind != "ble" or not probe.usable or probe._factory is None:
            raise ValueError(f"{probe.name} is not a usable Bluetooth thermometer")
    if first.address.upper() == second.address.upper():
        raise ValueError("choose two different thermometers, one for each foot")
    if first.side is Limb.RIGHT or second.side is Limb.LEFT:
        first, second = second, first
    left, right = first, second
    make_left = left._factory
    assert make_left is not None  # both were checked above

    def factory(swap_sides: bool = False, **kwargs: Any) -> ProbeSource:
        return make_left(swap_sides=swap_sides, also=(right.address,), **kwargs)

    state = "two Bluetooth thermometers, one per foot"
    return DiscoveredProbe("ble", f"{left.name} + {right.name}", state, key="",
                           address=f"{left.address},{right.address}", known_probe=True, _factory=factory)


def _run_async(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coro`` to completion from synchronous code, even if this thread has a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
