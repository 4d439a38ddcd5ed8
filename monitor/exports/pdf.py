"""The PDF chart report (reportlab, no Qt): one or two A4 pages for the medical record.

Readable in greyscale: the blocked foot is a solid black line, the other foot a dashed
grey line, markers are labelled vertical lines, artefacts are hatched bands labelled in
words. Every text typed by a user is escaped before it reaches reportlab's markup. A
simulated session carries a SIMULATED band and watermark on every page.
"""

from __future__ import annotations

import io
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypedDict
from xml.sax.saxutils import escape

import numpy as np
from reportlab.graphics.shapes import Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from monitor.exports._files import open_private
from monitor.exports.figures import (
    REPORT_MINUTES,
    AttemptFigures,
    CriterionMet,
    ReportFigures,
    session_outcome,
)
from monitor.exports.session_data import Progress, SessionData
from monitor.model import Limb, Marker
from monitor.pipeline.config import PipelineConfig
from monitor.pipeline.glossary import SHORT_TERMS, TERMS
from monitor.pipeline.timefmt import format_session_time
from monitor.sources.base import LINE_HEALTH_META, stored_line_health
from monitor.store import MarkerMove, SessionEvent

DISCLAIMER = "SympaTherm supports clinical judgement. It is not a certified medical device."
# How each minute's value and the peak are read (monitor.procedure.minutes; docs/minute-values.md).
MINUTE_RULE = ("Each minute's temperature is the median of the valid readings in the 30 s up to that minute "
               "(artefacts left out; the same values as the screen's 1-minute table and the CSV minute summary). "
               "Peak: the highest valid reading after the injection; rises are from the baseline shown.")
FONT, FONT_BOLD = "SympaThermSans", "SympaThermSans-Bold"
FOOT_LEGEND = (" · ".join(f"{term}: {meaning}" for term, meaning in SHORT_TERMS)
               + " · +m:ss: time after the injection")
MARGIN = 14 * mm
PLOT_W, PLOT_H = A4[0] - 2 * MARGIN, 78 * mm
GREY = colors.Color(0.45, 0.45, 0.45)
LIGHT = colors.Color(0.88, 0.88, 0.88)


_DEJAVU = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
           Path("/usr/local/share/fonts"), Path("C:/Windows/Fonts"))
_GLYPHS_MISSING_FROM_VERA = {"Δ": "d"}
_substitutes: dict[str, str] = {}


def _register_fonts() -> None:
    """DejaVu Sans where the system has it (it has Δ); otherwise Vera, which ships with reportlab."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    for folder in _DEJAVU:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            pdfmetrics.registerFont(TTFont(FONT, str(regular)))
            pdfmetrics.registerFont(TTFont(FONT_BOLD, str(bold)))
            return
    import reportlab

    folder = Path(reportlab.__file__).parent / "fonts"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(folder / "VeraBd.ttf")))
    _substitutes.update(_GLYPHS_MISSING_FROM_VERA)


def _glyphs(text: str) -> str:
    for missing, replacement in _substitutes.items():
        text = text.replace(missing, replacement)
    return text


# reportlab ships no types: its classes are Any to mypy (ignore_missing_imports), named for the reader.
_Styles = dict[str, ParagraphStyle]


def _styles() -> _Styles:
    base = ParagraphStyle("body", fontName=FONT, fontSize=8.5, leading=10.5)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.8, leading=9.4),
        "note": ParagraphStyle("note", parent=base, fontSize=7.2, leading=8.8),
        "h1": ParagraphStyle("h1", parent=base, fontName=FONT_BOLD, fontSize=14, leading=17),
        "h2": ParagraphStyle("h2", parent=base, fontName=FONT_BOLD, fontSize=10, leading=13, spaceBefore=5,
                             spaceAfter=2),
        "verdict": ParagraphStyle("verdict", parent=base, fontName=FONT_BOLD, fontSize=12, leading=15),
        "sim": ParagraphStyle("sim", parent=base, fontName=FONT_BOLD, fontSize=11, leading=14,
                              alignment=TA_CENTER, spaceAfter=3),
        "head": ParagraphStyle("head", parent=base, fontName=FONT_BOLD, fontSize=7.5, leading=9),
    }


def _fit(text: str, font: str, size: float, max_w: float) -> str:
    """``text`` shortened with an ellipsis to fit ``max_w`` points ('' if not even that fits)."""
    if pdfmetrics.stringWidth(text, font, size) <= max_w:
        return text
    for n in range(len(text) - 1, 0, -1):
        short = text[:n].rstrip() + "…"
        if pdfmetrics.stringWidth(short, font, size) <= max_w:
            return short
    return ""


def _t(text: object) -> str:
    """User or stored text, escaped for reportlab's paragraph markup."""
    return escape(_glyphs("" if text is None else str(text)))


def _fixed(value: float, digits: int, signed: bool = False) -> str:
    """``value`` to ``digits`` decimals, never "-0.0": what rounds to zero is printed unsigned."""
    shown = round(value, digits) + 0.0  # + 0.0 turns -0.0 into 0.0
    if shown == 0.0:
        return f"{0.0:.{digits}f}"
    return f"{shown:+.{digits}f}" if signed else f"{shown:.{digits}f}"


def _c(value: float | None, digits: int = 1, unit: str = " °C") -> str:
    return "—" if value is None or not math.isfinite(value) else f"{_fixed(value, digits)}{unit}"


def _signed(value: float | None, unit: str = " °C") -> str:
    return "—" if value is None or not math.isfinite(value) else f"{_fixed(value, 1, signed=True)}{unit}"


def _mmss(seconds: float | None, ref: float | None = 0.0) -> str:
    """A duration (or the time from ``ref``) as m:ss, h:mm:ss past an hour: the screen's format."""
    if seconds is None:
        return "—"
    return format_session_time(_no_negative_zero(seconds - (ref or 0.0)))


def _no_negative_zero(seconds: float) -> float:
    return 0.0 if round(seconds) == 0 else seconds


def _after(seconds: float) -> str:
    """Seconds from the injection as +m:ss (-m:ss before it)."""
    text = format_session_time(_no_negative_zero(seconds))
    return text if text.startswith("-") or text == "0:00" else "+" + text


def _clock(data: SessionData, session_s: float | None) -> str:
    if session_s is None:
        return "—"
    return datetime.fromtimestamp(data.started_wall + session_s).strftime("%H:%M:%S")


