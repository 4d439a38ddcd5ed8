"""HL7 v2.6 ORU^R01 (IHE PCD-01, Device Enterprise Communication) for a finished session.

The message is built with hl7apy against its v2.6 structures and validated by it before it is
written or queued; every number comes from :func:`monitor.exports.figures.compute_figures` (the
PDF's figures), never recomputed here. docs/hl7.md is the interface specification: segments,
fields, codes and units.

Typed text (patient ID, notes, procedure fields, device names) is escaped by HL7's rules
(``\\E\\ \\F\\ \\S\\ \\T\\ \\R\\``, and control characters such as CR as ``\\Xdd\\``), so nothing a
user types can end a field or a segment.
"""

from __future__ import annotations

import base64
import os
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hl7apy.base_datatypes import TextualDataType  # type: ignore[import-untyped]
from hl7apy.consts import VALIDATION_LEVEL  # type: ignore[import-untyped]
from hl7apy.core import Group, Message, Segment  # type: ignore[import-untyped]
from hl7apy.exceptions import HL7apyException  # type: ignore[import-untyped]

from monitor.exports import ExportError
from monitor.exports._files import open_private
from monitor.exports.figures import REPORT_MINUTES, LimbFigures, ReportFigures, session_outcome
from monitor.exports.session_data import Progress, SessionData
from monitor.model import Limb, MarkerKind
from monitor.pipeline.timefmt import format_relative
from monitor.procedure.minutes import minute_label

PROFILE = "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO"
VERSION = "2.6"
APPLICATION = "SYMPATHERM"
# ISO/IEEE 11073-10101 (the MDC nomenclature), as code^name^MDC.
MDC_TEMP_SKIN = "150388^MDC_TEMP_SKIN^MDC"
MDC_TEMP_DIFF = "188440^MDC_TEMP_DIFF^MDC"
# A temperature: °C, with UCUM Cel as the alternate. A difference of temperatures: °C of
# difference, with UCUM K as the alternate (UCUM's Cel is a point on a scale, not an interval).
UNIT_TEMPERATURE = "268192^MDC_DIM_DEGC^MDC^Cel^degree Celsius^UCUM"
UNIT_DIFFERENCE = "268192^MDC_DIM_DEGC^MDC^K^kelvin (difference of temperature)^UCUM"
UNIT_MINUTES = "min^minute^UCUM"
# The order: monitoring of the patient (SNOMED CT), as PCD-01 senders give it.
ORDER_SERVICE = "182777000^monitoring of patient^SCT"
# The project's own codes: HL7 v2 names a local coding system "99" + letters; each is the
# FHIR CodeSystem of the same codes (monitor/exports/fhir.py, canonical URLs below).
CODE_SYSTEM_BASE = "https://sympatherm.example/fhir/CodeSystem"
OBSERVATION_SYSTEM = "99SYMOBS"  # = CODE_SYSTEM_BASE/observation
OUTCOME_SYSTEM = "99SYMOUT"  # = CODE_SYSTEM_BASE/block-outcome
CODE_SYSTEMS = {OBSERVATION_SYSTEM: f"{CODE_SYSTEM_BASE}/observation",
                OUTCOME_SYSTEM: f"{CODE_SYSTEM_BASE}/block-outcome"}
CODE_SYSTEM_VERSION = "1"
OUTCOMES = {"confirmed": "Block confirmed", "not-confirmed": "Block not confirmed by the end of the recording",
            "not-judged": "Not judged", "in-progress": "Verdict so far"}
OBSERVATIONS = {
    "block-assessment": "Lumbar sympathetic block assessment by foot skin temperature (SympaTherm)",
    "peak-rise": "Peak rise of foot skin temperature from baseline",
    "rise-at-end": "Rise of foot skin temperature from baseline at the end of the recording",
    "di-minus-dc": "Di - Dc at the end of the recording",
    "time-to-confirmation": "Time from injection to confirmation of the block",
    "confirmed-at": "Time the block was confirmed",
    "blocked-side": "Side blocked",
    "criteria": "Criteria in force",
    "criteria-source": "Published source of the criteria in force",
    "chart-report": "Chart report (PDF)",
    "baseline": "Baseline before the injection",
    "report-minute": "Value standing for a minute after the injection",
}
SNOMED_FOOT = {Limb.LEFT: "22335008^Left foot^SCT", Limb.RIGHT: "7769000^Right foot^SCT"}
SNOMED_SIDE = {Limb.LEFT: "7771000^Left^SCT", Limb.RIGHT: "24028007^Right^SCT"}
# Containment (MDS.VMD.CHAN.METRIC): MDS 1 is SympaTherm; VMD 1 the foot temperatures with one
# channel per foot and channel 3 for the comparison of the feet; VMD 2 the block assessment;
# VMD 3 the attached report. The metric number is fixed per observation (see docs/hl7.md).
CHANNEL = {Limb.LEFT: "1.1.1", Limb.RIGHT: "1.1.2"}
COMPARISON = "1.1.3"
ASSESSMENT = "1.2.1"
ATTACHMENT = "1.3.1"
METRIC_BASELINE = 1
METRIC_MINUTE = {m: 2 + i for i, m in enumerate(REPORT_MINUTES)}
METRIC_RISE_AT_END = 10
METRIC_PEAK_RISE = 11


