"""The chart report with one attempt stays on one or two pages: repeated events of one kind are
summed up sooner when the rows the table could hold would still run it onto a third page (the
CSV export's events file keeps every one)."""

from __future__ import annotations

from pypdf import PdfReader

from monitor.exports import export_session
from monitor.model import Limb, Marker, MarkerKind, ProbeStatus, Reading, SessionInfo
from monitor.store import SessionStore
from tests.support.sessions import record_simulated

WORDS = ("left foot: the probe stopped reporting for more than 10 s, so its readings in that time are "
         "excluded from the baseline and the criteria; check the cable and the tape on the skin")


def _pages(pdf) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(pdf).pages]


def test_repeated_events_are_summed_up_sooner_to_stay_on_two_pages(tmp_path):
    store = SessionStore.create(SessionInfo(patient_id="LOOSE-1", blocked=Limb.LEFT), tmp_path / "loose.sympatherm")
    store.add_readings(Reading(limb, 28.0, ProbeStatus.OK, float(i), 1.7e9 + i) for i in range(3600) for limb in Limb)
    store.add_marker(Marker(MarkerKind.INJECTION, 600.0))
    for k in range(18):  # fewer rows than the table holds before it sums up, but long ones
        start = 700.0 + 150.0 * k
        store.add_event("alarm", start, end_s=start + 12.0, subkind="no_data", limb=Limb.LEFT, priority="medium",
                        message=WORDS)
    store.add_event("connection_gap", 3000.0, end_s=3030.0, subkind="lost", message="cable unplugged")
    store.close()
    pages = _pages(export_session(store.path, "pdf", tmp_path / "loose.pdf"))
    text = " ".join(pages)
    assert len(pages) <= 2, "the chart report is one or two pages"
    assert "Alarm (medium): no data (18 times)" in text
    assert "cable unplugged" in text, "a single event is never summed up"
    assert "Reviewed by" in pages[-1]


def test_a_report_that_fits_lists_every_event(success_session, tmp_path):
    pages = _pages(export_session(success_session, "pdf", tmp_path / "report.pdf"))
    assert len(pages) <= 2 and " times)" not in " ".join(pages)


def test_a_systemic_warming_report_with_the_other_foot_s_course_stays_on_two_pages(tmp_path):
    for scenario in ("systemic-slow-lift", "dropout"):
        path = record_simulated(tmp_path / f"{scenario}.sympatherm", scenario)
        assert len(_pages(export_session(path, "pdf", tmp_path / f"{scenario}.pdf"))) <= 2, scenario