def _when(data: SessionData, figures: ReportFigures, session_s: float | None) -> str:
    """A moment as its clock time and m:ss after the injection (or session time without one)."""
    if session_s is None:
        return "—"
    injections = sorted((a.injection_s, a.number) for a in figures.attempts if a.injection_s is not None)
    if len(injections) > 1:
        # A repeat injection: from the injection of the attempt the moment falls in, as its headline counts.
        since = [(inj, n) for inj, n in injections if inj <= session_s + 0.5]
        if since:
            inj, number = since[-1]
            return f"{_clock(data, session_s)} ({_after(session_s - inj)}, attempt {number})"
        return f"{_clock(data, session_s)} ({_after(session_s - injections[0][0])})"
    if figures.injection_s is not None:
        return f"{_clock(data, session_s)} ({_after(session_s - figures.injection_s)})"
    return f"{_clock(data, session_s)} (session {format_session_time(session_s)})"


def _clock_and_session(data: SessionData, session_s: float | None) -> str:
    """The injection itself: its clock time and its session time (the screen's status bar)."""
    if session_s is None:
        return "not marked"
    return f"{_clock(data, session_s)} (session time {format_session_time(session_s)})"


def time_zone_words(data: SessionData) -> str:
    """The zone the report's clock times are in, e.g. "CET (UTC+01:00)" (the recording's local zone)."""
    local = datetime.fromtimestamp(data.started_wall).astimezone()
    offset = local.strftime("%z") or "+0000"
    return f"{local.tzname() or 'local time'} (UTC{offset[:3]}:{offset[3:]})"


def _table(rows: list[Sequence[object]], widths: list[float], *, header: bool = True, zebra: bool = True) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [("FONT", (0, 0), (-1, -1), FONT, 7.8), ("VALIGN", (0, 0), (-1, -1), "TOP"),
             ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black), ("TOPPADDING", (0, 0), (-1, -1), 1.5),
             ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]
    if header:
        style.append(("FONT", (0, 0), (-1, 0), FONT_BOLD, 7.8))
    if zebra:
        for i in range(2 if header else 1, len(rows), 2):
            style.append(("BACKGROUND", (0, i), (-1, i), colors.Color(0.95, 0.95, 0.95)))
    table.setStyle(TableStyle(style))
    return table


# ---- the plot -----------------------------------------------------------------------------
def _line_break_s(t: np.ndarray) -> float:
    """Curves break where the pipeline would see no data: 5 s, or longer for a slow probe."""
    intervals = np.diff(t)
    return PipelineConfig().gap_limit_s(float(np.median(intervals)) if len(intervals) >= 2 else None)


def _segments(t: np.ndarray, c: np.ndarray, ok: np.ndarray, max_gap_s: float) -> list[tuple[np.ndarray, np.ndarray]]:
    t, c = t[ok & np.isfinite(c)], c[ok & np.isfinite(c)]
    if t.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(t) > max_gap_s) + 1
    return [(ts, cs) for ts, cs in zip(np.split(t, breaks), np.split(c, breaks), strict=True) if ts.size]


def _thin(t: np.ndarray, c: np.ndarray, max_points: int = 900) -> tuple[np.ndarray, np.ndarray]:
    if t.size <= max_points:
        return t, c
    step = int(math.ceil(t.size / max_points))
    return t[::step], c[::step]


MARKER_ROWS = 3  # rows of marker labels above the plot
MARKER_FONT_SIZE = 6.0
_LABEL_GAP = 3.0  # points between two labels in a row


@dataclass(frozen=True)
class MarkerLabel:
    """A label drawn from ``tx`` in row ``row`` above the plot (0: lowest), for the markers numbered
    ``number`` to ``last`` (one marker, or a run of lines too close to label one by one)."""

    number: int
    last: int
    x: float  # the first marker's line
    tx: float
    row: int
    text: str

    @property
    def end(self) -> float:
        return self.tx + pdfmetrics.stringWidth(self.text, FONT, MARKER_FONT_SIZE)


def _label_text(number: int, text: str, room: float) -> str:
    """ "3 Note: patient co…" within ``room`` points; the bare number when little more would fit."""
    shown = _fit(f"{number} {text}", FONT, MARKER_FONT_SIZE, room)
    return str(number) if len(shown) <= len(str(number)) + 3 else shown  # "3 N…" says no more than "3"


def place_marker_labels(lines: Sequence[tuple[float, int, str]], right_edge: float, cap: float,
                        rows: int = MARKER_ROWS) -> list[MarkerLabel]:
    """Labels "3 Note: …" for marker lines (x, number, text), each starting just right of its own
    line, staggered over ``rows`` rows so that none overlaps another, elided (…) to fit; where
    lines crowd, an earlier label is shortened to make room, and lines closer than a digit share
    one label "4–6". Every marker's whole text is in the marker table, under its number."""
    _register_fonts()
    ordered = sorted(lines)
    placed: list[MarkerLabel] = []
    last_in_row: list[int | None] = [None] * rows  # index in ``placed`` of each row's last label
    for i, (x, number, text) in enumerate(ordered):
        tx = x + 1.5
        room = min(cap, right_edge - tx)
        if i + rows < len(ordered):  # leave the line ``rows`` markers on a free row
            room = min(room, ordered[i + rows][0] - _LABEL_GAP - tx)
        ends = [placed[k].end if k is not None else -math.inf for k in last_in_row]
        free = [r for r in range(rows) if ends[r] + _LABEL_GAP <= tx]
        if not free:
            free = _make_room(placed, last_in_row, tx)
        if free:
            label = MarkerLabel(number, number, x, tx, free[0], _label_text(number, text, room))
            if right_edge - tx < cap and room == right_edge - tx and label.text != f"{number} {text}":
                # cut short by the right edge: end it at its line if that shows more
                label = _ended_at_its_line(label, text, cap, [ends[r] for r in range(rows)]) or label
            last_in_row[label.row] = len(placed)
            placed.append(label)
            continue
        # Closer than a digit to the labels before it: the latest label takes this number too.
        k = len(placed) - 1
        prev = placed[k]
        placed[k] = MarkerLabel(prev.number, number, prev.x, prev.tx, prev.row, f"{prev.number}–{number}")
    return placed


def _ended_at_its_line(label: MarkerLabel, text: str, cap: float, ends: list[float]) -> MarkerLabel | None:
    """Near the right edge: the label ending at its line, in the row with most room on the left,
    if that shows more of it; else None."""
    best = min(range(len(ends)), key=lambda r: ends[r])
    room = min(cap, label.x - 1.5 - _LABEL_GAP - ends[best], label.x - 1.5)  # never off the page's left
    shown = _label_text(label.number, text, room)
    if len(shown) <= len(label.text):
        return None
    width = pdfmetrics.stringWidth(shown, FONT, MARKER_FONT_SIZE)
    return MarkerLabel(label.number, label.last, label.x, label.x - 1.5 - width, best, shown)


