"""The outbox against a real MLLP receiver (python-hl7's asyncio server on localhost): delivered
only on an AA for its own control id; AE kept with the receiver's words; silence, a dropped
connection and a receiver that is down leave it waiting; retries survive a restart; a SIGKILL
mid-send loses nothing and never resends what was acknowledged; TLS verifies the receiver."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import ssl
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import hl7
import pytest

from monitor.cli import main
from monitor.exports.figures import compute_figures
from monitor.exports.session_data import load_session
from monitor.outbox import DELIVERED, REJECTED, WAITING, Outbox, Receiver, RetryPolicy, deliver
from monitor.outbox.queue import queue_session
from monitor.outbox.store import OutboxError
from tests.monitor.outbox.receiver import Receiver as MllpServer
from tests.monitor.outbox.receiver import free_port
from tests.support.sessions import record_simulated

FAST = RetryPolicy(first_delay_s=0.05, max_delay_s=0.2)
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> Path:
    return record_simulated(tmp_path_factory.mktemp("outbox") / "sent.sympatherm", "success-fast", seed=5,
                            until_s=1500.0, patient_id="MRN-77")


def _to(server: MllpServer, **kw) -> Receiver:
    return Receiver("127.0.0.1", server.port, timeout_s=kw.pop("timeout_s", 3.0), **kw)


def test_delivered_on_aa_for_its_control_id_and_the_receiver_parses_the_report_figures(session, tmp_path):
    with MllpServer() as server, Outbox(tmp_path / "o.sqlite") as outbox:
        entry = queue_session(outbox, session, _to(server))
        [outcome] = deliver(outbox, policy=FAST, now_due=True)
        assert outcome.state == DELIVERED
        assert outbox.get(entry.control_id).ack_code == "AA"
        assert server.control_ids() == [entry.control_id]
        [message] = server.received
    assert stat.S_IMODE((tmp_path / "o.sqlite").stat().st_mode) == 0o600
    figures = compute_figures(load_session(session))
    rows = {(str(o[3][0][0][0]), str(o[4])): str(o[5]) for o in message.segments("OBX")}
    blocked = figures.blocked
    chan = "1.1.2" if blocked.limb.value == "right" else "1.1.1"
    assert float(rows[("150388", f"{chan}.1")]) == blocked.baseline_c
    assert float(rows[("188440", f"{chan}.10")]) == blocked.rise_c
    assert float(rows[("188440", "1.1.3.1")]) == figures.di_minus_dc_c
    assert rows[("block-assessment", "1.2.1.1")].startswith("confirmed^")
    assert message.unescape(str(message.segment("PID")[3][0][0])) == "MRN-77"


def test_ae_is_kept_with_the_receivers_words_and_shown_until_retried(session, tmp_path, capsys):
    with MllpServer(["AE"]) as server, Outbox() as outbox:
        entry = queue_session(outbox, session, _to(server))
        [outcome] = deliver(outbox, policy=FAST, now_due=True, wait_s=2.0)
        assert outcome.state == REJECTED and "Patient & visit not found" in outcome.words
        kept = outbox.get(entry.control_id)
        assert kept.state == REJECTED and kept.ack_code == "AE" and kept.ack_text == "Patient & visit not found"
        assert len(server.received) == 1, "a rejected message is not retried by itself"
        assert main(["outbox"]) == 0
        shown = capsys.readouterr().out
        assert "Rejected by the receiver" in shown and "AE: Patient & visit not found" in shown
        assert main(["outbox", "--retry", entry.control_id, "--wait", "5"]) == 0
        assert outbox.get(entry.control_id).state == DELIVERED
        assert server.control_ids() == [entry.control_id] * 2


@pytest.mark.parametrize("behaviour, words", [("silence", "no acknowledgement"), ("drop", "closed the connection"),
                                              ("AA-other", "not counted as delivered")])
def test_silence_a_dropped_connection_or_someone_elses_ack_leave_it_waiting(session, tmp_path, behaviour, words):
    with MllpServer([behaviour]) as server, Outbox() as outbox:
        entry = queue_session(outbox, session, _to(server, timeout_s=0.5))
        [outcome] = deliver(outbox, policy=FAST, now_due=True)
        assert outcome.state == WAITING and words in outcome.words
        assert outbox.get(entry.control_id).attempts == 1
        [outcome] = deliver(outbox, policy=FAST, now_due=True, wait_s=5.0)
        assert outcome.state == DELIVERED
        assert server.acknowledged == [entry.control_id]
        assert server.control_ids() == [entry.control_id] * 2, "the resend keeps its control id"


def test_a_receiver_down_for_the_first_three_attempts_gets_the_message_exactly_once(session, tmp_path):
    port = free_port()
    blocker = socket.socket()  # bound, not listening: connections are refused, and no one takes the port
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", port))
    with Outbox() as outbox:
        entry = queue_session(outbox, session, Receiver("127.0.0.1", port, timeout_s=2.0))
    results: list = []
    worker = threading.Thread(target=lambda: results.extend(
        deliver(Outbox(), policy=RetryPolicy(0.2, 0.4), now_due=True, wait_s=60.0)))
    worker.start()
    with Outbox() as watcher:
        deadline = time.monotonic() + 30
        while watcher.get(entry.control_id).attempts < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert watcher.get(entry.control_id).attempts == 3
        assert "refused" in watcher.get(entry.control_id).last_error
        blocker.close()
        with MllpServer(port=port) as server:
            worker.join(60)
            assert results and results[-1].state == DELIVERED
            assert watcher.get(entry.control_id).attempts == 4
            assert deliver(watcher, policy=FAST, now_due=True) == [], "nothing left to send"
            time.sleep(0.2)
            assert server.control_ids() == [entry.control_id] and server.acknowledged == [entry.control_id]


def test_a_waiting_message_survives_a_restart_and_a_delivered_one_is_never_sent_again(session, tmp_path, capsys):
    port = free_port()
    with Outbox() as outbox:
        entry = queue_session(outbox, session, Receiver("127.0.0.1", port, timeout_s=1.0))
        [outcome] = deliver(outbox, policy=FAST, now_due=True)
        assert outcome.state == WAITING
    with MllpServer(port=port) as server:  # the app started again: a new outbox object, same file
        assert main(["outbox", "--deliver", "--wait", "5"]) == 0
        assert main(["outbox", "--deliver", "--wait", "1"]) == 0
        time.sleep(0.2)
        assert server.control_ids() == [entry.control_id]
    with Outbox() as outbox:
        assert outbox.get(entry.control_id).state == DELIVERED
        with pytest.raises(OutboxError, match="already delivered"):
            queue_session(outbox, session, Receiver("127.0.0.1", port))
    assert "Delivered: 1" in capsys.readouterr().out


def test_send_from_the_command_line(session, tmp_path, capsys):
    with MllpServer() as server:
        assert main(["send", str(session), "--mllp", f"127.0.0.1:{server.port}", "--wait", "5"]) == 0
        out = capsys.readouterr().out
        assert "Delivered" in out and "plain MLLP is unencrypted" in out
        assert main(["send", str(session), "--mllp", f"127.0.0.1:{server.port}"]) == 1
        assert "already delivered" in capsys.readouterr().err
        assert len(server.received) == 1
    assert main(["send", str(session)]) == 1
    assert "no receiver" in capsys.readouterr().err
    assert main(["send", str(session), "--mllp", "nowhere"]) == 1
    assert "not HOST:PORT" in capsys.readouterr().err


def _certificates(folder: Path, name: str = "localhost") -> tuple[Path, Path, Path]:
    """A CA made here, and a server certificate it signed for 127.0.0.1 / localhost."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Test CA {folder.name}")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    ca_pem, cert_pem, key_pem = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return ca_pem, cert_pem, key_pem


