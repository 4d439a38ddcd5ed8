"""Bluetooth faults through the real BLE source (bleak API over bumble's virtual link), recorder
and session file: the link lost for 5 s, for 60 s and for good, and no Bluetooth at all.

Time is accelerated: the thermometer and the source share a simulated clock running SPEED
times real time, so "60 s out of range" takes 60 / SPEED real seconds.
"""

from __future__ import annotations

import pytest
from bleak.backends.scanner import BaseBleakScanner

from monitor.clock import SimulatedClock
from monitor.model import ConnectionState, Limb
from monitor.simulation.physiology import PatientModel
from monitor.simulation.virtual_ble import VirtualRadio
from monitor.sources.ble import BLUETOOTH_UNAVAILABLE, BleSource
from tests.support.bumble_bleak import backends_for

from .harness import assert_nothing_lost

ADDR = "F0:00:00:00:00:11"
SPEED = 40.0
FAST = (0.05, 0.1, 0.2)


@pytest.fixture
def radio():
    r = VirtualRadio()
    yield r
    r.close()


def test_link_lost_for_5_s_then_60_s_then_for_good_keeps_every_reading(radio, make_recording, registry):
    clock = SimulatedClock(SPEED)
    model = PatientModel.from_scenario("success-fast", seed=4, blocked=Limb.LEFT)
    thermo = radio.add_thermometer(ADDR, "Thermo 2ch", model, (Limb.LEFT, Limb.RIGHT), clock)
    scanner, client = backends_for(radio)
    src = BleSource(ADDR, clock=clock, registry=registry, scanner_backend=scanner, client_backend=client,
                    scan_timeout_s=1.0, connect_timeout_s=5.0, backoff_s=FAST)
    rec = make_recording(src, blocked=Limb.LEFT)
    rec.pump_until(lambda: rec.count(Limb.LEFT) >= 5 and src.state is ConnectionState.STREAMING,
                   what="streaming")
    outages = []
    for seconds in (5.0, 60.0):
        before = list(rec.delivered)
        thermo.go_out_of_range()
        rec.pump_until(lambda: src.state in (ConnectionState.LOST, ConnectionState.RECONNECTING), what="the loss")
        # Counted from when the loss was seen (however late a loaded machine notices it), so the
        # recorded gap, which starts no later than that, lasts at least this long.
        t_lost = clock.now()
        rec.pump_until(lambda s=seconds, t=t_lost: clock.now() - t >= s, what=f"{seconds:g} s out of range")
        thermo.come_back()
        n = rec.count(Limb.LEFT)
        rec.pump_until(lambda n=n: src.state is ConnectionState.STREAMING and rec.count(Limb.LEFT) >= n + 3,
                       what="the thermometer back")
        assert rec.delivered[:len(before)] == before
        outages.append((t_lost, seconds))
    # For good: it never comes back. The source keeps trying; the session is closed by the user.
    before = list(rec.delivered)
    thermo.go_out_of_range()
    t_gone = clock.now()
    rec.pump_until(lambda: clock.now() - t_gone >= 90.0 and "trying again" in src.reason,
                   what="retries while it is gone")
    assert src.state is ConnectionState.RECONNECTING
    rec.finish()

    assert rec.delivered[:len(before)] == before
    assert src.reconnections == 2
    assert_nothing_lost(rec.stored(), rec.delivered)
    with rec.store.open_read_only(rec.path) as reader:
        gaps = reader.events("connection_gap")
        alarms = reader.events("alarm")
        status = reader.status
    assert len(gaps) == 3 and all(g.end_s is not None for g in gaps), "each outage is recorded, start to end"
    assert all("lost" in g.message for g in gaps)
    for gap, (t_lost, seconds) in zip(gaps, outages, strict=False):
        assert gap.start_s <= t_lost and gap.end_s - gap.start_s >= seconds
    # Each outage raises one "no data" alarm for the lost link (not one per foot); the session
    # still closes cleanly with everything in it.
    assert sum(a.subkind == "connection_lost" for a in alarms) == 3
    assert status == "closed"


class _NoAdapterScanner(BaseBleakScanner):
    """What bleak raises on a computer without Bluetooth (BlueZ absent: dbus-fast's FileNotFoundError)."""

    def __init__(self, detection_callback, service_uuids, *args, **kwargs):
        super().__init__(detection_callback, service_uuids)

    async def start(self):
        raise FileNotFoundError(2, "No such file or directory")

    async def stop(self):
        pass


def test_no_bluetooth_on_the_computer_is_said_in_plain_words_and_the_session_still_records(
        make_recording, registry):
    src = BleSource(ADDR, registry=registry, scanner_backend=_NoAdapterScanner, backoff_s=FAST)
    rec = make_recording(src)
    rec.pump_until(lambda: src.reason == BLUETOOTH_UNAVAILABLE, what="the plain reason")
    rec.recorder.add_marker("note", text="no Bluetooth adapter")
    rec.finish()
    assert rec.delivered == []
    assert_nothing_lost(rec.stored(), rec.delivered)
    with rec.store.open_read_only(rec.path) as reader:
        assert reader.status == "closed" and [m.text for m in reader.markers()] == ["no Bluetooth adapter"]
