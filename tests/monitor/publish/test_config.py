"""Publishing settings: the broker address, plain MQTT refused off this computer, secrets kept secret."""

from __future__ import annotations

import stat

import pytest

from monitor.publish.config import (
    PASSWORD_ENV,
    PublishConfig,
    PublishConfigError,
    load_config,
    parse_broker_url,
    read_password,
    save_config,
)
from monitor.publish.flags import start_publishing


def test_broker_addresses():
    assert str(parse_broker_url("mqtts://broker.clinic.example")) == "mqtts://broker.clinic.example:8883"
    assert str(parse_broker_url("MQTTS://[::1]:9000")) == "mqtts://[::1]:9000"
    for local in ("mqtt://localhost", "mqtt://127.0.0.1:1884", "mqtt://[::1]"):
        assert not parse_broker_url(local).tls
    with pytest.raises(PublishConfigError, match="unencrypted.*--publish-insecure"):
        parse_broker_url("mqtt://10.0.0.7")
    assert parse_broker_url("mqtt://10.0.0.7", allow_insecure=True).port == 1883
    for bad in ("broker:8883", "ws://broker", "mqtts://", "mqtts://b:99999", "mqtts://b/x"):
        with pytest.raises(PublishConfigError):
            parse_broker_url(bad)


def test_the_password_is_never_in_words_and_the_saved_file_is_0600(tmp_path):
    config = PublishConfig(broker="mqtts://b:8883", room="room-1", username="room-1", password="s3cret-pw")
    assert "s3cret-pw" not in repr(config) and "s3cret-pw" not in config.describe()
    path = save_config(config, tmp_path / "publish.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_config(path) == config
    assert load_config(tmp_path / "none.json") is None
    path.write_text('{"broker": "mqtts://b", "room": "r", "colour": "red"}')
    with pytest.raises(PublishConfigError, match="unknown publishing setting"):
        load_config(path)
    path.write_text('{"broker": "mqtts://b", "room": "r", "enabled": "yes"}')
    with pytest.raises(PublishConfigError, match="enabled must be bool"):
        load_config(path)


def test_settings_that_cannot_work_are_said_in_words(tmp_path):
    def check(**kw):
        return PublishConfig(**{"broker": "mqtts://b:8883", "room": "room-1", **kw}).checked()

    with pytest.raises(PublishConfigError, match="password needs a user name"):
        check(password="x")
    with pytest.raises(PublishConfigError, match="for mqtts://"):
        check(broker="mqtt://localhost", ca_file=str(tmp_path))
    with pytest.raises(PublishConfigError, match="does not exist"):
        check(ca_file=str(tmp_path / "ca.crt"))
    with pytest.raises(PublishConfigError, match="needs its client certificate"):
        check(client_key="k.pem")
    with pytest.raises(PublishConfigError, match="bed"):
        check(bed="x" * 40)
    assert check(bed="  Bay 3 ").bed == "Bay 3"
    assert check().client_id == "sympatherm-station-clinic-room-1"


def test_the_password_comes_from_a_file_or_the_environment(tmp_path, monkeypatch):
    secret = tmp_path / "pw"
    secret.write_text("from-file\nignored\n")
    monkeypatch.setenv(PASSWORD_ENV, "from-env")
    assert read_password(str(secret)) == "from-file"
    assert read_password(None) == "from-env"
    with pytest.raises(PublishConfigError, match="cannot read the password file"):
        read_password(str(tmp_path / "missing"))


def test_nothing_is_published_unless_configured_and_enabled():
    assert start_publishing(None, procedure=None) is None  # type: ignore[arg-type]
    off = PublishConfig(broker="mqtts://b:8883", room="room-1", enabled=False)
    assert start_publishing(off, procedure=None) is None  # type: ignore[arg-type]
