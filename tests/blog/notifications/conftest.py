from __future__ import annotations

import pytest

from blog import events


@pytest.fixture
def told(monkeypatch) -> list[events.NotificationsChanged]:
    """The NotificationsChanged events published (after commit), in order; other events are not kept."""
    heard: list[events.NotificationsChanged] = []

    def record(event: events.Event) -> None:
        if isinstance(event, events.NotificationsChanged):
            heard.append(event)

    monkeypatch.setattr(events, "_handlers", [record])
    return heard