def _make_room(placed: list[MarkerLabel], last_in_row: list[int | None], tx: float) -> list[int]:
    """Shorten the row's last label that started furthest left so it ends before ``tx``; [that row]
    or [] if no label can give way and keep at least its number."""
    rows = sorted((placed[k].tx, r, k) for r, k in enumerate(last_in_row) if k is not None)
    for _, row, k in rows:
        label = placed[k]
        if label.number != label.last:
            continue
        body = label.text.split(" ", 1)[1] if " " in label.text else ""
        shorter = _label_text(label.number, body, tx - _LABEL_GAP - label.tx) if body else label.text
        width = pdfmetrics.stringWidth(shorter, FONT, MARKER_FONT_SIZE)
        if label.tx + width + _LABEL_GAP <= tx:
            placed[k] = MarkerLabel(label.number, label.last, label.x, label.tx, row, shorter)
            return [row]
    return []


def build_plot(data: SessionData, figures: ReportFigures, width: float = PLOT_W,
               height: float = PLOT_H) -> Drawing:
    """Both limbs against minutes from injection, with markers, artefacts and the confirmation."""
    _register_fonts()
    d = Drawing(width, height)
    # Three rows of marker labels above the plot; below it the times, their clock times, the legend.
    left, right, bottom, top = 34.0, 12.0, 34.0, 8.0 * MARKER_ROWS + 6.0
    pw, ph = width - left - right, height - bottom - top
    ref = figures.injection_s or 0.0
    arrays = {limb: data.limb(limb) for limb in Limb}
    t_end = max(data.duration_s, 60.0)
    x0, x1 = (0.0 - ref) / 60.0, (t_end - ref) / 60.0
    values = np.concatenate([a.celsius[a.valid & np.isfinite(a.celsius)] for a in arrays.values()])
    lo, hi = (float(np.min(values)), float(np.max(values))) if values.size else (20.0, 36.0)
    if hi - lo < 4.0:
        mid = (hi + lo) / 2
        lo, hi = mid - 2.0, mid + 2.0
    lo, hi = math.floor(lo - 0.5), math.ceil(hi + 0.5)

    def sx(minutes: float) -> float:
        return left + (minutes - x0) / (x1 - x0) * pw if x1 > x0 else left

    def sy(celsius: float) -> float:
        return bottom + (celsius - lo) / (hi - lo) * ph

    d.add(Rect(left, bottom, pw, ph, strokeColor=colors.black, fillColor=None, strokeWidth=0.6))
    # Artefact bands (hatched, labelled) under the curves. Labels take one of two rows along the
    # bottom and are left out where they would overlap another (every event is in the table).
    band_label_ends = [-1e9, -1e9]
    for e in data.events:
        if e.kind not in ("artefact", "connection_gap"):
            continue
        a = sx((e.start_s - ref) / 60.0)
        b = sx(((e.end_s if e.end_s is not None else t_end) - ref) / 60.0)
        b = max(b, a + 1.5)
        d.add(Rect(a, bottom, b - a, ph, fillColor=LIGHT, strokeColor=None))
        for k in range(int(ph // 6)):
            y = bottom + 6 * k
            d.add(Line(a, y, min(b, a + 6), y + 6, strokeColor=GREY, strokeWidth=0.3))
        label = "gap" if e.kind == "connection_gap" else str(e.subkind).replace("_", " ")
        label_w = pdfmetrics.stringWidth(label, FONT, 5.5)
        tx = min(a + 1, left + pw - 1 - label_w)  # never past the plot's right edge
        free = [row for row, end in enumerate(band_label_ends) if end <= tx]
        if free:
            d.add(String(tx, bottom + 2 + 7 * free[0], label, fontName=FONT, fontSize=5.5, fillColor=colors.black))
            band_label_ends[free[0]] = tx + label_w + 3
    # Grid and ticks.
    step_c = 1.0 if hi - lo <= 8 else 2.0
    c: float = lo
    while c <= hi + 1e-9:
        d.add(Line(left, sy(c), left + pw, sy(c), strokeColor=LIGHT, strokeWidth=0.3))
        d.add(String(left - 3, sy(c) - 2.5, f"{c:g}", fontName=FONT, fontSize=6.5, textAnchor="end"))
        c += step_c
    span = x1 - x0
    step_m = next(s for s in (1, 2, 5, 10, 15, 20, 30, 60, 120) if span / s <= 12)
    m = math.ceil(x0 / step_m) * step_m
    while m <= x1 + 1e-9:
        # m:ss from the injection (as on the screen), the clock time under it for the chart.
        tick = _after(60.0 * m) if figures.injection_s is not None else _mmss(60.0 * m)
        d.add(Line(sx(m), bottom, sx(m), bottom - 3, strokeColor=colors.black, strokeWidth=0.5))
        for text, y, size, ink in ((tick, bottom - 10, 6.5, colors.black),
                                   (_clock(data, ref + 60.0 * m), bottom - 17, 5.5, GREY)):
            half = pdfmetrics.stringWidth(text, FONT, size) / 2
            tx = min(max(sx(m), half), width - half)  # centred under the tick, never off the drawing
            d.add(String(tx, y, text, fontName=FONT, fontSize=size, textAnchor="middle", fillColor=ink))
        m += step_m
    first = "first " if sum(a.injection_s is not None for a in figures.attempts) > 1 else ""
    xlabel = (f"time after the {first}injection (m:ss), clock time under it" if figures.injection_s is not None
              else "session time (m:ss), clock time under it")
    d.add(String(left + pw, bottom - 27, xlabel, fontName=FONT, fontSize=7, textAnchor="end"))
    d.add(String(8, bottom + ph / 2, "°C", fontName=FONT, fontSize=7, textAnchor="middle"))
    # Baselines (dotted) and the curves.
    blocked = data.info.blocked
    for limb, arr in arrays.items():
        is_blocked = limb is blocked
        stroke = colors.black if is_blocked or blocked is None and limb is Limb.LEFT else GREY
        dash = None if stroke is colors.black else [4, 2]
        width_pt = 1.3 if is_blocked else 1.0
        fig = figures.limbs.get(limb)
        if fig and fig.baseline_c is not None and figures.injection_s is not None:
            y = sy(fig.baseline_c)
            d.add(Line(sx(max(x0, -5.0)), y, sx(0.0), y, strokeColor=stroke, strokeWidth=0.6,
                       strokeDashArray=[1, 1.5]))
        for ts, cs in _segments(arr.t_s, arr.celsius, arr.valid, max_gap_s=_line_break_s(arr.t_s)):
            ts, cs = _thin(ts, cs)
            points: list[float] = []
            for tt, cc in zip(ts, cs, strict=True):
                points += [sx((tt - ref) / 60.0), sy(float(np.clip(cc, lo, hi)))]
            if len(points) == 2:
                points += [points[0] + 0.8, points[1]]
            d.add(PolyLine(points, strokeColor=stroke, strokeWidth=width_pt, strokeDashArray=dash))
    # Markers (numbered as in the marker table) and the confirmation moment.
    lines: list[tuple[float, int, str]] = []
    for number, marker in numbered_markers(data):
        x = sx((marker.session_s - ref) / 60.0)
        heavy = marker.kind.value == "injection"
        d.add(Line(x, bottom, x, bottom + ph, strokeColor=colors.black, strokeWidth=1.0 if heavy else 0.5,
                   strokeDashArray=None if heavy else [2, 2]))
        words = marker.kind.label if not marker.text else f"{marker.kind.label}: {marker.text}"
        lines.append((x, number, _glyphs(words)))
    for placed in place_marker_labels(lines, right_edge=width - 1.0, cap=min(pw * 0.4, 170.0)):
        d.add(String(placed.tx, bottom + ph + 3 + 8 * placed.row, placed.text, fontName=FONT,
                     fontSize=MARKER_FONT_SIZE))
    if figures.confirmed_at_s is not None:
        x = sx((figures.confirmed_at_s - ref) / 60.0)
        d.add(Line(x, bottom, x, bottom + ph, strokeColor=colors.black, strokeWidth=1.6))
        label = "Block confirmed"
        lw = pdfmetrics.stringWidth(label, FONT_BOLD, 7)
        d.add(Rect(x - 2.5 - lw, bottom + ph - 11, lw + 2, 9, fillColor=colors.white, strokeColor=None))
        d.add(String(x - 1.5, bottom + ph - 9, label, fontName=FONT_BOLD, fontSize=7, textAnchor="end"))
    # Legend, below the plot beside the axis label, so it never hides a curve.
    lx = left
    for limb in Limb:
        is_blocked = limb is blocked
        stroke = colors.black if is_blocked or blocked is None and limb is Limb.LEFT else GREY
        dash = None if stroke is colors.black else [4, 2]
        ly = bottom - 27
        if limb is Limb.RIGHT:
            lx += 105
        d.add(Line(lx, ly + 2, lx + 16, ly + 2, strokeColor=stroke, strokeWidth=1.3 if is_blocked else 1.0,
                   strokeDashArray=dash))
        d.add(String(lx + 19, ly, f"{limb.capitalize()} foot" + (" (blocked)" if is_blocked else ""),
                     fontName=FONT, fontSize=6.5))
    return d


# ---- the document -------------------------------------------------------------------------
def _details(data: SessionData, figures: ReportFigures, s: _Styles) -> Table:
    info = data.info
    started = datetime.fromtimestamp(data.started_wall)
    status = {"closed": "complete", "recording": "still being recorded or interrupted"}.get(data.status,
                                                                                            data.status)
    pairs = [
        ("Patient ID", info.patient_id or "(not given)"), ("Date", started.strftime("%Y-%m-%d %H:%M")),
        ("Procedure", info.procedure), ("Side blocked", str(info.blocked or "not set").upper()),
        ("Operator", info.operator or "—"), ("Nurse", info.nurse or "—"),
        ("Levels", info.levels or "—"), ("Drug", info.drug or "—"),
        ("Probe sites", ", ".join(f"{k}: {v}" for k, v in info.probe_sites.items()) or "—"),
        ("Room / core temperature", f"{_c(info.room_c)} / {_c(info.core_c)}"),
        ("Injection", _clock_and_session(data, figures.injection_s) if len(figures.attempts) < 2 else
         ", ".join(f"{_clock(data, a.injection_s)} (attempt {a.number})" for a in figures.attempts
                   if a.injection_s is not None)),
        ("Recording", f"{_mmss(data.duration_s)} (m:ss), {status}"),
        ("Time zone", f"clock times are {time_zone_words(data)}"),
    ]
    rows: list[Sequence[object]] = []
    for i in range(0, len(pairs), 2):
        row: list[object] = []
        for key, value in pairs[i:i + 2]:
            row += [Paragraph(f"<b>{_t(key)}</b>", s["cell"]), Paragraph(_t(value), s["cell"])]
        rows.append(row)
    return _table(rows, [28 * mm, 63 * mm, 28 * mm, 63 * mm], header=False, zebra=False)


def _temperature_table(figures: ReportFigures | AttemptFigures, s: _Styles) -> Table:
    n = len(REPORT_MINUTES)
    tail = ["Peak", "Peak rise", "Time to peak", "Max slope", "Rise at end"]
    top = ["Foot", "Baseline", "Time after injection (m:ss)"] + [""] * (n - 1) + tail
    second = ["", ""] + [_mmss(60.0 * m) for m in REPORT_MINUTES] + [""] * len(tail)
    rows: list[Sequence[object]] = [[Paragraph(_t(h), s["head"]) for h in top], [Paragraph(_t(h), s["head"]) for h in second]]
    ordered = sorted(figures.limbs.values(), key=lambda f: not f.blocked)
    for f in ordered:
        rows.append([f"{f.limb.capitalize()}" + (" (blocked)" if f.blocked else ""), _c(f.baseline_c)]
                    + [_c(f.at_minutes.get(m), unit="") for m in REPORT_MINUTES]
                    + [_c(f.peak_c), _signed(f.peak_rise_c), _mmss(f.time_to_peak_s),
                       _c(f.max_slope_c_per_min, 2, " °C/min"), _signed(f.rise_c)])
    widths = [24 * mm, 17 * mm] + [11 * mm] * n + [14 * mm, 15 * mm, 16 * mm, 20 * mm, 17 * mm]
    table = Table(rows, colWidths=widths, repeatRows=2)
    style = [("FONT", (0, 0), (-1, -1), FONT, 7.8), ("VALIGN", (0, 0), (-1, -1), "TOP"),
             ("SPAN", (2, 0), (1 + n, 0)), ("LINEBELOW", (2, 0), (1 + n, 0), 0.3, colors.black),
             ("LINEBELOW", (0, 1), (-1, 1), 0.6, colors.black), ("TOPPADDING", (0, 0), (-1, -1), 1.5),
             ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5), ("BACKGROUND", (0, 3), (-1, 3), colors.Color(0.95, 0.95, 0.95)),
             # room for "10:00" in a minute's column
             ("LEFTPADDING", (2, 0), (1 + n, -1), 3), ("RIGHTPADDING", (2, 0), (1 + n, -1), 3)]
    for col in list(range(2)) + list(range(2 + n, 2 + n + len(tail))):
        style.append(("SPAN", (col, 0), (col, 1)))
    table.setStyle(TableStyle(style))
    return table


def _summary_line(figures: ReportFigures | AttemptFigures) -> str:
    b, c = figures.blocked, figures.contralateral
    parts = [f"At the end: rise from baseline of the blocked foot (ΔTb) {_signed(b.rise_c if b else None)}",
             f"of the other foot (ΔTc) {_signed(c.rise_c if c else None)}",
             f"how much more the blocked foot warmed (Di − Dc) {_signed(figures.di_minus_dc_c)}"]
    line = "; ".join(parts) + "."
    kin = [f"to {name} {_mmss(v)}" for name, v in figures.kinetics.items()]
    if kin:
        line += " Time from the injection " + ", ".join(kin) + " (m:ss)"
        line += f"; 50 % and 95 % of peak: — ({figures.kinetics_withheld})." if figures.kinetics_withheld else "."
    return line


def _attempts_table(data: SessionData, figures: ReportFigures, s: _Styles) -> Table:
    """Every attempt in one table: its baseline, injection, verdict, confirmation and kinetics."""
    heads = ["No.", "Baseline (window; left / right)", "Injection", "Verdict", "Confirmed",
             "Time to +1 °C / 50 % / 95 % of peak; max slope"]
    rows: list[Sequence[object]] = [[Paragraph(f"<b>{_t(h)}</b>", s["cell"]) for h in heads]]
    for a in figures.attempts:
        left, right = a.limbs[Limb.LEFT].baseline_c, a.limbs[Limb.RIGHT].baseline_c
        start, end = a.baseline_window_s
        window = (f"{_clock(data, start)}–{_clock(data, end)}" if math.isfinite(start) and math.isfinite(end)
                  else "not taken")
        injection = ", ".join(_clock(data, i) for i in a.injections_s) or "not marked"
        confirmed = (f"{_clock(data, a.confirmed_at_s)} ({_mmss(a.confirmed_after_injection_s)} after its "
                     "injection)" if a.confirmed_at_s is not None else "—")
        blocked = a.blocked
        kinetics = " / ".join(_mmss(v) for v in a.kinetics.values())
        slope = _c(blocked.max_slope_c_per_min if blocked else None, 2, " °C/min")
        if a.kinetics_withheld:
            slope += f" (50 % / 95 %: {a.kinetics_withheld})"
        verdict = a.outcome_words + ("" if a.ended_s is None else f" (ended {_clock(data, a.ended_s)})")
        rows.append([str(a.number), Paragraph(_t(f"{window}; {_c(left)} / {_c(right)}"), s["cell"]),
                     Paragraph(_t(injection), s["cell"]), Paragraph(_t(verdict), s["cell"]),
                     Paragraph(_t(confirmed), s["cell"]), Paragraph(_t(f"{kinetics}; {slope}"), s["cell"])])
    return _table(rows, [9 * mm, 40 * mm, 22 * mm, 38 * mm, 33 * mm, 40 * mm])


def _attempt_sections(data: SessionData, figures: ReportFigures, s: _Styles) -> list[Flowable]:
    """Per attempt: the temperature table from its own injection and baseline, and its line."""
    story: list[Flowable] = []
    for a in figures.attempts:
        title = f"Temperatures (°C) after injection, attempt {a.number}"
        if a.injection_s is None:
            story += [Paragraph(_t(title), s["h2"]),
                      Paragraph(_t(f"No injection was marked in attempt {a.number}: nothing was judged against its "
                                   "baseline."), s["small"])]
            continue
        title += f" (injection at {_clock(data, a.injection_s)})"
        notes = [_summary_line(a)]
        if a.ended_s is not None:
            notes.append(f"Attempt {a.number} ended at {_clock(data, a.ended_s)}, when the baseline for attempt "
                         f"{a.number + 1} began: later minutes belong to that attempt (—).")
        if a.late_injection:
            notes.append(a.late_injection)
        story += [CondPageBreak(30 * mm), Paragraph(_t(title), s["h2"]), _temperature_table(a, s), Spacer(1, 1 * mm)]
        story += [Paragraph(_t(note), s["small"]) for note in notes]
    return story


def _marker_audit_table(data: SessionData, figures: ReportFigures, s: _Styles) -> Table | None:
    """Every correction of a marker's time, as the session file keeps it: the marker, its original
    time, each change (from, to), when the change was made and why. None if none was moved."""
    if not data.marker_moves:
        return None
    by_id = {m.id: m for m in data.markers}
    first_from: dict[int, float] = {}
    rows: list[Sequence[object]] = [["Marker", "Originally", "Changed from → to", "Changed at", "Reason"]]
    for mv in data.marker_moves:
        first_from.setdefault(mv.marker_id, mv.from_s)
        marker = by_id.get(mv.marker_id)
        label = marker.kind.label if marker else f"marker {mv.marker_id}"
        changed_at = _clock(data, mv.moved_at_s)  # on the session's clock, like every time in the report
        rows.append([Paragraph(_t(label), s["cell"]), _clock(data, first_from[mv.marker_id]),
                     f"{_clock(data, mv.from_s)} → {_clock(data, mv.to_s)}", changed_at,
                     Paragraph(_t(mv.reason or "—"), s["cell"])])
    return _table(rows, [30 * mm, 20 * mm, 36 * mm, 34 * mm, 62 * mm])


def _signature_block(s: _Styles) -> Table:
    """Where the physician who reviewed the report signs it."""
    line = "_" * 28
    rows = [[Paragraph("<b>Reviewed by</b>", s["cell"]), Paragraph("<b>Date</b>", s["cell"]),
             Paragraph("<b>Signature</b>", s["cell"])], [line, "_" * 16, line]]
    table = Table(rows, colWidths=[70 * mm, 40 * mm, 72 * mm], rowHeights=[5 * mm, 11 * mm])
    table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), FONT, 8), ("VALIGN", (0, 1), (-1, 1), "BOTTOM"),
                               ("BOX", (0, 0), (-1, -1), 0.6, colors.black)]))
    return table


