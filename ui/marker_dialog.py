"""Correct a marker's time (for example an injection marked late); every move is logged."""

from __future__ import annotations

from PyQt6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QListWidget,
    QVBoxLayout,
)

from monitor.procedure import Procedure
from ui import theme


class MarkerDialog(QDialog):
    def __init__(self, session: Procedure, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit markers")
        self.session = session
        self.list = QListWidget()
        for m in session.markers:
            self.list.addItem(f"{m.kind.label} at {theme.format_mmss(m.session_s)}" + (f" — {m.text}" if m.text else ""))
        self.minutes = QDoubleSpinBox()
        self.minutes.setDecimals(2)
        self.minutes.setRange(0.0, 48 * 60.0)  # the longest session `record` allows (48 h)
        self.minutes.setSuffix(" min since start")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("why (e.g. injection marked late)")
        form = QFormLayout()
        form.addRow("&New time", self.minutes)
        form.addRow("&Reason", self.reason)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.list)
        lay.addLayout(form)
        lay.addWidget(buttons)
        self.list.currentRowChanged.connect(self._selected)
        if session.markers:
            self.list.setCurrentRow(len(session.markers) - 1)
        self._offer_late_injection_fix()

    def _offer_late_injection_fix(self) -> None:
        """The core found the blocked foot warming before the injection mark: pre-fill the fix."""
        late = self.session.snapshot().late_injection
        rows = [i for i, m in enumerate(self.session.markers) if m.session_s == late.injection_s] if late else []
        if late is not None and rows:
            self.list.setCurrentRow(rows[0])
            self.minutes.setValue(late.warming_since_s / 60.0)
            self.reason.setText("set back: the blocked foot was already warming")

    def _selected(self, row: int) -> None:
        if 0 <= row < len(self.session.markers):
            self.minutes.setValue(self.session.markers[row].session_s / 60.0)

    def accept(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.session.markers):
            m = self.session.markers[row]
            new_s = self.minutes.value() * 60.0
            if m.id is not None and abs(new_s - m.session_s) > 0.05:
                self.session.move_marker(m.id, new_s, reason=self.reason.text().strip() or "corrected by hand")
        super().accept()
