"""PROTOCOL.md cannot drift: its byte examples are parsed out of the document and decoded."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

import firmware_protocol
from firmware_protocol.ble import parse_ess_temperature, parse_temperature_measurement
from firmware_protocol.frames import (
    ChannelValue,
    FrameDecoder,
    HelloFrame,
    IdentityRequest,
    SampleFrame,
    cobs_encode,
    crc16_ccitt_false,
    decode_payload,
    encode_frame,
    encode_payload,
)
from firmware_protocol.textlines import TextLineDecoder, TextSample
from monitor.model import PROBE_STATUS_CODES as PROBE_CODES
from monitor.model import ProbeStatus as S

DOC = (Path(firmware_protocol.__file__).parent / "PROTOCOL.md").read_text(encoding="utf-8")

EXPECTED_FRAMES = {
    "hello-at-boot": HelloFrame(0, 0, "ST-0042", "1.2.0", "YSI-400", 2, 1.0),
    "sample-temperatures": SampleFrame(1, 1000, (ChannelValue(31.25, None, S.OK), ChannelValue(30.98, None, S.OK))),
    "sample-temperature-and-resistance": SampleFrame(
        2, 2000, (ChannelValue(31.27, 1720.4, S.OK), ChannelValue(30.97, 1742.4, S.OK))),
    "sample-resistance-only": SampleFrame(
        3, 3000, (ChannelValue(None, 1720.4, S.OK), ChannelValue(None, 1742.4, S.OK))),
    "sample-right-probe-open": SampleFrame(
        4, 4000, (ChannelValue(31.3, None, S.OK), ChannelValue(None, None, S.OPEN_CIRCUIT))),
    "sample-last-before-wrap": SampleFrame(
        65535, 65535000, (ChannelValue(33.5, None, S.OK), ChannelValue(32.0, None, S.OK))),
    "identity-request": IdentityRequest(0),
}


def blocks(kind: str) -> dict[str, str]:
    """Fenced blocks of one info string, keyed by their '# name' first line."""
    found = {}
    for m in re.finditer(rf"```{re.escape(kind)}\n# ([\w-]+)\n(.*?)```", DOC, re.DOTALL):
        assert m[1] not in found, f"example {m[1]} appears twice"
        found[m[1]] = m[2]
    return found


def hexbytes(text: str) -> bytes:
    return bytes.fromhex(text.replace("|", " "))


def test_every_binary_example_is_in_the_doc_and_decodes_to_its_frame():
    examples = blocks("hex")
    assert set(examples) == set(EXPECTED_FRAMES)
    for name, text in examples.items():
        wire = hexbytes(text)
        dec = FrameDecoder()
        assert dec.feed(wire) == [EXPECTED_FRAMES[name]], name
        assert (dec.crc_failures, dec.malformed_frames) == (0, 0), name
        assert encode_frame(EXPECTED_FRAMES[name]) == wire, name


def test_payload_and_crc_lines_match():
    lines = re.findall(r"^payload `([0-9a-f |]+)`, CRC `([0-9A-F]{2} [0-9A-F]{2})`\.", DOC, re.MULTILINE)
    assert len(lines) == len(EXPECTED_FRAMES)
    decoded = []
    for payload_text, crc_text in lines:
        payload = hexbytes(payload_text)
        assert crc16_ccitt_false(payload).to_bytes(2, "big") == hexbytes(crc_text)
        frame = decode_payload(payload)
        assert encode_payload(frame) == payload
        decoded.append(frame)
    assert decoded == list(EXPECTED_FRAMES.values())


def test_crc_check_value_stated_in_doc():
    assert "**0x29B1**" in DOC and crc16_ccitt_false(b"123456789") == 0x29B1


def test_text_examples():
    text = blocks("text")["text-with-crc"].encode("ascii")
    dec = TextLineDecoder(at_line_start=True)
    assert dec.feed(text) == [TextSample(31.25, 30.98, True), TextSample(33.5, 32.0, True)]
    forms = re.search(r"\*\*Accepted forms\*\*.*?```text\n(.*?)```", DOC, re.DOTALL)[1]
    lines = forms.replace("<TAB>", "\t").encode("ascii")
    assert TextLineDecoder(at_line_start=True).feed(lines) == [TextSample(31.25, 30.98)] * len(lines.splitlines())


def test_ble_examples():
    hts = blocks("ble-hts")
    toe = parse_temperature_measurement(hexbytes(hts["hts-toe"]))
    assert (toe.celsius, toe.timestamp, toe.site) == (33.47, None, 8)
    timed = parse_temperature_measurement(hexbytes(hts["hts-toe-with-time"]))
    assert (timed.celsius, timed.timestamp, timed.site) == (33.47, datetime(2026, 11, 23, 14, 5, 0), 8)
    assert parse_ess_temperature(hexbytes(blocks("ble-ess")["ess-temperature"])) == 33.47


def c_crc16(data: bytes) -> int:
    """The C routine in PROTOCOL.md §1.2, transliterated line by line."""
    crc = 0xFFFF
    for byte in data:
        crc ^= (byte << 8) & 0xFFFF
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def c_cobs_encode(src: bytes) -> bytes:
    """The C routine in PROTOCOL.md §1.2, transliterated line by line."""
    dst = bytearray(len(src) + len(src) // 254 + 2)
    code_at, out, code = 0, 1, 1
    for b in src:
        if b == 0:
            dst[code_at] = code
            code_at, out, code = out, out + 1, 1
        else:
            dst[out] = b
            out += 1
            code += 1
            if code == 0xFF:
                dst[code_at] = code
                code_at, out, code = out, out + 1, 1
    dst[code_at] = code
    return bytes(dst[:out])


@pytest.mark.parametrize("data", [
    b"", b"\x00", b"123456789", bytes(range(256)), bytes(range(1, 255)), bytes(range(1, 255)) + b"\x00\x05",
    b"\x01" * 600, b"\x00" * 10,
] + [encode_payload(f) for f in EXPECTED_FRAMES.values()])
def test_c_reference_routines_in_doc_agree_with_host(data):
    assert "uint16_t crc16_ccitt_false" in DOC and "size_t cobs_encode" in DOC
    assert c_crc16(data) == crc16_ccitt_false(data)
    assert c_cobs_encode(data) == cobs_encode(data)


def _c_call(frame) -> str:
    if isinstance(frame, SampleFrame):
        def c_channel(ch: ChannelValue) -> str:
            centi = "ST_NO_TEMPERATURE" if ch.celsius is None else str(round(ch.celsius * 100))
            deci = "ST_NO_RESISTANCE" if ch.resistance_ohm is None else f"{round(ch.resistance_ohm * 10)}u"
            return f"{{{PROBE_CODES.index(ch.status)}, {centi}, {deci}}}"
        chans = ", ".join(c_channel(ch) for ch in frame.channels)
        return (f"{{ st_channel_t ch[] = {{{chans}}}; n = st_encode_sample(out, {frame.sequence}, "
                f"{frame.device_time_ms}u, {len(frame.channels)}, ch); }}")
    if isinstance(frame, HelloFrame):
        return (f'n = st_encode_hello(out, {frame.sequence}, {frame.device_time_ms}u, {frame.channel_count}, '
                f'{round(frame.sample_rate_hz * 1000)}u, "{frame.device_id}", "{frame.firmware_version}", '
                f'"{frame.probe_model}");')
    return None


def test_reference_c_code_in_doc_compiles_and_matches_every_example(tmp_path):
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        pytest.skip("no C compiler on this machine (the transliteration test above still runs)")
    c_blocks = re.findall(r"```c\n(.*?)```", DOC, re.DOTALL)
    assert len(c_blocks) == 3
    encodable = {name: f for name, f in EXPECTED_FRAMES.items() if _c_call(f)}
    calls = "\n".join(f"    {_c_call(f)} dump(out, n);" for f in encodable.values())
    request = bytes.fromhex(blocks("hex")["identity-request"])
    corrupted = bytearray(request)
    corrupted[3] ^= 0x10
    # garbage, a request, a corrupted request, an over-long run, a request glued to garbage, a request
    feed = (b"\x17\x42\x00" + request + bytes(corrupted) + b"\x05" * 300 + b"\x00"
            + b"\x17" + request + request)
    harness = f"""
#include <stdio.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>
{"".join(c_blocks)}
static int hellos;
void st_send_hello(void) {{ hellos++; }}
static void dump(const uint8_t *p, size_t n) {{
    for (size_t i = 0; i < n; i++) printf("%02x", p[i]);
    printf("\\n");
}}
int main(void) {{
    uint8_t out[ST_MAX_FRAME];
    size_t n;
{calls}
    static const uint8_t rx[] = {{{", ".join(str(b) for b in feed)}}};
    for (size_t i = 0; i < sizeof rx; i++) st_on_byte(rx[i]);
    printf("hellos %d\\n", hellos);
    return 0;
}}
"""
    src = tmp_path / "probe.c"
    src.write_text(harness)
    exe = tmp_path / "probe"
    build = subprocess.run([compiler, "-std=c99", "-Wall", "-Wextra", "-Werror", "-o", str(exe), str(src)],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    lines = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.splitlines()
    assert lines[:-1] == [hexbytes(blocks("hex")[name]).hex() for name in encodable]
    assert lines[-1] == "hellos 2"  # the two good requests; not the corrupted one, not the garbage
