"""The procedure core: what a monitored lumbar sympathetic block is made of, apart from any
window or command line, starting with the description of the probe source a session records
from (:mod:`.source_spec`), kept in the session file so that an interrupted session can be
resumed from the same source."""

from monitor.procedure.events import LogEntry, NewPoints
from monitor.procedure.procedure import LimbLive, MarkerRefused, Procedure

__all__ = ["LimbLive", "LogEntry", "MarkerRefused", "NewPoints", "Procedure"]
