"""The exports tests record their sessions with the sessions tests' helper."""

from tests.monitor.sessions.conftest import record_simulated, success_session

__all__ = ["record_simulated", "success_session"]
