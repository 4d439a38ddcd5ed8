"""Probe calibration for biomedical engineers: one or two points against a reference thermometer.

The correction (offset and gain) is computed by the core's ``Calibration`` and stored per
probe identity and channel in the device registry; sources apply it and every session
that uses the probe records it.
"""

from __future__ import annotations

from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
)

from firmware_protocol.thermistor import Calibration
from ui import theme


class CalibrationDialog(QDialog):
    def __init__(self, registry, devices: list[tuple[str, str]], parent=None) -> None:
        """``devices``: (registry key, name) of the probes that can be calibrated."""
        super().__init__(parent)
        self.setWindowTitle("Probe calibration")
        self.setStyleSheet(theme.STYLESHEET)
        self.registry = registry
        self.saved: Calibration | None = None
        self.device = QComboBox()
        for key, name in devices:
            self.device.addItem(name, key)
        self.channel = QComboBox()
        self.channel.addItem("probe 1 (channel 0)", 0)
        self.channel.addItem("probe 2 (channel 1)", 1)
        self.one = QRadioButton("&One point (offset only)")
        self.two = QRadioButton("&Two points (offset and gain)")
        self.one.setChecked(True)
        self.raw1, self.ref1, self.raw2, self.ref2 = (_temp() for _ in range(4))
        form = QFormLayout()
        form.addRow("&Device", self.device)
        form.addRow("C&hannel", self.channel)
        form.addRow(self.one)
        form.addRow(self.two)
        form.addRow("Point 1: probe &reads", self.raw1)
        form.addRow("Point 1: r&eference", self.ref1)
        form.addRow("Point 2: &probe reads", self.raw2)
        form.addRow("Point 2: re&ference", self.ref2)
        self.current = QLabel("")
        self.current.setWordWrap(True)
        self.clear_btn = QPushButton("C&lear this calibration")
        self.clear_btn.clicked.connect(self.clear_calibration)
        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Put the probe and a reference thermometer in the same stable bath; enter both "
                             "readings. Enter the probe's uncalibrated reading: clear an existing calibration "
                             "first (readings are shown with it applied)."))
        lay.addLayout(form)
        lay.addWidget(self.current)
        lay.addWidget(self.clear_btn)
        lay.addWidget(self.result_label)
        lay.addWidget(buttons)
        self.two.toggled.connect(self._mode)
        self.device.currentIndexChanged.connect(self._show_current)
        self.channel.currentIndexChanged.connect(self._show_current)
        self._mode(False)
        self._show_current()

    def _show_current(self) -> None:
        key = self.device.currentData()
        cal = self.registry.calibration(key, int(self.channel.currentData())) if key else None
        if cal is None or cal.is_identity:
            self.current.setText("Current calibration: none.")
            self.clear_btn.setEnabled(False)
        else:
            self.current.setText(f"Current calibration: offset {cal.offset_c:+.2f} °C, gain {cal.gain:.4f}"
                                 + (f" ({cal.note})" if cal.note else ""))
            self.clear_btn.setEnabled(True)

    def clear_calibration(self) -> None:
        key = self.device.currentData()
        if key:
            self.registry.clear_calibration(key, int(self.channel.currentData()))
        self._show_current()

    def _mode(self, two: bool) -> None:
        for w in (self.raw2, self.ref2):
            w.setEnabled(two)

    def calibration(self) -> Calibration:
        note = "2-point" if self.two.isChecked() else "1-point"
        note += " against a reference thermometer (SympaTherm calibration dialog)"
        if self.two.isChecked():
            return Calibration.two_point((self.raw1.value(), self.ref1.value()),
                                         (self.raw2.value(), self.ref2.value()), note)
        return Calibration.one_point(self.raw1.value(), self.ref1.value(), note)

    def accept(self) -> None:
        key = self.device.currentData()
        if not key:
            self.result_label.setText("No probe to calibrate.")
            return
        try:
            cal = self.calibration()
            self.registry.set_calibration(key, int(self.channel.currentData()), cal)
        except ValueError as exc:  # implausible gain/offset, points too close: say so, save nothing
            self.result_label.setText(f"Not saved: {exc}")
            return
        self.saved = cal
        super().accept()


def _temp() -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(0.0, 60.0)
    box.setDecimals(2)
    box.setSingleStep(0.05)
    box.setValue(35.0)
    box.setSuffix(" °C")
    return box
