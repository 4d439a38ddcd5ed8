"""Correct a marker's time (for example an injection marked late); every move is logged.

Times are typed as the rest of the app shows them: session time as m:ss (h:mm:ss past an hour),
or the wall-clock time the chart has (hh:mm:ss); each entry follows the other.
"""

from __future__ import annotations

import re
from datetime import datetime

from PyQt6.QtCore import QRegularExpression, QTime
from PyQt6.QtGui import QRegularExpressionValidator
from PyQt6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QTimeEdit,
    QVBoxLayout,
)

from monitor.procedure import Procedure
from ui import theme

MAX_SESSION_S = 48 * 3600.0  # the longest session `record` allows (48 h)
_SESSION_TIME = re.compile(r"^\s*(?:(\d{1,2}):)?(\d{1,4}):(\d{2})\s*$")


def parse_session_time(text: str) -> float | None:
    """"7:44" -> 464 s, "1:02:03" -> 3723 s; None unless it is m:ss or h:mm:ss (seconds < 60, and
    minutes < 60 when hours are given)."""
    found = _SESSION_TIME.match(text)
    if found is None:
        return None
    hours, minutes, seconds = int(found[1] or 0), int(found[2]), int(found[3])
    if seconds >= 60 or (found[1] is not None and minutes >= 60):
        return None
    return float(hours * 3600 + minutes * 60 + seconds)


class MarkerDialog(QDialog):
    def __init__(self, session: Procedure, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit markers")
        self.setMinimumWidth(480)
        self.session = session
        self.list = QListWidget()
        for m in session.markers:
            self.list.addItem(f"{m.kind.label} at {theme.format_mmss(m.session_s)} "
                              f"(clock {self._clock(m.session_s)})" + (f" — {m.text}" if m.text else ""))
        self.session_time = QLineEdit()
        self.session_time.setPlaceholderText("m:ss")
        self.session_time.setValidator(QRegularExpressionValidator(
            QRegularExpression(r"^\s*(\d{1,2}:)?\d{0,4}:?\d{0,2}\s*$"), self.session_time))
        self.session_time.setToolTip("Session time, minutes:seconds from the start of the recording "
                                     "(hours:minutes:seconds past an hour), as in the status bar")
        self.wall_clock = QTimeEdit()
        self.wall_clock.setDisplayFormat("HH:mm:ss")
        self.wall_clock.setToolTip("The same moment as a clock time (e.g. from the anaesthetic chart)")
        self.relation = QLabel("")
        self.relation.setStyleSheet(f"color: {theme.TEXT_DIM};")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("why (e.g. injection marked late)")
        form = QFormLayout()
        form.addRow("&Session time (m:ss)", self.session_time)
        form.addRow("or clock &time", self.wall_clock)
        form.addRow("", self.relation)
        form.addRow("&Reason", self.reason)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        heading = QLabel("&Markers:")
        heading.setBuddy(self.list)
        lay.addWidget(heading)
        lay.addWidget(self.list)
        lay.addLayout(form)
        lay.addWidget(buttons)
        self._seconds: float | None = None
        self.session_time.textEdited.connect(self._typed_session_time)
        self.wall_clock.timeChanged.connect(self._typed_clock)
        self.list.currentRowChanged.connect(self._selected)
        if session.markers:
            self.list.setCurrentRow(len(session.markers) - 1)
        self._offer_late_injection_fix()

    # ---- the time, in both forms ------------------------------------------------------------
    def _clock(self, session_s: float) -> str:
        return datetime.fromtimestamp(self.session.wall_at(session_s)).strftime("%H:%M:%S")

    def session_seconds(self) -> float | None:
        """The new time in session seconds; None while the entry is not a time."""
        return self._seconds

    def set_session_seconds(self, session_s: float) -> None:
        self._show(round(session_s), update_text=True, update_clock=True)

    def _show(self, session_s: float | None, *, update_text: bool, update_clock: bool) -> None:
        self._seconds = session_s
        if session_s is None:
            self.relation.setText("Type the time as m:ss (or h:mm:ss), e.g. 7:44.")
            return
        if update_text:
            self.session_time.setText(theme.format_mmss(session_s))
        if update_clock:
            wall = datetime.fromtimestamp(self.session.wall_at(session_s))
            self.wall_clock.blockSignals(True)
            self.wall_clock.setTime(QTime(wall.hour, wall.minute, wall.second))
            self.wall_clock.blockSignals(False)
        self.relation.setText(self._relation_words(session_s))

    def _relation_words(self, session_s: float) -> str:
        words = f"session {theme.format_mmss(session_s)} = clock {self._clock(session_s)}"
        injection = self.session.injection_s()
        if injection is not None and abs(session_s - injection) >= 0.5:
            side = "after" if session_s > injection else "before"
            words += f" · {theme.format_mmss(abs(session_s - injection))} {side} the injection"
        return words

    def _typed_session_time(self, text: str) -> None:
        seconds = parse_session_time(text)
        if seconds is not None and seconds > MAX_SESSION_S:
            seconds = None
        self._show(seconds, update_text=False, update_clock=True)

    def _typed_clock(self, value: QTime) -> None:
        """A clock time to session seconds: the moment of that clock time nearest the one shown."""
        start = datetime.fromtimestamp(self.session.wall_at(0.0))
        day = start.replace(hour=value.hour(), minute=value.minute(), second=value.second(), microsecond=0)
        first = (day - start).total_seconds() % 86400.0
        near = self._seconds if self._seconds is not None else self.session.now()
        candidates = [first + 86400.0 * k for k in range(int(MAX_SESSION_S // 86400) + 1)]
        self._show(min(candidates, key=lambda s: abs(s - near)), update_text=True, update_clock=False)

    # ---- choosing a marker and applying -----------------------------------------------------
    def _offer_late_injection_fix(self) -> None:
        """The core found the blocked foot warming before the injection mark: pre-fill the fix."""
        late = self.session.snapshot().late_injection
        rows = [i for i, m in enumerate(self.session.markers) if m.session_s == late.injection_s] if late else []
        if late is not None and rows:
            self.list.setCurrentRow(rows[0])
            self.set_session_seconds(late.warming_since_s)
            self.reason.setText("set back: the blocked foot was already warming")

    def _selected(self, row: int) -> None:
        if 0 <= row < len(self.session.markers):
            self.set_session_seconds(self.session.markers[row].session_s)

    def accept(self) -> None:
        row = self.list.currentRow()
        new_s = self.session_seconds()
        if 0 <= row < len(self.session.markers):
            if new_s is None:
                self.relation.setText("Not a time: type it as m:ss (or h:mm:ss), e.g. 7:44.")
                self.session_time.setFocus()
                return
            m = self.session.markers[row]
            if m.id is not None and abs(new_s - round(m.session_s)) > 0.05:
                self.session.move_marker(m.id, new_s, reason=self.reason.text().strip() or "corrected by hand")
        super().accept()
