"""The marker editor reads and takes times as the rest of the app shows them: session time m:ss
(h:mm:ss past an hour) and the wall clock beside it; never "35.68 min since start"."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from PyQt6.QtCore import QTime

from monitor.model import MarkerKind
from ui.marker_dialog import MarkerDialog, parse_session_time


def _clock(window, session_s: float) -> str:
    return datetime.fromtimestamp(window.session.wall_at(session_s)).strftime("%H:%M:%S")


@pytest.mark.parametrize(("text", "seconds"), [("7:44", 464.0), ("0:05", 5.0), ("75:00", 4500.0),
                                               ("1:02:03", 3723.0), (" 12:00 ", 720.0)])
def test_session_times_are_read_as_m_ss_or_h_mm_ss(text, seconds):
    assert parse_session_time(text) == seconds


@pytest.mark.parametrize("text", ["9.5", "9:5", "9:60", "1:60:00", "", "min", "35.68 min since start"])
def test_anything_else_is_not_a_time(text):
    assert parse_session_time(text) is None


def test_the_editor_shows_m_ss_and_the_wall_clock_and_moves_a_marker_typed_as_m_ss(demo, qtbot, tmp_path):
    window = demo(auto_injection=False)
    window.advance_to(600)
    window.mark(MarkerKind.INJECTION)
    dlg = MarkerDialog(window.session, window)
    qtbot.addWidget(dlg)
    dlg.show()
    item = dlg.list.item(dlg.list.count() - 1).text()
    assert item.startswith("Injection at 10:00 (clock ") and _clock(window, 600.0) in item
    assert dlg.session_time.text() == "10:00"
    assert dlg.wall_clock.time().toString("HH:mm:ss") == _clock(window, 600.0)
    everything = " ".join([dlg.session_time.text(), dlg.relation.text(), item])
    assert "min" not in everything and not re.search(r"\d\.\d", everything), "no decimal minutes anywhere"
    dlg.session_time.clear()
    qtbot.keyClicks(dlg.session_time, "9:30")
    assert dlg.session_seconds() == 570.0
    assert dlg.wall_clock.time().toString("HH:mm:ss") == _clock(window, 570.0), "the clock follows the entry"
    assert "0:30 before the injection" in dlg.relation.text()
    dlg.grab().save(str(tmp_path / "marker_dialog.png"))
    dlg.reason.setText("marked late")
    dlg.accept()
    assert window.session.injection_s() == pytest.approx(570.0)


def test_a_clock_time_typed_in_moves_the_session_time_with_it(demo, qtbot):
    window = demo(auto_injection=False)
    window.advance_to(900)
    window.mark(MarkerKind.INJECTION)
    dlg = MarkerDialog(window.session, window)
    qtbot.addWidget(dlg)
    wall = datetime.fromtimestamp(window.session.wall_at(845.0))
    dlg.wall_clock.setTime(QTime(wall.hour, wall.minute, wall.second))
    assert dlg.session_seconds() == pytest.approx(845.0, abs=1.0)  # the clock has whole seconds
    assert dlg.session_time.text() in ("14:04", "14:05")  # the clock has whole seconds, the session not
    dlg.accept()
    assert window.session.injection_s() == pytest.approx(845.0, abs=1.0)


def test_a_time_that_is_not_m_ss_is_refused_and_nothing_moves(demo, qtbot):
    window = demo(auto_injection=False)
    window.advance_to(600)
    window.mark(MarkerKind.INJECTION)
    dlg = MarkerDialog(window.session, window)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.session_time.setText("9.5")
    dlg.session_time.textEdited.emit("9.5")
    assert dlg.session_seconds() is None
    dlg.accept()
    assert dlg.isVisible() and "m:ss" in dlg.relation.text(), "refused in plain words"
    assert window.session.injection_s() == pytest.approx(600.0)


def test_the_guis_m_ss_is_the_cores_format(monkeypatch):
    from ui import theme

    monkeypatch.setattr(theme, "format_session_time", lambda seconds: f"core {seconds:g}")
    assert theme.format_mmss(75.0) == "core 75", "one formatter: ui.theme.format_mmss delegates to the core's"
    assert theme.format_mmss(None) == "--:--"


def test_h_mm_ss_can_be_typed_and_letters_cannot(demo, qtbot):
    window = demo(auto_injection=False)
    window.advance_to(300)
    window.mark(MarkerKind.INJECTION)
    dlg = MarkerDialog(window.session, window)
    qtbot.addWidget(dlg)
    dlg.session_time.clear()
    qtbot.keyClicks(dlg.session_time, "1:02:03")
    assert dlg.session_time.text() == "1:02:03" and dlg.session_seconds() == 3723.0
    dlg.session_time.clear()
    qtbot.keyClicks(dlg.session_time, "9.5 min")
    assert dlg.session_time.text().strip() == "95", "the entry takes digits and colons only"
