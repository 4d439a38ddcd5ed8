"""The simulated probe's side of the wire, and decoded frames turned into per-limb samples.

:class:`SimulatedProbeWire` samples the patient model into the protocol's frames. The
in-process source round-trips each frame through the real encoder and decoder; the
virtual serial device writes the encoded bytes to a pseudo-terminal instead.

A dropout in the model is one foot's probe giving no data for a while. How it shows depends
on the probe: a two-channel probe (one frame carries both feet) loses the whole frame, its
sequence number skipped, which is what the decoder's lost-frame counter is there to see;
with one probe per foot (two Bluetooth thermometers, :attr:`Scenario.per_foot_probes`) only
that foot's probe loses its frames and the other foot goes on.

``time_offset_s`` is the patient's time when the wire's own time is 0: a probe that starts
(or is listened to again) in the middle of a procedure.
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware_protocol.frames import ChannelValue, FrameDecoder, SampleFrame, encode_frame
from monitor.model import Limb, ProbeStatus
from monitor.simulation.physiology import PatientModel
from monitor.sources.channels import DEFAULT_CHANNEL_LIMBS


@dataclass(frozen=True, slots=True)
class WireSample:
    """One limb's value from one decoded frame."""

    limb: Limb
    celsius: float | None
    status: ProbeStatus
    sequence: int | None
    device_time_s: float | None


def samples_from_frame(frame: SampleFrame, limbs: tuple[Limb, ...] = DEFAULT_CHANNEL_LIMBS) -> list[WireSample]:
    """Per-limb samples from a decoded ``SampleFrame`` (channel i goes to ``limbs[i]``)."""
    out: list[WireSample] = []
    device_s = frame.device_time_ms / 1000.0 if frame.device_time_ms is not None else None
    for limb, channel in zip(limbs, frame.channels, strict=False):
        out.append(WireSample(limb, channel.celsius, channel.status, frame.sequence, device_s))
    return out


class SimulatedProbeWire:
    """Turns the patient model into protocol frames, as the simulated probes would send them.

    ``per_foot``: one single-channel probe per foot (default: what the model's scenario says)
    instead of one two-channel probe; :meth:`sample` then sends one frame per foot, each probe
    with its own sequence numbers. :meth:`frame` is always the two-channel probe's frame.
    """

    def __init__(self, model: PatientModel, device_id: str = "SIM-0001", *, per_foot: bool | None = None,
                 time_offset_s: float = 0.0) -> None:
        self.model = model
        self.device_id = device_id
        self.per_foot = model.scenario.per_foot_probes if per_foot is None else per_foot
        self.time_offset_s = float(time_offset_s)
        # One decoder per probe: per foot, or None for the one two-channel probe.
        self._decoders: dict[Limb | None, FrameDecoder] = (
            {limb: FrameDecoder() for limb in Limb} if self.per_foot else {None: FrameDecoder()})
        self.lost_frames = 0
        self.crc_failures = 0
        self.malformed_frames = 0

    def measure(self, t: float) -> dict[Limb, tuple[float | None, ProbeStatus]] | None:
        """Both limbs' probe reports at ``t``, or None when a two-channel link drops this frame."""
        values: dict[Limb, tuple[float | None, ProbeStatus]] = {}
        for limb in (Limb.LEFT, Limb.RIGHT):
            m = self.model.measure(limb, t + self.time_offset_s)
            if m is None:
                return None
            values[limb] = m
        return values

    def frame(self, index: int, t: float) -> SampleFrame | None:
        """The two-channel ``SampleFrame`` for sample ``index`` at ``t``, or None (dropped)."""
        values = self.measure(t)
        if values is None:
            return None
        channels = tuple(ChannelValue(c, None, s) for c, s in (values[Limb.LEFT], values[Limb.RIGHT]))
        return SampleFrame(sequence=index & 0xFFFF, device_time_ms=int(round(t * 1000.0)), channels=channels)

    def sample(self, index: int, t: float) -> list[WireSample]:
        """Sample ``index`` at ``t``, through the real encoder and decoder."""
        if not self.per_foot:
            frame = self.frame(index, t)
            out = [] if frame is None else self._through_wire(None, frame, DEFAULT_CHANNEL_LIMBS)
        else:
            out = []
            for limb in (Limb.LEFT, Limb.RIGHT):
                m = self.model.measure(limb, t + self.time_offset_s)
                if m is None:
                    continue  # this foot's probe drops its frame; the other foot's goes on
                frame = SampleFrame(sequence=index & 0xFFFF, device_time_ms=int(round(t * 1000.0)),
                                    channels=(ChannelValue(m[0], None, m[1]),))
                out.extend(self._through_wire(limb, frame, (limb,)))
        decoders = self._decoders.values()
        self.lost_frames = sum(d.lost_frames for d in decoders)
        self.crc_failures = sum(d.crc_failures for d in decoders)
        self.malformed_frames = sum(d.malformed_frames for d in decoders)
        return out

    def _through_wire(self, probe: Limb | None, frame: SampleFrame, limbs: tuple[Limb, ...]) -> list[WireSample]:
        out: list[WireSample] = []
        for decoded in self._decoders[probe].feed(encode_frame(frame)):
            if isinstance(decoded, SampleFrame):
                out.extend(samples_from_frame(decoded, limbs))
        return out