def _met_words(data: SessionData, met: CriterionMet, several: bool) -> str:
    """When one attempt met a criterion: its clock time and +m:ss after that attempt's injection."""
    after = met.after_injection_s
    if met.injection_s is None:
        words = "not judged: no injection marked"
    elif after is None:
        words = "not met"
    else:
        words = f"{_clock(data, met.met_at_s)} ({_after(after)})"
    return f"attempt {met.attempt}: {words}" if several else words


def _other_foot_words(met: CriterionMet, several: bool) -> str:
    """The other foot's course when one attempt met a criterion, in the core's words ('' if none)."""
    if met.met_at_s is None or not met.note:
        return ""
    return f"attempt {met.attempt}: {met.note}" if several else met.note


def _criteria_table(data: SessionData, figures: ReportFigures, s: _Styles) -> Table:
    """Each criterion with when it was met; under a met one, across the table, the other foot's
    course then (the core's words); under the one in force, that criterion in plain words."""
    rows: list[Sequence[object]] = [["Criterion", "Threshold", "Source", "Met"]]
    spanned, notes = [], []
    several = len(figures.attempts) > 1
    for crit in figures.criteria:
        met = "<br/>".join(_t(_met_words(data, m, several)) for m in crit.met) or "not met"
        rows.append([Paragraph(_t(crit.name), s["cell"]), Paragraph(_t(crit.threshold), s["cell"]),
                     Paragraph(_t(crit.source), s["cell"]), Paragraph(met, s["cell"])])
        other = "; ".join(w for w in (_other_foot_words(m, several) for m in crit.met) if w)
        if other:
            spanned.append(len(rows))
            notes.append(len(rows))
            rows.append([Paragraph(f"<i>{_t(other)}</i>", s["note"]), "", "", ""])
        if crit.plain:  # the criterion in force in plain words
            spanned.append(len(rows))
            rows.append([Paragraph(f"<i>In plain words:</i> {_t(crit.plain)}", s["cell"]), "", "", ""])
    if len(rows) == 1:
        rows.append(["(no criteria recorded)", "", "", ""])
    table = _table(rows, [40 * mm, 32 * mm, 68 * mm, 42 * mm], zebra=False)
    table.setStyle(TableStyle([("SPAN", (0, r), (-1, r)) for r in spanned]
                              # "attempt 1: 15:35:18 (+6:58)" on one line
                              + [("LEFTPADDING", (3, 0), (3, -1), 2), ("RIGHTPADDING", (3, 0), (3, -1), 2)]
                              # a page never falls between a criterion and the lines under it
                              + [("NOSPLIT", (0, r - 1), (-1, r)) for r in spanned]
                              + [("TOPPADDING", (0, r), (-1, r), 0) for r in notes]
                              + [("LINEBELOW", (0, r), (-1, r), 0.3, LIGHT) for r in range(1, len(rows))
                                 if r + 1 not in notes]))
    return table


