"""Fixtures for the fault tests: virtual probes and recordings that are always cleaned up."""

from __future__ import annotations

import pytest

from monitor.registry import DeviceRegistry

from .harness import Recording


@pytest.fixture
def registry(tmp_path):
    return DeviceRegistry(tmp_path / "devices.json")


@pytest.fixture
def make_recording(tmp_path):
    made: list[Recording] = []

    def make(source, name: str = "fault.sympatherm", **kwargs) -> Recording:
        rec = Recording(source, tmp_path / name, **kwargs)
        made.append(rec)
        return rec.start()

    yield make
    for rec in made:
        if not rec.recorder.finished:
            rec.source.stop()
        if not rec.store.closed:
            rec.store.connection.close()
            rec.store._release_lock(rec.store.path)
