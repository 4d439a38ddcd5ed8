"""The settings dialog's "Publish to a central station": off by default, checked, saved 0600."""

from __future__ import annotations

import stat

from monitor.publish.config import config_path, load_config


def test_publishing_is_off_by_default_and_saved_0600_once_ticked(qtbot, tmp_path, monkeypatch):
    from ui import settings_dialog
    from ui.settings_dialog import SettingsDialog

    dlg = SettingsDialog()
    qtbot.addWidget(dlg)
    assert not dlg.publish.isChecked()
    dlg.accept()
    assert not config_path().exists(), "nothing is written while publishing was never turned on"

    warnings = []
    monkeypatch.setattr(settings_dialog.QMessageBox, "warning", lambda *a: warnings.append(a[2]))
    dlg = SettingsDialog()
    qtbot.addWidget(dlg)
    dlg.publish.setChecked(True)
    dlg.publish.broker.setText("mqtt://10.0.0.7")
    dlg.publish.room.setText("room-1")
    dlg.accept()
    assert warnings and "unencrypted" in warnings[-1] and not config_path().exists()

    ca = tmp_path / "ca.crt"
    ca.write_text(_test_ca())
    dlg.publish.broker.setText("mqtts://broker.clinic.example:8883")
    dlg.publish.user.setText("room-1")
    dlg.publish.password.setText("pw")
    dlg.publish.ca_file.setText(str(ca))
    dlg.accept()
    saved = load_config()
    assert saved is not None and saved.enabled and saved.room == "room-1" and saved.password == "pw"
    assert stat.S_IMODE(config_path().stat().st_mode) == 0o600

    again = SettingsDialog()
    qtbot.addWidget(again)
    assert again.publish.isChecked() and again.publish.password.text() == "pw"
    again.publish.setChecked(False)
    again.accept()
    assert load_config().enabled is False, "switched off, the settings are kept for next time"


def _test_ca() -> str:
    import subprocess

    key = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                          "-nodes", "-keyout", "/dev/null", "-subj", "/CN=test", "-days", "1"],
                         capture_output=True, text=True, check=True)
    return key.stdout
