"""Export files hold patient data: create them readable by the user only (0600)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal, TextIO, overload


@overload
def open_private(path: str | os.PathLike[str], mode: Literal["w"] = "w", *, encoding: str | None = None,
                 newline: str | None = None) -> TextIO: ...
@overload
def open_private(path: str | os.PathLike[str], mode: Literal["wb"]) -> BinaryIO: ...
def open_private(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> IO[Any]:
    """Open for writing (truncating), creating the file 0600 if it does not exist."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    if hasattr(os, "fchmod"):
        os.fchmod(fd, 0o600)  # a file that already existed keeps its mode otherwise
    return os.fdopen(fd, mode, **kwargs)


def precreate_private(path: str | os.PathLike[str]) -> Path:
    """Create (or empty) the file 0600 so a library that opens it by name keeps that mode."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    if hasattr(os, "fchmod"):
        os.fchmod(fd, 0o600)
    os.close(fd)
    return Path(path)


def unwritable_reason(folder: str | os.PathLike[str]) -> str | None:
    """Why an export cannot be saved in ``folder``, in plain words; None when it can.

    Tried with a real file, not ``os.access``: the administrator passes ``access`` for a folder
    that still refuses files (a read-only disk, an immutable folder, a network share)."""
    path = Path(folder)
    if not path.exists():
        return f"the folder {path} does not exist"
    if not path.is_dir():
        return f"{path} is a file, not a folder"
    try:
        fd, probe = tempfile.mkstemp(dir=path, prefix=".sympatherm-write-check-")
    except OSError as exc:
        return f"SympaTherm may not save files in the folder {path} ({exc.strerror or exc})"
    os.close(fd)
    try:
        os.unlink(probe)
    except OSError:
        pass  # a folder that lets us create but not delete: the empty probe file is harmless
    return None
