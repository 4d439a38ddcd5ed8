"""The ORU^R01 export: read back by an independent parser (python-hl7), its codes, values and
times are the report's figures (compute_figures) and the PDF's; typed text round-trips escaped."""

from __future__ import annotations

import base64
import stat
from datetime import UTC, datetime

import hl7
import pytest

from monitor.exports import ExportError, export_session
from monitor.exports.figures import REPORT_MINUTES, compute_figures
from monitor.exports.hl7 import (
    CODE_SYSTEM_BASE,
    OBSERVATIONS,
    OUTCOMES,
    PROFILE,
    MessageSettings,
    build_message,
    escape,
    message_for,
)
from monitor.exports.session_data import load_session
from monitor.model import Limb, SessionInfo
from monitor.store import SessionStore
from tests.monitor.exports.test_minute_values_agree import pdf_temperature_table
from tests.support.sessions import record_simulated

HOSTILE_ID = "PT|7^A~B\\C&D\rE\\F\\"
HOSTILE_NOTE = "pain 3|10 ^ left~right \\ R&L\rsecond line \\X0D\\ end"


@pytest.fixture(scope="module")
def hostile_session(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hl7")
    return record_simulated(folder / "hl7.sympatherm", "success-fast", seed=3, until_s=2400.0,
                            patient_id=HOSTILE_ID, notes=((900.0, HOSTILE_NOTE),))


def _c(field, component: int = 1) -> str:
    """One component of a field as sent (first repetition)."""
    parts = str(field).split("~")[0].split("^")
    return parts[component - 1] if len(parts) >= component else ""


def _obx_rows(message: hl7.Message) -> dict[tuple[str, str], hl7.Segment]:
    return {(str(obx[3][0][0][0]), str(obx[4])): obx for obx in message.segments("OBX")}


def _wall(dtm: str) -> float:
    return datetime.strptime(dtm, "%Y%m%d%H%M%S%z").astimezone(UTC).timestamp()


def test_the_message_read_back_by_python_hl7_has_the_reports_figures_and_the_pdfs(hostile_session, tmp_path):
    data = load_session(hostile_session)
    figures = compute_figures(data)
    text = build_message(data, figures, control_id="CTRL0001")
    message = hl7.parse(text)
    msh = message.segment("MSH")
    assert str(msh[9]) == "ORU^R01^ORU_R01" and str(msh[10]) == "CTRL0001" and str(msh[12]) == "2.6"
    assert str(msh[21]) == PROFILE
    assert str(msh[11]) == "T", "a simulated session is never production data"
    rows = _obx_rows(message)
    table = pdf_temperature_table(export_session(hostile_session, "pdf", tmp_path / "r.pdf"))
    chan = {Limb.LEFT: "1.1.1", Limb.RIGHT: "1.1.2"}
    start = data.started_wall
    for limb, fig in figures.limbs.items():
        base = rows[("150388", f"{chan[limb]}.1")]
        assert str(base[3]) == "150388^MDC_TEMP_SKIN^MDC"
        assert str(base[6]) == "268192^MDC_DIM_DEGC^MDC^Cel^degree Celsius^UCUM"
        assert float(str(base[5])) == fig.baseline_c == table[limb]["baseline"]
        assert str(base[17]).startswith("baseline^")
        assert _wall(str(base[14])) == pytest.approx(start + figures.injection_s, abs=1.0)
        for i, minute in enumerate(REPORT_MINUTES):
            obx = rows[("150388", f"{chan[limb]}.{2 + i}")]
            assert float(str(obx[5])) == fig.at_minutes[minute] == table[limb]["minutes"][minute]
            assert _wall(str(obx[14])) == pytest.approx(start + figures.injection_s + 60 * minute, abs=1.0)
        rise = rows[("188440", f"{chan[limb]}.10")]
        assert str(rise[3]) == "188440^MDC_TEMP_DIFF^MDC" and "^K^" in str(rise[6])
        assert float(str(rise[5])) == fig.rise_c == table[limb]["rise_end"]
        peak = rows[("188440", f"{chan[limb]}.11")]
        assert float(str(peak[5])) == fig.peak_rise_c == table[limb]["peak_rise"]
        site = "22335008" if limb is Limb.LEFT else "7769000"
        assert str(base[20]).startswith(f"{site}^") and str(rise[20]).startswith(f"{site}^")
        assert "SYMPATHERM" in str(base[18]), "the device identity is in OBX-18"
    assert float(str(rows[("188440", "1.1.3.1")][5])) == figures.di_minus_dc_c
    verdict = rows[("block-assessment", "1.2.1.1")]
    assert str(verdict[2]) == "CWE"
    assert _c(verdict[5], 1) == "confirmed" and _c(verdict[5], 3) == "99SYMOUT"
    side = rows[("blocked-side", "1.2.1.2")]
    assert _c(side[5], 1) == ("24028007" if data.info.blocked is Limb.RIGHT else "7771000")
    assert str(rows[("criteria", "1.2.1.3")][5]).startswith(figures.criteria_label)
    assert message.unescape(str(rows[("criteria-source", "1.2.1.4")][5])) == figures.criteria_source
    confirmed = rows[("confirmed-at", "1.2.1.5")]
    assert _wall(str(confirmed[5])) == pytest.approx(start + figures.confirmed_at_s, abs=1.0)
    minutes = rows[("time-to-confirmation", "1.2.1.6")]
    assert float(str(minutes[5])) == pytest.approx((figures.confirmed_at_s - figures.injection_s) / 60, abs=0.01)
    obr = message.segment("OBR")
    assert _wall(str(obr[7])) == pytest.approx(start + figures.injection_s, abs=1.0)
    assert f"{data.info.blocked} side" in str(obr[13])
    assert [int(str(o[1])) for o in message.segments("OBX")] == list(range(1, len(rows) + 1))


def test_hostile_text_in_the_patient_id_and_notes_is_escaped_and_round_trips(hostile_session):
    data = load_session(hostile_session)
    text = build_message(data, compute_figures(data))
    segments = text.split("\r")
    assert all(s[:3].isalpha() and s[3] == "|" for s in segments if s), "no typed CR split a segment"
    message = hl7.parse(text)
    pid3 = message.segment("PID")[3]
    assert message.unescape(str(pid3[0][0])) == HOSTILE_ID
    assert str(pid3[0][4]) == "MR"
    notes = [message.unescape(str(n[3])) for n in message.segments("NTE")]
    assert any(n.endswith(f": {HOSTILE_NOTE}") for n in notes), notes
    assert escape("a|b^c~d\\e&f\rg") == "a\\F\\b\\S\\c\\R\\d\\E\\e\\T\\f\\X0D\\g"


def test_without_a_patient_identifier_pid_3_is_empty_and_the_rest_validates(tmp_path):
    path = record_simulated(tmp_path / "anon.sympatherm", "success-fast", seed=4, until_s=900.0, patient_id="")
    data = load_session(path)
    message = hl7.parse(build_message(data, compute_figures(data)))
    pid = message.segment("PID")
    assert str(pid[3]) == "" and str(pid[5]) == "^^^^^^U"


def test_a_session_still_being_recorded_is_refused_in_plain_words(tmp_path):
    store = SessionStore.create(SessionInfo(patient_id="X", blocked=Limb.LEFT), tmp_path / "open.sympatherm")
    store.commit()
    with pytest.raises(ExportError, match="not finished"):
        export_session(store.path, "hl7", tmp_path / "open.hl7")
    store.close()


def test_the_export_is_0600_and_the_pdf_rides_along_when_the_site_enables_it(hostile_session, tmp_path):
    out = export_session(hostile_session, "hl7", tmp_path / "out.hl7")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    sent = out.read_bytes()
    assert b"\rOBX|" in sent and b"application^pdf" not in sent
    data = load_session(hostile_session)
    text = message_for(data, compute_figures(data), MessageSettings(attach_pdf=True, sending_facility="ICU|2"))
    message = hl7.parse(text)
    assert message.unescape(str(message.segment("MSH")[4])) == "ICU|2"
    ed = _obx_rows(message)[("chart-report", "1.3.1.1")]
    assert str(ed[2]) == "ED" and str(ed[5][0][1]) == "application" and str(ed[5][0][3]) == "Base64"
    assert base64.b64decode(str(ed[5][0][4])).startswith(b"%PDF-")


def test_the_project_codes_are_those_of_the_fhir_code_systems():
    fhir = pytest.importorskip("monitor.exports.fhir")
    if not hasattr(fhir, "OUTCOME_CODES"):
        pytest.skip("the FHIR export does not define its code systems yet")
    assert set(OUTCOMES) == set(fhir.OUTCOME_CODES)
    assert CODE_SYSTEM_BASE == fhir.CODE_SYSTEM_BASE
    shared = set(OBSERVATIONS) & set(fhir.OBSERVATION_CODES)
    assert {"peak-rise", "di-minus-dc", "time-to-confirmation", "blocked-side", "block-assessment"} <= shared
    for code in shared:
        assert OBSERVATIONS[code] == fhir.OBSERVATION_CODES[code][0], code
