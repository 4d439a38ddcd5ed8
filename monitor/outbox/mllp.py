"""One message over MLLP (python-hl7's asyncio client), optionally over TLS, and its acknowledgement.

MLLP frames a message as <VT> message <FS><CR>. The receiver answers with an ACK whose MSA-1 is
the acknowledgement code and MSA-2 the control id it acknowledges; the words of an error are in
MSA-3 and the ERR segments.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass

import hl7  # type: ignore[import-untyped]
from hl7.exceptions import HL7Exception  # type: ignore[import-untyped]
from hl7.mllp import InvalidBlockError, open_hl7_connection  # type: ignore[import-untyped]

from monitor.outbox.config import Receiver

ACCEPTED = ("AA", "CA")
REJECTED = ("AE", "AR", "CE", "CR")


class DeliveryError(Exception):
    """The message did not reach the receiver, or no usable acknowledgement came back: try again."""


@dataclass(frozen=True)
class Ack:
    code: str
    control_id: str
    text: str

    @property
    def accepted(self) -> bool:
        return self.code in ACCEPTED

    @property
    def rejected(self) -> bool:
        return self.code in REJECTED


def parse_ack(text: str) -> Ack:
    segments = "\r".join(line for line in text.replace("\n", "\r").split("\r") if line.strip())
    try:
        message = hl7.parse(segments)
        msa = message.segment("MSA")
        code, control_id = _field(msa, 1), _field(msa, 2)
    except (KeyError, ValueError, IndexError, HL7Exception) as exc:
        raise DeliveryError("the receiver answered with something that is not an HL7 acknowledgement "
                            f"({exc or type(exc).__name__})") from None
    words = [_field(msa, 3)]
    for err in (s for s in message if len(s) and str(s[0]) == "ERR"):
        words += [_field(err, i) for i in (8, 7, 3)]  # user message, diagnostic information, error code
    return Ack(code, control_id, "; ".join(message.unescape(w) for w in words if w))


def _field(segment: hl7.Segment, index: int) -> str:
    return str(segment[index]) if len(segment) > index else ""


def send_message(message: bytes, receiver: Receiver) -> Ack:
    """Send ``message`` (ER7, UTF-8) and return the acknowledgement; DeliveryError when there is none."""
    context = receiver.ssl_context()
    try:
        return asyncio.run(_exchange(message, receiver, context))
    except TimeoutError:
        raise DeliveryError(f"no acknowledgement from {receiver.address} within {receiver.timeout_s:g} s") from None
    except ssl.SSLCertVerificationError as exc:
        raise DeliveryError(f"the receiver's certificate was not accepted: {exc.verify_message}") from None
    except ssl.SSLError as exc:
        raise DeliveryError(f"TLS with {receiver.address} failed: {exc.reason or exc}") from None
    except asyncio.IncompleteReadError:
        raise DeliveryError(f"{receiver.address} closed the connection before acknowledging") from None
    except ConnectionRefusedError:
        raise DeliveryError(f"{receiver.address} refused the connection (is the receiver running?)") from None
    except OSError as exc:
        raise DeliveryError(f"cannot reach {receiver.address}: {exc.strerror or exc}") from None
    except (ValueError, InvalidBlockError) as exc:  # python-hl7's stream reader: a frame too long or without its start block
        raise DeliveryError(f"{receiver.address} answered with a broken MLLP frame: {exc}") from None


async def _exchange(message: bytes, receiver: Receiver, context: ssl.SSLContext | None) -> Ack:
    extra: dict[str, object] = {}
    if context is not None:
        extra = {"ssl": context, "server_hostname": receiver.server_name or receiver.host}
    reader, writer = await asyncio.wait_for(
        open_hl7_connection(receiver.host, receiver.port, encoding="utf-8", **extra), receiver.timeout_s)
    try:
        writer.writeblock(message)
        await asyncio.wait_for(writer.drain(), receiver.timeout_s)
        block = await asyncio.wait_for(reader.readblock(), receiver.timeout_s)
    finally:
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), 2.0)
        except (OSError, TimeoutError, ssl.SSLError):
            pass
    return parse_ack(block.decode("utf-8", errors="replace"))
