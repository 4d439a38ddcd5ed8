"""The one conversion of block-confirmation criteria to and from the plain dict a session file keeps.

``criteria_to_record`` writes every field of :class:`~monitor.pipeline.Criteria` (thresholds
that are not used are written as None), so a record read back holds the same criteria, an
adjusted preset included.

``criteria_from_record`` reads one back, with one fallback, documented here and nowhere else:

* nothing recorded (None or an empty dict): the ``default`` preset, the criteria every session
  starts with;
* otherwise the record's fields are laid over the preset its ``id`` names (a record that lacks
  a field keeps the preset's value) and checked as :class:`Criteria`; numbers must be numbers;
* a record that does not give valid criteria that way (an unknown id without its own label
  and source, no threshold at all, a threshold that is not a number, a negative hold) falls
  back to **the preset its id names, else the default preset**.

Whether the criteria can be judged at all (``core-3`` needs a core temperature) is not decided
here: :func:`monitor.procedure.replay.replay_session` says what happens then.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from monitor.pipeline.config import CRITERIA_PRESETS, Criteria

FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Criteria))
_TEXT = ("id", "label", "source")
_OPTIONAL_NUMBERS = ("min_rise_c", "min_di_minus_dc_c", "core_within_c")


def criteria_to_record(c: Criteria) -> dict[str, Any]:
    """Every field of ``c`` as plain JSON values (what ``SessionStore.set_criteria`` stores)."""
    return {name: getattr(c, name) for name in FIELDS}


def _number(value: Any, *, optional: bool) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{value!r} is not a number")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    return value


def criteria_from_record(d: Mapping[str, Any] | None) -> Criteria:
    """The criteria a record stands for; see the module docstring for the one fallback."""
    default = CRITERIA_PRESETS["default"]
    if not d:
        return default
    preset = CRITERIA_PRESETS.get(str(d.get("id", "")))
    merged: dict[str, Any] = criteria_to_record(preset) if preset is not None else {}
    merged.update({k: d[k] for k in FIELDS if k in d})
    try:
        for k in _TEXT:
            if not isinstance(merged.get(k), str):
                raise ValueError(f"{k} is not text")
        for k in _OPTIONAL_NUMBERS:
            merged[k] = _number(merged.get(k), optional=True)
        merged["hold_s"] = _number(merged.get("hold_s", 60.0), optional=False)
        criteria = Criteria(**merged)
    except (TypeError, ValueError):
        return preset if preset is not None else default
    return preset if criteria == preset else criteria


__all__ = ["FIELDS", "criteria_from_record", "criteria_to_record"]
