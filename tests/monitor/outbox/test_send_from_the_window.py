"""The window's "Send to the record" queues the session in the outbox and delivers it to a real
MLLP receiver; AE is shown with the receiver's words."""

from __future__ import annotations

import pytest

from monitor.outbox import DELIVERED, REJECTED, Outbox
from tests.monitor.outbox.receiver import Receiver as MllpServer
from tests.support.sessions import record_simulated


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    return record_simulated(tmp_path_factory.mktemp("gui-send") / "gui.sympatherm", "success-fast", seed=6,
                            until_s=900.0)


@pytest.mark.parametrize("answer, state, words", [("AA", DELIVERED, "Delivered to the record"),
                                                   ("AE", REJECTED, "Patient & visit not found")])
def test_send_to_the_record_from_the_export_dialog(qtbot, session, answer, state, words):
    from ui.export_dialog import ExportDialog

    with MllpServer([answer]) as server:
        dialog = ExportDialog(session)
        qtbot.addWidget(dialog)
        dialog.send_wait_s = 3.0
        dialog.receiver_edit.setText(f"127.0.0.1:{server.port}")
        dialog.send_btn.click()
        dialog.wait_send()
        qtbot.waitUntil(lambda: dialog.send_state != "", timeout=5000)
        assert dialog.send_state == state and words in dialog.send_label.text()
        assert len(server.received) == 1
    with Outbox() as outbox:
        assert [e.state for e in outbox.entries()] == [state]


def test_a_receiver_that_is_not_host_port_is_refused_in_plain_words(qtbot, session):
    from ui.export_dialog import ExportDialog

    dialog = ExportDialog(session)
    qtbot.addWidget(dialog)
    dialog.receiver_edit.setText("record-server")
    dialog.send_btn.click()
    assert dialog.send_state == "error" and "not HOST:PORT" in dialog.send_label.text()
    with Outbox() as outbox:
        assert outbox.entries() == []
