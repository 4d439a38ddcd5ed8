"""Marker and band labels on the live plot: never overlapping, never cut at the plot's edge, long
ones elided with the whole text in a tooltip, laid out again on zoom and resize."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from PyQt6.QtCore import QEvent, QPointF
from PyQt6.QtGui import QHelpEvent
from PyQt6.QtWidgets import QApplication, QToolTip

from monitor.model import Limb, Marker, MarkerKind
from ui.plot import SessionPlot
from ui.plot_labels import EDGE_PX, layout_rows

LONG_NOTE = "patient moved the left foot a lot during the injection"
INJECTION_S = 900.0


def _crowded_plot(qtbot, size=(800, 260)) -> SessionPlot:
    """A 10-minute follow view ending at 20:00: a baseline window from before the view's left edge,
    artefact bands on both feet (one from before the view), and marks a few seconds apart."""
    plot = SessionPlot(follow_window_s=600.0)
    qtbot.addWidget(plot)
    plot.resize(*size)
    plot.show()
    t = np.round(np.arange(0.0, 1200.0, 0.1), 1)
    plot.append(Limb.LEFT, t, 30.0 + 3.0 / (1.0 + np.exp(-(t - 1000.0) / 60.0)))
    plot.append(Limb.RIGHT, t, 31.0 + 0.1 * np.sin(t / 100.0))
    plot.refresh(force=True)
    x0 = plot.vb.viewRange()[0][0]
    plot.set_baseline_window((x0 - 60.0, INJECTION_S - 10.0))
    plot.set_artefacts([SimpleNamespace(limb="left", kind="settling", start_s=x0 - 100.0, end_s=x0 + 30.0),
                        SimpleNamespace(limb="right", kind="settling", start_s=x0 - 100.0, end_s=x0 + 40.0),
                        SimpleNamespace(limb="left", kind="motion", start_s=x0 + 45.0, end_s=x0 + 60.0)])
    plot.set_origin(INJECTION_S)
    plot.set_markers([
        Marker(MarkerKind.BASELINE, x0 + 2.0, id=1),  # at the view's left edge
        Marker(MarkerKind.NOTE, x0 + 6.0, "probe re-taped", id=2),
        Marker(MarkerKind.NEEDLE, INJECTION_S - 25.0, id=3),
        Marker(MarkerKind.INJECTION, INJECTION_S, id=4),
        Marker(MarkerKind.NOTE, INJECTION_S + 4.0, LONG_NOTE, id=5),
        Marker(MarkerKind.PROBE_CHECKED, INJECTION_S + 9.0, "left", id=6),
        Marker(MarkerKind.NOTE, INJECTION_S + 15.0, "second dose drawn up", id=7),
        Marker(MarkerKind.PROBE_CHECKED, 1190.0, "right", id=8),  # at the view's right end
    ])
    plot.refresh(force=True)
    QApplication.processEvents()
    return plot


def _assert_readable(plot: SessionPlot) -> list:
    """Every label shown: inside the view box, overlapping no other label, its text the start of
    its whole text (elided with "…" if shorter). Returns the labels."""
    box = plot.vb.sceneBoundingRect()
    labels = plot.label_items()
    rects = [lab.sceneBoundingRect() for lab in labels]
    for lab, r in zip(labels, rects, strict=True):
        assert r.width() > 0 and r.height() > 0
        assert box.contains(r), (lab.shown_text, r, box)
        shown = lab.shown_text
        assert shown == lab.full_text or (shown.endswith("…") and lab.full_text.startswith(shown[:-1].rstrip()))
    for i in range(len(rects)):
        for j in range(i + 1, len(rects)):
            assert not rects[i].intersects(rects[j]), (labels[i].shown_text, labels[j].shown_text)
    return labels


def test_crowded_marker_labels_are_staggered_elided_and_inside_the_view(qtbot):
    plot = _crowded_plot(qtbot)
    labels = _assert_readable(plot)
    texts = [lab.full_text for lab in labels]
    assert "Baseline start" in texts[0] or any(t.startswith("Baseline start") for t in texts)
    assert any(t.startswith("Injection") for t in texts)
    assert any(t.startswith("Right probe checked") for t in texts)  # at the right end, moved inside
    for band in ("L settling", "R settling", "L motion", "baseline"):
        assert band in texts  # bands begun before the view are labelled from its left edge
    rows = {round(lab.pos().y()) for lab in labels if lab in plot.marker_labels.values()}
    assert len(rows) >= 2  # marks closer than their labels' width: staggered on rows
    # Every mark's whole text and time from the injection (m:ss) in its line's tooltip; a label
    # shared by marks at one pixel names them all in its own.
    note = plot._marker_lines[5].toolTip()
    assert LONG_NOTE in note and "+0:04 from the injection" in note
    for mid, label in plot.marker_labels.items():
        if label.isVisible():
            assert plot._marker_lines[mid].toolTip() in label.toolTip()


def test_labels_are_laid_out_again_on_zoom_and_resize(qtbot):
    plot = _crowded_plot(qtbot)
    # Zoomed in on the injection, as a user would with the mouse: every mark its own label.
    plot.vb.setRange(xRange=(INJECTION_S - 40.0, INJECTION_S + 40.0), padding=0)
    plot.vb.sigRangeChangedManually.emit([True, False])
    plot.refresh()
    QApplication.processEvents()
    labels = _assert_readable(plot)
    mine = [lab for lab in labels if lab in plot.marker_labels.values()]
    assert len(mine) == 5  # needle, injection, the long note, left probe checked, the second note
    assert not any("+" in lab.shown_text.split()[-1] for lab in mine)
    # Narrow and short (200 px tall): still apart and inside, the long note elided.
    plot.resize(420, 200)
    QApplication.processEvents()
    plot.refresh(force=True)
    QApplication.processEvents()
    labels = _assert_readable(plot)
    assert labels


def test_a_labels_tooltip_shows_when_hovering_it(qtbot):
    plot = _crowded_plot(qtbot)
    plot.vb.setRange(xRange=(INJECTION_S - 40.0, INJECTION_S + 40.0), padding=0)
    plot.vb.sigRangeChangedManually.emit([True, False])
    plot.refresh()
    QApplication.processEvents()
    label = plot.marker_labels[5]
    assert label.isVisible() and label.elided
    view = plot.widget
    centre = view.mapFromScene(label.sceneBoundingRect().center())
    event = QHelpEvent(QEvent.Type.ToolTip, centre, view.viewport().mapToGlobal(centre))
    QApplication.sendEvent(view.viewport(), event)
    assert LONG_NOTE in QToolTip.text()
    (y0, y1) = plot.vb.viewRange()[1]
    at = view.mapFromScene(plot.vb.mapViewToScene(QPointF(INJECTION_S, (y0 + y1) / 2)))  # the line, mid-height
    QApplication.sendEvent(view.viewport(), QHelpEvent(QEvent.Type.ToolTip, at, view.viewport().mapToGlobal(at)))
    assert QToolTip.text().startswith("Injection")
    QToolTip.hideText()


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.floats(-50.0, 900.0), st.floats(10.0, 400.0)), max_size=25),
       st.floats(120.0, 1200.0), st.integers(1, 3))
def test_row_layout_never_overlaps_and_stays_inside(labels, width, rows):
    slots = layout_rows([a for a, _ in labels], [w for _, w in labels], width, rows)
    placed = [s for s in slots if s is not None]
    for s in placed:
        assert 0 <= s.row < rows
        assert s.left >= EDGE_PX - 1e-9 and s.left + s.width <= width - EDGE_PX + 1e-9
    for i, a in enumerate(placed):
        for b in placed[i + 1:]:
            if a.row == b.row:
                assert a.left + a.width <= b.left or b.left + b.width <= a.left
    # A lone label is always placed, and where it wanted to be if it fits there.
    if len(labels) == 1:
        anchor, w = labels[0]
        (s,) = slots
        assert s is not None
        if EDGE_PX <= anchor and anchor + s.width <= width - EDGE_PX:
            assert s.left == anchor
