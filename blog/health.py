"""/healthz: can this process serve pages and live comments?"""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2


def database_answers() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


async def channel_layer_answers() -> None:
    """Redis answers a PING; the in-process layer passes a message through and back.

    Not a message through Redis and back: channels-redis lets one coroutine at a time read a
    process's channels, and the hub is always reading, so a second reader here timed out
    once any socket was open, and the check reported a healthy Redis as down.
    """
    layer = get_channel_layer()
    if isinstance(layer, RedisChannelLayer):
        await layer.connection(0).ping()
        return
    channel = await layer.new_channel("healthz")
    await layer.send(channel, {"type": "healthz"})
    await layer.receive(channel)


@never_cache
@require_GET
async def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": sync_to_async(database_answers)(), "channel_layer": channel_layer_answers()}
    report = {}
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check, CHECK_TIMEOUT_SECONDS)
        except Exception as error:
            logger.warning("health check failed part=%s error=%r", name, error)
            report[name] = "down"
        else:
            report[name] = "ok"
    healthy = all(state == "ok" for state in report.values())
    return JsonResponse(report, status=200 if healthy else 503)
