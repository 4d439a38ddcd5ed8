"""Export files hold patient data: create them readable by the user only (0600)."""

from __future__ import annotations

import os
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
