"""Putting a finished session's ORU^R01 into the outbox (the one way the command line and the GUI
both queue a result)."""

from __future__ import annotations

import os
from pathlib import Path

from monitor.outbox.config import Receiver
from monitor.outbox.store import Outbox, OutboxEntry, OutboxError


def queue_session(outbox: Outbox, session: str | os.PathLike[str], receiver: Receiver, *,
                  again: bool = False) -> OutboxEntry:
    """Build the message for ``session`` (the PDF's figures, the site's message settings) and add it
    to the outbox for ``receiver``. A session already delivered there is refused unless ``again``
    (a second copy in the record is worse than a clear refusal)."""
    from monitor.exports.figures import compute_figures
    from monitor.exports.hl7 import load_message_settings, message_for, new_control_id
    from monitor.exports.session_data import load_session

    path = Path(session).resolve()
    before = outbox.delivered_before(str(path), receiver)
    if before is not None and not again:
        raise OutboxError(f"{path.name} was already delivered to {receiver.address} (control id "
                          f"{before.control_id}); to send it once more, ask for it again (--again)")
    data = load_session(path)
    control_id = new_control_id()
    text = message_for(data, compute_figures(data), load_message_settings(), control_id=control_id)
    return outbox.add(control_id, str(path), receiver, text.encode("utf-8"))
