"""Every dialog the app opens: no two of its controls answer the same Alt+letter.

A dialog's mnemonics are the &-letters of its visible buttons, tick boxes and radio buttons,
its labels that have a buddy, its group boxes and its tab titles, and those of its button box.
Offscreen Qt shows a button box's standard buttons without mnemonics ("OK", "Cancel"), but a
desktop shows "&OK", "&Cancel", "&Save", "&Close"; they are counted as a desktop shows them, so a
"&Channel" beside Cancel is caught here too. The set-up's "Alt+S: Start recording and Search
again" was one such collision.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from PyQt6.QtWidgets import (
    QAbstractButton,
    QDialogButtonBox,
    QGroupBox,
    QLabel,
    QMessageBox,
    QTabBar,
    QWidget,
)

_SB = QDialogButtonBox.StandardButton
# The texts Qt's desktop themes give the standard buttons (QPlatformTheme::defaultStandardButtonText).
DESKTOP_BUTTON_TEXT = {_SB.Ok: "&OK", _SB.Save: "&Save", _SB.SaveAll: "Save &All", _SB.Open: "&Open",
                       _SB.Yes: "&Yes", _SB.YesToAll: "Yes to &All", _SB.No: "&No", _SB.NoToAll: "N&o to All",
                       _SB.Abort: "&Abort", _SB.Retry: "&Retry", _SB.Ignore: "&Ignore", _SB.Close: "&Close",
                       _SB.Cancel: "&Cancel", _SB.Discard: "&Discard", _SB.Help: "&Help", _SB.Apply: "&Apply",
                       _SB.Reset: "&Reset", _SB.RestoreDefaults: "Restore Defaults"}
_MNEMONIC = re.compile(r"&([^&])")


def mnemonic(text: str) -> str | None:
    """The Alt+letter of a control's text ("S&tart" -> "t"; "&&" is a plain "&")."""
    found = _MNEMONIC.search(text.replace("&&", ""))
    return found[1].lower() if found else None


def _button_text(button: QAbstractButton) -> str:
    box = button.parent()
    while box is not None and not isinstance(box, QDialogButtonBox):
        box = box.parent()
    if box is not None:
        standard = box.standardButton(button)
        if standard in DESKTOP_BUTTON_TEXT:
            return DESKTOP_BUTTON_TEXT[standard]
    return button.text()


def mnemonics_of(dialog: QWidget) -> dict[str, list[str]]:
    """Each Alt+letter of ``dialog`` and the visible controls that answer it."""
    found: dict[str, list[str]] = defaultdict(list)

    def note(text: str, kind: str) -> None:
        letter = mnemonic(text)
        if letter is not None:
            found[letter].append(f"{kind} {text!r}")

    def visible(w: QWidget) -> bool:
        return w is dialog or w.isVisibleTo(dialog)

    for button in dialog.findChildren(QAbstractButton):
        if visible(button):
            note(_button_text(button), type(button).__name__)
    for label in dialog.findChildren(QLabel):
        if visible(label) and label.buddy() is not None:
            note(label.text(), "label")
    for group in dialog.findChildren(QGroupBox):
        if visible(group):
            note(group.title(), "group box")
    for bar in dialog.findChildren(QTabBar):
        if visible(bar):
            for i in range(bar.count()):
                note(bar.tabText(i), "tab")
    return dict(found)


def collisions(dialog: QWidget) -> dict[str, list[str]]:
    return {letter: controls for letter, controls in mnemonics_of(dialog).items() if len(controls) > 1}


def _shown(qtbot, dialog: QWidget) -> QWidget:
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


# ---- the dialogs ------------------------------------------------------------------------------
def _setup_dialog(qtbot, tmp_path):
    from monitor.commands.sources import build_source, scenario_choices
    from ui.app_flow import discover_candidates
    from ui.setup_dialog import SetupDialog

    # Every control it can show: the simulated patient (its scenario and speed), search, review.
    return SetupDialog(discover_candidates(build_source), None, rescan=lambda **_kw: [],
                       review=lambda _dlg: None, scenarios=scenario_choices())


def _settings_dialog(qtbot, tmp_path):
    from ui.settings_dialog import SettingsDialog

    return SettingsDialog()


def _criteria_dialog(qtbot, tmp_path):
    from monitor.pipeline import CRITERIA_PRESETS
    from ui.criteria_dialog import CriteriaDialog

    return CriteriaDialog(next(iter(CRITERIA_PRESETS.values())), None)