def _legend(data: SessionData, figures: ReportFigures, s: _Styles) -> Paragraph:
    """The abbreviations and the time format, on the page where they first appear."""
    words = "; ".join(f"<b>{_t(term)}</b>: {_t(meaning)}" for term, meaning in TERMS)
    repeat = (" of the attempt it falls in (the plot's axis: from the first injection)"
              if sum(a.injection_s is not None for a in figures.attempts) > 1 else "")
    times = (f"<b>+m:ss</b> minutes:seconds after the injection{repeat} (-m:ss before it; h:mm:ss past an hour); "
             f"clock times hh:mm:ss, {_t(time_zone_words(data))}.")
    return Paragraph(f"<b>Legend.</b> {words}. {times}", s["small"])


class _EventRow(TypedDict):
    """One row of the report's event table (an alarm and its artefact are one row)."""

    start: float
    end: float | None
    limb: Limb | None
    event: str
    details: str


# Beyond this many event rows, repeated events of one kind on one foot are summed up in one row
# (the report stays within two pages; every single event is in the CSV export's events file).
MAX_EVENT_ROWS = 22
_MATCH_S = 2.0  # an alarm and an artefact this close at both ends are one happening


def _same_happening(alarm: SessionEvent, artefact: SessionEvent) -> bool:
    if alarm.limb != artefact.limb or alarm.subkind != artefact.subkind:
        return False
    if abs(alarm.start_s - artefact.start_s) > _MATCH_S:
        return False
    if alarm.end_s is None or artefact.end_s is None:
        return alarm.end_s is None and artefact.end_s is None
    return abs(alarm.end_s - artefact.end_s) <= _MATCH_S


