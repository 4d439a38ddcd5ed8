"""Delivering the outbox: each waiting message in turn, retried with backoff until acknowledged.

A message counts as delivered only on an AA/CA whose MSA-2 is its own control id; AE/AR (and
CE/CR) mark it rejected, with the receiver's words, and it is kept. Anything else (receiver down,
dropped connection, silence, an ACK for another message) leaves it waiting, tried again after
``RetryPolicy.delay_s(attempts)``: 5 s, 10 s, 20 s … up to 10 min between attempts, across
restarts (the next attempt's time is in the outbox file).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from monitor.outbox.mllp import DeliveryError, send_message
from monitor.outbox.store import WAITING, Outbox, OutboxEntry

Sender = Callable[[OutboxEntry], "Outcome"]


@dataclass(frozen=True)
class RetryPolicy:
    first_delay_s: float = 5.0
    max_delay_s: float = 600.0

    def delay_s(self, attempts: int) -> float:
        return min(self.max_delay_s, self.first_delay_s * 2.0 ** max(0, attempts - 1))


@dataclass(frozen=True)
class Outcome:
    control_id: str
    state: str  # waiting | delivered | rejected
    words: str  # what to tell the user


def attempt(outbox: Outbox, entry: OutboxEntry, policy: RetryPolicy, now: float | None = None) -> Outcome:
    """One attempt at one waiting message; the outbox says the result before this returns."""
    now = time.time() if now is None else now
    outbox.start_attempt(entry.control_id, now + policy.delay_s(entry.attempts + 1))
    try:
        ack = send_message(entry.message, entry.receiver)
    except DeliveryError as exc:
        outbox.note_failure(entry.control_id, str(exc))
        return Outcome(entry.control_id, WAITING, f"not delivered yet: {exc}")
    if ack.control_id != entry.control_id:
        words = (f"the receiver acknowledged control id {ack.control_id or '(none)'}, not this message's "
                 f"{entry.control_id}: not counted as delivered")
        outbox.note_failure(entry.control_id, words)
        return Outcome(entry.control_id, WAITING, words)
    if ack.accepted:
        outbox.mark_delivered(entry.control_id, ack.code, ack.text)
        return Outcome(entry.control_id, "delivered", f"delivered to {entry.receiver.address} ({ack.code})")
    if ack.rejected:
        text = ack.text or "the receiver gave no reason"
        outbox.mark_rejected(entry.control_id, ack.code, text)
        return Outcome(entry.control_id, "rejected", f"rejected by {entry.receiver.address} ({ack.code}): {text}")
    words = f"the receiver answered with an unknown acknowledgement code {ack.code!r}"
    outbox.note_failure(entry.control_id, words)
    return Outcome(entry.control_id, WAITING, words)


def deliver(outbox: Outbox, *, policy: RetryPolicy | None = None, wait_s: float = 0.0,
            now_due: bool = False, only: str | None = None,
            report: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Try the waiting messages (those due, or all with ``now_due``), and keep retrying those still
    waiting with backoff for up to ``wait_s`` seconds. ``only``: one control id. Returns the last
    outcome of each message tried. Another process delivering the same outbox: nothing is done."""
    policy = policy or RetryPolicy()
    deadline = time.monotonic() + wait_s
    last: dict[str, Outcome] = {}
    with outbox.delivering() as mine:
        if not mine:
            return [Outcome(only or "", WAITING, "another SympaTherm is delivering the outbox right now; "
                                                  "the messages are sent from there")]
        first = True
        while True:
            now = time.time()
            due = outbox.entries(WAITING) if (first and now_due) else outbox.due(now)
            for entry in due:
                if only is None or entry.control_id == only:
                    last[entry.control_id] = outcome = attempt(outbox, entry, policy, now)
                    if report:
                        report(outcome)
            first = False
            waiting = [e for e in outbox.entries(WAITING) if only is None or e.control_id == only]
            if not waiting or time.monotonic() >= deadline:
                return list(last.values())
            soonest = min(e.next_attempt_wall for e in waiting)
            time.sleep(max(0.01, min(soonest - time.time(), deadline - time.monotonic(), 1.0)))
