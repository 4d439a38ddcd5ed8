"""The FHIR R5 export, validated by two independent validators and by its own code systems.

Every Bundle a test writes goes through :func:`validated`: fhir.resources (R5 pydantic models),
the npm package ``fhir`` (FHIR.js, lantanagroup) loaded with HL7's own R5 definitions from the
npm package ``hl7.fhir.r5.core`` (run with node, installed once into a cache folder outside the
repo), and the checks of the project's codes and units below.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.bundle import Bundle

from monitor.exports import export_session
from monitor.exports.fhir import (
    CODE_SYSTEM_BASE,
    OBSERVATION_CODES,
    OBSERVATION_CODES_URL,
    OUTCOME_CODES,
    OUTCOME_CODES_URL,
)
from monitor.exports.figures import compute_figures
from monitor.exports.session_data import load_session
from monitor.model import Limb, ProbeStatus, Reading, SessionInfo
from monitor.store import SessionStore
from tests.support.sessions import record_simulated
from tests.support.system_tools import require

FHIR_JS = "fhir@4.12.0"
R5_CORE = "hl7.fhir.r5.core@5.0.0"
# Not XDG_CACHE_HOME: the tests point that at a folder made new for each run.
CACHE = Path.home() / ".cache" / "sympatherm-tests"
VALIDATOR_DIR = CACHE / "fhir-validator-fhirjs-4.12.0-r5core-5.0.0"
UCUM = "http://unitsofmeasure.org"
SKIN_TEMPERATURE = ("http://loinc.org", "39106-0")
DOCS = Path(__file__).resolve().parents[3] / "docs" / "sessions-and-exports.md"

# Loads HL7's R5 definitions (code systems, value sets, the base types and resources) into FHIR.js
# and validates each file named on the command line; prints one JSON result per file.
VALIDATE_JS = r"""
const fs = require('fs'), path = require('path');
const modules = path.join(__dirname, 'node_modules');
const { Fhir, ParseConformance, Versions } = require(path.join(modules, 'fhir'));
const core = path.join(modules, 'hl7.fhir.r5.core');
const files = fs.readdirSync(core).filter(f => f.endsWith('.json'));
const load = prefix => files.filter(f => f.startsWith(prefix))
  .map(f => JSON.parse(fs.readFileSync(path.join(core, f))));
const parser = new ParseConformance(false, Versions.R5);
for (const cs of load('CodeSystem-')) parser.loadCodeSystem(cs);
parser.parseBundle({resourceType: 'Bundle', entry: load('ValueSet-').map(r => ({resource: r}))});
const base = load('StructureDefinition-').filter(sd => sd.derivation !== 'constraint'
  && ['primitive-type', 'complex-type', 'resource'].includes(sd.kind));
