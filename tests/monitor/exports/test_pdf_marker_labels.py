"""The report's marker labels never overlap: staggered on rows above the plot, each starting at its
own line (or ending at it by the right edge), elided when long, numbered as in the marker table,
which has every marker's whole text; lines closer than a digit share one label ("4–6")."""

from __future__ import annotations

import re

import pytest
from pypdf import PdfReader
from reportlab.graphics.shapes import String
from reportlab.pdfbase import pdfmetrics

from monitor.exports import export_session
from monitor.exports.figures import compute_figures
from monitor.exports.pdf import (
    FONT,
    MARKER_FONT_SIZE,
    MARKER_ROWS,
    build_plot,
    numbered_markers,
    place_marker_labels,
)
from monitor.exports.session_data import load_session
from tests.support.sessions import record_simulated

LONG = ("a very long note typed by the nurse: the patient reports warmth in the right foot and less pain "
        "than before the block")
NOTES = ((880.0, "needle repositioned after contrast"), (900.0, "patient coughed"),
         (905.0, "probe re-taped by the nurse after the patient moved the left leg"), (910.0, "BP 130/80"),
         (915.0, "sedation 1 mg midazolam"), (925.0, "blanket removed"), (1500.0, "leg moved"),
         (1510.0, LONG), (2690.0, "a note typed in the last seconds"))


@pytest.fixture(scope="module")
def crowded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crowded")
    path = record_simulated(folder / "crowded.sympatherm", notes=NOTES, until_s=2700.0)
    return path, export_session(path, "pdf", folder / "crowded.pdf")


def _width(text: str) -> float:
    return pdfmetrics.stringWidth(text, FONT, MARKER_FONT_SIZE)


def _check(labels, lines, right_edge):
    """No two labels in a row overlap, each is at its own line, every number is labelled."""
    by_row: dict[int, list] = {}
    for label in labels:
        assert 0 <= label.row < MARKER_ROWS
        by_row.setdefault(label.row, []).append(label)
        assert label.tx >= 0 and label.end <= right_edge + 0.01, f"{label.text!r} runs off the page"
        assert label.tx == pytest.approx(label.x + 1.5) or label.end == pytest.approx(label.x - 1.5), \
            f"{label.text!r} is not at its own line"
        first = label.text.split(" ")[0]
        assert first == (str(label.number) if label.number == label.last else f"{label.number}–{label.last}")
    for row in by_row.values():
        row.sort(key=lambda lab: lab.tx)
        for a, b in zip(row, row[1:], strict=False):
            assert a.end <= b.tx, f"{a.text!r} overlaps {b.text!r}"
    covered = {n for label in labels for n in range(label.number, label.last + 1)}
    assert covered == {number for _, number, _ in lines}, "every marker has its number on the plot"


def test_crowded_markers_are_staggered_numbered_elided_and_never_overlap(crowded):
    path, _ = crowded
    data = load_session(path)
    drawing = build_plot(data, compute_figures(data))
    numbered = numbered_markers(data)
    assert len(numbered) == len(NOTES) + 1  # the notes and the injection
    drawn = [item for item in drawing.contents if isinstance(item, String)
             and re.match(r"\d+(–\d+)?( |$)", item.text) and item.fontSize == MARKER_FONT_SIZE]
    rows = {round(item.y, 1) for item in drawn}
    assert 2 <= len(rows) <= MARKER_ROWS, "staggered on separate rows"
    spans = sorted((round(item.y, 1), item.x, item.x + _width(item.text), item.text) for item in drawn)
    for (ya, _, a_end, a), (yb, b_start, _, b) in zip(spans, spans[1:], strict=False):
        assert ya != yb or a_end <= b_start, f"{a!r} overlaps {b!r}"
    texts = [item.text for item in drawn]
    assert any(t.endswith("…") for t in texts), "a long note is elided"
    assert not any(LONG in t for t in texts)
    assert any("–" in t.split(" ")[0] for t in texts), "lines closer than a digit share a label"
    assert all(item.x >= 0 and item.x + _width(item.text) <= drawing.width + 0.01 for item in drawn)


def test_the_marker_table_has_each_number_and_whole_text(crowded):
    path, pdf = crowded
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(pdf).pages).split())
    table = text[text.index("Markers and notes"):]
    for number, marker in numbered_markers(load_session(path)):
        assert re.search(rf"\b{number} \d\d:\d\d:\d\d \([+-]?\d+:\d\d\) {marker.kind.label}", table), number
        if marker.text:
            assert " ".join(marker.text.split()) in table, "the whole text is in the table"


@pytest.mark.parametrize("spacing", [0.3, 1.0, 2.5, 5.0, 9.0, 20.0, 60.0])
def test_labels_never_overlap_however_close_the_lines(spacing):
    lines = [(40.0 + spacing * k, k + 1, f"Note: marker number {k + 1} with some words") for k in range(30)]
    lines = [line for line in lines if line[0] < 500.0]
    labels = place_marker_labels(lines, right_edge=515.0, cap=170.0)
    _check(labels, lines, 515.0)


def test_a_label_by_the_right_edge_ends_at_its_line_rather_than_shrinking_to_its_number():
    lines = [(100.0, 1, "Injection"), (505.0, 2, "Note: a note typed in the last seconds")]
    labels = place_marker_labels(lines, right_edge=515.0, cap=170.0)
    _check(labels, lines, 515.0)
    last = labels[-1]
    assert last.end == pytest.approx(505.0 - 1.5) and last.text.startswith("2 Note: a note")
