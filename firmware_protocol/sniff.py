"""Tell the binary protocol from the text protocol on an unknown port, by listening only.

The host never writes to a port it does not know (another medical device may be on it),
so it decides from what the device sends by itself:

* ``"binary"`` as soon as one whole frame passes COBS, CRC-16 and the version check
  (a random byte run passes all three about once in 2**16 * 256 tries);
* ``"text"`` after two reading lines, or one reading line whose ``*XXXX`` CRC matched;
* ``None`` while neither is proven yet: keep listening and call again with more bytes
  (boot banners alone prove nothing).
"""

from __future__ import annotations

from typing import Literal

from firmware_protocol.frames import FrameDecoder
from firmware_protocol.textlines import TextLineDecoder

Protocol = Literal["binary", "text"]


def detect_protocol(data: bytes) -> Protocol | None:
    """Decide from the bytes heard so far (pass everything since the port opened)."""
    if FrameDecoder().feed(data):
        return "binary"
    # A first line cut by the moment the port opened still looks like text: keep it here.
    samples = TextLineDecoder(at_line_start=True).feed(data)
    if len(samples) >= 2 or any(s.crc_checked for s in samples):
        return "text"
    return None
