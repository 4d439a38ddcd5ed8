"""The plot readable when small (200 px tall): no legend over the curves, the y title whole, both
axes shown; times on the axis as m:ss from the injection ("+20:24"), as everywhere else."""

from __future__ import annotations

import re

import numpy as np
import pyqtgraph as pg
import pytest
from PyQt6.QtGui import QImage, QPainter
from PyQt6.QtWidgets import QApplication

from monitor.model import Limb
from monitor.pipeline.timefmt import format_session_time
from ui.plot import SessionPlot

MMSS = re.compile(r"^[+-]?\d+:\d\d(:\d\d)?$")


def _small_plot(qtbot, width: int = 700, height: int = 200) -> SessionPlot:
    plot = SessionPlot(follow_window_s=40 * 60.0)
    qtbot.addWidget(plot)
    plot.resize(width, height)
    plot.show()
    plot.set_simulated(True)
    t = np.round(np.arange(0.0, 2400.0, 0.5), 1)
    plot.append(Limb.LEFT, t, 30.0 + 4.0 / (1.0 + np.exp(-(t - 1500.0) / 90.0)))
    plot.append(Limb.RIGHT, t, 30.5 + 0.2 * np.sin(t / 300.0))
    plot.set_origin(1200.0)
    plot.refresh(force=True)
    QApplication.processEvents()
    return plot


@pytest.mark.parametrize("width", [700, 480])
def test_a_200_px_plot_keeps_its_curves_uncovered_and_its_axes_and_titles_whole(qtbot, width):
    plot = _small_plot(qtbot, width=width)
    assert plot.height() == 200
    scene_rect = plot.widget.mapToScene(plot.widget.viewport().rect()).boundingRect()
    data_area = plot.vb.sceneBoundingRect()
    # Nothing of a legend inside the data area (it covered the curves at this size).
    for item in plot.widget.scene().items():
        if isinstance(item, pg.LegendItem) and item.isVisible():
            assert not item.sceneBoundingRect().intersects(data_area)
    # Both axes shown, with at least two tick labels each, every one drawn whole inside the widget.
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        for name in ("left", "bottom"):
            axis = plot.item.getAxis(name)
            assert axis.isVisible()
            assert scene_rect.contains(axis.mapRectToScene(axis.rect()))
            _, _, texts = axis.generateDrawSpecs(painter)
            assert len(texts) >= 2, name
            for rect, _, text in texts:
                assert scene_rect.contains(axis.mapRectToScene(rect)), (name, text)
    finally:
        painter.end()
    # The titles whole, inside the widget (the y title was cut at the top and bottom).
    for name in ("left", "bottom"):
        title = plot.item.getAxis(name).label
        assert title.isVisible()
        m = title.document().documentMargin()  # blank space around the text inside the item
        drawn = title.sceneBoundingRect().adjusted(m, m, -m, -m)
        assert scene_rect.contains(drawn), (name, drawn, scene_rect)
    assert "°C" in plot.y_axis_title
    assert "m:ss" in plot.item.getAxis("bottom").labelText
    assert data_area.height() >= 120  # most of the 200 px is data


def test_the_time_axis_reads_mss_from_the_injection(qtbot):
    plot = _small_plot(qtbot, width=900, height=320)
    axis = plot.axis
    (x0, x1) = plot.vb.viewRange()[0]
    levels = axis.tickValues(x0, x1, plot.vb.width())
    values = [v for _, vs in levels for v in vs]
    strings = axis.tickStrings(values, 1.0, levels[0][0])
    assert strings and all(MMSS.match(s) for s in strings), strings
    assert "+5:00" in strings and "0:00" in strings and "-5:00" in strings
    spacing = levels[0][0]
    assert all(abs(((v - 1200.0) / spacing) - round((v - 1200.0) / spacing)) < 1e-6 for v in values)
    assert axis.tickStrings([1200.0 + 1224.0], 1.0, 60.0) == ["+20:24"]
    assert axis.tickStrings([1200.0 + 3725.0], 1.0, 600.0) == ["+1:02:05"]
    # Zoomed in to seconds: still m:ss, on round seconds.
    assert axis.tickStrings([1200.0 + 30.0, 1200.0 - 15.0], 1.0, 15.0) == ["+0:30", "-0:15"]
    # Before an injection is marked: session time, m:ss, no sign.
    plot.set_origin(0.0)
    assert axis.tickStrings([0.0, 1500.0], 1.0, 300.0) == [format_session_time(0.0), "25:00"]
    assert "session time (m:ss)" in axis.labelText
