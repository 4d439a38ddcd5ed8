"""The procedure asks before a baseline after an injection starts a new attempt; the session
file logs each attempt's verdicts under its number; marker corrections are kept as an audit trail."""

from __future__ import annotations

import pytest

from monitor.model import MarkerKind
from monitor.procedure import MarkerRefused
from monitor.store import SessionStore
from tests.monitor.procedure.test_procedure import run, start
from tests.monitor.procedure.two_attempts import FIRST_CORRECTED_S, FIRST_MARK_S, record_two_attempts


def test_a_baseline_after_the_injection_asks_first_even_before_a_confirmation(tmp_path):
    procedure, source = start(tmp_path, "failed")
    run(procedure, source, source.suggested_injection_s + 300)
    assert procedure.snapshot().verdict.confirmed_at_s is None
    with pytest.raises(MarkerRefused, match=r"^New baseline for a repeat injection\? Attempt 1 "):
        procedure.add_marker(MarkerKind.BASELINE)
    procedure.add_marker(MarkerKind.BASELINE, rebaseline=True)
    assert procedure.snapshot().attempt == 2
    # Within attempt 2 (no injection yet) a second Baseline mark only retakes its baseline.
    run(procedure, source, procedure.now() + 30)
    procedure.add_marker(MarkerKind.BASELINE)
    assert procedure.snapshot().attempt == 2
    assert any("Attempt 2 begins" in e.text for e in procedure.log)
    procedure.finish()


def test_the_session_file_logs_each_attempts_verdicts_and_every_marker_correction(tmp_path):
    path, procedure = record_two_attempts(tmp_path / "two.sympatherm")
    first, second = procedure.pipeline.attempts()
    assert first.outcome == "not_confirmed" and second.outcome == "confirmed"
    with SessionStore.open_read_only(path) as stored:
        verdicts = stored.verdict_changes()
        moves = stored.marker_moves()
        markers = stored.markers()
    attempts = [v.detail["attempt"] for v in verdicts]
    assert attempts == sorted(attempts) and set(attempts) == {1, 2}
    confirmed = [v for v in verdicts if v.state == "confirmed"]
    assert [v.detail["attempt"] for v in confirmed] == [2]
    assert confirmed[0].detail["confirmed_at_s"] == pytest.approx(second.confirmed_at_s)
    assert [v.state for v in verdicts if v.detail["attempt"] == 1][-1] == "not_confirmed_yet"
    # The audit trail: the marker, its original time, the new one, when and why.
    [move] = moves
    injection = next(m for m in markers if m.id == move.marker_id)
    assert injection.kind is MarkerKind.INJECTION and injection.session_s == FIRST_CORRECTED_S
    assert (move.from_s, move.to_s, move.reason) == (FIRST_MARK_S, FIRST_CORRECTED_S, "marked 10 s late")
    assert move.moved_at_s >= FIRST_MARK_S and move.moved_wall is not None