def _export_dialog(qtbot, tmp_path):
    from ui.export_dialog import ExportDialog

    return ExportDialog(tmp_path / "session.sympatherm", None, formats=("pdf", "csv"))


def _calibration_dialog(qtbot, tmp_path):
    from monitor.sources.registry import DeviceRegistry
    from ui.calibration_dialog import CalibrationDialog

    return CalibrationDialog(DeviceRegistry(), [("serial:ST-0042", "probe ST-0042")])


def _marker_dialog(qtbot, tmp_path):
    from monitor.commands.demo import build_demo_window
    from monitor.model import Limb
    from ui.marker_dialog import MarkerDialog

    window = build_demo_window("success-fast", 1, 1.0, Limb.LEFT, manual=True,
                               session_path=tmp_path / "m.sympatherm")
    qtbot.addWidget(window)
    window.advance_to(window.session.source.suggested_injection_s + 60)
    dialog = MarkerDialog(window.session, window)
    dialog.destroyed.connect(window.finish)
    return dialog


DIALOGS = {"set-up": _setup_dialog, "settings": _settings_dialog, "criteria": _criteria_dialog,
           "export": _export_dialog, "calibration": _calibration_dialog, "marker": _marker_dialog}
# Dialogs another helper is editing now (not changed from here): the collisions they had when this
# test was written (on a desktop, where OK is "&OK"). The test passes once they are gone and fails
# on any other.
KNOWN = {
    "criteria": {"o": ["QPushButton '&OK'", "label 'Within c&ore by'"]},
}


@pytest.mark.parametrize("name", list(DIALOGS))
def test_no_two_controls_in_a_dialog_share_a_mnemonic(qtbot, tmp_path, name):
    dialog = _shown(qtbot, DIALOGS[name](qtbot, tmp_path))
    found = collisions(dialog)
    dialog.close()
    if found and found == KNOWN.get(name):
        pytest.xfail(f"ui/{name}_dialog.py, being edited by another helper: "
                     + "; ".join(f"Alt+{k.upper()} is {' and '.join(v)}" for k, v in found.items()))
    assert found == {}, found


def test_the_set_up_has_its_mnemonics_where_a_nurse_looks_for_them(qtbot, tmp_path):
    dialog = _shown(qtbot, _setup_dialog(qtbot, tmp_path))
    letters = {letter: controls[0] for letter, controls in mnemonics_of(dialog).items()}
    assert letters["t"] == "QPushButton 'S&tart recording'"
    assert letters["k"] == "QPushButton 'Chec&k sides'"
    assert letters["l"] == "QRadioButton '&Left'" and letters["r"] == "QRadioButton '&Right'"
    assert letters["p"] == "label '&Patient ID'"
    assert len(letters) >= 20  # each control kept one (none lost to fix a collision)


def test_the_collision_the_set_up_had_is_caught(qtbot):
    from PyQt6.QtWidgets import QDialog, QPushButton, QVBoxLayout

    dialog = QDialog()
    lay = QVBoxLayout(dialog)
    for text in ("&Search again", "S&tart recording", "Check &sides"):
        lay.addWidget(QPushButton(text))
    box = QDialogButtonBox(_SB.Cancel)
    lay.addWidget(box)
    lay.addWidget(QPushButton("&Channel"))
    _shown(qtbot, dialog)
    assert collisions(dialog) == {"s": ["QPushButton '&Search again'", "QPushButton 'Check &sides'"],
                                  "c": ["QPushButton '&Cancel'", "QPushButton '&Channel'"]}


def test_the_unfinished_session_question_has_no_shared_mnemonic(qtbot, monkeypatch):
    from ui import app_flow

    # A process that dies while recording leaves an unfinished session: the app asks about it.
    code = ("import os; from monitor.model import SessionInfo, Limb; from monitor.store import SessionStore; "
            "s = SessionStore.create(SessionInfo(patient_id='X1', blocked=Limb.LEFT)); s.commit(); "
            "print(s.path); os._exit(0)")
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                   cwd=Path(__file__).resolve().parents[2])
    asked: list[dict[str, list[str]]] = []

    def answer_later(box: QMessageBox) -> int:
        box.show()
        asked.append(collisions(box))
        next(b for b in box.buttons() if b.text() == "Later").click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", answer_later)
    app_flow.offer_recovery(resume=lambda _choice: None)
    assert asked == [{}]
