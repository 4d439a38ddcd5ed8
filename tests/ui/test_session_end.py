"""After End the screen looks ended, a note typed then is refused in words (never dropped
without a word), and each key appears once in the menus and in F1."""

from __future__ import annotations

from PyQt6.QtCore import Qt

from monitor.model import Limb, MarkerKind
from monitor.store import SessionStore


def _window(qtbot, tmp_path):
    from monitor.commands.demo import build_demo_window

    window = build_demo_window("success-fast", 1, 1.0, Limb.LEFT, manual=True, session_path=tmp_path / "e.sympatherm")
    qtbot.addWidget(window)
    return window


def test_an_ended_session_looks_ended_and_a_late_note_is_refused_in_words(qtbot, tmp_path):
    window = _window(qtbot, tmp_path)
    window.advance_to(600)
    window.finish()
    assert window.banner.title.text().startswith("SESSION ENDED at ")
    for tile in window.tiles.values():
        assert not tile.isEnabled() and "session ended" in tile.detail_label.text()
        assert "last reading" not in tile.detail_label.text()
    assert not window.actions_by_name["note"].isEnabled()
    window.add_note("typed after the end")  # e.g. from a script or a key pressed in the last instant
    assert "Note not added" in window.status_label.text()
    with SessionStore.open_read_only(tmp_path / "e.sympatherm") as stored:
        assert not [m for m in stored.markers() if m.kind is MarkerKind.NOTE]


def test_each_key_is_listed_once_in_the_menus_and_in_f1(qtbot, tmp_path, monkeypatch):
    from PyQt6.QtWidgets import QMessageBox

    window = _window(qtbot, tmp_path)
    shown = []
    monkeypatch.setattr(QMessageBox, "information", lambda _parent, _title, text: shown.append(text))
    window.show_keys()
    for name, act in window.actions_by_name.items():
        key = act.shortcut().toString()
        assert not act.text().endswith(f"  {key}"), f"{name}: the menu shows its key twice"
        line = next(ln for ln in shown[0].splitlines() if ln.strip().startswith(key + " "))
        assert line.strip()[len(key):].strip() == act.text(), line  # "B   Baseline", not "B   Baseline  B"
    assert window.actions_by_name["baseline"].iconText() == "Baseline  B"  # the toolbar keeps the hint
    assert window.actions_by_name["quit"].shortcut().toString() == "Ctrl+Q"
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    window.finish()
