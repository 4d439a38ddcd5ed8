"""The criteria's abbreviations and each criterion in a nurse's words: one text for the criteria
dialog and the report's legend (the tiles' tooltips and F1 say the same)."""

from __future__ import annotations

from monitor.pipeline.config import Criteria

# (abbreviation, what it means in plain words)
TERMS: tuple[tuple[str, str], ...] = (
    ("ΔTb", "how much the blocked foot has warmed since the baseline"),
    ("ΔTc", "how much the other foot has changed since the baseline"),
    ("Di − Dc", "ΔTb − ΔTc, how much more the blocked foot warmed than the other foot (warming that moves "
                "both feet, from a warm room, sedation or a blanket, cancels out)"),
)


# The same, short enough for one line at the foot of every page of the report.
SHORT_TERMS: tuple[tuple[str, str], ...] = (
    ("ΔTb", "blocked foot's rise since baseline"),
    ("ΔTc", "other foot's change"),
    ("Di − Dc", "ΔTb − ΔTc, how much more the blocked foot warmed"),
)


def glossary_lines() -> list[str]:
    """Each term as "ΔTb: how much …", for a legend."""
    return [f"{term}: {meaning}" for term, meaning in TERMS]


def criterion_in_plain_words(criteria: Criteria) -> str:
    """E.g. "Confirmed when the blocked foot has warmed by at least 2.0 °C since the baseline (ΔTb)
    and by at least 1.5 °C more than the other foot (Di − Dc), both held for 60 s …"."""
    parts = []
    if criteria.min_rise_c is not None:
        parts.append(f"the blocked foot has warmed by at least {criteria.min_rise_c:.1f} °C since the baseline "
                     "(ΔTb)")
    if criteria.min_di_minus_dc_c is not None:
        lead = "by" if parts else "the blocked foot has warmed by"
        parts.append(f"{lead} at least {criteria.min_di_minus_dc_c:.1f} °C more than the other foot (Di − Dc)")
    if criteria.core_within_c is not None:
        parts.append(f"the blocked foot is within {criteria.core_within_c:.1f} °C of the core temperature")
    held = "both held" if len(parts) == 2 else ("all held" if len(parts) > 2 else "held")
    return (f"Confirmed when {' and '.join(parts)}, {held} for {criteria.hold_s:g} s of valid readings after "
            "the injection mark.")
