"""FHIR R5 JSON export: a Bundle an EHR integration can take in (validated with fhir.resources R5).

One Observation per limb with the whole series as SampledData (1 s interval, "E" where
there is no valid reading), one per limb for the baseline (a temperature: LOINC 39106-0
*Temperature of Skin*, UCUM ``Cel``) and one for the peak rise (a difference of temperature:
the project's code ``peak-rise``, UCUM ``K``), and one for the detector's verdict, coded
(``valueCodeableConcept`` from the project's outcome codes: confirmed, not-confirmed,
not-judged, in-progress) with Di − Dc (``K``) and the time to confirmation as components.
A rise is never coded as a skin temperature: a chart would plot 4.7 °C of rise as a 4.7 °C foot.

The project's codes live in two CodeSystems under :data:`CODE_SYSTEM_BASE`; both are included
in every Bundle, so the export explains its own codes. A Patient resource carries the
identifier if one was typed; a Device resource names the software and its version. A simulated
session is tagged HTEST ("test health data", HL7 ActReason) on every resource and says
SIMULATED in its text. Every number comes from :func:`monitor.exports.figures.compute_figures`.
"""

from __future__ import annotations

import html
import json
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from monitor.exports._files import open_private
from monitor.exports.edf import GAP_VALUE_C, bridge_for, resample_limb
from monitor.exports.figures import CriterionMet, CriterionRow, ReportFigures, session_outcome
from monitor.exports.session_data import Progress, SessionData
from monitor.model import Limb

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
SKIN_TEMPERATURE = {"system": LOINC, "code": "39106-0", "display": "Temperature of Skin"}
FOOT_SITE = {Limb.LEFT: ("22335008", "Left foot"), Limb.RIGHT: ("7769000", "Right foot")}
SIDE = {Limb.LEFT: ("7771000", "Left"), Limb.RIGHT: ("24028007", "Right")}  # SNOMED CT qualifier values
TEST_TAG = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST",
            "display": "test health data"}
CATEGORY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "procedure", "display": "Procedure"}]}

# The project's own codes. A canonical URL names a code system (it need not resolve); .example is
# reserved (RFC 2606), so these can never collide with someone else's codes.
CODE_SYSTEM_BASE = "https://sympatherm.example/fhir/CodeSystem"
OBSERVATION_CODES_URL = f"{CODE_SYSTEM_BASE}/observation"
OUTCOME_CODES_URL = f"{CODE_SYSTEM_BASE}/block-outcome"
CODE_SYSTEM_VERSION = "1"
OBSERVATION_CODES: dict[str, tuple[str, str]] = {  # code: (display, definition)
    "peak-rise": ("Peak rise of foot skin temperature from baseline",
                  "The highest counted reading of one foot after the injection minus that foot's baseline "
                  "before the injection. A difference of temperature, in K (1 K = 1 °C of difference)."),
    "di-minus-dc": ("Di - Dc at the end of the recording",
                    "The rise of the blocked foot from its baseline minus the rise of the contralateral foot "
                    "from its baseline, from the values standing for the end of the recording. A difference of "
                    "temperature, in K."),
    "time-to-confirmation": ("Time from injection to confirmation of the block",
                             "Minutes from the injection mark to the moment the criteria in force were met."),
    "blocked-side": ("Side blocked", "The side of the lumbar sympathetic block."),
    "block-assessment": ("Lumbar sympathetic block assessment by foot skin temperature (SympaTherm)",
                         "The outcome of the skin-temperature criteria for a lumbar sympathetic block; it "
                         "supports the clinician's judgement and is not a diagnosis."),
}
OUTCOME_CODES: dict[str, tuple[str, str]] = {
    "confirmed": ("Block confirmed", "The criteria in force were met after the injection."),
    "not-confirmed": ("Block not confirmed by the end of the recording",
                      "The criteria in force were not met in the time recorded after the injection."),
    "not-judged": ("Not judged", "The criteria could not be applied: no injection was marked, no baseline "
                   "could be taken, or too little valid data followed the injection."),
    "in-progress": ("Verdict so far", "The session is still being recorded or its recording was interrupted: "
                    "the verdict so far, not an outcome."),
}


