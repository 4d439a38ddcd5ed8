"""The SympaTherm binary serial protocol, version 1: frames, encoder and streaming decoder.

On the wire every frame is ``COBS(payload + CRC16) + 0x00`` (see PROTOCOL.md):

* COBS framing with a 0x00 delimiter, so resynchronising after garbage or a partial read
  is "wait for the next 0x00";
* CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor), sent
  big-endian after the payload;
* payload = 8-byte header (version, frame type, sequence, device clock) + body.

Pure code: bytes in, typed frames out, and back. No ports, no threads.
"""

from __future__ import annotations

import binascii
import math
import struct
from dataclasses import dataclass

from firmware_protocol.status import PROBE_STATUS_CODES, ProbeStatus

PROTOCOL_VERSION = 1

# Frame types. Device -> host below 0x10, host -> device from 0x10.
FRAME_HELLO = 0x01
FRAME_SAMPLE = 0x02
FRAME_IDENTITY_REQUEST = 0x10

HEADER = struct.Struct("<BBHI")  # version, type, sequence, device_time_ms
CHANNEL = struct.Struct("<BhI")  # status code, centi-celsius, deci-ohm
HELLO_FIXED = struct.Struct("<BI")  # channel_count, sample rate in millihertz

TEMPERATURE_ABSENT = -0x8000  # sint16 0x8000: "no temperature on this channel" (as in ESS)
RESISTANCE_ABSENT = 0xFFFFFFFF  # uint32: "no resistance on this channel"
MAX_CHANNELS = 16
MAX_TEXT_FIELD = 32  # bytes of UTF-8 per identity string
# Longest legal encoded frame (a hello with three 32-byte strings is ~120 bytes); anything
# longer without a delimiter is garbage and is dropped rather than buffered.
MAX_ENCODED_FRAME = 256

_STATUS_TO_CODE = {status: code for code, status in enumerate(PROBE_STATUS_CODES)}


class FrameError(ValueError):
    """An encoder was asked for something the protocol cannot carry."""


# ---- CRC and COBS ---------------------------------------------------------------------

