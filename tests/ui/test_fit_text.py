"""A fitted label shrinks its font to its width first and cuts with "…" only below its floor,
the whole text in the tooltip; hard lines (one per alarm) are fitted one by one."""

from __future__ import annotations

from PyQt6.QtWidgets import QLabel

from ui.fit_text import FitLabel


def _shown(label: FitLabel) -> str:
    return QLabel.text(label)


def _resize(label: FitLabel, width: int, height: int) -> None:
    label.resize(width, height)
    label.show()  # a hidden widget is told its new size only when shown


def test_a_text_that_nearly_fits_gets_a_smaller_font_not_an_ellipsis(qtbot):
    label = FitLabel("warmed +4.7 °C since baseline", min_px=10)
    qtbot.addWidget(label)
    label.set_px(30)
    _resize(label, 260, 40)
    assert _shown(label) == label.text() and label.toolTip() == ""
    assert 10 <= label.font().pixelSize() < 30
    assert label.fontMetrics().horizontalAdvance(_shown(label)) <= 260


def test_below_its_floor_the_text_is_cut_and_whole_in_the_tooltip(qtbot):
    label = FitLabel("probe lifted or tape loose: falling faster than skin can cool · last reading 0 s ago", min_px=14)
    qtbot.addWidget(label)
    label.set_explanation("why this probe is flagged")
    label.set_px(20)
    _resize(label, 200, 30)
    assert label.font().pixelSize() == 14 and _shown(label).endswith("…")
    assert label.text() in label.toolTip() and "why this probe is flagged" in label.toolTip()
    _resize(label, 2000, 30)  # room again: the whole text at the wanted size, no tooltip copy
    assert _shown(label) == label.text() and label.font().pixelSize() == 20
    assert label.toolTip() == "why this probe is flagged"


def test_each_hard_line_is_fitted_on_its_own(qtbot):
    first = "PROGRAM ERROR: " + "the display could not draw the newest readings " * 4
    label = FitLabel(first + "\nR right probe: check the tape", min_px=14, max_lines=2)
    qtbot.addWidget(label)
    label.set_px(16, bold=True)
    _resize(label, 500, 60)
    top, bottom = _shown(label).split("\n")
    assert top.startswith("PROGRAM ERROR") and top.endswith("…")
    assert bottom == "R right probe: check the tape", "the second alarm keeps its own line"
