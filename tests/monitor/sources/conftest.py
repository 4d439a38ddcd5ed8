"""Shared helpers for the source tests: virtual probes on real pseudo-terminals, cleaned up."""

from __future__ import annotations

import time

import pytest

from monitor.sources.registry import DeviceRegistry


class Collector:
    """Drains a source into lists while a test waits for something to happen."""

    def __init__(self, source) -> None:
        self.source = source
        self.readings = []
        self.events = []

    def pump(self) -> None:
        self.readings.extend(self.source.drain())
        self.events.extend(self.source.drain_events())

    def wait(self, predicate, timeout: float = 30.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump()
            if predicate():
                return
            self.source.wait_for_readings(0.02)
        self.pump()
        raise AssertionError(f"timed out waiting for {what}; state {self.source.state}: {self.source.reason}; "
                             f"events {[(e.state.value, e.reason) for e in self.events]}")


@pytest.fixture
def start_source():
    started = []

    def start(source):
        started.append(source)
        source.start()
        return Collector(source)

    yield start
    for source in started:
        source.stop()


@pytest.fixture
def registry(tmp_path):
    return DeviceRegistry(tmp_path / "devices.json")
