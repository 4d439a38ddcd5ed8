"""Decoder throughput for the binary frame protocol and the text line protocol.

Reports frames (lines) per second on one core and the ratio to what a 115200-baud line
can carry at all (8N1: 10 bits per byte). Goal: at least 100x, so decoding never matters.

    .venv/bin/python bench/bench_decode.py [--json]

``run()`` returns the figures as a dict, for a "run all benchmarks" command.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from firmware_protocol.frames import ChannelValue, FrameDecoder, SampleFrame, encode_frame  # noqa: E402
from firmware_protocol.textlines import TextLineDecoder, encode_text_line  # noqa: E402
from monitor.model import ProbeStatus  # noqa: E402

BAUD = 115_200
BYTES_PER_S = BAUD / 10  # 8N1: start + 8 data + stop bits
GOAL_RATIO = 100.0


def _sample_frames(n: int, seed: int = 1) -> list[SampleFrame]:
    rng = random.Random(seed)
    return [SampleFrame(i & 0xFFFF, i * 1000, (
        ChannelValue(round(rng.uniform(28, 36), 2), round(rng.uniform(1500, 2200), 1), ProbeStatus.OK),
        ChannelValue(round(rng.uniform(28, 36), 2), round(rng.uniform(1500, 2200), 1), ProbeStatus.OK)))
        for i in range(n)]


def _best_rate(feed_all, count: int, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        got = feed_all()
        elapsed = time.perf_counter() - start
        if got != count:
            raise RuntimeError(f"decoded {got} of {count}: the benchmark input is wrong")
        best = min(best, elapsed)
    return count / best


def _measure(make_decoder, pieces: list[bytes], count: int, repeats: int) -> float:
    def feed_all() -> int:
        dec = make_decoder()
        return sum(len(dec.feed(p)) for p in pieces)
    return _best_rate(feed_all, count, repeats)


def _text_decoder() -> TextLineDecoder:
    return TextLineDecoder(at_line_start=True)  # the benchmark stream starts at a line start


def _chunks(stream: bytes, size: int) -> list[bytes]:
    return [stream[i:i + size] for i in range(0, len(stream), size)]


def run(n: int = 20_000, repeats: int = 5) -> dict:
    """Measure and return throughputs (per second), line rates and ratios."""
    frames = [encode_frame(f) for f in _sample_frames(n)]
    rng = random.Random(2)
    lines = [encode_text_line(round(rng.uniform(28, 36), 2), round(rng.uniform(28, 36), 2)).replace(b"\n", b"\r\n")
             for _ in range(n)]
    crc_lines = [encode_text_line(round(rng.uniform(28, 36), 2), round(rng.uniform(28, 36), 2), with_crc=True)
                 for _ in range(n)]
    frame_bytes = sum(map(len, frames)) / n
    line_bytes = sum(map(len, lines)) / n
    crc_line_bytes = sum(map(len, crc_lines)) / n
    results = {
        "binary_frames_per_s_one_per_read": _measure(FrameDecoder, frames, n, repeats),
        "binary_frames_per_s_4k_reads": _measure(FrameDecoder, _chunks(b"".join(frames), 4096), n, repeats),
        "text_lines_per_s_one_per_read": _measure(_text_decoder, lines, n, repeats),
        "text_lines_per_s_4k_reads": _measure(_text_decoder, _chunks(b"".join(lines), 4096), n, repeats),
        "text_crc_lines_per_s_one_per_read": _measure(_text_decoder, crc_lines, n, repeats),
    }
    line_rate = {
        "binary": BYTES_PER_S / frame_bytes,
        "text": BYTES_PER_S / line_bytes,
        "text_crc": BYTES_PER_S / crc_line_bytes,
    }
    # The headline ratios use the slowest case (one frame per read call).
    return {
        "baud": BAUD,
        "frame_bytes": frame_bytes,
        "text_line_bytes": line_bytes,
        "text_crc_line_bytes": crc_line_bytes,
        "line_rate_frames_per_s": line_rate,
        **{k: round(v) for k, v in results.items()},
        "binary_ratio_to_line": results["binary_frames_per_s_one_per_read"] / line_rate["binary"],
        "text_ratio_to_line": results["text_lines_per_s_one_per_read"] / line_rate["text"],
        "text_crc_ratio_to_line": results["text_crc_lines_per_s_one_per_read"] / line_rate["text_crc"],
        "goal_ratio": GOAL_RATIO,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--frames", type=int, default=20_000, help="frames (lines) per measurement")
    args = parser.parse_args(argv)
    r = run(args.frames)
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        lr = r["line_rate_frames_per_s"]
        print(f"115200-baud line carries {lr['binary']:.0f} binary frames/s ({r['frame_bytes']:.0f} B), "
              f"{lr['text']:.0f} text lines/s ({r['text_line_bytes']:.0f} B)")
        print(f"binary: {r['binary_frames_per_s_one_per_read']:>9,} frames/s one per read "
              f"({r['binary_ratio_to_line']:.0f}x line rate), {r['binary_frames_per_s_4k_reads']:,} in 4 KiB reads")
        print(f"text:   {r['text_lines_per_s_one_per_read']:>9,} lines/s one per read "
              f"({r['text_ratio_to_line']:.0f}x line rate), {r['text_lines_per_s_4k_reads']:,} in 4 KiB reads")
        print(f"text with CRC: {r['text_crc_lines_per_s_one_per_read']:,} lines/s "
              f"({r['text_crc_ratio_to_line']:.0f}x line rate)")
    worst = min(r["binary_ratio_to_line"], r["text_ratio_to_line"], r["text_crc_ratio_to_line"])
    return 0 if worst >= GOAL_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
