"""The CSV interchange format."""

from __future__ import annotations

import io
import os
import stat

import numpy as np
import pytest

from monitor.csvio import CsvFormatError, read_interchange_csv, write_interchange_csv
from monitor.model import Limb, Marker, MarkerKind, ProbeStatus, Reading


def test_round_trip_keeps_readings_metadata_and_markers(tmp_path):
    rs = [Reading(Limb.LEFT, 25.125, ProbeStatus.OK, 0.0, 1.7e9, 7),
          Reading(Limb.RIGHT, 26.0, ProbeStatus.OK, 0.0, 1.7e9),
          Reading(Limb.RIGHT, None, ProbeStatus.SHORT_CIRCUIT, 0.7, 1.7e9 + 0.7),
          Reading(Limb.LEFT, 25.2, ProbeStatus.OK, 1.0, 1.7e9 + 1)]
    path = tmp_path / "rec.csv"
    write_interchange_csv(path, rs, {"blocked": "left", "injection_s": 1.0, "patient_id": "P\n1"},
                          markers=[Marker(MarkerKind.INJECTION, 1.0, "first, 7 mL"), Marker(MarkerKind.NOTE, 0.5)])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    rec = read_interchange_csv(path)
    assert rec.readings == [Reading(r.limb, r.celsius, r.status, r.session_s, r.wall_time, r.sequence,
                                    source="csv") for r in rs]
    assert rec.blocked is Limb.LEFT and rec.injection_s == 1.0 and rec.metadata["patient_id"] == "P 1"
    assert [(m.kind, m.session_s, m.text) for m in rec.markers] == [
        (MarkerKind.INJECTION, 1.0, "first, 7 mL"), (MarkerKind.NOTE, 0.5, "")]


def test_timestamps_unsynchronised_rows_extra_columns_and_out_of_range():
    text = ("# blocked: right\n# injection_s: 2\n"
            "timestamp,left_c,right_c,room,left_status\n"
            "2026-01-05T10:00:00+00:00,25.0,,x,\n"
            "2026-01-05T10:00:01.5+00:00,,99.0,y,\n"
            "2026-01-05T10:00:03+00:00,,,z,open_circuit\n")
    rec = read_interchange_csv(io.StringIO(text))
    left, right = rec.limbs[Limb.LEFT], rec.limbs[Limb.RIGHT]
    assert left.t_s.tolist() == [0.0, 3.0] and np.isnan(left.celsius[1]) and left.status[1] == 1
    assert right.t_s.tolist() == [1.5] and right.celsius.tolist() == [99.0]
    assert rec.blocked is Limb.RIGHT and rec.injection_s == 2.0
    assert rec.readings[0].wall_time > 1.7e9


@pytest.mark.parametrize("text, words", [
    ("", "no header row"),
    ("# only: metadata\n", "no header row"),
    ("time,left,right\n1,2,3\n", "lacks time_s (or timestamp), left_c, right_c"),
    ("time_s,left_c\n1,2\n", "lacks right_c"),
    ("time_s,left_c,right_c\n1,abc,3\n", "'abc' is not a number"),
    ("time_s,left_c,right_c\n,25,26\n", "time_s cell is empty"),
    ("time_s,left_c,right_c\n1,25,26,27\n", "4 fields but the header has 3"),
    ("timestamp,left_c,right_c\nyesterday,25,26\n", "not an ISO 8601 timestamp"),
    ("time_s,left_c,right_c,left_status\n1,25,26,melted\n", "not a known probe status"),
    ("# marker: injection\ntime_s,left_c,right_c\n", "marker needs"),
])
def test_malformed_files_give_one_plain_error(text, words):
    with pytest.raises(CsvFormatError) as err:
        read_interchange_csv(io.StringIO(text))
    assert words in str(err.value) and "\n" not in str(err.value)


def test_unreadable_paths_give_plain_errors(tmp_path):
    with pytest.raises(CsvFormatError, match="no such file"):
        read_interchange_csv(tmp_path / "missing.csv")
    with pytest.raises(CsvFormatError, match="folder"):
        read_interchange_csv(tmp_path)
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\xff\xfe\x00\x01garbage")
    with pytest.raises(CsvFormatError, match="not valid UTF-8"):
        read_interchange_csv(binary)
    bad_meta = tmp_path / "m.csv"
    bad_meta.write_text("# blocked: middle\ntime_s,left_c,right_c\n")
    with pytest.raises(CsvFormatError, match="not left or right"):
        _ = read_interchange_csv(bad_meta).blocked


def test_spreadsheet_dialects_and_windows_line_endings():
    semicolons = "\ufeff# blocked: left\r\ntime_s;left_c;right_c\r\n0;24,50;25,00\r\n1,5;24,60;\r\n"
    rec = read_interchange_csv(io.StringIO(semicolons.lstrip("\ufeff")))
    assert rec.limbs[Limb.LEFT].t_s.tolist() == [0.0, 1.5] and rec.limbs[Limb.LEFT].celsius.tolist() == [24.5, 24.6]
    assert rec.limbs[Limb.RIGHT].celsius.tolist() == [25.0] and rec.blocked is Limb.LEFT
    tabs = "time_s\tleft_c\tright_c\n0\t24.5\t25\n"
    assert read_interchange_csv(io.StringIO(tabs)).limbs[Limb.RIGHT].celsius.tolist() == [25.0]


def test_a_bom_is_ignored(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufefftime_s,left_c,right_c\r\n0,24.5,25\r\n".encode())
    assert read_interchange_csv(path).limbs[Limb.LEFT].celsius.tolist() == [24.5]


def test_nan_and_na_cells_are_no_reading_as_other_tools_write_them():
    """numpy.savetxt writes nan for the foot that was not read on a row; that is no reading (not
    a sensor fault), unless a status says otherwise."""
    text = ("time_s,left_c,right_c,right_status\n"
            "0.0,25.0,nan,\n"
            "0.5,NaN,26.0,\n"
            "1.0,NA,N/A,open_circuit\n"
            "1.5,-,null,\n")
    rec = read_interchange_csv(io.StringIO(text))
    left, right = rec.limbs[Limb.LEFT], rec.limbs[Limb.RIGHT]
    assert left.t_s.tolist() == [0.0] and left.celsius.tolist() == [25.0]
    assert right.t_s.tolist() == [0.5, 1.0] and right.celsius[0] == 26.0 and np.isnan(right.celsius[1])
    assert rec.readings[-1].status is ProbeStatus.OPEN_CIRCUIT
