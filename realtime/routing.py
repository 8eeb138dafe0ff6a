from __future__ import annotations

import logging

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path, re_path

from realtime.consumers import CommentConsumer
from realtime.moderation import ModerationConsumer
from realtime.notifications import NotificationConsumer

logger = logging.getLogger(__name__)


class NoSuchSocket(AsyncWebsocketConsumer):
    """Any other path: refused before accept, which daphne answers with 403.

    Without it Channels' URLRouter raises ValueError, which daphne turns into a 500.
    """

    async def connect(self) -> None:
        logger.info("websocket refused reason=no-such-path path=%r", self.scope["path"])
        await self.close()


websocket_urlpatterns = [
    path("ws/posts/<int:post_id>/comments/", CommentConsumer.as_asgi()),
    path("ws/notifications/", NotificationConsumer.as_asgi()),
    path("ws/moderation/", ModerationConsumer.as_asgi()),
    re_path(r"", NoSuchSocket.as_asgi()),
]
