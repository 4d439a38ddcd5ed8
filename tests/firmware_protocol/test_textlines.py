"""Text line protocol: accepted forms, CRC, noise, and binary-vs-text detection."""

from __future__ import annotations

import pytest

from firmware_protocol.frames import ChannelValue, SampleFrame, encode_frame
from firmware_protocol.sniff import detect_protocol
from firmware_protocol.textlines import TextLineDecoder, TextSample, encode_text_line


@pytest.mark.parametrize("line", [
    b"31.25,30.98", b"31.25;30.98", b"31.25\t30.98", b"31.25 30.98", b"  31.25 ,  30.98  ",
    b"L:31.25 R:30.98", b"R:30.98 L:31.25", b"L=31.25,R=30.98", b"R=30.98;L=31.25",
    b"l:31.25\tr:30.98", b"LEFT=31.25 RIGHT=30.98", b"L:31.25R:30.98",
])
@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
def test_accepted_forms(line, ending):
    dec = TextLineDecoder(at_line_start=True)
    assert dec.feed(line + ending) == [TextSample(31.25, 30.98)]
    assert dec.samples == 1


def test_crc_suffix_checked():
    good = encode_text_line(31.25, 30.98, with_crc=True)
    assert good.startswith(b"31.25,30.98*") and len(good) == len(b"31.25,30.98*XXXX\n")
    dec = TextLineDecoder(at_line_start=True)
    assert dec.feed(good) == [TextSample(31.25, 30.98, crc_checked=True)]
    assert dec.feed(good.replace(b"31.25", b"31.26")) == []
    assert dec.crc_failures == 1
    assert dec.feed(b"31.25,30.98*12G4\n") == []
    assert dec.malformed_lines == 1


def test_noise_is_ignored_and_counted():
    dec = TextLineDecoder(at_line_start=True)
    stream = (b"\xff\xfe\x00 boot\r\nSympaTherm hobby probe v0.3 ready\r\n# comment 1,2\n\n   \n"
              b"31.0\n" + b"9" * 300 + b"\n" + b"L:30 L:31\n" + b"20,21\n")
    assert dec.feed(stream) == [TextSample(20.0, 21.0)]
    assert dec.ignored_lines == 5
    assert dec.malformed_lines == 2
    assert dec.overlong_lines == 1


def test_overlong_line_split_across_chunks_discarded_then_recovers():
    dec = TextLineDecoder(at_line_start=True)
    for _ in range(5):
        assert dec.feed(b"1" * 100) == []
    assert dec.feed(b"2,3\n4,5\n") == [TextSample(4.0, 5.0)]
    assert dec.overlong_lines == 1


def test_lines_split_across_chunks():
    data = b"".join(encode_text_line(30 + i / 10, 29 + i / 10) for i in range(10))
    dec = TextLineDecoder(at_line_start=True)
    got = []
    for i in range(0, len(data), 3):
        got += dec.feed(data[i:i + 3])
    assert got == [TextSample(round(30 + i / 10, 2), round(29 + i / 10, 2)) for i in range(10)]


def test_partial_first_line_after_opening_the_port_is_dropped():
    # Opened in the middle of "31.25,30.98": "25,30.98" would be a reading never sent.
    dec = TextLineDecoder()
    assert dec.feed(b"25,3") == []
    assert dec.feed(b"0.98\r\n31.30,31.00\r\n") == [TextSample(31.3, 31.0)]
    assert (dec.malformed_lines, dec.overlong_lines) == (0, 0)
    dec.reset()
    assert dec.feed(b"1.40,31.10\n31.50,31.20\n") == [TextSample(31.5, 31.2)]
    dec.reset(at_line_start=True)
    assert dec.feed(b"31.60,31.30\n") == [TextSample(31.6, 31.3)]
    # A stream that starts with a line end loses nothing.
    assert TextLineDecoder().feed(b"\n30.00,30.10\n") == [TextSample(30.0, 30.1)]


def test_detect_protocol():
    binary = encode_frame(SampleFrame(1, 2, (ChannelValue(31.0, None), ChannelValue(30.0, None))))
    # Joining mid-frame: the first partial frame proves nothing, the next whole one does.
    assert detect_protocol(b"\x13\x37" + binary) is None
    assert detect_protocol(b"\x13\x37" + binary + binary) == "binary"
    assert detect_protocol(b"boot banner\r\n31.0,30.0\r\n31.1,30.1\r\n") == "text"
    assert detect_protocol(encode_text_line(31, 30, with_crc=True)) == "text"
    assert detect_protocol(b"boot banner\r\n31.0,30.0\r\n") is None
    assert detect_protocol(b"") is None
    assert detect_protocol(binary[:-1]) is None