parser.parseBundle({resourceType: 'Bundle', entry: base.map(r => ({resource: r}))});
const fhir = new Fhir(parser);
for (const file of process.argv.slice(2)) {
  console.log(JSON.stringify(fhir.validate(JSON.parse(fs.readFileSync(file)), {errorOnUnexpected: true})));
}
"""


def _installed() -> bool:
    return all((VALIDATOR_DIR / "node_modules" / name / "package.json").is_file()
               for name in ("fhir", "hl7.fhir.r5.core"))


def _unavailable(message: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def fhir_js() -> Path:
    """The validator script, its npm packages installed once (a file lock keeps workers apart)."""
    what = "validating FHIR exports with FHIR.js and HL7's R5 definitions"
    require("node", ("nodejs", "npm"), what=what)
    npm = require("npm", ("npm",), what=what)
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / "fhir-validator.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _installed():
            VALIDATOR_DIR.mkdir(parents=True, exist_ok=True)
            done = subprocess.run([npm, "install", "--prefix", str(VALIDATOR_DIR), "--no-audit", "--no-fund",
                                   "--no-save", FHIR_JS, R5_CORE], capture_output=True, text=True, timeout=900)
            if done.returncode != 0 or not _installed():
                shutil.rmtree(VALIDATOR_DIR / "node_modules", ignore_errors=True)
                _unavailable(f"{what}: `npm install {FHIR_JS} {R5_CORE}` failed:\n"
                             f"{(done.stdout + done.stderr)[-1500:]}")
        script = VALIDATOR_DIR / "validate.js"
        if not script.is_file() or script.read_text() != VALIDATE_JS:
            script.write_text(VALIDATE_JS)
    return script


def run_fhir_js(script: Path, *paths: Path) -> list[dict[str, Any]]:
    done = subprocess.run(["node", str(script), *map(str, paths)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines()]


def _walk(node: Any):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _codes(concept: dict[str, Any]) -> set[tuple[str, str]]:
    return {(c.get("system", ""), c.get("code", "")) for c in concept.get("coding", [])}


def check_codes_and_units(raw: dict[str, Any]) -> None:
    """The project's codes are defined by the CodeSystems in the Bundle; temperatures are Cel,
    rises and differences K; no other UCUM unit than those and minutes."""
    systems = {e["resource"]["url"]: {c["code"]: c["display"] for c in e["resource"]["concept"]}
               for e in raw["entry"] if e["resource"]["resourceType"] == "CodeSystem"}
    assert set(systems) == {OBSERVATION_CODES_URL, OUTCOME_CODES_URL}
    for node in _walk(raw):
        if node.get("system", "").startswith(CODE_SYSTEM_BASE) and "code" in node:
            assert node["code"] in systems[node["system"]], node
            assert node["display"] == systems[node["system"]][node["code"]], node
        if node.get("system") == UCUM:
            assert node["code"] in ("Cel", "K", "min"), node
    expected_units = {SKIN_TEMPERATURE: "Cel", (OBSERVATION_CODES_URL, "peak-rise"): "K",
                      (OBSERVATION_CODES_URL, "di-minus-dc"): "K", (OBSERVATION_CODES_URL, "time-to-confirmation"): "min"}
    observations = [e["resource"] for e in raw["entry"] if e["resource"]["resourceType"] == "Observation"]
    for part in observations + [c for o in observations for c in o.get("component", [])]:
        quantity = part.get("valueQuantity") or part.get("valueSampledData", {}).get("origin")
        for code in _codes(part["code"]):
            if code in expected_units:
                assert quantity is not None and quantity["code"] == expected_units[code], (code, quantity)
        if quantity is not None and quantity["code"] == "Cel":
            assert SKIN_TEMPERATURE in _codes(part["code"]), "only a skin temperature is in Cel"


def validated(script: Path, *paths: Path) -> list[dict[str, Any]]:
    """Each Bundle checked by fhir.resources R5, FHIR.js with HL7's R5 definitions and our own checks."""
    bundles = []
    for path, result in zip(paths, run_fhir_js(script, *paths), strict=True):
        assert result["valid"] and not result["messages"], (path.name, result["messages"][:10])
        raw = json.loads(path.read_text(encoding="utf-8"))
        Bundle.model_validate(raw)
        check_codes_and_units(raw)
        bundles.append(raw)
    return bundles


def resources(raw: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in raw["entry"] if e["resource"]["resourceType"] == kind]


def verdict_of(raw: dict[str, Any]) -> dict[str, Any]:
    [verdict] = [o for o in resources(raw, "Observation")
                 if (OBSERVATION_CODES_URL, "block-assessment") in _codes(o["code"])]
    return verdict


def component(observation: dict[str, Any], code: str) -> dict[str, Any]:
    [part] = [c for c in observation["component"] if (OBSERVATION_CODES_URL, code) in _codes(c["code"])]
    return part


