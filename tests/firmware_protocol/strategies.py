"""Hypothesis strategies for wire frames, shared by the property tests and the long fuzz."""

from __future__ import annotations

from hypothesis import strategies as st

from firmware_protocol.frames import MAX_CHANNELS, ChannelValue, HelloFrame, IdentityRequest, SampleFrame
from monitor.model import PROBE_STATUS_CODES, ProbeStatus

celsius = st.none() | st.integers(-32767, 32767).map(lambda c: c / 100)
resistance = st.none() | st.integers(0, 0xFFFFFFFE).map(lambda d: d / 10)


@st.composite
def channel_values(draw) -> ChannelValue:
    status = draw(st.sampled_from(PROBE_STATUS_CODES))
    c, r = draw(celsius), draw(resistance)
    if status is ProbeStatus.OK and c is None and r is None:
        c = 30.0
    return ChannelValue(c, r, status)


sample_frames = st.builds(
    SampleFrame, st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF),
    st.lists(channel_values(), min_size=1, max_size=MAX_CHANNELS).map(tuple))


def short_text(max_bytes: int = 32):
    return st.text(max_size=max_bytes).filter(lambda s: len(s.encode("utf-8")) <= max_bytes)


hello_frames = st.builds(
    HelloFrame, st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF), short_text(), short_text(), short_text(),
    st.integers(1, MAX_CHANNELS), st.integers(0, 2**32 - 1).map(lambda mhz: mhz / 1000))

frames = sample_frames | hello_frames | st.builds(IdentityRequest, st.integers(0, 0xFFFF))
