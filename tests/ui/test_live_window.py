"""The live window on the simulator with a manual clock: markers by key, alarms, closing mid-session."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from monitor.model import Limb, MarkerKind
from monitor.store import SessionStore, find_unfinished_sessions

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def make_window(qtbot, tmp_path):
    from monitor.commands.demo import build_demo_window

    made = []

    def make(scenario="success-fast", seed=1, blocked=Limb.LEFT, auto_injection=True):
        path = tmp_path / f"{scenario}-{len(made)}.sympatherm"
        window = build_demo_window(scenario, seed, 1.0, blocked, manual=True, session_path=path,
                                   auto_injection=auto_injection)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        with qtbot.waitActive(window):  # shortcuts go to the active window
            pass
        made.append(window)
        return window, path

    yield make
    for w in made:
        if not w.session.finished:
            w.finish()


def test_baseline_start_key_opens_the_window_drawn_on_the_plot(make_window, qtbot):
    window, _ = make_window(auto_injection=False)
    window.advance_to(360)
    qtbot.keyClick(window, Qt.Key.Key_B)
    window.advance_to(400)
    window.advance_to(window.session.now() + 1)
    # While it is being taken the banner says so and the plot shows the window from the mark on.
    assert window.banner.title.text().startswith("Taking the baseline")
    assert window.plot.baseline_region.isVisible()
    assert window.plot.baseline_region.getRegion()[0] == pytest.approx(360.0)
    window.advance_to(520)
    qtbot.keyClick(window, Qt.Key.Key_I)
    window.advance_to(window.session.now() + 1)
    start, end = window.plot.baseline_region.getRegion()
    assert (start, end) == (pytest.approx(360.0), pytest.approx(480.0))


def test_markers_by_key_and_moved_with_the_change_logged(make_window, qtbot):
    window, path = make_window(auto_injection=False)
    window.advance_to(120)
    qtbot.keyClick(window, Qt.Key.Key_B)
    window.advance_to(400)
    qtbot.keyClick(window, Qt.Key.Key_N)
    window.advance_to(500)
    qtbot.keyClick(window, Qt.Key.Key_I)
    kinds = [m.kind for m in window.session.markers]
    assert kinds == [MarkerKind.BASELINE, MarkerKind.NEEDLE, MarkerKind.INJECTION]
    assert [round(m.session_s) for m in window.session.markers] == [120, 400, 500]
    # The plot counts minutes from the injection the user marked.
    assert window.plot.axis.origin_s == pytest.approx(500.0)
    window.add_note("patient moved")
    inj = window.session.markers[2]
    window.plot.markerMoved.emit(inj.id, 470.0)  # what dragging the line on the plot emits
    assert window.session.injection_s() == pytest.approx(470.0)
    window.finish()
    with SessionStore.open_read_only(path) as store:
        marks = store.markers()
        assert [m.kind for m in marks] == [MarkerKind.BASELINE, MarkerKind.NEEDLE, MarkerKind.INJECTION,
                                           MarkerKind.NOTE]
        assert marks[2].session_s == pytest.approx(470.0)
        moves = store.marker_moves()
        assert len(moves) == 1 and moves[0].from_s == pytest.approx(500.0) and moves[0].to_s == pytest.approx(470.0)
        assert marks[3].text == "patient moved"


def test_alarm_raised_acknowledged_and_cleared_when_the_probe_fails_and_recovers(make_window, qtbot):
    window, path = make_window("sensor-fault", seed=4)
    model = window.session.source.model
    fault = next(ev for ev in model.artefacts if ev.kind == "open")
    window.advance_to(fault.start_s - 10)
    assert window.alarms.priority is None and not window.alarm_bar.isVisible()
    window.advance_to(fault.start_s + 3, step_s=1.0)
    assert window.alarms.priority == "medium"
    assert window.alarm_bar.isVisible()
    assert "OPEN CIRCUIT" in window.alarm_bar.text.text()
    assert window.tiles[fault.limb].state.alarm == "medium"
    assert window.sound.played.count("medium") == 1
    qtbot.keyClick(window, Qt.Key.Key_A)
    assert window.alarms.all_acknowledged
    assert window.alarm_bar.isVisible()  # acknowledging silences but the visual sign stays
    assert "silenced" in window.alarm_bar.text.text()
    window.advance_to(fault.end_s + 3, step_s=1.0)
    assert fault.limb not in {a.condition.limb for a in window.alarms.active.values()}
    assert window.sound.played.count("medium") == 1  # no repeat once acknowledged
    window.finish()
    with SessionStore.open_read_only(path) as store:
        alarms = [e for e in store.events("alarm") if e.limb is fault.limb and e.subkind == "sensor_fault"]
        assert alarms and alarms[0].end_s is not None
        assert alarms[0].start_s == pytest.approx(fault.start_s, abs=2.0)


def test_medium_alarm_flashes_within_iec_band(make_window):
    from ui.main_window import MEDIUM_FLASH_HZ

    window, _ = make_window()
    assert 0.4 <= MEDIUM_FLASH_HZ <= 0.8
    assert window.flash_timer.interval() == pytest.approx(500 / MEDIUM_FLASH_HZ, abs=1)


def test_closing_the_window_mid_session_leaves_the_file_intact(make_window):
    window, path = make_window()
    window.advance_to(900)
    n = window.session.total_readings
    window.close()
    with SessionStore.open_read_only(path) as store:
        assert store.status == "closed"
        assert store.reading_count() == n
        assert store.time_span()[1] == pytest.approx(900.0)


def test_killing_the_app_mid_session_leaves_a_readable_unfinished_session(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(QT_QPA_PLATFORM="offscreen", SYMPATHERM_HOME=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "demo", "--speed", "120", "--rate", "2"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sessions = tmp_path / "data" / "sympatherm" / "sessions"
    try:
        deadline = time.monotonic() + 60
        count = 0
        while time.monotonic() < deadline and count < 200:
            files = list(sessions.glob("*.sympatherm")) if sessions.exists() else []
            if files:
                try:
                    with SessionStore.open_read_only(files[0]) as store:
                        count = store.reading_count()
                except Exception:
                    count = 0
            time.sleep(0.1)  # polling for the condition, not timing anything
        assert count >= 200, proc.stderr.read() if proc.poll() is not None else "no readings recorded"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    files = list(sessions.glob("*.sympatherm"))
    assert len(files) == 1
    with SessionStore.open_read_only(files[0]) as store:
        assert store.reading_count() >= count
        assert store.status == "recording"
    assert files[0] in [Path(p) for p in find_unfinished_sessions(sessions)]


def test_marker_dialog_corrects_a_marker_and_logs_the_reason(make_window, qtbot):
    from ui.marker_dialog import MarkerDialog

    window, path = make_window(auto_injection=False)
    window.advance_to(600)
    window.mark(MarkerKind.INJECTION)
    dlg = MarkerDialog(window.session, window)
    qtbot.addWidget(dlg)
    dlg.set_session_seconds(570.0)
    dlg.reason.setText("injection marked late")
    dlg.accept()
    assert window.session.injection_s() == pytest.approx(570.0)
    window.finish()
    with SessionStore.open_read_only(path) as store:
        move = store.marker_moves()[0]
        assert (move.from_s, move.to_s, move.reason) == (pytest.approx(600.0), pytest.approx(570.0),
                                                          "injection marked late")


def test_night_mode_dims_the_data_but_not_the_alarms(make_window, qtbot):
    window, _ = make_window()
    qtbot.keyClick(window, Qt.Key.Key_D)
    assert window.night.isVisible()
    assert window.night.geometry() == window.data_area.rect()
    assert window.data_area.isAncestorOf(window.night) and window.data_area.isAncestorOf(window.plot)
    assert not window.data_area.isAncestorOf(window.alarm_bar)  # alarms keep their full brightness
    qtbot.keyClick(window, Qt.Key.Key_D)
    assert not window.night.isVisible()


def test_lifted_probe_raises_a_low_priority_alarm_logged_with_its_end(make_window):
    window, path = make_window("probe-lift", seed=2)
    lift = next(ev for ev in window.session.source.model.artefacts if ev.kind == "lift")
    window.advance_to(lift.start_s + 90, step_s=2.0)
    assert window.alarms.priority == "low"  # cyan, steady: no flashing at low priority
    assert "lifted" in window.alarm_bar.text.text()
    assert window.tiles[lift.limb].state.alarm == "low"
    window.advance_to(lift.end_s + 600, step_s=10.0)
    assert window.alarms.priority is None
    window.finish()
    with SessionStore.open_read_only(path) as store:
        logged = [e for e in store.events("alarm") if e.subkind == "probe_lifted"]
        assert logged and logged[0].limb is lift.limb and logged[0].priority == "low"
        assert logged[0].end_s is not None and logged[0].end_s > logged[0].start_s


def test_difference_plot_on_key_v_draws_the_pipelines_di_minus_dc(make_window, qtbot):
    window, _ = make_window()
    qtbot.keyClick(window, Qt.Key.Key_V)
    assert window.plot.showing_difference and window.plot.diff_title.isVisible()
    window.advance_to(120)
    window.plot.refresh(force=True)
    # No baseline yet: the plain temperature difference, and the title says it is not Di − Dc.
    assert "not Di − Dc" in window.plot.diff_title.text()
    assert not window.plot.diff_threshold.isVisible()
    inj = window.session.source.suggested_injection_s
    window.advance_to(inj + 600)
    window.plot.refresh(force=True)
    series = window.session.pipeline.difference_series()
    assert series.relative_to_baseline
    assert window.plot.diff_title.text().startswith("Di − Dc: blocked foot's rise minus the other foot's rise")
    x, y = window.plot.diff_curve.getOriginalDataset()
    # What is drawn is the pipeline's series (the visible part of it), NaN gaps included.
    i0 = int(np.searchsorted(series.t_s, x[0]))
    np.testing.assert_array_equal(x, series.t_s[i0:])
    np.testing.assert_array_equal(y, series.di_minus_dc_c[i0:])
    assert np.nanmax(y) > 1.0  # the blocked foot warmed
    threshold = window.session.pipeline.criteria.min_di_minus_dc_c
    assert threshold is not None and window.plot.diff_threshold.isVisible()
    assert window.plot.diff_threshold.value() == pytest.approx(threshold)


def test_difference_curve_from_two_one_foot_probes_that_never_report_together(qtbot, tmp_path):
    """Two one-foot thermometers at their own rates (1 s and 1.4 s): no two readings share a time,
    yet the plot shows Di − Dc, with a gap where one probe was silent."""
    from monitor.clock import SimulatedClock
    from monitor.csvio import write_interchange_csv
    from monitor.model import MarkerKind, ProbeStatus, Reading, SessionInfo
    from monitor.procedure import Procedure
    from monitor.sources.replay import ReplaySource
    from ui.main_window import MainWindow

    def probe(limb, start, period, temp):
        t = np.arange(start, 1500.0, period)
        t = t[(t < 1000.0) | (t > 1030.0)] if limb is Limb.RIGHT else t  # the right probe falls silent 30 s
        return [Reading(limb, round(float(temp(ti)), 2), ProbeStatus.OK, float(ti), 1.7e9 + ti) for ti in t]

    left = probe(Limb.LEFT, 0.3, 1.0, lambda t: 28.0 + min(4.0, max(0.0, (t - 600.0) / 40.0)))
    right = probe(Limb.RIGHT, 0.55, 1.4, lambda t: 30.0)
    assert not {r.session_s for r in left} & {r.session_s for r in right}
    csv = tmp_path / "two-probes.csv"
    write_interchange_csv(csv, sorted(left + right, key=lambda r: r.session_s))
    source = ReplaySource(csv, clock=SimulatedClock(manual=True))
    info = SessionInfo(patient_id="T", blocked=Limb.LEFT)
    store = SessionStore.create(info, tmp_path / "two.sympatherm")
    session = Procedure(source, info, store)
    window = MainWindow(session, run_timer=False, persist_layout=False)
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    session.start()
    window.actions_by_name["difference"].trigger()
    window.advance_to(400)
    window.mark(MarkerKind.INJECTION)
    window.advance_to(1490)
    window.plot.refresh(force=True)
    x, y = window.plot.diff_curve.getOriginalDataset()
    ok = np.isfinite(y)
    assert ok.sum() > 500  # a curve, not the empty one a same-time subtraction gives
    assert np.nanmax(y) == pytest.approx(4.0, abs=0.2)  # the left foot's 4 °C rise
    silent = (x > 1006.0) & (x < 1025.0)
    assert silent.any() and not ok[silent].any()  # the silent stretch is a gap, not a line
    assert window.plot.diff_title.text().startswith("Di − Dc")
    window.finish()


def test_recording_moves_to_another_file_and_keeps_everything(make_window, tmp_path):
    window, _ = make_window()
    window.advance_to(300)
    new = tmp_path / "elsewhere.sympatherm"
    window.session.relocate(new)  # what "Save recording elsewhere…" does after the file dialog
    window.advance_to(600)
    n = window.session.total_readings
    window.finish()
    with SessionStore.open_read_only(new) as store:
        assert store.reading_count() == n and store.status == "closed"
    assert "elsewhere.sympatherm" in window.status_label.text() or window.session.store.path == new


def test_a_display_error_raises_an_alarm_and_recording_goes_on(make_window, monkeypatch, capsys):
    window, path = make_window()
    window.advance_to(60)

    def broken():
        raise RuntimeError("display bug")

    monkeypatch.setattr(window.session, "snapshot", broken)
    before = window.session.total_readings
    window.session.source.step_to(120)
    window.tick()  # what the timer calls: must not raise (PyQt would abort the program)
    assert window.alarms.priority == "medium" and "PROGRAM ERROR" in window.alarm_bar.text.text()
    window.session.source.step_to(121)
    window.tick()
    assert window.sound.played.count("medium") == 1  # one alarm, not one per tick
    assert window.session.total_readings > before  # the readings were still recorded
    assert "display bug" in capsys.readouterr().err
    monkeypatch.undo()
    window.session.source.step_to(130)
    window.tick()
    assert window.alarms.priority is None  # fixed: the alarm ends
    window.finish()
    with SessionStore.open_read_only(path) as store:
        assert store.time_span()[1] == pytest.approx(130.0)


def test_every_action_has_a_key_and_a_menu_entry(make_window):
    window, _ = make_window()
    menus = [a for m in window.menuBar().actions() for a in m.menu().actions()]
    keys = [a.shortcut().toString() for a in window.actions_by_name.values()]
    assert all(keys) and len(set(keys)) == len(keys)  # every action has its own key
    assert set(window.actions_by_name.values()) <= set(menus)  # and is reachable from the menu bar


def test_a_thermometer_reporting_every_30_s_draws_a_line_and_raises_no_data_only_when_it_stops(qtbot, tmp_path):
    """A Bluetooth thermometer whose measurement interval is 30 s: its pauses are its rhythm,
    not "no data" (the pipeline's rule: 2.5 × its typical interval), until it really stops."""
    from monitor.clock import SimulatedClock
    from monitor.csvio import write_interchange_csv
    from monitor.model import ProbeStatus, Reading, SessionInfo
    from monitor.procedure import Procedure
    from monitor.sources.replay import ReplaySource
    from ui.main_window import MainWindow

    def probe(limb, start):
        t = np.arange(start, 1500.0, 30.0)
        if limb is Limb.RIGHT:
            t = t[(t < 900.0) | (t > 1200.0)]  # the right thermometer is silent for 5 minutes
        return [Reading(limb, 30.0, ProbeStatus.OK, float(ti), 1.7e9 + ti) for ti in t]

    csv = tmp_path / "slow.csv"
    write_interchange_csv(csv, sorted(probe(Limb.LEFT, 0.5) + probe(Limb.RIGHT, 12.0), key=lambda r: r.session_s))
    source = ReplaySource(csv, clock=SimulatedClock(manual=True))
    info = SessionInfo(patient_id="T", blocked=Limb.LEFT)
    session = Procedure(source, info, SessionStore.create(info, tmp_path / "slow.sympatherm"))
    window = MainWindow(session, run_timer=False, persist_layout=False)
    qtbot.addWidget(window)
    session.start()
    window.advance_to(895.0, step_s=5.0)
    assert window.session.pipeline.allowed_gap_s(Limb.RIGHT) == pytest.approx(75.0)
    assert window.alarms.priority is None  # 25 s since the last reading is this probe's normal pause
    assert "NO DATA" not in window.tiles[Limb.RIGHT].detail_label.text()
    for limb in Limb:
        buf = window.plot.buffers[limb]
        settled = buf.y[buf.x > 120.0]
        assert np.isfinite(settled).all() and settled.size > 20  # one line, not scattered points
    window.advance_to(1100.0, step_s=5.0)
    assert "no_data:right" in window.alarms.active  # 200 s of silence: that is no data
    window.advance_to(1300.0, step_s=5.0)
    buf = window.plot.buffers[Limb.RIGHT]
    silent = (buf.x > 885.0) & (buf.x < 1215.0)
    assert np.isnan(buf.y[silent]).any()  # and the silence is a gap on the plot
    rows = window.table.table_model.rows
    minute_5 = next(r for r in rows if r.minute == 5)
    # A reading up to 75 s old stands for its minute (monitor.procedure.minutes, rule 4).
    assert minute_5.celsius[Limb.LEFT] == minute_5.celsius[Limb.RIGHT] == 30.0
    window.finish()


def test_probe_checked_keys_mark_the_foot_and_end_its_open_lift(make_window, qtbot):
    """A nurse re-tapes the lifted probe and presses its key: the marker names the foot, is logged
    and stored, and the detector's lift on that foot ends at the check."""
    window, path = make_window("probe-lift", seed=1)
    lift = next(ev for ev in window.session.source.model.artefacts if ev.kind == "lift")
    key = Qt.Key.Key_L if lift.limb is Limb.LEFT else Qt.Key.Key_R
    window.advance_to(lift.start_s + 40, step_s=1.0)
    open_lift = [a for a in window.session.pipeline.artefacts
                 if a.kind == "probe_lifted" and a.limb is lift.limb and a.end_s is None]
    assert open_lift, "the lift should be open when the nurse checks the probe"
    qtbot.keyClick(window, key)
    [check] = [m for m in window.session.markers if m.kind is MarkerKind.PROBE_CHECKED]
    assert check.text == str(lift.limb) and check.checked_limb is lift.limb
    assert any(f"Probe checked ({lift.limb})" in e.text for e in window.session.log)
    window.advance_to(check.session_s + 60, step_s=1.0)
    ended = [a for a in window.session.pipeline.artefacts if a.ended_by_check]
    assert len(ended) == 1 and ended[0].limb is lift.limb and ended[0].end_s == check.session_s
    window.finish()
    with SessionStore.open_read_only(path) as store:
        [stored] = [m for m in store.markers() if m.kind is MarkerKind.PROBE_CHECKED]
        assert stored.text == str(lift.limb) and stored.session_s == pytest.approx(check.session_s)
        words = [e.message for e in store.events("artefact") if e.subkind == "probe_lifted"]
        assert any("ended by the nurse's probe check" in w for w in words)


@pytest.mark.parametrize("width", [1100, 1400, 1600])
def test_no_toolbar_button_hides_behind_an_overflow_arrow(make_window, qtbot, width):
    window, _ = make_window()
    window.resize(width, 900)

    def hidden() -> list[str]:
        return [a.iconText() for tb in (window.marker_toolbar, window.toolbar) for a in tb.actions()
                if not a.isSeparator() and not tb.widgetForAction(a).isVisible()]

    qtbot.waitUntil(lambda: window.width() == width and not hidden(), timeout=10000)
