from __future__ import annotations

import pytest

from blog import events


@pytest.fixture
def told(monkeypatch) -> list[events.Notice]:
    """The notices of the NotificationsChanged events published (after commit), in order."""
    heard: list[events.Notice] = []

    def record(event: events.Event) -> None:
        if isinstance(event, events.NotificationsChanged):
            heard.extend(event.notices)

    monkeypatch.setattr(events, "_handlers", [record])
    return heard
