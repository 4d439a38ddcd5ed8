"""Resuming a session a crash left unfinished: `record --resume`, `sessions`, and the recorder API."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.clock import SimulatedClock
from monitor.model import ConnectionState, Limb, MarkerKind, SessionInfo
from monitor.pipeline import BlockPipeline
from monitor.procedure.recorder import MIN_RESUME_STEP_S, SessionRecorder, plan_resume
from monitor.procedure.source_spec import SerialSpec, stored_spec
from monitor.simulation.source import SimulatedSource
from monitor.store import SessionStore, StoreError, find_unfinished_sessions

REPO = Path(__file__).resolve().parents[3]
STORED = re.compile(r"stored (\d+)")
INTERRUPTED = re.compile(r"^recording interrupted: SympaTherm was not running from \d\d:\d\d:\d\d to \d\d:\d\d:\d\d$")


def _record(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "monitor.cli", "record", *args], cwd=REPO, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _wait_for(proc: subprocess.Popen, test, *, timeout_s: float = 30.0) -> list[str]:
    """stdout lines up to the first one ``test`` accepts (read on a thread so a hang cannot block)."""
    seen: list[str] = []
    found = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            seen.append(line)
            if test(line):
                found.set()
                return

    threading.Thread(target=read, daemon=True).start()
    if not found.wait(timeout_s):
        proc.kill()
        raise AssertionError(f"no expected line; got {seen!r}; stderr: {proc.stderr.read()}")
    return seen


def _stored_at_least(n: int):
    def test(line: str) -> bool:
        match = STORED.search(line)
        return bool(match) and int(match.group(1)) >= n
    return test


def _times(readings, limb: Limb) -> list[float]:
    return [r.session_s for r in readings if r.limb is limb]


def _committed(path) -> tuple[int, int]:
    """(readings, markers) a reader sees in the file: what is committed."""
    try:
        with SessionStore.open_read_only(path, check_integrity=False) as reader:
            return reader.reading_count(), len(reader.markers())
    except StoreError:
        return 0, 0


def test_a_killed_recording_resumed_with_record_resume_continues_one_time_axis(tmp_path, capsys):
    path = tmp_path / "resumed.sympatherm"
    first = _record("--demo", "--speed", "200", "--blocked", "left", "--patient-id", "RES-1", "--injection-at", "240",
                    "--out", str(path), "--status-every", "0.2")
    first.stdin.write("needle\nnote before the crash\n")
    first.stdin.flush()
    lines = _wait_for(first, lambda ln: "Marker placed: note" in ln)
    # Past the injection mark at 240 s (after the probes have settled: an injection marked while
    # they settle gets no baseline, and this test compares a judged verdict).
    lines += _wait_for(first, _stored_at_least(520))
    received = int(STORED.search(lines[-1]).group(1))
    # Commits come every 0.5 s: wait on the file (not a timer a loaded machine could outrun)
    # until what it had received, and the three markers, are committed; then kill it.
    deadline = time.monotonic() + 60.0
    while (committed := _committed(path))[0] < received or committed[1] < 3:
        assert time.monotonic() < deadline, "the recording never committed what it had received"
        time.sleep(0.1)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)

    crashed = SessionStore.open_read_only(path)
    before = crashed.readings()
    markers_before = crashed.markers()
    crashed.close()
    assert len(before) >= received, "at most about a second of readings lost"
    assert {m.kind for m in markers_before} == {MarkerKind.NEEDLE, MarkerKind.NOTE, MarkerKind.INJECTION}

    # `sessions` offers both choices, with the exact command that resumes this recording.
    assert main(["sessions"]) == 0
    listing = capsys.readouterr().out
    resume_line = next(ln for ln in listing.splitlines() if "resume:" in ln and str(path) in ln)
    assert f"close:   sympatherm sessions --close {path}" in listing
    command = shlex.split(resume_line.split("resume:", 1)[1])
    assert command[:3] == ["sympatherm", "record", "--resume"]
    assert command[3:] == [str(path), "--demo", "--scenario", "success-fast", "--seed", "1", "--speed", "200"]

    second = _record(*command[2:], "--duration", "1300", "--status-every", "0.2")
    resumed_lines = _wait_for(second, lambda ln: ln.startswith("Resuming (SIMULATED)"))
    assert "recording interrupted: SympaTherm was not running from" in resumed_lines[-1]
    _wait_for(second, _stored_at_least(20))
    second.stdin.write("note after the crash\n")
    second.stdin.flush()
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert "Session saved" in out

    # One self-contained file, closed cleanly.
    assert not Path(f"{path}-wal").exists()
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    con.close()
    store = SessionStore.open_read_only(path)
    after = store.readings()
    markers = store.markers()
    gaps = store.events("connection_gap")
    last_verdict = store.verdict_changes()[-1]
    status, info = store.status, store.info()
    store.close()
    assert status == "closed" and info.patient_id == "RES-1" and info.blocked is Limb.LEFT
    assert find_unfinished_sessions() == []

    # Everything from before the kill is still there, unchanged, and the new readings follow it.
    assert after[:len(before)] == before
    new = after[len(before):]
    assert len(new) > 100
    old_end = max(r.session_s for r in before)
    for limb in Limb:
        times = _times(after, limb)
        assert all(b > a for a, b in zip(times, times[1:], strict=False)), "strictly increasing, no overlap"
    assert min(r.session_s for r in new) > old_end
    assert max(r.session_s for r in new) <= 1300.0
    # The simulated patient goes on where it was, probes long settled: no dip back to room temperature.
    for limb in Limb:
        last_old = [r.celsius for r in before if r.limb is limb and r.celsius is not None][-1]
        first_new = [r.celsius for r in new if r.limb is limb and r.celsius is not None][:5]
        assert first_new and all(abs(c - last_old) < 1.5 for c in first_new), (limb, last_old, first_new)

    # The interruption is one connection gap, in plain words, from where the file stopped to the restart.
    [gap] = [g for g in gaps if g.subkind == "interrupted"]
    assert INTERRUPTED.match(gap.message), gap.message
    assert old_end <= gap.start_s < gap.end_s <= min(r.session_s for r in new)
    assert gap.end_s - gap.start_s >= MIN_RESUME_STEP_S

    # Markers from before the kill are kept; one typed after resuming sits after the gap.
    kept = [(m.kind, m.session_s, m.text) for m in markers_before]
    assert kept == [(m.kind, m.session_s, m.text) for m in markers if m.session_s <= old_end + 1.0]
    late = [m for m in markers if m.text == "after the crash"]
    assert len(late) == 1 and late[0].session_s > gap.end_s

    # The CSV export and `analyze` read the whole session and reach the verdict the recorder logged.
    csv_path = tmp_path / "resumed.csv"
    assert main(["export", str(path), "--format", "csv", "--out", str(csv_path)]) == 0
    capsys.readouterr()
    assert main(["analyze", str(csv_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["verdict"] == last_verdict.state
    assert result["confirmed_at_s"] == pytest.approx(last_verdict.detail.get("confirmed_at_s"))
    assert result["blocked"] == "left"
    assert "recording interrupted: SympaTherm was not running" in csv_path.with_name("resumed.events.csv").read_text()


def _manual_session(path: Path, until_s: float) -> tuple[Path, list]:
    """A simulated session on a manual clock, left unfinished as a crash would leave it."""
    source = SimulatedSource("success-fast", seed=3, blocked=Limb.RIGHT, clock=SimulatedClock(manual=True))
    store = SessionStore.create(SessionInfo(patient_id="API-1", blocked=Limb.RIGHT, simulated=True), path)
    recorder = SessionRecorder(source, store, BlockPipeline(Limb.RIGHT), commit_interval_s=0.0)
    recorder.schedule_marker(MarkerKind.INJECTION, 300.0)
    source.start()
    source.step_to(until_s)
    recorder.pump()
    recorder.commit()
    verdicts = list(recorder.pipeline.verdict_changes)
    _crash(store)  # the file stays "recording"; only the lock and connection go
    return store.path, verdicts


def test_the_recorder_api_replays_the_file_and_shifts_everything_the_source_gives(tmp_path):
    path, verdicts_before = _manual_session(tmp_path / "api.sympatherm", 1200.0)
    assert [str(v.state) for _, v in verdicts_before][-1] == "confirmed"
    store = SessionStore.open(path, resume=True)
    point = store.resume_point()
    assert point.last_session_s == 1200.0 and point.readings == 2 * 1201
    # The simulator's wall clock ran ahead of real time; the stop is the last real save, which
    # reopening the file does not move.
    assert point.stopped_wall <= time.time() and point.stopped_wall < store.readings()[-1].wall_time
    assert plan_resume(store, speed=20.0, now_wall=point.stopped_wall + 2.0).offset_s == pytest.approx(1240.0)
    plan = plan_resume(store, now_wall=point.stopped_wall + 42.0)
    assert plan.offset_s == pytest.approx(1242.0)

    source = SimulatedSource("success-fast", seed=3, blocked=Limb.RIGHT, clock=SimulatedClock(manual=True))
    pipeline = BlockPipeline(Limb.RIGHT)
    recorder = SessionRecorder.resume(source, store, pipeline, plan=plan, commit_interval_s=0.0)
    # The replayed pipeline already knows the baseline, the injection and the confirmed block.
    assert str(pipeline.verdict.state) == "confirmed"
    assert pipeline.verdict.confirmed_at_s == verdicts_before[-1][1].confirmed_at_s
    assert recorder.clock.now() == pytest.approx(1242.0)

    source.start()
    marker_id = recorder.add_marker(MarkerKind.NOTE, text="typed after resuming")
    source.step_to(30.0)
    source._set_state(ConnectionState.LOST, "cable unplugged")  # a real connection event, on the source clock
    source._set_state(ConnectionState.STREAMING, "back")
    recorder.pump()
    recorder.finish()

    store = SessionStore.open_read_only(path)
    readings = store.readings()
    notes = [m for m in store.markers() if m.id == marker_id]
    gaps = {g.subkind: g for g in store.events("connection_gap")}
    verdicts = store.verdict_changes()
    store.close()
    new = [r for r in readings if r.session_s > 1200.0]
    assert len(readings) == 2 * 1201 + 2 * 31 and [r.session_s for r in new[:2]] == [1242.0, 1242.0]
    assert notes[0].session_s == pytest.approx(1242.0)
    assert gaps["interrupted"].start_s == 1200.0 and gaps["interrupted"].end_s == pytest.approx(1242.0)
    assert gaps["lost"].start_s == pytest.approx(1272.0)
    # The verdicts the crash had saved are not logged twice.
    states = [v.state for v in verdicts]
    assert states.count("confirmed") == 1


def _crash(store: SessionStore) -> None:
    store.connection.close()
    store._release_lock(store.path)


def test_a_session_can_be_interrupted_and_resumed_twice(tmp_path):
    path, _ = _manual_session(tmp_path / "twice.sympatherm", 100.0)
    for round_ in range(2):
        store = SessionStore.open(path, resume=True)
        plan = plan_resume(store, now_wall=store.resume_point().stopped_wall + 10.0)
        source = SimulatedSource("success-fast", seed=3, blocked=Limb.RIGHT, clock=SimulatedClock(manual=True))
        recorder = SessionRecorder.resume(source, store, BlockPipeline(Limb.RIGHT), plan=plan, commit_interval_s=0.0)
        source.start()
        source.step_to(20.0)
        recorder.pump()
        if round_ == 0:
            recorder.commit()
            _crash(store)
        else:
            recorder.finish()
    store = SessionStore.open_read_only(path)
    times = _times(store.readings(), Limb.LEFT)
    gaps = [(g.start_s, g.end_s) for g in store.events("connection_gap") if g.subkind == "interrupted"]
    resumes = json.loads(store.meta()["resumes"])
    store.close()
    assert gaps == [(100.0, 110.0), (130.0, 140.0)]
    assert times == [float(t) for t in range(101)] + [110.0 + t for t in range(21)] + [140.0 + t for t in range(21)]
    assert [r["resumed_s"] for r in resumes] == [110.0, 140.0]


def test_a_serial_recording_resumes_on_the_wall_clock_across_the_interruption(tmp_path, capsys):
    from monitor.model import ProbeStatus, Reading
    from monitor.simulation.virtual_serial import VirtualSerialProbe

    path = tmp_path / "serial.sympatherm"
    store = SessionStore.create(SessionInfo(patient_id="SER-R", blocked=Limb.LEFT), path)
    crashed_at = time.time() - 10.0  # the last reading arrived 10 s ago; then the program died
    store.add_readings(Reading(limb, 30.0, ProbeStatus.OK, float(t), crashed_at - 60.0 + t, sequence=t)
                       for t in range(61) for limb in Limb)
    store.commit()
    _crash(store)

    with VirtualSerialProbe("success-fast", rate_hz=10.0, device_id="SIM-0043") as probe:
        port = probe.path
        code = main(["record", "--resume", str(path), "--port", probe.path, "--duration", "72.5",
                     "--status-every", "1"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Resuming " in out and "connection streaming" in out
    store = SessionStore.open_read_only(path)
    readings = store.readings()
    [gap] = [g for g in store.events("connection_gap") if g.subkind == "interrupted"]
    spec = stored_spec(store)
    store.close()
    new = readings[2 * 61:]
    assert len(new) >= 10 and all(60.0 < r.session_s <= 72.5 for r in new)
    assert gap.start_s == 60.0 and 70.0 <= gap.end_s < 80.0  # 10 s before the resume, plus its start-up
    # Session time went on with the real time that passed: it stays in step with the wall clock.
    assert all(r.session_s - r.wall_time + crashed_at == pytest.approx(60.0, abs=2.0) for r in new)
    assert spec == SerialSpec(port=port)  # kept in the file as a spec


def test_time_never_goes_backwards_when_the_wall_clock_did(tmp_path):
    path, _ = _manual_session(tmp_path / "clock.sympatherm", 60.0)
    store = SessionStore.open(path, resume=True)
    point = store.resume_point()
    plan = plan_resume(store, now_wall=point.stopped_wall - 3600.0)  # the clock was set back an hour
    store.close()
    assert plan.offset_s == 60.0 + MIN_RESUME_STEP_S
    assert "not running from" in plan.message


def test_record_resume_refuses_what_does_not_fit_in_plain_words(tmp_path, capsys):
    path, _ = _manual_session(tmp_path / "refuse.sympatherm", 30.0)
    assert main(["record", "--resume", str(path), "--port", "/dev/null-probe"]) == 2
    assert "a simulated session is resumed with --demo" in capsys.readouterr().err
    assert main(["record", "--resume", str(path), "--demo", "--blocked", "left"]) == 2
    assert "blocked side is right" in capsys.readouterr().err
    assert main(["record", "--resume", str(path), "--demo", "--patient-id", "SOMEONE-ELSE"]) == 2
    assert "belongs to patient 'API-1'" in capsys.readouterr().err
    assert main(["record", "--resume", str(tmp_path / "missing.sympatherm"), "--demo"]) == 1
    assert "no session file" in capsys.readouterr().err
    assert main(["sessions", "--close", str(path)]) == 0
    assert main(["record", "--resume", str(path), "--demo"]) == 1
    assert "closed normally" in capsys.readouterr().err
