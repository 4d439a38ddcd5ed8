"""Soak: an accelerated 8-hour session through the real pipeline and session store (and the
live window, offscreen, when PyQt6 is importable), watching memory and counting readings.

The simulated patient runs on a manual clock at ``rate_hz`` per foot; every ``step_s`` of
session time the session is pumped as the live timer pumps it (source → pipeline and store,
commits; with the GUI also tiles, banner, table and a plot redraw). Every ``sample_every_s``
the process's resident memory is sampled (psutil). At the end the session is closed and the
file read back: every reading the source produced must be in it.

Memory cannot be flat in absolute terms: the whole session stays on the plot and in the
pipeline (hours of history, by design). What must be flat is everything else: after a one-hour
warm-up, memory may grow only by what the readings kept account for (``GOAL_BYTES_PER_READING``).

    .venv/bin/python bench/soak.py [--hours 8] [--rate 10] [--no-gui] [--json]

``run()`` returns the figures as a dict. Goals: no reading lost; after warm-up, memory grows by
at most ``GOAL_BYTES_PER_READING`` bytes per reading kept.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

# The session's whole history stays in memory by design, so memory grows with the readings kept:
# per reading the pipeline keeps about 108 bytes (15 per-limb arrays); the plot keeps its last hour
# as recorded (16 bytes a reading) and older data as min/max per 2-second bucket. The goal is
# that it grows by nothing else: after the first hour (warm-up), at most twice that per reading
# (growable buffers double their capacity when full).
GOAL_BYTES_PER_READING = 256.0
WARMUP_H = 1.0


def _gui_available() -> bool:
    try:
        import PyQt6.QtWidgets  # noqa: F401
    except ImportError:
        return False
    return True


class _Counted:
    """Counts what the source hands over, on its way to the recorder."""

    def __init__(self, source) -> None:
        self.count = 0
        inner = source.drain

        def drain(max_items=None):
            out = inner(max_items)
            self.count += len(out)
            return out

        source.drain = drain


def run(hours: float = 8.0, rate_hz: float = 10.0, gui: bool | None = None, step_s: float = 5.0,
        sample_every_s: float = 1800.0, scenario: str = "success-slow", folder: str | None = None) -> dict:
    import psutil

    from monitor.model import Limb
    from monitor.store import SessionStore

    gui = _gui_available() if gui is None else gui
    proc = psutil.Process()
    end_s = hours * 3600.0
    with tempfile.TemporaryDirectory(prefix="sympatherm-soak-", dir=folder) as tmp:
        os.environ.setdefault("SYMPATHERM_HOME", tmp)
        path = Path(tmp) / "soak.sympatherm"
        if gui:
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
            from monitor.commands.demo import build_demo_window
            from ui.application import get_application

            app = get_application()
            window = build_demo_window(scenario, 1, 1.0, Limb.LEFT, manual=True, session_path=path, rate_hz=rate_hz)
            window.resize(1600, 1000)
            window.show()
            app.processEvents()
            source = window.session.source
            counted = _Counted(source)

            def step(t: float) -> None:
                source.step_to(t)
                window.process()
                window.redraw()
                app.processEvents()

            def finish() -> None:
                window.finish("soak done")
                window.close()
                app.processEvents()
        else:
            from monitor.clock import SimulatedClock
            from monitor.model import MarkerKind, SessionInfo
            from monitor.pipeline import BlockPipeline
            from monitor.procedure.recorder import SessionRecorder
            from monitor.simulation.source import SimulatedSource
            from monitor.sources.registry import DeviceRegistry

            source = SimulatedSource(scenario, seed=1, blocked=Limb.LEFT, clock=SimulatedClock(manual=True),
                                     rate_hz=rate_hz)
            store = SessionStore.create(SessionInfo(patient_id="SOAK", blocked=Limb.LEFT, simulated=True), path)
            recorder = SessionRecorder(source, store, BlockPipeline(Limb.LEFT),
                                       registry=DeviceRegistry(Path(tmp) / "devices.json"))
            recorder.schedule_marker(MarkerKind.INJECTION, source.suggested_injection_s)
            counted = _Counted(source)
            source.start()

            def step(t: float) -> None:
                source.step_to(t)
                recorder.pump()

            def finish() -> None:
                recorder.finish("soak done")

        t0 = time.perf_counter()
        rss: list[tuple[float, float]] = [(0.0, proc.memory_info().rss / 2**20)]
        t = 0.0
        next_sample = sample_every_s
        while t < end_s:
            t = min(end_s, t + step_s)
            step(t)
            if t >= next_sample or t >= end_s:
                gc.collect()
                rss.append((t / 3600.0, proc.memory_info().rss / 2**20))
                next_sample += sample_every_s
        finish()
        elapsed = time.perf_counter() - t0
        with SessionStore.open_read_only(path) as store:
            stored = store.reading_count()
            span = store.time_span()
        size_mb = path.stat().st_size / 2**20
    warm = [(h, m) for h, m in rss if h >= min(WARMUP_H, hours / 2)]
    span_h = warm[-1][0] - warm[0][0] if len(warm) > 1 else 0.0
    growth = (warm[-1][1] - warm[0][1]) / span_h if span_h > 0 else 0.0
    readings_after_warmup = 2 * rate_hz * span_h * 3600.0
    per_reading = (warm[-1][1] - warm[0][1]) * 2**20 / readings_after_warmup if readings_after_warmup else 0.0
    return {
        "simulated_hours": hours,
        "rate_hz_per_limb": rate_hz,
        "gui": gui,
        "readings_produced": counted.count,
        "readings_stored": stored,
        "readings_lost": counted.count - stored,
        "session_span_s": span[1] - span[0] if span else 0.0,
        "file_size_mb": round(size_mb, 2),
        "rss_mb_over_time": [[round(h, 2), round(m, 1)] for h, m in rss],
        "warmup_h": warm[0][0] if warm else None,
        "rss_after_warmup_mb": round(warm[0][1], 1) if warm else None,
        "rss_final_mb": round(rss[-1][1], 1),
        "rss_peak_mb": round(max(m for _, m in rss), 1),
        "rss_growth_mb_per_hour_after_warmup": round(growth, 2),
        "bytes_per_reading_kept_after_warmup": round(per_reading, 1),
        "goal_bytes_per_reading_kept": GOAL_BYTES_PER_READING,
        "memory_bounded_by_history": per_reading <= GOAL_BYTES_PER_READING,
        "wall_time_s": round(elapsed, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--rate", type=float, default=10.0, help="readings per second per foot")
    ap.add_argument("--no-gui", action="store_true", help="pipeline and store only")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    f = run(args.hours, args.rate, gui=False if args.no_gui else None)
    if args.json:
        print(json.dumps(f, indent=1))
    else:
        print(f"{f['simulated_hours']:g} h at {f['rate_hz_per_limb']:g} Hz per foot ({'with' if f['gui'] else 'without'} "
              f"the GUI) in {f['wall_time_s']:.0f} s: {f['readings_produced']} readings produced, "
              f"{f['readings_stored']} stored, {f['readings_lost']} lost; file {f['file_size_mb']:.1f} MB")
        print(f"memory (MB) by simulated hour: {f['rss_mb_over_time']}")
        print(f"after warm-up: {f['rss_growth_mb_per_hour_after_warmup']:+.2f} MB/h, "
              f"{f['bytes_per_reading_kept_after_warmup']:.0f} bytes per reading kept "
              f"(goal ≤ {GOAL_BYTES_PER_READING:g}); peak {f['rss_peak_mb']:.0f} MB")
    return 0 if f["readings_lost"] == 0 and f["memory_bounded_by_history"] else 1


if __name__ == "__main__":
    sys.exit(main())
