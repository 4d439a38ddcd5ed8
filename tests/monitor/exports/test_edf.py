"""The EDF+ export, read back by two independent readers: pyedflib (edflib) and mne."""

from __future__ import annotations

import dataclasses
import warnings

import mne
import numpy as np
import pyedflib
import pytest

from monitor.clock import SimulatedClock
from monitor.exports import export_session
from monitor.exports.edf import GAP_VALUE_C, write_edf
from monitor.exports.session_data import load_session
from monitor.model import Limb
from monitor.simulation.source import SimulatedSource
from monitor.store import SessionStore
from tests.support.sessions import record_simulated


def _identification(path) -> tuple[str, str]:
    """The two 80-character header fields exactly as stored."""
    header = path.read_bytes()[:168]
    return header[8:88].decode("ascii"), header[88:168].decode("ascii")


def _read_with_mne(path) -> mne.io.BaseRaw:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # mne says nothing about the file is off
        return mne.io.read_raw_edf(path, preload=True, infer_types=True, verbose="error")


def test_the_edf_file_reopens_with_both_limbs_gaps_and_annotations(tmp_path):
    path = record_simulated(tmp_path / "dropout.sympatherm", "dropout", seed=4, until_s=1500.0)
    out = export_session(path, "edf", tmp_path / "x.edf")
    store = SessionStore.open_read_only(path)
    readings = store.readings()
    store.close()
    reader = pyedflib.EdfReader(str(out))
    try:
        assert reader.getSignalLabels() == ["Temp left foot", "Temp right foot"]  # EDF+ standard texts
        assert reader.getSampleFrequency(0) == 1 and reader.getPhysicalDimension(0) == "degC"
        assert reader.getFileDuration() == 1501
        header = reader.getHeader()
        assert header["recording_additional"] == "SIMULATED blocked_right"
        assert header["patientcode"] == "PT-0042" and header["equipment"].startswith("SympaTherm-")
        assert header["technician"] == "Dr Operator"
        onsets, durations, texts = reader.readAnnotations()
        for text in ("Verdict: baseline captured", "SIMULATED session, not patient data", "Injection",
                     "Blocked side: right"):
            assert text in texts, text
        gap_notes = [i for i, t in enumerate(texts) if t.startswith("No data")]
        assert gap_notes, "the dropouts are annotated"
        signals = [reader.readSignal(i) for i in range(2)]
        for limb_index, limb in enumerate(Limb):
            # On the 1 s grid each valid reading comes back (within the EDF's 16-bit resolution).
            for r in readings[::97]:
                if r.limb is limb and r.has_temperature:
                    assert signals[limb_index][int(round(r.session_s))] == pytest.approx(r.celsius, abs=0.01)
        for i in gap_notes:
            limb_index = 0 if "left" in texts[i] else 1
            start = int(round(onsets[i]))
            assert np.all(signals[limb_index][start:start + int(durations[i])] == pytest.approx(GAP_VALUE_C, abs=0.01))
    finally:
        reader.close()
    raw = _read_with_mne(out)
    assert raw.get_channel_types() == ["temperature", "temperature"], "mne reads the labels as temperature"
    assert raw.info["sfreq"] == 1 and raw.n_times == 1501
    assert raw.info["subject_info"]["his_id"] == "PT-0042"
    np.testing.assert_allclose(raw.get_data(), np.vstack(signals), atol=1e-6)  # the same values as edflib
    assert "Blocked side: right" in raw.annotations.description


