from __future__ import annotations

from django.urls import path

from realtime.consumers import CommentConsumer

websocket_urlpatterns = [
    path("ws/posts/<int:post_id>/comments/", CommentConsumer.as_asgi()),
]
