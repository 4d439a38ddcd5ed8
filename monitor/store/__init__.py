"""The session store (being split into modules; for now everything lives in :mod:`.writer`)."""

from .writer import *  # noqa: F403
