"""The start-up scan: unfinished sessions that can be resumed, apart from files that cannot be opened."""

from __future__ import annotations

import os
import time
from pathlib import Path

from monitor import paths
from monitor.cli import main as cli_main
from monitor.model import Limb, ProbeStatus, Reading, SessionInfo
from monitor.store import (
    SessionStore,
    close_unfinished,
    find_damaged_sessions,
    find_unfinished_sessions,
    scan_unfinished_sessions,
)


def _batch(k: int) -> list[Reading]:
    return [Reading(limb, 30.0 + k * 0.01, ProbeStatus.OK, float(k), 1.7e9 + k, k, None, "test") for limb in Limb]


def _crashed_session(path: Path, seconds: int = 400) -> Path:
    """A session left 'recording', as a kill -9 leaves it (committed, never closed)."""
    store = SessionStore.create(SessionInfo(patient_id="SCAN-1", blocked=Limb.LEFT), path)
    for k in range(seconds):
        store.add_readings(_batch(k))
    store.commit()
    store.connection.close()
    store._release_lock(store.path)
    return store.path


def _damage_readings(path: Path) -> bytes:
    """A bad sector in the readings pages (the meta table on page 2 still reads)."""
    store = SessionStore.open(path)  # fold the WAL in first, so the damage hits real data
    store.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.connection.close()
    store._release_lock(path)
    data = bytearray(path.read_bytes())
    data[4096 * 3: 4096 * 3 + 600] = os.urandom(600)
    path.write_bytes(bytes(data))
    Path(f"{path}-wal").unlink(missing_ok=True)
    return bytes(data)


def _age(path: Path) -> None:
    old = time.time() - 3600
    os.utime(path, (old, old))


def test_damaged_files_are_reported_apart_from_resumable_sessions_and_left_untouched(tmp_path):
    folder = tmp_path / "sessions"
    folder.mkdir()
    intact = _crashed_session(folder / "a-intact.sympatherm")
    damaged = _crashed_session(folder / "b-damaged.sympatherm")
    damaged_bytes = _damage_readings(damaged)
    foreign = folder / "c-foreign.sympatherm"
    foreign.write_bytes(b"this is not a database at all\n" * 200)
    _age(foreign)
    creating = folder / "d-being-created.sympatherm"
    creating.write_bytes(b"")  # another program is creating it this very moment: not reported
    closed = SessionStore.create(SessionInfo(blocked=Limb.RIGHT), folder / "e-closed.sympatherm")
    closed.add_readings(_batch(0))
    closed.close()
    live = SessionStore.create(SessionInfo(blocked=Limb.RIGHT), folder / "f-live.sympatherm")

    scan = scan_unfinished_sessions(folder)
    assert scan.resumable == [intact]
    assert [d.path for d in scan.damaged] == [damaged, foreign]
    for entry in scan.damaged:
        assert "cannot be read as a SympaTherm session" in entry.reason or "not a" in entry.reason
        assert str(entry.path) in entry.reason
    assert "left exactly as it was" in scan.damaged[0].reason
    assert find_unfinished_sessions(folder) == [intact]
    assert [d.path for d in find_damaged_sessions(folder)] == [damaged, foreign]
    assert damaged.read_bytes() == damaged_bytes, "the scan never changes a damaged file"

    close_unfinished(intact)  # what the offer does; then only the damaged ones remain to report
    assert find_unfinished_sessions(folder) == []
    assert [d.path for d in find_damaged_sessions(folder)] == [damaged, foreign]
    live.close()


def test_a_damaged_session_recorded_outside_the_data_folder_is_reported_at_the_next_start(tmp_path):
    elsewhere = tmp_path / "usb-stick"
    path = _crashed_session(elsewhere / "or-7.sympatherm")  # as `record --out` leaves it after a crash
    _damage_readings(path)
    assert find_unfinished_sessions() == []
    assert [d.path.resolve() for d in find_damaged_sessions()] == [path.resolve()]


def test_sessions_lists_damaged_files_with_the_reason_and_no_resume_command(tmp_path, capsys):
    folder = paths.sessions_dir()
    intact = _crashed_session(folder / "intact.sympatherm", seconds=5)
    damaged = _crashed_session(folder / "damaged.sympatherm")
    _damage_readings(damaged)
    assert cli_main(["sessions"]) == 0
    out = capsys.readouterr().out
    unfinished_part, _, damaged_part = out.partition("cannot be opened")
    assert f"--resume {intact}" in unfinished_part and f"--resume {damaged}" not in out
    assert str(damaged) in damaged_part and "left exactly as it was" in damaged_part


def test_an_unfinished_session_on_a_drive_that_is_away_is_offered_again_when_it_is_back(tmp_path):
    stick = tmp_path / "usb-stick"
    path = _crashed_session(stick / "or-9.sympatherm", seconds=5)  # recorded with --out, then a crash
    away = tmp_path / "usb-stick-unplugged"
    stick.rename(away)  # the stick is not mounted at the next start
    assert find_unfinished_sessions() == [] and find_damaged_sessions() == []
    away.rename(stick)  # plugged in again
    assert [p.resolve() for p in find_unfinished_sessions()] == [path.resolve()]
    path.unlink()  # the user deleted it: forgotten for good
    Path(f"{path}-wal").unlink(missing_ok=True)
    assert find_unfinished_sessions() == []
    path.write_bytes(b"")
    _age(path)
    assert find_damaged_sessions() == [], "a new file at the same place is not taken for the old session"
