"""Faults of the session file itself: power cut in the last transaction, another process holding
the file, an unwritable output folder, a file damaged on disk. Real SQLite files throughout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from monitor.clock import SimulatedClock
from monitor.exports import export_session
from monitor.model import Limb, ProbeStatus, Reading, SessionInfo
from monitor.simulation.source import SimulatedSource
from monitor.store import (
    SessionFileError,
    SessionStore,
    StoreError,
    StoreWriteError,
    close_unfinished,
    find_unfinished_sessions,
)

from .harness import Recording, assert_nothing_lost

REPO = Path(__file__).resolve().parents[2]


def _batch(k: int, n: int = 40) -> list[Reading]:
    return [Reading(Limb.LEFT if i % 2 == 0 else Limb.RIGHT, 30.0 + (k * n + i) / 1000, ProbeStatus.OK,
                    float(k * n + i) / 2, 1.7e9 + (k * n + i) / 2, sequence=k * n + i) for i in range(n)]


def test_power_cut_in_the_last_transaction_keeps_every_earlier_commit(tmp_path):
    """Power lost while the last commit was being written: the WAL ends torn (cut short, or ending
    in garbage). SQLite's WAL checksums reject the torn transaction; every earlier one is kept."""
    path = tmp_path / "live.sympatherm"
    store = SessionStore.create(SessionInfo(blocked=Limb.LEFT), path)
    committed: list[Reading] = []
    for k in range(12):
        store.add_readings(_batch(k))
        store.commit()
        committed += _batch(k)
    wal_before_last = Path(str(path) + "-wal").stat().st_size
    store.add_readings(_batch(12))
    store.commit()  # the transaction the power cut interrupts
    disk = path.read_bytes(), Path(str(path) + "-wal").read_bytes()
    assert len(disk[1]) > wal_before_last
    store.connection.close()  # the machine is gone; nothing more reaches the disk
    store._release_lock(path)

    cut_points = sorted({wal_before_last + 1, wal_before_last + 24, wal_before_last + 4096,
                         (wal_before_last + len(disk[1])) // 2, len(disk[1]) - 1})
    for n, cut in enumerate(cut_points):
        for torn in ("truncated", "garbage"):
            copy = tmp_path / f"cut-{n}-{torn}.sympatherm"
            copy.write_bytes(disk[0])
            wal = disk[1][:cut] if torn == "truncated" else disk[1][:cut] + os.urandom(len(disk[1]) - cut)
            Path(str(copy) + "-wal").write_bytes(wal)
            with SessionStore.open_read_only(copy) as reader:  # opens cleanly: integrity check passes
                got = reader.readings()
            assert got == committed, f"WAL {torn} at byte {cut}: earlier commits must all be there"
    # The intact file (the last commit completed) has everything; recovery closes it cleanly.
    shutil.copy(path, tmp_path / "whole.sympatherm")
    Path(str(tmp_path / "whole.sympatherm") + "-wal").write_bytes(disk[1])
    close_unfinished(tmp_path / "whole.sympatherm")
    with SessionStore.open_read_only(tmp_path / "whole.sympatherm") as reader:
        assert reader.readings() == committed + _batch(12) and reader.status == "closed"


LOCKER = textwrap.dedent("""
    import sqlite3, sys, time
    con = sqlite3.connect(sys.argv[1], isolation_level=None)
    con.execute("BEGIN EXCLUSIVE")  # another program takes the file's write lock and keeps it
    print("locked", flush=True)
    sys.stdin.readline()
    con.execute("ROLLBACK")
""")


def test_session_file_locked_by_another_process_keeps_readings_in_memory_until_it_lets_go(tmp_path):
    clock = SimulatedClock(manual=True)
    source = SimulatedSource("success-fast", seed=3, clock=clock)
    rec = Recording(source, tmp_path / "locked.sympatherm").start()
    source.step_to(60)
    rec.pump()
    # The store's 3 s busy wait would only slow this test down; the behaviour is the same.
    rec.store.connection.execute("PRAGMA busy_timeout=200")
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(rec.path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline().strip() == "locked"
        source.step_to(120)
        rec.pump()
        assert rec.recorder.write_error is not None and "locked" in str(rec.recorder.write_error)
        assert rec.store.pending_count >= 2 * 60
        source.step_to(180)
        rec.pump()  # still locked: still held, nothing dropped
        assert rec.recorder.write_error is not None
    finally:
        locker.stdin.write("\n")
        locker.stdin.flush()
        locker.wait(10)
    source.step_to(240)
    rec.pump()
    assert rec.recorder.write_error is None and rec.store.pending_count == 0
    rec.finish()
    assert_nothing_lost(rec.stored(), rec.delivered)


FLOCKER = textwrap.dedent("""
    import fcntl, os, sys
    fd = os.open(sys.argv[1], os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running SympaTherm recording it does
    print("locked", flush=True)
    sys.stdin.readline()
""")


def test_a_session_being_recorded_by_another_process_is_not_opened_for_writing(tmp_path):
    path = tmp_path / "theirs.sympatherm"
    store = SessionStore.create(SessionInfo(blocked=Limb.RIGHT), path)
    store.add_readings(_batch(0))
    store.close()
    before = path.read_bytes()
    # Marked as still recording, as a crashed or running session is.
    con = __import__("sqlite3").connect(path)
    con.execute("UPDATE meta SET value = 'recording' WHERE key = 'status'")
    con.commit()
    con.close()
    before = path.read_bytes()
    holder = subprocess.Popen([sys.executable, "-c", FLOCKER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreError, match="being recorded by another running SympaTherm"):
            SessionStore.open(path, resume=True)
        assert path not in find_unfinished_sessions(tmp_path), "a live recording is not offered for recovery"
        with SessionStore.open_read_only(path) as reader:  # reading (exports, review) still works
            assert reader.readings() == _batch(0)
        assert path.read_bytes() == before
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(10)
    assert find_unfinished_sessions(tmp_path) == [path]


def test_an_unwritable_output_folder_is_reported_and_the_session_goes_on(tmp_path):
    """CI runs as root, which ignores permissions: a folder beneath a regular file can never be made."""
    clock = SimulatedClock(manual=True)
    source = SimulatedSource("success-fast", seed=5, clock=clock)
    rec = Recording(source, tmp_path / "s.sympatherm").start()
    source.step_to(300)
    rec.pump()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    # Saving elsewhere (the full-disk rescue) to an unwritable place: refused, recording continues.
    with pytest.raises(StoreWriteError, match="not a folder"):
        rec.store.relocate(blocker / "rescue" / "s.sympatherm")
    # Exporting to an unwritable place: a plain error, the session untouched.
    for fmt in ("csv", "pdf", "fhir", "edf"):
        with pytest.raises(Exception) as info:  # noqa: PT011 - the type is each exporter's; the words matter
            export_session(rec.path, fmt, blocker / "out" / f"x.{fmt}")
        assert "not-a-folder" in str(info.value) or "Not a directory" in str(info.value)
    source.step_to(600)
    rec.pump()
    rec.finish()
    assert_nothing_lost(rec.stored(), rec.delivered)
    assert len(rec.delivered) == 2 * 601


def test_a_session_file_damaged_on_disk_is_reported_and_never_reinitialised(tmp_path):
    path = tmp_path / "damaged.sympatherm"
    store = SessionStore.create(SessionInfo(blocked=Limb.LEFT), path)
    for k in range(50):
        store.add_readings(_batch(k))
    store.commit()
    store.connection.close()  # crashed while recording: left 'recording'
    store._release_lock(path)
    shutil.copy(path, tmp_path / "damaged.copy")
    data = bytearray(path.read_bytes())
    data[4096 * 3: 4096 * 3 + 600] = os.urandom(600)  # a bad sector in the readings
    path.write_bytes(bytes(data))
    Path(str(path) + "-wal").unlink(missing_ok=True)
    damaged = path.read_bytes()
    for attempt in (SessionStore.open_read_only, SessionStore.open,
                    lambda p: SessionStore.open(p, resume=True), close_unfinished):
        with pytest.raises(SessionFileError, match="damaged"):
            attempt(path)
        assert path.read_bytes() == damaged, "the damaged file was changed"
    # The start-up scan may list it (it reads only the status); resuming it is refused in plain words.
    for offered in find_unfinished_sessions(tmp_path):
        with pytest.raises(SessionFileError, match="left exactly as it was"):
            SessionStore.open(offered, resume=True)
    with pytest.raises(SessionFileError):
        export_session(path, "csv", tmp_path / "x.csv")
    assert path.read_bytes() == damaged
