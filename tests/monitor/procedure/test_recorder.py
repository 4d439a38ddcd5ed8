"""The recorder inside the procedure core: source → pipeline and store, with gaps, artefacts,
alarms and verdicts recorded."""

from __future__ import annotations

from monitor.clock import SimulatedClock
from monitor.model import ConnectionState, Limb, MarkerKind, SessionInfo
from monitor.pipeline import BlockPipeline
from monitor.procedure import Procedure
from monitor.procedure.recorder import SessionRecorder
from monitor.simulation.source import SimulatedSource
from monitor.store import SessionStore
from tests.support.sessions import record_simulated


def test_every_reading_and_the_pipelines_findings_reach_the_file(tmp_path):
    path = record_simulated(tmp_path / "s.sympatherm", "sensor-fault", until_s=2400.0)
    store = SessionStore.open_read_only(path)
    readings = store.readings()
    # 1 Hz per limb from t = 0 to 2400 inclusive, minus the samples the fault had no reading for.
    assert {r.limb for r in readings} == {Limb.LEFT, Limb.RIGHT}
    assert len(readings) >= 2 * 2401 - 10
    assert [r.session_s for r in readings if r.limb is Limb.LEFT] == sorted(
        r.session_s for r in readings if r.limb is Limb.LEFT)
    kinds = {(e.kind, e.subkind) for e in store.events()}
    assert ("alarm", "sensor_fault") in kinds
    assert any(k == "artefact" for k, _ in kinds)
    assert all(e.end_s is not None for e in store.events()), "every event is closed at the end"
    verdicts = [v.state for v in store.verdict_changes()]
    assert verdicts and verdicts[0] in ("waiting_for_baseline", "baseline_captured", "monitoring")
    injection = [m for m in store.markers() if m.kind is MarkerKind.INJECTION]
    assert len(injection) == 1
    assert store.devices()[0].identity["simulated"] is True
    assert store.criteria()["id"] == "default"
    assert store.status == "closed"
    store.close()


def test_committed_readings_are_visible_to_a_reader_after_each_pump_and_gaps_are_logged(tmp_path):
    clock = SimulatedClock(manual=True)
    source = SimulatedSource("success-fast", seed=1, clock=clock)
    info = SessionInfo(blocked=Limb.LEFT, simulated=True)
    store = SessionStore.create(info, tmp_path / "g.sympatherm")
    recorder = Procedure(source, info, store, commit_interval_s=0.0)
    source.start()
    source.step_to(30)
    recorder.pump()
    reader = SessionStore.open_read_only(store.path)
    assert reader.reading_count() == 62
    source._set_state(ConnectionState.LOST, "cable unplugged")  # what a real source does on unplug
    clock.advance(20)
    recorder.pump()
    source._set_state(ConnectionState.STREAMING, "reconnected")
    source.step_to(60)
    recorder.pump()
    gaps = reader.events("connection_gap")
    assert [(g.start_s, g.end_s, g.message) for g in gaps] == [(30.0, 50.0, "cable unplugged")]
    lost = reader.events("alarm")  # one alarm for the lost link, not one per foot
    assert [(e.subkind, e.start_s, e.end_s) for e in lost] == [("connection_lost", 30.0, 50.0)]
    reader.close()
    recorder.finish()


def test_a_full_disk_mid_session_is_reported_at_once_and_nothing_is_lost(tmp_path):
    clock = SimulatedClock(manual=True)
    source = SimulatedSource("success-fast", seed=1, clock=clock)
    store = SessionStore.create(SessionInfo(blocked=Limb.LEFT, simulated=True), tmp_path / "f.sympatherm")
    reports = []
    recorder = SessionRecorder(source, store, BlockPipeline(Limb.LEFT), commit_interval_s=0.0,
                               on_write_error=reports.append)
    source.start()
    source.step_to(10)
    recorder.pump()
    pages = store.connection.execute("PRAGMA page_count").fetchone()[0]
    store.connection.execute(f"PRAGMA max_page_count={pages}")  # the disk fills up
    for t in range(20, 2000, 10):
        source.step_to(t)
        recorder.pump()
    assert recorder.write_error is not None and "disk is full" in str(recorder.write_error)
    assert len(reports) == 1, "reported once, at the first failure"
    assert store.pending_count > 3000  # held in memory (the last free bytes of the file took a few)
    store.connection.execute("PRAGMA max_page_count=1073741823")  # space returns
    source.step_to(2000)
    recorder.pump()
    assert recorder.write_error is None and reports[-1] is None
    recorder.finish()
    reader = SessionStore.open_read_only(store.path)
    assert reader.reading_count() == 2 * 2001
    reader.close()


