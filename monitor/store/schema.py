"""The session file format: its version marks, tables, row types, errors, and the checks that a file is one.

Everything here describes what a SympaTherm session file *is*; nothing here writes one.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.model import Limb

SCHEMA_VERSION = 1
APPLICATION_ID = 0x53545348  # "STSH": marks the file as a SympaTherm session
SUFFIX = ".sympatherm"

# Readers (exports, listings) and one-off steps (opening, closing) may wait this long for a lock.
BUSY_TIMEOUT_MS = 3000
# The recording's own commits wait at most this long: they run on the GUI thread, and a file
# another program keeps locked must not freeze the display. A commit that finds the file
# locked keeps everything in memory and is simply tried again at the next one.
WRITE_BUSY_TIMEOUT_MS = 50

STATUS_RECORDING = "recording"
STATUS_CLOSED = "closed"

EVENT_KINDS = ("artefact", "alarm", "connection_gap")

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE readings (
    id INTEGER PRIMARY KEY,
    limb TEXT NOT NULL CHECK (limb IN ('left', 'right')),
    celsius REAL,
    status TEXT NOT NULL,
    session_s REAL NOT NULL,
    wall_time REAL NOT NULL,
    sequence INTEGER,
    device_time_s REAL,
    source TEXT NOT NULL DEFAULT ''
);
CREATE INDEX readings_by_time ON readings (session_s);
CREATE TABLE markers (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    session_s REAL NOT NULL,
    text TEXT NOT NULL DEFAULT '',
    wall_time REAL,
    placed_s REAL,
    placed_wall REAL
);
CREATE TABLE marker_moves (
    id INTEGER PRIMARY KEY,
    marker_id INTEGER NOT NULL REFERENCES markers (id),
    from_s REAL NOT NULL,
    to_s REAL NOT NULL,
    moved_at_s REAL,
    moved_wall REAL NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    subkind TEXT NOT NULL DEFAULT '',
    limb TEXT,
    start_s REAL NOT NULL,
    end_s REAL,
    wall_time REAL,
    priority TEXT NOT NULL DEFAULT '',
    value REAL,
    message TEXT NOT NULL DEFAULT ''
);
CREATE TABLE verdict_changes (
    id INTEGER PRIMARY KEY,
    session_s REAL NOT NULL,
    wall_time REAL,
    state TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE devices (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    limb TEXT,
    kind TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    identity TEXT NOT NULL DEFAULT '{}',
    calibration TEXT NOT NULL DEFAULT '{}',
    added_s REAL
);
"""

# meta keys the store writes itself; set_meta refuses them.
_RESERVED_META = frozenset({"schema_version", "software_version", "status", "started_wall", "started_iso", "info",
                            "simulated", "criteria", "source", "pid", "ended_wall", "end_reason", "alive_wall",
                            "relocated_from"})


class StoreError(Exception):
    """Base class: every message is plain words fit to show the user."""


class SessionFileError(StoreError):
    """The file is not a readable SympaTherm session (damaged, foreign, or too new)."""


class StoreWriteError(StoreError):
    """Writing failed (disk full, folder not writable); nothing held in memory was dropped."""


class StoreBusyError(StoreWriteError):
    """Another program holds the session file's write lock; nothing was dropped, retry later.

    Usually momentary (a database viewer, a backup tool): the recorder retries quietly and
    tells the user only if it lasts (see ``SessionRecorder``)."""


@dataclass(frozen=True)
class SessionEvent:
    id: int
    kind: str  # artefact | alarm | connection_gap
    subkind: str
    limb: Limb | None
    start_s: float
    end_s: float | None
    wall_time: float | None
    priority: str = ""
    value: float | None = None
    message: str = ""


@dataclass(frozen=True)
class VerdictChange:
    session_s: float
    wall_time: float | None
    state: str
    message: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MarkerMove:
    marker_id: int
    from_s: float
    to_s: float
    moved_at_s: float | None
    moved_wall: float
    reason: str