class Hl7Error(ExportError):
    """The message could not be built for this session; the message is plain words."""


@dataclass(frozen=True)
class MessageSettings:
    """What a site configures about the message (``hl7.json``'s ``message`` section, docs/hl7.md)."""

    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    assigning_authority: str = ""  # PID-3.4: who issued the patient identifiers typed here
    attach_pdf: bool = False  # the chart report as an ED OBX (base64)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> MessageSettings:
        known = {f: raw[f] for f in cls.__dataclass_fields__ if f in raw}
        for name, value in known.items():
            if not isinstance(value, bool if name == "attach_pdf" else str):
                raise Hl7Error(f"hl7.json: message.{name} must be "
                               + ("true or false" if name == "attach_pdf" else "text"))
        return cls(**known)


def escape(text: str, separators: str = "|^~\\&") -> str:
    """``text`` escaped by HL7 v2's rules (chapter 2.7): the delimiters and the escape character as
    \\F\\ \\S\\ \\R\\ \\E\\ \\T\\, and CR, LF and other control characters as hexadecimal \\Xdd\\."""
    field, component, repetition, esc, subcomponent = tuple(separators)
    names = {field: "F", component: "S", repetition: "R", esc: "E", subcomponent: "T"}
    out = []
    for ch in text:
        if ch in names:
            out.append(f"{esc}{names[ch]}{esc}")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"{esc}X{ord(ch):02X}{esc}")
        else:
            out.append(ch)
    return "".join(out)


class _Text(TextualDataType):  # type: ignore[misc,unused-ignore]  # hl7apy is untyped (Any)
    """Typed text for one hl7apy leaf, escaped by :func:`escape` (hl7apy's own escaping leaves an
    existing escape sequence such as a typed ``\\F\\`` alone and would let a CR end the segment)."""

    def __init__(self, value: str, kind: str = "ST") -> None:
        self._kind = kind
        super().__init__(value, None, None, VALIDATION_LEVEL.STRICT)

    @property
    def classname(self) -> str:
        return self._kind

    def _escape_value(self, value: str, encoding_chars: dict[str, str] | None = None) -> str:
        enc = encoding_chars or {"FIELD": "|", "COMPONENT": "^", "REPETITION": "~", "ESCAPE": "\\",
                                 "SUBCOMPONENT": "&"}
        return escape(value, enc["FIELD"] + enc["COMPONENT"] + enc["REPETITION"] + enc["ESCAPE"]
                      + enc["SUBCOMPONENT"])


def _one_line(text: str) -> str:
    """Our own words inside a composite field (a CWE's text): escaped, on one line."""
    return escape(" ".join(text.split()))


def hl7_time(wall: float) -> str:
    """DTM in UTC with its offset, to the second (e.g. 20260312093015+0000)."""
    return datetime.fromtimestamp(wall, UTC).strftime("%Y%m%d%H%M%S+0000")


def _number(value: float, places: int = 1) -> str:
    text = f"{value:.{places}f}"
    return "0.0" if text in ("-0.0", "-0") else text


def new_control_id() -> str:
    """MSH-10: unique per message and kept for every resend (20 characters, the classic limit)."""
    return uuid.uuid4().hex[:20].upper()


@dataclass
class _Obx:
    value_type: str
    code: str
    path: str
    value: str | _Text
    unit: str = ""
    at_wall: float | None = None
    method: str = ""
    site: str = ""
    devices: tuple[str, ...] = ()
    attachment: str = ""  # base64 of an ED value (no length limit, unlike hl7apy's TX)


