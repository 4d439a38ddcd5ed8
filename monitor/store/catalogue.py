"""Finding sessions on disk: listing them, summarising them, and the start-up scan for unfinished or damaged ones.

Also gives the names new session files get (:func:`default_session_path`,
:func:`sanitize_filename_part`, kept in :mod:`monitor.store.files` so the writer can use them).
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from monitor import paths

from .files import (
    _locked_elsewhere,
    _pointer_dir,
    _remove_pointer,
    default_session_path,
    sanitize_filename_part,
)
from .schema import (
    STATUS_CLOSED,
    STATUS_RECORDING,
    SUFFIX,
    SessionSummary,
    StoreBusyError,
    StoreError,
    StoreWriteError,
    _check_pages,
    _plain_damage,
)
from .writer import SessionStore

__all__ = [
    "DamagedSession",
    "UnfinishedScan",
    "close_unfinished",
    "default_session_path",
    "find_damaged_sessions",
    "find_unfinished_sessions",
    "list_session_files",
    "sanitize_filename_part",
    "scan_unfinished_sessions",
    "session_summaries",
]


def _pointed_sessions() -> list[Path]:
    """Sessions recorded outside the data folder (``--out``) whose recording was never closed."""
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


def list_session_files(folder: str | os.PathLike[str] | None = None) -> list[Path]:
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


def scan_unfinished_sessions(folder: str | os.PathLike[str] | None = None) -> UnfinishedScan:
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


def find_unfinished_sessions(folder: str | os.PathLike[str] | None = None) -> list[Path]:
    """Intact sessions left 'recording' by a process that is no longer running (crash, kill,
    power cut): offer each for ``SessionStore.open(path, resume=True)`` or :func:`close_unfinished`.

    Damaged files are not listed here: see :func:`find_damaged_sessions` (or
    :func:`scan_unfinished_sessions` for both at once).
    """
    return scan_unfinished_sessions(folder).resumable


def find_damaged_sessions(folder: str | os.PathLike[str] | None = None) -> list[DamagedSession]:
    """Session files that cannot be opened, each with the reason in plain words (see
    :func:`scan_unfinished_sessions`)."""
    return scan_unfinished_sessions(folder).damaged


def _recently_modified(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime < seconds
    except OSError:
        return False


def close_unfinished(path: str | os.PathLike[str]) -> None:
    """Close a session interrupted by a crash: keep everything, mark it ended, fold in the WAL.

    Alarms and connection gaps the crash left open end where the recording stopped. A session
    already closed is refused and left unchanged (closing it again would overwrite why it ended);
    so is one that cannot be written, in words that say nothing was changed."""
    with SessionStore.open_read_only(path) as reader:
        if reader.status == STATUS_CLOSED:
            raise StoreError(f"{path} is already closed: it is a complete session, and nothing was changed.")
    store = SessionStore.open(path)
    try:
        store.end_open_events(store.resume_point().last_session_s)
        store.close(end_reason="recording was interrupted (crash or power loss); closed on recovery")
    except StoreBusyError:
        _let_go(store)
        raise
    except StoreWriteError as exc:
        # Not the recorder's "held in memory": closing holds nothing; the file is as it was.
        _let_go(store)
        raise StoreWriteError(f"{path} cannot be closed: it cannot be written ({exc.__cause__ or exc}). The file "
                              "is unchanged; copy it to a folder you can write to and close the copy.") from exc


def _let_go(store: SessionStore) -> None:
    """Release a store whose closing failed, writing nothing more."""
    if not store.closed:
        store.connection.close()
        store._release_lock(store.path)
        store.closed = True


def session_summaries(folder: str | os.PathLike[str] | None = None) -> list[tuple[Path, SessionSummary | str]]:
    """Every session file with its summary, or a plain-words reason it cannot be read.

    Each file gets SQLite's page-by-page check first (the same one ``open_read_only`` does for
    exports and ``analyze``): a file damaged in the middle still answers the summary's queries, and
    listing a verdict the exports then refuse would show a result the file does not support."""
    out: list[tuple[Path, SessionSummary | str]] = []
    for path in list_session_files(folder):
        try:
            store = SessionStore.open_read_only(path, check_integrity=True)
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
