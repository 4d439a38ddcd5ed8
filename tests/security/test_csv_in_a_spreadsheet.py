"""The CSV exports opened in a real spreadsheet: LibreOffice Calc, headless.

A session is recorded with hostile text in every typed field, exported to CSV (main file with
its ``#`` lines, ``.events.csv``, ``.minutes.csv``), and each file is opened by LibreOffice's CSV
filter with a comma, a semicolon and a tab as the separator (German and French installations
default to the semicolon), then saved as flat ODF (``.fods``). No cell may be a formula, and
with the comma (the separator the files are written with) LibreOffice must read exactly the
cells Python's csv module reads, so every typed text is shown as typed, plus the one
reversible ``'`` mark of :func:`monitor.exports.csv.neutralise_cell`.

A control file with the same kind of text, not neutralised, is converted in the same run:
LibreOffice must turn it into formulas under each separator, or the check above proves nothing.
"""

from __future__ import annotations

import csv
import math
import shutil
import subprocess
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import pytest

from monitor.clock import SimulatedClock
from monitor.exports import export_session
from monitor.exports.csv import neutralise_cell, restore_cell
from monitor.model import Limb, MarkerKind, SessionInfo
from monitor.pipeline import BlockPipeline
from monitor.procedure.recorder import SessionRecorder
from monitor.simulation.source import SimulatedSource
from monitor.store import SessionStore
from tests.support.system_tools import require

from .conftest import HOSTILE_DRUG, HOSTILE_ID, HOSTILE_NOTE, HOSTILE_OPERATOR

pytestmark = pytest.mark.slow

# LibreOffice's CSV filter options: separator, text delimiter ("), UTF-8 (76), first line 1;
# everything else as a user gets it by default (formulas evaluated).
SEPARATORS = {"comma": 44, "semicolon": 59, "tab": 9}

FIELDS = {"patient_id": "a;=7+7", "operator": HOSTILE_OPERATOR, "nurse": "00123", "levels": "1e5",
          "drug": HOSTILE_DRUG, "procedure": HOSTILE_ID}
PROBE_SITES = {"left": "plantar;=3+3", "right": "plantar"}
NOTES = [HOSTILE_NOTE, "ok;=1+1", 'he said "stop"; =1+1, then "=2+2"', "\t=1+1 after a tab", " =1+1",
         "\uff1d1+1 full-width", "x|=1+1", "'=1+1 typed with an apostrophe", "a,=1+1,+2", "12:30"]
MOVE_REASON = 'typo;=2+2, "really"\t@SUM(1)'
# Not neutralised: each line becomes a formula under at least one separator.
CONTROL = "a;=7+7\nok,=1+1\nx\t=1+1\n"

_NS = {"table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
       "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
       "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0"}


def _record(path: Path) -> Path:
    source = SimulatedSource("success-fast", seed=2, blocked=Limb.LEFT, clock=SimulatedClock(manual=True))
    info = SessionInfo(blocked=Limb.LEFT, probe_sites=dict(PROBE_SITES), simulated=True, **FIELDS)
    store = SessionStore.create(info, path)
    recorder = SessionRecorder(source, store, BlockPipeline(Limb.LEFT), commit_interval_s=0.0)
    recorder.schedule_marker(MarkerKind.INJECTION, source.suggested_injection_s)
    source.start()
    t = 0.0
    while t < 900.0:
        t += 10.0
        source.step_to(t)
        recorder.pump()
        if t == 600.0:
            ids = [recorder.add_marker(MarkerKind.NOTE, 600.0 + i, text=note) for i, note in enumerate(NOTES)]
            recorder.move_marker(ids[0], 590.0, reason=MOVE_REASON)
    recorder.finish()
    return store.path


