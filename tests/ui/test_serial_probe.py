"""The set-up flow and live window with a real serial path: a simulated probe on a pseudo-terminal,
found by the core's discovery as a USB SympaTherm probe, read by the real SerialSource."""

from __future__ import annotations

from PyQt6.QtCore import Qt

from monitor.commands.sources import build_source
from monitor.model import Limb
from monitor.simulation.virtual_serial import VirtualSerialProbe
from monitor.sources import discovery
from monitor.store import SessionStore
from ui.app_flow import AppController, _candidate_from_discovery, simulated_candidate
from ui.setup_dialog import SetupDialog


def test_known_serial_probe_is_picked_swapped_and_plotted(qtbot):
    with VirtualSerialProbe("success-fast", seed=5, speed=60.0, rate_hz=1.0, blocked=Limb.RIGHT) as probe:
        found = discovery.serial_probes(lambda: [probe.port_info()])
        candidates = [_candidate_from_discovery(p) for p in found] + [simulated_candidate(build_source)]
        controller = AppController(build_source)
        dlg = SetupDialog(candidates, controller.registry)
        qtbot.addWidget(dlg)
        assert dlg.candidate.kind == "serial"  # a recognised probe is chosen over the simulated patient
        assert dlg.chosen_swap() is None  # untouched: the registry decides
        dlg.toggle_swap()  # the nurse taped probe 1 on the right foot
        assert dlg.chosen_swap() is True
        dlg.blocked_right.setChecked(True)
        qtbot.keyClicks(dlg.patient, "MRN-SER")
        qtbot.mouseClick(dlg.start_btn, Qt.MouseButton.LeftButton)
        window = controller.start_session(dlg.result_value)
        qtbot.addWidget(window)
        assert window.sim_strip is None  # a real probe: no SIMULATED strip
        qtbot.waitUntil(lambda: all(len(window.plot.buffers[limb]) >= 20 for limb in Limb), timeout=20000)
        path = window.session.store.path
        assert window.confirm_close  # a live session asks before a close ends it...
        window.confirm_close = False  # ...which a script cannot answer
        window.close()
    # Swapped: probe channel 0 (the model's left foot) is recorded as the right foot.
    with SessionStore.open_read_only(path) as store:
        assert store.reading_count() >= 40
        devices = store.devices()
        assert devices and devices[0].kind == "serial"
    key = devices[0].key
    assert controller.registry.channel_limbs(key, 2) == (Limb.RIGHT, Limb.LEFT)


def test_unplugged_probe_alarm_is_raised_silenced_and_cleared_on_replug(qtbot, monkeypatch):
    with VirtualSerialProbe("success-fast", seed=6, speed=20.0, rate_hz=1.0) as probe:
        # The operating system lists the probe as a USB device wherever it is now (comports() does
        # not list pseudo-terminals), so the replugged probe is found under its new name even when
        # another process took the old pty number meanwhile.
        import monitor.sources.serial as serial_source

        monkeypatch.setattr(serial_source, "system_ports", lambda: [probe.port_info()] if probe.path else [])
        found = discovery.serial_probes(lambda: [probe.port_info()])
        candidates = [_candidate_from_discovery(p) for p in found]
        controller = AppController(build_source)
        dlg = SetupDialog(candidates, controller.registry)
        qtbot.addWidget(dlg)
        dlg.blocked_left.setChecked(True)
        dlg.accept()
        window = controller.start_session(dlg.result_value)
        window.confirm_close = False
        qtbot.addWidget(window)
        qtbot.waitUntil(lambda: len(window.plot.buffers[Limb.LEFT]) >= 5, timeout=20000)
        assert window.alarms.priority is None
        probe.unplug()  # the USB cable is pulled
        qtbot.waitUntil(lambda: window.alarms.priority == "medium", timeout=20000)
        assert window.alarm_bar.isVisible() and "NO DATA" in window.alarm_bar.text.text()
        window.acknowledge_alarms()
        assert window.alarms.all_acknowledged and window.alarm_bar.isVisible()
        before = len(window.plot.buffers[Limb.LEFT])
        probe.replug()  # plugged back in: same probe, new device path
        qtbot.waitUntil(lambda: window.alarms.priority is None, timeout=30000)
        assert not window.alarm_bar.isVisible()
        qtbot.waitUntil(lambda: len(window.plot.buffers[Limb.LEFT]) > before + 3, timeout=20000)  # data again
        path = window.session.store.path
        window.close()
    with SessionStore.open_read_only(path) as store:
        gaps = store.events("connection_gap")
        assert gaps and gaps[0].end_s is not None
