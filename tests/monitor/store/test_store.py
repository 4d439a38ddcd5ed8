"""The session store against real SQLite files: durability, privacy, damage, full disk."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from monitor import paths
from monitor.model import Limb, Marker, MarkerKind, ProbeStatus, Reading, SessionInfo
from monitor.store import (
    SCHEMA_VERSION,
    SessionFileError,
    SessionStore,
    StoreError,
    StoreWriteError,
    close_unfinished,
    find_unfinished_sessions,
    sanitize_filename_part,
    session_summaries,
)

REPO = Path(__file__).resolve().parents[3]


def _readings(n: int, start: float = 0.0) -> list[Reading]:
    out = []
    for i in range(n):
        t = start + i
        out.append(Reading(Limb.LEFT, 25.0 + i * 0.01, ProbeStatus.OK, t, 1.7e9 + t, sequence=i, device_time_s=t))
        out.append(Reading(Limb.RIGHT, None if i == 3 else 26.0, ProbeStatus.OPEN_CIRCUIT if i == 3 else
                           ProbeStatus.OK, t + 0.01, 1.7e9 + t, sequence=i))
    return out


def _info(**kw) -> SessionInfo:
    return SessionInfo(patient_id=kw.pop("patient_id", "PT-0042"), blocked=Limb.LEFT, operator="Dr A", **kw)


def test_everything_written_comes_back_after_a_clean_close():
    store = SessionStore.create(_info(simulated=True), criteria={"id": "default", "source": "Park 2010"})
    path = store.path
    assert path.parent == paths.sessions_dir()
    assert "PT-0042" in path.name and "SIMULATED" in path.name
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # synchronous=FULL (2): each commit is fsynced to the WAL before it returns.
    assert store.connection.execute("PRAGMA synchronous").fetchone()[0] == 2

    store.add_readings(_readings(10))
    mid = store.add_marker(Marker(MarkerKind.INJECTION, 5.0, placed_s=6.5))
    store.add_marker(Marker(MarkerKind.NOTE, 7.0, text="patient moved"))
    store.move_marker(mid, 4.0, moved_at_s=8.0, reason="entered late")
    gap = store.add_event("connection_gap", 2.0, subkind="lost", message="cable unplugged")
    store.end_event(gap, 3.5)
    store.add_event("artefact", 6.0, end_s=6.5, subkind="touch", limb=Limb.LEFT)
    store.add_event("alarm", 3.0, end_s=4.0, subkind="sensor_fault", limb=Limb.RIGHT, priority="medium",
                    message="sensor fault: open circuit")
    store.add_verdict_change(9.0, "monitoring", "watching", detail={"criteria_met": []})
    store.add_device({"kind": "simulated", "name": "sim", "device_id": "x"}, limb=Limb.LEFT,
                     calibration={"offset_c": 0.1, "gain": 1.0})
    store.commit()
    store.close()

    assert not Path(str(path) + "-wal").exists()
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    con.close()

    ro = SessionStore.open_read_only(path)
    assert ro.readings() == _readings(10)
    markers = ro.markers()
    assert [(m.kind, m.session_s, m.placed_s) for m in markers] == [
        (MarkerKind.INJECTION, 4.0, 6.5), (MarkerKind.NOTE, 7.0, 7.0)]
    assert [(mv.from_s, mv.to_s, mv.reason) for mv in ro.marker_moves()] == [(5.0, 4.0, "entered late")]
    events = ro.events()
    assert [(e.kind, e.start_s, e.end_s) for e in events] == [
        ("connection_gap", 2.0, 3.5), ("alarm", 3.0, 4.0), ("artefact", 6.0, 6.5)]
    assert ro.verdict_changes()[0].state == "monitoring"
    assert ro.devices()[0].calibration == {"offset_c": 0.1, "gain": 1.0}
    assert ro.info().patient_id == "PT-0042" and ro.info().blocked is Limb.LEFT
    assert ro.simulated and ro.criteria()["source"] == "Park 2010"
    meta = ro.meta()
    assert meta["status"] == "closed" and meta["schema_version"] == str(SCHEMA_VERSION)
    assert meta["software_version"]
    with pytest.raises(StoreError):
        ro.add_readings(_readings(1))
    ro.close()


def test_a_read_only_reader_sees_committed_readings_while_recording(tmp_path):
    store = SessionStore.create(_info(), tmp_path / "live.sympatherm")
    store.add_readings(_readings(5))
    store.commit()
    store.add_readings(_readings(5, start=5))  # not committed yet
    ro = SessionStore.open_read_only(store.path)
    assert ro.reading_count() == 10
    ro.close()
    store.close()


def test_a_damaged_file_is_reported_in_plain_words_and_left_untouched(tmp_path):
    path = tmp_path / "broken.sympatherm"
    store = SessionStore.create(_info(), path)
    store.add_readings(_readings(200))
    store.close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # wreck the header and the schema page
    path.write_bytes(bytes(data))
    before = path.read_bytes()
    for opener in (SessionStore.open_read_only, SessionStore.open):
        # Its header still carries SympaTherm's application id: it is named for what it is.
        with pytest.raises(SessionFileError, match="it is a SympaTherm session file that is damaged"):
            opener(path)
    assert path.read_bytes() == before
    (tmp_path / "text.sympatherm").write_text("hello")
    with pytest.raises(SessionFileError, match="left exactly as it was") as foreign:
        SessionStore.open_read_only(tmp_path / "text.sympatherm")
    assert "damaged or is not a session file" in str(foreign.value)  # nothing says what it is
    (tmp_path / "empty.sympatherm").write_bytes(b"")
    with pytest.raises(SessionFileError, match="is an empty file") as empty:
        SessionStore.open_read_only(tmp_path / "empty.sympatherm")
    assert "SQLite" not in str(empty.value)
    listed = dict(session_summaries(tmp_path))
    assert isinstance(listed[path], str) and "damaged" in listed[path]


def test_a_foreign_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "other.sympatherm"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(SessionFileError, match="not a SympaTherm session"):
        SessionStore.open_read_only(path)


def test_an_existing_file_is_never_overwritten(tmp_path):
    path = tmp_path / "s.sympatherm"
    path.write_text("precious")
    with pytest.raises(StoreWriteError, match="never overwritten"):
        SessionStore.create(_info(), path)
    assert path.read_text() == "precious"


def test_a_folder_that_cannot_be_written_gives_a_clear_error_at_once(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(StoreWriteError, match="not a folder"):
        SessionStore.create(_info(), blocker / "sessions" / "s.sympatherm")


def test_a_full_disk_keeps_readings_in_memory_and_writes_them_when_space_returns(tmp_path):
    store = SessionStore.create(_info(), tmp_path / "full.sympatherm")
    store.add_readings(_readings(20))
    store.commit()
    pages = store.connection.execute("PRAGMA page_count").fetchone()[0]
    store.connection.execute(f"PRAGMA max_page_count={pages}")  # the disk is now "full"
    store.add_readings(_readings(3000, start=20))
    store.add_marker(Marker(MarkerKind.INJECTION, 30.0))
    with pytest.raises(StoreWriteError, match="disk is full"):
        store.commit()
    assert store.pending_count == 6001
    assert SessionStore.open_read_only(store.path).reading_count() == 40  # nothing already recorded lost
    with pytest.raises(StoreWriteError):
        store.commit()  # still full: still an error, still nothing dropped
    store.connection.execute("PRAGMA max_page_count=1073741823")  # space returns
    store.commit()
    assert store.pending_count == 0
    store.close()
    ro = SessionStore.open_read_only(tmp_path / "full.sympatherm")
    assert ro.reading_count() == 6040 and len(ro.markers()) == 1
    ro.close()


def test_on_a_full_disk_the_session_can_be_saved_elsewhere(tmp_path):
    store = SessionStore.create(_info(), tmp_path / "full.sympatherm")
    store.add_readings(_readings(20))
    store.commit()
    pages = store.connection.execute("PRAGMA page_count").fetchone()[0]
    store.connection.execute(f"PRAGMA max_page_count={pages}")
    store.add_readings(_readings(3000, start=20))
    with pytest.raises(StoreWriteError):
        store.commit()
    new = store.relocate(tmp_path / "elsewhere" / "rescued.sympatherm")
    assert stat.S_IMODE(new.stat().st_mode) == 0o600
    store.add_readings(_readings(1, start=5000))
    store.close()
    ro = SessionStore.open_read_only(new)
    assert ro.reading_count() == 6042
    assert ro.meta()["relocated_from"].endswith("full.sympatherm")
    ro.close()


CRASHER = textwrap.dedent("""
    import os, signal, sys
    from monitor.model import Limb, ProbeStatus, Reading, SessionInfo
    from monitor.store import SessionStore
    store = SessionStore.create(SessionInfo(patient_id="crash", blocked=Limb.RIGHT), sys.argv[1])
    store.add_readings([Reading(Limb.LEFT, 25.0, ProbeStatus.OK, float(i), 0.0) for i in range(50)])
    store.commit()
    store.add_readings([Reading(Limb.LEFT, 25.0, ProbeStatus.OK, 99.0, 0.0)])  # never committed
    os.kill(os.getpid(), signal.SIGKILL)
