"""A session file locked by another program: commits give up quickly, keep everything, retry.

The lock is real: a second SQLite connection to the same file holds its write lock
(``BEGIN IMMEDIATE``), as a database viewer or a backup tool would.
"""

from __future__ import annotations

import sqlite3

import pytest

from monitor.clock import SimulatedClock
from monitor.model import Limb, ProbeStatus, Reading, SessionInfo
from monitor.pipeline import BlockPipeline
from monitor.procedure.recorder import SessionRecorder
from monitor.simulation.source import SimulatedSource
from monitor.store import WRITE_BUSY_TIMEOUT_MS, SessionStore, StoreBusyError, StoreWriteError


class OtherProgram:
    """A second connection that takes the session file's write lock and keeps it."""

    def __init__(self, path) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None, timeout=10.0)

    def lock(self) -> None:
        self.connection.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.connection.execute("ROLLBACK")

    def close(self) -> None:
        self.connection.close()


def _batch(k: int) -> list[Reading]:
    return [Reading(limb, 30.0 + k * 0.01, ProbeStatus.OK, float(k), 1.7e9 + k, k, None, "test") for limb in Limb]


def test_a_commit_on_a_locked_file_gives_up_quickly_keeps_everything_and_writes_it_later(tmp_path):
    store = SessionStore.create(SessionInfo(blocked=Limb.LEFT), tmp_path / "s.sympatherm")
    assert store.connection.execute("PRAGMA busy_timeout").fetchone()[0] == WRITE_BUSY_TIMEOUT_MS <= 100
    store.add_readings(_batch(0))
    store.commit()
    other = OtherProgram(store.path)
    other.lock()
    try:
        for k in range(1, 4):
            store.add_readings(_batch(k))
            with pytest.raises(StoreBusyError, match="locked by another program") as info:
                store.commit()
            assert isinstance(info.value, StoreWriteError), "callers that catch StoreWriteError still work"
            assert store.pending_count == 2 * k, "held in memory, nothing dropped"
    finally:
        other.release()
    store.add_readings(_batch(4))
    store.commit()
    assert store.pending_count == 0
    store.close()
    other.close()
    with SessionStore.open_read_only(store.path) as reader:
        assert reader.readings() == [r for k in range(5) for r in _batch(k)]


def test_a_reader_of_the_live_file_never_holds_up_its_commits(tmp_path):
    store = SessionStore.create(SessionInfo(blocked=Limb.LEFT), tmp_path / "s.sympatherm")
    store.add_readings(_batch(0))
    store.commit()
    with SessionStore.open_read_only(store.path) as reader:
        cursor = reader.connection.execute("SELECT * FROM readings")  # a read transaction left open
        cursor.fetchone()
        store.add_readings(_batch(1))
        store.commit()  # WAL: the reader does not block the writer
        assert store.pending_count == 0
    store.close()


def _recording(tmp_path, **options):
    clock = SimulatedClock(manual=True)
    source = SimulatedSource("success-fast", seed=4, clock=clock)
    delivered: list[Reading] = []
    inner = source.drain

    def drain(max_items=None):
        out = inner(max_items)
        delivered.extend(out)
        return out

    source.drain = drain  # what the recorder received, to prove the file holds exactly that
    store = SessionStore.create(SessionInfo(patient_id="LOCK-1", blocked=Limb.LEFT, simulated=True),
                                tmp_path / "locked.sympatherm")
    reports: list = []
    recorder = SessionRecorder(source, store, BlockPipeline(Limb.LEFT), commit_interval_s=0.0,
                               on_write_error=reports.append, **options)
    source.start()
    return source, store, recorder, reports, delivered


def test_a_short_lock_is_retried_quietly_and_a_long_one_is_told_once_in_plain_words(tmp_path):
    source, store, recorder, reports, delivered = _recording(tmp_path, locked_tell_after_s=5.0)
    source.step_to(30)
    recorder.pump()
    assert store.pending_count == 0
    other = OtherProgram(store.path)
    other.lock()
    try:
        for t in (31, 32, 33, 34):  # four session seconds with nothing saved: retried quietly
            source.step_to(t)
            recorder.pump()
            assert recorder.write_delayed is not None
            assert recorder.write_error is None and reports == []
        assert store.pending_count >= 2 * 4
        for t in (36, 40, 60):  # it lasts: the user is told, once
            source.step_to(t)
            recorder.pump()
            assert recorder.write_error is not None
        words = str(recorder.write_error)
        assert "locked by another program since" in words and "Nothing is lost" in words
        assert reports == [recorder.write_error]
        assert store.pending_count >= 2 * 30
    finally:
        other.release()
    source.step_to(61)
    recorder.pump()
    assert recorder.write_error is None and recorder.write_delayed is None
    assert reports[-1] is None and len(reports) == 2, "told once that it works again"
    assert store.pending_count == 0
    # A second, short lock later in the session is quiet again.
    other.lock()
    try:
        source.step_to(63)
        recorder.pump()
        assert recorder.write_delayed is not None and recorder.write_error is None and len(reports) == 2
    finally:
        other.release()
        other.close()
    recorder.finish()
    with SessionStore.open_read_only(store.path) as reader:
        assert reader.readings() == delivered, "every reading received is in the file, once, unchanged"
        assert reader.status == "closed"
    assert len(delivered) == 2 * 64


def test_a_full_disk_is_still_told_at_once_even_while_locks_are_quiet(tmp_path):
    source, store, recorder, reports, delivered = _recording(tmp_path, locked_tell_after_s=600.0)
    source.step_to(10)
    recorder.pump()
    pages = store.connection.execute("PRAGMA page_count").fetchone()[0]
    store.connection.execute(f"PRAGMA max_page_count={pages}")  # the disk fills up
    for t in range(20, 400, 10):
        source.step_to(t)
        recorder.pump()
    assert recorder.write_error is not None and "disk is full" in str(recorder.write_error)
    assert len(reports) == 1
    store.connection.execute("PRAGMA max_page_count=1073741823")
    recorder.finish()
    with SessionStore.open_read_only(store.path) as reader:
        assert reader.readings() == delivered