def code_systems() -> list[dict[str, Any]]:
    """The two CodeSystem resources of the project's codes (included in every Bundle)."""
    def system(url: str, name: str, title: str, description: str,
               concepts: dict[str, tuple[str, str]]) -> dict[str, Any]:
        return {"resourceType": "CodeSystem", "url": url, "version": CODE_SYSTEM_VERSION, "name": name,
                "title": title, "status": "active", "experimental": False, "publisher": "SympaTherm",
                "description": description, "caseSensitive": True, "content": "complete",
                "count": len(concepts),
                "concept": [{"code": c, "display": d, "definition": text} for c, (d, text) in concepts.items()]}
    return [system(OBSERVATION_CODES_URL, "SympaThermObservationCodes", "SympaTherm observation codes",
                   "What SympaTherm measured that no standard code names: rises and differences of skin "
                   "temperature, the time to confirmation, the side blocked and the block assessment.",
                   OBSERVATION_CODES),
            system(OUTCOME_CODES_URL, "SympaThermBlockOutcome", "SympaTherm block outcome",
                   "The outcome of a SympaTherm block assessment, as the chart report leads with it.",
                   OUTCOME_CODES)]


def _coding(url: str, codes: dict[str, tuple[str, str]], code: str) -> dict[str, Any]:
    return {"system": url, "version": CODE_SYSTEM_VERSION, "code": code, "display": codes[code][0]}


def observation_code(code: str, text: str | None = None) -> dict[str, Any]:
    return {"coding": [_coding(OBSERVATION_CODES_URL, OBSERVATION_CODES, code)],
            "text": text or OBSERVATION_CODES[code][0]}


def _iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).isoformat(timespec="seconds")


def _celsius(value: float) -> dict[str, Any]:
    """A temperature."""
    return {"value": round(float(value), 2), "unit": "°C", "system": UCUM, "code": "Cel"}


def _kelvin(value: float) -> dict[str, Any]:
    """A difference of temperature (1 K = 1 °C of difference; never Cel, which is a temperature)."""
    return {"value": round(float(value), 2), "unit": "K", "system": UCUM, "code": "K"}


def _verdict(data: SessionData, figures: ReportFigures, observation: Callable[..., dict[str, Any]],
             derived: list[str]) -> dict[str, Any]:
    """The coded verdict Observation, with Di − Dc, the time to confirmation and the side as components."""
    outcome = session_outcome(data, figures)
    words = f"{outcome.headline}. {outcome.message}".strip()
    code = outcome.code.replace("_", "-")
    start, end = data.started_wall, data.started_wall + data.duration_s
    verdict = observation(None, observation_code("block-assessment"),
                          effectivePeriod={"start": _iso(start), "end": _iso(end)},
                          valueCodeableConcept={"coding": [_coding(OUTCOME_CODES_URL, OUTCOME_CODES, code)],
                                                "text": words})
    components: list[dict[str, Any]] = []
    confirmation = figures.confirmation
    if confirmation is not None:
        # The report headline's time, from the injection of the attempt it confirmed (ReportFigures owns it).
        minutes = confirmation.after_injection_s / 60.0
        components.append({"code": observation_code("time-to-confirmation"),
                           "valueQuantity": {"value": round(minutes, 2), "unit": "min", "system": UCUM,
                                             "code": "min"}})
    if figures.di_minus_dc_c is not None:
        components.append({"code": observation_code("di-minus-dc"), "valueQuantity": _kelvin(figures.di_minus_dc_c)})
    blocked = data.info.blocked
    if blocked:
        side_code, side_display = SIDE[blocked]
        components.append({"code": observation_code("blocked-side"), "valueCodeableConcept": {
            "coding": [{"system": SNOMED, "code": side_code, "display": side_display}], "text": str(blocked)}})
    if components:
        verdict["component"] = components
    if derived:
        verdict["derivedFrom"] = [{"reference": url} for url in derived]
    criteria = "; ".join(f"{c.name} ({c.threshold}): {_met_words(c, len(figures.attempts) > 1)}"
                         for c in figures.criteria)
    verdict.setdefault("note", []).append(
        {"text": f"Criteria: {figures.criteria_label or 'as recorded'} ({figures.criteria_source}). {criteria}"})
    verdict["text"] = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>'
                       + html.escape(("SIMULATED. " if data.simulated else "") + words) + "</p></div>"}
    return verdict


