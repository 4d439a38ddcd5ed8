"""Light graphics items for the live plot: each draws one simple thing and answers Qt's questions
(bounding rectangle, paint) from values it keeps, not by asking pyqtgraph to work them out again.

Qt asks every item in a repainted area for its bounding rectangle several times per frame; a
pyqtgraph curve works that out from its data and the view's pixel size each time its data
changed, and strokes a path built from its arrays. The live tail changes every frame, so it is
a plain item holding polylines and a rectangle computed once per update.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRectF
from PyQt6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen, QPolygonF, QTransform
from PyQt6.QtWidgets import QGraphicsItem, QGraphicsSimpleTextItem

_EMPTY = np.empty(0)


class BandItem(pg.GraphicsObject):
    """A band over a span of session time, the full height of the view: one filled rectangle.

    In place of ``pg.LinearRegionItem``, which maps the view into its own coordinates on every
    bounding-rect query and repaints all of itself whenever it is stretched. An open band (an
    artefact still going on) is given ``reach``: its bounding rectangle already extends that far
    right of its end, so stretching it repaints only the newly covered columns."""

    HALF_HEIGHT = 1e4  # °C either side of 0: taller than any view, so never its own edge

    def __init__(self, start_s: float, end_s: float, brush) -> None:
        super().__init__()
        self._brush = pg.mkBrush(brush)
        self._start = float(start_s)
        self._end = float(end_s)
        self._right = self._end  # the bounding rectangle's right edge (≥ the end)
        self.label = None  # its PixelLabel (ui.plot_labels), placed by the plot
        self.label_row = 0  # the label's row from the bottom of the view
        self.drawn_key: tuple | None = None

    def getRegion(self) -> tuple[float, float]:  # noqa: N802 (LinearRegionItem's name)
        return self._start, self._end

    def setRegion(self, region, reach: float | None = None) -> None:  # noqa: N802
        start, end = float(region[0]), float(region[1])
        right = max(end, reach if reach is not None else end)
        if start != self._start or right != self._right:
            self.prepareGeometryChange()  # the rectangle itself changes: Qt repaints old and new
            self._start, self._end, self._right = start, end, right
            self.update()
        elif end != self._end:
            lo, hi = sorted((self._end, end))
            self._end = end
            self.update(QRectF(lo, -self.HALF_HEIGHT, hi - lo, 2 * self.HALF_HEIGHT))

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt's name)
        return QRectF(self._start, -self.HALF_HEIGHT, self._right - self._start, 2 * self.HALF_HEIGHT)

    def paint(self, painter, *_args) -> None:
        painter.fillRect(QRectF(self._start, -self.HALF_HEIGHT, self._end - self._start, 2 * self.HALF_HEIGHT),
                         self._brush)


class TailCurve(QGraphicsItem):
    """A short line in data coordinates, broken at NaN (as pyqtgraph's ``connect='finite'``), drawn
    with a 1-pixel cosmetic pen. ``setData``/``getData``/``xData`` as ``pg.PlotCurveItem``'s.

    ``pixel`` is the size of one pixel in data units (x, y), given by the plot with the data: the
    bounding rectangle reaches that far past the vertices, so a repaint covers the whole stroke
    (and a flat line still has an area Qt will draw)."""

    def __init__(self, pen: QPen) -> None:
        super().__init__()
        self._pen = QPen(pen)
        self._pen.setCosmetic(True)
        self.xData: np.ndarray | None = None
        self.yData: np.ndarray | None = None
        self._polylines: list[QPolygonF] = []
        self._rect = QRectF()

    def setData(self, x: np.ndarray, y: np.ndarray, pixel: tuple[float, float] = (0.0, 0.0),  # noqa: N802
                repaint: bool = True, **_ignored) -> None:
        """``x``/``y``: the vertices (kept, not copied: hand over arrays nobody changes later);
        ``repaint=False``: the caller knows the new vertices change no pixel on screen (they are
        drawn at the next repaint; the bounding rectangle stays); ``_ignored``: PlotCurveItem's
        options (connect=…)."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        repaint = repaint or self.xData is None
        if repaint:
            self.prepareGeometryChange()
        self.xData, self.yData = x, y
        finite = np.isfinite(x) & np.isfinite(y)
        if finite.all():  # the usual case: one unbroken line
            self._polylines = [_polyline(x, y)] if x.size >= 2 else []
            xs, ys = x, y
        else:
            self._polylines = _finite_runs(x, y, finite)
            xs, ys = x[finite], y[finite]
        if not repaint:
            return
        if self._polylines:
            px, py = abs(pixel[0]) * 2.0, abs(pixel[1]) * 2.0
            x0, x1, y0, y1 = float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max())
            self._rect = QRectF(x0 - px, y0 - py, (x1 - x0) + 2 * px, (y1 - y0) + 2 * py)
        else:
            self._rect = QRectF()
        self.update()

    def getData(self) -> tuple[np.ndarray | None, np.ndarray | None]:  # noqa: N802
        return self.xData, self.yData

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt's name)
        return self._rect

    def paint(self, painter: QPainter, *_args) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(self._pen)
        for line in self._polylines:
            painter.drawPolyline(line)


def _finite_runs(x: np.ndarray, y: np.ndarray, finite: np.ndarray) -> list[QPolygonF]:
    """One polyline per unbroken run of two or more finite vertices (a lone vertex draws nothing,
    as with ``connect='finite'``)."""
    edges = np.flatnonzero(np.diff(np.concatenate(([False], finite, [False])).astype(np.int8)))
    return [_polyline(x[a:b], y[a:b]) for a, b in zip(edges[::2], edges[1::2], strict=True) if b - a >= 2]


def _polyline(x: np.ndarray, y: np.ndarray) -> QPolygonF:
    """A QPolygonF filled in place from the arrays (no Python loop over the points)."""
    line = pg.functions.create_qpolygonf(int(x.size))
    xy = pg.functions.ndarray_from_qpolygonf(line)  # the polygon's own memory
    xy[:, 0] = x
    xy[:, 1] = y
    return line


class EndLetter(QGraphicsSimpleTextItem):
    """A foot's letter at the end of its line: a fixed pixel size whatever the zoom, its left edge
    at the position, centred on it vertically. Qt's own text item: no Python on a repaint."""

    def __init__(self, text: str, colour: str, pixel_size: int = 20) -> None:
        super().__init__(text)
        font = QFont()
        font.setPixelSize(pixel_size)
        font.setBold(True)
        self.setFont(font)
        self.setBrush(QColor(colour))
        self.setPen(QPen(QColor(0, 0, 0, 0)))
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
        height = QFontMetricsF(font).height()
        self.setTransform(QTransform.fromTranslate(3.0, -height / 2.0))
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