def _event_entries(data: SessionData) -> list[_EventRow]:
    """The events as report rows: an alarm and the artefact it caused (e.g. no data) are one row."""
    words = {"artefact": "Artefact", "alarm": "Alarm", "connection_gap": "Connection gap"}
    artefacts = [e for e in data.events if e.kind == "artefact"]
    twins: dict[int, SessionEvent] = {}  # id(alarm) -> its artefact
    for alarm in (e for e in data.events if e.kind == "alarm"):
        taken = {id(a) for a in twins.values()}
        twin = next((a for a in artefacts if id(a) not in taken and _same_happening(alarm, a)), None)
        if twin is not None:
            twins[id(alarm)] = twin
    merged = {id(a) for a in twins.values()}
    entries: list[_EventRow] = []
    for e in data.events:
        if id(e) in merged:
            continue
        label = words.get(e.kind, e.kind) + (f" ({e.priority})" if e.priority else "")
        message = e.message
        if id(e) in twins:
            label += " and artefact"
            # The artefact's own words say what the detector did with it (and whether a probe check ended it).
            message = twins[id(e)].message or f"{e.message}; excluded from baseline and criteria"
        entries.append({"start": e.start_s, "end": e.end_s, "limb": e.limb,
                        "event": f"{label}: {e.subkind.replace('_', ' ')}", "details": message})
    return entries


def _collapse(entries: list[_EventRow], data: SessionData, figures: ReportFigures, room: int) -> list[_EventRow]:
    """Sum up the most repeated kinds of event (per foot) until the rows fit ``room``."""
    groups: dict[tuple[str, Limb | None], list[_EventRow]] = {}
    for entry in entries:
        groups.setdefault((entry["event"], entry["limb"]), []).append(entry)
    out = list(entries)
    for key, members in sorted(groups.items(), key=lambda item: -len(item[1])):
        if len(out) <= room or len(members) < 3:
            break
        total = sum((m["end"] - m["start"]) for m in members if m["end"] is not None)
        first, last = members[0], members[-1]
        summary: _EventRow = {"start": first["start"], "end": last["end"], "limb": key[1],
                   "event": f"{key[0]} ({len(members)} times)",
                   "details": f"{len(members)} times, {_mmss(total)} (m:ss) in all, from "
                              f"{_when(data, figures, first['start'])} to {_when(data, figures, last['start'])} "
                              "(each one is listed in the CSV export's events file)"}
        out = [m for m in out if m not in members] + [summary]
    return out


def _event_room(data: SessionData) -> int:
    """How many event rows the table holds before repeated events are summed up."""
    return max(3, MAX_EVENT_ROWS - len(data.verdicts))


def _fewer_event_rows(data: SessionData, figures: ReportFigures, room: int) -> int | None:
    """A smaller room that sums up more repeated events than ``room`` does; None if none can."""
    entries = _event_entries(data)
    shown = len(_collapse(entries, data, figures, room)) if len(entries) > room else len(entries)
    fewer = shown - 1
    if fewer < 3 or len(_collapse(entries, data, figures, fewer)) >= shown:
        return None
    return fewer


