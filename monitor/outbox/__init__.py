"""The outbox of results for the hospital record: HL7 messages kept in the user's data folder
(0600, crash-safe SQLite) and delivered over MLLP, optionally TLS, until acknowledged.

``Outbox`` (store.py) keeps the messages and their states, ``deliver`` (deliver.py) sends them with
backoff, ``send_message`` (mllp.py) is one MLLP exchange, ``Receiver`` (config.py) where they go.
Qt-free: the GUI and the command line both use it.
"""

from monitor.outbox.config import ConfigError, Receiver, load_receiver, parse_address
from monitor.outbox.deliver import Outcome, RetryPolicy, deliver
from monitor.outbox.mllp import Ack, DeliveryError, send_message
from monitor.outbox.store import DELIVERED, REJECTED, WAITING, Outbox, OutboxEntry, OutboxError

__all__ = ["Ack", "ConfigError", "DELIVERED", "DeliveryError", "Outbox", "OutboxEntry", "OutboxError", "Outcome",
           "REJECTED", "Receiver", "RetryPolicy", "WAITING", "deliver", "load_receiver", "parse_address",
           "send_message"]
