"""The criteria's words (ΔTb, ΔTc, Di − Dc) in the tiles' tooltips, the banner's, the criteria
dialog's and F1 are the one glossary's text (monitor.pipeline.glossary), never a copy that drifts."""

from __future__ import annotations

from PyQt6.QtWidgets import QMessageBox

from monitor.model import Limb
from monitor.pipeline import CRITERIA_PRESETS
from monitor.pipeline.glossary import TERMS, glossary_lines
from ui.banner import StatusBanner
from ui.criteria_dialog import CriteriaDialog
from ui.tiles import LimbTile, TileState

GLOSSARY = "\n".join(glossary_lines())
MEANING = dict(TERMS)


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
        assert tile.rise_label.toolTip() == GLOSSARY


def test_the_banners_difference_tooltip_is_the_glossarys_text(qtbot):
    banner = StatusBanner()
    qtbot.addWidget(banner)
    banner.set_status("monitoring", "Monitoring", "", 1.2)
    assert banner.diff.toolTip() == f"Di − Dc: {MEANING['Di − Dc']}"
    banner.set_status("monitoring", "Monitoring", "", None, withheld="R probe lifted")
    assert banner.diff.toolTip() == f"Di − Dc: {MEANING['Di − Dc']}\nNot shown now: R probe lifted."


def test_the_criteria_dialogs_tooltips_are_the_glossarys_meanings(qtbot):
    dlg = CriteriaDialog(CRITERIA_PRESETS["default"])
    qtbot.addWidget(dlg)
    assert dlg.rise.toolTip() == MEANING["ΔTb"]
    assert dlg.didc.toolTip() == MEANING["Di − Dc"]


def test_f1_ends_with_the_glossarys_text(demo, monkeypatch):
    window = demo()
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda _parent, _title, text: shown.append(text))
    window.show_keys()
    assert shown and shown[0].endswith("\n\n" + GLOSSARY)
