from __future__ import annotations

from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"

    def ready(self) -> None:
        # The blog publishes events without importing the transport; the transport signs up here.
        from blog import events
        from realtime import broadcast

        events.subscribe(broadcast.send_event)
