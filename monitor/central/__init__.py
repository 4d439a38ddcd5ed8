"""The central station: every room's published state in one place (Qt-free; see docs/central-station.md).

:mod:`.connection` is the link to the broker, :mod:`.model` the rooms kept from the stations'
messages (:mod:`.rooms`, :mod:`.history`); ``ui.central`` draws them.
"""

from monitor.central.connection import BrokerSettings, CentralConnection, Incoming, LinkChange
from monitor.central.history import HISTORY_S, HistoryMarker, RoomHistory
from monitor.central.model import CentralModel, NotUnderstood
from monitor.central.rooms import SILENT_AFTER_S, Communication, Room, RoomKey

__all__ = ["HISTORY_S", "SILENT_AFTER_S", "BrokerSettings", "CentralConnection", "CentralModel", "Communication",
           "HistoryMarker", "Incoming", "LinkChange", "NotUnderstood", "Room", "RoomHistory", "RoomKey"]