def test_the_header_fields_are_laid_out_as_edf_plus_says_and_keep_the_operator_whole(tmp_path, success_session):
    # It was: edflib kept 65 characters of the recording field, so "Dr Operator" came out "Dr_O".
    out = export_session(success_session, "edf", tmp_path / "s.edf")
    patient, recording = _identification(out)
    data = load_session(success_session)
    assert patient.rstrip() == "PT-0042 X X X"  # code sex birthdate name
    words = recording.split()
    assert words[0] == "Startdate" and words[2:] == ["X", "Dr_Operator", f"SympaTherm-{data.software_version}",
                                                      "SIMULATED", "blocked_right"]
    reader = pyedflib.EdfReader(str(out))
    try:
        assert reader.getStartdatetime().strftime("%d-%b-%Y").upper() == words[1]
    finally:
        reader.close()

    long_name = "Dr Anna-Maria Papadopoulou"  # 26 characters: fits beside the standard subfields
    data.info = dataclasses.replace(data.info, operator=long_name)
    _, recording = _identification(write_edf(data, tmp_path / "long.edf"))
    assert recording.split()[3] == long_name.replace(" ", "_") and "SIMULATED" in recording.split()
    reader = pyedflib.EdfReader(str(tmp_path / "long.edf"))
    try:
        assert reader.getHeader()["technician"] == long_name
    finally:
        reader.close()

    data.info = dataclasses.replace(data.info, operator="Professor " * 8)  # cannot fit: cut visibly
    _, recording = _identification(write_edf(data, tmp_path / "longer.edf"))
    technician = recording.split()[3]
    assert len(recording.rstrip()) <= 80 and technician.endswith("~") and technician.startswith("Professor_Professor")
    assert recording.split()[-1] == "SIMULATED", "SIMULATED is never dropped"
    _read_with_mne(tmp_path / "longer.edf")


def test_an_artefact_still_open_at_the_end_is_annotated_to_the_end(tmp_path):
    # It was: an artefact the recording ended in had no duration (-1): a reader saw an instant.
    model = SimulatedSource("probe-lift", seed=2, blocked=Limb.RIGHT, clock=SimulatedClock(manual=True)).model
    lift = next(ev for ev in model.artefacts if ev.kind == "lift")
    path = record_simulated(tmp_path / "lifted.sympatherm", "probe-lift", until_s=lift.start_s + 60.0)
    data = load_session(path)
    [open_event] = [e for e in data.events if e.kind == "artefact" and e.end_s is None]
    out = export_session(path, "edf", tmp_path / "lifted.edf")
    reader = pyedflib.EdfReader(str(out))
    try:
        onsets, durations, texts = reader.readAnnotations()
    finally:
        reader.close()
    text = f"Artefact {open_event.limb} {open_event.subkind.replace('_', ' ')}"
    [i] = [i for i, t in enumerate(texts) if t == text and onsets[i] == pytest.approx(open_event.start_s, abs=0.01)]
    assert onsets[i] + durations[i] == pytest.approx(data.duration_s, abs=0.01)
    raw = _read_with_mne(out)
    [j] = [j for j, t in enumerate(raw.annotations.description) if t == text
           and raw.annotations.onset[j] == pytest.approx(open_event.start_s, abs=0.01)]
    assert raw.annotations.onset[j] + raw.annotations.duration[j] == pytest.approx(data.duration_s, abs=0.01)


def test_a_single_missed_reading_is_a_gap_in_the_edf_not_an_interpolation():
    from monitor.exports.edf import bridge_for, gap_runs, resample_limb

    t = np.array([0.0, 1.0, 2.0, 4.0, 5.0])  # the reading at 3 s never came
    c = np.array([30.0, 30.1, 30.2, 30.4, 30.5])
    ok = np.ones(5, bool)
    values = resample_limb(t, c, ok, np.arange(6.0), bridge_for(t, ok))
    assert values.tolist() == [30.0, 30.1, 30.2, GAP_VALUE_C, 30.4, 30.5]
    assert gap_runs(values) == [(3, 1)]
    jittered = np.array([0.0, 1.2, 1.9, 3.1, 4.0, 5.05])  # serial arrival jitter is not a gap
    assert GAP_VALUE_C not in resample_limb(jittered, np.full(6, 30.0), np.ones(6, bool), np.arange(6.0),
                                            bridge_for(jittered, np.ones(6, bool)))
