"""Fuzzing the CSV importer: a short campaign and hypothesis properties in the normal run,
the long campaign with ``SYMPATHERM_FUZZ=1`` (``tools/fuzz``)."""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.csvio import CsvFormatError, read_interchange_csv, write_interchange_csv
from monitor.model import Limb, ProbeStatus, Reading

from .csv_fuzz import CsvCampaign

SEED = int(os.environ.get("SYMPATHERM_FUZZ_SEED", "20261123"))


def test_short_csv_campaign():
    counts = CsvCampaign(SEED).run(3000)
    assert sum(counts.values()) == 3000 and len(counts) == len(CsvCampaign(SEED)._mutators)


@pytest.mark.fuzz
@pytest.mark.skipif(os.environ.get("SYMPATHERM_FUZZ") != "1",
                    reason="long fuzz campaign: run with SYMPATHERM_FUZZ=1 (tools/fuzz)")
def test_long_csv_campaign():
    target = int(os.environ.get("SYMPATHERM_FUZZ_CSV_INPUTS", "200000"))
    counts = CsvCampaign(SEED + 1).run(target)
    print(f"\nCSV importer: {sum(counts.values())} inputs, no failure; by mutation: {counts}")
    assert sum(counts.values()) == target


def test_a_sequence_number_too_large_is_a_plain_format_error():
    with pytest.raises(CsvFormatError):
        read_interchange_csv(io.StringIO("time_s,left_c,right_c,left_seq\n0,30,31,99999999999999999999999\n"))


def test_an_enormous_cell_is_a_plain_format_error():
    with pytest.raises(CsvFormatError):
        read_interchange_csv(io.StringIO('time_s,left_c,right_c\n0,30,"' + "1" * 200_000 + '"\n'))


def test_a_timestamp_at_the_edge_of_the_calendar_is_read_or_refused_plainly():
    for stamp in ("0001-01-01T00:00:00", "9999-12-31T23:59:59"):
        try:
            read_interchange_csv(io.StringIO(f"timestamp,left_c,right_c\n{stamp},30,31\n"))
        except CsvFormatError:
            pass


_finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
_reading_rows = st.lists(st.tuples(st.sampled_from(list(Limb)), st.one_of(st.none(), _finite),
                                   st.sampled_from(list(ProbeStatus)), _finite,
                                   st.one_of(st.none(), st.integers(0, 2**31))), max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_reading_rows)
def test_every_reading_written_is_read_back(rows):
    readings = sorted((Reading(limb, c, s, t, 1.7e9, q, source="csv") for limb, c, s, t, q in rows),
                      key=lambda r: (r.session_s, r.limb is Limb.RIGHT))
    buf = io.StringIO()
    write_interchange_csv(buf, readings, {"blocked": "left"})
    back = read_interchange_csv(io.StringIO(buf.getvalue())).readings
    key = lambda r: (r.limb, r.session_s + 0.0, r.celsius, r.status, r.sequence)  # noqa: E731 (+0.0: -0.0 is 0.0)
    assert sorted(map(key, back), key=repr) == sorted(map(key, readings), key=repr)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789.,-+e\n\r#:\" abcdeflmnorstuwx_T")), max_size=400))
def test_any_text_is_read_or_refused_in_plain_words(text):
    campaign = CsvCampaign(0)
    campaign.check_text("time_s,left_c,right_c\n" + text, "hypothesis")
    campaign.check_text(text, "hypothesis")
