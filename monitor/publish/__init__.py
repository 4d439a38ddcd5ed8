"""Publishing a station's live procedure to a central station over MQTT (off by default).

:mod:`.messages` is the wire contract (topics, payloads, JSON Schemas); :mod:`.station` sends
what the procedure core emits, through a bounded queue that never blocks the core. See
docs/central-station.md.
"""
