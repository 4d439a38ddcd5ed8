"""Thermistor models, presets, fitting, ADC divider, fault classification, calibration data."""

from __future__ import annotations

import json
import math

import pytest

from firmware_protocol.frames import ChannelValue
from firmware_protocol.thermistor import (
    NTC_10K_B3950,
    PRESET_LABELS,
    PRESETS,
    YSI_400,
    BetaModel,
    Calibration,
    Divider,
    FaultLimits,
    SteinhartHart,
    classify_resistance,
    convert_adc,
    convert_resistance,
    model_from_dict,
)
from monitor.model import ProbeStatus


def test_ysi400_matches_devices_md():
    assert YSI_400.resistance(25.0) == pytest.approx(2254, abs=1.0)
    assert YSI_400.resistance(37.0) == pytest.approx(1355.5, abs=1.0)
    assert YSI_400.celsius(2252.0) == pytest.approx(25.0, abs=0.05)
    slope = YSI_400.resistance(33.0) - YSI_400.resistance(32.0)
    assert -75 < slope < -55  # about −65 Ω/°C near skin temperature
    assert slope / YSI_400.resistance(32.5) == pytest.approx(-0.04, abs=0.005)


def test_beta_model_definition():
    assert NTC_10K_B3950.resistance(25.0) == pytest.approx(10_000.0)
    assert NTC_10K_B3950.celsius(10_000.0) == pytest.approx(25.0)
    # By definition of β: ln(R1/R2) = β (1/T1 − 1/T2)
    r35 = NTC_10K_B3950.resistance(35.0)
    assert math.log(10_000 / r35) == pytest.approx(3950 * (1 / 298.15 - 1 / 308.15))


@pytest.mark.parametrize("model", list(PRESETS.values()) + [SteinhartHart(1.009249522e-3, 2.378405444e-4, 2.019202697e-7)])
def test_round_trip_over_the_clinical_range(model):
    for tenth in range(-400, 1250, 7):
        t = tenth / 10
        assert model.celsius(model.resistance(t)) == pytest.approx(t, abs=1e-9)


def test_presets_are_labelled_and_serialisable():
    assert set(PRESETS) == set(PRESET_LABELS)
    for model in PRESETS.values():
        assert model_from_dict(json.loads(json.dumps(model.to_dict()))) == model
    with pytest.raises(ValueError, match="unknown thermistor model"):
        model_from_dict({"model": "magic"})
    with pytest.raises(ValueError, match="finite number"):
        model_from_dict({"model": "beta", "beta": "3950", "r0_ohm": 10000})


def test_three_point_fit_recovers_known_coefficients():
    points = [(YSI_400.resistance(t), t) for t in (20.0, 32.0, 42.0)]
    fitted = SteinhartHart.fit(points)
    assert fitted.a == pytest.approx(YSI_400.a, rel=1e-6)
    assert fitted.b == pytest.approx(YSI_400.b, rel=1e-6)
    assert fitted.c == pytest.approx(YSI_400.c, rel=1e-4)
    # and a fit of a Beta part reproduces it closely between the points
    beta_fit = SteinhartHart.fit([(NTC_10K_B3950.resistance(t), t) for t in (15.0, 30.0, 45.0)])
    for t in (20.0, 33.0, 40.0):
        assert beta_fit.celsius(NTC_10K_B3950.resistance(t)) == pytest.approx(t, abs=0.02)
        # C is ~0 here: the inverse must stay exact (a closed-form cubic loses precision)
        assert beta_fit.resistance(t) == pytest.approx(NTC_10K_B3950.resistance(t), rel=1e-9)
    assert SteinhartHart(YSI_400.a, YSI_400.b, 0.0).celsius(SteinhartHart(YSI_400.a, YSI_400.b, 0.0).resistance(33.0)) \
        == pytest.approx(33.0, abs=1e-9)


@pytest.mark.parametrize("points, words", [
    ([(2000, 25), (1500, 30)], "exactly three"),
    ([(2000, 25), (2000, 30), (1000, 40)], "different"),
    ([(1000, 25), (1500, 30), (2000, 40)], "fall as temperature rises"),
    ([(-5, 25), (1500, 30), (2000, 40)], "positive"),
])
def test_fit_refuses_bad_points(points, words):
    with pytest.raises(ValueError, match=words):
        SteinhartHart.fit(points)


