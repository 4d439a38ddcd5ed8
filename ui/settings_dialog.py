"""Display and sound settings, kept with QSettings between runs; and publishing to a central
station (off by default), kept in the configuration folder's publish.json (0600: it may hold the
station's password) by :mod:`monitor.publish.config`."""

from __future__ import annotations

from PyQt6.QtCore import QSettings, Qt
from PyQt6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QSlider,
    QSpinBox,
    QVBoxLayout,
)

from monitor.publish.config import PublishConfig, PublishConfigError, load_config, save_config
from ui import theme


def qsettings() -> QSettings:
    return QSettings("SympaTherm", "sympatherm")


def alarm_volume() -> float:
    return float(qsettings().value("alarms/volume", 0.7))


def follow_minutes() -> int:
    return int(qsettings().value("display/follow_minutes", 40))


def wall_clock_default() -> bool:
    return str(qsettings().value("display/wall_clock", "false")).lower() == "true"



def _line_edit(placeholder: str) -> QLineEdit:
    """An empty field showing ``placeholder`` (PyQt6 takes it as a keyword too; its stubs do not)."""
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    return edit

class PublishGroup(QGroupBox):
    """ "Publish to a central station": off unless ticked; the settings are checked before saving."""

    def __init__(self, parent=None) -> None:
        super().__init__("&Publish to a central station", parent)
        self.setCheckable(True)
        self.problem = ""
        try:
            saved = load_config()
        except PublishConfigError as exc:
            saved, self.problem = None, str(exc)
        self.broker = _line_edit("mqtts://broker.clinic.example:8883")
        self.site = _line_edit("clinic")
        self.room = _line_edit("room-1")
        self.bed = QLineEdit()
        self.user = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.ca_file = _line_edit("the CA that signed the broker's certificate (.crt)")
        self.client_cert = _line_edit("optional: this station's certificate")
        self.client_key = _line_edit("optional: its key")
        self.share_patient_id = QCheckBox("Also send the patient ID and notes (off: room and bed only)")
        form = QFormLayout(self)
        note = QLabel("Nothing leaves this computer unless this is ticked. Monitoring and recording "
                      "never depend on the central station. Takes effect from the next session.")
        note.setWordWrap(True)
        form.addRow(note)
        for label, widget in (("Broker", self.broker), ("Site", self.site), ("Room", self.room), ("Bed", self.bed),
                              ("User name", self.user), ("Password", self.password), ("CA file", self.ca_file),
                              ("Client certificate", self.client_cert), ("Client key", self.client_key)):
            form.addRow(label, widget)
        form.addRow(self.share_patient_id)
        self.setChecked(bool(saved and saved.enabled))
        if saved is not None:
            for widget, value in ((self.broker, saved.broker), (self.site, saved.site), (self.room, saved.room),
                                  (self.bed, saved.bed), (self.user, saved.username), (self.password, saved.password),
                                  (self.ca_file, saved.ca_file), (self.client_cert, saved.client_cert),
                                  (self.client_key, saved.client_key)):
                widget.setText(value)
            self.share_patient_id.setChecked(saved.share_patient_id)
        self._saved = saved

    def config(self) -> PublishConfig:
        """The settings as typed (PublishConfigError in words if they cannot work while ticked)."""
        config = PublishConfig(
            broker=self.broker.text().strip(), room=self.room.text().strip(), site=self.site.text().strip() or "clinic",
            bed=self.bed.text().strip(), username=self.user.text().strip(), password=self.password.text(),
            ca_file=self.ca_file.text().strip(), client_cert=self.client_cert.text().strip(),
            client_key=self.client_key.text().strip(), share_patient_id=self.share_patient_id.isChecked(),
            enabled=self.isChecked(), allow_insecure=bool(self._saved and self._saved.allow_insecure))
        if config.enabled:
            config = config.checked()
            config.ssl_context()
        return config

    def save(self) -> None:
        """Write publish.json (0600) when ticked, or when switching saved settings off; else nothing."""
        config = self.config()
        if config.enabled or self._saved is not None:
            save_config(config)


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
        self.wall = QCheckBox("Show the &wall clock on the time axis")
        self.wall.setChecked(wall_clock_default())
        form = QFormLayout()
        form.addRow("Alarm and chime &volume", self.volume)
        form.addRow("&Follow latest shows", self.follow)
        form.addRow(self.wall)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.publish = PublishGroup()
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.publish)
        lay.addWidget(buttons)

    def accept(self) -> None:
        try:
            self.publish.save()
        except (PublishConfigError, OSError) as exc:
            QMessageBox.warning(self, "Publish to a central station", f"These settings cannot be used: {exc}")
            return
        s = qsettings()
        s.setValue("alarms/volume", self.volume.value() / 100.0)
        s.setValue("display/follow_minutes", self.follow.value())
        s.setValue("display/wall_clock", "true" if self.wall.isChecked() else "false")
        s.sync()
        super().accept()
