"""The session store: one SQLite file per procedure, crash-safe, never silently reset.

Durability: while recording the file is in WAL mode with ``synchronous=FULL``, so every
commit is fsynced to the write-ahead log before ``commit()`` returns; a ``kill -9`` or a
power cut loses only what was not yet committed (the recorder commits at least once a
second). On a clean close the WAL is checkpointed and the file goes back to
``journal_mode=DELETE``: one self-contained file.

Writes are buffered in memory and written in one transaction by :meth:`SessionStore.commit`.
If that fails (disk full, folder gone, read-only), the transaction is rolled back, the
buffer is kept, a :class:`StoreWriteError` in plain words is raised, and the next commit
retries; :meth:`SessionStore.relocate` saves everything to another file on request.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor import __version__, paths
from monitor.model import Limb, Marker, MarkerKind, ProbeStatus, Reading, SessionInfo

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
    detail: dict = field(default_factory=dict)


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
    identity: dict
    calibration: dict
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


# ---------------------------------------------------------------------------------------
def sanitize_filename_part(text: str, max_len: int = 40) -> str:
    """Letters, digits, '-' and '_' only, so user input can never leave the folder."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-_.")
    return cleaned[:max_len] or "anonymous"


def default_session_path(info: SessionInfo, started_wall: float | None = None,
                         folder: Path | None = None) -> Path:
    stamp = datetime.fromtimestamp(started_wall or time.time()).strftime("%Y%m%d-%H%M%S")
    parts = [stamp, sanitize_filename_part(info.patient_id) if info.patient_id else "anonymous"]
    if info.blocked:
        parts.append(str(info.blocked))
    if info.simulated:
        parts.append("SIMULATED")
    folder = folder if folder is not None else paths.sessions_dir()
    path = folder / ("_".join(parts) + SUFFIX)
    n = 2
    while path.exists():
        path = folder / ("_".join(parts) + f"-{n}" + SUFFIX)
        n += 1
    return path


def _plain_sqlite_error(exc: BaseException, path: Path) -> str:
    text = str(exc).lower()
    if "full" in text:
        return (f"The disk is full: the session file {path} cannot grow. Readings are held in memory and "
                "will be written when space is freed, or save them to another location.")
    if "readonly" in text or "read-only" in text or "permission" in text:
        return (f"The session file {path} cannot be written (read-only location). Readings are held in "
                "memory; save them to another location.")
    if "locked" in text or "busy" in text:
        return (f"The session file {path} is locked by another program (database is locked). Readings are "
                "held in memory and will be written as soon as it lets go.")
    if "unable to open" in text or "disk i/o" in text:
        return (f"The session file {path} cannot be written ({exc}). Readings are held in memory and "
                "will be written when it is reachable again, or save them to another location.")
    return f"Writing the session file {path} failed ({exc}). Readings are held in memory."


