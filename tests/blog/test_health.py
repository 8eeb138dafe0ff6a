"""/healthz against parts that are down (an unreachable database, a hung Redis) or late (a queue no worker empties)."""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import aiohttp
import pytest
from asgiref.sync import sync_to_async
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from blog.notifications.tasks import send_email_delivery
from tests.processes import DaphneServer, free_port

pytestmark = pytest.mark.django_db(transaction=True)

# Each check gives up after 2 s (blog/health.py); the rest is margin for a loaded machine.
ANSWER_WITHIN_SECONDS = 6


async def test_healthz_reports_both_parts_up(async_client):
    response = await async_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "database": "ok",
        "channel_layer": "ok",
        "tasks": "ok",
        "oldest_task_waiting_seconds": None,
    }
    assert "no-cache" in response["Cache-Control"]


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A Redis URL whose port takes connections (the kernel completes them) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


async def test_healthz_names_a_channel_layer_that_hangs_within_its_timeout(async_client, settings, silent_redis):
    # The production layer configuration (asgi_blog/settings.py), on a Redis that hangs.
    host = {"address": silent_redis, "socket_timeout": settings.REDIS_LAYER_READ_TIMEOUT_SECONDS}
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [host]}}
    }
    started = time.monotonic()
    response = await async_client.get("/healthz")
    assert time.monotonic() - started < ANSWER_WITHIN_SECONDS
    assert response.status_code == 503
    assert response.json() == {
        "database": "ok",
        "channel_layer": "down",
        "tasks": "ok",
        "oldest_task_waiting_seconds": None,
    }


async def test_healthz_names_a_database_that_is_unreachable(tmp_path):
    """A real server whose DATABASE_URL names a port nobody listens on."""
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="asgi_blog.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/asgi_blog",
        DJANGO_STATIC_ROOT=str(tmp_path),
    )
    server = DaphneServer(env=env)
    server.manage("collectstatic", "--noinput")
    server.start()
    try:
        started = time.monotonic()
        async with aiohttp.ClientSession() as session, session.get(f"{server.base_url}/healthz") as response:
            assert time.monotonic() - started < ANSWER_WITHIN_SECONDS
            assert response.status == 503
            assert await response.json() == {
                "database": "down",
                "channel_layer": "ok",
                "tasks": "down",
                "oldest_task_waiting_seconds": None,
            }
    finally:
        server.stop()


def waiting_task(*, enqueued_seconds_ago: float, run_after: datetime | None = None) -> None:
    """A task no worker has picked up, enqueued that long ago (and deferred to run_after)."""
    task = send_email_delivery.using(run_after=run_after) if run_after else send_email_delivery
    result = task.enqueue(1)
    DBTaskResult.objects.filter(pk=result.id).update(
        enqueued_at=timezone.now() - timedelta(seconds=enqueued_seconds_ago)
    )


async def test_healthz_reports_a_task_waiting_past_the_limit_as_late(async_client, settings):
    settings.BLOG_TASKS_MAX_WAIT_SECONDS = 300
    await sync_to_async(waiting_task)(enqueued_seconds_ago=400)
    response = await async_client.get("/healthz")
    assert response.status_code == 503
    report = response.json()
    assert report["tasks"] == "late"
    assert 400 <= report["oldest_task_waiting_seconds"] < 460
    assert report["database"] == report["channel_layer"] == "ok"


async def test_healthz_counts_a_deferred_task_from_its_run_after_not_from_when_it_was_enqueued(async_client, settings):
    """An email deferred by ten minutes waited ten minutes on purpose: the worker is not late for them."""
    settings.BLOG_TASKS_MAX_WAIT_SECONDS = 300
    await sync_to_async(waiting_task)(enqueued_seconds_ago=3600, run_after=timezone.now() - timedelta(seconds=30))
    await sync_to_async(waiting_task)(enqueued_seconds_ago=3600, run_after=timezone.now() + timedelta(minutes=10))
    response = await async_client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["tasks"] == "ok"
    assert 30 <= response.json()["oldest_task_waiting_seconds"] < 90


async def test_healthz_ignores_tasks_the_worker_has_finished(async_client, settings):
    settings.BLOG_TASKS_MAX_WAIT_SECONDS = 300
    await sync_to_async(waiting_task)(enqueued_seconds_ago=400)
    await DBTaskResult.objects.aupdate(status=TaskResultStatus.SUCCESSFUL)
    response = await async_client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["oldest_task_waiting_seconds"] is None
