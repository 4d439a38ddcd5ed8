"""Discovery: what the setup dialog offers, and opening a chosen probe."""

from __future__ import annotations

import pytest
from bleak.backends.scanner import BaseBleakScanner

from monitor.ble_peripheral import VirtualRadio
from monitor.clock import SimulatedClock
from monitor.model import ConnectionState, Limb
from monitor.physiology import PatientModel
from monitor.sources.ble import BLUETOOTH_UNAVAILABLE, BleSource, ble_key
from monitor.sources.discovery import discover, simulated_probe
from monitor.sources.ports import PortInfo
from monitor.sources.serial import SerialSource


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
        scanner, client = radio.bleak_backends()
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


def test_simulated_probe_is_always_offered():
    probe = simulated_probe("touch", seed=3)
    src = probe.make_source(speed=50.0)
    assert src.identity.simulated and src.model.scenario.name == "touch"