def _events_table(data: SessionData, figures: ReportFigures, s: _Styles, room: int) -> Table:
    entries = _event_entries(data)
    if len(entries) > room:
        entries = _collapse(entries, data, figures, room)
    timed: list[tuple[float, list[object]]] = []
    for e in entries:
        timed.append((e["start"], [Paragraph(_when(data, figures, e["start"]), s["cell"]),
                                   Paragraph(_when(data, figures, e["end"]) if e["end"] is not None else "open",
                                             s["cell"]),
                                   str(e["limb"] or "both"),
                                   Paragraph(_t(e["event"]), s["cell"]),
                                   Paragraph(_t(e["details"]), s["cell"])]))
    for v in data.verdicts:
        timed.append((v.session_s, [Paragraph(_when(data, figures, v.session_s), s["cell"]), "", "",
                                    Paragraph(_t(f"Verdict: {v.state.replace('_', ' ')}"), s["cell"]),
                                    Paragraph(_t(v.message), s["cell"])]))
    timed.sort(key=lambda item: item[0])
    rows: list[Sequence[object]] = [["Start", "End", "Foot", "Event", "Details"]] + [row for _, row in timed]
    if len(rows) == 1:
        rows.append(["—", "", "", "no artefacts, alarms or gaps recorded", ""])
    return _table(rows, [31 * mm, 31 * mm, 12 * mm, 38 * mm, 70 * mm])


def numbered_markers(data: SessionData) -> list[tuple[int, Marker]]:
    """The markers in time order, numbered from 1: the plot labels them with these numbers and
    the marker table gives each one's whole text."""
    ordered = sorted(data.markers, key=lambda m: m.session_s)
    return list(enumerate(ordered, start=1))


def _markers_table(data: SessionData, figures: ReportFigures, s: _Styles) -> Table:
    rows: list[Sequence[object]] = [["No.", "Time", "Marker", "Text", "Placed at"]]
    moves: dict[int, list[MarkerMove]] = {}
    for mv in data.marker_moves:
        moves.setdefault(mv.marker_id, []).append(mv)
    for number, m in numbered_markers(data):
        text = m.text
        for mv in moves.get(m.id or -1, []):
            text += f" [moved from {_when(data, figures, mv.from_s)}" + (f": {mv.reason}" if mv.reason else "") + "]"
        rows.append([str(number), Paragraph(_when(data, figures, m.session_s), s["cell"]), m.kind.label,
                     Paragraph(_t(text.strip()), s["cell"]), _clock(data, m.placed_s)])
    if len(rows) == 1:
        rows.append(["", "—", "no markers", "", ""])
    return _table(rows, [8 * mm, 34 * mm, 26 * mm, 92 * mm, 22 * mm])


def _calibration_words(calibration: Mapping[str, Any]) -> str:
    """{"channel 0": {"limb": "left", "offset_c": 0.25, "gain": 1.0, "note": ...}} in plain words."""
    parts = []
    for name, value in calibration.items():
        if not isinstance(value, dict):
            parts.append(f"{name}: {value}")
            continue
        where = f"{name} ({value['limb']})" if value.get("limb") else name
        if "offset_c" in value:
            text = (f"{where}: offset {_fixed(float(value['offset_c']), 2, signed=True)} °C, "
                    f"gain {float(value.get('gain', 1.0)):.4f}")
            if value.get("note"):
                text += f" ({value['note']})"
        else:
            text = f"{where}: " + str(value.get("calibration") or value.get("error") or "none")
        parts.append(text)
    return "; ".join(parts) or "none recorded"


def _devices_table(data: SessionData, s: _Styles) -> Table:
    rows: list[Sequence[object]] = [["Device", "Foot", "Identity", "Calibration"]]
    for dev in data.devices:
        ident = ", ".join(f"{k} {v}" for k, v in dev.identity.items()
                          if k in ("device_id", "firmware", "probe_model", "usb_serial") and v)
        cal = _calibration_words(dev.calibration)
        rows.append([Paragraph(_t(dev.name), s["cell"]), str(dev.limb or "both"), Paragraph(_t(ident), s["cell"]),
                     Paragraph(_t(cal), s["cell"])])
    if len(rows) == 1:
        rows.append(["(no device recorded)", "", "", ""])
    for health in stored_line_health(data.meta.get(LINE_HEALTH_META)):
        # The link's troubles as the recorder stored them: counts, never a guess at their effect.
        words = health.words() or "line: no CRC errors, no malformed frames, nothing lost"
        rows.append([Paragraph(_t(f"line to {health.probe}"), s["cell"]), "", Paragraph(_t(words), s["cell"]), ""])
    return _table(rows, [60 * mm, 14 * mm, 64 * mm, 44 * mm])


def foot_legend_size() -> float:
    """The font size at which the foot-of-page legend fits between the margins (6 pt at most)."""
    return min(6.0, 6.0 * (A4[0] - 2 * MARGIN) / pdfmetrics.stringWidth(_glyphs(FOOT_LEGEND), FONT, 6.0))


def _page_decorations(data: SessionData, generated: str) -> Callable[[Canvas, BaseDocTemplate], None]:
    patient = data.info.patient_id or "(no patient ID)"
    side = str(data.info.blocked or "side not set")

    def draw(canvas: Canvas, doc: BaseDocTemplate) -> None:
        canvas.saveState()
        w, h = A4
        if data.simulated:
            canvas.setFillColor(colors.Color(0.92, 0.92, 0.92))
            canvas.setFont(FONT_BOLD, 70)
            canvas.translate(w / 2, h / 2)
            canvas.rotate(50)
            canvas.drawCentredString(0, -20, "SIMULATED")
            canvas.rotate(-50)
            canvas.translate(-w / 2, -h / 2)
            canvas.setFillColor(colors.black)
            canvas.rect(MARGIN, h - 11 * mm, w - 2 * MARGIN, 6.5 * mm, stroke=0, fill=1)
            canvas.setFillColor(colors.white)
            canvas.setFont(FONT_BOLD, 10)
            canvas.drawCentredString(w / 2, h - 9 * mm, "SIMULATED SESSION — NOT PATIENT DATA")
        canvas.setFillColor(colors.black)
        canvas.setFont(FONT, 7)
        canvas.drawString(MARGIN, h - 14 * mm, "SympaTherm block temperature report")
        canvas.drawRightString(w - MARGIN, h - 14 * mm, f"Patient ID: {patient} · blocked side: {side}")
        canvas.drawString(MARGIN, 8 * mm, f"Generated {generated} by SympaTherm {data.software_version}. "
                                          + DISCLAIMER)
        # The abbreviations on every page, wherever a table carrying them falls.
        canvas.setFont(FONT, foot_legend_size())
        canvas.drawString(MARGIN, 11 * mm, _glyphs(FOOT_LEGEND))
        canvas.restoreState()

    return draw


