"""The exports tests record their sessions with the sessions tests' helper."""

from tests.support.sessions import record_simulated, success_session

__all__ = ["record_simulated", "success_session"]
