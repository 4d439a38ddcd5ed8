"""The procedure core headless: one owner of markers, alarms, minute table and verdict."""

from __future__ import annotations

import pytest

from monitor.clock import SimulatedClock
from monitor.model import Limb, MarkerKind, SessionInfo
from monitor.procedure import MarkerRefused, Procedure
from monitor.procedure.procedure import AUTOMATIC_INJECTION_TEXT
from monitor.simulation.source import SimulatedSource
from monitor.store import SessionStore


def start(tmp_path, scenario: str = "success-fast", seed: int = 1, *, injection: bool = True):
    source = SimulatedSource(scenario, seed=seed, blocked=Limb.LEFT, clock=SimulatedClock(manual=True))
    info = SessionInfo(blocked=Limb.LEFT, simulated=True)
    procedure = Procedure(source, info, SessionStore.create(info, tmp_path / f"{scenario}.sympatherm"),
                          commit_interval_s=0.0)
    if injection:
        procedure.schedule_injection(source.suggested_injection_s)
    procedure.start()
    return procedure, source


def run(procedure: Procedure, source: SimulatedSource, until_s: float, step_s: float = 5.0) -> None:
    t = procedure.now()
    while t < until_s:
        t = min(until_s, t + step_s)
        source.step_to(t)
        procedure.pump()


def test_every_alarm_the_views_were_told_of_is_in_the_session_file(tmp_path):
    procedure, source = start(tmp_path, "probe-lift", seed=2)
    told = []
    procedure.events.alarms.connect(lambda change: told.extend(change.raised))
    run(procedure, source, 1800)
    procedure.finish()
    with SessionStore.open_read_only(procedure.store.path) as stored:
        alarms = stored.events("alarm")
    assert told and len(alarms) == len(told)
    assert {e.subkind for e in alarms} >= {"probe_lifted"}
    assert all(e.end_s is not None for e in alarms), "the end of the session ends every alarm"


def test_the_automatic_injection_is_placed_once_and_a_users_mark_replaces_it(tmp_path):
    procedure, source = start(tmp_path)
    planned = procedure.planned_injection_s
    assert planned == pytest.approx(source.suggested_injection_s)
    run(procedure, source, planned + 30)
    marks = [m for m in procedure.markers if m.kind is MarkerKind.INJECTION]
    assert [(m.session_s, m.text) for m in marks] == [(pytest.approx(planned), AUTOMATIC_INJECTION_TEXT)]
    assert procedure.planned_injection_s is None
    procedure.finish()

    other, source = start(tmp_path / "..", "success-slow")
    run(other, source, 300)
    other.add_marker(MarkerKind.INJECTION)
    run(other, source, source.suggested_injection_s + 60)
    marks = [m for m in other.markers if m.kind is MarkerKind.INJECTION]
    assert [m.session_s for m in marks] == [300.0], "the user's mark, and only it"
    assert any("automatic injection mark is cancelled" in e.text for e in other.log)
    other.finish()


def test_a_new_baseline_after_a_confirmation_needs_an_explicit_yes_and_rewrites_no_earlier_minute(tmp_path):
    procedure, source = start(tmp_path)
    run(procedure, source, 1500)
    assert procedure.snapshot().verdict.confirmed_at_s is not None
    before = {row.minute: row for row in procedure.minute_rows()}
    with pytest.raises(MarkerRefused, match=r"New baseline for a repeat injection\? Attempt 1 \(confirmed at"):
        procedure.add_marker(MarkerKind.BASELINE)
    assert not [m for m in procedure.markers if m.kind is MarkerKind.BASELINE]
    procedure.add_marker(MarkerKind.BASELINE, rebaseline=True)
    run(procedure, source, 2100)
    after = {row.minute: row for row in procedure.minute_rows()}
    assert all(after[m] == row for m, row in before.items() if row.session_s <= 1500 - 30)
    first = procedure.pipeline.attempts()[0]
    assert first.confirmed_at_s is not None, "what was confirmed stays confirmed"
    assert procedure.snapshot().attempt == 2 and procedure.snapshot().verdict.confirmed_at_s is None
    procedure.finish()


def test_the_minute_table_event_carries_the_cores_rows(tmp_path):
    procedure, source = start(tmp_path)
    shown = []
    procedure.events.minutes.connect(shown.append)
    run(procedure, source, 900)
    assert shown and shown[-1] == procedure.minute_rows()
    assert all(a != b for a, b in zip(shown, shown[1:], strict=False)), "a new event only when a row changed"
    procedure.finish()


def test_nothing_can_be_marked_after_the_end(tmp_path):
    procedure, source = start(tmp_path)
    run(procedure, source, 60)
    procedure.finish()
    with pytest.raises(MarkerRefused, match="ended"):
        procedure.add_marker(MarkerKind.NOTE, text="too late")
    with SessionStore.open_read_only(procedure.store.path) as stored:
        assert stored.status == "closed"
