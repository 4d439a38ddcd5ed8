"""Display and sound settings, kept with QSettings between runs."""

from __future__ import annotations

from PyQt6.QtCore import QSettings, Qt
from PyQt6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QSlider, QSpinBox, QVBoxLayout

from ui import theme


def qsettings() -> QSettings:
    return QSettings("SympaTherm", "sympatherm")


def alarm_volume() -> float:
    return float(qsettings().value("alarms/volume", 0.7))


def follow_minutes() -> int:
    return int(qsettings().value("display/follow_minutes", 40))


def wall_clock_default() -> bool:
    return str(qsettings().value("display/wall_clock", "false")).lower() == "true"


class SettingsDialog(QDialog):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setStyleSheet(theme.STYLESHEET)
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setRange(0, 100)
        self.volume.setValue(int(round(alarm_volume() * 100)))
        self.follow = QSpinBox()
        self.follow.setRange(5, 240)
        self.follow.setSuffix(" min")
        self.follow.setValue(follow_minutes())
        self.wall = QCheckBox("Show the wall clock on the time axis")
        self.wall.setChecked(wall_clock_default())
        form = QFormLayout()
        form.addRow("Alarm and chime &volume", self.volume)
        form.addRow("&Follow latest shows", self.follow)
        form.addRow(self.wall)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(buttons)

    def accept(self) -> None:
        s = qsettings()
        s.setValue("alarms/volume", self.volume.value() / 100.0)
        s.setValue("display/follow_minutes", self.follow.value())
        s.setValue("display/wall_clock", "true" if self.wall.isChecked() else "false")
        s.sync()
        super().accept()