""")


def test_an_interrupted_session_is_found_and_can_be_closed_or_resumed(tmp_path):
    folder = paths.sessions_dir()
    path = folder / "crashed.sympatherm"
    proc = subprocess.run([sys.executable, "-c", CRASHER, str(path)], cwd=REPO, capture_output=True,
                          timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    live = SessionStore.create(_info(), folder / "live.sympatherm")  # being recorded: not offered
    assert find_unfinished_sessions() == [path]

    resumed = SessionStore.open(path, resume=True)
    assert resumed.reading_count() == 50
    with pytest.raises(StoreError, match="another running"):
        SessionStore.open(path)
    resumed.add_readings(_readings(2, start=60))
    resumed.commit()
    resumed.connection.close()  # simulate a second crash: never closed
    resumed._release_lock(path)
    assert find_unfinished_sessions() == [path]

    close_unfinished(path)
    assert find_unfinished_sessions() == []
    ro = SessionStore.open_read_only(path)
    assert ro.reading_count() == 54 and ro.status == "closed"
    assert "interrupted" in ro.meta()["end_reason"]
    ro.close()
    live.close()


def test_file_names_from_user_input_are_sanitised():
    assert sanitize_filename_part("../../etc/passwd") == "etc-passwd"
    assert sanitize_filename_part("   ") == "anonymous"
    assert "/" not in sanitize_filename_part("a/b\\c:d") and os.sep not in sanitize_filename_part("a/b")
    store = SessionStore.create(_info(patient_id="../evil/../name"))
    assert store.path.parent == paths.sessions_dir()
    store.close()


def test_a_folder_given_as_the_path_gets_a_new_sanitised_file_inside_it(tmp_path):
    store = SessionStore.create(_info(patient_id="a/b c"), tmp_path)
    assert store.path.parent == tmp_path and "a-b-c" in store.path.name and store.path.suffix == ".sympatherm"
    store.close()


def test_closing_while_a_reader_is_open_still_ends_as_one_file_once_the_reader_is_done(tmp_path):
    import threading

    store = SessionStore.create(_info(), tmp_path / "r.sympatherm")
    store.add_readings(_readings(50))
    store.commit()
    reader = SessionStore.open_read_only(store.path)
    assert reader.reading_count() == 100
    threading.Timer(0.3, reader.close).start()  # an export finishing while the session is closed
    store.close()
    assert not Path(f"{store.path}-wal").exists()
    con = sqlite3.connect(store.path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    con.close()


def test_a_file_with_many_damaged_pages_is_reported_in_a_few_lines(tmp_path):
    path = tmp_path / "wrecked.sympatherm"
    store = SessionStore.create(_info(), path)
    store.add_readings(_readings(20000))
    store.close()
    data = bytearray(path.read_bytes())
    page = 4096
    for n in range(8, min(len(data) // page - 2, 120), 2):  # every other page in the middle of the table
        data[n * page + 8:(n + 1) * page] = bytes((n * 7 + i) % 251 for i in range(page - 8))
    path.write_bytes(bytes(data))
    with pytest.raises(SessionFileError) as caught:
        SessionStore.open_read_only(path)
    message = str(caught.value)
    assert "damaged" in message and "integrity check says" in message
    assert len(message) < 800 and message.count("\n") <= 2
