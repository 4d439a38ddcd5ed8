"""Detector settings and the named block-confirmation criteria, each with its source.

Every number is a configurable default taken from ``shared/domain.md``; none is a
hard-coded truth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from monitor.model import VALID_RANGE_C


@dataclass(frozen=True)
class Criteria:
    """A block-confirmation criterion: every threshold that is not None must hold for ``hold_s``.

    - ``min_rise_c``: ΔTb, the blocked foot's rise from its baseline, at least this much;
    - ``min_di_minus_dc_c``: Di − Dc = ΔTb − ΔTc at least this much;
    - ``core_within_c``: the blocked foot within this many °C of a core temperature.
    """

    id: str
    label: str
    source: str
    min_rise_c: float | None = None
    min_di_minus_dc_c: float | None = None
    core_within_c: float | None = None
    hold_s: float = 60.0

    def __post_init__(self) -> None:
        if self.min_rise_c is None and self.min_di_minus_dc_c is None and self.core_within_c is None:
            raise ValueError(f"criteria {self.id!r} has no threshold")
        if self.hold_s < 0:
            raise ValueError("hold_s must not be negative")

    @property
    def needs_core(self) -> bool:
        return self.core_within_c is not None

    def conditions(self) -> tuple[str, ...]:
        """Each threshold in plain words, e.g. ("ΔTb ≥ 2.0 °C", "Di − Dc ≥ 1.5 °C")."""
        parts = []
        if self.min_rise_c is not None:
            parts.append(f"ΔTb ≥ {self.min_rise_c:.1f} °C")
        if self.min_di_minus_dc_c is not None:
            parts.append(f"Di − Dc ≥ {self.min_di_minus_dc_c:.1f} °C")
        if self.core_within_c is not None:
            parts.append(f"blocked foot within {self.core_within_c:.1f} °C of core")
        return tuple(parts)

    def describe(self) -> str:
        return " and ".join(self.conditions()) + f", held for {self.hold_s:g} s"

    @property
    def short_source(self) -> str:
        """The references of ``source`` without their details, for a banner (e.g. "Park/Nahm et al.,
        Anaesthesia 2010; Stevens et al., Reg Anesth Pain Med 1998"); the full text stays in
        ``source`` (criteria dialog, report)."""
        first = self.source.split(". ")[0]
        refs = [re.sub(r"\s*\([^)]*\)", "", part).split(": ")[0].strip() for part in first.split("; ")]
        cited = [r for r in refs if r[:1].isupper() and re.search(r"\b(19|20)\d\d\b", r)]
        if cited:
            return "; ".join(cited)
        inner = re.search(r"\(([^)]*\b(?:19|20)\d\d)\b", self.source)  # "Variant of … (Park/Nahm …, 2010 used …)"
        if inner:
            return f"variant of {inner.group(1)}"
        return self.source if len(self.source) <= 60 else self.source[:59].rstrip() + "…"

    def adjusted(self, **changes: str | float | None) -> Criteria:
        """A copy with some fields changed, e.g. thresholds, or ``id`` and ``label`` (the presets are
        adjustable, never edited in place)."""
        fields: dict[str, Any] = dict(changes)  # each field's own type is checked by __post_init__ and use
        return replace(self, **fields)


_PARK = "Park/Nahm et al., Anaesthesia 2010 (rise from baseline ≥ 2.0 °C on the blocked side)"
_STEVENS = ("Stevens et al., Reg Anesth Pain Med 1998 (Di − Dc ≥ 1.5 °C, stellate blocks); equals the net "
            "difference DTnet of Hong et al., Keimyung Med J 2009")

CRITERIA_PRESETS: dict[str, Criteria] = {
    c.id: c
    for c in (
        Criteria("default", "Rise ≥ 2.0 °C and Di − Dc ≥ 1.5 °C",
                 f"{_PARK}; {_STEVENS}. The combination cancels drifts that move both feet.",
                 min_rise_c=2.0, min_di_minus_dc_c=1.5),
        Criteria("rise-1.5", "Rise ≥ 1.5 °C",
                 "Variant of the rise criterion in use (Park/Nahm et al., Anaesthesia 2010 used 2.0 °C)",
                 min_rise_c=1.5),
        Criteria("rise-2", "Rise ≥ 2.0 °C", _PARK, min_rise_c=2.0),
        Criteria("rise-3", "Rise ≥ 3.0 °C",
                 "Variant of the rise criterion in use (Park/Nahm et al., Anaesthesia 2010 used 2.0 °C)",
                 min_rise_c=3.0),
        Criteria("di-dc-1.5", "Di − Dc ≥ 1.5 °C", _STEVENS, min_di_minus_dc_c=1.5),
        Criteria("core-3", "Blocked foot within 3 °C of core",
                 "Tran, Frank, Raja et al., Anesth Analg 2000;90:1396: what clinicians should expect by "
                 "about 35 min; not a validated cut-off. Needs a core temperature.",
                 core_within_c=3.0),
    )
}


def resolve_criteria(criteria: str | Criteria) -> Criteria:
    if isinstance(criteria, Criteria):
        return criteria
    try:
        return CRITERIA_PRESETS[criteria]
    except KeyError:
        raise ValueError(f"unknown criteria {criteria!r}; choose one of: {', '.join(CRITERIA_PRESETS)}") from None


@dataclass(frozen=True)
class PipelineConfig:
    """Detector settings. Temperatures in °C, times in seconds, rates in °C/min."""

    valid_range_c: tuple[float, float] = VALID_RANGE_C
    # Data gaps up to this long are tolerated; longer ones are "no data" artefacts.
    gap_s: float = 5.0
    # ... or, for a probe that reports slowly (a BLE Health Thermometer's Measurement Interval is
    # often 5–60 s), up to rhythm_factor × its own typical interval: the lower median of its last
    # rhythm_intervals intervals up to the reading before the gap (so an outage cannot stretch its
    # own limit, and one outage among them does not move the median), once it has rhythm_min_intervals
    # of them; never more than max_gap_s. A 1–10 Hz probe keeps gap_s.
    rhythm_factor: float = 2.5
    rhythm_intervals: int = 9
    rhythm_min_intervals: int = 2
    max_gap_s: float = 150.0
    # A baseline backed by fewer readings than this gets a warning (a slow probe gives ~4 in 2 min).
    baseline_few_readings: int = 10
    # Smoothing: median of the last ``median_points`` valid readings (removes single spikes),
    # then a trailing mean over ``smoothing_window_s``. Lag ≈ window/2 + (points-1)/2 samples.
    median_points: int = 5
    smoothing_window_s: float = 10.0
    # Baseline: mean of valid readings over this window before the injection mark (1–5 min).
    baseline_window_s: float = 120.0
    baseline_mostly_invalid_fraction: float = 0.5
    attached_warning_s: float = 300.0  # a skin probe needs up to 5 min to settle (Edan M8 manual)
    drift_warning_c_per_min: float = 0.1
    # Settling: from the first reading until the 60 s change is under this rate (at most settle_max_s).
    settle_rate_c_per_min: float = 0.3
    settle_min_s: float = 60.0
    settle_max_s: float = 600.0
    # After a break in valid data (> gap_s), a reading this much below the last one means the
    # probe was off the skin: it settles again.
    reapplied_drop_c: float = 1.0
    # Touch and lift: a change over step_window_s (on a 3 s mean of the median) larger than
    # skin can produce. Skin warms ≤ ~2.5 °C/min and cools ≤ ~1 °C/min (domain.md).
    step_window_s: float = 10.0
    fast_mean_s: float = 3.0
    touch_step_c: float = 1.0  # 6 °C/min
    lift_step_c: float = 0.4  # 2.4 °C/min over 10 s
    lift_slow_step_c: float = 0.6  # 1.2 °C/min over 30 s: a slower fall on a foot near room temperature
    # A hand that takes longer than 10 s to pull the reading: a rise over touch_slow_window_s
    # faster than skin can warm (3 °C/min; skin ≤ ~2.5 °C/min at its steepest).
    touch_slow_window_s: float = 30.0
    touch_slow_step_c: float = 1.5
    # ... and on the other foot, which warms only with the whole body (≤ ~0.3 °C/min), a rise of
    # other_touch_slow_step_c over touch_slow_window_s (1 °C/min) is already a hand.
    other_touch_slow_step_c: float = 0.5
    # The other (contralateral) foot: after a unilateral block it stays flat or cools by at most
    # ~1 °C over 30 min (Irazuzta 1992); it warms only with the whole body (systemic). Its reading
    # is flagged (a loosening probe) when it falls other_fall_c within other_fall_window_s
    # (0.25 °C/min for 2 min: over 7 times what that foot does), or other_depth_c below its highest
    # level of the last other_depth_window_s (in whole minutes), however slowly. Both bound how much
    # a loosening probe can add to Di − Dc before it is left out.
    other_fall_window_s: float = 120.0
    other_fall_c: float = 0.5
    other_depth_window_s: float = 1800.0
    other_depth_c: float = 1.0
    # ... and such a flag ends (besides the usual recovery) only after a re-taping climb: a rise
    # within 60 s of at least other_retaped_rise_c and other_retaped_share of the fall (a probe back
    # on the skin settles within a minute or two; whole-body warming is ≤ ~0.3 °C/min), then settled.
    other_retaped_rise_c: float = 0.3
    other_retaped_share: float = 0.4
    # Both feet warming together (systemic: sedation, blankets, a warm room): the other foot risen
    # at least this much since the baseline while the blocked foot rose too.
    systemic_rise_c: float = 1.0
    # The other foot warmed with the body (at least other_turnback_rise_c since the baseline; after a
    # unilateral block it does not warm) and then fell other_turnback_fall_c back from that highest
    # rise: skin warming with the body does not cool back within minutes, a probe loosening as it
    # warms does. Di − Dc leaves that foot out from then until its probe is checked.
    other_turnback_rise_c: float = 0.2
    other_turnback_fall_c: float = 0.2
    other_turnback_hold_s: float = 30.0  # a sink that lasts, not a hand lifted off (which falls in seconds)
    # Recovery from touch or lift: level plausible again and the change slowed, for recovery_hold_s.
    recovery_tolerance_c: float = 0.3
    recovery_hold_s: float = 30.0
    recovery_rise_c_per_min: float = 2.5  # warming allowed to explain a level above the pre-touch one
    recovery_cool_c_per_min: float = 0.2  # real cooling allowed to explain a level below the pre-lift one
    recovery_cool_max_c: float = 0.5
    max_lift_s: float = 600.0
    reapplied_rise_c: float = 1.0
    slowed_fall_c_per_30s: float = 0.5
    slowed_rise_c_per_30s: float = 1.25
    release_drop_c: float = 1.0
    # A touch also ends once the level has risen this far beyond the highest level of its first
    # touch_plateau_s (the hand's step): a resting hand cannot make the reading climb further.
    touch_plateau_s: float = 60.0
    touch_rise_beyond_c: float = 1.0
    # ... or once it falls this much in 30 s (1 °C/min: faster than skin cools on its own).
    touch_release_fall_c: float = 0.5
    # A touch cannot end while the reading is warmer than foot skin gets (peak ~34 °C, Frank 2000;
    # the core is ~37 °C).
    skin_max_c: float = 36.0
    # Frozen device: the identical value for this long on a probe whose resolution is finer than
    # frozen_resolution_c (a coarse probe on a stable foot legitimately repeats its value).
    frozen_identical_s: float = 60.0
    frozen_resolution_c: float = 0.05
    # ... and for at least this many readings (a probe reporting every 30 s on a stable foot
    # legitimately repeats its value two or three times).
    frozen_min_readings: int = 10
    # Criteria evaluation on a 1 s grid, final once data is finalise_lag_s beyond the tick
    # (touch and lift are dated back to their start, up to this much).
    tick_s: float = 1.0
    finalise_lag_s: float = 15.0
    judge_silence_s: float = 600.0  # no grid points when neither foot has reported for this long
    slope_window_s: float = 120.0
    early_slope_c_per_min: float = 0.4  # Park/Nahm 2010
    early_window_s: float = 300.0
    not_confirmed_after_min: float = 40.0
    warm_start_c: float = 32.0  # Benzon & Avram 1986: a warm foot has little headroom

    def __post_init__(self) -> None:
        if not 60.0 <= self.baseline_window_s <= 300.0:
            raise ValueError("the baseline window must be between 1 and 5 minutes")
        if self.median_points < 1 or self.median_points % 2 == 0:
            raise ValueError("median_points must be an odd number ≥ 1")
        if self.tick_s <= 0 or self.smoothing_window_s <= 0:
            raise ValueError("tick_s and smoothing_window_s must be greater than zero")
        if self.finalise_lag_s < self.step_window_s + self.fast_mean_s:
            raise ValueError("finalise_lag_s must cover step_window_s + fast_mean_s")
        if self.rhythm_factor <= 0 or self.max_gap_s < self.gap_s:
            raise ValueError("rhythm_factor must be greater than zero and max_gap_s at least gap_s")
        if min(self.touch_slow_window_s, self.other_fall_window_s, self.other_depth_window_s) <= 0:
            raise ValueError("touch_slow_window_s, other_fall_window_s and other_depth_window_s must be greater "
                             "than zero")
        if self.rhythm_intervals < 1 or not 1 <= self.rhythm_min_intervals <= self.rhythm_intervals:
            raise ValueError("rhythm_min_intervals must be between 1 and rhythm_intervals")

    def gap_limit_s(self, typical_interval_s: float | None) -> float:
        """The longest silence tolerated after a reading, given the probe's typical interval."""
        if typical_interval_s is None:
            return self.gap_s
        stretched = self.rhythm_factor * typical_interval_s
        return self.gap_s if stretched <= self.gap_s else min(stretched, self.max_gap_s)

    @property
    def smoothing_lag_s(self) -> float:
        """Lag of the smoothed signal behind a ramp, at 1 reading per second."""
        return self.smoothing_window_s / 2.0 + (self.median_points - 1) / 2.0