@pytest.fixture(scope="module")
def opened(tmp_path_factory) -> dict[str, dict[str, Path]]:
    """{separator: {file name: the .fods LibreOffice saved}}, for the three exports and the control."""
    soffice = require("soffice", ("libreoffice-calc",), what="opening the CSV exports in a spreadsheet")
    work = tmp_path_factory.mktemp("spreadsheet")
    session = _record(work / "typed.sympatherm")
    main = export_session(session, "csv", work / "typed.csv")
    files = [main, main.with_name("typed.events.csv"), main.with_name("typed.minutes.csv"), work / "control.csv"]
    files[-1].write_text(CONTROL, encoding="utf-8")
    runs = {}
    for name, code in SEPARATORS.items():
        out = work / name
        # One profile per run: two soffice processes on one profile would collide.
        command = [soffice, f"-env:UserInstallation={(work / f'profile-{name}').as_uri()}", "--headless",
                   "--norestore", f"--infilter=CSV:{code},34,76,1", "--convert-to", "fods", "--outdir", str(out),
                   *map(str, files)]
        runs[name] = (out, subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    result: dict[str, dict[str, Path]] = {}
    for name, (out, process) in runs.items():
        said, _ = process.communicate(timeout=180)
        assert process.returncode == 0, said
        result[name] = {f.name: out / (f.name[:-4] + ".fods") for f in files}
        missing = [p for p in result[name].values() if not p.exists()]
        assert not missing, f"LibreOffice saved no {missing}: {said}"
    result["csv"] = {f.name: f for f in files}
    yield result
    shutil.rmtree(work, ignore_errors=True)


def _cell_text(cell: ET.Element) -> str:
    """A cell's text as shown: its paragraphs joined by line breaks, ODF's space runs expanded."""

    def walk(node: ET.Element) -> str:
        parts = [node.text or ""]
        for child in node:
            tag = child.tag.split("}")[1]
            if tag == "s":
                parts.append(" " * int(child.get(f"{{{_NS['text']}}}c", "1")))
            elif tag == "tab":
                parts.append("\t")
            elif tag == "line-break":
                parts.append("\n")
            else:
                parts.append(walk(child))
            parts.append(child.tail or "")
        return "".join(parts)

    return "\n".join(walk(p) for p in cell.findall("text:p", _NS))


def _sheet(fods: Path) -> tuple[list[list[tuple[str, str, str | None]]], str]:
    """The first sheet's rows of (text, value type, formula), and the whole XML."""
    xml = fods.read_text(encoding="utf-8")
    table = ET.fromstring(xml).find(".//table:table", _NS)
    assert table is not None
    rows = []
    for row in table.iter(f"{{{_NS['table']}}}table-row"):
        cells: list[tuple[str, str, str | None]] = []
        for cell in row:
            if cell.tag.split("}")[1] not in ("table-cell", "covered-table-cell"):
                continue
            one = (_cell_text(cell), cell.get(f"{{{_NS['office']}}}value-type", ""),
                   cell.get(f"{{{_NS['table']}}}formula"))
            cells.extend([one] * int(cell.get(f"{{{_NS['table']}}}number-columns-repeated", "1")))
        while cells and cells[-1] == ("", "", None):
            cells.pop()
        repeat = int(row.get(f"{{{_NS['table']}}}number-rows-repeated", "1"))
        rows.extend([cells] * (repeat if cells else 1))
    while rows and not rows[-1]:
        rows.pop()
    return rows, xml


def _formulas(fods: Path) -> list[str]:
    rows, xml = _sheet(fods)
    return [f"{text!r} = {formula}" for row in rows for text, _, formula in row if formula]


EXPORTS = ("typed.csv", "typed.events.csv", "typed.minutes.csv")


@pytest.mark.parametrize("separator", list(SEPARATORS))
def test_no_cell_of_any_csv_export_is_a_formula_in_libreoffice(opened, separator):
    for name in EXPORTS:
        rows, xml = _sheet(opened[separator][name])
        assert rows, name
        assert not _formulas(opened[separator][name]), (separator, name, _formulas(opened[separator][name]))
        assert "of:=" not in xml and "table:formula" not in xml, (separator, name)


@pytest.mark.parametrize("separator", list(SEPARATORS))
def test_the_check_sees_formulas_in_text_that_was_not_neutralised(opened, separator):
    assert _formulas(opened[separator]["control.csv"]), separator


def _is_ours(text: str) -> bool:
    """A number or ISO time the export wrote itself, which a spreadsheet may show its own way."""
    try:
        return math.isfinite(float(text))
    except ValueError:
        pass
    try:
        datetime.fromisoformat(text)
        return True
    except ValueError:
        return False


@pytest.mark.parametrize("name", EXPORTS)
def test_with_a_comma_libreoffice_reads_every_cell_as_written(opened, name):
    rows, _ = _sheet(opened["comma"][name])
    with opened["csv"][name].open(encoding="utf-8", newline="") as fh:
        written = [row for row in csv.reader(fh)]
    while written and not any(written[-1]):
        written.pop()
    written = [row[: max((i + 1 for i, c in enumerate(row) if c), default=0)] for row in written]
    assert len(rows) == len(written), name
    for shown, expected in zip(rows, written, strict=True):
        assert len(shown) == len(expected), (shown, expected)
        for (text, kind, _), cell in zip(shown, expected, strict=True):
            if kind in ("", "string"):
                assert text == cell, (name, text, cell)
            else:  # LibreOffice made it a number or a date: only for what the export wrote itself
                assert _is_ours(cell), (name, kind, cell)


def test_typed_text_is_shown_as_typed_behind_its_one_mark(opened):
    rows, _ = _sheet(opened["comma"]["typed.csv"])
    shown = {text for row in rows for text, kind, _ in row if kind in ("", "string")}
    for key, typed in FIELDS.items():
        assert f"# {key}: {neutralise_cell(typed)}" in shown, key
    for note in NOTES:
        assert neutralise_cell(note) in shown, note  # the third cell of its `# marker:` line
    assert "# patient_id: a;'=7+7" in shown and "# nurse: '00123" in shown and "# levels: '1e5" in shown
    assert neutralise_cell('he said "stop"; =1+1, then "=2+2"') in shown  # quotes and commas kept
    events, _ = _sheet(opened["comma"]["typed.events.csv"])
    messages = [text for row in events for text, _, _ in row if text.startswith("moved from")]
    assert [restore_cell(m) for m in messages] == [f"moved from 10:00 to 9:50: {MOVE_REASON}"]