def _met_words(row: CriterionRow, several: bool) -> str:
    """Whether a criterion was met (in every attempt when there were several), with the other
    foot's course then in the core's words, as the report says it."""
    def words(m: CriterionMet) -> str:
        return ("met" + (f" ({m.note})" if m.note else "")) if m.met_at_s is not None else "not met"

    if not several or not row.met:
        return words(row.met[0]) if row.met else "met" if row.met_at_s is not None else "not met"
    return ", ".join(f"attempt {m.attempt} {words(m)}" for m in row.met)


def build_bundle(data: SessionData, figures: ReportFigures, *, rate_hz: float = 1.0) -> dict[str, Any]:
    """The Bundle as plain JSON-ready dicts (validated by the tests with fhir.resources R5 and with
    HL7's R5 definitions through an independent validator)."""
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

    for system in code_systems():
        add(system)
    subject = None
    if data.info.patient_id:
        patient_url = add({"resourceType": "Patient",
                           "identifier": [{"use": "usual", "value": data.info.patient_id}]})
        subject = {"reference": patient_url}
    device_url = add({"resourceType": "Device",
                      "name": [{"value": "SympaTherm", "type": "user-friendly-name"}],
                      "version": [{"value": data.software_version or "unknown"}],
                      "note": [{"text": "Supports clinical judgement; not a certified medical device."}]
                      + sim_note})
    start, end = data.started_wall, data.started_wall + data.duration_s
    common: dict[str, Any] = {"status": "final" if data.status == "closed" else "preliminary",
                              "category": [CATEGORY], "device": {"reference": device_url}, "note": list(sim_note)}
    if subject:
        common["subject"] = subject

    def observation(limb: Limb | None, code: dict[str, Any], **fields: Any) -> dict[str, Any]:
        obs: dict[str, Any] = {"resourceType": "Observation", **json.loads(json.dumps(common)), "code": code}
        if limb is not None:
            site, display = FOOT_SITE[limb]
            obs["bodySite"] = {"coding": [{"system": SNOMED, "code": site, "display": display}],
                               "text": f"{display}, {data.info.probe_sites.get(str(limb), 'skin')}"}
        obs.update(fields)
        if not obs["note"]:
            del obs["note"]
        return obs

    def skin_temperature(text: str) -> dict[str, Any]:
        return {"coding": [SKIN_TEMPERATURE], "text": text}

    blocked = data.info.blocked
    n = int(np.floor(data.duration_s * rate_hz)) + 1
    grid = np.arange(n) / rate_hz
    series: dict[Limb, str] = {}
    for limb in Limb:
        arr = data.limb(limb)
        values = resample_limb(arr.t_s, arr.celsius, arr.valid, grid, bridge_for(arr.t_s, arr.valid))
        tokens = " ".join("E" if v == GAP_VALUE_C else f"{v:.2f}" for v in values)
        side = " (blocked side)" if limb is blocked else ""
        series[limb] = add(observation(
            limb, skin_temperature(f"{limb.capitalize()} foot skin temperature during the procedure{side}"),
            effectivePeriod={"start": _iso(start), "end": _iso(end)},
            valueSampledData={"origin": _celsius(0.0), "interval": round(1.0 / rate_hz, 6), "intervalUnit": "s",
                              "dimensions": 1, "data": tokens}))
    derived = list(series.values())
    injected_at = start + (figures.injection_s or 0.0)
    for limb, fig in figures.limbs.items():
        baseline_url = None
        if fig.baseline_c is not None:
            baseline_url = add(observation(
                limb, skin_temperature(f"{limb.capitalize()} foot baseline skin temperature before injection"),
                effectiveDateTime=_iso(injected_at), valueQuantity=_celsius(fig.baseline_c),
                derivedFrom=[{"reference": series[limb]}]))
            derived.append(baseline_url)
        if fig.peak_rise_c is not None:
            sources = [series[limb]] + ([baseline_url] if baseline_url else [])
            derived.append(add(observation(
                limb, observation_code("peak-rise", f"{limb.capitalize()} foot peak rise of skin temperature "
                                       "from baseline"),
                effectiveDateTime=_iso(injected_at + (fig.time_to_peak_s or 0.0)),
                valueQuantity=_kelvin(fig.peak_rise_c), derivedFrom=[{"reference": u} for u in sources])))
    add(_verdict(data, figures, observation, derived))
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "collection",
                              "timestamp": _iso(datetime.now(UTC).timestamp()), "entry": entries}
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
