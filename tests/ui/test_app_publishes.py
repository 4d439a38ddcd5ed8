"""The application publishes to the central station when Settings turned it on (a real Mosquitto)."""

from __future__ import annotations

from PyQt6.QtCore import Qt

from monitor.clock import SimulatedClock
from monitor.commands.sources import build_source, scenario_choices
from monitor.model import Limb
from monitor.publish.config import save_config
from monitor.publish.messages import Kind
from tests.monitor.publish.listener import Listener
from tests.support.mosquitto import broker, mqtt_certs  # noqa: F401  (fixtures)
from ui.app_flow import AppController, discover_candidates
from ui.setup_dialog import SetupDialog


def _start(qtbot) -> object:
    controller = AppController(build_source, scenarios=scenario_choices(),
                               simulated_clock_factory=lambda: SimulatedClock(manual=True))
    dlg = SetupDialog(discover_candidates(build_source), controller.registry, scenarios=controller.scenarios)
    qtbot.addWidget(dlg)
    dlg.blocked_left.setChecked(True)
    dlg.scenario.setCurrentIndex(dlg.scenario.findData("success-fast"))
    qtbot.mouseClick(dlg.start_btn, Qt.MouseButton.LeftButton)
    window = controller.start_session(dlg.result_value)
    qtbot.addWidget(window)
    return window


def test_the_window_publishes_its_room_once_settings_turned_it_on(qtbot, broker):  # noqa: F811
    central = Listener(broker)
    save_config(broker.station("room-1"))
    window = _start(qtbot)
    assert window.publisher is not None
    window.advance_to(120)
    assert central.wait_for(lambda: any(r.body["online"] for r in central.of(Kind.STATUS, "room-1")))
    assert central.wait_for(lambda: len(central.of(Kind.STATE, "room-1")) >= 1)
    state = central.of(Kind.STATE, "room-1")[-1].body
    assert state["blocked_side"] == "left" and state["room"] == "room-1"
    window.session.finish()
    assert central.wait_for(lambda: any(not r.body["online"] for r in central.of(Kind.STATUS, "room-1")))
    central.close()
    assert central.validate_all() >= 3


def test_publishing_stays_off_without_settings(qtbot):
    window = _start(qtbot)
    assert window.publisher is None
    assert window.tiles[Limb.LEFT].blocked_label.text() == "BLOCKED SIDE"
