"""Reading a session file: opening it read-only and everything that reads what it holds.

:class:`SessionReader` is the read half of :class:`~monitor.store.SessionStore` (which adds the
writing); on its own it reads a session, also one still being recorded by another process,
and never writes.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self

from monitor.model import Limb, Marker, MarkerKind, ProbeStatus, Reading, SessionInfo

from .schema import (
    BUSY_TIMEOUT_MS,
    DeviceRecord,
    MarkerMove,
    ResumePoint,
    SessionEvent,
    SessionFileError,
    SessionSummary,
    StoreError,
    VerdictChange,
    _check_is_session_file,
    _plain_damage,
    _verify,
)


class SessionReader:
    """One procedure's SQLite file, read. Use :meth:`open_read_only`."""

    def __init__(self, path: Path, connection: sqlite3.Connection, *, read_only: bool = True) -> None:
        self.path = path
        self.connection = connection
        self.read_only = read_only
        self.closed = False

    # ---- opening ------------------------------------------------------------------
    @classmethod
    def open_read_only(cls, path: str | os.PathLike[str], *, check_integrity: bool = True) -> Self:
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

    def close(self) -> None:
        """Let go of the file (a reader writes nothing)."""
        if self.closed:
            return
        self.connection.close()
        self.closed = True

    def __enter__(self) -> Self:
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

    def criteria(self) -> dict[str, Any]:
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
        params: tuple[str, ...] = ()
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