def test_a_moved_marker_is_logged_and_the_pipeline_judges_from_its_new_place(tmp_path):
    clock = SimulatedClock(manual=True)
    source = SimulatedSource("success-fast", seed=1, clock=clock)
    store = SessionStore.create(SessionInfo(blocked=Limb.LEFT, simulated=True), tmp_path / "m.sympatherm")
    recorder = SessionRecorder(source, store, BlockPipeline(Limb.LEFT), commit_interval_s=0.0)
    source.start()
    source.step_to(600)
    recorder.pump()
    marker_id = recorder.add_marker(MarkerKind.INJECTION, 560.0)
    recorder.move_marker(marker_id, source.suggested_injection_s, reason="typed late")
    assert [m.session_s for m in recorder.pipeline.markers] == [source.suggested_injection_s]
    recorder.pipeline = BlockPipeline(Limb.LEFT, criteria="rise-3")  # criteria changed mid-session
    recorder.finish()
    reader = SessionStore.open_read_only(store.path)
    assert [(m.session_s, m.placed_s) for m in reader.markers()] == [(source.suggested_injection_s, 600.0)]
    assert [(mv.from_s, mv.reason) for mv in reader.marker_moves()] == [(560.0, "typed late")]
    assert reader.criteria()["id"] == "rise-3"
    assert reader.verdict_changes()[-1].detail["criteria_changed_to"] == "rise-3"
    reader.close()


def test_a_moved_injection_mark_rejudges_and_the_log_says_where_the_verdict_stands(tmp_path):
    clock = SimulatedClock(manual=True)
    source = SimulatedSource("success-fast", seed=1, clock=clock)
    store = SessionStore.create(SessionInfo(blocked=Limb.LEFT, simulated=True), tmp_path / "m.sympatherm")
    recorder = SessionRecorder(source, store, BlockPipeline(Limb.LEFT), commit_interval_s=0.0)
    source.start()
    injection = source.suggested_injection_s
    marker_id = recorder.add_marker(MarkerKind.INJECTION, injection)
    source.step_to(injection + 1800)
    recorder.pump()
    logged = store.verdict_changes()
    assert logged[-1].state == "confirmed"
    # The mark was placed at the wrong moment: moved to after the warming, the pipeline re-derives
    # its whole verdict history (no longer confirmed), and the log must end where it now stands.
    recorder.move_marker(marker_id, injection + 1700, reason="typed at the wrong time")
    recorder.pump()
    after = store.verdict_changes()
    assert len(after) > len(logged)
    assert after[-1].state == str(recorder.pipeline.verdict.state)
    assert after[-1].state != "confirmed" or after[-1].detail["confirmed_at_s"] != logged[-1].detail["confirmed_at_s"]
    # Times in the log never go backwards.
    assert [v.session_s for v in after] == sorted(v.session_s for v in after)
    recorder.finish()


def test_a_thermometer_that_reports_every_30_s_raises_no_no_data_alarm_between_its_readings(tmp_path):
    clock = SimulatedClock(manual=True)
    source = SimulatedSource("success-fast", seed=2, clock=clock, rate_hz=1 / 30)
    info = SessionInfo(blocked=Limb.LEFT, simulated=True)
    store = SessionStore.create(info, tmp_path / "slow.sympatherm")
    recorder = Procedure(source, info, store, commit_interval_s=0.0)
    pipeline = recorder.pipeline
    source.start()
    for t in range(0, 1801, 5):  # the GUI/record loop pumps far more often than the probe sends
        source.step_to(t)
        recorder.pump()
    assert pipeline.allowed_gap_s(Limb.LEFT) > 30.0
    # Until its rhythm is known (two intervals) a slow probe's silence is "no data", as the
    # pipeline sees it; after that, the silences between its readings are not alarms.
    late = [e for e in store.events("alarm") if e.subkind == "no_data" and e.start_s > 120.0]
    assert late == []
    # A real outage still is one: the probe goes quiet for 5 of its intervals.
    for _ in range(30):
        clock.advance(5)
        recorder.pump()
    outage = [e for e in store.events("alarm") if e.subkind == "no_data" and e.start_s >= 1770.0]
    assert {e.limb for e in outage} == {Limb.LEFT, Limb.RIGHT}
    recorder.finish()


def test_a_probe_check_moved_away_from_a_lift_reopens_its_stored_event(tmp_path):
    source = SimulatedSource("probe-lift", seed=2, blocked=Limb.RIGHT, clock=SimulatedClock(manual=True))
    lift = next(ev for ev in source.model.artefacts if ev.kind == "lift")
    store = SessionStore.create(SessionInfo(blocked=Limb.RIGHT, simulated=True), tmp_path / "moved.sympatherm")
    recorder = SessionRecorder(source, store, BlockPipeline(Limb.RIGHT), commit_interval_s=0.0)
    source.start()
    check_id = None
    t = 0.0
    while t < lift.start_s + 200:
        t += 5.0
        source.step_to(t)
        recorder.pump()
        if check_id is None and t >= lift.start_s + 40:
            check_id = recorder.add_marker(MarkerKind.PROBE_CHECKED, t, text=str(lift.limb))

    def stored_lift():
        recorder.commit()
        return next(e for e in store.events("artefact") if e.subkind == "probe_lifted" and e.limb is lift.limb)

    assert stored_lift().end_s is not None and "ended by the nurse's probe check" in stored_lift().message
    recorder.move_marker(check_id, lift.start_s - 300.0, reason="placed on the wrong minute")
    recorder.pump()
    moved = stored_lift()
    assert "ended by the nurse's probe check" not in moved.message
    lifts = [a for a in recorder.pipeline.artefacts if a.kind == "probe_lifted" and a.limb is lift.limb]
    assert moved.end_s is None and lifts[0].end_s is None and not lifts[0].ended_by_check
    recorder.finish()
