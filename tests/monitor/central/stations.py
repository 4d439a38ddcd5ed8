"""A made-up station for the central's tests: valid v1 messages built with the wire contract's own
dataclasses and encoder (monitor.publish.messages), numbered as a station numbers them."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from monitor.publish import messages as wire

STARTED_AT = "2026-12-02T07:00:00.000Z"


def _verdict(state: str = "monitoring", words: str = "Monitoring") -> wire.Verdict:
    return wire.Verdict(state, words, "default", "ΔTb ≥ 2.0 °C and Di − Dc ≥ 1.5 °C, held for 60 s", (), None, None)


@dataclass
class FakeStation:
    """Builds one room's messages: ``topic(kind)`` and ``payload`` pairs, seq counted per kind."""

    site: str = "clinic"
    room: str = "room-1"
    bed: str | None = "2"
    run_id: str = "0123456789abcdef"
    blocked: wire.Side = "left"
    started_at: str = STARTED_AT
    session_s: float = 0.0
    seqs: dict[str, int] = field(default_factory=dict)

    def topic(self, kind: wire.Kind | str) -> str:
        return wire.topic(self.site, self.room, kind)

    def _seq(self, kind: wire.Kind) -> int:
        self.seqs[kind] = self.seqs.get(kind, 0) + 1
        return self.seqs[kind]

    @staticmethod
    def now() -> str:
        return wire.iso_utc(time.time())

    # ---- messages --------------------------------------------------------------------------
    def status(self, online: bool = True, reason: str = "publishing") -> tuple[str, bytes]:
        msg = wire.Status(self.site, self.room, self.bed, online, wire.station_client_id(self.site, self.room),
                          "sympatherm 0.1.0", True, reason, self.now())
        return self.topic(wire.Kind.STATUS), wire.encode(msg)

    def state(self, *, left: float | None = 31.2, right: float | None = 30.1, rise_left: float | None = 2.4,
              rise_right: float | None = 0.3, di_minus_dc: float | None = 2.1, injection_s: float | None = 300.0,
              verdict: wire.Verdict | None = None, alarms: tuple[wire.AlarmNow, ...] = (),
              finished: bool = False, right_withheld: str | None = None) -> tuple[str, bytes]:
        feet = {"left": wire.FootNow(left, left is not None, "OK", 28.8, rise_left, None, 0.2),
                "right": wire.FootNow(right, right_withheld is None, right_withheld or "OK", 29.8, rise_right,
                                      right_withheld, 0.2)}
        msg = wire.State(self.site, self.room, self.bed, self.run_id, self._seq(wire.Kind.STATE), True, self.blocked,
                         verdict or _verdict(), 1, injection_s, None if injection_s is None else STARTED_AT, feet,
                         di_minus_dc, None if di_minus_dc is not None else "R probe may have lifted", alarms,
                         self.session_s, self.started_at, finished, self.now())
        return self.topic(wire.Kind.STATE), wire.encode(msg)

    def readings(self, left: float | None = 31.2, right: float | None = 30.1, *,
                 dropped_before: int = 0) -> tuple[str, bytes]:
        feet = {"left": wire.FootReading(left, left is not None), "right": wire.FootReading(right, right is not None)}
        msg = wire.Readings(self.run_id, self._seq(wire.Kind.READINGS), self.session_s, self.now(), feet,
                            dropped_before, self.now())
        return self.topic(wire.Kind.READINGS), wire.encode(msg)

    def alarm(self, event: str, alarm_id: str = "probe_off:right", priority: wire.AlarmPriority = "medium",
              text: str = "R right probe: PROBE OFF") -> tuple[str, bytes]:
        msg = wire.AlarmEvent(self.run_id, self._seq(wire.Kind.ALARMS), event, alarm_id, priority,  # type: ignore[arg-type]
                              text, "right", self.session_s, self.now(),
                              self.session_s if event == "end" else None, self.now() if event == "end" else None,
                              self.now())
        return self.topic(wire.Kind.ALARMS), wire.encode(msg)

    def verdict(self, state: str = "confirmed", words: str = "Block CONFIRMED") -> tuple[str, bytes]:
        msg = wire.VerdictChange(self.run_id, self._seq(wire.Kind.VERDICT), self.session_s, 1,
                                 _verdict(state, words), self.now())
        return self.topic(wire.Kind.VERDICT), wire.encode(msg)

    def markers(self, *marks: tuple[str, float]) -> tuple[str, bytes]:
        """``marks``: (kind, session_s) pairs, the whole list."""
        items = tuple(wire.MarkerNow(i + 1, kind, kind.replace("_", " ").capitalize(), at, None, "")
                      for i, (kind, at) in enumerate(marks))
        msg = wire.Markers(self.run_id, self._seq(wire.Kind.MARKERS), items, self.now())
        return self.topic(wire.Kind.MARKERS), wire.encode(msg)

    def history(self, start_s: float, left: list[float | None], right: list[float | None] | None = None,
                di_minus_dc: list[float | None] | None = None, step_s: float = 10.0) -> tuple[str, bytes]:
        """The retained history: a point every ``step_s`` from ``start_s`` (right and Di − Dc as left
        unless given)."""
        msg = wire.History(self.run_id, self._seq(wire.Kind.HISTORY), self.started_at, start_s, step_s,
                           {"left": tuple(left), "right": tuple(right if right is not None else left)},
                           tuple(di_minus_dc if di_minus_dc is not None else left), self.now())
        return self.topic(wire.Kind.HISTORY), wire.encode(msg)

    def restarted(self, run_id: str, *, new_session: bool) -> FakeStation:
        """The same room after its publisher started again (``new_session``: the room's next patient)."""
        started = "2026-12-02T09:00:00.000Z" if new_session else self.started_at
        return replace(self, run_id=run_id, started_at=started, seqs={},
                       session_s=0.0 if new_session else self.session_s)


def alarm_now(alarm_id: str = "probe_off:right", priority: wire.AlarmPriority = "medium",
              text: str = "R right probe: PROBE OFF", since_s: float = 100.0) -> wire.AlarmNow:
    return wire.AlarmNow(alarm_id, priority, text, "right", since_s, STARTED_AT, False)


def verdict(state: str, words: str) -> wire.Verdict:
    return _verdict(state, words)
