"""Probe sources behind one interface (:class:`monitor.sources.base.ProbeSource`)."""

from monitor.sources.base import ConnectionEvent, DeviceIdentity, ProbeSource, SourceHealth

__all__ = ["ConnectionEvent", "DeviceIdentity", "ProbeSource", "SourceHealth"]
