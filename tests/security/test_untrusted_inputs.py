"""What a malicious Bluetooth device or a malicious CSV file can and cannot do.

The BLE tests call the source's real notification handlers, the ones bleak calls with each
value the device sends; the CSV tests run the real importer and ``sympatherm analyze`` under a
Python audit hook that records every file opened, socket, subprocess and code execution.
"""

from __future__ import annotations

import json
import math
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_protocol.ble import encode_temperature_measurement
from monitor.model import Limb, ProbeStatus
from monitor.sources.ble import BleSource, _Link

ROOT = Path(__file__).resolve().parents[2]
ADDR = "F0:00:00:00:00:66"


def _ble_source(registry):
    src = BleSource(ADDR, registry=registry)
    link = _Link(ADDR, 0, name="evil thermometer", channels=1, limbs=(Limb.LEFT,))
    return src, link


@pytest.fixture
def registry(tmp_path):
    from monitor.sources.registry import DeviceRegistry

    return DeviceRegistry(tmp_path / "devices.json")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=64))
def test_a_ble_device_sending_garbage_gets_no_reading_and_no_crash(registry, data):
    src, link = _ble_source(registry)
    src._on_hts(link, 0, False, None, bytearray(data))
    src._on_hts(link, 0, True, None, bytearray(data))
    src._on_ess(link, 0, None, bytearray(data))
    for r in src.drain():
        # Whatever parsed is a reading in range with status OK, or flagged as not a temperature.
        assert r.has_temperature is (r.status is ProbeStatus.OK)
        if r.status is ProbeStatus.OK:
            assert 15.0 <= r.celsius <= 42.0


def test_a_ble_device_cannot_pass_off_absurd_values_as_skin_temperatures(registry):
    src, link = _ble_source(registry)
    for value in (1000.0, -273.0, 55.0, 5.0, math.nan, math.inf, -math.inf):
        src._on_hts(link, 0, False, None, bytearray(encode_temperature_measurement(value)))
    src._on_ess(link, 0, None, bytearray(struct.pack("<h", 32767)))   # 327.67 °C
    src._on_ess(link, 0, None, bytearray(struct.pack("<h", -32768)))  # "not known"
    src._on_hts(link, 0, False, None, bytearray(b"\x00\x01"))          # truncated: malformed
    readings = src.drain()
    assert len(readings) == 9 and not any(r.has_temperature for r in readings)
    assert src.malformed_frames == 1


def test_a_ble_device_name_full_of_markup_is_shown_as_text(tmp_path):
    """The name a device advertises reaches the session file and the report only as text."""
    from pypdf import PdfReader

    from monitor.exports import export_session
    from monitor.store import SessionStore

    from .conftest import record_hostile_session

    path = record_hostile_session(tmp_path / "ble.sympatherm", until_s=120.0)
    con = __import__("sqlite3").connect(path)
    name = "<font size=40>Thermo</font> & '=cmd|' /C calc'!A0"
    con.execute("INSERT INTO devices (key, limb, kind, name, identity, calibration) VALUES (?, ?, ?, ?, ?, ?)",
                (f"ble:{ADDR}", "left", "ble", name, json.dumps({"name": name}), "{}"))
    con.commit()
    con.close()
    with SessionStore.open_read_only(path) as store:
        assert name in [d.name for d in store.devices()]
    text = " ".join("".join(p.extract_text() for p in PdfReader(export_session(path, "pdf")).pages).split())
    assert "<font size=40>Thermo</font> &" in text


AUDITED = textwrap.dedent("""
    import json, sys
    events = []
    WATCH = ("open", "socket.", "subprocess.", "os.system", "os.exec", "os.spawn", "exec", "compile",
             "pickle.", "ctypes.")  # (marshal.loads is the import system reading our own .pyc files)
    def hook(event, args):
        if event.startswith(WATCH):
            events.append([event, repr(args[0])[:200] if args else ""])
    from monitor.cli import main  # imports done before watching: only the file's handling is audited
    import monitor.commands.analyze, monitor.pipeline, monitor.csvio  # noqa
    sys.addaudithook(hook)
    code = main(["analyze", sys.argv[1], "--json"])
    sys.addaudithook(lambda *a: None)
    print("AUDIT " + json.dumps({"code": code, "events": events}))
""")

MALICIOUS_CSV = textwrap.dedent("""\
    # sympatherm interchange v1
    # blocked: left
    # injection_s: 300
    # events_file: /etc/shadow
    # patient_id: ../../../../tmp/owned
    # include: /etc/passwd
    # marker: note,10,=cmd|' /C calc'!A0 __import__('os').system('touch /tmp/owned')
    time_s,left_c,right_c,left_status,right_status,wall_time,formula
    """) + "".join(f"{t},{28.0 if t < 400 else 60.0 + t},{28.0},ok,ok,{1.7e9 + t},=1+1\n" for t in range(0, 1800, 2))


def test_a_malicious_csv_opens_no_other_file_runs_nothing_and_cannot_fake_a_block(tmp_path):
    path = tmp_path / "evil.csv"
    path.write_text(MALICIOUS_CSV)
    out = subprocess.run([sys.executable, "-c", AUDITED, str(path)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("AUDIT "))
    audit = json.loads(line[6:])
    analysis = json.loads(out.stdout.split("AUDIT ")[0].strip().splitlines()[-1])
    opened = [arg for event, arg in audit["events"] if event == "open"]
    others = [e for e in audit["events"] if e[0] != "open" and e[0] not in ("exec", "compile")]
    assert audit["code"] == 0
    code_dirs = (str(ROOT), sys.prefix, sys.base_prefix)  # modules imported lazily: our own code
    assert all(str(path) in arg or (arg.endswith((".py'", ".pyc'", ".so'")) and any(d in arg for d in code_dirs))
               or "/zoneinfo" in arg for arg in opened), f"other files opened: {opened}"
    assert any(str(path) in arg for arg in opened)
    assert others == [], f"sockets, subprocesses, pickle or ctypes: {others}"
    assert not Path("/tmp/owned").exists()
    # Absurd temperatures (60-1800 °C on the blocked foot) are artefacts, never a confirmed block.
    assert analysis["verdict"] != "confirmed"
    assert any(a["kind"] == "out_of_range" and a["limb"] == "left" for a in analysis["artifacts"])


def test_the_audit_hook_does_see_a_file_being_opened(tmp_path):
    """Control: the audit above would notice a file opened while handling the CSV."""
    code = AUDITED.replace('code = main(["analyze", sys.argv[1], "--json"])',
                           'code = 0; open("/etc/hostname").close()')
    out = subprocess.run([sys.executable, "-c", code, "x"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    audit = json.loads(out.stdout.split("AUDIT ")[1])
    assert any("/etc/hostname" in arg for event, arg in audit["events"] if event == "open")
