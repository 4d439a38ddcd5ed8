"""Exports of a session file for the chart and other systems: PDF report, CSV, EDF+, FHIR.

``export_session(path, fmt, out=None, progress=None)`` reads the session read-only (so it
also works on a session still being recorded), computes the report figures once, and
writes the chosen format next to the session (or to ``out``), 0600.
"""

from __future__ import annotations

import os
from pathlib import Path

from monitor.exports.session_data import Progress, SessionData, load_session
from monitor.store import SUFFIX

FORMATS: dict[str, str] = {"pdf": ".pdf", "csv": ".csv", "edf": ".edf", "fhir": ".fhir.json", "hl7": ".hl7"}


class ExportError(Exception):
    """An export could not be written; the message is plain words."""


def default_export_path(session_path: Path, fmt: str) -> Path:
    # The session's own name was sanitised when it was created; only the suffix changes.
    return session_path.with_name(session_path.stem + FORMATS[fmt])


def export_session(path: str | os.PathLike[str], fmt: str, out: str | os.PathLike[str] | None = None,
                   progress: Progress | None = None) -> Path:
    """Write ``fmt`` (pdf, csv, edf or fhir) for the session file ``path``; returns the file written.

    ``progress(done, total)`` is called as work advances (reading counts, then steps).
    """
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    session_path = Path(path)
    target = Path(out) if out is not None else default_export_path(session_path, fmt)
    # "--out exports/" names a folder even before it exists: create it rather than writing a
    # file called "exports".
    if out is not None and str(out).endswith(("/", os.sep)) and not target.exists():
        try:
            target.mkdir(parents=True, mode=0o700)
        except OSError as exc:
            raise ExportError(f"cannot create the folder {target}: {exc.strerror or exc}") from None
    if out is not None and not target.exists() and not target.suffix:
        # "--out exports" with no such folder would write a file called "exports": ask which was meant.
        raise ExportError(f"the folder {target} does not exist: end it with / to create it ({target}/), "
                          f"or give a file name such as {target.with_name(target.name + FORMATS[fmt])}; "
                          "nothing was written")
    if target.is_dir():
        target = target / default_export_path(session_path, fmt).name
    if target.resolve() == session_path.resolve() or target.name.endswith(SUFFIX):
        raise ExportError(f"{target.name}: an export never overwrites a session file; choose another --out")
    if not target.parent.is_dir():
        raise ExportError(f"cannot write {target}: the folder {target.parent} does not exist or is not a folder")
    data = load_session(session_path, progress)
    from monitor.exports.figures import compute_figures

    figures = compute_figures(data)
    try:
        if fmt == "pdf":
            from monitor.exports.pdf import write_pdf

            return write_pdf(data, figures, target, progress)
        if fmt == "csv":
            from monitor.exports.csv import write_csv

            return write_csv(data, figures, target, progress)
        if fmt == "edf":
            from monitor.exports.edf import write_edf

            return write_edf(data, target, progress=progress)
        if fmt == "hl7":
            from monitor.exports.hl7 import write_hl7

            return write_hl7(data, figures, target, progress)
        from monitor.exports.fhir import write_fhir

        return write_fhir(data, figures, target, progress)
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from exc


__all__ = ["FORMATS", "ExportError", "SessionData", "export_session", "load_session", "default_export_path"]