def test_tls_to_a_receiver_whose_certificate_our_ca_signed_and_never_to_an_unknown_one(session, tmp_path):
    ca, cert, key = _certificates(tmp_path / "site")
    other_ca, _, _ = _certificates(tmp_path / "stranger")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    with MllpServer(ssl_context=server_context) as server, Outbox() as outbox:
        stranger = queue_session(outbox, session, _to(server, tls=True, ca_file=str(other_ca)))
        [outcome] = deliver(outbox, policy=FAST, now_due=True)
        assert outcome.state == WAITING and "certificate was not accepted" in outcome.words
        assert server.received == [], "nothing went to a receiver whose certificate we could not verify"
        trusted = queue_session(outbox, session, _to(server, tls=True, ca_file=str(ca)))
        outcomes = deliver(outbox, policy=FAST, now_due=True, only=trusted.control_id)
        assert [o.state for o in outcomes] == [DELIVERED]
        assert server.control_ids() == [trusted.control_id]
        assert outbox.get(stranger.control_id).state == WAITING


@pytest.mark.slow
def test_sigkill_of_the_sender_mid_send_loses_nothing_and_resends_nothing_acknowledged(session, tmp_path):
    home = Path(os.environ["SYMPATHERM_HOME"])
    env = {**os.environ, "SYMPATHERM_HOME": str(home), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "monitor.cli", "outbox", "--deliver", "--wait", "60"]
    with MllpServer(["AA", "silence"]) as server:
        with Outbox() as outbox:
            ids = [queue_session(outbox, session, _to(server, timeout_s=30.0), again=True).control_id
                   for _ in range(3)]
        sender = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while len(server.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(server.received) == 2, "the second message is at the receiver, unacknowledged"
        sender.send_signal(signal.SIGKILL)  # mid-send: waiting for the second acknowledgement
        sender.wait(10)
        with Outbox() as outbox:
            assert [outbox.get(i).state for i in ids] == [DELIVERED, WAITING, WAITING], "nothing lost"
        again = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stdout + again.stderr
        with Outbox() as outbox:
            assert [outbox.get(i).state for i in ids] == [DELIVERED] * 3
        time.sleep(0.2)
        sent = server.control_ids()
        assert sent.count(ids[0]) == 1, "the acknowledged message was never sent again"
        assert sent.count(ids[1]) == 2, "the unacknowledged one was sent again, with the same control id"
        assert sent.count(ids[2]) == 1
        assert sorted(server.acknowledged) == sorted(ids), "each control id acknowledged exactly once"


def test_a_broken_acknowledgement_is_not_a_delivery():
    from monitor.outbox.mllp import DeliveryError, parse_ack

    with pytest.raises(DeliveryError, match="not an HL7 acknowledgement"):
        parse_ack("hello")
    ack = parse_ack("MSH|^~\\&|R|F|||20260101||ACK|1|P|2.6\rMSA|AR|ABC|Unsupported \\F\\ type\r")
    assert ack.rejected and ack.control_id == "ABC" and ack.text == "Unsupported | type"
    assert hl7.parse("MSH|^~\\&|R\rMSA|AA|X").segment("MSA")
