"""Fixtures for the publishing tests: a real Mosquitto broker, and a procedure to publish."""

from __future__ import annotations

from tests.support.mosquitto import broker, mqtt_certs  # noqa: F401  (fixtures)
