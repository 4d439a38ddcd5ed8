"""The window over the attempt model: a Baseline after the injection asks first and starts
attempt 2, shown in the banner's title; a late injection mark gets the core's plain warning and
the marker dialog comes pre-filled with the time the foot began to warm."""

from __future__ import annotations

import pytest
from PyQt6.QtWidgets import QMessageBox

from monitor.model import Limb, MarkerKind


def test_a_baseline_after_a_confirmation_starts_attempt_2_and_the_banner_says_so(demo, monkeypatch):
    window = demo()
    window.advance_to(1200)
    assert window.banner.title.text().startswith("BLOCK CONFIRMED")
    # Not visible (offscreen, never shown): no question can be asked, so nothing is marked.
    window.mark(MarkerKind.BASELINE)
    assert "New baseline for a repeat injection?" in window.status_label.text()
    assert window.session.snapshot().attempt == 1
    asked = []
    monkeypatch.setattr(window, "isVisible", lambda: True)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[1]) or QMessageBox.StandardButton.Yes)
    window.mark(MarkerKind.BASELINE)
    assert asked == ["New baseline for a repeat injection?"]
    window.advance_to(1400)
    snap = window.session.snapshot()
    assert snap.attempt == 2 and snap.verdict.state != "confirmed"
    title = window.banner.title.text()
    assert title.startswith("Attempt 2 · ") and "CONFIRMED" not in title and "press I" in title
    assert "attempt 1: confirmed at" in window.banner.detail.text()


def test_a_late_injection_mark_is_warned_about_and_the_dialog_offers_the_earlier_time(demo, qtbot):
    from ui.marker_dialog import MarkerDialog

    window = demo(auto_injection=False)
    # The simulated physician injects at its suggested time; the mark comes 7.5 minutes late,
    # when the foot (warming from about 4 minutes after the injection) is already 1 °C up.
    real = window.session.source.suggested_injection_s
    window.advance_to(real + 450)
    window.mark(MarkerKind.INJECTION)
    late = window.session.snapshot().late_injection
    assert late is not None and real < late.warming_since_s < real + 400
    text = window.status_label.text()
    assert "The blocked foot was already warming at" in text and "was the injection earlier?" in text
    assert late.words in window.banner.detail.text() or late.words in window.banner.detail.toolTip()
    dialog = MarkerDialog(window.session, window)
    qtbot.addWidget(dialog)
    assert dialog.session_seconds() == pytest.approx(late.warming_since_s, abs=0.5)
    dialog.accept()
    [moved] = [m for m in window.session.markers if m.kind is MarkerKind.INJECTION]
    assert moved.session_s == pytest.approx(late.warming_since_s, abs=1.0)
    assert window.session.snapshot().late_injection is None
    base = window.session.pipeline.baselines[Limb.LEFT]
    assert base.window_end_s == pytest.approx(moved.session_s), "the baseline is taken from before that time"
