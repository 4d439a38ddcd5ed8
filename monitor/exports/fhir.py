"""FHIR R4 (R4B-compatible) JSON export: a Bundle an EHR integration can take in.

One Observation per limb with the whole series as SampledData (1 s period, "E" where
there is no valid reading), one per limb for the baseline and for the peak rise, and one
for the detector's verdict. A Patient resource carries the identifier if one was typed; a
Device resource names the software and its version. A simulated session is tagged HTEST
("test health data", HL7 ActReason) on every resource and says SIMULATED in its text.
"""

from __future__ import annotations

import html
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from monitor.exports._files import open_private
from monitor.exports.edf import GAP_VALUE_C, bridge_for, resample_limb
from monitor.exports.figures import ReportFigures, session_outcome
from monitor.exports.session_data import Progress, SessionData
from monitor.model import Limb

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
SKIN_TEMPERATURE = {"system": LOINC, "code": "39106-0", "display": "Temperature of Skin"}
FOOT_SITE = {Limb.LEFT: ("22335008", "Left foot"), Limb.RIGHT: ("7769000", "Right foot")}
TEST_TAG = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST",
            "display": "test health data"}
CATEGORY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "procedure", "display": "Procedure"}]}


def _iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).isoformat(timespec="seconds")


def _celsius(value: float) -> dict[str, Any]:
    return {"value": round(float(value), 2), "unit": "°C", "system": "http://unitsofmeasure.org", "code": "Cel"}


def build_bundle(data: SessionData, figures: ReportFigures, *, rate_hz: float = 1.0) -> dict[str, Any]:
    """The Bundle as plain JSON-ready dicts (validated by the tests with fhir.resources R4B)."""
    entries: list[dict[str, Any]] = []
    meta = {"tag": [TEST_TAG]} if data.simulated else None
    sim_note = [{"text": "SIMULATED session from the SympaTherm simulator: not patient data."}] \
        if data.simulated else []

    def add(resource: dict[str, Any]) -> str:
        url = f"urn:uuid:{uuid.uuid4()}"
        if meta:
            resource["meta"] = meta
        entries.append({"fullUrl": url, "resource": resource})
        return url

    subject = None
    if data.info.patient_id:
        patient_url = add({"resourceType": "Patient",
                           "identifier": [{"use": "usual", "value": data.info.patient_id}]})
        subject = {"reference": patient_url}
    device_url = add({"resourceType": "Device",
                      "deviceName": [{"name": "SympaTherm", "type": "user-friendly-name"}],
                      "version": [{"value": data.software_version or "unknown"}],
                      "note": [{"text": "Supports clinical judgement; not a certified medical device."}]
                      + sim_note})
    start, end = data.started_wall, data.started_wall + data.duration_s
    common: dict[str, Any] = {"status": "final" if data.status == "closed" else "preliminary", "category": [CATEGORY],
              "device": {"reference": device_url}, "note": list(sim_note)}
    if subject:
        common["subject"] = subject

    def observation(limb: Limb | None, text: str, **fields: Any) -> dict[str, Any]:
        obs: dict[str, Any] = {"resourceType": "Observation", **json.loads(json.dumps(common))}
        obs["code"] = {"coding": [SKIN_TEMPERATURE] if limb else [], "text": text}
        if not obs["code"]["coding"]:
            del obs["code"]["coding"]
        if limb is not None:
            code, display = FOOT_SITE[limb]
            obs["bodySite"] = {"coding": [{"system": SNOMED, "code": code, "display": display}],
                               "text": f"{display}, {data.info.probe_sites.get(str(limb), 'skin')}"}
        obs.update(fields)
        if not obs["note"]:
            del obs["note"]
        return obs

    blocked = data.info.blocked
    n = int(np.floor(data.duration_s * rate_hz)) + 1
    grid = np.arange(n) / rate_hz
    for limb in Limb:
        arr = data.limb(limb)
        values = resample_limb(arr.t_s, arr.celsius, arr.valid, grid, bridge_for(arr.t_s, arr.valid))
        tokens = " ".join("E" if v == GAP_VALUE_C else f"{v:.2f}" for v in values)
        side = " (blocked side)" if limb is blocked else ""
        add(observation(limb, f"{limb.capitalize()} foot skin temperature during the procedure{side}",
                        effectivePeriod={"start": _iso(start), "end": _iso(end)},
                        valueSampledData={"origin": _celsius(0.0), "period": round(1000.0 / rate_hz, 3),
                                          "dimensions": 1, "data": tokens}))
    for limb, fig in figures.limbs.items():
        if fig.baseline_c is not None:
            add(observation(limb, f"{limb.capitalize()} foot baseline skin temperature before injection",
                            effectiveDateTime=_iso(start + (figures.injection_s or 0.0)),
                            valueQuantity=_celsius(fig.baseline_c)))
        if fig.peak_rise_c is not None:
            add(observation(limb, f"{limb.capitalize()} foot peak rise of skin temperature from baseline",
                            effectiveDateTime=_iso(start + (figures.injection_s or 0.0)
                                                   + (fig.time_to_peak_s or 0.0)),
                            valueQuantity=_celsius(fig.peak_rise_c)))
    outcome = session_outcome(data, figures)
    verdict_words = f"{outcome.headline}. {outcome.message}".strip()
    criteria = "; ".join(f"{c.name} ({c.threshold}): " + ("met" if c.met_at_s is not None else "not met")
                         for c in figures.criteria)
    verdict = observation(None, "Lumbar sympathetic block assessment by skin temperature (SympaTherm)",
                          effectivePeriod={"start": _iso(start), "end": _iso(end)},
                          valueString=f"{outcome.code}: {verdict_words}")
    components = [{"code": {"text": "Outcome"}, "valueString": outcome.code}]
    if figures.confirmed_at_s is not None and figures.injection_s is not None:
        minutes = (figures.confirmed_at_s - figures.injection_s) / 60.0
        components.append({"code": {"text": "Block confirmed, minutes after injection"},
                           "valueQuantity": {"value": round(minutes, 2), "unit": "min",
                                             "system": "http://unitsofmeasure.org", "code": "min"}})
    if figures.di_minus_dc_c is not None:
        components.append({"code": {"text": "Di - Dc (blocked minus contralateral change)"},
                           "valueQuantity": _celsius(figures.di_minus_dc_c)})
    if blocked:
        components.append({"code": {"text": "Side blocked"}, "valueString": str(blocked)})
    if components:
        verdict["component"] = components
    verdict.setdefault("note", []).append(
        {"text": f"Criteria: {figures.criteria_label or 'as recorded'} ({figures.criteria_source}). {criteria}"})
    verdict["text"] = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>'
                       + html.escape(("SIMULATED. " if data.simulated else "") + verdict_words) + "</p></div>"}
    add(verdict)
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "collection", "timestamp": _iso(datetime.now(UTC).timestamp()),
              "entry": entries}
    if meta:
        bundle["meta"] = meta
    return bundle


def write_fhir(data: SessionData, figures: ReportFigures, out: str | os.PathLike[str],
               progress: Progress | None = None) -> Path:
    out = Path(out)
    bundle = build_bundle(data, figures)
    with open_private(out, "w", encoding="utf-8") as f:
        json.dump(bundle, f, ensure_ascii=False, indent=1)
    if progress:
        progress(1, 1)
    return out
