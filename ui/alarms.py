"""Technical alarms (probe off, sensor fault, no data) per IEC 60601-1-8 visual conventions.

Conditions are evaluated from what the core reports (latest probe status and reading age per
limb, source connection state). Each condition has a priority: ``medium`` (yellow, flashing
0.4–0.8 Hz, audible repeated until acknowledged) or ``low`` (cyan, steady, one short tone).
Acknowledging silences the sound but keeps the visual sign until the condition ends. Every
condition goes to the session log with its start, value and end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from monitor.model import Limb, ProbeStatus

# Flashing frequency for medium priority: 0.6 Hz, inside the 0.4–0.8 Hz band.
MEDIUM_FLASH_HZ = 0.6
NO_DATA_AFTER_S = 10.0
NEVER_SEEN_AFTER_S = 20.0  # session seconds before a probe that never reported raises "no data"
# A medium alarm repeats its tone this often (seconds of real time) until acknowledged.
MEDIUM_REPEAT_S = 15.0


@dataclass
class AlarmCondition:
    key: str
    priority: str  # "low" | "medium"
    text: str
    limb: Limb | None = None
    subkind: str = ""
    value: float | None = None


@dataclass
class ActiveAlarm:
    condition: AlarmCondition
    start_s: float
    acknowledged: bool = False
    event_id: int | None = None


def conditions_from_state(statuses: dict[Limb, ProbeStatus | None], ages: dict[Limb, float | None],
                          connection_lost: str | None = None,
                          ongoing_artefacts: dict[Limb, str] | None = None,
                          session_s: float | None = None,
                          no_data_after_s: dict[Limb, float] | None = None) -> list[AlarmCondition]:
    """The alarm conditions present now, from per-limb probe status and age of last reading, and
    the artefacts the pipeline sees going on (a lifted or handled probe: low priority).

    ``no_data_after_s``: per limb, the silence its probe's own rhythm allows (a Bluetooth
    thermometer may report every 30 s); "no data" is raised after that, never before
    ``NO_DATA_AFTER_S``."""
    out: list[AlarmCondition] = []
    if connection_lost:
        out.append(AlarmCondition("connection", "medium", f"NO DATA: {connection_lost}", None, "no_data"))
    for limb in Limb:
        name = f"{limb.letter} {'left' if limb is Limb.LEFT else 'right'} probe"
        age = ages.get(limb)
        status = statuses.get(limb)
        limit = max(NO_DATA_AFTER_S, (no_data_after_s or {}).get(limb, NO_DATA_AFTER_S))
        if age is not None and age >= limit and not connection_lost:
            out.append(AlarmCondition(f"no_data:{limb}", "medium", f"{name}: NO DATA for {int(age)} s",
                                      limb, "no_data", value=age))
        elif age is None and session_s is not None and session_s >= NEVER_SEEN_AFTER_S and not connection_lost:
            # A probe that never sent anything (unplugged from the start, a one-foot device missing).
            out.append(AlarmCondition(f"no_data:{limb}", "medium", f"{name}: NO DATA since the start", limb,
                                      "no_data_since_start"))
        elif status is ProbeStatus.NOT_ATTACHED:
            out.append(AlarmCondition(f"probe_off:{limb}", "medium", f"{name}: PROBE OFF", limb, "probe_off"))
        elif status is not None and status.is_fault:
            out.append(AlarmCondition(f"fault:{limb}", "medium", f"{name}: {status.plain.upper()}", limb,
                                      "sensor_fault"))
        elif (ongoing_artefacts or {}).get(limb) == "probe_lifted":
            out.append(AlarmCondition(f"lifted:{limb}", "low", f"{name}: check the tape, probe may have lifted",
                                      limb, "probe_lifted"))
        elif (ongoing_artefacts or {}).get(limb) == "touch":
            out.append(AlarmCondition(f"touch:{limb}", "low", f"{name}: being touched or handled", limb, "touch"))
    return out


class AlarmManager:
    """Keeps the active alarms, their acknowledgement and their record in the session log.

    ``log_start(condition, start_s) -> event id | None`` and ``log_end(event_id, end_s)`` write
    to the session store; ``sound(priority)`` plays the short tone.
    """

    def __init__(self, log_start: Callable[[AlarmCondition, float], int | None] | None = None,
                 log_end: Callable[[int, float], None] | None = None,
                 sound: Callable[[str], None] | None = None) -> None:
        self.active: dict[str, ActiveAlarm] = {}
        self.history: list[tuple[str, float, float | None]] = []  # (key, start, end)
        self._log_start = log_start
        self._log_end = log_end
        self._sound = sound
        self._last_tone_real: float = -1e9

    def update(self, conditions: list[AlarmCondition], now_s: float, real_now: float) -> list[str]:
        """Raise new alarms, end the ones whose condition is gone. Returns keys raised now."""
        present = {c.key: c for c in conditions}
        raised = []
        for key, cond in present.items():
            if key in self.active:
                self.active[key].condition = cond  # text may update (age of data)
                continue
            alarm = ActiveAlarm(cond, now_s)
            if self._log_start is not None:
                alarm.event_id = self._log_start(cond, now_s)
            self.active[key] = alarm
            self.history.append((key, now_s, None))
            raised.append(key)
        for key in list(self.active):
            if key not in present:
                alarm = self.active.pop(key)
                if self._log_end is not None and alarm.event_id is not None:
                    self._log_end(alarm.event_id, now_s)
                for i in range(len(self.history) - 1, -1, -1):
                    if self.history[i][0] == key and self.history[i][2] is None:
                        self.history[i] = (key, self.history[i][1], now_s)
                        break
        self._maybe_sound(bool(raised), real_now)
        return raised

    def _maybe_sound(self, new_alarm: bool, real_now: float) -> None:
        if self._sound is None:
            return
        unacked = [a for a in self.active.values() if not a.acknowledged]
        if not unacked:
            return
        priority = self.priority_of(unacked)
        repeat_due = priority == "medium" and real_now - self._last_tone_real >= MEDIUM_REPEAT_S
        if new_alarm or repeat_due:
            self._last_tone_real = real_now
            self._sound(priority)

    def acknowledge(self) -> int:
        """Silence all active alarms; the visual sign stays. Returns how many were acknowledged."""
        n = 0
        for alarm in self.active.values():
            if not alarm.acknowledged:
                alarm.acknowledged = True
                n += 1
        return n

    @staticmethod
    def priority_of(alarms) -> str | None:
        prios = {a.condition.priority for a in alarms}
        if "medium" in prios:
            return "medium"
        if "low" in prios:
            return "low"
        return None

    @property
    def priority(self) -> str | None:
        return self.priority_of(self.active.values())

    @property
    def all_acknowledged(self) -> bool:
        return all(a.acknowledged for a in self.active.values())

    def lines(self) -> list[str]:
        order = sorted(self.active.values(), key=lambda a: (a.condition.priority != "medium", a.start_s))
        return [a.condition.text for a in order]

    def limb_priority(self, limb: Limb) -> str | None:
        return self.priority_of([a for a in self.active.values()
                                 if a.condition.limb is limb or a.condition.limb is None])
