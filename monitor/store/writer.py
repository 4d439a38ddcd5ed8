"""Writing a session file: creating or opening it for recording, buffered writes, commit, relocate, close.

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
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import Field, asdict, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol

from monitor import __version__
from monitor.model import Limb, Marker, Reading, SessionInfo

from .files import (
    _OPEN_FOR_WRITING,
    _add_pointer,
    _create_private_file,
    _locked_elsewhere,
    _remove_pointer,
    default_session_path,
)
from .reader import SessionReader
from .schema import (
    _RESERVED_META,
    _SCHEMA,
    APPLICATION_ID,
    BUSY_TIMEOUT_MS,
    EVENT_KINDS,
    SCHEMA_VERSION,
    STATUS_CLOSED,
    STATUS_RECORDING,
    WRITE_BUSY_TIMEOUT_MS,
    SessionFileError,
    StoreBusyError,
    StoreError,
    StoreWriteError,
    _check_is_session_file,
    _plain_damage,
    _verify,
)

# One row of SQL parameters, as sqlite3 takes them.
_Row = tuple[Any, ...]


class RecordedDevice(Protocol):
    """What the store needs of a device identity: a dataclass with a registry key (as
    :class:`monitor.sources.base.DeviceIdentity` is; the store does not import the sources)."""

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    @property
    def key(self) -> str: ...


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


def _is_busy(exc: BaseException) -> bool:
    # Not exc.sqlite_errorcode: sqlite3 sets it only on errors it raised itself, so an error
    # made elsewhere (a test, a wrapper) has no such attribute at all.
    code = getattr(exc, "sqlite_errorcode", None) if isinstance(exc, sqlite3.Error) else None
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


# ---------------------------------------------------------------------------------------
class SessionStore(SessionReader):
    """One procedure's SQLite file. Use :meth:`create`, :meth:`open` or :meth:`open_read_only`.

    The reading methods come from :class:`~monitor.store.reader.SessionReader`."""

    def __init__(self, path: Path, connection: sqlite3.Connection, *, read_only: bool) -> None:
        super().__init__(path, connection, read_only=read_only)
        self._pending_readings: list[_Row] = []
        self._pending_ops: list[tuple[str, _Row]] = []
        self._next_id: dict[str, int] = {}
        self._lock_fd: int | None = None
        self.last_commit_monotonic = time.monotonic()
        self.write_error: StoreWriteError | None = None

    # ---- opening ------------------------------------------------------------------
    @classmethod
    def create(cls, info: SessionInfo, path: str | os.PathLike[str] | None = None, *,
               criteria: dict[str, Any] | None = None, software_version: str | None = None,
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
    def open(cls, path: str | os.PathLike[str], *, resume: bool = False) -> SessionStore:
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

    def _op(self, sql: str, params: _Row) -> None:
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
                           wall_time: float | None = None, detail: dict[str, Any] | None = None) -> None:
        self._op("INSERT INTO verdict_changes (id, session_s, wall_time, state, message, detail) "
                 "VALUES (?, ?, ?, ?, ?, ?)",
                 (self._new_id("verdict_changes"), session_s, wall_time, str(state), message,
                  _json(detail or {})))

    def add_device(self, identity: RecordedDevice | Mapping[str, Any], *, limb: Limb | None = None,
                   calibration: Mapping[str, Any] | None = None, added_s: float | None = None) -> None:
        """Record a device (a ``DeviceIdentity`` or a dict) and its calibration."""
        if isinstance(identity, Mapping):
            ident = dict(identity)
            key = ident.get("key") or f"{ident.get('kind', '')}:{ident.get('name', '')}"
        else:
            ident = asdict(identity)
            key = identity.key
        self._op("INSERT INTO devices (id, key, limb, kind, name, identity, calibration, added_s) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (self._new_id("devices"), key, str(limb) if limb else None, ident.get("kind", ""),
                  ident.get("name", ""), _json(ident), _json(dict(calibration or {})), added_s))

    def set_info(self, info: SessionInfo) -> None:
        self._set_meta("info", _json(info.to_dict()))
        self._set_meta("simulated", "1" if info.simulated else "0")

    def set_criteria(self, criteria: dict[str, Any]) -> None:
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

    def relocate(self, new_path: str | os.PathLike[str]) -> Path:
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
            super().close()
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
