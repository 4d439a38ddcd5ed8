"""The 1-minute table shows the core's rows and keeps the newest minute in view until the user
scrolls up to read older ones."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QFont, QFontMetrics
from PyQt6.QtWidgets import QApplication, QStyle

from monitor.model import Limb
from monitor.procedure.minutes import MinuteRow


def rows(n: int, origin: int = 0, offset: float = 0.0) -> list[MinuteRow]:
    return [MinuteRow(m - origin, 60.0 * m, {Limb.LEFT: 30.0 + offset, Limb.RIGHT: 29.0},
                      {Limb.LEFT: 0.1, Limb.RIGHT: 0.0}, 0.1) for m in range(n)]


def test_the_newest_minute_stays_in_view_through_resets_until_the_user_scrolls_up(qtbot):
    from PyQt6.QtWidgets import QAbstractSlider

    from ui.summary import MinuteTable

    table = MinuteTable()
    qtbot.addWidget(table)
    table.resize(450, 200)
    table.show()
    qtbot.waitExposed(table)
    bar = table.verticalScrollBar()
    for n in range(5, 40):
        table.set_rows(rows(n, origin=n // 10, offset=n / 100), from_injection=True)  # the origin moves: whole-model resets
    qtbot.wait(10)
    assert bar.maximum() > 0 and bar.value() == bar.maximum()
    bar.triggerAction(QAbstractSlider.SliderAction.SliderPageStepSub)  # the user reads older rows
    qtbot.wait(10)
    kept = bar.value()
    table.set_rows(rows(41), from_injection=True)
    assert bar.value() == kept, "the rows the user is reading do not jump away"
    bar.triggerAction(QAbstractSlider.SliderAction.SliderToMaximum)
    qtbot.wait(10)
    table.set_rows(rows(45), from_injection=True)
    assert bar.value() == bar.maximum()


def test_rows_filled_before_the_table_is_shown_open_at_the_newest_minute(qtbot):
    from ui.summary import MinuteTable

    table = MinuteTable()
    qtbot.addWidget(table)
    table.resize(450, 200)
    for n in range(5, 40):  # a resumed session or a snapshot: rows arrive before the first paint
        table.set_rows(rows(n), from_injection=False)
    table.show()
    qtbot.waitExposed(table)
    qtbot.wait(20)
    bar = table.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == bar.maximum()


def test_the_live_window_at_1024x700_shows_the_newest_minute(qtbot, tmp_path):
    """Seen in a snapshot: rows reset while the window stepped on (an injection, a re-judged
    minute) left the table at minute +16 of +21."""
    from monitor.commands.demo import build_demo_window

    window = build_demo_window("probe-lift", 1, 1.0, Limb.LEFT, manual=True, session_path=tmp_path / "t.sympatherm")
    qtbot.addWidget(window)
    window.resize(1024, 700)
    window.show()
    qtbot.waitExposed(window)
    window.advance_to(1700)
    qtbot.wait(20)
    bar = window.table.verticalScrollBar()
    newest = window.table.table_model.rows[-1].minute
    shown = window.table.rowAt(window.table.viewport().height() - 2)
    assert bar.value() == bar.maximum() and window.table.table_model.rows[shown].minute == newest
    window.finish()


def test_the_time_column_names_minutes_in_the_one_time_format(qtbot):
    """From the injection "+5:00" (as the report and the PDF write it), "0:00" at it, "-3:00"
    before it; without an injection the minutes are session times ("5:00"). Never "+5"."""
    from ui.summary import MinuteTable

    table = MinuteTable()
    qtbot.addWidget(table)
    model = table.table_model
    table.set_rows(rows(70, origin=5), from_injection=True)
    labels = [model.data(model.index(i, 0)) for i in range(model.rowCount())]
    assert labels[:6] == ["-5:00", "-4:00", "-3:00", "-2:00", "-1:00", "0:00"]
    assert labels[10] == "+5:00" and labels[35] == "+30:00" and labels[-1] == "+1:04:00"
    assert model.headerData(0, Qt.Orientation.Horizontal) == "time"
    table.set_rows(rows(70, origin=5), from_injection=False)  # the same rows, the mark removed
    assert model.data(model.index(10, 0)) == "5:00", "a reset relabels every row"


def test_the_time_column_holds_its_widest_label_on_a_small_screen(demo, qtbot):
    """At 1024×700 the time column holds "+30:00" and "+1:05:00" and its heading unclipped (Qt's
    own measure of what the column's cells need)."""
    window = demo()
    window.resize(1024, 700)
    window.show()
    qtbot.waitExposed(window)
    window.advance_to(1500)
    table = window.table
    model = table.table_model
    assert model.data(model.index(model.rowCount() - 1, 0)).startswith("+")  # the core's rows, from the injection
    table.set_rows(rows(70, origin=5), from_injection=True)  # up to +1:04:00
    table.set_rows(rows(71, origin=5), from_injection=True)  # +1:05:00
    QApplication.processEvents()
    assert model.data(model.index(35, 0)) == "+30:00" and model.data(model.index(70, 0)) == "+1:05:00"
    header = table.horizontalHeader()
    bold = QFont(header.font())
    bold.setBold(True)  # headings may be drawn bold: measure them so
    margin = 2 * header.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin)
    for col in range(model.columnCount()):  # the others still hold their headings and values
        heading = model.headerData(col, Qt.Orientation.Horizontal)
        assert QFontMetrics(bold).horizontalAdvance(heading) + margin <= header.sectionSize(col), heading
        assert table.sizeHintForColumn(col) <= table.columnWidth(col), (heading, table.sizeHintForColumn(col))
    assert table.width() >= table.minimumWidth()
