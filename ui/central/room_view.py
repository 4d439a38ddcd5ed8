"""One room's last 60 minutes at the central: both feet, Di − Dc and the markers, as published.

Drawn with pyqtgraph from the room's :class:`monitor.central.RoomHistory` (the station's smoothed
readings, its own Di − Dc, its markers) and the confirmation time of its verdict: nothing is
recomputed. The x axis is minutes since the
injection (session minutes before one). The central only shows: no silencing, no markers here.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from monitor.central import Communication, Room
from monitor.model import Limb
from ui import theme
from ui.central.tile import NO_COMMUNICATION, tile_text
from ui.plot import SessionTimeAxis


def _font(px: int, bold: bool = False) -> QFont:
    f = QFont()
    f.setPixelSize(px)
    f.setBold(bold)
    return f


def _style_axes(plot: pg.PlotItem) -> None:
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setTextPen(pg.mkPen(theme.TEXT))
        axis.setPen(pg.mkPen("#6A7078"))
    plot.showGrid(x=True, y=True, alpha=0.25)


class RoomView(QWidget):
    """The selected room's 60 minutes; ``closed`` when the user goes back to every room."""

    closed = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.room: Room | None = None
        self.back = QPushButton("◀  All rooms (Esc)")
        self.back.setFont(_font(16, bold=True))
        self.back.clicked.connect(self.closed)
        self.title = QLabel("")
        self.title.setFont(_font(26, bold=True))
        self.status = QLabel("")
        self.status.setFont(_font(18, bold=True))
        self.status.setWordWrap(True)
        head = QHBoxLayout()
        head.addWidget(self.back)
        head.addSpacing(12)
        head.addWidget(self.title)
        head.addStretch(1)

        self.axis = SessionTimeAxis(orientation="bottom")
        self.feet_widget = pg.PlotWidget(axisItems={"bottom": self.axis}, background=theme.BACKGROUND)
        feet_plot = self.feet_widget.getPlotItem()
        _style_axes(feet_plot)
        feet_plot.setLabel("left", "°C")
        feet_plot.addLegend(offset=(10, 10), labelTextColor=theme.TEXT)
        self.curves: dict[Limb, pg.PlotDataItem] = {}
        for limb in Limb:
            pen = pg.mkPen(QColor(theme.LIMB_COLOURS[limb]), width=2, cosmetic=True)
            self.curves[limb] = feet_plot.plot([], [], pen=pen, connect="finite",
                                               name=f"{limb.letter} {theme.limb_name(limb).lower()} foot")
        self.diff_axis = SessionTimeAxis(orientation="bottom")
        self.diff_widget = pg.PlotWidget(axisItems={"bottom": self.diff_axis}, background=theme.BACKGROUND)
        diff_plot = self.diff_widget.getPlotItem()
        _style_axes(diff_plot)
        diff_plot.setLabel("left", "Di − Dc °C")
        diff_plot.setXLink(feet_plot)
        diff_plot.addLine(y=0.0, pen=pg.mkPen("#6A7078", width=1, style=Qt.PenStyle.DashLine))
        self.diff_curve = diff_plot.plot([], [], pen=pg.mkPen(QColor(theme.DIFFERENCE_COLOUR), width=2,
                                                               cosmetic=True), connect="finite")
        self.x_label = QLabel("")
        self.x_label.setStyleSheet(f"color: {theme.TEXT_DIM};")
        self._marker_items: list[pg.InfiniteLine] = []
        self._shown_markers: tuple = ()

        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 10, 12, 10)
        lay.addLayout(head)
        lay.addWidget(self.status)
        lay.addWidget(self.feet_widget, 3)
        lay.addWidget(self.diff_widget, 2)
        lay.addWidget(self.x_label)

    # ---- what it shows -------------------------------------------------------------------
    def show_room(self, room: Room) -> None:
        self.room = room
        t = tile_text(room, show_site=True)  # a room alone on the screen says its site
        self.title.setText(f"{t.name}   {t.side}")
        if room.communication is Communication.NO_COMMUNICATION:
            status = f"{NO_COMMUNICATION}: {t.no_communication}"
            self.status.setStyleSheet(f"color: {theme.ALARM_MEDIUM};")
        else:
            feet = "   ".join(f"{limb.letter} {f.celsius} ({f.rise})" for limb, f in t.feet.items())
            status = "   ·   ".join(p for p in (t.verdict, feet, t.difference, *t.alarms) if p)
            self.status.setStyleSheet(f"color: {theme.TEXT};")
        self.status.setText(status)
        self.refresh()

    def refresh(self) -> None:
        """Draw the room's history as it is now (called when the room changed)."""
        room = self.room
        if room is None:
            return
        history = room.history
        origin = room.state.injection_s if room.state is not None and room.state.injection_s is not None else 0.0
        for axis in (self.axis, self.diff_axis):
            axis.origin_s = origin
        for limb, curve in self.curves.items():
            series = history.foot(limb)
            curve.setData(series.t, series.value)
        diff = history.difference()
        self.diff_curve.setData(diff.t, diff.value)
        self._draw_markers(history.markers(), self._confirmed_at(room))
        newest = history.newest_s
        if newest is not None:
            self.feet_widget.setXRange(max(0.0, newest - history.window_s), newest, padding=0.01)
            self._fit_y(self.feet_widget, [history.foot(limb).value for limb in Limb], 1.0)
            self._fit_y(self.diff_widget, [diff.value], 0.5, include_zero=True)
        since = "minutes since the injection" if origin else "session minutes"
        before = (" (before this central heard the room: the station's history)"
                  if any(history.seeded(limb) for limb in Limb) else "")
        self.x_label.setText(f"Last 60 minutes as the station published them{before} · x: {since}")

    @staticmethod
    def _fit_y(widget: pg.PlotWidget, values: list[np.ndarray], pad: float, include_zero: bool = False) -> None:
        finite = [v[np.isfinite(v)] for v in values]
        finite = [v for v in finite if len(v)]
        if not finite:
            return
        lo = min(float(v.min()) for v in finite)
        hi = max(float(v.max()) for v in finite)
        if include_zero:
            lo, hi = min(lo, 0.0), max(hi, 0.0)
        widget.setYRange(lo - pad, hi + pad, padding=0)

    @staticmethod
    def _confirmed_at(room: Room) -> float | None:
        """When the station's core confirmed the block (its verdict), to mark on the plot."""
        if room.state is None or room.state.verdict.state != "confirmed":
            return None
        return room.state.verdict.confirmed_at_s

    def _draw_markers(self, markers: list, confirmed_at_s: float | None = None) -> None:
        wanted = tuple((m.session_s, m.kind, m.label) for m in markers)
        if confirmed_at_s is not None:
            wanted += ((confirmed_at_s, "confirmed", "Block CONFIRMED"),)
        if wanted == self._shown_markers:
            return
        self._shown_markers = wanted
        plot = self.feet_widget.getPlotItem()
        for item in self._marker_items:
            plot.removeItem(item)
        self._marker_items = []
        for at, kind, label in wanted:
            colour = theme.INFO_COLOUR if kind == "confirmed" else theme.MARKER_COLOURS.get(kind, theme.TEXT_DIM)
            line = pg.InfiniteLine(pos=at, angle=90, pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine),
                                   label=label, labelOpts={"color": colour, "position": 0.95,
                                                           "anchors": [(0, 0), (0, 0)]})
            plot.addItem(line)
            self._marker_items.append(line)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.key() == Qt.Key.Key_Escape:
            self.closed.emit()
            return
        super().keyPressEvent(event)
