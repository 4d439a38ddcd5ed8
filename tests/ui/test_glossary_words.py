"""The criteria's words (ΔTb, ΔTc, Di − Dc) in the tiles' tooltips, the banner's, the criteria
dialog's and F1 are the one glossary's text (monitor.pipeline.glossary), never a copy that drifts."""

from __future__ import annotations

from PyQt6.QtGui import QFontMetrics
from PyQt6.QtWidgets import QMessageBox, QToolTip

from monitor.model import Limb
from monitor.pipeline import CRITERIA_PRESETS
from monitor.pipeline.glossary import TERMS, glossary_lines
from ui.banner import StatusBanner
from ui.criteria_dialog import CriteriaDialog
from ui.tiles import LimbTile, TileState

GLOSSARY = "\n".join(glossary_lines())
MEANING = dict(TERMS)
WIDEST_TIP_PX = 600  # a tooltip's line: Qt never wraps a plain tooltip, and a screen may be 1024 px


def _words(text: str) -> list[str]:
    return text.split()


def _assert_glossary_tip(tip: str, text: str) -> None:
    """``tip`` says ``text`` word for word, on lines short enough for a small screen."""
    assert _words(tip) == _words(text)
    metrics = QFontMetrics(QToolTip.font())
    widest = max(metrics.horizontalAdvance(line) for line in tip.split("\n"))
    assert widest <= WIDEST_TIP_PX, f"a tooltip line {widest} px wide"
    assert "Di −\n" not in tip and "\nDc" not in tip, "the term stays on one line"


def test_each_tiles_rise_tooltip_is_the_glossarys_text(qtbot):
    for blocked in (True, False):
        tile = LimbTile(Limb.LEFT)
        qtbot.addWidget(tile)
        tile.set_blocked(blocked)
        tile.resize(700, 400)  # room for the whole rise line: the tooltip is the explanation alone
        tile.show()
        qtbot.waitExposed(tile)
        tile.set_state(TileState(celsius=31.2, rise_c=2.4, age_s=1.0, probe_text="probe ok", probe_ok=True))
        assert not tile.rise_label.shown_text().endswith("…")
        _assert_glossary_tip(tile.rise_label.toolTip(), GLOSSARY)
        assert tile.rise_label.toolTip().split("\n")[:2] == glossary_lines()[:2], "one term a line"


def test_the_banners_difference_tooltip_is_the_glossarys_text(qtbot):
    banner = StatusBanner()
    qtbot.addWidget(banner)
    banner.set_status("monitoring", "Monitoring", "", 1.2)
    _assert_glossary_tip(banner.diff.toolTip(), f"Di − Dc: {MEANING['Di − Dc']}")
    banner.set_status("monitoring", "Monitoring", "", None, withheld="R probe lifted")
    tip = banner.diff.toolTip()
    assert tip.endswith("\nNot shown now: R probe lifted.")
    _assert_glossary_tip(tip.removesuffix("\nNot shown now: R probe lifted."), f"Di − Dc: {MEANING['Di − Dc']}")


def test_the_criteria_dialogs_tooltips_are_the_glossarys_meanings(qtbot):
    dlg = CriteriaDialog(CRITERIA_PRESETS["default"])
    qtbot.addWidget(dlg)
    _assert_glossary_tip(dlg.rise.toolTip(), MEANING["ΔTb"])
    _assert_glossary_tip(dlg.didc.toolTip(), MEANING["Di − Dc"])


def test_f1_ends_with_the_glossarys_text(demo, monkeypatch):
    window = demo()
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda _parent, _title, text: shown.append(text))
    window.show_keys()
    assert shown and shown[0].endswith("\n\n" + GLOSSARY)