def test_divider():
    div = Divider(series_ohm=1600.0, adc_bits=12)
    assert div.max_code == 4095
    code = div.code(1800.0)
    assert code == round(4096 * 1800 / 3400)
    assert div.resistance(code) == pytest.approx(1800.0, rel=1e-3)
    assert div.resistance(0) == 0.0
    assert math.isinf(div.resistance(4095))
    assert div.code(math.inf) == 4095 and div.code(0.0) == 0
    with pytest.raises(ValueError, match="outside 0..4095"):
        div.resistance(5000)


def test_classification_and_conversion():
    assert classify_resistance(YSI_400.resistance(33.0), YSI_400) is ProbeStatus.OK
    assert classify_resistance(math.inf, YSI_400) is ProbeStatus.OPEN_CIRCUIT
    assert classify_resistance(5e6, YSI_400) is ProbeStatus.OPEN_CIRCUIT
    assert classify_resistance(0.0, YSI_400) is ProbeStatus.SHORT_CIRCUIT
    assert classify_resistance(3.0, YSI_400) is ProbeStatus.SHORT_CIRCUIT
    assert classify_resistance(None, YSI_400) is ProbeStatus.NOT_ATTACHED
    r33 = YSI_400.resistance(33.0)
    got = convert_resistance(r33, YSI_400)
    assert got == ChannelValue(pytest.approx(33.0), r33, ProbeStatus.OK)
    hot = convert_resistance(YSI_400.resistance(60.0), YSI_400)
    assert hot.status is ProbeStatus.OUT_OF_RANGE and hot.celsius == pytest.approx(60.0)
    assert convert_resistance(math.inf, YSI_400) == ChannelValue(None, None, ProbeStatus.OPEN_CIRCUIT)
    assert convert_resistance(0.0, YSI_400) == ChannelValue(None, 0.0, ProbeStatus.SHORT_CIRCUIT)
    strict = FaultLimits(valid_range_c=(34.0, 36.0))
    assert convert_resistance(r33, YSI_400, limits=strict).status is ProbeStatus.OUT_OF_RANGE


def test_adc_conversion_end_to_end():
    div = Divider(1600.0, 12)
    for t in (25.0, 30.0, 35.0, 40.0):
        got = convert_adc(div.code(YSI_400.resistance(t)), div, YSI_400)
        assert got.status is ProbeStatus.OK
        assert got.celsius == pytest.approx(t, abs=0.05)  # 12-bit quantisation near 1.6 kΩ
    assert convert_adc(4095, div, YSI_400).status is ProbeStatus.OPEN_CIRCUIT
    assert convert_adc(0, div, YSI_400).status is ProbeStatus.SHORT_CIRCUIT


def test_calibration_is_data():
    one = Calibration.one_point(raw_c=33.2, reference_c=33.5)
    assert one.apply(30.0) == pytest.approx(30.3)
    two = Calibration.two_point((30.0, 30.2), (40.0, 40.0), note="2-point vs reference")
    assert two.apply(30.0) == pytest.approx(30.2) and two.apply(40.0) == pytest.approx(40.0)
    assert Calibration.from_dict(json.loads(json.dumps(two.to_dict()))) == two
    assert Calibration.from_dict({}) == Calibration() and Calibration().is_identity
    assert Calibration(0.5).apply(30.0) == 30.5
    calibrated = convert_resistance(YSI_400.resistance(33.0), YSI_400, one)
    assert calibrated.celsius == pytest.approx(33.3)


@pytest.mark.parametrize("d, words", [
    ({"gain": 3.0}, "implausible"),
    ({"offset_c": 25.0}, "implausible"),
    ({"offset_c": "1"}, "finite number"),
    ({"gain": float("nan")}, "finite number"),
    ({"note": 5}, "text"),
    ([1, 2], "mapping"),
])
def test_bad_calibration_data_is_refused_in_plain_words(d, words):
    with pytest.raises(ValueError, match=words):
        Calibration.from_dict(d)


def test_two_point_needs_spread():
    with pytest.raises(ValueError, match="1 °C apart"):
        Calibration.two_point((30.0, 30.1), (30.5, 30.6))


def test_beta_model_validation():
    with pytest.raises(ValueError):
        BetaModel(-1.0, 10_000.0)
    with pytest.raises(ValueError):
        YSI_400.celsius(0.0)