def test_the_fhir_bundle_validates_and_carries_series_baseline_peak_and_verdict(success_session, tmp_path, fhir_js):
    out = export_session(success_session, "fhir", tmp_path)
    assert out.parent == tmp_path and out.name.endswith(".fhir.json")
    [raw] = validated(fhir_js, out)
    kinds = [e["resource"]["resourceType"] for e in raw["entry"]]
    assert kinds.count("Patient") == 1 and kinds.count("Device") == 1 and kinds.count("CodeSystem") == 2
    assert resources(raw, "Patient")[0]["identifier"][0]["value"] == "PT-0042"
    observations = resources(raw, "Observation")
    series = [o for o in observations if "valueSampledData" in o]
    assert len(series) == 2
    for o in series:
        sampled = o["valueSampledData"]
        assert (sampled["interval"], sampled["intervalUnit"]) == (1.0, "s")
        tokens = sampled["data"].split()
        assert len(tokens) == 2701 and float(tokens[-1]) > 15.0
    texts = [o["code"]["text"] for o in observations]
    assert sum("baseline skin temperature" in t for t in texts) == 2 and sum("peak rise" in t for t in texts) == 2
    verdict = verdict_of(raw)
    assert verdict["valueCodeableConcept"]["coding"][0]["code"] == "confirmed"
    assert verdict["valueCodeableConcept"]["text"].startswith("Block CONFIRMED at")
    confirmed = component(verdict, "time-to-confirmation")["valueQuantity"]
    assert confirmed["code"] == "min" and 0 < confirmed["value"] < 40
    assert component(verdict, "blocked-side")["valueCodeableConcept"]["text"] == "right"
    assert len(verdict["derivedFrom"]) == 6  # both series, both baselines, both peak rises
    assert all(e["resource"]["meta"]["tag"][0]["code"] == "HTEST" for e in raw["entry"])  # SIMULATED, machine-readable
    assert "SIMULATED" in json.dumps(raw)


def test_a_rise_is_never_coded_as_a_skin_temperature_and_is_in_kelvin(success_session, tmp_path, fhir_js):
    # It was: the peak rise carried LOINC 39106-0 (Temperature of Skin) with 4.74 Cel, so a chart
    # would plot a rise of 4.74 °C as a foot at 4.74 °C.
    [raw] = validated(fhir_js, export_session(success_session, "fhir", tmp_path / "s.fhir.json"))
    figures = compute_figures(load_session(success_session))
    by_site = {"22335008": Limb.LEFT, "7769000": Limb.RIGHT}
    rises, baselines = {}, {}
    for o in resources(raw, "Observation"):
        if "bodySite" not in o or "valueQuantity" not in o:
            continue
        limb = by_site[o["bodySite"]["coding"][0]["code"]]
        if (OBSERVATION_CODES_URL, "peak-rise") in _codes(o["code"]):
            assert SKIN_TEMPERATURE not in _codes(o["code"])
            rises[limb] = o["valueQuantity"]
        elif SKIN_TEMPERATURE in _codes(o["code"]):
            baselines[limb] = o["valueQuantity"]
    for limb in Limb:
        fig = figures.limbs[limb]
        assert rises[limb] == {"value": fig.peak_rise_c, "unit": "K", "system": UCUM, "code": "K"}
        assert baselines[limb] == {"value": fig.baseline_c, "unit": "°C", "system": UCUM, "code": "Cel"}
    assert rises[Limb.RIGHT]["value"] > 2.0, "the blocked foot warmed"


def test_di_minus_dc_is_a_coded_difference_in_kelvin_from_the_figures(success_session, tmp_path, fhir_js):
    # It was: a component with text only and the unit Cel, a temperature, for a difference.
    [raw] = validated(fhir_js, export_session(success_session, "fhir", tmp_path / "s.fhir.json"))
    figures = compute_figures(load_session(success_session))
    quantity = component(verdict_of(raw), "di-minus-dc")["valueQuantity"]
    assert quantity == {"value": figures.di_minus_dc_c, "unit": "K", "system": UCUM, "code": "K"}
    assert figures.di_minus_dc_c is not None and figures.di_minus_dc_c > 1.5


