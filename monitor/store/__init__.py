"""The session store: one SQLite file per procedure, crash-safe, never silently reset.

This package gathers its parts under one name, so ``from monitor.store import X`` is all a caller needs:

- :mod:`~monitor.store.schema`: the file format (version marks, tables, row types, errors, checks);
- :mod:`~monitor.store.files`: the file on disk (names, private creation, locks, "recording now" pointers);
- :mod:`~monitor.store.reader`: reading a session (:class:`SessionReader`);
- :mod:`~monitor.store.writer`: recording one (:class:`SessionStore`, which reads as well);
- :mod:`~monitor.store.catalogue`: finding sessions on disk and the start-up scan.
"""

from __future__ import annotations

from .catalogue import (
    DamagedSession,
    UnfinishedScan,
    close_unfinished,
    find_damaged_sessions,
    find_unfinished_sessions,
    list_session_files,
    scan_unfinished_sessions,
    session_summaries,
)
from .files import default_session_path, sanitize_filename_part
from .reader import SessionReader
from .schema import (
    APPLICATION_ID,
    BUSY_TIMEOUT_MS,
    EVENT_KINDS,
    SCHEMA_VERSION,
    STATUS_CLOSED,
    STATUS_RECORDING,
    SUFFIX,
    WRITE_BUSY_TIMEOUT_MS,
    DeviceRecord,
    MarkerMove,
    ResumePoint,
    SessionEvent,
    SessionFileError,
    SessionSummary,
    StoreBusyError,
    StoreError,
    StoreWriteError,
    VerdictChange,
    looks_like_session_file,
)
from .writer import SessionStore

__all__ = [
    "APPLICATION_ID",
    "BUSY_TIMEOUT_MS",
    "EVENT_KINDS",
    "SCHEMA_VERSION",
    "STATUS_CLOSED",
    "STATUS_RECORDING",
    "SUFFIX",
    "WRITE_BUSY_TIMEOUT_MS",
    "DamagedSession",
    "DeviceRecord",
    "MarkerMove",
    "ResumePoint",
    "SessionEvent",
    "SessionFileError",
    "SessionReader",
    "SessionStore",
    "SessionSummary",
    "StoreBusyError",
    "StoreError",
    "StoreWriteError",
    "UnfinishedScan",
    "VerdictChange",
    "close_unfinished",
    "default_session_path",
    "find_damaged_sessions",
    "find_unfinished_sessions",
    "list_session_files",
    "looks_like_session_file",
    "sanitize_filename_part",
    "scan_unfinished_sessions",
    "session_summaries",
]
