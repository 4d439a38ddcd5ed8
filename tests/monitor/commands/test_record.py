"""`sympatherm record` as a real subprocess: SIGKILL loses at most about a second, SIGTERM closes cleanly."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from monitor.cli import main
from monitor.exports import export_session
from monitor.model import Limb, MarkerKind
from monitor.store import SessionStore, StoreError, close_unfinished, find_unfinished_sessions

REPO = Path(__file__).resolve().parents[3]
STORED = re.compile(r"stored (\d+)")


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "monitor.cli", "record", *args], cwd=REPO, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _lines_until(proc: subprocess.Popen, pattern: str, *, timeout_s: float = 30.0) -> list[str]:
    """stdout lines up to the first matching one (read on a thread so a hang cannot block the test)."""
    seen: list[str] = []
    found = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            seen.append(line)
            if re.search(pattern, line):
                found.set()
                return

    threading.Thread(target=read, daemon=True).start()
    if not found.wait(timeout_s):
        proc.kill()
        raise AssertionError(f"no line matching {pattern!r}; got {seen!r}; stderr: {proc.stderr.read()}")
    return seen


def _committed(path: Path) -> int:
    """Readings a reader sees in the file (what is committed)."""
    try:
        with SessionStore.open_read_only(path, check_integrity=False) as reader:
            return reader.reading_count()
    except StoreError:
        return 0  # not created yet


def test_a_session_killed_with_sigkill_keeps_all_but_the_last_second_and_is_offered_for_recovery(tmp_path):
    folder = tmp_path / "sessions"
    path = folder / "killed.sympatherm"
    proc = _start("--demo", "--speed", "10", "--blocked", "left", "--patient-id", "KILL-1", "--out", str(path),
                  "--status-every", "0.3")
    lines = _lines_until(proc, r"stored ([6-9]\d|\d{3,})")
    received = int(STORED.search(lines[-1]).group(1))
    # The recorder commits every 0.5 s: wait (on the file, not a timer, so a loaded machine
    # cannot fail this) until what it had received is committed, then kill it.
    deadline = time.monotonic() + 60.0
    while _committed(path) < received:
        assert time.monotonic() < deadline, "the recording never committed what it had received"
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    assert Path(str(path) + "-wal").exists(), "it was killed mid-recording, in WAL mode"
    store = SessionStore.open_read_only(path)  # opens cleanly: integrity check passes
    readings = store.readings()
    assert store.status == "recording" and store.info().patient_id == "KILL-1"
    store.close()
    assert len(readings) >= received
    for limb in Limb:
        times = [r.session_s for r in readings if r.limb is limb]
        assert times == [float(i) for i in range(len(times))], "no hole, no duplicate"
    assert find_unfinished_sessions(folder) == [path]
    assert find_unfinished_sessions() == [path], "found on the next start although it was recorded with --out"

    close_unfinished(path)
    assert find_unfinished_sessions(folder) == [] and find_unfinished_sessions() == []
    assert not Path(str(path) + "-wal").exists()
    assert SessionStore.open_read_only(path).reading_count() == len(readings)
    assert export_session(path, "pdf", tmp_path / "after-crash.pdf").stat().st_size > 0


def test_sigterm_ends_cleanly_and_markers_typed_on_stdin_are_recorded(tmp_path):
    path = tmp_path / "term.sympatherm"
    proc = _start("--demo", "--speed", "20", "--blocked", "right", "--out", str(path), "--status-every", "0.3")
    proc.stdin.write("needle\nbogus\nnote left foot =cold, tape checked\n")
    proc.stdin.flush()
    lines = _lines_until(proc, r"Marker placed: note")
    assert any("Marker placed: needle" in ln for ln in lines)
    _lines_until(proc, r"stored \d+")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "unknown marker 'bogus'" in err
    assert "Session saved" in out
    assert not Path(str(path) + "-wal").exists()
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    con.close()
    store = SessionStore.open_read_only(path)
    markers = {m.kind: m for m in store.markers()}
    assert markers[MarkerKind.NOTE].text == "left foot =cold, tape checked"
    assert MarkerKind.NEEDLE in markers
    assert store.status == "closed" and store.meta()["end_reason"] == "stopped by a signal"
    assert store.simulated
    store.close()


def test_an_injection_typed_in_a_demo_replaces_the_automatic_one(tmp_path):
    path = tmp_path / "typed.sympatherm"
    proc = _start("--demo", "--speed", "100", "--blocked", "left", "--out", str(path), "--status-every", "0.3",
                  "--seed", "1")
    proc.stdin.write("injection\n")
    proc.stdin.flush()
    lines = _lines_until(proc, r"Marker placed: injection")
    assert any("automatic injection mark is cancelled" in ln for ln in lines)
    _lines_until(proc, r"^\[ *1[0-9]:")  # past 10 min: the scenario's own time (7–9 min) has gone by
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)
    store = SessionStore.open_read_only(path)
    injections = [m for m in store.markers() if m.kind is MarkerKind.INJECTION]
    assert len(injections) == 1 and injections[0].session_s < 300  # typed early, well before the scenario's
    store.close()


def test_duration_and_injection_at_are_session_time(tmp_path):
    path = tmp_path / "timed.sympatherm"
    proc = _start("--demo", "--speed", "400", "--duration", "700", "--injection-at", "400", "--out", str(path),
                  "--scenario", "success-fast")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    store = SessionStore.open_read_only(path)
    injection = [m for m in store.markers() if m.kind is MarkerKind.INJECTION]
    assert [(m.session_s, m.placed_s) for m in injection] == [(400.0, 400.0)]
    assert store.time_span() == (0.0, 700.0)
    assert store.reading_count() == 2 * 701  # every sample up to --duration, none after
    store.close()


def test_demo_without_injection_at_uses_the_scenarios_injection_time(tmp_path):
    from monitor.simulation.source import SimulatedSource

    path = tmp_path / "suggested.sympatherm"
    assert main(["record", "--demo", "--speed", "2000", "--duration", "600", "--seed", "5", "--out", str(path)]) == 0
    store = SessionStore.open_read_only(path)
    injection = [m.session_s for m in store.markers() if m.kind is MarkerKind.INJECTION]
    count = store.reading_count()
    store.close()
    assert injection == [pytest.approx(SimulatedSource("success-fast", seed=5).suggested_injection_s)]
    assert count == 2 * 601  # at 2000× the simulator's worker trails its clock; nothing is cut short


def test_bad_record_flags_get_plain_errors(tmp_path, capsys):
    assert main(["record", "--port", "/dev/null-probe"]) == 2
    assert "--blocked left or --blocked right" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["record", "--demo", "--out", str(blocker / "s.sympatherm")]) == 1
    assert "not a folder" in capsys.readouterr().err


def test_record_from_a_serial_probe_on_a_real_pseudo_terminal(tmp_path, capsys):
    from firmware_protocol.thermistor import Calibration
    from monitor.simulation.virtual_serial import VirtualSerialProbe
    from monitor.sources.registry import DeviceRegistry

    DeviceRegistry().set_calibration("serial:SIM-0042", 0, Calibration(offset_c=0.25, gain=1.0, note="bench"))
    path = tmp_path / "serial.sympatherm"
    with VirtualSerialProbe("success-fast", rate_hz=10.0, device_id="SIM-0042") as probe:
        code = main(["record", "--port", probe.path, "--blocked", "left", "--patient-id", "SER-1",
                     "--duration", "4", "--out", str(path), "--status-every", "1"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "connection streaming" in out  # connection changes are printed as they happen
    store = SessionStore.open_read_only(path)
    readings = store.readings()
    devices = store.devices()
    assert not store.simulated and store.info().patient_id == "SER-1"
    store.close()
    assert {r.limb for r in readings} == {Limb.LEFT, Limb.RIGHT}
    assert len(readings) >= 20 and max(r.session_s for r in readings) <= 4.0
    probe_record = next(d for d in devices if d.identity.get("device_id") == "SIM-0042")
    assert probe_record.calibration["channel 0"] == {"limb": "left", "offset_c": 0.25, "gain": 1.0, "note": "bench"}
    assert probe_record.calibration["channel 1"] == {"limb": "right", "calibration": "none"}
    report = "".join(p.extract_text() for p in PdfReader(export_session(path, "pdf", tmp_path / "s.pdf")).pages)
    assert "channel 0 (left): offset +0.25 °C, gain 1.0000 (bench)" in report.replace("\n", " ")


def test_when_the_disk_stays_full_a_second_ctrl_c_saves_the_session_to_the_data_folder(tmp_path, capsys):
    from monitor import paths
    from monitor.clock import SimulatedClock
    from monitor.commands.record import _finish
    from monitor.model import SessionInfo
    from monitor.procedure import Procedure
    from monitor.simulation.source import SimulatedSource

    source = SimulatedSource("success-fast", clock=SimulatedClock(manual=True))
    info = SessionInfo(patient_id="FULL-1", blocked=Limb.LEFT, simulated=True)
    store = SessionStore.create(info, tmp_path / "full.sympatherm")
    procedure = Procedure(source, info, store, commit_interval_s=0.0)
    source.start()
    source.step_to(10)
    procedure.pump()
    store.connection.execute(f"PRAGMA max_page_count={store.connection.execute('PRAGMA page_count').fetchone()[0]}")
    source.step_to(1500)
    from monitor.commands._signals import StopRequests

    with StopRequests() as stops:  # a real second Ctrl-C, delivered to this process's main thread
        threading.Timer(0.2, os.kill, args=(os.getpid(), signal.SIGINT)).start()
        assert _finish(procedure, "stopped by a signal", stops) == 0
    out, err = capsys.readouterr()
    assert "disk is full" in err and "press Ctrl-C again" in err
    assert store.path.parent == paths.sessions_dir() and store.path.name.endswith("-rescued.sympatherm")
    assert f"Saved the whole session to {store.path}" in out
    rescued = SessionStore.open_read_only(store.path)
    assert rescued.reading_count() == 2 * 1501 and rescued.status == "closed"
    rescued.close()


def test_a_port_that_does_not_exist_is_said_at_once_and_no_empty_session_is_left(tmp_path, capsys):
    from monitor.paths import sessions_dir

    assert main(["record", "--port", str(tmp_path / "ttyACM9"), "--blocked", "left", "--duration", "5"]) == 2
    assert "there is no serial port" in capsys.readouterr().err
    assert list(sessions_dir().iterdir()) == []


def test_a_probe_that_never_sends_leaves_no_empty_session_and_says_why(tmp_path):
    import pty

    controller, device = pty.openpty()  # a real serial port on which nothing ever arrives
    try:
        path = tmp_path / "silent.sympatherm"
        proc = _start("--port", os.ttyname(device), "--blocked", "left", "--out", str(path))
        _lines_until(proc, r"^Recording to")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        os.close(controller)
        os.close(device)
    assert proc.returncode == 1, err
    assert "no readings were received" in err and "not kept" in err
    assert "Session saved" not in out
    assert not path.exists() and not Path(f"{path}-wal").exists()


def test_parse_marker_line_reads_a_probe_check_strictly():
    from monitor.commands.record import parse_marker_line

    assert parse_marker_line("checked left\n") == ("probe_checked", "left")
    assert parse_marker_line("Checked RIGHT") == ("probe_checked", "right")
    for bad in ("checked", "checked both", "checked l", "checked left foot"):
        with pytest.raises(ValueError, match="checked left, or checked right"):
            parse_marker_line(bad)


def test_checked_typed_on_stdin_records_a_probe_check_for_that_foot(tmp_path):
    path = tmp_path / "checked.sympatherm"
    proc = _start("--demo", "--speed", "20", "--blocked", "left", "--out", str(path), "--status-every", "0.3")
    proc.stdin.write("checked both\nchecked right\n")
    proc.stdin.flush()
    _lines_until(proc, r"Marker placed: right probe checked$")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "say which probe you checked" in err
    with SessionStore.open_read_only(path) as store:
        [check] = [m for m in store.markers() if m.kind is MarkerKind.PROBE_CHECKED]
        assert check.text == "right" and check.checked_limb is Limb.RIGHT


def test_status_lines_never_go_back_in_time(tmp_path):
    """Before the first reading a status line shows the clock ([   0:02]); the first reading may be
    older ([   0:00]). `record` prints the lines through ShownTime, so the time shown never goes back."""
    from monitor.clock import SimulatedClock
    from monitor.commands.record import ShownTime, status_line
    from monitor.model import SessionInfo
    from monitor.procedure import Procedure
    from monitor.simulation.source import SimulatedSource

    source = SimulatedSource("success-fast", seed=3, clock=SimulatedClock(manual=True))
    info = SessionInfo(blocked=Limb.LEFT, simulated=True)
    procedure = Procedure(source, info, SessionStore.create(info, tmp_path / "t.sympatherm"))
    procedure.start()
    shown = ShownTime()
    source.clock.advance(2.0)  # the clock runs on; no reading yet
    raw = [status_line(procedure)]
    source.step_to(0.0)  # the reading taken at 0:00 arrives
    procedure.pump()
    raw.append(status_line(procedure))
    source.step_to(75.0)
    procedure.pump()
    raw.append(status_line(procedure))
    procedure.finish("test")
    assert [line[:9] for line in raw] == ["[   0:02]", "[   0:00]", "[   1:15]"], "the defect's shape"
    printed = [shown.restamp(line) for line in raw]
    assert [line[:9] for line in printed] == ["[   0:02]", "[   0:02]", "[   1:15]"]
    assert printed[1][9:] == raw[1][9:], "only the time is held; the values are the newest reading's"
    assert shown.restamp("no stamp here") == "no stamp here"
    # Past an hour the stamp is h:mm:ss, and ShownTime reads it back as such.
    assert shown.restamp("[1:15:00]  x") == "[1:15:00]  x" and shown.restamp("[  59:59]  y") == "[1:15:00]  y"


@pytest.fixture(scope="module")
def systemic_procedure(tmp_path_factory):
    """A simulated failed block while both feet warm together (blankets, sedation), recorded
    through the real procedure core on a manual clock to 75 minutes of session time."""
    from monitor.clock import SimulatedClock
    from monitor.model import SessionInfo
    from monitor.procedure import Procedure
    from monitor.simulation.source import SimulatedSource

    source = SimulatedSource("systemic-warming", seed=1, clock=SimulatedClock(manual=True))
    info = SessionInfo(blocked=Limb.LEFT, simulated=True)
    path = tmp_path_factory.mktemp("systemic") / "systemic.sympatherm"
    procedure = Procedure(source, info, SessionStore.create(info, path))
    procedure.schedule_injection(source.suggested_injection_s)
    procedure.start()
    for t in range(30, 4500 + 1, 30):
        source.step_to(float(t))
        procedure.pump()
    yield procedure
    procedure.finish("test")


def test_a_status_line_past_an_hour_is_stamped_h_mm_ss_and_says_the_systemic_warming(systemic_procedure):
    """Issue 12 item 8 (one time format) and issue 14 (the core's systemic-warming words)."""
    from monitor.commands.record import status_line
    from monitor.pipeline.snapshot import SYSTEMIC_WORDS

    line = status_line(systemic_procedure)
    assert line.startswith("[1:15:00]  "), line  # was "[ 75:00]"
    words = systemic_procedure.snapshot().systemic_warming
    assert words is not None and words.startswith(SYSTEMIC_WORDS), "the scenario warms both feet"
    assert words in line, line
    verdict = systemic_procedure.snapshot().verdict.message
    assert line.index(verdict) < line.index(words) < line.index("stored "), "after the verdict it qualifies"
    assert "Not confirmed yet at +40:00 after the injection" in verdict


def test_record_demo_of_a_systemic_warming_prints_the_cores_words(tmp_path, capsys):
    """`record --demo` end to end: its last status line carries the snapshot's systemic-warming words."""
    from monitor.pipeline.snapshot import SYSTEMIC_WORDS

    path = tmp_path / "systemic.sympatherm"
    assert main(["record", "--demo", "--scenario", "systemic-warming", "--seed", "1", "--speed", "2000",
                 "--duration", "2400", "--status-every", "3600", "--out", str(path)]) == 0
    status = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("[") and "stored " in ln]
    assert status and SYSTEMIC_WORDS in status[-1], status[-1:]
    assert status[-1].startswith("[  40:00]"), "the newest reading's session time, m:ss"