class _Builder:
    def __init__(self, data: SessionData, figures: ReportFigures, settings: MessageSettings) -> None:
        self.data, self.figures, self.settings = data, figures, settings
        self.start = data.started_wall
        self.software = f"SympaTherm {data.software_version or 'unknown'}"
        self.software_id = escape(self.software) + f"^{APPLICATION}"

    def wall(self, session_s: float) -> float:
        return self.start + session_s

    def probe_ids(self, limb: Limb) -> tuple[str, ...]:
        return tuple(escape(d.key) + f"^{APPLICATION}" for d in self.data.devices if d.limb is limb and d.key)

    def foot_rows(self, limb: Limb, fig: LimbFigures) -> Iterable[_Obx]:
        f, chan = self.figures, CHANNEL[limb]
        devices = self.probe_ids(limb) + (self.software_id,)
        site = SNOMED_FOOT[limb]
        inj = f.injection_s
        if fig.baseline_c is not None:
            yield _Obx("NM", MDC_TEMP_SKIN, f"{chan}.{METRIC_BASELINE}", _number(fig.baseline_c), UNIT_TEMPERATURE,
                       self.wall(inj) if inj is not None else None, self.code("baseline"), site, devices)
        rows = {row.minute: row for row in f.minutes}
        for minute in REPORT_MINUTES:
            value = fig.at_minutes.get(minute)
            if value is None or minute not in rows:
                continue
            method = f"report-minute^{_one_line(f'At {minute_label(minute)} from the injection')}^{OBSERVATION_SYSTEM}"
            yield _Obx("NM", MDC_TEMP_SKIN, f"{chan}.{METRIC_MINUTE[minute]}", _number(value), UNIT_TEMPERATURE,
                       self.wall(rows[minute].session_s), method, site, devices)
        if fig.rise_c is not None:
            yield _Obx("NM", MDC_TEMP_DIFF, f"{chan}.{METRIC_RISE_AT_END}", _number(fig.rise_c), UNIT_DIFFERENCE,
                       self.wall(self.data.duration_s), self.code("rise-at-end"), site, devices)
        if fig.peak_rise_c is not None and inj is not None:
            yield _Obx("NM", MDC_TEMP_DIFF, f"{chan}.{METRIC_PEAK_RISE}", _number(fig.peak_rise_c), UNIT_DIFFERENCE,
                       self.wall(inj + (fig.time_to_peak_s or 0.0)), self.code("peak-rise"), site, devices)

    def code(self, code: str) -> str:
        return f"{code}^{_one_line(OBSERVATIONS[code])}^{OBSERVATION_SYSTEM}"

    def assessment_rows(self) -> Iterable[_Obx]:
        f, data = self.figures, self.data
        end = self.wall(data.duration_s)
        software = (self.software_id,)
        if f.di_minus_dc_c is not None:
            yield _Obx("NM", MDC_TEMP_DIFF, f"{COMPARISON}.1", _number(f.di_minus_dc_c), UNIT_DIFFERENCE, end,
                       self.code("di-minus-dc"), devices=software)
        outcome = session_outcome(data, f)
        code = outcome.code.replace("_", "-")
        verdict = f"{code}^{_one_line(OUTCOMES[code])}^{OUTCOME_SYSTEM}^^^^{CODE_SYSTEM_VERSION}^^{_one_line(outcome.headline)}"
        yield _Obx("CWE", self.code("block-assessment"), f"{ASSESSMENT}.1", verdict, at_wall=end, devices=software)
        if data.info.blocked is not None:
            yield _Obx("CWE", self.code("blocked-side"), f"{ASSESSMENT}.2", SNOMED_SIDE[data.info.blocked],
                       devices=software)
        criteria = f"{f.criteria_label}: {f.criteria[0].threshold}" if f.criteria else f.criteria_label
        if criteria:
            yield _Obx("ST", self.code("criteria"), f"{ASSESSMENT}.3", _Text(" ".join(criteria.split())),
                       devices=software)
        if f.criteria_source:
            yield _Obx("ST", self.code("criteria-source"), f"{ASSESSMENT}.4", _Text(" ".join(f.criteria_source.split())),
                       devices=software)
        if f.confirmed_at_s is not None:
            at = self.wall(f.confirmed_at_s)
            yield _Obx("DTM", self.code("confirmed-at"), f"{ASSESSMENT}.5", hl7_time(at), at_wall=at, devices=software)
            if f.confirmation is not None:  # from the confirmed attempt's injection, as the report's headline
                minutes = f.confirmation.after_injection_s / 60.0
                yield _Obx("NM", self.code("time-to-confirmation"), f"{ASSESSMENT}.6", _number(minutes, 2),
                           UNIT_MINUTES, at, devices=software)

    def notes(self) -> list[str]:
        info, data = self.data.info, self.data
        lines = []
        if data.simulated:
            lines.append("SIMULATED session from the SympaTherm simulator: not patient data.")
        lines.append("SympaTherm supports the clinician's judgement; it is not a diagnosis and not a certified "
                     "medical device.")
        details = [("Operator", info.operator), ("Nurse", info.nurse), ("Procedure", info.procedure),
                   ("Levels", info.levels), ("Drug", info.drug)]
        typed = "; ".join(f"{name}: {value}" for name, value in details if value)
        if typed:
            lines.append(typed)
        origin = self.figures.origin_s
        reference = "the injection" if self.figures.injection_s is not None else "the start of the recording"
        for marker in data.markers:
            if marker.kind is MarkerKind.NOTE and marker.text:
                lines.append(f"Note at {format_relative(marker.session_s - origin)} from {reference}: {marker.text}")
        return lines


