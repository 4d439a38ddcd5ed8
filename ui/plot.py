"""The session plot: both limbs over the whole session, minutes relative to the injection mark.

Built for hours of 10 Hz data: peak downsampling and clip-to-view with an explicit X range
(auto-range on X would defeat clipping), 1-pixel opaque cosmetic pens, gaps as NaN with
connect='finite'. The owner calls :meth:`SessionPlot.refresh` from a ≤ 10 Hz timer only
when new readings arrived or the view changed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QFontMetricsF
from PyQt6.QtWidgets import QGraphicsItem, QGraphicsTextItem, QLabel, QVBoxLayout, QWidget

from monitor.model import Limb, Marker, MarkerKind
from monitor.pipeline.timefmt import format_session_time
from ui import theme
from ui.plot_axis import SessionTimeAxis, format_relative
from ui.plot_buffer import PlotBuffer
from ui.plot_items import BandItem, EndLetter, TailCurve
from ui.plot_labels import EDGE_PX, LINE_GAP_PX, PixelLabel, layout_rows

__all__ = ["BandItem", "SessionPlot", "SessionTimeAxis", "TAIL_MAX_POINTS", "TAIL_MAX_PX"]

AXIS_WIDTH = 78  # px, room for "30.5" and the axis label at the fonts used here
# Readings newer than this (or than 1.5 follow windows, if longer) are kept as they came;
# older ones are thinned to each 2-second bucket's min and max (see ui.plot_buffer).
FULL_RESOLUTION_S = 3600.0
# Label rows: marker labels hang from the top of the data area on up to MAX_MARKER_ROWS rows
# (fewer on a short plot); band labels stand on the bottom, one row per kind.
MAX_MARKER_ROWS = 3
LEFT_ARTEFACT_ROW, RIGHT_ARTEFACT_ROW, BASELINE_ROW = 0, 1, 2
MARKER_LABEL_PX = 14
CLUSTER_PX = 8.0  # marks closer than this (at the current zoom) share one label
BAND_LABEL_PX = 13
# The y axis's title, the longest that fits the axis's height (a short plot cut the long one).
Y_TITLES = ("skin temperature (°C)", "skin temp. (°C)", "°C")
AXIS_TITLE_PT = 13


class SessionPlot(QWidget):
    """Both limbs, markers, baseline window and artefact segments, following the latest data."""

    followChanged = pyqtSignal(bool)  # noqa: N815 (Qt signal naming)
    markerMoved = pyqtSignal(int, float)  # noqa: N815  (marker id, new session seconds)

    def __init__(self, parent=None, follow_window_s: float = 40 * 60.0, thin_old_data: bool = True) -> None:
        """``thin_old_data=False`` keeps every reading (a review, whose file is in memory anyway)."""
        super().__init__(parent)
        pg.setConfigOptions(antialias=False)
        self._thin_old_data = thin_old_data
        self._follow_window_s = follow_window_s
        self._follow = True
        self._dirty = True
        self._data_dirty = False  # new readings only (may wait for a visible change)
        self._drawn_latest_s = -1.0
        self._last_draw_monotonic = 0.0
        # New readings alone redraw at least this often (real seconds), whatever their pixel size.
        self.min_frame_interval_s = 1.0
        self._setting_range = False
        self.buffers: dict[Limb, PlotBuffer] = {limb: PlotBuffer(full_resolution_s=self._full_resolution_s())
                                                for limb in Limb}
        self._curve_key: dict[Limb, tuple | None] = {}  # what each curve was last given (skip if unchanged)
        self.latest_s = 0.0

        self.axis = SessionTimeAxis(orientation="bottom")
        self.widget = pg.PlotWidget(axisItems={"bottom": self.axis}, background=theme.BACKGROUND)
        _paint_opaque(self.widget)
        self.item = self.widget.getPlotItem()
        _adopt_menus(self.item, self)
        self.grid = pg.PlotCurveItem(pen=pg.mkPen(theme.GRID, width=1, cosmetic=True))
        self.grid.setZValue(-12)  # over the opaque bands, under the watermark and curves
        _cache_pixels(self.grid)
        self.item.addItem(self.grid, ignoreBounds=True)
        self._grid_key: tuple | None = None
        self._labels_key: tuple | None = None  # view range the labels were placed for
        self._shown_range: tuple | None = None
        self.item.setMenuEnabled(False)
        self.item.hideButtons()
        # Room above the data area for the top tick's label (it was cut in half at the edge).
        self.item.layout.setContentsMargins(1, 8, 6, 1)
        self.vb = self.item.getViewBox()
        self.vb.disableAutoRange()
        self.vb.setMouseEnabled(x=True, y=True)
        font = QFont()
        font.setPixelSize(15)
        for name in ("bottom", "left"):
            ax = self.item.getAxis(name)
            ax.setTickFont(font)
            ax.setTextPen(pg.mkPen(theme.TEXT))
            ax.setPen(pg.mkPen("#6A7078"))
        self._y_title: str | None = None
        self._x_title: str | None = None
        # The axis title's wordings measured as the axis draws them (hidden; owned by the axis, so
        # Qt deletes it with the scene, never Python after the application has gone).
        self._measure = QGraphicsTextItem(self.axis)
        self._measure.setVisible(False)
        self._set_y_label()
        # No legend in the data area (at 200 px it covered the curves): which colour is which
        # foot is said in the time axis's title row, and each line ends in its letter.
        self.legend = None
        self._set_x_label()
        self.curves: dict[Limb, pg.PlotDataItem] = {}
        for limb in Limb:
            pen = pg.mkPen(QColor(theme.LIMB_COLOURS[limb]), width=1, cosmetic=True)
            curve = self.item.plot([], [], pen=pen, connect="finite")
            curve.setDownsampling(auto=True, method="peak")
            # Peak keeps each pixel column's min and max, so one block per pixel loses nothing
            # and draws 5× fewer points than pyqtgraph's default (no setter for this option).
            curve.opts["autoDownsampleFactor"] = 1.0
            curve.setClipToView(True)
            curve.setSkipFiniteCheck(True)  # NaN gaps are intended; connect='finite' handles them
            # The history changes every few seconds, but the live tail beside it repaints a small
            # area ~10 times a second: that area is copied from the history's pixels, not the
            # whole history path stroked again (with the 40-minute view, a third of a frame).
            _cache_pixels(curve.curve)
            self.curves[limb] = curve
        # While following, each foot's line is two items joined end to end: the settled history
        # (the curve above: handed to pyqtgraph when the view steps or the tail has grown, see
        # _draw_following) and a short live tail from the history's last drawn point, the only
        # part that changes (and is repainted) frame to frame. Free pan/zoom: the curve alone.
        # The tail is a light item (ui.plot_items.TailCurve): redrawn every frame, it must cost
        # little to hand over, bound and paint.
        self.tails: dict[Limb, TailCurve] = {}
        for limb, curve in self.curves.items():
            tail = TailCurve(curve.opts["pen"])
            self.item.addItem(tail, ignoreBounds=True)
            self.tails[limb] = tail
        # Per limb: (what the history was handed for, block size, end index) while following.
        self._settled: dict[Limb, tuple | None] = dict.fromkeys(Limb)
        self._tail_key: dict[Limb, tuple | None] = dict.fromkeys(Limb)
        self._tail_raw: dict[Limb, tuple[np.ndarray, np.ndarray]] = {limb: (_EMPTY, _EMPTY) for limb in Limb}
        # Per limb: what the tail's last repaint showed (see _tail_shows_more).
        self._painted: dict[Limb, tuple | None] = dict.fromkeys(Limb)
        self._tail_still: dict[Limb, bool] = dict.fromkeys(Limb, False)  # handed over, not repainted
        self._frame_repainted_line = True
        self._label_pos: dict[Limb, tuple | None] = dict.fromkeys(Limb)
        # The limb letters at the end of each line, so colour is never the only cue.
        self.end_labels: dict[Limb, EndLetter] = {}
        for limb in Limb:
            lab = EndLetter(limb.letter, theme.LIMB_TEXT_COLOURS[limb])
            lab.setVisible(False)
            self.item.addItem(lab, ignoreBounds=True)
            self.end_labels[limb] = lab

        self.baseline_region = BandItem(0.0, 0.0, pg.mkBrush(*theme.BASELINE_FILL))
        self.baseline_region.setZValue(-20)
        self.baseline_region.setVisible(False)
        self.item.addItem(self.baseline_region, ignoreBounds=True)
        # Labels in the view box's pixels (ui.plot_labels): markers' on rows at the top, bands'
        # on rows at the bottom (L artefacts, R artefacts, the baseline window).
        self._baseline_label = self._pixel_label("baseline", "#4FD1A5", "the baseline window")
        self.baseline_region.label = self._baseline_label
        self.baseline_region.label_row = BASELINE_ROW
        self._artefact_items: dict[tuple, BandItem] = {}
        self._open_artefacts: list[tuple[float, BandItem]] = []
        self._marker_lines: dict[int, pg.InfiniteLine] = {}
        self.marker_labels: dict[int, PixelLabel] = {}  # marker id -> its label
        self._marker_seen: dict[int, Marker] = {}
        self._marker_rows_used = 0  # rows of marker labels in the last layout (room kept above the data)
        self._watermark_at: tuple[float, float] | None = None
        self.watermark: pg.TextItem | None = None

        self.vb.sigRangeChangedManually.connect(self._on_user_range)
        # Labels are in pixels: placed again whenever the view moves or changes size (a pan with
        # the mouse included, without waiting for the next frame).
        self.vb.sigRangeChanged.connect(self._place_labels_if_moved)
        self.vb.sigResized.connect(self._on_resized)
        # Optional: Di − Dc (the pipeline's difference series: blocked foot's rise minus the other
        # foot's, on both feet's reading times, so two one-foot probes that never report together
        # still give a curve), below the main plot on the same time axis. Before a baseline it is
        # the plain temperature difference, and the title says which.
        self.difference_source = None  # callable returning monitor.pipeline.DifferenceSeries
        self._diff_key: tuple | None = None
        self._diff_y: tuple[float, float] | None = None
        self.diff_title = QLabel("")
        self.diff_title.setStyleSheet(f"color: {theme.DIFFERENCE_COLOUR}; font-size: 15px; font-weight: bold; "
                                      f"padding: 2px 0 0 {AXIS_WIDTH}px;")
        self.diff_widget = pg.PlotWidget(background=theme.BACKGROUND)
        _paint_opaque(self.diff_widget)
        self.diff_widget.setMaximumHeight(170)
        self.diff_widget.setXLink(self.widget)
        di = self.diff_widget.getPlotItem()
        _adopt_menus(di, self)
        di.setMenuEnabled(False)
        di.hideButtons()
        di.getViewBox().disableAutoRange()
        di.getViewBox().setMouseEnabled(x=False, y=False)
        di.getAxis("bottom").setStyle(showValues=False)
        for name in ("bottom", "left"):
            di.getAxis(name).setTickFont(font)
            di.getAxis(name).setTextPen(pg.mkPen(theme.TEXT))
            di.getAxis(name).setPen(pg.mkPen("#6A7078"))
        # Same left-axis width on both plots, so their time axes line up.
        self.item.getAxis("left").setWidth(AXIS_WIDTH)
        di.getAxis("left").setWidth(AXIS_WIDTH)
        di.setLabel("left", "°C", **{"font-size": "12pt", "color": theme.TEXT})
        self.diff_curve = di.plot([], [], pen=pg.mkPen(QColor(theme.DIFFERENCE_COLOUR), width=1, cosmetic=True),
                                  connect="finite")
        self.diff_curve.setDownsampling(auto=True, method="peak")
        self.diff_curve.opts["autoDownsampleFactor"] = 1.0
        self.diff_curve.setClipToView(True)
        self.diff_curve.setSkipFiniteCheck(True)
        # Zero: no difference between the feet's rises (or temperatures, before a baseline).
        self.diff_ref = pg.InfiniteLine(pos=0.0, angle=0, pen=pg.mkPen("#6A7078", width=1,
                                                                       style=Qt.PenStyle.DashLine))
        di.addItem(self.diff_ref, ignoreBounds=True)
        # The criteria's Di − Dc threshold, once there is a baseline to measure rises from.
        self.diff_threshold = pg.InfiniteLine(angle=0, pen=pg.mkPen(theme.DIFFERENCE_COLOUR, width=1,
                                                                    style=Qt.PenStyle.DotLine),
                                              label="criterion",
                                              labelOpts={"position": 0.02, "color": theme.DIFFERENCE_COLOUR,
                                                         "anchors": [(0, 1), (0, 1)]})
        self.diff_threshold.setVisible(False)
        _cache_text(self.diff_threshold.label)
        self._threshold_c: float | None = None
        self._relative: bool | None = None
        di.addItem(self.diff_threshold, ignoreBounds=True)
        self.diff_title.setVisible(False)
        self.diff_widget.setVisible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.widget, 1)
        lay.addWidget(self.diff_title)
        lay.addWidget(self.diff_widget)
        self._y_range: tuple[float, float] | None = None

    # ---- modes ------------------------------------------------------------------------
    @property
    def follow_window_s(self) -> float:
        return self._follow_window_s

    @follow_window_s.setter
    def follow_window_s(self, seconds: float) -> None:
        self._follow_window_s = float(seconds)
        for buf in self.buffers.values():  # the follow window is always drawn from full resolution
            buf.full_resolution_s = self._full_resolution_s()
        self._dirty = True

    def _full_resolution_s(self) -> float | None:
        return max(FULL_RESOLUTION_S, 1.5 * self._follow_window_s) if self._thin_old_data else None

    @property
    def following(self) -> bool:
        return self._follow

    def set_follow(self, on: bool) -> None:
        if on != self._follow:
            self._follow = on
            self._shown_range = None
            self._dirty = True
            self.followChanged.emit(on)

    def _on_user_range(self, *_args) -> None:
        if not self._setting_range:
            self.set_follow(False)
            self._shown_range = None
            self._dirty = True  # free pan/zoom: redraw with the whole session

    def set_origin(self, origin_s: float) -> None:
        """Times on the X axis count from here (the injection mark), as m:ss."""
        if origin_s != self.axis.origin_s:
            self.axis.origin_s = origin_s
            self._set_x_label()
            self.axis.picture = None
            self.axis.update()
            for mid, m in self._marker_seen.items():  # their tooltips say times from the injection
                self._set_marker_tooltip(mid, m)

    def set_wall_clock(self, wall0: float | None, show: bool) -> None:
        self.axis.wall0 = wall0
        self.axis.show_wall = bool(show and wall0 is not None)
        self._set_x_label()
        self.axis.picture = None
        self.axis.update()

    def _set_x_label(self) -> None:
        """The time axis's title with the legend beside it (out of the data area, on one line):
        the longest wording that fits the axis's width, measured as the axis will draw it."""
        room = float(self.widget.width()) - AXIS_WIDTH - 16.0
        title = self.axis.title()
        short = title.replace("time from injection", "from injection").replace("session time", "session")
        style = f"font-size: {AXIS_TITLE_PT}pt; color: {theme.TEXT}"
        for foot, words in ((" foot", title), ("", title), ("", short), (None, short)):
            swatches = "&nbsp;&nbsp;&nbsp;".join(
                f"<span style='color:{theme.LIMB_TEXT_COLOURS[limb]}'>━━ {limb.letter} "
                f"{theme.limb_name(limb).lower()}{foot}</span>" for limb in Limb) if foot is not None else ""
            text = f"{swatches}&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;{words}" if swatches else words
            self._measure.setHtml(f"<span style='{style}'>{text} </span>")
            if self._measure.boundingRect().width() <= room:
                break
        if text != self._x_title:
            self._x_title = text
            self.item.setLabel("bottom", text, **{"font-size": f"{AXIS_TITLE_PT}pt", "color": theme.TEXT})
            self.axis.resizeEvent()  # centre the new title (pyqtgraph does so only on a resize)

    def _set_y_label(self) -> None:
        """The longest y title that fits the axis's height (rotated, it is as long as the axis)."""
        font = QFont()
        font.setPointSize(AXIS_TITLE_PT)
        room = float(self.vb.height()) if self.vb.height() > 0 else 1e9
        metrics = QFontMetricsF(font)
        title = next((t for t in Y_TITLES if metrics.horizontalAdvance(t) + 8 <= room), Y_TITLES[-1])
        if title != self._y_title:
            self._y_title = title
            self.item.setLabel("left", title, **{"font-size": f"{AXIS_TITLE_PT}pt", "color": theme.TEXT})
            self.item.getAxis("left").resizeEvent()

    @property
    def y_axis_title(self) -> str:
        return self._y_title or ""

    def _fit_watermark(self) -> None:
        """SIMULATED as large as fits the data area (90 px at most), never cut at its edges."""
        if self.watermark is None:
            return
        w, h = float(self.vb.width()), float(self.vb.height())
        size = max(12, int(min(90.0, 0.5 * h, w / 6.8))) if w > 0 and h > 0 else 90
        if size != self._watermark_px:
            self._watermark_px = size
            f = QFont()
            f.setPixelSize(size)
            f.setBold(True)
            self.watermark.setFont(f)

    def _on_resized(self, *_args) -> None:
        self._set_y_label()
        self._set_x_label()
        self._fit_watermark()
        self._labels_key = None
        self._place_labels_if_moved()

    def set_simulated(self, on: bool) -> None:
        if on and self.watermark is None:
            self.watermark = pg.TextItem("SIMULATED", color=theme.WATERMARK_COLOUR, anchor=(0.5, 0.5))
            _cache_text(self.watermark)
            self.watermark.setZValue(-10)  # above the bands, below the curves
            self.item.addItem(self.watermark, ignoreBounds=True)
            self._watermark_px = 0
            self._fit_watermark()
            self._watermark_at = None
        if self.watermark is not None:
            self.watermark.setVisible(on)

    # ---- data ---------------------------------------------------------------------------
    def append(self, limb: Limb, t, value, valid=None) -> None:
        buf = self.buffers[limb]
        before = len(buf)
        buf.append(t, value, valid)
        if len(buf) != before:
            self.latest_s = max(self.latest_s, buf.last_t or 0.0)
            self._data_dirty = True

    def note_time(self, session_s: float) -> None:
        """Keep following the clock even when no reading arrives (a gap must look like a gap)."""
        if session_s > self.latest_s + 0.5:
            self.latest_s = session_s
            self._data_dirty = True

    def show_difference(self, on: bool) -> None:
        self.diff_widget.setVisible(bool(on))
        self.diff_title.setVisible(bool(on))
        self._diff_key = None
        self._dirty = True

    @property
    def showing_difference(self) -> bool:
        return not self.diff_widget.isHidden()  # also before the window is shown

    def set_difference_threshold(self, value: float | None) -> None:
        """The criteria's Di − Dc threshold (None: the criteria have none), drawn once rises exist."""
        if value != self._threshold_c:
            self._threshold_c = value
            self._relative = None  # re-label on the next redraw
            self._dirty = True

    def _label_difference(self, relative: bool) -> None:
        if relative == self._relative:
            return
        self._relative = relative
        if relative:
            self.diff_title.setText("Di − Dc: blocked foot's rise minus the other foot's rise (from baseline)")
            self.diff_widget.getPlotItem().setLabel("left", "Di − Dc", units="°C",
                                                    **{"font-size": "12pt", "color": theme.TEXT})
        else:
            self.diff_title.setText("blocked − other foot: temperature difference (no baseline yet, not Di − Dc)")
            self.diff_widget.getPlotItem().setLabel("left", "Tb − Tc", units="°C",
                                                    **{"font-size": "12pt", "color": theme.TEXT})
        show = relative and self._threshold_c is not None
        self.diff_threshold.setVisible(show)
        if show:  # after setVisible: a hidden line's label does not follow its value
            self.diff_threshold.setValue(self._threshold_c)
            self.diff_threshold.label.setText(f"criterion: Di − Dc ≥ {self._threshold_c:+.1f} °C")

    def clear_data(self) -> None:
        for b in self.buffers.values():
            b.clear()
        self.latest_s = 0.0
        self._dirty = True

    def set_baseline_window(self, window: tuple[float, float] | None) -> None:
        if window is None:
            if self.baseline_region.isVisible():
                self.baseline_region.setVisible(False)
                self._labels_key = None
                self._place_labels_if_moved()
        elif self.baseline_region.getRegion() != tuple(window) or not self.baseline_region.isVisible():
            self.baseline_region.setRegion(window)
            self.baseline_region.setVisible(True)
            self._labels_key = None
            self._place_labels_if_moved()

    def set_artefacts(self, segments) -> None:
        """segments: objects with limb, kind, start_s, end_s (the pipeline's ArtefactSegment)."""
        keep = set()
        self._open_artefacts = []
        changed = False
        for seg in segments:
            key = (str(seg.limb), seg.kind, round(seg.start_s, 1))
            keep.add(key)
            end = seg.end_s if seg.end_s is not None else max(seg.start_s, self._drawn_latest_s)
            item = self._artefact_items.get(key)
            if item is None:
                kind = str(seg.kind)
                # Settling is expected after taping a probe on: a quiet grey, not the artefact colour.
                fill = theme.SETTLING_FILL if kind == "settling" else theme.ARTEFACT_FILL
                item = BandItem(seg.start_s, end, pg.mkBrush(*fill))
                item.setZValue(-15)
                limb = Limb(seg.limb)
                words = kind.replace("_", " ")
                item.label = self._pixel_label(f"{limb.letter} {words}", theme.LIMB_TEXT_COLOURS[limb],
                                               f"{theme.limb_name(limb).lower()} foot: {words}")
                item.label_row = LEFT_ARTEFACT_ROW if limb is Limb.LEFT else RIGHT_ARTEFACT_ROW
                self.item.addItem(item, ignoreBounds=True)
                self._artefact_items[key] = item
                changed = True
            elif seg.end_s is not None and item.getRegion() != (seg.start_s, end):
                item.setRegion((seg.start_s, end))
                changed = True
            if seg.end_s is None:
                # Still going on: stretched to the newest reading when the plot redraws, not on
                # every tick (moving it would repaint the plot 10 times a second).
                self._open_artefacts.append((seg.start_s, item))
        for key in list(self._artefact_items):
            if key not in keep:
                item = self._artefact_items.pop(key)
                self._drop_label(item.label)
                self.item.removeItem(item)
                changed = True
        if changed:
            self._labels_key = None
            self._place_labels_if_moved()

    # ---- labels ---------------------------------------------------------------------------
    def _pixel_label(self, text: str, colour: str, tooltip: str = "", pixel_size: int = BAND_LABEL_PX) -> PixelLabel:
        label = PixelLabel(text, colour, pixel_size, tooltip)
        label.setParentItem(self.vb)  # the view box's pixels, clipped to it, above the data
        label.setVisible(False)
        return label

    def _drop_label(self, label: PixelLabel | None) -> None:
        if label is not None:
            label.setVisible(False)
            label.setParentItem(None)
            if label.scene() is not None:
                label.scene().removeItem(label)

    def _view_px(self) -> tuple[float, float, float, float, float, float]:
        """(x0, x1, y0, y1, width px, height px) of the view."""
        (x0, x1), (y0, y1) = self.vb.viewRange()
        return x0, x1, y0, y1, float(self.vb.width()), float(self.vb.height())

    def _place_labels_if_moved(self, *_args) -> None:
        """Lay the labels out again if the time range, the size or the labels changed (their
        rows are pixels, so the temperature range does not matter)."""
        x0, x1, _, _, w, h = self._view_px()
        key = (x0, x1, w, h)
        if key == self._labels_key:
            return
        self._labels_key = key
        self._place_labels()

    def _place_labels(self) -> None:
        x0, x1, _, _, w, h = self._view_px()
        if not (x1 > x0 and w > 0 and h > 0):
            return

        def px(t: float) -> float:
            return (t - x0) * w / (x1 - x0)

        groups, slots, self._marker_rows_used = self._marker_layout(x0, x1, w, h)
        placed = set()
        for group, slot in zip(groups, slots, strict=True):
            if slot is None:
                continue
            label = self.marker_labels[group.shown]
            label.set_text(group.text, group.tooltip)
            label.set_width(slot.width)
            label.setPos(slot.left, EDGE_PX + slot.row * label.height)
            label.setVisible(True)
            placed.add(group.shown)
        for mid, label in self.marker_labels.items():
            if mid not in placed:
                label.setVisible(False)
        # Band labels: one row per kind from the bottom, from the band's left edge or the view's.
        rows_of: dict[int, list[tuple[float, PixelLabel]]] = {}
        bands = list(self._artefact_items.values())
        if self.baseline_region.isVisible():
            bands.append(self.baseline_region)
        for band in bands:
            start, end = band.getRegion()
            if band.label is None:
                continue
            if end < x0 or start > x1:
                band.label.setVisible(False)
                continue
            rows_of.setdefault(band.label_row, []).append((max(px(start), 0.0) + LINE_GAP_PX, band.label))
        if not self.baseline_region.isVisible():
            self._baseline_label.setVisible(False)
        for row, entries in rows_of.items():
            for (_, label), slot in zip(entries, layout_rows([a for a, _ in entries],
                                                             [lab.natural_width for _, lab in entries], w, 1),
                                        strict=True):
                if slot is None:
                    label.setVisible(False)
                    continue
                label.set_width(slot.width)
                label.setPos(slot.left, h - EDGE_PX - (row + 1) * label.height)
                label.setVisible(True)

    def _marker_layout(self, x0: float, x1: float, w: float, h: float) -> tuple[list[_MarkerGroup], list, int]:
        """The markers in view as label groups (marks closer than CLUSTER_PX share one label:
        "Injection +2"), their slots (rows from the top, at most about 40 % of the height) and
        the rows used. Changes nothing (the y range asks it too)."""
        if not (self.marker_labels and x1 > x0 and w > 0):
            return [], [], 0
        some = next(iter(self.marker_labels.values()))
        rows = max(1, min(MAX_MARKER_ROWS, int(0.4 * h // some.height)))
        at = {mid: (self._marker_lines[mid].value() - x0) * w / (x1 - x0) for mid in self.marker_labels
              if x0 <= self._marker_lines[mid].value() <= x1}
        clusters: list[list[int]] = []
        for mid in sorted(at, key=lambda k: (at[k], k)):
            if clusters and at[mid] - at[clusters[-1][0]] <= CLUSTER_PX:
                clusters[-1].append(mid)
            else:
                clusters.append([mid])
        groups = [self._marker_group(members) for members in clusters]
        slots = layout_rows([at[c[0]] + LINE_GAP_PX for c in clusters],
                            [some.width_of(g.text) for g in groups], w, rows)
        return groups, slots, max((s.row + 1 for s in slots if s is not None), default=0)

    def _marker_group(self, members: list[int]) -> _MarkerGroup:
        """One label for marks at (nearly) one pixel: the most telling one's text, "+N" for the
        others, and every one's whole text in the tooltip."""
        seen = self._marker_seen
        shown = min(members, key=lambda mid: (_LABEL_PRIORITY.get(seen[mid].kind, 9), seen[mid].session_s, mid))
        text = _marker_text(seen[shown])
        if len(members) > 1:
            text = f"{text} +{len(members) - 1}"
        tips = [self._marker_lines[mid].toolTip() for mid in [shown] + [m for m in members if m != shown]]
        return _MarkerGroup(shown, text, "\n\n".join(tips))

    def label_items(self) -> list[PixelLabel]:
        """Every label on the plot now shown (markers' and bands')."""
        bands = [b.label for b in (*self._artefact_items.values(), self.baseline_region) if b.label is not None]
        return [lab for lab in (*self.marker_labels.values(), *bands) if lab.isVisible()]

    def set_markers(self, markers: list[Marker]) -> None:
        ids = set()
        for i, m in enumerate(markers):
            mid = m.id if m.id is not None else -(i + 1)
            ids.add(mid)
            line = self._marker_lines.get(mid)
            if line is None:
                colour = theme.MARKER_COLOURS.get(str(m.kind), "#CCCCCC")
                line = pg.InfiniteLine(pos=m.session_s, angle=90, movable=m.id is not None,
                                       pen=pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine),
                                       hoverPen=pg.mkPen("#FFFFFF", width=3))
                line.setZValue(10)
                line.sigPositionChangeFinished.connect(lambda ln, mid=mid: self._marker_dragged(mid, ln))
                self.item.addItem(line, ignoreBounds=True)
                self._marker_lines[mid] = line
                self.marker_labels[mid] = self._pixel_label(_marker_text(m), colour, pixel_size=MARKER_LABEL_PX)
            elif self._marker_seen.get(mid) != m:
                line.setValue(m.session_s)
            if self._marker_seen.get(mid) != m:
                self._set_marker_tooltip(mid, m)
            self._marker_seen[mid] = m
        for mid in list(self._marker_lines):
            if mid not in ids:
                self.item.removeItem(self._marker_lines.pop(mid))
                self._drop_label(self.marker_labels.pop(mid, None))
                self._marker_seen.pop(mid, None)
        self._labels_key = None
        self._place_labels_if_moved()
        self._dirty = True

    def _set_marker_tooltip(self, mid: int, m: Marker) -> None:
        """The marker's label, and its whole text and time (from the injection, m:ss, and in the
        session) as the tooltip of its line and label."""
        when = f"session time {format_session_time(m.session_s)}"
        if self.axis.origin_s:
            when = f"{format_relative(m.session_s - self.axis.origin_s)} from the injection · {when}"
        tip = f"{_marker_text(m, whole=True)}\n{when}"
        self._marker_lines[mid].setToolTip(tip)
        self.marker_labels[mid].set_text(_marker_text(m), tip)
        self._labels_key = None

    def _marker_dragged(self, mid: int, line: pg.InfiniteLine) -> None:
        if mid >= 0:
            self.markerMoved.emit(mid, float(line.value()))

    # ---- drawing ----------------------------------------------------------------------
    def mark_dirty(self) -> None:
        self._dirty = True

    @property
    def dirty(self) -> bool:
        return self._dirty or self._data_dirty

    def _new_data_visible(self) -> bool:
        """Is the data that arrived since the last draw worth a frame yet? At least one pixel of
        new line while following, or one second since the last frame (so a sudden change
        shows within a second); no frame for data outside a freely panned view."""
        x0, x1 = self.vb.viewRange()[0]
        if not self._follow:
            return self._drawn_latest_s < x1
        seconds_per_px = (x1 - x0) / max(1.0, float(self.vb.width()))
        return (self.latest_s - self._drawn_latest_s >= seconds_per_px
                or time.monotonic() - self._last_draw_monotonic >= self.min_frame_interval_s)

    def refresh(self, force: bool = False) -> bool:
        """Push new data to the curves and move the view. Returns True if anything was redrawn."""
        if not (force or self._dirty or (self._data_dirty and self._new_data_visible())):
            return False
        self._dirty = False
        self._data_dirty = False
        self._frame_repainted_line = False
        self._drawn_latest_s = self.latest_s
        self._last_draw_monotonic = time.monotonic()
        if self._follow:
            x0, x1 = self._follow_x_range()
        else:
            x0, x1 = self.vb.viewRange()[0]
        for limb in self.curves:
            if self._follow:
                self._draw_following(limb, x0, x1)
            else:
                self._draw_whole(limb)
        if self.showing_difference:
            self._refresh_difference(x0, x1)
        if self._follow:
            yr = self._with_label_room(self._visible_y(x0, self.latest_s), x0, x1)
            if (x0, x1, *yr) != self._shown_range:
                self._shown_range = (x0, x1, *yr)
                self._setting_range = True
                try:
                    self.vb.setRange(xRange=(x0, x1), yRange=yr, padding=0)
                finally:
                    self._setting_range = False
        self._move_end_labels()
        self._stretch_open_artefacts()
        self._update_grid()
        self._place_labels_if_moved()
        (vx0, vx1), (vy0, vy1) = self.vb.viewRange()
        if self.watermark is not None and self.watermark.isVisible():
            centre = ((vx0 + vx1) / 2, (vy0 + vy1) / 2)
            if centre != self._watermark_at:
                self._watermark_at = centre
                self.watermark.setPos(*centre)
        return True

    def _with_label_room(self, y_range: tuple[float, float], x0: float, x1: float) -> tuple[float, float]:
        """The y range with room at its top for the rows of marker labels the view ``x0``–``x1``
        needs (they would cover the curves), at most a third of the height."""
        h = float(self.vb.height())
        _, _, rows = self._marker_layout(x0, x1, float(self.vb.width()), h)
        if not rows or h <= 0:
            return y_range
        row_h = next(iter(self.marker_labels.values())).height
        room = min(rows * row_h + EDGE_PX, h / 3.0)
        lo, hi = y_range
        return lo, hi + (hi - lo) * room / (h - room)

    def _move_end_labels(self) -> None:
        """Each limb's letter at the end of its line, moved only when the end lands on another
        pixel (or the view changed), and while following only in a frame that repaints the line
        anyway: a move repaints the label, and at 10 Hz the newest reading jumps a few pixels up
        and down within its column most frames (the letter stays within that column's drawing)."""
        view = tuple(self.vb.viewRange()[0]) + tuple(self.vb.viewRange()[1])
        for limb, lab in self.end_labels.items():
            buf = self.buffers[limb]
            if buf.last_value is None or buf.last_t is None:
                continue
            if self._follow and self._tail_still[limb] and lab.isVisible() and self._label_pos[limb] is not None \
                    and self._label_pos[limb][0] == view:
                continue
            key = (view, self._pixel_of(buf.last_t, buf.last_value) or (buf.last_t, buf.last_value))
            if key != self._label_pos[limb]:
                self._label_pos[limb] = key
                lab.setPos(buf.last_t, buf.last_value)
                lab.setVisible(True)

    def _draw_whole(self, limb: Limb) -> None:
        """Free pan/zoom: the whole session (older data thinned, see ui.plot_buffer) in the one
        curve, which pyqtgraph clips and downsamples to whatever view the user picks."""
        buf, curve = self.buffers[limb], self.curves[limb]
        key = ("whole", buf.version)
        if key == self._curve_key.get(limb):  # an unchanged curve is not handed over again
            return
        self._curve_key[limb] = key
        self._settled[limb] = None
        self._tail_still[limb] = False
        if not curve.opts["autoDownsample"]:
            curve.setDownsampling(ds=1, auto=True, method="peak")
        curve.setData(buf.x, buf.y, connect="finite")
        self._set_tail(limb, _EMPTY, _EMPTY, (_EMPTY, _EMPTY))

    def _draw_following(self, limb: Limb, x0: float, x1: float) -> None:
        """Following: only what is in view (plus one point to the left), so a frame costs the
        same with 10 minutes or 8 hours of history. The history (whole blocks of ``ds``
        readings from the first one, about a pixel column each, which pyqtgraph reduces to their
        maximum and minimum) is handed over again only when the view steps, the buffer was
        re-laid out, or the tail has grown past TAIL_MAX_PX / TAIL_MAX_POINTS; every other frame
        changes the few points of the tail."""
        buf, curve = self.buffers[limb], self.curves[limb]
        x, y, n = buf.x, buf.y, len(buf)
        i0 = max(0, int(np.searchsorted(x, x0, side="left")) - 1)
        width_px = max(1.0, float(self.vb.width()))
        view = (buf.layout_version, i0, x0, x1, width_px)
        st = self._settled[limb]
        if (st is None or st[0] != view or n < st[2]
                or n - st[2] > TAIL_MAX_POINTS
                or (n > st[2] and x[n - 1] - x[st[2]] > TAIL_MAX_PX * (x1 - x0) / width_px)):
            ds = _block_size(x[i0:n], x1 - x0, width_px)
            h = i0 + (n - i0) // ds * ds
            if curve.opts["autoDownsample"] or curve.opts["downsample"] != ds:
                curve.setDownsampling(ds=ds, auto=False, method="peak")
            curve.setData(x[i0:h], y[i0:h], connect="finite")
            st = self._settled[limb] = (view, ds, h)
            self._curve_key[limb] = None
        _, ds, h = st
        key = (st, n)
        if key != self._tail_key[limb]:
            tx, ty = _tail_line(x, y, i0, h, n, ds)
            self._set_tail(limb, tx, ty, (x[h:n].copy(), y[h:n].copy()), st)
            self._tail_key[limb] = key

    def _set_tail(self, limb: Limb, tx: np.ndarray, ty: np.ndarray, raw: tuple[np.ndarray, np.ndarray],
                  settled: tuple | None = None) -> None:
        tail = self.tails[limb]
        if tx.size == 0 and self._tail_raw[limb][0].size == 0 and tail.xData is not None:
            return
        self._tail_raw[limb] = raw
        self._tail_key[limb] = None
        view = self._view_px()
        x0, x1, y0, y1, w, h = view
        pixel = ((x1 - x0) / max(1.0, w), (y1 - y0) / max(1.0, h))
        repaint = self._tail_shows_more(limb, tx, ty, (settled, view))
        self._tail_still[limb] = not repaint
        self._frame_repainted_line = self._frame_repainted_line or repaint
        tail.setData(tx, ty, pixel=pixel, repaint=repaint)

    def _tail_shows_more(self, limb: Limb, tx: np.ndarray, ty: np.ndarray, key: tuple) -> bool:
        """Would the tail's new vertices change a pixel on screen? Not if the tail only grew by
        readings in the pixel column its last painted vertex is in, each on a row that column
        already shows (at 10 Hz a 40-minute view has 10-30 readings a column, most of them inside
        what is drawn there): the data is handed over but nothing repainted."""
        painted = self._painted[limb]
        x0, x1, y0, y1, w, h = key[1]
        if not (x1 > x0 and y1 > y0 and tx.size):
            self._painted[limb] = None
            return True
        cols = np.floor((tx - x0) * (w / (x1 - x0)))
        rows = np.floor((ty - y0) * (h / (y1 - y0)))
        if painted is not None and painted[0] == key and tx.size >= painted[1]:
            k, col, rmin, rmax, last = painted[1:]
            new_rows = rows[k:]
            same_start = tx[k - 1] == last[0] and (ty[k - 1] == last[1] or (math.isnan(ty[k - 1]) and math.isnan(last[1])))
            if (same_start and np.all(cols[k:] == col) and np.all(np.isfinite(new_rows))
                    and (new_rows.size == 0 or (new_rows.min() >= rmin and new_rows.max() <= rmax))):
                return False
        # Painted now: remember the last vertex's column and the rows drawn in it.
        col = cols[-1]
        j = tx.size
        while j > 0 and cols[j - 1] == col and math.isfinite(ty[j - 1]):
            j -= 1
        span = rows[j:]
        rmin, rmax = (float(span.min()), float(span.max())) if span.size else (math.inf, -math.inf)
        self._painted[limb] = (key, tx.size, col, rmin, rmax, (float(tx[-1]), float(ty[-1])))
        return True

    @property
    def readings_already_shown(self) -> bool:
        """The last drawn frame handed its new readings to the lines without repainting them:
        they fell on pixels the lines already covered, so they were on screen at that frame."""
        return not self._frame_repainted_line

    def drawn_line(self, limb: Limb) -> tuple[np.ndarray, np.ndarray]:
        """The readings the limb's line is drawn from, as they were last handed over: the
        history curve's data followed by the live tail's (the whole line: the full buffer while
        panning freely; what is in view, from one point to its left, while following)."""
        hx, hy = self.curves[limb].getOriginalDataset()
        tx, ty = self._tail_raw[limb]
        if hx is None:
            return tx, ty
        return np.concatenate((hx, tx)), np.concatenate((hy, ty))

    def displayed_line(self, limb: Limb) -> tuple[np.ndarray, np.ndarray]:
        """The vertices drawn for the limb's line: the history's (after pyqtgraph's clipping and
        downsampling) then the tail's, without the tail's first vertex (the history's last)."""
        hx, hy = self.curves[limb].getData()
        tx, ty = self.tails[limb].getData()
        hx = np.empty(0) if hx is None else hx
        hy = np.empty(0) if hy is None else hy
        if tx is None or tx.size == 0:
            return hx, hy
        if hx.size:
            tx, ty = tx[1:], ty[1:]
        return np.concatenate((hx, tx)), np.concatenate((hy, ty))

    def _stretch_open_artefacts(self) -> None:
        """A band still going on is stretched to the newest reading when its right edge lands on
        another pixel column. Its rectangle already reaches the view's right edge, so a stretch
        repaints only the newly covered columns, not the whole band."""
        if not self._open_artefacts:
            return
        at = self._pixel_of(self.latest_s, 0.0)
        px = None if at is None else at[0]
        (vx0, vx1), _ = self.vb.viewRange()
        for start, item in self._open_artefacts:
            key = (start, px, vx0, vx1)
            if px is None or item.drawn_key != key:
                item.drawn_key = key
                item.setRegion((start, self.latest_s), reach=vx1)

    def _pixel_of(self, x: float, y: float) -> tuple[int, int] | None:
        """The view's pixel (column, row from the bottom) at a point in data coordinates: a
        move within one pixel changes nothing on screen, so is not worth a repaint."""
        (vx0, vx1), (vy0, vy1) = self.vb.viewRange()
        if not (vx1 > vx0 and vy1 > vy0 and math.isfinite(x) and math.isfinite(y)):
            return None
        return (math.floor((x - vx0) * float(self.vb.width()) / (vx1 - vx0) + 0.5),
                math.floor((y - vy0) * float(self.vb.height()) / (vy1 - vy0) + 0.5))

    def _refresh_difference(self, x0: float, x1: float) -> None:
        if self.difference_source is None:
            return
        series = self.difference_source()
        # Up to the plot's newest time: a review replaying a finished session shows the
        # difference only as far as the replay has got.
        end = int(np.searchsorted(series.t_s, self.latest_s, side="right"))
        t, d = series.t_s[:end], series.di_minus_dc_c[:end]
        self._label_difference(bool(series.relative_to_baseline))
        i0 = max(0, int(np.searchsorted(t, x0, side="left")) - 1) if self._follow else 0
        i1 = int(np.searchsorted(t, x1, side="right"))
        seen = d[max(i0, 0):i1]
        seen = seen[np.isfinite(seen)]
        lo, hi = (float(seen.min()), float(seen.max())) if seen.size else (-1.0, 1.0)
        marks = [0.0] + ([self._threshold_c] if self.diff_threshold.isVisible() else [])
        lo, hi = min(lo, *marks), max(hi, *marks)
        lo, hi = math.floor(lo - 0.25), math.ceil(hi + 0.25)
        # The series is recomputed at its recent end and after a baseline change: compare the
        # last values too, not only the length.
        key = (t.size, i0, t[-1:].tobytes(), d[-8:].tobytes(), series.relative_to_baseline, lo, hi)
        if key == self._diff_key:
            return
        self._diff_key = key
        # Copies: the pipeline's views are valid only until its next call.
        self.diff_curve.setData(np.array(t[i0:]), np.array(d[i0:]), connect="finite")
        if (lo, hi) != self._diff_y:  # a new range redraws the axis too: only when it changes
            self._diff_y = (lo, hi)
            self.diff_widget.getPlotItem().getViewBox().setYRange(lo, hi, padding=0.05)

    def _follow_x_range(self) -> tuple[float, float]:
        """The window follows in steps of 1/20 of its width: the axes change every few minutes,
        not every frame, and the newest reading stays in the right-hand part of the view."""
        width = self.follow_window_s
        step = width / 20.0
        end = max(self.latest_s, 60.0)
        x1 = math.ceil((end + 0.04 * width) / step) * step
        x0 = max(0.0, x1 - width * 1.06)
        return x0, x1

    def _update_grid(self) -> None:
        """Major ticks only, one opaque path: a grid drawn by the axes (with alpha, every tick
        level) costs more to paint than both curves."""
        (x0, x1), (y0, y1) = self.vb.viewRange()
        key = (round(x0, 3), round(x1, 3), round(y0, 3), round(y1, 3), self.axis.origin_s)
        if key == self._grid_key:
            return
        self._grid_key = key
        width = max(1, int(self.vb.width()))
        height = max(1, int(self.vb.height()))
        xs = _major(self.axis.tickValues(x0, x1, width))
        ys = _major(self.item.getAxis("left").tickValues(y0, y1, height))
        px: list[float] = []
        py: list[float] = []
        for x in xs:
            px += [x, x]
            py += [y0 - 1e3, y1 + 1e3]
        for y in ys:
            px += [x0 - 1e6, x1 + 1e6]
            py += [y, y]
        self.grid.setData(np.asarray(px, float), np.asarray(py, float), connect="pairs")

    def _visible_y(self, x0: float, x1: float) -> tuple[float, float]:
        lo, hi = math.inf, -math.inf
        for buf in self.buffers.values():
            # Following, the view ends at the newest reading: scan on from the last frame.
            r = buf.range_from(x0) if x1 >= self.latest_s else buf.visible_range(x0, x1)
            if r:
                lo, hi = min(lo, r[0]), max(hi, r[1])
        if not math.isfinite(lo):
            return self._y_range or (20.0, 36.0)
        # Whole degrees with a margin, at least 4 °C tall; only grow/shrink in 1 °C steps so the
        # view does not twitch with every reading.
        lo = math.floor(lo - 0.5)
        hi = math.ceil(hi + 0.5)
        if hi - lo < 4:
            mid = (hi + lo) / 2
            lo, hi = math.floor(mid - 2), math.ceil(mid + 2)
        # A little room above and below so the whole-degree tick labels at the edges are not cut.
        pad = 0.03 * (hi - lo)
        self._y_range = (float(lo) - pad, float(hi) + pad)
        return self._y_range

    def show_everything(self) -> None:
        """Zoom out to the whole session (leaves follow mode)."""
        self.set_follow(False)
        end = max(self.latest_s, 60.0)
        self._setting_range = True
        try:
            self.vb.setRange(xRange=(0.0, end * 1.03), yRange=self._visible_y(0.0, end), padding=0)
        finally:
            self._setting_range = False
        self.refresh(force=True)


_EMPTY = np.empty(0)
# While following, the history is handed to pyqtgraph again once the live tail would span more
# than this many pixel columns or readings (a bigger tail: more to redraw every frame; a
# smaller one: the whole line handed over and repainted more often).
TAIL_MAX_PX = 24.0
TAIL_MAX_POINTS = 400


def _block_size(x: np.ndarray, view_s: float, width_px: float) -> int:
    """Readings per downsampling block, as pyqtgraph's auto-downsampling picks it (factor 1):
    about one pixel column each at the mean spacing of the readings in view."""
    if x.size < 2:
        return 1
    dx = float(x[-1] - x[0]) / (x.size - 1)
    if not dx > 0:
        return 1
    ds = view_s / dx / width_px
    return int(ds) if math.isfinite(ds) and ds >= 1.0 else 1


def _tail_line(x: np.ndarray, y: np.ndarray, i0: int, h: int, n: int, ds: int) -> tuple[np.ndarray, np.ndarray]:
    """The live tail for history ``[i0, h)`` reduced in blocks of ``ds``: it starts at the
    history's last drawn vertex (so the two join without a seam), then the readings from ``h``:
    whole blocks reduced as pyqtgraph's peak downsampling reduces the history's (maximum then
    minimum, at the block's middle reading's time), and the newest partial block as it came."""
    m = (n - h) // ds * ds if ds > 1 else 0
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    if h > i0:
        if ds > 1:
            xs.append(x[h - ds + ds // 2: h - ds + ds // 2 + 1])
            ys.append(np.min(y[h - ds: h], keepdims=True))  # NaN if the block has a gap, as drawn
        else:
            xs.append(x[h - 1: h])
            ys.append(y[h - 1: h])
    if m:
        blocks = y[h: h + m].reshape(-1, ds)
        xs.append(np.repeat(x[h + ds // 2: h + m: ds], 2))
        ys.append(np.column_stack((blocks.max(axis=1), blocks.min(axis=1))).reshape(-1))
    xs.append(x[h + m: n])
    ys.append(y[h + m: n])
    return np.concatenate(xs), np.concatenate(ys)


@dataclass(frozen=True)
class _MarkerGroup:
    shown: int  # the marker whose label carries the group
    text: str
    tooltip: str


# Which mark's label a group of marks at one pixel shows (the others are "+N" and in its tooltip).
_LABEL_PRIORITY = {MarkerKind.INJECTION: 0, MarkerKind.BASELINE: 1, MarkerKind.NEEDLE: 2,
                   MarkerKind.PROBE_CHECKED: 3, MarkerKind.NOTE: 4}


def _marker_text(m: Marker, whole: bool = False) -> str:
    """The marker's label (a long note is elided on the plot, whole in its tooltip)."""
    if m.kind is MarkerKind.NOTE and m.text:
        return f"Note: {m.text}" if whole else f"Note: {m.text}"[:80]
    if m.kind is MarkerKind.PROBE_CHECKED:
        return f"{m.text.capitalize()} probe checked"
    return m.kind.label


def _major(levels) -> list[float]:
    return list(levels[0][1]) if levels else []


def _adopt_menus(item: pg.PlotItem, owner: QWidget) -> None:
    """pyqtgraph's PlotItem keeps its options menu and their state group without a Qt parent, so
    they outlived the window until PyQt's sweep at the QApplication's release, which deleted them
    (and, through their slots, the plot's wrappers) while walking every wrapper: a crash now and
    then at exit. Owned by the plot, they go with it."""
    item.ctrlMenu.setParent(owner, item.ctrlMenu.windowFlags())
    item.stateGroup.setParent(owner)


def _paint_opaque(widget: pg.PlotWidget) -> None:
    """The plot paints its whole area itself: say so, and Qt no longer repaints the window, the
    splitters and the stylesheet backgrounds under it on every frame (a quarter of a frame)."""
    widget.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
    widget.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)


def _cache_text(item: pg.TextItem) -> None:
    """Draw a label's text once into a pixmap and reuse it while only its position changes:
    laying out text on every frame cost more than both curves (the 90-px SIMULATED alone
    about a third of a frame's painting)."""
    item.textItem.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def _cache_pixels(item: QGraphicsItem) -> None:
    """Keep the item's drawing as pixels on the device, redrawn only when the item changes or
    the view moves: a repaint of part of it (for something drawn over or beside it) is a copy."""
    item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
