"""The plain-text line protocol for hobby and legacy probes (an Arduino printing two numbers).

One reading per line, left foot first, in °C::

    31.25,30.98            comma, semicolon, tab or spaces between the numbers
    L:31.25 R:30.98        labelled, either order, ':' or '='; LEFT/RIGHT also accepted
    31.25,30.98*1A2B       optional CRC-16/CCITT-FALSE (4 hex digits) of the bytes before '*'

Blank lines, ``#`` comments and anything that is not a reading (boot banners) are ignored;
lines longer than 256 bytes are discarded. Text has no sequence numbers and usually no CRC,
so it is trusted less: range checks happen downstream (``firmware_protocol.status.VALID_RANGE_C``).
"""

from __future__ import annotations

import binascii
import math
import re
from dataclasses import dataclass

MAX_LINE_BYTES = 256

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
_SEP = r"(?:\s*[,;]\s*|\s+)"
_PLAIN = re.compile(rf"\s*({_NUM}){_SEP}({_NUM})\s*")
_LABEL = r"(L|R|LEFT|RIGHT)"
_LABELLED = re.compile(
    rf"\s*{_LABEL}\s*[:=]\s*({_NUM})(?:{_SEP})?{_LABEL}\s*[:=]\s*({_NUM})\s*", re.IGNORECASE)
# A line that starts like data but does not parse is "malformed"; anything else is a banner.
_LOOKS_LIKE_DATA = re.compile(r"\s*(?:[-+.\d]|(?:L|R|LEFT|RIGHT)\s*[:=])", re.IGNORECASE)
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")


@dataclass(frozen=True, slots=True)
class TextSample:
    """One text line's reading. ``crc_checked`` is True when the line carried a CRC that matched."""

    left_c: float
    right_c: float
    crc_checked: bool = False


class TextLineDecoder:
    """Streaming decoder for the text protocol. Never raises on bad input.

    Counters: ``samples`` (good lines), ``crc_failures`` (a ``*XXXX`` CRC that did not
    match), ``malformed_lines`` (lines that start like a reading but are not one),
    ``ignored_lines`` (blank, comments, banners, non-ASCII noise), ``overlong_lines``.

    Unless ``at_line_start`` is True, everything before the first line end is dropped:
    a port opened in the middle of ``31.25,30.98`` would otherwise hand over ``25,30.98``,
    a plausible reading that was never sent (text has no CRC to catch it).
    """

    def __init__(self, at_line_start: bool = False) -> None:
        self._buf = b""
        self._overflow = not at_line_start  # dropping until the next line end
        self.samples = 0
        self.crc_failures = 0
        self.malformed_lines = 0
        self.ignored_lines = 0
        self.overlong_lines = 0
        self.last_error = ""

    def reset(self, at_line_start: bool = False) -> None:
        """Forget partial input (e.g. after reopening the port); keep the counters."""
        self._buf = b""
        self._overflow = not at_line_start

    def feed(self, data: bytes) -> list[TextSample]:
        if not data:
            return []
        buf = self._buf + bytes(data)
        if b"\r" in buf:  # CR LF, LF and lone CR all end a line
            buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buf.split(b"\n")
        rest = lines.pop()
        out: list[TextSample] = []
        for line in lines:
            if self._overflow:
                self._overflow = False
                continue
            sample = self._parse_line(line)
            if sample is not None:
                out.append(sample)
        if len(rest) > MAX_LINE_BYTES or (self._overflow and not lines):
            if not self._overflow:
                self.overlong_lines += 1
                self.last_error = f"line longer than {MAX_LINE_BYTES} bytes discarded"
            self._overflow = True
            rest = b""
        self._buf = rest
        return out

    def _parse_line(self, raw: bytes) -> TextSample | None:
        if len(raw) > MAX_LINE_BYTES:
            self.overlong_lines += 1
            self.last_error = f"line longer than {MAX_LINE_BYTES} bytes discarded"
            return None
        try:
            line = raw.decode("ascii")
        except UnicodeDecodeError:
            self.ignored_lines += 1
            return None
        crc_checked = False
        star = line.rfind("*")
        if star >= 0:
            digits = line[star + 1:].strip()
            if not _LOOKS_LIKE_DATA.match(line):
                self.ignored_lines += 1
                return None
            if not _HEX4.fullmatch(digits):
                self.malformed_lines += 1
                self.last_error = f"CRC suffix {digits[:8]!r} is not 4 hex digits"
                return None
            if binascii.crc_hqx(raw[:star], 0xFFFF) != int(digits, 16):
                self.crc_failures += 1
                self.last_error = "CRC mismatch (corrupted line)"
                return None
            line = line[:star]
            crc_checked = True
        m = _PLAIN.fullmatch(line)
        if m is not None:
            left, right = float(m[1]), float(m[2])
        else:
            m = _LABELLED.fullmatch(line)
            if m is None:
                stripped = line.strip()
                if stripped and not stripped.startswith("#") and _LOOKS_LIKE_DATA.match(line):
                    self.malformed_lines += 1
                    self.last_error = f"not a reading: {stripped[:40]!r}"
                else:
                    self.ignored_lines += 1
                return None
            first, second = m[1][0].upper(), m[3][0].upper()
            if first == second:
                self.malformed_lines += 1
                self.last_error = f"both values are labelled {first}"
                return None
            a, b = float(m[2]), float(m[4])
            left, right = (a, b) if first == "L" else (b, a)
        if not (math.isfinite(left) and math.isfinite(right)):
            self.malformed_lines += 1
            self.last_error = "number too large"
            return None
        self.samples += 1
        return TextSample(left, right, crc_checked)


def encode_text_line(left: float, right: float, with_crc: bool = False) -> bytes:
    """One line as a device prints it, e.g. ``b"31.25,30.98\\n"`` or ``b"31.25,30.98*XXXX\\n"``."""
    if not (math.isfinite(left) and math.isfinite(right)):
        raise ValueError("text lines carry finite temperatures only")
    body = f"{left:.2f},{right:.2f}".encode("ascii")
    if with_crc:
        body += b"*%04X" % binascii.crc_hqx(body, 0xFFFF)
    return body + b"\n"
