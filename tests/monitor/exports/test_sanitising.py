"""User text never escapes a folder in a file name, and never runs as a spreadsheet formula."""

from __future__ import annotations

import csv
import io
import re

from hypothesis import given
from hypothesis import strategies as st

from monitor.exports.csv import neutralise_cell, restore_cell
from monitor.store import sanitize_filename_part


@given(st.text(max_size=200))
def test_file_name_parts_are_safe(text):
    part = sanitize_filename_part(text)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,40}", part)
    assert part not in (".", "..")


# Everything a spreadsheet may split a cell on or start a formula with, and text around them.
TRICKY = st.text(alphabet=st.sampled_from(list("=+-@ ,;\t|\r\n\"'ab1.\uff1d\uff0b\uff0d\uff20\uff0c\uff1b\u3000")),
                 max_size=30) | st.text(max_size=100)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
SEPARATORS = (",", ";", "\t", " ", "|", "\uff0c", "\uff1b")


def _cells_any_separator_makes(line: str):
    """Every cell a spreadsheet could cut from ``line``: split at any one separator, quotes
    honoured or not, line breaks ending rows."""
    for separator in SEPARATORS:
        for row in line.replace("\r", "\n").split("\n"):
            yield from row.split(separator)
            if len(separator) == 1 and separator not in "\uff0c\uff1b":
                yield from next(csv.reader([row], delimiter=separator), [])


@given(TRICKY)
def test_typed_text_reads_back_exactly_from_its_cell(text):
    assert restore_cell(neutralise_cell(text)) == text


@given(TRICKY)
def test_no_cell_cut_from_typed_text_starts_a_formula_whatever_the_separator(text):
    cell = neutralise_cell(text)
    written = io.StringIO()
    csv.writer(written, lineterminator="\n").writerow(["note", "600.0", cell])
    for line in ("# note: " + cell, written.getvalue(), cell):
        for piece in _cells_any_separator_makes(line):
            assert not piece.lstrip(' "').startswith(FORMULA_STARTS), (text, piece)


@given(TRICKY)
def test_csv_quoting_keeps_quotes_and_separators_exactly(text):
    written = io.StringIO()
    csv.writer(written, lineterminator="\r\n").writerow(["x", neutralise_cell(text)])  # as .events.csv
    (row,) = csv.reader(io.StringIO(written.getvalue(), newline=""))
    assert restore_cell(row[1]) == text


def test_the_typed_cells_of_the_report():
    assert neutralise_cell("a;=7+7") == "a;'=7+7"
    assert neutralise_cell("ok;=1+1") == "ok;'=1+1"
    assert neutralise_cell('said "stop"') == 'said "stop"'  # quotes are kept, not replaced
    assert neutralise_cell("'=1") == "''=1" and restore_cell("''=1") == "'=1"
    assert neutralise_cell(" =1") == " '=1"
    assert neutralise_cell("\uff1d1+1") == "'\uff1d1+1"


def test_text_a_spreadsheet_would_make_a_number_or_date_stays_text():
    for typed in ("00123", "1e5", "1/2", "12:30", "2024-01-05", "1,5", "50%", "TRUE", "(5)"):
        assert neutralise_cell(typed) == "'" + typed, typed
        assert restore_cell(neutralise_cell(typed)) == typed
    for typed in ("L3-L4", "5 ml", "Doe, John", "Bupivacaine 0.25 %", "plantar", "", "ID A-00123"):
        assert neutralise_cell(typed) == typed, typed
