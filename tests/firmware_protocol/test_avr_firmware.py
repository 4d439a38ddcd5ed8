"""The reference probe: the real ATmega328P firmware (avr-gcc) run on simavr, its ADC fed the
divider voltages of a known temperature course, read through the host's own serial source and
`sympatherm record`. See docs/reference-probe.md for the hardware and the accuracy budget.

Stated budget, emulated electronics (ideal ADC with 0.5 LSB rms input noise, 64x oversampling,
fixed-point Steinhart-Hart, 0.01 degC frames), 20-40 degC: every reading within +-0.035 degC of
the course, plateau means within +-0.01 degC. Probe tolerance and the real chip's INL come on
top (docs/reference-probe.md).
"""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import serial

from firmware_protocol.frames import FrameDecoder, HelloFrame, IdentityRequest, SampleFrame, encode_frame
from firmware_protocol.thermistor import YSI_400
from monitor.model import Limb, ProbeStatus
from monitor.sources.ports import SYMPATHERM_PID, SYMPATHERM_VID, PortInfo
from monitor.sources.registry import DeviceRegistry
from monitor.sources.serial import SerialSource
from tests.firmware_protocol.test_protocol_doc import blocks, hexbytes
from tests.support.system_tools import require

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware_protocol" / "firmware" / "avr"
SYMPATHERM = str(Path(sys.executable).parent / "sympatherm")
BUDGET_C = 0.035  # any one reading, 20-40 degC, emulated electronics
BIAS_BUDGET_C = 0.01  # the mean over a plateau
SUM_FULL_SCALE = 64 * 1024
YSI = (809955241, 1043216632, 120921650)  # A Q39, B Q42, C Q50 (src/config.h)


def _toolchain() -> None:
    require("avr-gcc", ("gcc-avr", "avr-libc", "binutils-avr"), what="building the AVR reference probe firmware")
    require("simavr", ("simavr", "libsimavr-dev", "libsimavrparts1"), what="running the firmware in the loop")
    require("cc", ("gcc", "libc6-dev"), what="building the simavr harness")
    require("make", ("make",), what="building the AVR firmware")


