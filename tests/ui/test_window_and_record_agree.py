"""One procedure, one truth: the same simulated procedure recorded through the window and with
`sympatherm record` gives session files that agree on every clinical fact, and the 1-minute
values on screen are the ones the PDF table and the CSV minute summary print."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from monitor.model import Limb
from monitor.procedure.minutes import minute_table
from monitor.procedure.replay import replay_session
from monitor.store import SessionStore

ROOT = Path(__file__).resolve().parents[2]
SCENARIO, SEED, DURATION_S = "probe-lift", 2, 2400.0


def _facts(path: Path) -> dict:
    """Everything clinical a session file holds, as comparable values."""
    with SessionStore.open_read_only(path) as store:
        markers = [(str(m.kind), round(m.session_s, 6), m.text) for m in store.markers()]
        alarms = [(e.subkind, e.limb, e.start_s, e.end_s, e.priority, e.message) for e in store.events("alarm")]
        artefacts = [(e.subkind, e.limb, e.start_s, e.end_s, e.message) for e in store.events("artefact")]
        verdicts = [(v.session_s, v.state, v.detail.get("confirmed_at_s")) for v in store.verdict_changes()]
        pipeline = replay_session(store)
        inj = min(m.session_s for m in store.markers() if str(m.kind) == "injection")
        minutes = minute_table(pipeline, inj, DURATION_S)
    return {"markers": markers, "alarms": sorted(alarms, key=repr), "artefacts": sorted(artefacts, key=repr),
            "verdicts": verdicts, "minutes": minutes}


def _record_headless(path: Path, home: Path) -> None:
    env = {"SYMPATHERM_HOME": str(home), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "monitor.cli", "record", "--demo", "--scenario", SCENARIO,
                           "--seed", str(SEED), "--blocked", "left", "--speed", "300",
                           "--duration", f"{DURATION_S:g}", "--out", str(path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr


def _record_in_window(path: Path, qtbot):
    from monitor.commands.demo import build_demo_window

    window = build_demo_window(SCENARIO, SEED, 1.0, Limb.LEFT, manual=True, session_path=path)
    qtbot.addWidget(window)
    window.advance_to(DURATION_S, step_s=5.0)
    return window


@pytest.mark.slow
def test_the_window_and_record_store_the_same_procedure(qtbot, tmp_path):
    _record_headless(tmp_path / "record.sympatherm", tmp_path / "home")
    window = _record_in_window(tmp_path / "window.sympatherm", qtbot)
    window.finish()
    headless, gui = _facts(tmp_path / "record.sympatherm"), _facts(tmp_path / "window.sympatherm")
    assert gui["alarms"], "the scenario raises alarms (a probe lifts): the comparison is not empty"
    assert any(a[0] == "probe_lifted" for a in gui["alarms"])
    for what in ("markers", "alarms", "artefacts", "verdicts", "minutes"):
        assert headless[what] == gui[what], what


def test_the_screen_the_pdf_and_the_csv_show_the_same_minute_values(qtbot, tmp_path):
    from monitor.exports import export_session
    from monitor.exports.figures import REPORT_MINUTES
    from tests.monitor.exports.test_minute_values_agree import csv_minute_summary, pdf_temperature_table

    window = _record_in_window(tmp_path / "w.sympatherm", qtbot)
    window.finish()
    screen = {row.minute: row for row in window.table.table_model.rows}
    pdf = pdf_temperature_table(export_session(tmp_path / "w.sympatherm", "pdf", tmp_path / "w.pdf"))
    export_session(tmp_path / "w.sympatherm", "csv", tmp_path / "w.csv")
    summary = csv_minute_summary(tmp_path / "w.minutes.csv")
    assert len(screen) >= 40 and set(screen) <= set(summary), "every minute on screen is in the CSV summary"
    for minute, row in screen.items():
        for limb in Limb:
            in_csv = summary[minute][f"{limb}_c"]
            assert (float(in_csv) if in_csv else None) == row.celsius[limb], (minute, limb)
            rise = summary[minute][f"{limb}_rise_c"]
            assert (float(rise) if rise else None) == row.rise_c[limb], (minute, limb)
        didc = summary[minute]["di_minus_dc_c"]
        assert (float(didc) if didc else None) == row.di_minus_dc_c, minute
    for minute in REPORT_MINUTES:
        for limb in Limb:
            assert pdf[limb]["minutes"][minute] == screen[minute].celsius[limb], (minute, limb)
