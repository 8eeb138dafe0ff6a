"""/healthz: can this process serve pages and live comments, and is the worker keeping up with the email?"""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_tasks_db.models import DBTaskResult, get_date_max

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


def oldest_task_waiting_seconds() -> float | None:
    """How long the task due longest ago has waited for a worker; None when none is due.

    A task is due from its run_after, or from when it was enqueued if later (django-tasks-db
    stores "no run_after" as the year 9999): a task deferred by ten minutes is not late for them.
    """
    no_run_after = get_date_max()
    due = DBTaskResult.objects.ready().values_list("enqueued_at", "run_after")
    # The oldest of each kind is enough: the earliest deferred, and the earliest enqueued of the rest.
    oldest = [
        due.exclude(run_after=no_run_after).order_by("run_after", "enqueued_at").first(),
        due.filter(run_after=no_run_after).order_by("enqueued_at").first(),
    ]
    since = [
        enqueued_at if run_after == no_run_after else max(enqueued_at, run_after)
        for enqueued_at, run_after in filter(None, oldest)
    ]
    if not since:
        return None
    return max(0.0, (timezone.now() - min(since)).total_seconds())


@never_cache
@require_GET
async def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": sync_to_async(database_answers)(), "channel_layer": channel_layer_answers()}
    report: dict[str, object] = {}
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check, CHECK_TIMEOUT_SECONDS)
        except Exception as error:
            logger.warning("health check failed part=%s error=%r", name, error)
            report[name] = "down"
        else:
            report[name] = "ok"
    # The queue is in the database: asked only once the database answered, so that a hung one costs one timeout.
    if report["database"] == "ok":
        report.update(await tasks_report())
    else:
        report.update({"tasks": "down", "oldest_task_waiting_seconds": None})
    healthy = all(report[name] == "ok" for name in (*checks, "tasks"))
    return JsonResponse(report, status=200 if healthy else 503)


async def tasks_report() -> dict[str, object]:
    """Late once a task has waited past BLOG_TASKS_MAX_WAIT_SECONDS: the worker is down or behind."""
    try:
        waited = await asyncio.wait_for(sync_to_async(oldest_task_waiting_seconds)(), CHECK_TIMEOUT_SECONDS)
    except Exception as error:
        logger.warning("health check failed part=tasks error=%r", error)
        return {"tasks": "down", "oldest_task_waiting_seconds": None}
    late = waited is not None and waited > settings.BLOG_TASKS_MAX_WAIT_SECONDS
    if late:
        logger.warning("health check: tasks late oldest_waiting_seconds=%.0f", waited)
    return {"tasks": "late" if late else "ok", "oldest_task_waiting_seconds": waited}