@dataclass(frozen=True)
class DeviceRecord:
    key: str
    limb: Limb | None
    kind: str
    name: str
    identity: dict[str, Any]
    calibration: dict[str, Any]
    added_s: float | None


@dataclass(frozen=True)
class ResumePoint:
    """Where an unfinished session left off, for resuming it without overlapping its time axis.

    ``last_session_s``: the latest session time anything in the file refers to (readings,
    markers, events, verdicts). ``stopped_wall``: the wall clock when recording stopped (the
    last reading's wall time, never later than the last commit's real time, since a sped-up
    simulator's wall clock runs ahead of real time; without readings, when the file was created).
    """

    last_session_s: float
    stopped_wall: float | None
    readings: int


@dataclass(frozen=True)
class SessionSummary:
    """One line of `sympatherm sessions`."""

    path: Path
    started_wall: float | None
    patient_id: str
    blocked: Limb | None
    duration_s: float
    verdict: str
    status: str
    simulated: bool
    readings: int


# ---- is this file a session? ------------------------------------------------------------
SQLITE_MAGIC = b"SQLite format 3\x00"
_DAMAGE_ADVICE = "It has been left exactly as it was; keep a copy before trying anything else."


def _header(path: str | Path) -> bytes:
    """The first 100 bytes (SQLite's database header), or b"" if the file cannot be read."""
    try:
        with open(path, "rb") as f:
            return f.read(100)
    except OSError:
        return b""


def _marked_as_session(header: bytes) -> bool:
    """The header carries SympaTherm's application id (bytes 68–71), which survives damage elsewhere."""
    return len(header) >= 72 and int.from_bytes(header[68:72], "big") == APPLICATION_ID


def looks_like_session_file(path: str | Path) -> bool:
    """An SQLite file, or one marked as a SympaTherm session even if its first bytes are damaged."""
    header = _header(path)
    return header.startswith(SQLITE_MAGIC) or _marked_as_session(header)


def _check_is_session_file(path: Path) -> None:
    if not path.exists():
        raise SessionFileError(f"There is no session file at {path}.")
    if not path.is_file():
        raise SessionFileError(f"{path} is not a file.")
    try:
        empty = path.stat().st_size == 0
    except OSError:
        empty = False  # opening it says what is wrong
    if empty:
        raise SessionFileError(f"{path} is an empty file (0 bytes), not a SympaTherm session; it was left untouched.")


def _plain_damage(path: Path, exc: BaseException) -> str:
    """Why ``path`` cannot be read, naming what the file really is (SQLite's error in brackets)."""
    header = _header(path)
    if _marked_as_session(header):
        what = "it is a SympaTherm session file that is damaged"
    elif header.startswith(SQLITE_MAGIC):
        what = "it is an SQLite file that is damaged or is not a session file"
    elif header:
        what = "the file is damaged or is not a session file"
    else:
        what = "the file is empty or cannot be read"
    return f"{path} cannot be read as a SympaTherm session: {what} ({exc}). {_DAMAGE_ADVICE}"


def _check_pages(con: sqlite3.Connection) -> None:
    """SQLite's page-by-page check; its first findings only (a badly damaged file lists hundreds)."""
    rows = con.execute("PRAGMA quick_check(3)").fetchall()
    if rows and rows[0][0] == "ok":
        return
    lines = [ln for row in rows for ln in str(row[0]).splitlines() if ln.strip()]
    found = "; ".join(lines[:3])[:300] or "nothing"
    raise sqlite3.DatabaseError(f"integrity check says: {found}")


def _verify(con: sqlite3.Connection, path: Path, *, check_integrity: bool = True) -> None:
    """Refuse anything that is not an intact session of a schema version we understand."""
    if check_integrity:
        _check_pages(con)
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"meta", "readings", "markers", "events"} <= tables:
        raise SessionFileError(f"{path} is an SQLite file but not a SympaTherm session; it was left untouched.")
    version = int(con.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise SessionFileError(f"{path} was written by a newer SympaTherm (session format {version}; this "
                               f"version reads up to {SCHEMA_VERSION}). Update SympaTherm to open it.")
