"""The table of 1-minute values per limb: what nurses otherwise write down by hand.

Each row is the reading at a whole minute (the last reading at or before it, from the
readings as recorded: the pipeline's series live, the file in a review; not the plot's copy,
which thins old data) and its rise from the pipeline's baseline. Nothing is smoothed or
filtered here.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PyQt6.QtGui import QColor, QFont
from PyQt6.QtWidgets import QHeaderView, QTableView

from monitor.model import Limb
from ui import theme

COLUMNS = ("min", "L °C", "R °C", "L rise", "R rise", "Di − Dc")


class MinuteTableModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[tuple[float, float | None, float | None, float | None, float | None, float | None]] = []

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
            v = row[col]
            if col == 0:
                return f"{v:+.0f}" if v is not None else ""
            if v is None:
                return "—"
            v = round(v, 1) + 0.0  # no "-0.0"
            return f"{v:.1f}" if col in (1, 2) else f"{v:+.1f}"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and col in (1, 2, 3, 4):
            return QColor(theme.LIMB_TEXT_COLOURS[Limb.LEFT if col in (1, 3) else Limb.RIGHT])
        return None

    def set_rows(self, rows) -> None:
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


def minute_rows(readings: dict[Limb, tuple[np.ndarray, np.ndarray]], origin_s: float, end_s: float,
                baselines: dict[Limb, float | None], blocked: Limb | None,
                max_age_s: dict[Limb, float] | None = None):
    """(minute from origin, L, R, L rise, R rise, Di − Dc) at each whole minute up to end_s.

    ``readings``: per limb, (session seconds, °C with NaN where the probe gave none), in time order.
    ``max_age_s``: per limb, how old the last reading may be to stand for the minute (30 s, or
    longer for a probe that reports less often)."""
    if end_s <= 0:
        return []
    first = -int(np.floor(origin_s / 60.0))
    last = int(np.floor((end_s - origin_s) / 60.0))
    minutes = np.arange(first, last + 1)
    times = origin_s + minutes * 60.0
    values = {}
    for limb in Limb:
        x, y = readings.get(limb, (np.empty(0), np.empty(0)))
        idx = np.searchsorted(x, times, side="right") - 1
        vals: list[float | None] = []
        recent = max(30.0, (max_age_s or {}).get(limb, 30.0))
        for i, t in zip(idx, times, strict=True):
            # The last reading at or before the minute, if it is recent (≤ 30 s) and valid.
            if i >= 0 and t - x[i] <= recent and np.isfinite(y[i]):
                vals.append(round(float(y[i]), 2))
            else:
                vals.append(None)
        values[limb] = vals
    rows = []
    for k, m in enumerate(minutes):
        left, right = values[Limb.LEFT][k], values[Limb.RIGHT][k]
        rl = None if left is None or baselines.get(Limb.LEFT) is None else left - baselines[Limb.LEFT]
        rr = None if right is None or baselines.get(Limb.RIGHT) is None else right - baselines[Limb.RIGHT]
        diff = None
        if rl is not None and rr is not None and blocked is not None:
            diff = (rl - rr) if blocked is Limb.LEFT else (rr - rl)
        rows.append((float(m), left, right, rl, rr, diff))
    return rows


class MinuteTable(QTableView):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.table_model = MinuteTableModel(self)
        self.setModel(self.table_model)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        f = QFont()
        f.setPixelSize(15)
        self.setFont(f)
        self.verticalHeader().setDefaultSectionSize(24)
        self.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.setMinimumWidth(430)

    def set_rows(self, rows) -> None:
        at_bottom = self.verticalScrollBar().value() >= self.verticalScrollBar().maximum() - 2
        self.table_model.set_rows(rows)
        if at_bottom:
            self.scrollToBottom()
