"""`sympatherm central`'s flags: what cannot work is refused in plain words before anything starts."""

from __future__ import annotations

import pytest

from monitor.cli import main


@pytest.mark.parametrize(("flags", "words"), [
    (["--broker", "mqtt://broker.clinic.example"], "unencrypted"),
    (["--broker", "https://broker"], "mqtts://HOST:PORT"),
    (["--broker", "mqtts://central:secret@broker:8883"], "password"),
    (["--broker", "mqtts://broker:8883", "--ca", "/no/such/ca.crt"], "does not exist"),
    (["--broker", "mqtts://broker:8883", "--site", "a site"], "site name must be"),
    (["--broker", "mqtts://broker:8883", "--wait", "3"], "only make sense with --snapshot"),
    (["--broker", "mqtts://broker:8883", "--snapshot", "x.png", "--open-room", "room-1"], "SITE/ROOM"),
    (["--broker", "mqtt://localhost:1883", "--ca", "/etc/hostname"], "are for mqtts://"),
])
def test_flags_that_cannot_work_are_refused(capsys, flags, words):
    assert main(["central", *flags]) == 2
    assert words in capsys.readouterr().err


def test_a_password_file_is_read_and_a_password_needs_a_user(tmp_path, capsys):
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    assert main(["central", "--broker", "mqtts://broker:8883", "--password-file", str(secret)]) == 2
    err = capsys.readouterr().err
    assert "--username" in err and "s3cret" not in err


def test_plain_mqtt_to_another_computer_needs_insecure_and_the_client_id_is_stable(tmp_path):
    import argparse

    from monitor.commands.central import default_client_id, register, settings_from_args

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["central", "--broker", "mqtt://10.0.0.7", "--insecure"])
    settings = settings_from_args(args)
    assert (settings.host, settings.port, settings.tls) == ("10.0.0.7", 1883, False)
    assert settings.client_id == default_client_id() == default_client_id()
    assert settings.site == "+"


@pytest.mark.parametrize("command", [["central", "--broker", "mqtts://broker:8883", "--snapshot", "x.png"],
                                     ["send", "x.sympatherm"], ["outbox"]])
@pytest.mark.parametrize("wait", ["nan", "-0.5", "3601", "1e999", "five"])
def test_every_wait_flag_refuses_what_is_not_a_number_of_seconds_in_range_in_the_same_words(capsys, command, wait):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--wait", wait])
    assert exit_.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"argument --wait: {wait!r} is" in last and ("not a" in last or "out of range" in last), last


def test_a_wait_of_minus_zero_is_zero_seconds():
    from monitor.commands.send import wait_seconds

    assert str(wait_seconds("-0")) == "0.0" and wait_seconds(" 5 ") == 5.0