def _create_private_file(path: Path) -> None:
    """Create an empty file readable by the user only, refusing to touch an existing one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except (NotADirectoryError, FileExistsError) as exc:
        raise StoreWriteError(f"Cannot create the session file {path}: {path.parent} is not a folder "
                              f"({exc.strerror or exc}).") from exc
    except OSError as exc:
        raise StoreWriteError(f"Cannot create the folder {path.parent} for the session file: "
                              f"{exc.strerror or exc}.") from exc
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise StoreWriteError(f"{path} already exists; a session file is never overwritten. "
                              "Choose another name.") from exc
    except OSError as exc:
        raise StoreWriteError(f"Cannot create the session file {path}: {exc.strerror or exc}.") from exc
    os.close(fd)
    if sys.platform != "win32":
        os.chmod(path, 0o600)  # in case the umask was stricter than asked, keep exactly 0600


def _is_busy(exc: BaseException) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _connect_for_writing(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    # In WAL mode readers never block the writer; only another writer can, and then the
    # commit gives up quickly and is retried (see WRITE_BUSY_TIMEOUT_MS).
    con.execute(f"PRAGMA busy_timeout={WRITE_BUSY_TIMEOUT_MS}")
    con.execute("PRAGMA journal_mode=WAL")
    # FULL: each commit is fsynced to the WAL, so a power cut keeps every committed reading.
    con.execute("PRAGMA synchronous=FULL")
    return con


def _json(value: Any) -> str:
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    return json.dumps(value, default=str, sort_keys=True)


# meta keys the store writes itself; set_meta refuses them.
_RESERVED_META = frozenset({"schema_version", "software_version", "status", "started_wall", "started_iso", "info",
                            "simulated", "criteria", "source", "pid", "ended_wall", "end_reason", "alive_wall",
                            "relocated_from"})


# Paths this process has open for writing: never probe their locks (closing a second file
# descriptor on a SQLite file drops that process's POSIX locks on it).
_OPEN_FOR_WRITING: set[Path] = set()


# ---------------------------------------------------------------------------------------
class SessionStore:
    """One procedure's SQLite file. Use :meth:`create`, :meth:`open` or :meth:`open_read_only`."""

    def __init__(self, path: Path, connection: sqlite3.Connection, *, read_only: bool) -> None:
        self.path = path
        self.connection = connection
        self.read_only = read_only
        self._pending_readings: list[tuple] = []
        self._pending_ops: list[tuple[str, tuple]] = []
        self._next_id: dict[str, int] = {}
        self._lock_fd: int | None = None
        self.last_commit_monotonic = time.monotonic()
        self.write_error: StoreWriteError | None = None
        self.closed = False

    # ---- opening ------------------------------------------------------------------
    @classmethod
    def create(cls, info: SessionInfo, path: str | os.PathLike | None = None, *,
               criteria: dict | None = None, software_version: str | None = None,
               started_wall: float | None = None, source_description: str = "") -> SessionStore:
        """Create a new session file (0600) and write its descriptive fields at once."""
        started_wall = started_wall if started_wall is not None else time.time()
        if path is None:
            target = default_session_path(info, started_wall)
        elif Path(path).is_dir():  # a folder: a new, sanitised name inside it
            target = default_session_path(info, started_wall, Path(path))
        else:
            target = Path(path)
        _create_private_file(target)
        con = None
        try:
            con = _connect_for_writing(target)
            con.execute(f"PRAGMA application_id={APPLICATION_ID}")
            con.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    con.execute(statement)
            meta = {
                "schema_version": str(SCHEMA_VERSION),
                "software_version": software_version or __version__,
                "status": STATUS_RECORDING,
                "started_wall": repr(started_wall),
                "started_iso": datetime.fromtimestamp(started_wall, UTC).isoformat(),
                "info": _json(info.to_dict()),
                "simulated": "1" if info.simulated else "0",
                "criteria": _json(criteria or {}),
                "source": source_description,
                "pid": str(os.getpid()),
            }
            con.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", list(meta.items()))
            con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            con.execute("COMMIT")
        except sqlite3.Error as exc:
            if con is not None:
                con.close()
            for leftover in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
                leftover.unlink(missing_ok=True)  # the empty file we created a moment ago
            raise StoreWriteError(_plain_sqlite_error(exc, target)) from exc
        store = cls(target, con, read_only=False)
        store._take_lock()
        return store

    @classmethod
    def open(cls, path: str | os.PathLike, *, resume: bool = False) -> SessionStore:
        """Open an existing session for writing. ``resume=True`` continues an unfinished one."""
        target = Path(path)
        _check_is_session_file(target)
        if _locked_elsewhere(target):
            raise StoreError(f"{target} is being recorded by another running SympaTherm.")
        con = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        try:
            con.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            _verify(con, target)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=FULL")
            con.execute(f"PRAGMA busy_timeout={WRITE_BUSY_TIMEOUT_MS}")
        except sqlite3.DatabaseError as exc:
            con.close()
            if _is_busy(exc):
                raise StoreBusyError(_plain_sqlite_error(exc, target)) from exc
            raise SessionFileError(_plain_damage(target, exc)) from exc
        except StoreError:
            con.close()
            raise
        store = cls(target, con, read_only=False)
        store._take_lock()
        if resume:
            try:
                store._set_meta("status", STATUS_RECORDING)
                store._set_meta_now("pid", str(os.getpid()))
            except StoreError:
                con.close()
                store._release_lock(target)
                raise
        return store

    @classmethod
    def open_read_only(cls, path: str | os.PathLike, *, check_integrity: bool = True) -> SessionStore:
        """Read a session, also one still being recorded by another process. Never writes.

        ``check_integrity=False`` skips SQLite's page-by-page check (for quick listings).
        """
        target = Path(path)
        _check_is_session_file(target)
        con = sqlite3.connect(f"{target.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        try:
            con.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            _verify(con, target, check_integrity=check_integrity)
        except sqlite3.DatabaseError as exc:
            con.close()
            raise SessionFileError(_plain_damage(target, exc)) from exc
        except StoreError:
            con.close()
            raise
        return cls(target, con, read_only=True)

    def _take_lock(self) -> None:
        _OPEN_FOR_WRITING.add(self.path.resolve())
        _add_pointer(self.path)
        try:
            import fcntl
        except ImportError:  # Windows: the pid in meta is the only liveness hint
            return
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise StoreError(f"{self.path} is being recorded by another running SympaTherm.") from None
        self._lock_fd = fd

    # ---- writing (buffered) ---------------------------------------------------------
    def _new_id(self, table: str) -> int:
        if table not in self._next_id:
            row = self.connection.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()  # noqa: S608
            self._next_id[table] = int(row[0]) + 1
        value = self._next_id[table]
        self._next_id[table] = value + 1
        return value

    def _op(self, sql: str, params: tuple) -> None:
        self._ensure_writable()
        self._pending_ops.append((sql, params))

    def _ensure_writable(self) -> None:
        if self.read_only:
            raise StoreError(f"{self.path} is open read-only.")
        if self.closed:
            raise StoreError(f"{self.path} is already closed.")

    def add_readings(self, readings: Iterable[Reading]) -> None:
        self._ensure_writable()
        self._pending_readings.extend(
            (str(r.limb), r.celsius, str(r.status), r.session_s, r.wall_time, r.sequence, r.device_time_s,
             r.source) for r in readings)

    @property
    def pending_count(self) -> int:
        """Readings and records held in memory, not yet in the file."""
        return len(self._pending_readings) + len(self._pending_ops)

    def add_marker(self, marker: Marker, *, placed_wall: float | None = None) -> int:
        """Record a marker; returns its id (use it to move the marker later)."""
        marker.checked_limb  # noqa: B018 -- a "probe checked" marker must name its foot (ValueError)
        marker_id = self._new_id("markers")
        placed_s = marker.placed_s if marker.placed_s is not None else marker.session_s
        self._op("INSERT INTO markers (id, kind, session_s, text, wall_time, placed_s, placed_wall) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (marker_id, str(marker.kind), marker.session_s, marker.text, marker.wall_time, placed_s,
                  placed_wall if placed_wall is not None else time.time()))
        return marker_id

    def move_marker(self, marker_id: int, new_session_s: float, *, moved_at_s: float | None = None,
                    reason: str = "") -> None:
        """Move a marker; the old position is kept in ``marker_moves`` (never overwritten silently)."""
        self._ensure_writable()
        current = self._marker_position(marker_id)
        if current is None:
            raise StoreError(f"There is no marker number {marker_id} in this session.")
        self._op("INSERT INTO marker_moves (id, marker_id, from_s, to_s, moved_at_s, moved_wall, reason) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (self._new_id("marker_moves"), marker_id, current, new_session_s, moved_at_s, time.time(),
                  reason))
        self._op("UPDATE markers SET session_s = ? WHERE id = ?", (new_session_s, marker_id))

    def _marker_position(self, marker_id: int) -> float | None:
        # The newest pending move wins over the committed row.
        for sql, params in reversed(self._pending_ops):
            if sql.startswith("UPDATE markers") and params[1] == marker_id:
                return params[0]
            if sql.startswith("INSERT INTO markers") and params[0] == marker_id:
                return params[2]
        row = self.connection.execute("SELECT session_s FROM markers WHERE id = ?", (marker_id,)).fetchone()
        return None if row is None else float(row[0])

    def add_event(self, kind: str, start_s: float, *, end_s: float | None = None, subkind: str = "",
                  limb: Limb | None = None, message: str = "", priority: str = "", value: float | None = None,
                  wall_time: float | None = None) -> int:
        """Record an artefact, alarm or connection gap (``kind``); returns its id for :meth:`end_event`."""
        if kind not in EVENT_KINDS:
            raise ValueError(f"event kind must be one of {', '.join(EVENT_KINDS)}, not {kind!r}")
        event_id = self._new_id("events")
        self._op("INSERT INTO events (id, kind, subkind, limb, start_s, end_s, wall_time, priority, value, "
                 "message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (event_id, kind, subkind, str(limb) if limb else None, start_s, end_s, wall_time, priority,
                  value, message))
        return event_id

    def end_event(self, event_id: int, end_s: float | None, *, message: str | None = None) -> None:
        """End an event at ``end_s`` (None: open again, e.g. the check that ended it was moved);
        ``message`` (if given) replaces its words, e.g. to say how it ended."""
        if message is None:
            self._op("UPDATE events SET end_s = ? WHERE id = ?", (end_s, event_id))
        else:
            self._op("UPDATE events SET end_s = ?, message = ? WHERE id = ?", (end_s, message, event_id))

    def add_verdict_change(self, session_s: float, state: str, message: str = "", *,
                           wall_time: float | None = None, detail: dict | None = None) -> None:
        self._op("INSERT INTO verdict_changes (id, session_s, wall_time, state, message, detail) "
                 "VALUES (?, ?, ?, ?, ?, ?)",
                 (self._new_id("verdict_changes"), session_s, wall_time, str(state), message,
                  _json(detail or {})))

    def add_device(self, identity: Any, *, limb: Limb | None = None, calibration: Any = None,
                   added_s: float | None = None) -> None:
        """Record a device (a ``DeviceIdentity`` or a dict) and its calibration."""
        ident = asdict(identity) if is_dataclass(identity) and not isinstance(identity, type) else dict(identity)
        key = getattr(identity, "key", None) or ident.get("key") or f"{ident.get('kind', '')}:{ident.get('name', '')}"
        self._op("INSERT INTO devices (id, key, limb, kind, name, identity, calibration, added_s) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (self._new_id("devices"), key, str(limb) if limb else None, ident.get("kind", ""),
                  ident.get("name", ""), _json(ident), _json(calibration or {}), added_s))

    def set_info(self, info: SessionInfo) -> None:
        self._set_meta("info", _json(info.to_dict()))
        self._set_meta("simulated", "1" if info.simulated else "0")

    def set_criteria(self, criteria: dict) -> None:
        self._set_meta("criteria", _json(criteria))

    def set_meta(self, key: str, value: str) -> None:
        """Record a free descriptive field (e.g. how the recording was started); not the reserved ones."""
        if key in _RESERVED_META:
            raise ValueError(f"{key!r} is kept by the store itself")
        self._set_meta(key, value)

    def end_open_events(self, at_s: float, kinds: tuple[str, ...] = ("alarm", "connection_gap")) -> int:
        """End every event of ``kinds`` still open (left so by a crash) at ``at_s``; returns how many."""
        self._ensure_writable()
        marks = ",".join("?" for _ in kinds)
        rows = self.connection.execute(
            f"SELECT id FROM events WHERE end_s IS NULL AND kind IN ({marks})", kinds).fetchall()  # noqa: S608
        for (event_id,) in rows:
            self.end_event(int(event_id), max(at_s, self._event_start(int(event_id))))
        return len(rows)

    def _event_start(self, event_id: int) -> float:
        row = self.connection.execute("SELECT start_s FROM events WHERE id = ?", (event_id,)).fetchone()
        return float(row[0]) if row else 0.0

    def _set_meta(self, key: str, value: str) -> None:
        self._op("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def _set_meta_now(self, key: str, value: str) -> None:
        self._set_meta(key, value)
        self.commit()

    # ---- committing -------------------------------------------------------------------
    def commit(self) -> None:
        """Write everything held in memory in one transaction.

        On failure nothing is dropped: the transaction is rolled back, the buffer kept, and
        :class:`StoreWriteError` raised; call again (or :meth:`relocate`) later.
        """
        self._ensure_writable()
        if not self._pending_readings and not self._pending_ops:
            self.last_commit_monotonic = time.monotonic()
            return
        con = self.connection
        try:
            con.execute("BEGIN IMMEDIATE")
            self._write_pending(con)
            if self._pending_readings:
                # Real time readings were last saved: where a crash stopped the recording (resume_point).
                con.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('alive_wall', ?)",
                            (repr(time.time()),))
            con.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                con.execute("ROLLBACK")
            error_type = StoreBusyError if _is_busy(exc) else StoreWriteError
            self.write_error = error_type(_plain_sqlite_error(exc, self.path))
            raise self.write_error from exc
        self._pending_readings.clear()
        self._pending_ops.clear()
        self.write_error = None
        self.last_commit_monotonic = time.monotonic()

    def _write_pending(self, con: sqlite3.Connection) -> None:
        if self._pending_readings:
            con.executemany("INSERT INTO readings (limb, celsius, status, session_s, wall_time, sequence, "
                            "device_time_s, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", self._pending_readings)
        for sql, params in self._pending_ops:
            con.execute(sql, params)

    def relocate(self, new_path: str | os.PathLike) -> Path:
        """Save the whole session (file and memory) to ``new_path`` and keep recording there."""
        self._ensure_writable()
        target = Path(new_path)
        _create_private_file(target)
        try:
            dest = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
            self.connection.backup(dest)
            dest.execute(f"PRAGMA busy_timeout={WRITE_BUSY_TIMEOUT_MS}")
            dest.execute("PRAGMA journal_mode=WAL")
            dest.execute("PRAGMA synchronous=FULL")
            dest.execute("BEGIN IMMEDIATE")
            self._write_pending(dest)
            dest.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreWriteError(_plain_sqlite_error(exc, target)) from exc
        old = self.path
        with contextlib.suppress(sqlite3.Error):
            self.connection.close()
        self._release_lock(old)
        _remove_pointer(old)
        self.connection = dest
        self.path = target
        self._pending_readings.clear()
        self._pending_ops.clear()
        self.write_error = None
        self._take_lock()
        with contextlib.suppress(StoreError):
            self._set_meta_now("relocated_from", str(old))
        return target

    def close(self, *, status: str = STATUS_CLOSED, end_reason: str = "closed normally") -> None:
        """Commit, mark the session closed, checkpoint and return to a single self-contained file.

        If the final write fails the store stays open (nothing lost) and the error is raised.
        """
        if self.closed:
            return
        if self.read_only:
            self.connection.close()
            self.closed = True
            return
        self._set_meta("status", status)
        self._set_meta("ended_wall", repr(time.time()))
        self._set_meta("end_reason", end_reason)
        # Closing happens once: worth waiting a little for a lock rather than failing.
        self.connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        try:
            self.commit()
        except StoreWriteError:
            self.connection.execute(f"PRAGMA busy_timeout={WRITE_BUSY_TIMEOUT_MS}")
            raise
        self._return_to_single_file()
        self.connection.close()
        self._release_lock(self.path)
        if status == STATUS_CLOSED:
            _remove_pointer(self.path)
        self.closed = True

    def _return_to_single_file(self, wait_s: float = 3.0) -> bool:
        """Checkpoint and leave WAL mode. A reader still open (an export of the live session)
        prevents it, so retry for a moment; if it never works, the committed data is safe in
        the WAL and SQLite folds it in at the next open."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                mode = self.connection.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
                if str(mode).lower() == "delete":
                    return True
            except sqlite3.Error:
                pass
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def _release_lock(self, path: Path) -> None:
        _OPEN_FOR_WRITING.discard(path.resolve())
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- reading --------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        return dict(self.connection.execute("SELECT key, value FROM meta").fetchall())

    @property
    def status(self) -> str:
        return self.meta().get("status", "")

    def info(self) -> SessionInfo:
        return SessionInfo.from_dict(json.loads(self.meta().get("info", "{}")))

    def criteria(self) -> dict:
        return json.loads(self.meta().get("criteria", "{}"))

    @property
    def simulated(self) -> bool:
        return self.meta().get("simulated") == "1"

    def reading_count(self) -> int:
        return int(self.connection.execute("SELECT COUNT(*) FROM readings").fetchone()[0])

    def iter_readings(self, batch: int = 5000) -> Iterator[Reading]:
        cur = self.connection.execute(
            "SELECT limb, celsius, status, session_s, wall_time, sequence, device_time_s, source "
            "FROM readings ORDER BY id")
        while rows := cur.fetchmany(batch):
            for limb, c, status, s, wall, seq, dev, src in rows:
                yield Reading(Limb(limb), c, ProbeStatus(status), s, wall, seq, dev, src)

    def readings(self) -> list[Reading]:
        return list(self.iter_readings())

    def markers(self) -> list[Marker]:
        rows = self.connection.execute(
            "SELECT id, kind, session_s, text, wall_time, placed_s FROM markers ORDER BY session_s, id")
        return [Marker(MarkerKind(k), s, t, w, p, i) for i, k, s, t, w, p in rows]

    def marker_moves(self) -> list[MarkerMove]:
        rows = self.connection.execute(
            "SELECT marker_id, from_s, to_s, moved_at_s, moved_wall, reason FROM marker_moves ORDER BY id")
        return [MarkerMove(*row) for row in rows]

    def events(self, kind: str | None = None) -> list[SessionEvent]:
        sql = ("SELECT id, kind, subkind, limb, start_s, end_s, wall_time, priority, value, message "
               "FROM events")
        params: tuple = ()
        if kind:
            sql += " WHERE kind = ?"
            params = (kind,)
        rows = self.connection.execute(sql + " ORDER BY start_s, id", params)
        return [SessionEvent(i, k, sk, Limb(lb) if lb else None, s, e, w, p, v, m)
                for i, k, sk, lb, s, e, w, p, v, m in rows]

    def verdict_changes(self) -> list[VerdictChange]:
        rows = self.connection.execute(
            "SELECT session_s, wall_time, state, message, detail FROM verdict_changes ORDER BY session_s, id")
        return [VerdictChange(s, w, st, m, json.loads(d or "{}")) for s, w, st, m, d in rows]

    def devices(self) -> list[DeviceRecord]:
        rows = self.connection.execute(
            "SELECT key, limb, kind, name, identity, calibration, added_s FROM devices ORDER BY id")
        return [DeviceRecord(k, Limb(lb) if lb else None, kd, n, json.loads(i), json.loads(c), a)
                for k, lb, kd, n, i, c, a in rows]

    def time_span(self) -> tuple[float, float] | None:
        row = self.connection.execute("SELECT MIN(session_s), MAX(session_s) FROM readings").fetchone()
        return None if row[0] is None else (float(row[0]), float(row[1]))

    def resume_point(self) -> ResumePoint:
        """Where this (unfinished) session left off; see :class:`ResumePoint`."""
        con = self.connection
        latest = [con.execute("SELECT MAX(session_s) FROM readings").fetchone()[0],
                  *con.execute("SELECT MAX(session_s), MAX(placed_s) FROM markers").fetchone(),
                  *con.execute("SELECT MAX(start_s), MAX(end_s) FROM events").fetchone(),
                  con.execute("SELECT MAX(session_s) FROM verdict_changes").fetchone()[0]]
        last_s = max((float(v) for v in latest if v is not None), default=0.0)
        row = con.execute("SELECT wall_time FROM readings ORDER BY session_s DESC, id DESC LIMIT 1").fetchone()
        meta = self.meta()
        alive = meta.get("alive_wall") or meta.get("started_wall")  # no readings yet: its creation
        stopped = None if row is None else float(row[0])
        if alive:
            stopped = float(alive) if stopped is None else min(stopped, float(alive))
        return ResumePoint(last_s, stopped, self.reading_count())

    def summary(self) -> SessionSummary:
        meta = self.meta()
        info = SessionInfo.from_dict(json.loads(meta.get("info", "{}")))
        span = self.time_span()
        verdicts = self.verdict_changes()
        started = meta.get("started_wall")
        return SessionSummary(
            path=self.path, started_wall=float(started) if started else None, patient_id=info.patient_id,
            blocked=info.blocked, duration_s=(span[1] if span else 0.0),
            verdict=verdicts[-1].state if verdicts else "", status=meta.get("status", ""),
            simulated=meta.get("simulated") == "1", readings=self.reading_count())


# ---------------------------------------------------------------------------------------
def _check_is_session_file(path: Path) -> None:
    if not path.exists():
        raise SessionFileError(f"There is no session file at {path}.")
    if not path.is_file():
        raise SessionFileError(f"{path} is not a file.")


def _plain_damage(path: Path, exc: BaseException) -> str:
    return (f"{path} cannot be read as a SympaTherm session: the file is damaged or is not a session "
            f"file ({exc}). It has been left exactly as it was; keep a copy before trying anything else.")


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


def _locked_elsewhere(path: Path) -> bool:
    if path.resolve() in _OPEN_FOR_WRITING:
        return True
    try:
        import fcntl
    except ImportError:
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # also releases our probe lock
    return False


# Sessions recorded outside the data folder (--out) are found again after a crash through a
# small pointer file per open recording, removed when the session is closed cleanly.
def _pointer_dir() -> Path:
    folder = paths.data_dir() / "recording-now"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _pointer_for(path: Path) -> Path:
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24]
    return _pointer_dir() / f"{digest}.path"


def _add_pointer(path: Path) -> None:
    try:
        pointer = _pointer_for(path)
        fd = os.open(pointer, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(str(path.resolve()))
    except OSError:
        pass  # best effort: the session file itself is what matters


def _remove_pointer(path: Path) -> None:
    with contextlib.suppress(OSError):
        _pointer_for(path).unlink(missing_ok=True)


def _pointed_sessions() -> list[Path]:
    out = []
    try:
        pointers = sorted(_pointer_dir().glob("*.path"))
    except OSError:
        return []
    for pointer in pointers:
        try:
            target = Path(pointer.read_text(encoding="utf-8").strip())
        except (OSError, UnicodeDecodeError):
            continue
        if target.is_file():
            out.append(target)
        elif target.parent.is_dir():
            pointer.unlink(missing_ok=True)  # the file was moved or deleted by the user
        # else its folder is not there (a USB stick or network share not mounted now): keep
        # the pointer, so the session is offered again once it is back.
    return out


def list_session_files(folder: str | os.PathLike | None = None) -> list[Path]:
    base = Path(folder) if folder is not None else paths.sessions_dir()
    return sorted(p for p in base.glob(f"*{SUFFIX}") if p.is_file())


@dataclass(frozen=True)
class DamagedSession:
    """A session file that cannot be opened, with the reason in plain words (fit to show as is)."""

    path: Path
    reason: str


@dataclass(frozen=True)
class UnfinishedScan:
    """What the start-up scan found: sessions to offer for resuming or closing, and files to report.

    ``resumable``: left 'recording' by a process no longer running, intact (open them with
    ``SessionStore.open(path, resume=True)`` or :func:`close_unfinished`). ``damaged``: files that
    cannot be opened at all (damaged, not a session, or from a newer SympaTherm); they are never
    changed, only reported, and resuming or closing them would fail.
    """

    resumable: list[Path]
    damaged: list[DamagedSession]


# A file this young that is not (yet) a session may be one another process is creating right now.
_CREATION_GRACE_S = 10.0


def scan_unfinished_sessions(folder: str | os.PathLike | None = None) -> UnfinishedScan:
    """Sessions a crash, kill or power cut left unfinished, and session files that cannot be opened.

    Looks in ``folder`` (default: the sessions folder, plus sessions recorded elsewhere with
    ``--out`` that were never closed). Sessions being recorded right now are left out. An
    unfinished session gets SQLite's page-by-page check (the crash may have damaged it); closed
    ones are not checked here, to keep start-up quick.
    """
    resumable: list[Path] = []
    damaged: list[DamagedSession] = []
    candidates = list_session_files(folder)
    if folder is None:
        known = {p.resolve() for p in candidates}
        candidates += [p for p in _pointed_sessions() if p.resolve() not in known]
    for path in candidates:
        if _locked_elsewhere(path):
            continue  # being recorded right now
        try:
            store = SessionStore.open_read_only(path, check_integrity=False)
        except StoreError as exc:
            if not _recently_modified(path, _CREATION_GRACE_S):
                damaged.append(DamagedSession(path, str(exc)))
            continue
        try:
            if store.status != STATUS_RECORDING:
                _remove_pointer(path)
                continue
            _check_pages(store.connection)
            resumable.append(path)
        except sqlite3.Error as exc:
            damaged.append(DamagedSession(path, _plain_damage(path, exc)))
        finally:
            store.close()
    return UnfinishedScan(resumable, damaged)


def find_unfinished_sessions(folder: str | os.PathLike | None = None) -> list[Path]:
    """Intact sessions left 'recording' by a process that is no longer running (crash, kill,
    power cut): offer each for ``SessionStore.open(path, resume=True)`` or :func:`close_unfinished`.

    Damaged files are not listed here: see :func:`find_damaged_sessions` (or
    :func:`scan_unfinished_sessions` for both at once).
    """
    return scan_unfinished_sessions(folder).resumable


def find_damaged_sessions(folder: str | os.PathLike | None = None) -> list[DamagedSession]:
    """Session files that cannot be opened, each with the reason in plain words (see
    :func:`scan_unfinished_sessions`)."""
    return scan_unfinished_sessions(folder).damaged


def _recently_modified(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime < seconds
    except OSError:
        return False


def close_unfinished(path: str | os.PathLike) -> None:
    """Close a session interrupted by a crash: keep everything, mark it ended, fold in the WAL.

    Alarms and connection gaps the crash left open end where the recording stopped."""
    store = SessionStore.open(path)
    store.end_open_events(store.resume_point().last_session_s)
    store.close(end_reason="recording was interrupted (crash or power loss); closed on recovery")


def session_summaries(folder: str | os.PathLike | None = None) -> list[tuple[Path, SessionSummary | str]]:
    """Every session file with its summary, or a plain-words reason it cannot be read."""
    out: list[tuple[Path, SessionSummary | str]] = []
    for path in list_session_files(folder):
        try:
            store = SessionStore.open_read_only(path, check_integrity=False)
        except StoreError as exc:
            out.append((path, str(exc)))
            continue
        try:
            out.append((path, store.summary()))
        except sqlite3.Error as exc:
            out.append((path, _plain_damage(path, exc)))
        finally:
            store.close()
    return out