def _segment(parent: Group | Message, name: str) -> Segment:
    return parent.add_segment(name)


def _add_obx(order: Group, index: int, row: _Obx) -> None:
    obx = _segment(order.add_group("ORU_R01_OBSERVATION"), "OBX")
    obx.obx_1 = str(index)
    obx.obx_2 = row.value_type
    obx.obx_3 = row.code
    obx.obx_4 = row.path
    if row.attachment:
        obx.obx_5 = f"{row.value}^x"
        last = obx.obx_5[0].children[-1]
        last.children[0].value = _Text(row.attachment, "TX")
    elif isinstance(row.value, _Text):
        # hl7apy types OBX-5 ("varies") only from text: give it a placeholder, then hand its one leaf
        # the typed text, escaped by our rules.
        obx.obx_5 = "x"
        obx.obx_5[0].children[0].children[0].value = row.value
    else:
        obx.obx_5 = row.value
    if row.unit:
        obx.obx_6 = row.unit
    obx.obx_11 = "F"
    if row.at_wall is not None:
        obx.obx_14 = hl7_time(row.at_wall)
    if row.method:
        obx.obx_17 = row.method
    for device in row.devices:
        obx.add_field("OBX_18").value = device
    if row.site:
        obx.obx_20 = row.site


def build_message(data: SessionData, figures: ReportFigures, settings: MessageSettings | None = None, *,
                  control_id: str | None = None, now: float | None = None, pdf: bytes | None = None) -> str:
    """The ORU^R01 as ER7 text (segments ended by CR), validated against hl7apy's v2.6 structures."""
    if data.status != "closed":
        raise Hl7Error("the session is not finished (it is still being recorded, or its recording was "
                       f"interrupted): finish it, or close it with `sympatherm sessions --close {data.path}`, "
                       "before it goes to the record")
    settings = settings or MessageSettings()
    b = _Builder(data, figures, settings)
    now = now if now is not None else datetime.now(UTC).timestamp()
    msg = Message("ORU_R01", version=VERSION, validation_level=VALIDATION_LEVEL.STRICT)
    msh = msg.msh
    msh.msh_3 = APPLICATION
    if settings.sending_facility:
        msh.msh_4.hd_1 = _Text(settings.sending_facility, "IS")
    if settings.receiving_application:
        msh.msh_5.hd_1 = _Text(settings.receiving_application, "IS")
    if settings.receiving_facility:
        msh.msh_6.hd_1 = _Text(settings.receiving_facility, "IS")
    msh.msh_7 = hl7_time(now)
    msh.msh_9 = "ORU^R01^ORU_R01"
    control_id = control_id or new_control_id()
    msh.msh_10 = control_id
    msh.msh_11 = "T" if data.simulated else "P"  # a simulated session is never production data
    msh.msh_12 = VERSION
    msh.msh_15 = "AL"
    msh.msh_16 = "NE"
    msh.msh_18 = "UNICODE UTF-8"
    msh.msh_21 = PROFILE
    result = msg.add_group("ORU_R01_PATIENT_RESULT")
    pid = _segment(result.add_group("ORU_R01_PATIENT"), "PID")
    pid.pid_1 = "1"
    if data.info.patient_id:
        pid.pid_3.cx_1 = _Text(data.info.patient_id)
        if settings.assigning_authority:
            pid.pid_3.cx_4.hd_1 = _Text(settings.assigning_authority, "IS")
        pid.pid_3.cx_5 = "MR"
    pid.pid_5 = "^^^^^^U"  # the name is not known to SympaTherm: name type U, unspecified
    order = result.add_group("ORU_R01_ORDER_OBSERVATION")
    _fill_obr(_segment(order, "OBR"), b, control_id)
    for i, line in enumerate(b.notes(), start=1):
        nte = _segment(order, "NTE")
        nte.nte_1 = str(i)
        nte.nte_3 = _Text(line, "FT")
    rows = [row for limb, fig in figures.limbs.items() for row in b.foot_rows(limb, fig)]
    rows += list(b.assessment_rows())
    if pdf is not None:
        rows.append(_Obx("ED", b.code("chart-report"), f"{ATTACHMENT}.1", "^application^pdf^Base64",
                         devices=(b.software_id,), attachment=base64.b64encode(pdf).decode("ascii")))
    for index, row in enumerate(rows, start=1):
        _add_obx(order, index, row)
    _validate(msg, has_patient=bool(data.info.patient_id))
    return str(msg.to_er7())


