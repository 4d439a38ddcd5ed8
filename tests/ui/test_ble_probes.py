"""Two Bluetooth thermometers, one per foot, chosen in the set-up and recorded: bumble's virtual
radio carries the link; discovery, the set-up dialog, BleSource and the live window are the real ones."""

from __future__ import annotations

import time

import pytest
from PyQt6.QtCore import Qt

from monitor.clock import SimulatedClock
from monitor.commands.sources import build_source
from monitor.model import Limb
from monitor.procedure.source_spec import BleSpec, stored_spec
from monitor.simulation.physiology import PatientModel
from monitor.simulation.virtual_ble import VirtualRadio
from monitor.sources import discovery
from monitor.sources.ble import ble_key
from monitor.sources.registry import DeviceRegistry
from monitor.store import SessionStore
from tests.support.bumble_bleak import backends_for
from ui.app_flow import AppController, _candidate_from_discovery, simulated_candidate
from ui.setup_dialog import SetupDialog

A_ADDR, B_ADDR = "F0:00:00:00:00:1A", "F0:00:00:00:00:1B"


@pytest.fixture
def radio():
    r = VirtualRadio()
    yield r
    r.close()


def _found(radio, registry, addresses=(A_ADDR, B_ADDR), deadline_s: float = 60.0):
    """Scan until every thermometer in ``addresses`` answered in one scan: on a loaded machine a
    short scan can miss an advertisement, so each try scans longer (generous overall limit)."""
    scanner, client = backends_for(radio)
    give_up = time.monotonic() + deadline_s
    scan_s = 0.5
    while True:
        probes = discovery.discover(serial=False, ble_timeout_s=scan_s, registry=registry,
                                    scanner_backend=scanner, client_backend=client)
        seen = {p.address.upper() for p in probes if p.kind == "ble"}
        if {a.upper() for a in addresses} <= seen or time.monotonic() > give_up:
            return probes
        scan_s = min(scan_s * 2, 8.0)


def test_two_one_foot_thermometers_ticked_swapped_recorded_and_remembered(qtbot, radio):
    model = PatientModel.from_scenario("success-fast", seed=4, blocked=Limb.LEFT)
    clock = SimulatedClock(20.0)
    radio.add_thermometer(A_ADDR, "Thermo A", model, (Limb.LEFT,), clock)
    radio.add_thermometer(B_ADDR, "Thermo B", model, (Limb.RIGHT,), clock)
    controller = AppController(build_source)
    candidates = [_candidate_from_discovery(p) for p in _found(radio, controller.registry)]
    candidates.append(simulated_candidate(build_source))
    dlg = SetupDialog(candidates, controller.registry)
    qtbot.addWidget(dlg)
    assert dlg.candidate.kind == "ble" and dlg.candidate.extra["known"]  # a thermometer before the simulator
    assert not dlg.pair_hint.isHidden()
    dlg.set_ticked(0)
    dlg.set_ticked(1)
    pair = dlg.candidate
    assert [name for _k, name in pair.extra["members"]] == ["Thermo A", "Thermo B"]
    assert dlg.sides_label.text().startswith("Thermo A → LEFT foot,  Thermo B → RIGHT foot")
    dlg.probe_list.setCurrentRow(2)  # the simulated patient chosen instead: the ticks go
    assert dlg.candidate.simulated and not dlg._ticked
    dlg.set_ticked(0)
    dlg.set_ticked(1)
    dlg.toggle_swap()  # Thermo A was taped on the right foot
    assert dlg.sides_label.text().startswith("Thermo A → RIGHT foot,  Thermo B → LEFT foot")
    dlg.check_btn.setChecked(True)  # the side check runs on both thermometers at once
    qtbot.waitUntil(lambda: all(v is not None for v in dlg._check_last.values()), timeout=15000)
    assert dlg._check_source.addresses == (B_ADDR, A_ADDR)  # swapped: B is the left foot
    dlg.check_btn.setChecked(False)
    dlg.blocked_right.setChecked(True)
    qtbot.keyClicks(dlg.patient, "MRN-BLE")
    qtbot.mouseClick(dlg.start_btn, Qt.MouseButton.LeftButton)
    assert dlg.result_value is not None and dlg.result_value.candidate.name == pair.name
    window = controller.start_session(dlg.result_value)
    window.confirm_close = False
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: all(len(window.plot.buffers[limb]) >= 3 for limb in Limb), timeout=20000)
    path = window.session.store.path
    window.close()
    with SessionStore.open_read_only(path) as store:
        readings = list(store.iter_readings())
        # Saved so the session can be resumed: left foot's thermometer first.
        assert stored_spec(store) == BleSpec(addresses=(B_ADDR, A_ADDR))
    assert {r.source for r in readings if r.limb is Limb.RIGHT} == {ble_key(A_ADDR)}
    assert {r.source for r in readings if r.limb is Limb.LEFT} == {ble_key(B_ADDR)}
    registry = DeviceRegistry()
    assert registry.side(ble_key(A_ADDR)) is Limb.RIGHT and registry.side(ble_key(B_ADDR)) is Limb.LEFT
    # Next time both are found on the feet they were on, and ticking them keeps that without a swap.
    dlg2 = SetupDialog([_candidate_from_discovery(p) for p in _found(radio, registry)], registry)
    qtbot.addWidget(dlg2)
    dlg2.set_ticked(0)
    dlg2.set_ticked(1)
    assert dlg2.sides_label.text().startswith("Thermo B → LEFT foot,  Thermo A → RIGHT foot")


def test_show_all_ports_searches_again_with_the_builtin_ports(qtbot):
    asked = []

    def rescan(show_all_ports: bool = False):
        asked.append(show_all_ports)
        return [simulated_candidate(build_source)]

    dlg = SetupDialog([simulated_candidate(build_source)], None, rescan=rescan)
    qtbot.addWidget(dlg)
    dlg.show_all_ports.setChecked(True)
    qtbot.waitUntil(lambda: asked == [True] and not dlg._scanning, timeout=5000)
    assert dlg.pair_hint.isHidden()  # no Bluetooth thermometers: no hint about ticking two
