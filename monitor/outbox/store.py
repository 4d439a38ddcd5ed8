"""The outbox: HL7 messages waiting for, or done with, their receiver, in one SQLite file.

The file lives in the user's data folder, mode 0600, in WAL mode with ``synchronous=FULL``
(like the session store): a state change is on disk before the call returns, so a crash or a
SIGKILL loses no message and forgets no acknowledgement. A message keeps its bytes and its
control id (MSH-10) for every resend, so a receiver can tell a resend from a new result.

States: ``waiting`` (to be sent, with the time of the next attempt), ``delivered`` (an AA/CA
matching its control id was received: never sent again), ``rejected`` (AE/AR or CE/CR: kept, with
the receiver's words, until the user retries it).
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from monitor.outbox.config import Receiver

FILE_NAME = "outbox.sqlite"
WAITING, DELIVERED, REJECTED = "waiting", "delivered", "rejected"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    control_id TEXT NOT NULL UNIQUE,
    session TEXT NOT NULL,
    receiver TEXT NOT NULL,
    message BLOB NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_wall REAL NOT NULL,
    next_attempt_wall REAL NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    ack_code TEXT NOT NULL DEFAULT '',
    ack_text TEXT NOT NULL DEFAULT '',
    done_wall REAL
)
"""


class OutboxError(Exception):
    """The outbox cannot be used; the message is plain words."""


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    control_id: str
    session: str
    receiver: Receiver
    message: bytes
    state: str
    attempts: int
    created_wall: float
    next_attempt_wall: float
    last_error: str
    ack_code: str
    ack_text: str
    done_wall: float | None


def default_path() -> Path:
    from monitor.paths import data_dir

    return data_dir() / FILE_NAME


class Outbox:
    """One outbox file. Cheap to open; every method commits before it returns."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        if not self.path.exists():
            # Created 0600 before SQLite opens it (its -wal and -shm files take the same mode).
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        os.chmod(self.path, 0o600)
        try:
            self._db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise OutboxError(f"cannot open the outbox {self.path}: {exc}") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, control_id: str, session: str, receiver: Receiver, message: bytes,
            now: float | None = None) -> OutboxEntry:
        now = time.time() if now is None else now
        self._db.execute("INSERT INTO messages (control_id, session, receiver, message, state, created_wall, "
                         "next_attempt_wall) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (control_id, session, json.dumps(receiver.to_dict()), message, WAITING, now, now))
        return self.get(control_id)

    def get(self, control_id: str) -> OutboxEntry:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM messages WHERE control_id = ?", (control_id,)).fetchone()
        if row is None:
            raise OutboxError(f"no message with control id {control_id} in the outbox")
        return _entry(row)

    def entries(self, state: str | None = None) -> list[OutboxEntry]:
        if state is None:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM messages ORDER BY id")
        else:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM messages WHERE state = ? ORDER BY id", (state,))
        return [_entry(r) for r in rows]

    def due(self, now: float) -> list[OutboxEntry]:
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM messages WHERE state = ? AND next_attempt_wall <= ? "
                                "ORDER BY id", (WAITING, now))
        return [_entry(r) for r in rows]

    def delivered_before(self, session: str, receiver: Receiver) -> OutboxEntry | None:
        for entry in self.entries(DELIVERED):
            if entry.session == session and entry.receiver.address == receiver.address:
                return entry
        return None

    def start_attempt(self, control_id: str, next_attempt_wall: float) -> None:
        """Counted, with the time of the next attempt, before anything is sent (a crash mid-send
        leaves a waiting message, tried again later)."""
        self._db.execute("UPDATE messages SET attempts = attempts + 1, next_attempt_wall = ? "
                         "WHERE control_id = ? AND state = ?", (next_attempt_wall, control_id, WAITING))

    def mark_delivered(self, control_id: str, ack_code: str, ack_text: str, now: float | None = None) -> None:
        self._finish(control_id, DELIVERED, ack_code, ack_text, now)

    def mark_rejected(self, control_id: str, ack_code: str, ack_text: str, now: float | None = None) -> None:
        self._finish(control_id, REJECTED, ack_code, ack_text, now)

    def _finish(self, control_id: str, state: str, code: str, text: str, now: float | None) -> None:
        self._db.execute("UPDATE messages SET state = ?, ack_code = ?, ack_text = ?, done_wall = ?, last_error = ? "
                         "WHERE control_id = ? AND state = ?",
                         (state, code, text, time.time() if now is None else now,
                          "" if state == DELIVERED else text, control_id, WAITING))

    def note_failure(self, control_id: str, error: str) -> None:
        self._db.execute("UPDATE messages SET last_error = ? WHERE control_id = ?", (error, control_id))

    def retry(self, control_id: str, now: float | None = None) -> None:
        """A rejected message back to waiting (the user fixed the cause at the receiver)."""
        entry = self.get(control_id)
        if entry.state != REJECTED:
            raise OutboxError(f"{control_id} is {entry.state}, not rejected: only a rejected message is retried "
                              "by hand (a waiting one is retried anyway; a delivered one is never sent again)")
        self._db.execute("UPDATE messages SET state = ?, next_attempt_wall = ? WHERE control_id = ?",
                         (WAITING, time.time() if now is None else now, control_id))

    @contextmanager
    def delivering(self) -> Iterator[bool]:
        """Only one sender at a time, across processes (an exclusive lock the kernel drops if the
        holder dies): yields False when another one is delivering right now."""
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)


_COLUMNS = ("id, control_id, session, receiver, message, state, attempts, created_wall, next_attempt_wall, "
            "last_error, ack_code, ack_text, done_wall")


def _entry(row: tuple[object, ...]) -> OutboxEntry:
    (id_, control_id, session, receiver, message, state, attempts, created, next_at, error, code, text,
     done) = row
    return OutboxEntry(int(str(id_)), str(control_id), str(session), Receiver.from_dict(json.loads(str(receiver))),
                       bytes(message) if isinstance(message, bytes | bytearray | memoryview) else b"",
                       str(state), int(str(attempts)), float(str(created)), float(str(next_at)), str(error),
                       str(code), str(text), float(str(done)) if done is not None else None)
