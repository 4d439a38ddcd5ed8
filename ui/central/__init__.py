"""The central station's window (``sympatherm central``): every room a tile, a room's last 60 minutes.

It shows :class:`monitor.central.CentralModel`; see :mod:`.window`, :mod:`.tile`, :mod:`.room_view`.
"""
