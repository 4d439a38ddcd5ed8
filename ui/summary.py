"""The table of 1-minute values per limb: what nurses otherwise write down by hand.

It only displays rows: each :class:`monitor.procedure.minutes.MinuteRow` is made by
:func:`monitor.procedure.minutes.minute_table`, the one rule the PDF report and the CSV minute
summary follow too (counted readings in the 30 s up to the minute, their lower median, 0.1 °C;
rises from the baseline in force then). Nothing is computed, smoothed or rounded again here.
"""

from __future__ import annotations

from PyQt6.QtCore import QAbstractTableModel, QModelIndex, Qt, QTimer
from PyQt6.QtGui import QColor, QFont, QFontMetrics
from PyQt6.QtWidgets import QHeaderView, QTableView

from monitor.model import Limb
from monitor.procedure.minutes import MinuteRow, minute_label
from ui import theme

COLUMNS = ("time", "L °C", "R °C", "L rise", "R rise", "Di − Dc")
WIDEST_TIME = "+1:05:00"  # a minute past the first hour after the injection ("+30:00" is narrower)
WIDEST_VALUE = "+00.0"


class MinuteTableModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[MinuteRow] = []
        self.from_injection = False  # the rows count from the injection (else from the session start)

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802,B008 (Qt override)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802,B008 (Qt override)
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ForegroundRole and orientation == Qt.Orientation.Horizontal:
            if section in (1, 3):
                return QColor(theme.LIMB_TEXT_COLOURS[Limb.LEFT])
            if section in (2, 4):
                return QColor(theme.LIMB_TEXT_COLOURS[Limb.RIGHT])
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return minute_label(row.minute, from_injection=self.from_injection)
            v = _cell(row, col)
            if v is None:
                return "—"
            return f"{v:.1f}" if col in (1, 2) else f"{v:+.1f}"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and col in (1, 2, 3, 4):
            return QColor(theme.LIMB_TEXT_COLOURS[Limb.LEFT if col in (1, 3) else Limb.RIGHT])
        return None

    def set_rows(self, rows: list[MinuteRow], *, from_injection: bool) -> None:
        if from_injection != self.from_injection:  # every label changes: "5:00" becomes "+5:00"
            self.beginResetModel()
            self.rows, self.from_injection = list(rows), from_injection
            self.endResetModel()
            return
        if rows == self.rows:
            return
        if len(rows) >= len(self.rows) and rows[: len(self.rows)] == self.rows:
            first = len(self.rows)
            if len(rows) > first:
                self.beginInsertRows(QModelIndex(), first, len(rows) - 1)
                self.rows = list(rows)
                self.endInsertRows()
            return
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()


def _cell(row: MinuteRow, col: int) -> float | None:
    """The value in column ``col`` (1..5) of ``row``, as minute_table gave it."""
    if col == 1:
        return row.celsius[Limb.LEFT]
    if col == 2:
        return row.celsius[Limb.RIGHT]
    if col == 3:
        return row.rise_c[Limb.LEFT]
    if col == 4:
        return row.rise_c[Limb.RIGHT]
    return row.di_minus_dc_c


class MinuteTable(QTableView):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.table_model = MinuteTableModel(self)
        self.setModel(self.table_model)
        self.setAlternatingRowColors(True)
        rows, columns, scroll = self.verticalHeader(), self.horizontalHeader(), self.verticalScrollBar()
        assert rows is not None and columns is not None and scroll is not None  # a table view has all three
        self._rows, self._columns, self._scroll = rows, columns, scroll
        self._rows.setVisible(False)
        self._columns.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.set_scale(1.0)
        self.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        # The newest minute stays in view until the user scrolls up to read older ones; only the
        # user's own scrolling decides (a row update or a relayout moving the bar does not).
        self.follows_newest = True
        self._scroll.actionTriggered.connect(lambda _action: QTimer.singleShot(0, self._user_scrolled))

    def set_scale(self, scale: float) -> None:
        """Text and row sizes for the window's height (1.0 at 1000 px and up)."""
        f = QFont()
        f.setPixelSize(max(12, round(15 * scale)))
        self.setFont(f)
        self._columns.setFont(f)
        self._rows.setDefaultSectionSize(max(18, round(24 * scale)))
        # The time column as wide as its widest label; the others wide enough for every heading
        # and a "+10.5", sharing the rest equally.
        bold = QFont(f)
        bold.setBold(True)
        metrics = QFontMetrics(bold)
        time = max(metrics.horizontalAdvance(COLUMNS[0]), metrics.horizontalAdvance(WIDEST_TIME)) + 14
        column = max(max(metrics.horizontalAdvance(c) for c in COLUMNS[1:]), metrics.horizontalAdvance(WIDEST_VALUE)) + 14
        self._columns.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        self._columns.resizeSection(0, time)
        scroll = self._scroll.sizeHint().width()
        needed = time + column * (len(COLUMNS) - 1) + scroll + 2 * self.frameWidth()
        self.setMinimumWidth(max(needed, round(430 * scale)))

    def _user_scrolled(self) -> None:
        bar = self._scroll
        self.follows_newest = bar.value() >= bar.maximum() - 2

    def set_rows(self, rows: list[MinuteRow], *, from_injection: bool) -> None:
        """Show ``rows``; ``from_injection``: their minutes count from the injection ("+5:00"),
        else from the session start ("5:00")."""
        self.table_model.set_rows(rows, from_injection=from_injection)
        if self.follows_newest:
            self.scrollToBottom()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self.follows_newest:
            QTimer.singleShot(0, self.scrollToBottom)  # once the rows are laid out

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        if self.follows_newest:
            self.scrollToBottom()
