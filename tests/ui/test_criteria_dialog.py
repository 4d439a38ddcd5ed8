"""The criteria dialog shows each criterion with its source (short and in full) and a line in
plain words, and explains ΔTb, ΔTc and Di − Dc."""

from __future__ import annotations

import pytest

from monitor.pipeline import CRITERIA_PRESETS
from monitor.pipeline.glossary import TERMS, criterion_in_plain_words
from ui import theme
from ui.criteria_dialog import CriteriaDialog


def _texts(dlg: CriteriaDialog) -> str:
    return " ".join([dlg.conditions.text(), dlg.plain.text(), dlg.short_source.text(), dlg.source.text()])


@pytest.mark.parametrize("preset", list(CRITERIA_PRESETS))
def test_each_preset_is_shown_with_its_source_reference_and_plain_words(qtbot, preset):
    criteria = CRITERIA_PRESETS[preset]
    dlg = CriteriaDialog(criteria, core_c=37.0)
    qtbot.addWidget(dlg)
    shown = _texts(dlg)
    assert criteria.source in dlg.source.text(), "the full reference"
    assert criteria.short_source in dlg.short_source.text()
    assert dlg.plain.text() == criterion_in_plain_words(criteria)
    assert dlg.plain.text().startswith("Confirmed when the blocked foot")
    assert "ΔTb" not in dlg.plain.text() or "warmed by at least" in dlg.plain.text()
    assert "held for" in dlg.plain.text() and shown


def test_the_default_says_di_minus_dc_in_a_nurses_words(qtbot):
    dlg = CriteriaDialog(CRITERIA_PRESETS["default"])
    qtbot.addWidget(dlg)
    assert dlg.plain.text() == ("Confirmed when the blocked foot has warmed by at least 2.0 °C since the baseline "
                                "(ΔTb) and by at least 1.5 °C more than the other foot (Di − Dc), both held for "
                                "60 s of valid readings after the injection mark.")
    glossary = dlg.glossary.text()
    for term, meaning in TERMS:
        assert f"<b>{term}</b>: {meaning}" in glossary
    assert "how much more the blocked foot warmed than the other foot" in glossary
    assert "Park/Nahm et al., Anaesthesia 2010" in dlg.short_source.text()
    assert "Stevens et al., Reg Anesth Pain Med 1998" in dlg.short_source.text()


def test_the_plain_words_follow_a_threshold_changed_by_hand(qtbot):
    dlg = CriteriaDialog(CRITERIA_PRESETS["default"])
    qtbot.addWidget(dlg)
    dlg.rise.setValue(3.0)
    assert "at least 3.0 °C since the baseline" in dlg.plain.text()
    dlg.use["rise"].setChecked(False)
    dlg.use["didc"].setChecked(False)
    assert "tick at least one" in dlg.plain.text()
    dlg.use["didc"].setChecked(True)
    assert dlg.plain.text().startswith("Confirmed when the blocked foot has warmed by at least 1.5 °C more than the "
                                       "other foot (Di − Dc), held for 60 s")


def test_the_dialog_as_it_looks(qtbot, tmp_path):
    dlg = CriteriaDialog(CRITERIA_PRESETS["default"])
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    assert theme.STYLESHEET == dlg.styleSheet()
    for label in (dlg.plain, dlg.short_source, dlg.source, dlg.glossary):
        assert label.isVisible() and label.height() >= label.heightForWidth(label.width()) - 1, "not cut off"
    dlg.grab().save(str(tmp_path / "criteria_dialog.png"))
