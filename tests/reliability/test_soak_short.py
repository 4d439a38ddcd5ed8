"""A short soak in the normal run: 30 simulated minutes at 2 Hz per foot through the real
pipeline, store and (offscreen) live window. No reading may be lost. Memory and time are
reported by ``bench/soak.py`` (8 hours), never asserted here."""

from __future__ import annotations

from bench.soak import run


def test_half_an_hour_soak_loses_no_reading(tmp_path):
    figures = run(hours=0.5, rate_hz=2.0, step_s=10.0, sample_every_s=600.0, folder=str(tmp_path))
    assert figures["readings_produced"] == 2 * (2 * 1800 + 1)
    assert figures["readings_lost"] == 0 and figures["readings_stored"] == figures["readings_produced"]
    assert figures["session_span_s"] == 1800.0
    assert len(figures["rss_mb_over_time"]) == 4
