"""Serial latency: bytes written on a pseudo-terminal -> reading delivered by SerialSource.

A writer thread writes binary sample frames (two channels, so two readings each) on the
master side of a real pseudo-terminal at a steady pace; the serial source reads the slave
side exactly as it reads a USB probe; a consumer thread blocks in
``wait_for_readings`` and timestamps each reading as it drains it. Latency = drain time
minus the time just before the frame's bytes were written. Goal: p99 under 5 ms.

Baseline, measured in the same process: the same frames over a bare pseudo-terminal read
with ``os.read`` (the floor the operating system sets). The ratio says what the source adds.

    .venv/bin/python bench/bench_latency.py [--json] [--readings 10000] [--rate 1000]

``run()`` returns the figures as a dict.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import sys
import tempfile
import threading
import time
import tty
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from firmware_protocol.frames import ChannelValue, HelloFrame, SampleFrame, encode_frame  # noqa: E402
from monitor.model import ConnectionState, ProbeStatus  # noqa: E402
from monitor.sources.registry import DeviceRegistry  # noqa: E402
from monitor.sources.serial import SerialSource  # noqa: E402

GOAL_P99_MS = 5.0


def _frames(n: int) -> list[bytes]:
    return [encode_frame(SampleFrame(seq & 0xFFFF, seq * 1000 & 0xFFFFFFFF, (
        ChannelValue(30.0 + (seq % 100) / 100, None, ProbeStatus.OK),
        ChannelValue(29.0 + (seq % 50) / 100, None, ProbeStatus.OK)))) for seq in range(1, n + 1)]


def _pace(frames: list[bytes], master: int, rate_hz: float, stamps: list[float]) -> None:
    """Write each frame at its slot; record the time just before each write."""
    period = 1.0 / rate_hz
    start = time.perf_counter()
    for i, data in enumerate(frames):
        slot = start + i * period
        # Sleep (never spin): a spinning thread would hold the GIL the reader needs.
        if (wait := slot - time.perf_counter()) > 0:
            time.sleep(wait)
        stamps.append(time.perf_counter())
        os.write(master, data)


def _percentiles(latencies_s: list[float]) -> dict[str, float]:
    ms = np.asarray(latencies_s) * 1000.0
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)),
            "max_ms": float(ms.max())}


def _baseline(frames: list[bytes], rate_hz: float) -> dict[str, float]:
    """The same frames over a bare pseudo-terminal, read with os.read: the operating system's floor."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    stamps: list[float] = []
    arrivals: list[float] = []
    total = sum(len(f) for f in frames)
    ends = np.cumsum([len(f) for f in frames])

    def reader() -> None:
        got = 0
        while got < total:
            chunk = os.read(slave, 4096)
            t = time.perf_counter()
            got += len(chunk)
            while len(arrivals) < len(frames) and ends[len(arrivals)] <= got:
                arrivals.append(t)

    try:
        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        _pace(frames, master, rate_hz, stamps)
        thread.join(timeout=30.0)
    finally:
        os.close(master)
        os.close(slave)
    return _percentiles([a - s for a, s in zip(arrivals, stamps, strict=False)])


def run(readings: int = 10_000, rate_hz: float = 1000.0) -> dict:
    """Latency figures over ``readings`` readings (two per frame) written at ``rate_hz`` frames/s."""
    n_frames = (readings + 1) // 2
    warmup = 50
    frames = _frames(n_frames + warmup)
    master, slave = pty.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    latencies: list[float] = []
    arrival: list[float] = []
    done = threading.Event()
    with tempfile.TemporaryDirectory() as folder:
        source = SerialSource(path, registry=DeviceRegistry(Path(folder) / "devices.json"), discovery=lambda: [])
        clock = source.clock
        by_seq: dict[int, tuple[float, float]] = {}

        def consume() -> None:
            while not done.is_set():
                if not source.wait_for_readings(0.5):
                    continue
                t = time.perf_counter()
                for r in source.drain():
                    sent = by_seq.get(r.sequence)
                    if sent is None or r.sequence <= warmup:
                        continue
                    latencies.append(t - sent[0])
                    arrival.append(r.session_s - sent[1])
                if len(latencies) >= 2 * n_frames:
                    done.set()

        consumer = threading.Thread(target=consume, daemon=True)
        try:
            source.start()
            deadline = time.monotonic() + 10.0
            while "listening" not in source.reason and time.monotonic() < deadline:
                time.sleep(0.005)
            os.write(master, encode_frame(HelloFrame(0, 0, "BENCH-1", "bench", "ysi400", 2, rate_hz)))
            consumer.start()
            period = 1.0 / rate_hz
            start = time.perf_counter()
            for i, data in enumerate(frames):
                slot = start + i * period
                if (wait := slot - time.perf_counter()) > 0:
                    time.sleep(wait)
                by_seq[i + 1] = (time.perf_counter(), clock.now())
                os.write(master, data)
                if i == warmup and source.state is not ConnectionState.STREAMING:
                    raise RuntimeError(f"the serial source is not streaming: {source.reason}")
            done.wait(30.0)
        finally:
            done.set()
            source.stop()
            consumer.join(timeout=5.0)
            os.close(master)
            os.close(slave)
    if len(latencies) < readings:
        raise RuntimeError(f"only {len(latencies)} of {readings} readings arrived")
    delivered = _percentiles(latencies)
    arrived = _percentiles(arrival)
    floor = _baseline(frames[:n_frames], rate_hz)
    return {
        "readings": len(latencies),
        "frames_per_s": rate_hz,
        "p50_ms": round(delivered["p50_ms"], 3),
        "p99_ms": round(delivered["p99_ms"], 3),
        "max_ms": round(delivered["max_ms"], 3),
        "bytes_to_timestamp_p99_ms": round(arrived["p99_ms"], 3),
        "raw_pty_p50_ms": round(floor["p50_ms"], 3),
        "raw_pty_p99_ms": round(floor["p99_ms"], 3),
        "p99_ratio_to_raw_pty": round(delivered["p99_ms"] / max(floor["p99_ms"], 1e-6), 1),
        "goal_p99_ms": GOAL_P99_MS,
        "meets_goal": delivered["p99_ms"] < GOAL_P99_MS,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--readings", type=int, default=10_000, help="readings to measure (default 10000)")
    parser.add_argument("--rate", type=float, default=1000.0, help="frames written per second (default 1000)")
    args = parser.parse_args(argv)
    figures = run(args.readings, args.rate)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"pty -> SerialSource -> consumer over {figures['readings']} readings: "
              f"p50 {figures['p50_ms']:.3f} ms, p99 {figures['p99_ms']:.3f} ms (goal < {GOAL_P99_MS:g} ms), "
              f"max {figures['max_ms']:.3f} ms")
        print(f"bare pseudo-terminal in the same process: p50 {figures['raw_pty_p50_ms']:.3f} ms, "
              f"p99 {figures['raw_pty_p99_ms']:.3f} ms; source p99 = {figures['p99_ratio_to_raw_pty']}x bare")
    return 0 if figures["meets_goal"] else 1


if __name__ == "__main__":
    sys.exit(main())