class _NumberedCanvas(Canvas):
    """A canvas that writes "page N of M" on every page once the number of pages is known."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 -- reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont(FONT, 7)
            self.drawRightString(A4[0] - MARGIN, 8 * mm, f"page {self._pageNumber} of {total}")
            super().showPage()
        super().save()


def _confirmed_clock_words(data: SessionData, figures: ReportFigures) -> str:
    """The confirmation as the chart needs it: clock time beside the m:ss after its injection."""
    confirmation = figures.confirmation
    if confirmation is None:
        return ""
    return (f"Confirmed at {_clock(data, confirmation.at_s)} clock time, {_mmss(confirmation.after_injection_s)} "
            f"(m:ss) after the injection at {_clock(data, confirmation.injection_s)}; clock times are "
            f"{time_zone_words(data)}.")


def write_pdf(data: SessionData, figures: ReportFigures, out: str | os.PathLike[str],
              progress: Progress | None = None) -> Path:
    _register_fonts()
    out = Path(out)
    generated = datetime.fromtimestamp(time.time()).strftime("%Y-%m-%d %H:%M")
    room = _event_room(data)
    pdf, pages = _render(data, figures, generated, room, progress)
    # One or two pages for the chart: repeated events are summed up sooner where that keeps a
    # report with one attempt on two pages (every event is in the CSV export's events file).
    while pages > 2 and len(figures.attempts) < 2:
        fewer = _fewer_event_rows(data, figures, room)
        if fewer is None:
            break
        room = fewer
        pdf, pages = _render(data, figures, generated, room)
    with open_private(out, "wb") as f:
        f.write(pdf)
    if progress:
        progress(4, 4)
    return out


def _render(data: SessionData, figures: ReportFigures, generated: str, event_room: int,
            progress: Progress | None = None) -> tuple[bytes, int]:
    """The report as PDF bytes, and how many pages it has."""
    s = _styles()
    story = _first_part(data, figures, s, progress) + _second_part(data, figures, s, generated, event_room)
    if progress:
        progress(3, 4)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=17 * mm,
                            bottomMargin=13 * mm, title="SympaTherm block temperature report",
                            author="SympaTherm", subject="SIMULATED" if data.simulated else "")
    deco = _page_decorations(data, generated)
    doc.build(story, onFirstPage=deco, onLaterPages=deco, canvasmaker=_NumberedCanvas)
    return buffer.getvalue(), int(doc.page)


def _first_part(data: SessionData, figures: ReportFigures, s: _Styles, progress: Progress | None) -> list[Flowable]:
    """The outcome, the details, the plot, the temperatures (per attempt) and the notices."""
    story: list[Flowable] = []
    if data.simulated:
        story.append(Paragraph("SIMULATED session from the SympaTherm simulator: not patient data.", s["sim"]))
    story += [Paragraph("Lumbar sympathetic block: foot skin temperature", s["h1"]), Spacer(1, 2 * mm)]
    outcome = session_outcome(data, figures)
    verdict_rows = [[Paragraph(_t(outcome.headline), s["verdict"])]]
    confirmed_clock = _confirmed_clock_words(data, figures)
    if confirmed_clock:
        verdict_rows.append([Paragraph(_t(confirmed_clock), s["body"])])
    verdict_rows.append([Paragraph(_t(outcome.message or "—"), s["body"])])
    verdict = Table(verdict_rows, colWidths=[A4[0] - 2 * MARGIN])
    verdict.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 1.2, colors.black),
                                 ("BACKGROUND", (0, 0), (-1, -1), colors.Color(0.96, 0.96, 0.96))]))
    story += [verdict, Spacer(1, 2 * mm), _details(data, figures, s)]
    if progress:
        progress(1, 4)
    story += [Paragraph("Both feet", s["h2"]), build_plot(data, figures)]
    if progress:
        progress(2, 4)
    if len(figures.attempts) > 1:
        # A repeat injection: each attempt against its own baseline, never one figure across both.
        story += [Paragraph("Attempts (a new baseline was taken for a repeat injection)", s["h2"]),
                  _attempts_table(data, figures, s)] + _attempt_sections(data, figures, s)
        story += [Paragraph(_t(MINUTE_RULE), s["small"]), _legend(data, figures, s)]
    else:
        story += [Paragraph("Temperatures (°C) after injection", s["h2"]), _temperature_table(figures, s),
                  Spacer(1, 1 * mm), Paragraph(_t(_summary_line(figures)), s["small"]),
                  Paragraph(_t(MINUTE_RULE), s["small"]), _legend(data, figures, s)]
        late = figures.attempts[0].late_injection if figures.attempts else None
        if late:
            story.append(Paragraph(_t(late), s["small"]))
    if figures.warnings:
        story.append(Paragraph(_t("Notices: " + "; ".join(w.rstrip(".") for w in figures.warnings) + "."),
                               s["small"]))
    return story


def _second_part(data: SessionData, figures: ReportFigures, s: _Styles, generated: str,
                 event_room: int) -> list[Flowable]:
    """The criteria, the events, the markers, the devices, the software and the signature block."""
    crit_title = "Criteria applied" + (f": {figures.criteria_label}" if figures.criteria_label else "")
    # Long tables may continue on page 2 (their header row repeats); headings stay with them.
    story: list[Flowable] = [
        CondPageBreak(30 * mm), Paragraph(_t(crit_title), s["h2"]), _criteria_table(data, figures, s),
        CondPageBreak(30 * mm), Paragraph("Artefacts, alarms, connection gaps and verdict changes", s["h2"]),
        _events_table(data, figures, s, event_room),
        CondPageBreak(25 * mm), Paragraph("Markers and notes", s["h2"]), _markers_table(data, figures, s)]
    audit = _marker_audit_table(data, figures, s)
    if audit is not None:
        story += [CondPageBreak(25 * mm), Paragraph("Marker corrections (audit trail)", s["h2"]), audit]
    if data.info.notes:
        story.append(Paragraph(_t("Session notes: " + data.info.notes), s["body"]))
    story += [KeepTogether([Paragraph("Devices and calibration", s["h2"]), _devices_table(data, s)]),
              Spacer(1, 2 * mm),
              Paragraph(_t(f"Software: SympaTherm {data.software_version}. Report generated {generated}. "
                           f"Session file: {data.path.name}. Clock times are {time_zone_words(data)}. "
                           f"{DISCLAIMER}"), s["small"]),
              Spacer(1, 3 * mm), KeepTogether([Paragraph("Review", s["h2"]), _signature_block(s)])]
    return story

