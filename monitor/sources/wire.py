"""The simulated probe's side of the wire, and decoded frames turned into per-limb samples.

:class:`SimulatedProbeWire` samples the patient model into the protocol's frames. The
in-process source round-trips each frame through the real encoder and decoder; the
virtual serial device writes the encoded bytes to a pseudo-terminal instead.

A dropout in the model is a flaky link: the whole frame is lost (its sequence number is
skipped), which is what the decoder's lost-frame counter is there to see.
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware_protocol.frames import ChannelValue, FrameDecoder, SampleFrame, encode_frame
from monitor.model import Limb, ProbeStatus
from monitor.physiology import PatientModel
from monitor.sources.channels import DEFAULT_CHANNEL_LIMBS


@dataclass(frozen=True, slots=True)
class WireSample:
    """One limb's value from one decoded frame."""

    limb: Limb
    celsius: float | None
    status: ProbeStatus
    sequence: int | None
    device_time_s: float | None


def samples_from_frame(frame: SampleFrame, limbs: tuple[Limb, Limb] = DEFAULT_CHANNEL_LIMBS) -> list[WireSample]:
    """Per-limb samples from a decoded ``SampleFrame`` (channel i goes to ``limbs[i]``)."""
    out: list[WireSample] = []
    device_s = frame.device_time_ms / 1000.0 if frame.device_time_ms is not None else None
    for limb, channel in zip(limbs, frame.channels, strict=False):
        out.append(WireSample(limb, channel.celsius, channel.status, frame.sequence, device_s))
    return out


class SimulatedProbeWire:
    """Turns the patient model into protocol frames, as a two-channel probe would send them."""

    def __init__(self, model: PatientModel, device_id: str = "SIM-0001") -> None:
        self.model = model
        self.device_id = device_id
        self._decoder = FrameDecoder()
        self.lost_frames = 0
        self.crc_failures = 0
        self.malformed_frames = 0

    def measure(self, t: float) -> dict[Limb, tuple[float | None, ProbeStatus]] | None:
        """Both limbs' probe reports at ``t``, or None when the link drops this frame."""
        values: dict[Limb, tuple[float | None, ProbeStatus]] = {}
        for limb in (Limb.LEFT, Limb.RIGHT):
            m = self.model.measure(limb, t)
            if m is None:
                return None
            values[limb] = m
        return values

    def frame(self, index: int, t: float) -> SampleFrame | None:
        """The ``SampleFrame`` the device sends for sample ``index`` at ``t``, or None (dropped)."""
        values = self.measure(t)
        if values is None:
            return None
        channels = tuple(ChannelValue(c, None, s) for c, s in (values[Limb.LEFT], values[Limb.RIGHT]))
        return SampleFrame(sequence=index & 0xFFFF, device_time_ms=int(round(t * 1000.0)), channels=channels)

    def sample(self, index: int, t: float) -> list[WireSample]:
        """Sample ``index`` at ``t``, through the real encoder and decoder."""
        frame = self.frame(index, t)
        if frame is None:
            return []
        out: list[WireSample] = []
        for decoded in self._decoder.feed(encode_frame(frame)):
            if isinstance(decoded, SampleFrame):
                out.extend(samples_from_frame(decoded))
        self.lost_frames = self._decoder.lost_frames
        self.crc_failures = self._decoder.crc_failures
        self.malformed_frames = self._decoder.malformed_frames
        return out