def _fill_obr(obr: Segment, b: _Builder, control_id: str) -> None:
    data, f = b.data, b.figures
    obr.obr_1 = "1"
    obr.obr_3 = f"{control_id}^{APPLICATION}"  # the filler's number: this result, unique per message
    obr.obr_4 = ORDER_SERVICE
    # The observation time is the injection (the start of the recording if none was marked); the end
    # is the end of the recording.
    obr.obr_7 = hl7_time(b.wall(f.injection_s if f.injection_s is not None else 0.0))
    obr.obr_8 = hl7_time(b.wall(data.duration_s))
    side = data.info.blocked
    words = f"Lumbar sympathetic block, {side} side" if side is not None else "Lumbar sympathetic block, side not recorded"
    if f.injection_s is None:
        words += "; no injection was marked (observation time = start of recording)"
    obr.obr_13 = _Text(words)
    obr.obr_22 = hl7_time(b.wall(data.duration_s))
    obr.obr_25 = "F"


def _validate(msg: Message, *, has_patient: bool) -> None:
    """hl7apy's strict v2.6 validation, every finding. Without a typed patient identifier PID-3
    (required by the standard) stays empty, as documented: that one finding is expected."""
    from hl7apy.validation import Validator  # type: ignore[import-untyped]

    with tempfile.TemporaryDirectory(prefix="sympatherm-hl7-") as folder:
        report = Path(folder) / "report.txt"
        try:
            Validator.validate(msg, reference=msg.reference, report_file=str(report))
            return
        except HL7apyException as exc:
            first = str(exc)
            findings = [line.removeprefix("Error: ") for line in report.read_text().splitlines()
                        if line.startswith("Error:")] if report.is_file() else [first]
    unexpected = [f for f in findings if has_patient or "PID_3" not in f]
    if unexpected:
        raise Hl7Error(f"the HL7 message did not validate against HL7 v{VERSION}: {'; '.join(unexpected)}")


CONFIG_FILE = "hl7.json"


def load_message_settings(path: Path | None = None) -> MessageSettings:
    """The ``message`` section of the site's ``hl7.json`` in the configuration folder (defaults if
    there is none). JSON only: nothing in it is run."""
    import json

    if path is None:
        from monitor.paths import config_dir

        path = config_dir() / CONFIG_FILE
    if not path.is_file():
        return MessageSettings()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise Hl7Error(f"cannot read {path}: {exc}") from None
    section = raw.get("message", {}) if isinstance(raw, dict) else None
    if not isinstance(section, dict):
        raise Hl7Error(f"{path}: 'message' must be an object")
    return MessageSettings.from_dict(section)


def render_pdf(data: SessionData, figures: ReportFigures) -> bytes:
    """The chart report for the ED attachment, from the same figures (in a private temporary folder)."""
    from monitor.exports.pdf import write_pdf

    with tempfile.TemporaryDirectory(prefix="sympatherm-") as folder:
        os.chmod(folder, 0o700)
        path = write_pdf(data, figures, Path(folder) / "report.pdf")
        return path.read_bytes()


def message_for(data: SessionData, figures: ReportFigures, settings: MessageSettings | None = None, *,
                control_id: str | None = None) -> str:
    """The message a site's settings ask for: with the PDF attached when ``attach_pdf`` is set."""
    settings = settings or MessageSettings()
    pdf = render_pdf(data, figures) if settings.attach_pdf else None
    return build_message(data, figures, settings, control_id=control_id, pdf=pdf)


def write_hl7(data: SessionData, figures: ReportFigures, out: str | os.PathLike[str],
              progress: Progress | None = None, settings: MessageSettings | None = None) -> Path:
    """Write the ORU^R01 (segments ended by CR, UTF-8), 0600."""
    out = Path(out)
    if settings is None:
        settings = load_message_settings()
    text = message_for(data, figures, settings)
    with open_private(out, "wb") as f:
        f.write(text.encode("utf-8"))
    if progress:
        progress(1, 1)
    return out
