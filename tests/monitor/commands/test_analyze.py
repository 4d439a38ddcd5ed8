"""`sympatherm analyze` as a subprocess, against its contract."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from bench.evaluation import simulate
from monitor.csvio import write_interchange_csv
from monitor.model import PROBE_STATUS_CODES, Limb, Reading

CONTRACT_KEYS = {"verdict", "confirmed_at_s", "criteria", "baseline_c", "peak_rise_c", "max_di_minus_dc_c",
                 "early_warming_at_s", "warm_start", "artifacts"}


def analyze(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monitor.cli", "analyze", *args], capture_output=True, text=True,
                          timeout=60)


def _write_scenario(path, scenario: str, seed: int, blocked: Limb, metadata: bool = True, offset: float = 0.0):
    rec = simulate(scenario, seed, blocked, observe_after_s=2400.0)
    rs = []
    for limb, (t, c, s) in rec.limbs.items():
        rs += [Reading(limb, None if np.isnan(ci) else ci, PROBE_STATUS_CODES[si], ti + offset, 1.7e9 + ti)
               for ti, ci, si in zip(t.tolist(), c.tolist(), s.tolist(), strict=True)]
    rs.sort(key=lambda r: (r.session_s, r.limb is Limb.RIGHT))
    meta = {"blocked": str(blocked), "injection_s": rec.model.injection_s + offset} if metadata else {}
    write_interchange_csv(path, rs, meta)
    return rec


@pytest.fixture(scope="module")
def success_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("an") / "success.csv"
    rec = _write_scenario(path, "success-fast", 2, Limb.RIGHT, offset=1000.0)
    return path, rec


def test_json_follows_the_contract_and_uses_the_file_time_axis(success_csv):
    path, rec = success_csv
    out = analyze(str(path), "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert CONTRACT_KEYS <= set(doc)
    assert doc["verdict"] == "confirmed" and doc["criteria"] == "default"
    assert doc["confirmed_at_s"] > rec.model.injection_s + 1000.0
    assert set(doc["baseline_c"]) == {"left", "right"} and all(isinstance(v, float) for v in doc["baseline_c"].values())
    assert set(doc["peak_rise_c"]) == {"blocked", "contralateral"} and doc["peak_rise_c"]["blocked"] > 2.0
    assert doc["max_di_minus_dc_c"] >= 1.5 and isinstance(doc["warm_start"], bool)
    assert all(set(a) == {"limb", "kind", "start_s", "end_s"} for a in doc["artifacts"])
    assert {a["kind"] for a in doc["artifacts"]} <= {"out_of_range", "sensor_fault", "probe_lifted", "touch",
                                                      "settling", "frozen", "no_data"}


def test_flags_override_metadata_and_criteria_change_the_answer(success_csv):
    path, rec = success_csv
    wrong_side = json.loads(analyze(str(path), "--json", "--blocked", "left").stdout)
    assert wrong_side["verdict"] == "not_confirmed" and wrong_side["confirmed_at_s"] is None
    late = json.loads(analyze(str(path), "--json", "--injection-at", str(rec.model.injection_s + 2900)).stdout)
    assert late["verdict"] in ("not_confirmed", "insufficient_data")
    strict = json.loads(analyze(str(path), "--json", "--criteria", "rise-3").stdout)
    assert strict["criteria"] == "rise-3"
    core = json.loads(analyze(str(path), "--json", "--criteria", "core-3", "--core-c", "36.5").stdout)
    assert core["criteria"] == "core-3" and core["verdict"] in ("confirmed", "not_confirmed")


def test_human_summary(success_csv):
    out = analyze(str(success_csv[0]))
    assert out.returncode == 0 and "Block confirmed" in out.stdout and "not a certified medical device" in out.stdout
    assert "Verdict: confirmed." in out.stdout  # the same word as --json gives


def test_touch_recording_is_analysed_not_confirmed_with_the_artefact(tmp_path):
    path = tmp_path / "touch.csv"
    _write_scenario(path, "touch", 1, Limb.LEFT, metadata=False)
    doc = json.loads(analyze(str(path), "--json", "--blocked", "left", "--injection-at", "500").stdout)
    assert doc["verdict"] == "not_confirmed"
    assert any(a["kind"] == "touch" and a["limb"] == "left" for a in doc["artifacts"])
    # The text summary lists each artefact in plain words with its times (m:ss).
    text = analyze(str(path), "--blocked", "left", "--injection-at", "500").stdout
    touch = next(a for a in doc["artifacts"] if a["kind"] == "touch")
    start = int(round(touch["start_s"]))
    assert f"left foot, {start // 60}:{start % 60:02d} to " in text
    assert "probe touched or handled" in text and "injection at 8:20;" in text and "500 s" not in text


def test_iso_timestamps_empty_cells_and_out_of_range(tmp_path):
    rows = ["# blocked: left", "# injection_s: 300", "timestamp,left_c,right_c,note"]
    for i in range(900):
        stamp = f"2026-03-01T09:{i // 60:02d}:{i % 60:02d}Z"
        left = "" if i % 7 == 0 else ("55.0" if i == 400 else f"{28.0 + (max(0, i - 400) / 60 if i > 400 else 0):.2f}")
        right = "" if i % 5 == 0 else "28.00"
        rows.append(f"{stamp},{left},{right},x")
    path = tmp_path / "iso.csv"
    path.write_text("\n".join(rows) + "\n")
    doc = json.loads(analyze(str(path), "--json").stdout)
    # +1 °C/min from 400 s: ΔTb = 2 °C at 520 s, + smoothing lag, + 60 s hold.
    assert doc["verdict"] == "confirmed" and 580 <= doc["confirmed_at_s"] <= 595
    assert {"limb": "left", "kind": "out_of_range", "start_s": 400.0, "end_s": 401.0} in doc["artifacts"]


def test_header_only_file_is_analysed_as_insufficient_data(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("time_s,left_c,right_c\n")
    out = analyze(str(path), "--json", "--blocked", "left", "--injection-at", "10")
    assert out.returncode == 0 and json.loads(out.stdout)["verdict"] == "insufficient_data"


@pytest.mark.parametrize("content, args", [
    (b"time_s,left_c,right_c\n1,abc,2\n", ["--blocked", "left", "--injection-at", "0"]),
    (b"\x89PNG\r\n\x1a\n\x00\x00binary", ["--blocked", "left", "--injection-at", "0"]),
    (b"a,b,c\n1,2,3\n", ["--blocked", "left", "--injection-at", "0"]),
    (b"time_s,left_c,right_c\n1,25,26\n", ["--injection-at", "0"]),  # no side anywhere
    (b"time_s,left_c,right_c\n1,25,26\n", ["--blocked", "right"]),  # no injection anywhere
    (None, ["--blocked", "left", "--injection-at", "0"]),  # missing file
])
def test_unreadable_or_malformed_files_exit_2_with_one_plain_line(tmp_path, content, args):
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_bytes(content)
    out = analyze(str(path), "--json", *args)
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr and lines[0].startswith("sympatherm analyze: ")


def test_several_injection_marks_in_the_file_are_all_kept(tmp_path):
    from monitor.csvio import read_interchange_csv
    from monitor.model import Marker, MarkerKind
    from monitor.pipeline import PipelineConfig
    from monitor.pipeline import analyze as analyze_recording

    path = tmp_path / "two.csv"
    rec = _write_scenario(path, "failed", 3, Limb.LEFT)
    inj = rec.model.injection_s
    text = path.read_text().replace("# injection_s:", f"# marker: injection,{inj!r},first\n"
                                                      f"# marker: injection,{inj + 1500!r},second\n# injection_s:")
    path.write_text(text)
    recording = read_interchange_csv(path)
    cfg = PipelineConfig(not_confirmed_after_min=30)
    result = analyze_recording(recording, Limb.LEFT, config=cfg)
    assert [m.session_s for m in recording.markers] == [inj, inj + 1500]
    assert result.injection_s == inj
    # "Not confirmed yet" counts from the latest injection: 1500 + 1800 s is past the recording's end.
    assert result.verdict.state.value == "monitoring"
    overridden = analyze_recording(recording, Limb.LEFT, injection_s=inj, config=cfg)
    assert overridden.verdict.state.value == "not_confirmed_yet"
    doc = json.loads(analyze(str(path), "--json").stdout)
    assert doc["injection_s"] == round(inj, 4) and doc["verdict"] == "not_confirmed"
    assert Marker(MarkerKind.INJECTION, inj, "first") in recording.markers


@pytest.mark.parametrize("scenario", ["success-slow", "touch"])
def test_a_live_session_written_as_csv_is_analysed_to_the_same_verdict(tmp_path, scenario):
    from monitor.csvio import read_interchange_csv
    from monitor.model import Marker, MarkerKind
    from monitor.pipeline import BlockPipeline
    from monitor.pipeline import analyze as analyze_recording

    path = tmp_path / "live.csv"
    rec = _write_scenario(path, scenario, 4, Limb.RIGHT)
    recording = read_interchange_csv(path)
    live = BlockPipeline(Limb.RIGHT)
    live.add_marker(Marker(MarkerKind.INJECTION, rec.model.injection_s))
    for r in recording.readings:
        live.push(r)
    live.finish()
    result = analyze_recording(recording, Limb.RIGHT)
    assert result.verdict == live.verdict and result.artefacts == live.artefacts
    assert result.confirmed_at_s == live.verdict.confirmed_at_s


def test_baseline_start_marks_in_the_file_place_the_baseline_window(tmp_path):
    path = tmp_path / "marked.csv"
    rec = _write_scenario(path, "success-slow", 6, Limb.LEFT)
    inj = rec.model.injection_s
    start = round(inj - 100.0, 1)  # pressed 100 s before the injection: a window clipped at it
    text = path.read_text().replace("# injection_s:", f"# marker: baseline,{start!r},Baseline start\n# injection_s:")
    path.write_text(text)
    doc = json.loads(analyze(str(path), "--json").stdout)
    assert doc["baseline_window_s"] == {"start": start, "end": round(inj, 4)}
    assert doc["verdict"] == "confirmed"
    assert not [w for w in doc["baseline_warnings"] if "window only" in w]  # 100 s is at least 1 minute


def test_a_marker_time_that_is_not_finite_is_a_plain_error(tmp_path):
    path = tmp_path / "inf.csv"
    path.write_text("# blocked: left\n# marker: injection,inf,x\ntime_s,left_c,right_c\n0,30,30\n")
    out = analyze(str(path))
    assert out.returncode == 2 and "not a finite number" in out.stderr and "Traceback" not in out.stderr


def test_a_session_file_is_analysed_directly_with_its_own_side_markers_and_criteria(tmp_path, capsys):
    from monitor.cli import main
    from monitor.store import SessionStore

    path = tmp_path / "s.sympatherm"
    assert main(["record", "--demo", "--speed", "2000", "--duration", "1500", "--blocked", "right",
                 "--criteria", "rise-1.5", "--seed", "4", "--out", str(path)]) == 0
    before = path.read_bytes()
    store = SessionStore.open_read_only(path)
    logged = store.verdict_changes()[-1]
    store.close()
    capsys.readouterr()
    assert main(["analyze", str(path), "--json"]) == 0
    direct = json.loads(capsys.readouterr().out)
    assert direct["blocked"] == "right" and direct["criteria"] == "rise-1.5"
    assert direct["verdict"] == logged.state == "confirmed"
    assert direct["confirmed_at_s"] == pytest.approx(logged.detail.get("confirmed_at_s"))
    # The same as analysing its CSV export, and the session file is left exactly as it was.
    csv_path = tmp_path / "s.csv"
    assert main(["export", str(path), "--format", "csv", "--out", str(csv_path)]) == 0
    capsys.readouterr()
    assert main(["analyze", str(csv_path), "--json"]) == 0
    via_csv = json.loads(capsys.readouterr().out)
    assert via_csv["verdict"] == direct["verdict"]
    assert via_csv["confirmed_at_s"] == pytest.approx(direct["confirmed_at_s"])
    assert path.read_bytes() == before
    # Flags still override the file; a damaged session file is a plain error.
    assert main(["analyze", str(path), "--json", "--criteria", "rise-3"]) == 0
    assert json.loads(capsys.readouterr().out)["criteria"] == "rise-3"
    broken = tmp_path / "broken.sympatherm"
    broken.write_bytes(before[:100] + b"\xff" * 4000 + before[4100:])
    assert main(["analyze", str(broken)]) == 2
    assert "damaged" in capsys.readouterr().err
