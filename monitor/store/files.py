"""Session files as files on disk, below SQLite: their names, their private creation, and who is recording them.

Who is recording a file right now is told by a lock the recording process holds on it (and, in
this process, by :data:`_OPEN_FOR_WRITING`), and sessions recorded outside the data folder
(``--out``) are found again after a crash through a small pointer file per open recording,
removed when the session is closed cleanly. Nothing here opens a file with SQLite.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
import time
from datetime import datetime
from pathlib import Path

from monitor import paths
from monitor.model import SessionInfo

from .schema import SUFFIX, StoreWriteError

# Paths this process has open for writing: never probe their locks (closing a second file
# descriptor on a SQLite file drops that process's POSIX locks on it).
_OPEN_FOR_WRITING: set[Path] = set()


# ---- names ------------------------------------------------------------------------------
def sanitize_filename_part(text: str, max_len: int = 40) -> str:
    """Letters, digits, '-' and '_' only, so user input can never leave the folder."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-_.")
    return cleaned[:max_len] or "anonymous"


def default_session_path(info: SessionInfo, started_wall: float | None = None,
                         folder: Path | None = None) -> Path:
    """A new file name in ``folder`` (default: the sessions folder) that no file has yet."""
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


# ---- creating ---------------------------------------------------------------------------
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


# ---- who is recording it ----------------------------------------------------------------
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
