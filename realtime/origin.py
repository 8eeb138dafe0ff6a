"""The WebSocket origin check, with a log line for every refusal.

Channels' AllowedHostsOriginValidator refuses a handshake silently, which
makes a misconfigured DJANGO_ALLOWED_HOSTS very hard to diagnose.
"""

from __future__ import annotations

import logging
from urllib.parse import urlparse

from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings

logger = logging.getLogger(__name__)

# Origins are attacker-chosen text; keep log lines short.
MAX_LOGGED_ORIGIN = 200


class AllowedHostsOriginValidator(OriginValidator):
    """Accept handshakes only from origins whose host is in ALLOWED_HOSTS."""

    def __init__(self, application) -> None:
        allowed_hosts = settings.ALLOWED_HOSTS
        if settings.DEBUG and not allowed_hosts:
            allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
        super().__init__(application, allowed_hosts)

    async def __call__(self, scope, receive, send):
        origins = [value for name, value in scope.get("headers", []) if name == b"origin"]
        origin = origins[0].decode("latin-1") if len(origins) == 1 else None
        if origin is not None and self.valid_origin(urlparse(origin)):
            return await self.application(scope, receive, send)
        if not origins:
            reason = "missing-origin"
        elif len(origins) > 1:
            reason = "several-origins"
        else:
            reason = "origin-not-allowed"
        logger.info(
            "websocket refused reason=%s origin=%r path=%s",
            reason,
            (origin or "")[:MAX_LOGGED_ORIGIN],
            scope.get("path", ""),
        )
        return await WebsocketDenier()(scope, receive, send)