def test_the_verdict_carries_a_coded_outcome_for_every_kind_of_session(tmp_path, success_session, fhir_js):
    # It was: the verdict Observation had only a string ("confirmed: Block …"), nothing coded.
    live = SessionStore.create(SessionInfo(patient_id="LIVE-1", blocked=Limb.LEFT), tmp_path / "live.sympatherm")
    live.add_readings(Reading(limb, 28.0 + i * 0.001, ProbeStatus.OK, float(i), 1.7e9 + i)
                      for i in range(600) for limb in Limb)
    live.commit()  # still being recorded: the verdict so far
    sessions = {
        "confirmed": success_session,
        "not-confirmed": record_simulated(tmp_path / "failed.sympatherm", "failed", until_s=2700.0),
        "not-judged": record_simulated(tmp_path / "short.sympatherm", "failed", until_s=500.0),
        "in-progress": live.path,
    }
    outs = [export_session(path, "fhir", tmp_path / f"{code}.fhir.json") for code, path in sessions.items()]
    live.close()
    for code, raw in zip(sessions, validated(fhir_js, *outs), strict=True):
        value = verdict_of(raw)["valueCodeableConcept"]
        assert value["coding"] == [{"system": OUTCOME_CODES_URL, "version": "1", "code": code,
                                    "display": OUTCOME_CODES[code][0]}], code
        assert value["text"], code
        if code == "not-confirmed":
            assert value["text"].startswith("Block NOT CONFIRMED by the end of the recording")
        if code == "in-progress":
            assert all(o["status"] == "preliminary" for o in resources(raw, "Observation")), "never passed off as final"


def test_the_project_code_systems_are_in_the_bundle_and_in_the_docs(success_session, tmp_path, fhir_js):
    [raw] = validated(fhir_js, export_session(success_session, "fhir", tmp_path / "s.fhir.json"))
    systems = {cs["url"]: cs for cs in resources(raw, "CodeSystem")}
    docs = DOCS.read_text(encoding="utf-8")
    for url, codes in ((OBSERVATION_CODES_URL, OBSERVATION_CODES), (OUTCOME_CODES_URL, OUTCOME_CODES)):
        cs = systems[url]
        assert cs["content"] == "complete" and cs["count"] == len(codes)
        assert {c["code"]: c["display"] for c in cs["concept"]} == {k: v[0] for k, v in codes.items()}
        assert f"`{url}`" in docs, url
        for code in codes:
            assert re.search(rf"`{re.escape(code)}`", docs), f"{code} is not documented"
    for unit in ("`Cel`", "`K`", "`min`", "39106-0"):
        assert unit in docs


def test_the_independent_validator_rejects_what_is_not_r5(success_session, tmp_path, fhir_js):
    """The validator is no rubber stamp: R4's SampledData.period, a missing code and an unknown
    element are each refused."""
    raw = json.loads(export_session(success_session, "fhir", tmp_path / "s.fhir.json").read_text())
    broken = []
    for n, change in enumerate(("period", "code", "unknown")):
        bad = json.loads(json.dumps(raw))
        series = next(e["resource"] for e in bad["entry"] if "valueSampledData" in e["resource"])
        if change == "period":  # the R4 layout this export used to write
            sampled = series["valueSampledData"]
            sampled["period"] = 1000.0
            del sampled["interval"], sampled["intervalUnit"]
        elif change == "code":
            del series["code"]
        else:
            series["peakRise"] = 4.74
        path = tmp_path / f"bad{n}.json"
        path.write_text(json.dumps(bad))
        broken.append(path)
    results = run_fhir_js(fhir_js, *broken)
    assert [r["valid"] for r in results] == [False, False, False]
    assert any("intervalUnit" in m["location"] for m in results[0]["messages"])
