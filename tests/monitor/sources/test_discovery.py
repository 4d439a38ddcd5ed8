"""Discovery: what the setup dialog offers, and opening a chosen probe."""

from __future__ import annotations

import pytest
from bleak.backends.scanner import BaseBleakScanner

from monitor.clock import SimulatedClock
from monitor.model import ConnectionState, Limb
from monitor.simulation.physiology import PatientModel
from monitor.simulation.virtual_ble import VirtualRadio
from monitor.sources.ble import BLUETOOTH_UNAVAILABLE, BleSource, ble_key
from monitor.sources.discovery import discover
from monitor.sources.ports import PortInfo
from monitor.sources.serial import SerialSource
from tests.support.bumble_bleak import backends_for


class _NoAdapter(BaseBleakScanner):
    def __init__(self, detection_callback, service_uuids, *args, **kwargs):
        super().__init__(detection_callback, service_uuids)

    async def start(self):
        raise FileNotFoundError(2, "No such file or directory")

    async def stop(self):
        pass


def test_serial_ports_listed_known_probes_first_and_no_bluetooth_said_plainly(registry):
    ports = [PortInfo("/dev/ttyUSB0", 0x0403, 0x6001, "FT1", "FT232R"),
             PortInfo("/dev/ttyACM3", 0x1209, 0x5354, "ST-0042", "SympaTherm probe")]
    found = discover(ports=lambda: ports, registry=registry, scanner_backend=_NoAdapter, ble_timeout_s=0.2)
    assert [p.address for p in found if p.kind == "serial"] == ["/dev/ttyACM3", "/dev/ttyUSB0"]
    assert "ST-0042" in found[0].state and "never written to" in found[1].state
    assert isinstance(found[0].make_source(swap_sides=True), SerialSource)
    assert found[-1].kind == "unavailable" and found[-1].state == BLUETOOTH_UNAVAILABLE and not found[-1].usable
    with pytest.raises(ValueError, match="cannot be used"):
        found[-1].make_source()


def test_ble_thermometers_found_and_opened_with_the_sides_swapped(registry, start_source):
    radio = VirtualRadio()
    try:
        model, clock = PatientModel.from_scenario("failed", seed=1), SimulatedClock(20.0)
        radio.add_thermometer("F0:00:00:00:00:05", "Thermo 2ch", model, (Limb.LEFT, Limb.RIGHT), clock)
        scanner, client = backends_for(radio)
        found = discover(serial=False, ble_timeout_s=0.5, registry=registry,
                         scanner_backend=scanner, client_backend=client)
        assert [(p.kind, p.name, p.key) for p in found] == [("ble", "Thermo 2ch", ble_key("F0:00:00:00:00:05"))]
        src = found[0].make_source(swap_sides=True, registry=registry, backoff_s=(0.05,))
        assert isinstance(src, BleSource)
        c = start_source(src)
        c.wait(lambda: src.state is ConnectionState.STREAMING and len(c.readings) >= 4, what="readings")
        # The user's swap is remembered: channel 0 (the model's left foot) is now the right foot.
        assert registry.channel_limbs(ble_key("F0:00:00:00:00:05"), 2) == (Limb.RIGHT, Limb.LEFT)
        src.stop()
    finally:
        radio.close()


def test_builtin_uarts_without_usb_ids_are_hidden_unless_all_ports_are_asked_for():
    ports = [PortInfo(f"/dev/ttyS{i}", None, None, "", "n/a") for i in range(32)]
    ports += [PortInfo("/dev/ttyUSB0", 0x0403, 0x6001, "FT1", "FT232R"),
              PortInfo("/dev/ttyACM3", 0x1209, 0x5354, "ST-0042", "SympaTherm probe")]
    found = discover(ports=lambda: ports, ble=False)
    assert [(p.address, p.known_probe) for p in found] == [("/dev/ttyACM3", True), ("/dev/ttyUSB0", False)]
    everything = discover(ports=lambda: ports, ble=False, show_all_ports=True)
    assert len(everything) == 34 and "/dev/ttyS0" in {p.address for p in everything}
    assert not any(p.known_probe for p in everything if p.address.startswith("/dev/ttyS"))


LEFT_ADDR, RIGHT_ADDR = "F0:00:00:00:00:0A", "F0:00:00:00:00:0B"


def _count(readings, limb):
    return sum(1 for r in readings if r.limb is limb)


def test_two_one_foot_thermometers_become_one_source_for_both_feet(registry, start_source):
    from monitor.sources.discovery import ble_pair

    radio = VirtualRadio()
    try:
        model, clock = PatientModel.from_scenario("success-fast", seed=2, blocked=Limb.LEFT), SimulatedClock(20.0)
        radio.add_thermometer(LEFT_ADDR, "Thermo A", model, (Limb.LEFT,), clock)
        radio.add_thermometer(RIGHT_ADDR, "Thermo B", model, (Limb.RIGHT,), clock)
        scanner, client = backends_for(radio)
        found = discover(serial=False, ble_timeout_s=0.5, registry=registry,
                         scanner_backend=scanner, client_backend=client)
        assert [p.address for p in found] == [LEFT_ADDR, RIGHT_ADDR] and all(p.known_probe for p in found)
        with pytest.raises(ValueError, match="two different"):
            ble_pair(found[0], found[0])
        # The nurse taped A on the right foot and B on the left: the swap puts A second.
        pair = ble_pair(found[0], found[1])
        assert pair.kind == "ble" and pair.known_probe and pair.address == f"{LEFT_ADDR},{RIGHT_ADDR}"
        src = pair.make_source(swap_sides=True, registry=registry, backoff_s=(0.05,))
        assert isinstance(src, BleSource) and src.addresses == (RIGHT_ADDR, LEFT_ADDR)
        c = start_source(src)
        c.wait(lambda: _count(c.readings, Limb.LEFT) >= 3 and _count(c.readings, Limb.RIGHT) >= 3,
               timeout=30.0, what="both feet")
        # A (the model's left foot, warming) now reads as the right foot; remembered in the registry.
        assert {r.source for r in c.readings if r.limb is Limb.RIGHT} == {ble_key(LEFT_ADDR)}
        assert registry.side(ble_key(LEFT_ADDR)) is Limb.RIGHT and registry.side(ble_key(RIGHT_ADDR)) is Limb.LEFT
        src.stop()
        # Found again, each carries the foot it was on, and a new pair keeps those feet by itself.
        again = discover(serial=False, ble_timeout_s=0.5, registry=registry,
                         scanner_backend=scanner, client_backend=client)
        assert [p.side for p in again] == [Limb.RIGHT, Limb.LEFT]
        assert ble_pair(again[0], again[1]).address == f"{RIGHT_ADDR},{LEFT_ADDR}"
    finally:
        radio.close()