def crc16_ccitt_false(data: bytes, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE; ``crc16_ccitt_false(b"123456789") == 0x29B1``."""
    # binascii.crc_hqx is exactly this CRC (poly 0x1021, MSB first) given init 0xFFFF.
    return binascii.crc_hqx(data, crc)


def cobs_encode(data: bytes) -> bytes:
    """Consistent Overhead Byte Stuffing: the result contains no 0x00 byte."""
    out = bytearray()
    for part in data.split(b"\x00"):
        while len(part) >= 254:
            out.append(0xFF)
            out += part[:254]
            part = part[254:]
        out.append(len(part) + 1)
        out += part
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    """Undo :func:`cobs_encode`; raises ValueError on a structurally impossible block."""
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        code = data[i]
        if code == 0:
            raise ValueError("COBS block code 0 inside a frame")
        end = i + code
        if end > n:
            raise ValueError("COBS block runs past the end of the frame")
        out += data[i + 1:end]
        i = end
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


# ---- frames ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ChannelValue:
    """One channel of one sample. Either value may be absent; ``status`` is the probe status."""

    celsius: float | None
    resistance_ohm: float | None
    status: ProbeStatus = ProbeStatus.OK


@dataclass(frozen=True, slots=True)
class HelloFrame:
    """Identity frame: sent by the device at boot (sequence 0) and on an IdentityRequest."""

    sequence: int
    device_time_ms: int
    device_id: str
    firmware_version: str
    probe_model: str
    channel_count: int
    sample_rate_hz: float  # 0.0 = no fixed rate
    protocol_version: int = PROTOCOL_VERSION


@dataclass(frozen=True, slots=True)
class SampleFrame:
    """One sample of every channel. By convention channel 0 is the left foot, 1 the right."""

    sequence: int
    device_time_ms: int
    channels: tuple[ChannelValue, ...]


@dataclass(frozen=True, slots=True)
class IdentityRequest:
    """Host -> device: "send me your HelloFrame". ``sequence`` is the host's own counter."""

    sequence: int = 0


Frame = HelloFrame | SampleFrame | IdentityRequest


# ---- encoder --------------------------------------------------------------------------

def _u16(name: str, value: int) -> int:
    if not isinstance(value, int) or not 0 <= value <= 0xFFFF:
        raise FrameError(f"{name} must be an integer 0..65535, not {value!r}")
    return value


def _u32(name: str, value: int) -> int:
    if not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
        raise FrameError(f"{name} must be an integer 0..4294967295, not {value!r}")
    return value


def _text_field(name: str, text: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) > MAX_TEXT_FIELD:
        raise FrameError(f"{name} is {len(raw)} bytes of UTF-8; at most {MAX_TEXT_FIELD} fit")
    return bytes([len(raw)]) + raw


def _encode_channel(index: int, ch: ChannelValue) -> bytes:
    if ch.status not in _STATUS_TO_CODE:
        raise FrameError(f"channel {index}: unknown status {ch.status!r}")
    if ch.celsius is None:
        centi = TEMPERATURE_ABSENT
    else:
        if not math.isfinite(ch.celsius):
            raise FrameError(f"channel {index}: temperature {ch.celsius!r} is not a number; send None")
        centi = round(ch.celsius * 100)
        if not -0x7FFF <= centi <= 0x7FFF:
            raise FrameError(f"channel {index}: {ch.celsius} °C does not fit -327.67..327.67 °C")
    if ch.resistance_ohm is None:
        deci = RESISTANCE_ABSENT
    else:
        if not math.isfinite(ch.resistance_ohm):
            raise FrameError(f"channel {index}: resistance {ch.resistance_ohm!r} is not a number; send None")
        deci = round(ch.resistance_ohm * 10)
        if not 0 <= deci < RESISTANCE_ABSENT:
            raise FrameError(f"channel {index}: resistance {ch.resistance_ohm} Ω does not fit 0..429496729.4 Ω")
    if ch.status is ProbeStatus.OK and ch.celsius is None and ch.resistance_ohm is None:
        raise FrameError(f"channel {index}: status OK needs a temperature or a resistance")
    return CHANNEL.pack(_STATUS_TO_CODE[ch.status], centi, deci)


def encode_payload(frame: Frame) -> bytes:
    """The frame's payload (header + body), before CRC and COBS. Mostly for the docs and tests."""
    if isinstance(frame, SampleFrame):
        n = len(frame.channels)
        if not 1 <= n <= MAX_CHANNELS:
            raise FrameError(f"a sample carries 1..{MAX_CHANNELS} channels, not {n}")
        head = HEADER.pack(PROTOCOL_VERSION, FRAME_SAMPLE, _u16("sequence", frame.sequence),
                           _u32("device_time_ms", frame.device_time_ms))
        return head + bytes([n]) + b"".join(_encode_channel(i, ch) for i, ch in enumerate(frame.channels))
    if isinstance(frame, HelloFrame):
        if not 1 <= frame.channel_count <= MAX_CHANNELS:
            raise FrameError(f"channel_count must be 1..{MAX_CHANNELS}, not {frame.channel_count!r}")
        if frame.protocol_version != PROTOCOL_VERSION:
            raise FrameError(f"this encoder writes protocol version {PROTOCOL_VERSION} only")
        rate = frame.sample_rate_hz
        if not (math.isfinite(rate) and 0 <= rate * 1000 < 2**32 - 0.5):
            raise FrameError(f"sample_rate_hz must be 0..4294967 Hz, not {rate!r}")
        head = HEADER.pack(PROTOCOL_VERSION, FRAME_HELLO, _u16("sequence", frame.sequence),
                           _u32("device_time_ms", frame.device_time_ms))
        return (head + HELLO_FIXED.pack(frame.channel_count, round(rate * 1000))
                + _text_field("device_id", frame.device_id)
                + _text_field("firmware_version", frame.firmware_version)
                + _text_field("probe_model", frame.probe_model))
    if isinstance(frame, IdentityRequest):
        return HEADER.pack(PROTOCOL_VERSION, FRAME_IDENTITY_REQUEST, _u16("sequence", frame.sequence), 0)
    raise FrameError(f"not a frame: {frame!r}")


def encode_frame(frame: Frame) -> bytes:
    """Encode one frame for the wire: COBS(payload + CRC-16 big-endian) followed by 0x00."""
    payload = encode_payload(frame)
    crc = crc16_ccitt_false(payload)
    return cobs_encode(payload + crc.to_bytes(2, "big")) + b"\x00"


# ---- decoder --------------------------------------------------------------------------

class _Malformed(Exception):
    """Internal: a frame whose CRC is right but whose content breaks the protocol."""


def _read_text(payload: bytes, at: int, name: str) -> tuple[str, int]:
    if at >= len(payload):
        raise _Malformed(f"hello frame ends before its {name}")
    n = payload[at]
    end = at + 1 + n
    if n > MAX_TEXT_FIELD or end > len(payload):
        raise _Malformed(f"hello frame {name} length {n} is impossible")
    try:
        return payload[at + 1:end].decode("utf-8"), end
    except UnicodeDecodeError:
        raise _Malformed(f"hello frame {name} is not UTF-8") from None


def decode_payload(payload: bytes) -> Frame:
    """Parse a CRC-checked payload. Raises ValueError (plain words) if it breaks the protocol."""
    try:
        return _parse(payload)
    except _Malformed as exc:
        raise ValueError(str(exc)) from None


def _parse(payload: bytes) -> Frame:
    if len(payload) < HEADER.size:
        raise _Malformed(f"frame of {len(payload)} bytes is shorter than the {HEADER.size}-byte header")
    version, ftype, seq, dev_ms = HEADER.unpack_from(payload)
    if version != PROTOCOL_VERSION:
        raise _Malformed(f"protocol version {version} is not supported (this host speaks {PROTOCOL_VERSION})")
    if ftype == FRAME_SAMPLE:
        n = payload[HEADER.size] if len(payload) > HEADER.size else 0
        if not 1 <= n <= MAX_CHANNELS or len(payload) != HEADER.size + 1 + CHANNEL.size * n:
            raise _Malformed(f"sample frame length {len(payload)} does not match its channel count {n}")
        channels = []
        for code, centi, deci in CHANNEL.iter_unpack(payload[HEADER.size + 1:]):
            if code >= len(PROBE_STATUS_CODES):
                raise _Malformed(f"unknown probe status code {code}")
            celsius = None if centi == TEMPERATURE_ABSENT else centi / 100
            ohm = None if deci == RESISTANCE_ABSENT else deci / 10
            if code == 0 and celsius is None and ohm is None:
                raise _Malformed("channel with status OK carries neither temperature nor resistance")
            channels.append(ChannelValue(celsius, ohm, PROBE_STATUS_CODES[code]))
        return SampleFrame(seq, dev_ms, tuple(channels))
    if ftype == FRAME_HELLO:
        at = HEADER.size + HELLO_FIXED.size
        if len(payload) < at:
            raise _Malformed("hello frame is too short")
        count, millihertz = HELLO_FIXED.unpack_from(payload, HEADER.size)
        if not 1 <= count <= MAX_CHANNELS:
            raise _Malformed(f"hello frame channel count {count} is not 1..{MAX_CHANNELS}")
        device_id, at = _read_text(payload, at, "device id")
        firmware, at = _read_text(payload, at, "firmware version")
        model, at = _read_text(payload, at, "probe model")
        if at != len(payload):
            raise _Malformed(f"hello frame has {len(payload) - at} unexpected trailing bytes")
        return HelloFrame(seq, dev_ms, device_id, firmware, model, count, millihertz / 1000)
    if ftype == FRAME_IDENTITY_REQUEST:
        if len(payload) != HEADER.size:
            raise _Malformed("identity request carries no body")
        return IdentityRequest(seq)
    raise _Malformed(f"unknown frame type 0x{ftype:02X}")


class FrameDecoder:
    """Streaming decoder: feed it any chunks of bytes, get whole frames out.

    Never raises on bad input. Counters:

    * ``crc_failures``: frames whose CRC did not match (corruption on the line);
    * ``malformed_frames``: byte runs that are not a frame (bad COBS, too short, too long,
      unknown version or type, impossible lengths or codes) although the CRC may be right;
    * ``lost_frames``: frames missing from the device's sequence (16-bit, wrap-around
      included), whatever the cause, counted when the next good frame arrives;
    * ``sequence_resets``: backward sequence jumps (device restarted), not counted as loss;
    * ``resyncs``: good frames that followed bad ones, i.e. times the decoder found the frame
      boundary again after a run of one or more bad frames (a burst of noise counts once);
    * ``frames``: good frames decoded.

    ``last_error`` says in plain words why the latest bad frame was rejected, and
    ``unsupported_version`` holds the version number of the latest CRC-valid frame of a
    protocol version this host does not speak (so the user can be told to update).
    A host that starts listening in the middle of a frame will count that first partial
    frame as bad; the next frame decodes normally.
    """

    def __init__(self) -> None:
        self._buf = b""
        self._overflow = False  # inside a run longer than MAX_ENCODED_FRAME: drop until 0x00
        self._last_seq: int | None = None
        self.frames = 0
        self.crc_failures = 0
        self.malformed_frames = 0
        self.lost_frames = 0
        self.sequence_resets = 0
        self.resyncs = 0
        self._bad_since_good = False
        self.last_error = ""
        self.unsupported_version: int | None = None

    def reset(self) -> None:
        """Forget partial input and sequence tracking (e.g. after reopening the port); keep counters."""
        self._buf = b""
        self._overflow = False
        self._last_seq = None

    def feed(self, data: bytes) -> list[Frame]:
        if not data:
            return []
        parts = (self._buf + bytes(data)).split(b"\x00")
        rest = parts.pop()
        out: list[Frame] = []
        for part in parts:
            if self._overflow:  # tail of an over-long run, already counted
                self._overflow = False
                continue
            if part:
                frame = self._decode_one(part)
                if frame is not None:
                    out.append(frame)
        if len(rest) > MAX_ENCODED_FRAME:
            if not self._overflow:
                self._bad("malformed", f"more than {MAX_ENCODED_FRAME} bytes without a frame delimiter")
            self._overflow = True
            rest = b""
        self._buf = rest
        return out

    def _bad(self, kind: str, why: str) -> None:
        self._bad_since_good = True
        if kind == "crc":
            self.crc_failures += 1
        else:
            self.malformed_frames += 1
        self.last_error = why

    def _decode_one(self, encoded: bytes) -> Frame | None:
        if len(encoded) > MAX_ENCODED_FRAME:
            self._bad("malformed", f"frame of {len(encoded)} bytes is longer than {MAX_ENCODED_FRAME}")
            return None
        try:
            raw = cobs_decode(encoded)
        except ValueError as exc:
            self._bad("malformed", str(exc))
            return None
        if len(raw) < 3:
            self._bad("malformed", f"frame of {len(raw)} bytes is too short to carry a CRC")
            return None
        payload = raw[:-2]
        if binascii.crc_hqx(payload, 0xFFFF) != int.from_bytes(raw[-2:], "big"):
            self._bad("crc", "CRC mismatch (corrupted frame)")
            return None
        try:
            frame = _parse(payload)
        except _Malformed as exc:
            self._bad("malformed", str(exc))
            if payload[0] != PROTOCOL_VERSION:
                self.unsupported_version = payload[0]
            return None
        if not isinstance(frame, IdentityRequest):
            self._track_sequence(frame)
        if self._bad_since_good:
            self.resyncs += 1
            self._bad_since_good = False
        self.frames += 1
        return frame

    def _track_sequence(self, frame: HelloFrame | SampleFrame) -> None:
        seq = frame.sequence
        last = self._last_seq
        self._last_seq = seq
        if last is None:
            return
        if isinstance(frame, HelloFrame) and seq == 0:
            self.sequence_resets += 1  # the device rebooted: its sequence restarts at 0
            return
        gap = (seq - last - 1) & 0xFFFF
        if gap < 0x8000:
            self.lost_frames += gap
        else:
            self.sequence_resets += 1
