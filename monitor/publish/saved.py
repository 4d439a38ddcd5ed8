"""The GUI's way in: the saved settings (``publish.json``, the settings dialog's) → a publisher.

For a window (``ui/app_flow.py``), after the procedure is made::

    publisher, problem = publish_from_saved_settings(session)
    if publisher is not None:
        window.timer.timeout.connect(publisher.tick)  # after each pump: state once a second

The publisher closes itself (last state, "session finished", disconnect) on a thread of its own
when the procedure finishes, so the window never waits on the network. ``problem`` is a plain-words
reason the saved settings could not be used (show it; the recording itself is unaffected).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from monitor.publish.config import PublishConfigError, load_config

if TYPE_CHECKING:
    from monitor.procedure import Procedure
    from monitor.publish.station import StationPublisher


def publish_from_saved_settings(procedure: Procedure, path: Path | None = None
                                ) -> tuple[StationPublisher | None, str | None]:
    """(a started publisher, None), (None, None) when publishing is off, or (None, the problem)."""
    from monitor.publish.station import StationPublisher

    try:
        config = load_config(path)
        if config is None or not config.enabled:
            return None, None
        config = config.checked()
        config.ssl_context()
    except PublishConfigError as exc:
        return None, f"Not publishing to the central station: {exc}"
    publisher = StationPublisher(config).attach(procedure)
    procedure.events.finished.connect(lambda _reason: publisher.close_in_background())
    return publisher.start(), None
