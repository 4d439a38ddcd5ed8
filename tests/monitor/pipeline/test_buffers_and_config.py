"""Growable buffers and the criteria presets."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.pipeline import CRITERIA_PRESETS, BlockPipeline, Criteria, PipelineConfig
from monitor.pipeline.buffers import GrowableArray


def test_growable_array_reallocates_only_logarithmically_often():
    buf = GrowableArray(np.float64, capacity=16)
    reallocations = 0
    last = buf._data
    for i in range(100_000):
        buf.append(float(i))
        if buf._data is not last:
            reallocations += 1
            last = buf._data
    assert len(buf) == 100_000
    assert reallocations <= 14  # doubling from 16 to 131072
    np.testing.assert_array_equal(buf.view, np.arange(100_000, dtype=float))
    buf.extend(np.array([1.5, 2.5]))
    assert buf.view[-2:].tolist() == [1.5, 2.5] and buf.last() == 2.5


def test_presets_have_the_agreed_ids_and_a_source_each():
    assert list(CRITERIA_PRESETS) == ["default", "rise-1.5", "rise-2", "rise-3", "di-dc-1.5", "core-3"]
    d = CRITERIA_PRESETS["default"]
    assert (d.min_rise_c, d.min_di_minus_dc_c, d.hold_s) == (2.0, 1.5, 60.0)
    assert CRITERIA_PRESETS["rise-1.5"].min_rise_c == 1.5 and CRITERIA_PRESETS["rise-1.5"].min_di_minus_dc_c is None
    assert CRITERIA_PRESETS["rise-3"].min_rise_c == 3.0
    assert CRITERIA_PRESETS["di-dc-1.5"].min_rise_c is None and CRITERIA_PRESETS["di-dc-1.5"].min_di_minus_dc_c == 1.5
    assert CRITERIA_PRESETS["core-3"].core_within_c == 3.0 and CRITERIA_PRESETS["core-3"].needs_core
    for c in CRITERIA_PRESETS.values():
        assert c.source and c.label
    assert "Park" in d.source and "Stevens" in d.source and "Tran" in CRITERIA_PRESETS["core-3"].source


def test_presets_are_adjustable_and_validated():
    tighter = CRITERIA_PRESETS["default"].adjusted(min_rise_c=2.5)
    assert tighter.min_rise_c == 2.5 and CRITERIA_PRESETS["default"].min_rise_c == 2.0
    with pytest.raises(ValueError, match="no threshold"):
        Criteria("x", "x", "x")
    with pytest.raises(ValueError, match="core temperature"):
        BlockPipeline("left", "core-3")
    with pytest.raises(ValueError, match="unknown criteria"):
        BlockPipeline("left", "rise-9")
    with pytest.raises(ValueError, match="between 1 and 5 minutes"):
        PipelineConfig(baseline_window_s=30)
    assert PipelineConfig(baseline_window_s=300).baseline_window_s == 300
    assert PipelineConfig().smoothing_lag_s < 15
