"""HL7's time-to-confirmation is the report headline's: from the injection of the attempt it
confirmed (ReportFigures.confirmation), not from the session's first injection."""

from __future__ import annotations

import hl7
import pytest

from monitor.exports.figures import compute_figures
from monitor.exports.hl7 import build_message
from monitor.exports.session_data import load_session
from tests.monitor.procedure.two_attempts import record_two_attempts


def test_a_repeat_attempt_s_time_to_confirmation_counts_from_its_own_injection(tmp_path):
    path, _ = record_two_attempts(tmp_path / "two.sympatherm")
    data = load_session(path)
    figures = compute_figures(data)
    confirmation = figures.confirmation
    assert confirmation is not None and confirmation.attempt == 2 and confirmation.injection_s > figures.injection_s
    message = hl7.parse(build_message(data, figures, control_id="CTRL0002"))
    [minutes] = [obx for obx in message.segments("OBX") if str(obx[3][0][0][0]) == "time-to-confirmation"]
    assert float(str(minutes[5])) == pytest.approx(confirmation.after_injection_s / 60.0, abs=0.01)
