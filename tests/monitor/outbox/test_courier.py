"""While the application runs, what waits in the outbox goes on being delivered: a receiver that
was down when the result was sent gets it once it is back, with no one sending again."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from monitor.outbox import DELIVERED, WAITING, Outbox, Receiver, RetryPolicy
from monitor.outbox.courier import OutboxCourier
from monitor.outbox.deliver import deliver
from monitor.outbox.queue import queue_session
from tests.monitor.outbox.receiver import Receiver as MllpServer
from tests.monitor.outbox.receiver import free_port
from tests.support.sessions import record_simulated


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> Path:
    return record_simulated(tmp_path_factory.mktemp("courier") / "c.sympatherm", "success-fast", seed=6,
                            until_s=1500.0, patient_id="MRN-78")


def test_the_courier_delivers_once_the_receiver_is_back(session, tmp_path):
    path = tmp_path / "o.sqlite"
    port = free_port()
    blocker = socket.socket()  # bound, not listening: the receiver is down
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", port))
    with Outbox(path) as outbox:
        entry = queue_session(outbox, session, Receiver("127.0.0.1", port, timeout_s=2.0))
        deliver(outbox, policy=RetryPolicy(0.05, 0.1), now_due=True)  # the send the user made: refused
        assert outbox.get(entry.control_id).state == WAITING
    blocker.close()
    courier = OutboxCourier(path, every_s=0.1)
    with MllpServer(port=port) as server:
        courier.start()
        deadline = time.monotonic() + 30
        with Outbox(path) as watcher:
            while watcher.get(entry.control_id).state != DELIVERED and time.monotonic() < deadline:
                time.sleep(0.05)
            courier.stop()
            assert watcher.get(entry.control_id).state == DELIVERED
        assert server.control_ids() == [entry.control_id], "delivered exactly once"


def test_without_an_outbox_file_the_courier_creates_nothing(tmp_path):
    courier = OutboxCourier(tmp_path / "none.sqlite")
    assert courier.deliver_once() == 0
    assert not (tmp_path / "none.sqlite").exists(), "nothing was ever sent: no file, no network"
