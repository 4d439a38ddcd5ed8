"""Synthetic two-limb recordings for pipeline tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from monitor.model import Limb, Marker, MarkerKind, ProbeStatus, Reading

Curve = Callable[[np.ndarray], np.ndarray]


def flat(level: float) -> Curve:
    return lambda t: np.full(t.shape, level)


def ramp(level: float, start_s: float, rate_c_per_min: float, cap_c: float = 99.0) -> Curve:
    return lambda t: level + np.minimum(np.clip(t - start_s, 0, None) * rate_c_per_min / 60.0, cap_c)


def readings(left: Curve, right: Curve, end_s: float, rate_hz: float = 1.0, noise_c: float = 0.02,
             seed: int = 0, start_s: float = 0.0) -> list[Reading]:
    rng = np.random.default_rng(seed)
    t = np.arange(start_s, end_s, 1.0 / rate_hz)
    out = []
    values = {Limb.LEFT: left(t) + rng.normal(0, noise_c, t.shape),
              Limb.RIGHT: right(t) + rng.normal(0, noise_c, t.shape)}
    for i, ti in enumerate(t.tolist()):
        for limb in Limb:
            out.append(Reading(limb, round(float(values[limb][i]), 2), ProbeStatus.OK, ti, 1.7e9 + ti))
    return out


def injection(at: float) -> Marker:
    return Marker(MarkerKind.INJECTION, at)
