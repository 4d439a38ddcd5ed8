"""The command line as a shell user meets it."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_output_piped_into_a_reader_that_stops_early_is_not_a_traceback(tmp_path):
    from monitor.model import SessionInfo
    from monitor.store import SessionStore

    for n in range(3):
        SessionStore.create(SessionInfo(patient_id=f"PIPE-{n}"), tmp_path / f"s{n}.sympatherm").close()
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head -0`: nobody reads
    proc = subprocess.run([sys.executable, "-m", "monitor.cli", "sessions", "--dir", str(tmp_path)], cwd=REPO,
                          stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
    os.close(write_end)
    assert proc.returncode == 0
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr
