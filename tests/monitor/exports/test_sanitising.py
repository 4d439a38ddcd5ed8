"""User text never escapes a folder in a file name, and never runs as a spreadsheet formula."""

from __future__ import annotations

import csv
import io
import re

from hypothesis import given
from hypothesis import strategies as st

from monitor.exports.csv import neutralise_cell, neutralise_fragments
from monitor.store import sanitize_filename_part


@given(st.text(max_size=200))
def test_file_name_parts_are_safe(text):
    part = sanitize_filename_part(text)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,40}", part)
    assert part not in (".", "..")


TRICKY = st.text(alphabet=st.sampled_from(list("=+-@ ,\"'\tab1;")), max_size=30) | st.text(max_size=100)


@given(TRICKY)
def test_no_csv_cell_built_from_typed_text_starts_a_formula(text):
    line = "# note: " + neutralise_fragments(text)
    for cell in next(csv.reader(io.StringIO(line)), []):
        assert not cell.lstrip().startswith(("=", "+", "-", "@", "\t", "\r"))
    assert not neutralise_cell(text).startswith(("=", "+", "-", "@", "\t", "\r"))
