"""The banner says what the core is doing at each step: a call to mark the injection, a
criterion being held, and a confirmation that names its criterion, hold and source."""

from __future__ import annotations


def test_a_captured_baseline_without_an_injection_asks_for_the_mark(demo):
    window = demo(auto_injection=False)
    window.advance_to(420)
    assert str(window.session.snapshot().verdict.state) == "baseline_captured"
    assert "press I when the drug goes in" in window.banner.title.text()


def test_a_criterion_being_held_shows_how_long_it_has_held(demo):
    window = demo()
    window.advance_to(1010, step_s=1.0)
    held, needed = window.session.snapshot().holding
    assert 0 < held < needed == 60.0
    assert window.banner.title.text().startswith(f"Criteria met, holding 0:{int(held):02d} of 1:00")


def test_the_confirmation_names_its_criterion_hold_and_source(demo):
    window = demo()
    window.advance_to(1200)
    assert window.banner.title.text() == "BLOCK CONFIRMED at +9:16 after the injection"
    detail = window.banner.detail.text()
    assert "ΔTb ≥ 2.0 °C" in detail and "held 60 s" in detail and "Park/Nahm et al., Anaesthesia 2010" in detail
    assert window.session.snapshot().holding is None


def test_a_long_detail_is_one_elided_line_with_the_whole_text_in_its_tooltip(qtbot):
    from ui.banner import StatusBanner

    banner = StatusBanner()
    qtbot.addWidget(banner)
    banner.resize(700, 120)
    banner.show()
    long = "Flagged now: R probe lifted (left out of baseline and criteria)  ·  " + "Monitoring against the baseline " * 5
    banner.set_status("monitoring", "Monitoring", long, None)
    qtbot.wait(10)
    shown = super(type(banner.detail), banner.detail).text()
    assert banner.detail.text() == long and banner.detail.toolTip() == long
    assert shown.endswith("…") and len(shown) < len(long)
    assert banner.detail.sizeHint().height() < 2 * banner.detail.fontMetrics().height()  # one line