def _make(build: Path, *variables: str) -> Path:
    done = subprocess.run(["make", "-s", "-C", str(FIRMWARE), f"BUILD={build}", *variables],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"make failed:\n{done.stdout}\n{done.stderr}"
    return build


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _toolchain()
    return _make(tmp_path_factory.mktemp("avr-build"))


class EmulatedProbe:
    """probe-harness on a course, its pty path read from its first output line."""

    def __init__(self, build: Path, tmp: Path, course: str, *flags: str, elf: Path | None = None) -> None:
        course_file = tmp / "course.txt"
        course_file.write_text(course)
        self.stderr_path = tmp / "harness.err"
        self._err = self.stderr_path.open("w")
        self.proc = subprocess.Popen(
            [str(build / "probe-harness"), str(elf or build / "sympatherm-probe.elf"), "--course", str(course_file),
             *flags], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._err, text=True)
        assert self.proc.stdout is not None
        self.path = self.proc.stdout.readline().strip()
        assert self.path.startswith("/dev/"), f"no pty path: {self.stderr()}"

    def port_info(self) -> PortInfo:
        return PortInfo(self.path, SYMPATHERM_VID, SYMPATHERM_PID, "ST-0042", "SympaTherm probe", "SympaTherm")

    def command(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def stderr(self) -> str:
        self._err.flush()
        return self.stderr_path.read_text()

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.command("quit")
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._err.close()
        return self.stderr_path.read_text()


@pytest.fixture
def emulate(build: Path, tmp_path: Path):
    started: list[EmulatedProbe] = []

    def start(course: str, *flags: str, elf: Path | None = None) -> EmulatedProbe:
        probe = EmulatedProbe(build, tmp_path, course, *flags, elf=elf)
        started.append(probe)
        return probe

    yield start
    for probe in started:
        probe.stop()


def _collect(src: SerialSource, seconds: float, until=None) -> list:
    readings: list = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        readings.extend(src.drain())
        if until is not None and until(readings):
            break
        src.wait_for_readings(0.05)
    readings.extend(src.drain())
    return readings


def _source(probe: EmulatedProbe, tmp_path: Path) -> SerialSource:
    return SerialSource(probe.path, discovery=lambda: [probe.port_info()],
                        registry=DeviceRegistry(tmp_path / "devices.json"))


def _plateaus(levels: list[float], hold_s: float) -> tuple[str, list[tuple[float, float, float, float]]]:
    """A course stepping through ``levels`` on the left and the reverse on the right."""
    lines, spans = [], []
    for i, (left, right) in enumerate(zip(levels, reversed(levels), strict=True)):
        start, end = i * hold_s, (i + 1) * hold_s
        lines += [f"{start:.3f} {left} {right}", f"{end - 0.001:.3f} {left} {right}"]
        spans.append((start, end, left, right))
    return "\n".join(lines) + "\n", spans


# ---- the firmware's code on the host: PROTOCOL.md's examples and the conversion ----------------

def test_firmware_encoders_emit_protocol_md_examples_byte_for_byte(build: Path) -> None:
    out = subprocess.run([str(build / "protocol_examples")], capture_output=True, text=True, check=True).stdout
    emitted: dict[str, list[str]] = {}
    for line in out.splitlines():
        name, _, value = line.partition(": ")
        emitted.setdefault(name, []).append(value)
    doc = blocks("hex")
    for name, values in emitted.items():
        if name == "text-with-crc":
            assert values == blocks("text")[name].split(), "text line differs from PROTOCOL.md"
        else:
            assert bytes.fromhex(values[0]) == hexbytes(doc[name]), f"{name} differs from PROTOCOL.md"
    assert set(doc) - set(emitted) == {"identity-request"}  # the only frame a probe never sends


@pytest.mark.slow
def test_the_emulated_chip_boots_with_protocol_md_hello_bytes(build: Path, emulate, tmp_path_factory) -> None:
    """Built as the document's example unit (firmware 1.2.0, 1 Hz), the real .elf's first bytes
    after a reset are the flush delimiter and PROTOCOL.md's hello-at-boot, byte for byte."""
    variant = _make(tmp_path_factory.mktemp("avr-doc-build"), "FW_VERSION=1.2.0", "SAMPLE_PERIOD_MS=1000")
    probe = emulate("0 31 32\n", "--dtr", "reset", elf=variant / "sympatherm-probe.elf")
    want = hexbytes(blocks("hex")["hello-at-boot"])
    got = b""
    with serial.Serial(probe.path, 115200, timeout=0.1) as port:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and b"\x00" + want not in got:
            got += port.read(256)
    # Whatever the chip had half-sent when DTR reset it (a tail of one frame, or nothing) is still in
    # the pty; then the flush delimiter, then the hello. Seen on CI: b"\x03\x01\x01\x01\x01" first.
    before, delimiter, after = got.partition(b"\x00" + want[:-1])
    assert delimiter, f"no hello after a delimiter in {got!r}"
    assert after.startswith(b"\x00") and before.count(b"\x00") <= 1 and len(before) < len(want)


def _convert(build: Path, sums: list[int], series_deci: int = 16500) -> list[tuple[int, int, int]]:
    stdin = "".join(f"{s} {series_deci} {YSI[0]} {YSI[1]} {YSI[2]}\n" for s in sums)
    out = subprocess.run([str(build / "convert_check")], input=stdin, capture_output=True, text=True, check=True)
    return [tuple(int(v) for v in line.split()) for line in out.stdout.splitlines()]  # type: ignore[misc]


def test_fixed_point_conversion_matches_the_host_model(build: Path) -> None:
    """Every ADC sum from -40 to 125 degC: the firmware's temperature is the host's double-precision
    Steinhart-Hart of the same resistance to within the 0.005 degC of rounding to 0.01 degC."""
    lo = round(SUM_FULL_SCALE * YSI_400.resistance(124.0) / (1650 + YSI_400.resistance(124.0)))
    hi = round(SUM_FULL_SCALE * YSI_400.resistance(-39.0) / (1650 + YSI_400.resistance(-39.0)))
    sums = list(range(lo, hi, 7))
    worst = 0.0
    for s, (status, centi, deci) in zip(sums, _convert(build, sums), strict=True):
        ohm = 1650.0 * s / (SUM_FULL_SCALE - s)
        assert deci == round(ohm * 10)
        exact = YSI_400.celsius(ohm)
        worst = max(worst, abs(centi / 100 - exact))
        assert status == (0 if 0 <= centi <= 5000 else 3)
    assert worst <= 0.0051, f"fixed point off by {worst:.5f} degC"


def test_rails_are_open_and_short_never_temperatures(build: Path) -> None:
    near_open, open_, short, near_short = _convert(build, [SUM_FULL_SCALE - 700, 64 * 1023, 10, 64])
    assert open_ == (1, -32768, 0xFFFFFFFF)
    assert short[0] == 2 and short[1] == -32768
    assert near_short[0] == 2 and near_open[0] == 1  # past the host's -40 / 125 degC limits


# ---- in the loop: the emulated chip through the host's serial source ------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("dtr", ["pin", "reset", "none"])
def test_emulated_probe_identifies_itself(dtr: str, emulate, tmp_path: Path) -> None:
    """DTR# to PD2: a hello when the port opens; to RESET: a boot hello; unconnected: the boot
    hello is lost before anyone listens, so the host's identity request must be answered."""
    probe = emulate("0 31 32\n", "--dtr", dtr, "--serial", "ST-0042")
    src = _source(probe, tmp_path)
    src.start()
    try:
        readings = _collect(src, 8.0, until=lambda r: len(r) >= 20 and src.identity.device_id == "ST-0042")
        ident = src.identity
        assert ident.device_id == "ST-0042" and ident.probe_model == "YSI-400" and src.protocol == "binary"
        assert src._hello is not None and src._hello.firmware_version == "1.0.0"
        assert src._hello.sample_rate_hz == 10.0 and src._hello.channel_count == 2
        assert {r.limb for r in readings} == {Limb.LEFT, Limb.RIGHT}
        assert src.health().crc_failures == 0 and src.health().malformed_frames == 0
    finally:
        src.stop()


@pytest.mark.slow
def test_identity_request_is_answered_with_the_next_sequence_number(emulate) -> None:
    probe = emulate("0 31 32\n", "--dtr", "none")
    decoder = FrameDecoder()
    frames: list = []
    with serial.Serial(probe.path, 115200, timeout=0.1) as port:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len(frames) < 5:
            frames += decoder.feed(port.read(256))
        port.write(encode_frame(IdentityRequest(7)))
        port.write(b"\x13\x37garbage\x00" + encode_frame(IdentityRequest(8))[:-3] + b"\x00")  # ignored
        while time.monotonic() < deadline + 3 and not any(isinstance(f, HelloFrame) for f in frames[5:]):
            frames += decoder.feed(port.read(256))
    # (the boot hello, sequence 0, may arrive too if the port opened within its first 3 ms)
    hellos = [f for f in frames if isinstance(f, HelloFrame) and f.sequence != 0]
    assert len(hellos) == 1 and hellos[0].device_id == "ST-0042"
    seqs = [f.sequence for f in frames]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "the hello takes the next number, none skipped"
    assert decoder.lost_frames == 0


@pytest.mark.slow
def test_temperatures_match_the_course_within_budget_and_nothing_is_lost(emulate, tmp_path: Path) -> None:
    levels = [20.0, 24.0, 28.0, 32.0, 36.0, 40.0]
    course, spans = _plateaus(levels, 1.5)
    probe = emulate(course, "--course-clock", "start", "--seed", "7")
    src = _source(probe, tmp_path)
    src.start()
    try:
        readings = _collect(src, 30.0, until=lambda r: max((x.device_time_s or 0) for x in r) > 9.2 if r else False)
    finally:
        src.stop()
    errors: dict[tuple[Limb, int], list[float]] = {}
    for r in readings:
        assert r.status is ProbeStatus.OK and r.celsius is not None
        for i, (start, end, left, right) in enumerate(spans):
            # the frame stamped t samples during [t + 2 ms, t + 16 ms]: skip the one straddling a step
            if start <= r.device_time_s <= end - 0.05:
                want = left if r.limb is Limb.LEFT else right
                errors.setdefault((r.limb, i), []).append(r.celsius - want)
    assert len(errors) == 2 * len(levels)
    worst = max(abs(e) for es in errors.values() for e in es)
    bias = max(abs(sum(es) / len(es)) for es in errors.values())
    rms = math.sqrt(sum(e * e for es in errors.values() for e in es) / sum(len(es) for es in errors.values()))
    print(f"\nemulated accuracy 20-40 degC: worst {worst:.4f} degC, worst plateau bias {bias:.4f}, rms {rms:.4f}")
    assert worst <= BUDGET_C and bias <= BIAS_BUDGET_C
    # 10 Hz with no sequence lost: device times 0.1 s apart on every frame.
    lefts = sorted(r.device_time_s for r in readings if r.limb is Limb.LEFT)
    assert all(abs(b - a - 0.1) < 1e-9 for a, b in zip(lefts, lefts[1:], strict=False))
    assert src.health().lost_frames == 0 and len(lefts) >= 85


@pytest.mark.slow
def test_open_thermistor_reaches_the_host_as_a_sensor_fault(emulate, tmp_path: Path) -> None:
    probe = emulate("0 31 32\n1.5 31 32\n1.501 31 open\n3.0 31 open\n3.001 31 32\n", "--course-clock", "start")
    src = _source(probe, tmp_path)
    src.start()
    try:
        readings = _collect(src, 20.0, until=lambda r: max((x.device_time_s or 0) for x in r) > 4.5 if r else False)
    finally:
        src.stop()
    rights = [r for r in readings if r.limb is Limb.RIGHT]
    during = [r for r in rights if 1.5 <= r.device_time_s < 2.95]
    after = [r for r in rights if r.device_time_s >= 3.05]
    assert during and all(r.status is ProbeStatus.OPEN_CIRCUIT and r.celsius is None for r in during)
    assert after and all(r.status is ProbeStatus.OK and abs(r.celsius - 32) < BUDGET_C for r in after)
    # The frame whose burst straddles the break is a fault too, never an absurd temperature.
    assert all(r.status is ProbeStatus.OPEN_CIRCUIT or abs(r.celsius - 32) < BUDGET_C for r in rights)
    assert all(r.status is ProbeStatus.OK for r in readings if r.limb is Limb.LEFT)


@pytest.mark.slow
def test_chip_reset_mid_session_is_a_restart_nothing_delivered_twice(emulate, tmp_path: Path) -> None:
    probe = emulate("0 31 32\n")
    src = _source(probe, tmp_path)
    src.start()
    try:
        readings = _collect(src, 10.0, until=lambda r: len(r) >= 40)
        probe.command("reset")
        readings += _collect(src, 10.0, until=lambda r: len(r) >= 120)
    finally:
        src.stop()
    assert "RESET pulsed" in probe.stderr()
    assert src.device_restarts == 1 and src.health().lost_frames == 0
    # The restart is recorded, not only survived: a gap with its reason, and in the line's health.
    reasons = [(str(e.state), e.reason) for e in src.drain_events()]
    at = next(i for i, (state, why) in enumerate(reasons) if state == "reconnecting" and "restarted" in why)
    assert reasons[at + 1][0] == "streaming", reasons  # streaming again at once
    assert src.health().line("probe").words() == "line: 1 probe restart"
    lefts = [r for r in readings if r.limb is Limb.LEFT]
    times = [r.session_s for r in lefts]
    assert times == sorted(times) and len(set(times)) == len(times)
    seqs = [r.sequence for r in lefts]
    restart = next(i for i in range(1, len(seqs)) if seqs[i] < seqs[i - 1])
    assert seqs[restart] == 1  # the hello took 0
    assert len(set(seqs[:restart])) == restart and len(set(seqs[restart:])) == len(seqs) - restart
    # After the reset its clock starts again: sample n at n * 100 ms, none missing.
    assert [r.device_time_s for r in lefts[restart:]] == [n / 10 for n in range(1, len(lefts) - restart + 1)]


@pytest.mark.slow
def test_text_protocol_from_eeprom_and_switched_by_command(emulate, tmp_path: Path) -> None:
    probe = emulate("0 31.25 30.98\n", "--text", "--noise-lsb", "0")
    lines = b""
    frames: list = []
    with serial.Serial(probe.path, 115200, timeout=0.1) as port:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and lines.count(b"\n") < 6:
            lines += port.read(256)
        port.write(b"PROTOCOL BINARY\n")
        decoder = FrameDecoder()
        while time.monotonic() < deadline + 5 and len(frames) < 4:
            frames += decoder.feed(port.read(256))
    text = [ln for ln in lines.decode("ascii").splitlines() if ln and not ln.startswith("#")][1:]
    assert text, lines
    for ln in text:
        left, right = ln.split("*")[0].split(",")
        assert abs(float(left) - 31.25) <= 0.02 and abs(float(right) - 30.98) <= 0.02, ln
    assert isinstance(frames[0], HelloFrame) and all(isinstance(f, SampleFrame) for f in frames[1:])


# ---- a whole (short) procedure recorded by `sympatherm record --port` -----------------------------

PROCEDURE = """\
# baseline, block-like rise on the left, left probe lifted, right thermistor open
0 30.5 30.8
6 30.5 30.8
16 34.5 30.8
19 34.5 30.8
21 27.0 30.8
23 34.5 30.8
25.99 34.5 30.8
26 34.5 open
28 34.5 open
28.01 34.5 30.8
60 34.5 30.8
"""


def _course_at(points: list[tuple[float, str, str]], t: float, side: int) -> float | None:
    prev = points[0]
    for p in points[1:]:
        if t < p[0]:
            a, b = prev[side + 1], p[side + 1]
            if a == "open" or b == "open":
                return None if a == "open" else float(a)
            k = (t - prev[0]) / (p[0] - prev[0])
            return float(a) + k * (float(b) - float(a))
        prev = p
    return None if prev[side + 1] == "open" else float(prev[side + 1])


@pytest.mark.slow
def test_record_session_csv_matches_the_course(emulate, tmp_path: Path) -> None:
    """`sympatherm record --port` on the emulated probe, then `export --format csv`: the course
    within budget where it changes slowly, the open thermistor a fault, a mid-session reset stored
    once. The course clock starts when record opens the port (0.1 s of timing uncertainty)."""
    probe = emulate(PROCEDURE)
    out = tmp_path / "avr.sympatherm"
    rec = subprocess.Popen([SYMPATHERM, "record", "--port", probe.path, "--blocked", "left",
                            "--duration", "31", "--out", str(out), "--status-every", "100"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
                           env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    time.sleep(12.0)
    probe.command("reset")
    log, _ = rec.communicate(timeout=90)
    assert rec.returncode == 0, log
    subprocess.run([SYMPATHERM, "export", "--format", "csv", "--out",
                    str(tmp_path / "avr.csv"), str(out)], check=True, capture_output=True, cwd=ROOT)
    rows = list(csv.DictReader(ln for ln in (tmp_path / "avr.csv").read_text().splitlines() if not ln.startswith("#")))
    points = [(float(t), a, b) for t, a, b in
              (ln.split() for ln in PROCEDURE.splitlines() if ln and not ln.startswith("#"))]
    slow_errors, faults = [], 0
    for row in rows:
        t = float(row["time_s"])
        for side, key in ((0, "left"), (1, "right")):
            want = _course_at(points, t, side)
            if want is None or row[f"{key}_status"] != "ok":
                faults += key == "right" and row[f"{key}_status"] == "open_circuit"
                assert want is None or abs(t - 26) < 0.3 or abs(t - 28) < 0.3, row
                continue
            near = [_course_at(points, t + d, side) for d in (-0.2, 0.2)]
            slope = math.inf if None in near else max(abs(v - want) for v in near if v is not None) / 0.2
            if slope < 0.05:  # degC/s: timing uncertainty adds < 0.01 degC
                slow_errors.append(abs(float(row[f"{key}_c"]) - want))
            elif math.isfinite(slope):  # 0.2 s of timing uncertainty at this slope
                assert abs(float(row[f"{key}_c"]) - want) < BUDGET_C + 0.2 * slope, row
    assert faults >= 15, "the open thermistor must reach the session as a sensor fault"
    worst = max(slow_errors)
    print(f"\nrecorded CSV vs course: {len(slow_errors)} readings, worst {worst:.4f} degC")
    assert worst <= BUDGET_C + 0.01
    times = [float(r["time_s"]) for r in rows]
    assert times == sorted(times) and len(set(times)) == len(times), "a reading stored twice"
    assert 280 <= len(rows) <= 320  # 10 Hz for 31 s, less the reset's gap
