"""Labels on the plot that never overlap and never run off its edge.

Marker labels sit on rows along the top of the data area, band labels (artefacts, baseline) on
rows along its bottom. They are drawn in the view box's own pixel coordinates (children of the
ViewBox, not of its data group), so sizes and gaps are pixels at any zoom, and they are laid
out again whenever the view moves or is resized (:func:`layout_rows`):

* a label starts just right of its marker line (or of its band's left edge, or of the view's
  left edge if the band began before it), moved left only as far as it takes to end inside
  the view;
* closer to the previous label on its row than that label's width: it goes on the next row;
* every row taken there: the previous label on the row that keeps the most of it is elided
  ("Note: patient mo…") to end before this one; with no room at all the label is left out;
* a long label is elided to at most ``MAX_LABEL_PX`` (or 40 % of the view's width).

The full text is in the label's tooltip (and in its marker line's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QFontMetricsF, QPainter
from PyQt6.QtWidgets import QGraphicsItem

EDGE_PX = 2.0  # from the view box's edge
LINE_GAP_PX = 3.0  # from a marker line to its label
ROW_GAP_PX = 6.0  # between two labels on one row
MIN_LABEL_PX = 40.0  # elided narrower than this a label says nothing: left out instead
MAX_LABEL_PX = 230.0
PAD_X = 4.0
PAD_Y = 1.0


@dataclass(frozen=True)
class Slot:
    """Where a label goes: its row (0 = the one nearest the edge it hangs from), its left edge and
    width in the view's pixels (the width may be less than the label wanted: elided)."""

    row: int
    left: float
    width: float


def layout_rows(anchors: Sequence[float], widths: Sequence[float], view_width: float,
                rows: int) -> list[Slot | None]:
    """Slots for labels that want to start at ``anchors`` (px from the view's left edge) and be
    ``widths`` wide, on at most ``rows`` rows, none overlapping another, all inside
    ``[EDGE_PX, view_width - EDGE_PX]``; None for a label left out. Same order as the input."""
    n = len(anchors)
    slots: list[Slot | None] = [None] * n
    if n == 0 or rows < 1:
        return slots
    right = view_width - EDGE_PX
    widest = max(0.0, min(MAX_LABEL_PX, 0.4 * view_width, right - EDGE_PX))
    last: list[int | None] = [None] * rows  # per row: the label placed last (the rightmost)
    for i in sorted(range(n), key=lambda k: (anchors[k], k)):
        w = min(float(widths[i]), widest)
        if w < min(MIN_LABEL_PX, float(widths[i])):
            continue  # the view is too narrow for any of it
        left = min(max(float(anchors[i]), EDGE_PX), right - w)
        row = _free_row(slots, last, left)
        if row is None:
            row = _row_to_elide(slots, last, left)
            if row is None:
                continue
            j = last[row]
            assert j is not None
            prev = slots[j]
            assert prev is not None
            slots[j] = Slot(prev.row, prev.left, left - ROW_GAP_PX - prev.left)
        slots[i] = Slot(row, left, w)
        last[row] = i
    return slots


def _free_row(slots: list[Slot | None], last: list[int | None], left: float) -> int | None:
    """The first row whose last label ends at least ROW_GAP_PX before ``left``."""
    for row, j in enumerate(last):
        if j is None:
            return row
        s = slots[j]
        if s is not None and s.left + s.width + ROW_GAP_PX <= left:
            return row
    return None


def _row_to_elide(slots: list[Slot | None], last: list[int | None], left: float) -> int | None:
    """The row whose last label, elided to end before ``left``, keeps the most of itself (at
    least MIN_LABEL_PX); None if none can."""
    best, keep_best = None, MIN_LABEL_PX
    for row, j in enumerate(last):
        s = slots[j] if j is not None else None
        if s is None:
            continue
        keep = left - ROW_GAP_PX - s.left
        if keep >= keep_best:
            best, keep_best = row, keep
    return best


class PixelLabel(QGraphicsItem):
    """A one-line label in pixels on a dark translucent plate; elided to the width it is given."""

    def __init__(self, text: str, colour: str, pixel_size: int = 14, tooltip: str = "") -> None:
        super().__init__()
        self._font = QFont()
        self._font.setPixelSize(pixel_size)
        self._font.setBold(True)
        self._metrics = QFontMetricsF(self._font)
        self._colour = QColor(colour)
        self._plate = QColor(21, 23, 26, 215)
        self.full_text = ""
        self.shown_text = ""
        self._width = 0.0
        self.height = self._metrics.height() + 2 * PAD_Y
        self.setZValue(20)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.set_text(text, tooltip)

    @property
    def natural_width(self) -> float:
        """Pixels the whole text takes, plate included."""
        return self.width_of(self.full_text)

    def width_of(self, text: str) -> float:
        """Pixels ``text`` would take in this label, plate included."""
        return self._metrics.horizontalAdvance(text) + 2 * PAD_X + 1.0

    def set_text(self, text: str, tooltip: str = "") -> None:
        if text != self.full_text:
            self.full_text = text
            self.set_width(self.natural_width)
        self.setToolTip(tooltip or text)

    def set_width(self, width: float) -> None:
        """Show as much of the text as ``width`` px hold (elided with "…" if it needs more)."""
        if width >= self.natural_width:
            width, shown = self.natural_width, self.full_text
        else:
            shown = self._metrics.elidedText(self.full_text, Qt.TextElideMode.ElideRight, max(0.0, width - 2 * PAD_X))
        if (width, shown) != (self._width, self.shown_text):
            self.prepareGeometryChange()
            self._width, self.shown_text = width, shown
            self.update()

    @property
    def elided(self) -> bool:
        return self.shown_text != self.full_text

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt's name)
        return QRectF(0.0, 0.0, self._width, self.height)

    def paint(self, painter: QPainter, *_args) -> None:
        rect = self.boundingRect()
        painter.fillRect(rect, self._plate)
        painter.setFont(self._font)
        painter.setPen(self._colour)
        painter.drawText(rect.adjusted(PAD_X, 0.0, -PAD_X, 0.0),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), self.shown_text)
