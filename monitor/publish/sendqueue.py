"""What a station has yet to hand to the broker: bounded, and never a wait for the core.

Three parts, sent in this order:

- events (status, verdict, alarms, markers): kept in order, up to ``events_max`` (10 000 is far
  more than a procedure makes; past it the oldest is dropped and counted, never the core held up);
- the room's state, then its history: only the newest of each is kept (it replaces the one
  before; it is numbered when sent, so a central sees no gap for one that was superseded; a
  station going offline sends them first, so its last state is its final one);
- readings: up to ``readings_max`` (10 minutes at one a second); past it the oldest is dropped and
  the next one sent says how many (``dropped_before``), so a central knows the gap is a loss.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import replace

from monitor.publish.messages import History, Message, Readings, State, Status

READINGS_MAX = 600
EVENTS_MAX = 10_000


class SendQueue:
    def __init__(self, readings_max: int = READINGS_MAX, events_max: int = EVENTS_MAX) -> None:
        self.changed = threading.Condition()
        self._events: deque[Message] = deque()
        self._readings: deque[Readings] = deque()
        # The newest state and history (sent in this order), and how many of each were sent.
        self._latest: dict[type, State | History | None] = {State: None, History: None}
        self._latest_seq: dict[type, int] = dict.fromkeys(self._latest, 0)
        self._readings_max = readings_max
        self._events_max = events_max
        self._dropped_unsent = 0  # readings dropped since the last one taken
        self.readings_dropped = 0
        self.events_dropped = 0

    def put_event(self, message: Message) -> None:
        with self.changed:
            if len(self._events) >= self._events_max:
                self._events.popleft()
                self.events_dropped += 1
            self._events.append(message)
            self.changed.notify_all()

    def put_state(self, state: State) -> None:
        self._put_latest(state)

    def put_history(self, history: History) -> None:
        self._put_latest(history)

    def _put_latest(self, message: State | History) -> None:
        with self.changed:
            self._latest[type(message)] = message
            self.changed.notify_all()

    def put_reading(self, reading: Readings) -> None:
        with self.changed:
            if len(self._readings) >= self._readings_max:
                self._readings.popleft()
                self._dropped_unsent += 1
                self.readings_dropped += 1
            self._readings.append(reading)
            self.changed.notify_all()

    def take(self) -> Message | None:
        """The next message to send (events, then the state and history, then readings), or None."""
        with self.changed:
            latest = next((m for m in self._latest.values() if m is not None), None)
            going_offline = bool(self._events) and isinstance(self._events[0], Status) and not self._events[0].online
            if self._events and not (going_offline and latest is not None):
                return self._events.popleft()
            if latest is not None:
                kind = type(latest)
                self._latest_seq[kind] += 1
                self._latest[kind] = None
                return replace(latest, seq=self._latest_seq[kind])
            if self._readings:
                reading = self._readings.popleft()
                if self._dropped_unsent:
                    reading, self._dropped_unsent = replace(reading, dropped_before=self._dropped_unsent), 0
                return reading
            return None

    def __len__(self) -> int:
        with self.changed:
            return len(self._events) + len(self._readings) + sum(m is not None for m in self._latest.values())

    def wait_until(self, ready: Callable[[], bool], timeout_s: float) -> bool:
        """Block (the sender's thread, never the core's) until ``ready()`` or the timeout."""
        with self.changed:
            return self.changed.wait_for(ready, timeout_s)

    def notify(self) -> None:
        with self.changed:
            self.changed.notify_all()
