"""While following live, a frame changes only a small part of the plot: an open artefact band grows
without repainting all of itself, and the limb letters move only when the line's end moves a pixel."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from PyQt6.QtCore import QRectF
from PyQt6.QtGui import QColor, QImage, QPainter

from monitor.model import Limb
from ui.plot import BandItem, SessionPlot


def _live_plot(qtbot, seconds: float = 120.0) -> SessionPlot:
    plot = SessionPlot(follow_window_s=600.0)
    qtbot.addWidget(plot)
    plot.resize(900, 500)
    plot.show()
    plot.min_frame_interval_s = 0.0
    t = np.round(np.arange(0.0, seconds, 0.1), 1)
    for limb in Limb:
        plot.append(limb, t, np.full(t.size, 30.0 + (1.0 if limb is Limb.RIGHT else 0.0)))
    plot.refresh(force=True)
    return plot


def test_an_open_band_keeps_its_rectangle_while_it_grows_and_shrinks_to_its_end_when_closed():
    band = BandItem(10.0, 12.0, QColor(200, 0, 0, 80))
    band.setRegion((10.0, 13.0), reach=100.0)  # open: the rectangle reaches the view's right edge
    reached = band.boundingRect()
    assert reached.left() == 10.0 and reached.right() == 100.0
    band.setRegion((10.0, 14.5), reach=100.0)  # grows: same rectangle (only new columns repainted)
    assert band.boundingRect() == reached
    assert band.getRegion() == (10.0, 14.5)
    band.setRegion((10.0, 15.0))  # closed
    assert band.boundingRect().right() == 15.0 and band.getRegion() == (10.0, 15.0)


def test_a_band_paints_from_its_start_to_its_end_not_to_its_reach():
    band = BandItem(10.0, 20.0, QColor(255, 0, 0, 255))
    band.setRegion((10.0, 20.0), reach=40.0)
    image = QImage(50, 10, QImage.Format.Format_ARGB32)
    image.fill(QColor(0, 0, 0))
    painter = QPainter(image)
    painter.setClipRect(QRectF(0, 0, 50, 10))
    band.paint(painter)
    painter.end()
    row = [image.pixelColor(x, 5).red() for x in range(50)]
    assert all(row[x] == 255 for x in range(11, 19))
    assert all(row[x] == 0 for x in list(range(0, 9)) + list(range(21, 50)))


def test_an_open_artefact_band_is_stretched_to_the_newest_reading_on_screen(qtbot):
    plot = _live_plot(qtbot)
    seg = SimpleNamespace(limb=Limb.LEFT.value, kind="motion", start_s=60.0, end_s=None)
    plot.set_artefacts([seg])
    t = 120.0
    for _ in range(60):
        t = round(t + 0.5, 1)
        for limb in Limb:
            plot.append(limb, [t], [30.0])
        plot.refresh()
    (band,) = plot._artefact_items.values()
    start, end = band.getRegion()
    assert start == 60.0
    px_s = (plot.vb.viewRange()[0][1] - plot.vb.viewRange()[0][0]) / plot.vb.width()
    assert plot.latest_s - px_s <= end <= plot.latest_s  # within a pixel of the newest reading
    seg.end_s = 130.0
    plot.set_artefacts([seg])
    assert band.getRegion() == (60.0, 130.0)
    assert band.boundingRect().right() == 130.0


def test_a_limb_letter_moves_only_when_the_line_end_moves_a_pixel(qtbot):
    plot = _live_plot(qtbot, seconds=900.0)  # the view its full 10 minutes wide: ~0.8 s a pixel
    moves = {limb: 0 for limb in Limb}
    for limb, lab in plot.end_labels.items():
        set_pos = lab.setPos

        def counting(*args, _set=set_pos, _limb=limb):
            moves[_limb] += 1
            return _set(*args)

        lab.setPos = counting
    t = 900.0
    frames = 0
    for _ in range(40):  # 4 s at 10 Hz, a flat line: about 4 s / (636 s / ~800 px) = 5 px
        t = round(t + 0.1, 1)
        for limb in Limb:
            plot.append(limb, [t], [30.0 if limb is Limb.LEFT else 31.0])
        frames += plot.refresh()
    assert frames == 40
    for limb in Limb:
        assert 1 <= moves[limb] < 20
        x, y = plot.end_labels[limb].pos().x(), plot.end_labels[limb].pos().y()
        px_s = (plot.vb.viewRange()[0][1] - plot.vb.viewRange()[0][0]) / plot.vb.width()
        assert t - 1.01 * px_s <= x <= t  # within a pixel of the line's end
        assert y == (30.0 if limb is Limb.LEFT else 31.0)


def test_a_reading_inside_what_its_pixel_column_shows_is_not_repainted_and_the_screen_stays_right(qtbot):
    """At 10 Hz most new readings fall in the pixel column and rows the line already covers: the
    tail is handed them without a repaint (nor does the limb letter move). What is on screen is
    then exactly what a full repaint draws."""
    from PyQt6.QtWidgets import QApplication

    plot = SessionPlot(follow_window_s=600.0)
    qtbot.addWidget(plot)
    plot.resize(900, 500)
    plot.show()
    plot.min_frame_interval_s = 0.0
    rng = np.random.default_rng(1)
    t = np.round(np.arange(0.0, 900.0, 0.1), 1)
    for limb in Limb:
        plot.append(limb, t, 30.0 + (limb is Limb.RIGHT) + rng.normal(0.0, 0.01, t.size))
    plot.refresh(force=True)
    QApplication.processEvents()
    repaints = {limb: 0 for limb in Limb}
    for limb, tail in plot.tails.items():
        update = tail.update

        def counting(*args, _update=update, _limb=limb):
            repaints[_limb] += 1
            return _update(*args)

        tail.update = counting
    letters = {limb: plot.end_labels[limb].pos() for limb in Limb}
    now = 900.0
    frames = 0
    for _ in range(80):
        now = round(now + 0.1, 1)
        for limb in Limb:
            plot.append(limb, [now], [30.0 + (limb is Limb.RIGHT) + rng.normal(0.0, 0.01)])
        frames += plot.refresh()
        QApplication.processEvents()
    assert frames == 80
    for limb in Limb:
        assert 1 <= repaints[limb] <= 0.75 * frames
        x, _ = plot.drawn_line(limb)
        assert x[-1] == now  # every reading handed over, repainted or not
    assert any(plot.end_labels[limb].pos() != letters[limb] for limb in Limb)
    screen = QApplication.primaryScreen()
    shown = screen.grabWindow(plot.winId()).toImage()
    plot.widget.viewport().update()  # everything drawn again from the data
    QApplication.processEvents()
    assert screen.grabWindow(plot.winId()).toImage() == shown
    # A reading a degree off is repainted at once.
    before = repaints[Limb.LEFT]
    plot.append(Limb.LEFT, [round(now + 0.1, 1)], [31.0])
    plot.refresh()
    assert repaints[Limb.LEFT] == before + 1
