"""Fixtures for the central window's tests: a real Mosquitto broker (tests/support/mosquitto.py)."""

from __future__ import annotations

from tests.support.mosquitto import broker, mqtt_certs  # noqa: F401  (fixtures)
