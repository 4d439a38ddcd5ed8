"""The whole procedure on the simulator at high speed: set-up → baseline → injection →
confirmation → export, driven by a manual clock (no sleeps as timing)."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDialog

from monitor.clock import SimulatedClock
from monitor.commands.sources import build_source, scenario_choices
from monitor.model import Limb, MarkerKind
from monitor.store import SessionStore
from ui.app_flow import AppController, discover_candidates
from ui.setup_dialog import SetupDialog


def _fill_setup(qtbot, dlg: SetupDialog, blocked: Limb, scenario: str) -> None:
    assert dlg.candidate is not None and dlg.candidate.simulated  # no probe attached: simulated patient offered
    qtbot.keyClicks(dlg.patient, "MRN-0042")
    (dlg.blocked_right if blocked is Limb.RIGHT else dlg.blocked_left).setChecked(True)
    qtbot.keyClicks(dlg.operator, "Dr Who")
    qtbot.keyClicks(dlg.nurse, "Nurse Joy")
    dlg.scenario.setCurrentIndex(dlg.scenario.findData(scenario))


def test_full_procedure_from_setup_to_export(qtbot, tmp_path):
    controller = AppController(build_source, scenarios=scenario_choices(),
                               simulated_clock_factory=lambda: SimulatedClock(manual=True))
    dlg = SetupDialog(discover_candidates(build_source), controller.registry, scenarios=controller.scenarios)
    qtbot.addWidget(dlg)
    _fill_setup(qtbot, dlg, Limb.RIGHT, "success-fast")
    qtbot.mouseClick(dlg.start_btn, Qt.MouseButton.LeftButton)
    assert dlg.result() == SetupDialog.DialogCode.Accepted
    window = controller.start_session(dlg.result_value)
    qtbot.addWidget(window)
    with qtbot.waitActive(window):
        window.activateWindow()
    store_path = window.session.store.path
    assert store_path.exists() and (store_path.stat().st_mode & 0o777) == 0o600
    assert window.sim_strip is not None and window.sim_strip.isVisible()  # SIMULATED, unmissable
    assert window.tiles[Limb.RIGHT].blocked_label.text() == "BLOCKED SIDE"

    inj = window.session.source.suggested_injection_s
    window.advance_to(inj - 200)
    qtbot.keyClick(window, Qt.Key.Key_B)  # baseline start
    window.advance_to(inj)
    qtbot.keyClick(window, Qt.Key.Key_I)  # the nurse marks the injection
    window.advance_to(inj + 60)
    assert window.banner.kind in ("baseline", "monitoring")
    assert window.plot.baseline_region.isVisible()

    t = inj
    while window.banner.kind != "confirmed" and t < inj + 3600:
        t += 60
        window.advance_to(t)
    assert window.banner.kind == "confirmed"
    assert window.banner.title.text().startswith("BLOCK CONFIRMED at ")
    assert "Di − Dc" in window.banner.detail.text() or "ΔTb" in window.banner.detail.text()
    assert window.sound.played.count("info") == 1  # information chime, not an alarm
    assert window.alarms.priority is None
    # Only the user's injection mark: the demo's automatic one was not added.
    assert [m.kind for m in window.session.markers] == [MarkerKind.BASELINE, MarkerKind.INJECTION]
    assert window.table.table_model.rowCount() > 10

    from ui.export_dialog import ExportDialog

    window.session.recorder.commit()
    export = ExportDialog(store_path, window, formats=("pdf", "csv"))
    qtbot.addWidget(export)
    export.folder.setText(str(tmp_path))
    qtbot.mouseClick(export.export_btn, Qt.MouseButton.LeftButton)
    export.wait(120)
    qtbot.waitUntil(lambda: export.export_btn.isEnabled() and export.bar.value() == 100, timeout=10000)
    assert not export.errors, export.errors
    assert export.written["pdf"].read_bytes()[:5] == b"%PDF-"
    assert "MRN-0042" in export.written["csv"].read_text() or export.written["csv"].stat().st_size > 1000

    window.close()  # ends the session cleanly
    with SessionStore.open_read_only(store_path) as store:
        assert store.status == "closed"
        assert store.info().patient_id == "MRN-0042"
        assert store.info().blocked is Limb.RIGHT
        assert any(v.state == "confirmed" for v in store.verdict_changes())


def test_setup_requires_the_blocked_side_and_swaps_the_sides(qtbot):
    # The side check itself: tests/ui/test_setup_side_check.py.
    dlg = SetupDialog(discover_candidates(build_source), None)
    qtbot.addWidget(dlg)
    dlg.accept()
    assert dlg.result_value is None and "blocked side" in dlg.error.text()
    assert "probe 1 → LEFT" in dlg.sides_label.text()
    dlg.toggle_swap()
    assert "probe 1 → RIGHT" in dlg.sides_label.text()


def test_criteria_change_rejudges_the_session_and_is_logged(qtbot, tmp_path):
    from monitor.commands.demo import build_demo_window
    from monitor.pipeline import CRITERIA_PRESETS
    from ui.criteria_dialog import CriteriaDialog

    window = build_demo_window("success-fast", 1, 1.0, Limb.LEFT, manual=True, session_path=tmp_path / "c.sympatherm")
    qtbot.addWidget(window)
    window.advance_to(window.session.source.suggested_injection_s + 1500)
    dlg = CriteriaDialog(window.session.pipeline.criteria, None, window)
    qtbot.addWidget(dlg)
    assert "Park" in dlg.source.text()  # each preset shows its source
    dlg.list.setCurrentRow(list(CRITERIA_PRESETS).index("rise-3"))
    assert dlg.chosen().id == "rise-3"
    window.session.set_criteria(dlg.chosen())
    assert window.session.pipeline.criteria.id == "rise-3"
    notes = [m for m in window.session.markers if m.kind is MarkerKind.NOTE]
    assert notes and "rise-3" in notes[-1].text
    window.finish()
    with SessionStore.open_read_only(tmp_path / "c.sympatherm") as store:
        assert store.criteria()["id"] == "rise-3"
        assert any("Criteria changed" in m.text for m in store.markers())


def test_calibration_dialog_stores_two_point_calibration_in_the_registry(qtbot):
    from monitor.sources.registry import DeviceRegistry
    from ui.calibration_dialog import CalibrationDialog

    reg = DeviceRegistry()
    dlg = CalibrationDialog(reg, [("serial:ST-0042", "probe ST-0042")])
    qtbot.addWidget(dlg)
    dlg.two.setChecked(True)
    dlg.raw1.setValue(25.0)
    dlg.ref1.setValue(25.2)
    dlg.raw2.setValue(35.0)
    dlg.ref2.setValue(35.4)
    dlg.channel.setCurrentIndex(1)
    dlg.accept()
    cal = reg.calibration("serial:ST-0042", 1)
    assert cal is not None and cal.gain == pytest.approx(1.02) and cal.apply(25.0) == pytest.approx(25.2)
    again = CalibrationDialog(reg, [("serial:ST-0042", "probe ST-0042")])
    qtbot.addWidget(again)
    again.channel.setCurrentIndex(1)
    assert "gain 1.0200" in again.current.text()
    again.clear_calibration()
    assert reg.calibration("serial:ST-0042", 1) is None and "none" in again.current.text()
    bad = CalibrationDialog(reg, [("serial:ST-0042", "probe ST-0042")])
    qtbot.addWidget(bad)
    bad.two.setChecked(True)
    bad.raw1.setValue(30.0)
    bad.raw2.setValue(30.5)
    bad.accept()
    assert "Not saved" in bad.result_label.text() and reg.calibration("serial:ST-0042", 0) is None
    # Its words are a label of their own: QDialog.result() (the code exec() returned) still answers.
    assert again.result() == QDialog.DialogCode.Rejected and bad.result() == QDialog.DialogCode.Rejected


def test_application_new_session_with_discovery_and_background_scan(qtbot, monkeypatch):
    """Plain `sympatherm`'s path: discovery, background Bluetooth search, set-up accepted, window open."""
    from ui import app_flow

    scans = []

    def fake_exec(dlg):
        qtbot.waitUntil(lambda: not dlg._scanning, timeout=20000)  # the background search finished
        scans.append(len(dlg.candidates))
        dlg.blocked_left.setChecked(True)
        dlg.scenario.setCurrentIndex(dlg.scenario.findData("failed"))
        dlg.accept()
        return dlg.result() == SetupDialog.DialogCode.Accepted

    monkeypatch.setattr(SetupDialog, "exec", fake_exec)
    controller = app_flow.AppController(build_source, scenarios=scenario_choices(),
                                        simulated_clock_factory=lambda: SimulatedClock(manual=True))
    assert controller.new_session()
    window = controller.windows[-1]
    qtbot.addWidget(window)
    assert scans and scans[0] >= 1
    assert window.session.info.simulated and window.sim_strip is not None
    window.advance_to(120)
    assert window.session.total_readings >= 200
    window.close()
